"""Reading mail without a server: addresses and tokens, charsets, format=flowed, HTML to
Markdown, subjects to titles."""

from __future__ import annotations

import pytest

from listserv import addresses, mime
from listserv.htmltext import html_to_markdown
from listserv.rules import clean_subject


def test_tokens_round_trip_and_refuse_tampering(app):
    reply = addresses.reply_address("risk", 123, 45)
    parsed = addresses.parse(reply)
    assert (parsed.kind, parsed.slug, parsed.post_id, parsed.member_id) == ("reply", "risk",
                                                                            123, 45)
    assert addresses.parse(reply.upper()).kind == "reply"  # MTAs may fold case
    tampered = reply.replace("+r-3f-", "+r-3g-")
    assert addresses.parse(tampered).bad_token
    assert addresses.parse("risk-request@lists.hub.test").kind == "request"
    assert addresses.parse("risk@elsewhere.org") is None
    assert addresses.parse(addresses.bounce_address("risk", 7)).member_id == 7
    token = addresses.unsubscribe_token(7, 3)
    assert addresses.parse_unsubscribe_token(token) == (7, 3)
    assert addresses.parse_unsubscribe_token(token[:-1] + "x") is None


def test_a_token_made_with_another_secret_does_not_verify(app):
    reply = addresses.reply_address("risk", 1, 2)
    app.config["SECRET_KEY"] = "another"
    assert addresses.parse(reply).bad_token


def test_headers_with_raw_8bit_and_encoded_words_decode():
    raw = (b"From: =?iso-8859-1?q?Jos=E9_P=E9rez?= <jose@example.org>\r\n"
           b"Subject: Caf\xe9 =?utf-8?q?=C3=A0?= Bogot\xc3\xa1\r\n\r\nx")
    msg = mime.parse(raw)
    assert mime.addresses(msg, "From") == [("José Pérez", "jose@example.org")]
    assert mime.header_text(msg, "Subject") == "Café à Bogotá"


@pytest.mark.parametrize("data,declared,expected", [
    ("Grüße".encode(), None, "Grüße"),
    ("Grüße".encode("latin-1"), "iso-8859-1", "Grüße"),
    ("Grüße".encode("latin-1"), "utf-8", "Grüße"),
    (b"\x93quoted\x94", None, "“quoted”"),
    ("日本語".encode("shift_jis"), "shift_jis", "日本語"),
    (b"x", "no-such-charset", "x"),
])
def test_charset_fallbacks(data, declared, expected):
    assert mime.decode_bytes(data, declared) == expected


def test_format_flowed_is_unwrapped():
    text = "This line is \nflowed into one.\n> quoted and \n> flowed\n-- \nsig"
    assert mime.unflow(text) == "This line is flowed into one.\n> quoted and flowed\n-- \nsig"


def test_multipart_alternative_prefers_plain_and_keeps_attachments():
    raw = (b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\n'
           b'Content-Type: multipart/alternative; boundary="a"\r\n\r\n'
           b"--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain words\r\n"
           b"--a\r\nContent-Type: text/html\r\n\r\n<p>html words</p>\r\n--a--\r\n"
           b'--m\r\nContent-Type: image/png; name="map.png"\r\n'
           b"Content-Disposition: attachment; filename=\"map.png\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--m--\r\n")
    body = mime.extract(mime.parse(raw))
    assert body.text == "plain words" and not body.from_html
    assert [(a.filename, a.content_type) for a in body.attachments] == [("map.png",
                                                                         "image/png")]
    assert body.problems == []


def test_html_to_markdown_keeps_meaning_and_drops_noise():
    html = ("<html><head><style>p{color:red}</style><title>t</title></head><body>"
            "<span style='display:none'>preheader</span>"
            "<h2>Agenda</h2><p>Hello <strong>all</strong>, see <em>notes</em>:</p>"
            "<ol><li>Risk</li><li>Trade</li></ol><pre>a  b\n c</pre>"
            "<p>Use 2*3 and snake_case &amp; &lt;tags&gt;.</p>"
            "<p><a href='mailto:a@b.org'>a@b.org</a> <a href='javascript:x()'>bad</a></p>"
            "<script>alert(1)</script></body></html>")
    assert html_to_markdown(html) == (
        "## Agenda\n\nHello **all**, see *notes*:\n\n1. Risk\n2. Trade\n\n"
        "```\na  b\n c\n```\n\nUse 2\\*3 and snake\\_case & &lt;tags>.\n\na@b.org bad")


@pytest.mark.parametrize("subject,title", [
    ("Re: [risk] Field trials", "Field trials"),
    ("AW: WG: Fwd: Seeds", "Seeds"),
    ("RE[2]: Budget", "Budget"),
    ("Plain title", "Plain title"),
])
def test_subjects_become_titles(subject, title):
    assert clean_subject(subject) == title
