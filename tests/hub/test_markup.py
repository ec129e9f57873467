"""hub.markup: the one place Markdown becomes HTML."""

from __future__ import annotations

import pytest

from hub import markup

XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src='https://evil.example'></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<svg onload=alert(1)>",
    '<p onclick="alert(1)">hi</p>',
    "<object data='x'></object>",
]


@pytest.mark.parametrize("payload", XSS)
def test_xss_payloads_are_neutralised(payload):
    html = markup.render(payload)
    lowered = html.lower()
    for bad in ("<script", "onerror", "javascript:", "<iframe", "onload", "onclick",
                "<object", "style="):
        assert bad not in lowered, html


def test_markdown_features_survive():
    html = markup.render("**bold** and `code`\n\n> quoted\n\n- a\n- b\n\n```\nx < y\n```")
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert "<blockquote>" in html and "<li>a</li>" in html and "x &lt; y" in html


def test_links_get_nofollow_ugc_noopener():
    html = markup.render("See https://bch.cbd.int and [the protocol](https://www.cbd.int/).")
    assert html.count('rel="nofollow ugc noopener"') == 2
    assert 'href="https://bch.cbd.int"' in html


def test_plain_text_is_escaped():
    html = str(markup.render_plain("a <b>bold</b> claim\n\nsecond"))
    assert "<b>" not in html and "&lt;b&gt;" in html and html.count("<p>") == 2


def test_threads_rendering_at_once_each_get_their_own_text():
    """The server renders posts on many threads at once; a cleaner shared between them
    mixed their HTML (one member's words stored in another's post, or a post stored
    empty: 158 of 2,000 renders here before each thread had its own)."""
    import sys
    import threading

    texts = [f"Post zq{i:05d} with **bold** and http://example.org/{i} text." for i in range(400)]
    kinds = (markup.render, lambda t: str(markup.render_plain(t)),
             lambda t: markup.to_text(markup.render(t)))
    expected = {t: [kind(t) for kind in kinds] for t in texts}
    wrong: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def work(chunk: list[str]) -> None:
        try:
            for n, text in enumerate(chunk):
                got = kinds[n % 3](text)
                if got != expected[text][n % 3]:
                    wrong.append((text, got))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        threads = [threading.Thread(target=work, args=(texts[i::16] * 5,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors and not wrong, (errors[:3], wrong[:3])
