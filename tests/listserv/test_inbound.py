"""Mail in, over real sockets: the gateway started on free ports, messages sent with
smtplib over LMTP and SMTP, and what became of them (posts, refusals, notices)."""

from __future__ import annotations

from email.utils import parseaddr

import pytest

from forums.models import Post, Topic
from hub.extensions import db
from listserv import addresses
from tests.listserv.helpers import compose, inbound_rows, posts_in

LIST = "risk@lists.hub.test"


def _reply_address(smtp, member):
    """The Reply-To of the copy `member` received."""
    (msg,) = smtp.to(member.email)
    return parseaddr(msg["Reply-To"])[1], msg["Message-ID"]


@pytest.fixture
def thread(app, smtp, run_jobs, make_member, board, subscribe, start_topic):
    """A topic on the board, sent to a subscriber whose Reply-To we can answer."""
    author = make_member(name="Amina Diallo")
    member = make_member(name="Raj Patel", email="raj@example.org")
    subscribe(member, board)
    first = start_topic(author, board)
    run_jobs()
    reply_to, message_id = _reply_address(smtp, member)
    smtp.clear()
    return {"author": author, "member": member, "post": first, "topic_id": first.topic_id,
            "reply_to": reply_to, "message_id": message_id}


def test_a_reply_by_email_lands_trimmed_in_its_thread(app, gateway, thread):
    member = thread["member"]
    raw = compose(
        sender=f"Raj Patel <{member.email}>", to=thread["reply_to"],
        subject="Re: [risk] Biosafety of drought-tolerant maize",
        headers={"In-Reply-To": thread["message_id"]},
        body="Field trial data, mostly.\n\nRaj\n\nOn Mon, 2 Nov 2026, Risk assessment "
             "<risk@lists.hub.test> wrote:\n> ## Reply above this line ##\n>\n"
             "> What data do regulators ask for?\n")
    assert gateway.lmtp(raw, thread["reply_to"], mail_from=member.email) == {}

    posts = posts_in(thread["topic_id"])
    assert len(posts) == 2
    reply = posts[1]
    assert reply.body == "Field trial data, mostly.\n\nRaj"
    assert "What data do regulators ask for?" in reply.elided
    assert (reply.author_id, reply.parent_id, reply.source) == (member.id, thread["post"].id,
                                                                 "email")
    assert reply.status == "published"
    (row,) = inbound_rows()
    assert (row.status, row.post_id, row.channel) == ("posted", reply.id, "lmtp")


def test_the_reply_goes_out_to_the_other_subscribers_threaded(
        app, gateway, thread, smtp, run_jobs, subscribe, board):
    subscribe(thread["author"], board)
    raw = compose(sender=thread["member"].email, to=thread["reply_to"], subject="Re: x",
                  body="Yes.")
    gateway.smtp(raw, thread["reply_to"], mail_from=thread["member"].email)
    run_jobs()
    (copy,) = smtp.to(thread["author"].email)
    assert copy["In-Reply-To"] == thread["message_id"]
    assert smtp.to(thread["member"].email) == []  # not back to its author


def test_a_token_with_someone_elses_from_is_refused(app, gateway, thread, make_member,
                                                     run_jobs, smtp):
    spoofer = make_member(email="mallory@example.org", language="fr")
    raw = compose(sender=spoofer.email, to=thread["reply_to"], subject="Re: x",
                  body="I am Raj, honestly.")
    gateway.lmtp(raw, thread["reply_to"], mail_from=spoofer.email)

    assert len(posts_in(thread["topic_id"])) == 1
    (row,) = inbound_rows()
    assert (row.status, row.rule) == ("rejected", "sender")
    run_jobs()
    (notice,) = smtp.to(spoofer.email)
    assert notice["Auto-Submitted"] == "auto-replied"
    assert smtp.to(thread["member"].email) == []


def test_a_tampered_token_is_refused(app, gateway, thread):
    address = thread["reply_to"]
    local, _, dom = address.partition("@")
    forged = local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + dom
    raw = compose(sender=thread["member"].email, to=forged, body="Hi")
    gateway.lmtp(raw, forged, mail_from=thread["member"].email)
    (row,) = inbound_rows()
    assert row.status == "rejected" and row.rule == "sender"
    assert len(posts_in(thread["topic_id"])) == 1


def test_mail_to_the_list_address_starts_a_topic(app, gateway, board, make_member):
    member = make_member(email="wanjiru@example.org")
    raw = compose(sender=f"Wanjiru <{member.email}>", to=LIST,
                  subject="Fwd: [risk] Workshop in Nairobi", body="Who is coming?")
    gateway.smtp(raw, LIST, mail_from=member.email)

    db.session.rollback()
    topic = db.session.scalar(db.select(Topic).where(Topic.board_id == board.id))
    assert topic.title == "Workshop in Nairobi"
    (post,) = posts_in(topic.id)
    assert post.body == "Who is coming?" and post.source == "email"


def test_references_thread_a_reply_sent_to_the_list_address(app, gateway, thread):
    raw = compose(sender=thread["member"].email, to=LIST, subject="Re: something else",
                  headers={"References": f"<unrelated@example.org> {thread['message_id']}"},
                  body="Threaded by References.")
    gateway.lmtp(raw, LIST, mail_from=thread["member"].email)
    posts = posts_in(thread["topic_id"])
    assert [p.body for p in posts][-1] == "Threaded by References."


def test_unknown_recipients_are_refused_at_rcpt(app, gateway, board):
    refused = gateway.smtp(compose(sender="a@example.org", to="nope@lists.hub.test"),
                           "nope@lists.hub.test")
    assert refused["nope@lists.hub.test"][0] == 550
    refused = gateway.lmtp(compose(sender="a@example.org", to="x@elsewhere.org"),
                           ["x@elsewhere.org", LIST])
    assert refused["x@elsewhere.org"][0] == 550 and LIST not in refused


def test_a_non_member_gets_one_notice_in_a_rate_limited_way(app, gateway, board, smtp,
                                                            run_jobs):
    for n in range(3):
        raw = compose(sender="stranger@example.com", to=LIST, subject=f"Offer {n}",
                      body="Buy now")
        gateway.lmtp(raw, LIST, mail_from="stranger@example.com")
    rows = inbound_rows()
    assert [r.status for r in rows] == ["rejected"] * 3
    assert [r.notice_sent_at is not None for r in rows] == [True, False, False]
    run_jobs()
    (notice,) = smtp.to("stranger@example.com")
    assert notice["Auto-Submitted"] == "auto-replied"
    assert notice["In-Reply-To"] == rows[0].message_id
    assert "apply" in notice.get_body(("plain",)).get_content()
    assert db.session.scalar(db.select(db.func.count(Post.id))) == 0


def test_duplicates_are_acknowledged_and_ignored(app, gateway, thread):
    raw = compose(sender=thread["member"].email, to=thread["reply_to"], body="Once only.",
                  message_id="<dup-1@example.org>")
    assert gateway.lmtp(raw, thread["reply_to"], mail_from=thread["member"].email) == {}
    assert gateway.smtp(raw, thread["reply_to"], mail_from=thread["member"].email) == {}
    assert len(inbound_rows()) == 1
    assert [p.body for p in posts_in(thread["topic_id"])].count("Once only.") == 1


@pytest.mark.parametrize("headers,subject,reason", [
    ({"List-Id": "Risk assessment <risk.lists.hub.test>"}, "Re: x", "loop"),
    ({"X-Loop": "risk@lists.hub.test"}, "Re: x", "loop"),
    ({"Auto-Submitted": "auto-replied"}, "Re: x", "auto-reply"),
    ({"Precedence": "bulk"}, "Re: x", "auto-reply"),
    ({"X-Autoreply": "yes"}, "Re: x", "auto-reply"),
    ({}, "Out of Office: back on Monday", "auto-reply"),
    ({}, "Réponse automatique : absent", "auto-reply"),
])
def test_loops_and_auto_replies_are_dropped_without_a_notice(app, gateway, thread, smtp,
                                                             run_jobs, headers, subject,
                                                             reason):
    raw = compose(sender=thread["member"].email, to=thread["reply_to"], subject=subject,
                  headers=headers, body="I am away until Monday.")
    gateway.lmtp(raw, thread["reply_to"], mail_from=thread["member"].email)
    (row,) = inbound_rows()
    assert (row.status, row.rule) == ("discarded", reason)
    assert row.reason
    run_jobs()
    assert smtp.received == []
    assert len(posts_in(thread["topic_id"])) == 1


def test_mail_from_the_null_sender_is_never_answered(app, gateway, board, smtp, run_jobs):
    raw = compose(sender="someone@example.com", to=LIST, body="hello")
    gateway.lmtp(raw, LIST, mail_from="<>")
    (row,) = inbound_rows()
    assert row.status == "discarded"
    run_jobs()
    assert smtp.received == []


def test_a_locked_thread_refuses_replies_with_a_notice(app, gateway, thread, smtp, run_jobs):
    topic = db.session.get(Topic, thread["topic_id"])
    topic.locked = True
    db.session.commit()
    raw = compose(sender=thread["member"].email, to=thread["reply_to"], body="Late reply")
    gateway.lmtp(raw, thread["reply_to"], mail_from=thread["member"].email)
    (row,) = inbound_rows()
    assert (row.status, row.rule) == ("rejected", "thread")
    run_jobs()
    (notice,) = smtp.to(thread["member"].email)
    assert "closed" in notice.get_body(("plain",)).get_content()


def test_a_closed_conference_board_refuses_in_the_members_language(
        app, gateway, make_board, make_member, smtp, run_jobs):
    from datetime import timedelta

    from hub import clock

    make_board("biotech-2026", kind="conference", closes_at=clock.now() - timedelta(days=1))
    member = make_member(language="es")
    raw = compose(sender=member.email, to="biotech-2026@lists.hub.test", body="Hola")
    gateway.lmtp(raw, "biotech-2026@lists.hub.test", mail_from=member.email)
    (row,) = inbound_rows()
    assert (row.status, row.rule) == ("rejected", "access")
    run_jobs()
    (notice,) = smtp.to(member.email)
    assert notice["Auto-Submitted"] == "auto-replied"


@pytest.mark.config(HUB_LIST_MAX_BYTES=2000)
def test_too_large_mail_gets_a_notice(app, gateway, thread, smtp, run_jobs):
    raw = compose(sender=thread["member"].email, to=thread["reply_to"], body="x " * 1500)
    gateway.lmtp(raw, thread["reply_to"], mail_from=thread["member"].email)
    (row,) = inbound_rows()
    assert (row.status, row.rule) == ("rejected", "size")
    run_jobs()
    assert "MB" in smtp.to(thread["member"].email)[0].get_body(("plain",)).get_content()


def test_a_reply_to_a_digest_gets_a_helpful_refusal(app, gateway, board, make_member, smtp,
                                                    run_jobs):
    member = make_member()
    address = addresses.digest_address("risk", member.id)
    gateway.lmtp(compose(sender=member.email, to=address, body="Re all of that"), address,
                 mail_from=member.email)
    (row,) = inbound_rows()
    assert (row.status, row.rule) == ("rejected", "digest-reply")
    run_jobs()
    text = smtp.to(member.email)[0].get_body(("plain",)).get_content()
    assert "digest" in text and "Reply" in text


def test_malformed_mime_is_kept_and_quarantined(app, gateway, thread):
    raw = (f"From: {thread['member'].email}\r\nTo: {thread['reply_to']}\r\n"
           "Subject: broken\r\nMessage-ID: <broken@example.org>\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/mixed; boundary="never-there"\r\n\r\n'
           "This body has no parts at all.\r\n").encode()
    gateway.lmtp(raw, thread["reply_to"], mail_from=thread["member"].email)
    (row,) = inbound_rows()
    assert row.status == "quarantined" and "boundary" in row.reason
    assert row.raw == raw
    assert len(posts_in(thread["topic_id"])) == 1


def test_html_only_mail_becomes_markdown(app, gateway, thread):
    html = ("<html><body><div>Agreed, see <a href='https://bch.cbd.int/'>the BCH</a>.</div>"
            "<div><br></div><ul><li><b>one</b></li><li>two</li></ul>"
            "<div class='gmail_quote'><div class='gmail_attr'>On Mon, Nov 2, 2026 at 10:00 AM "
            "Amina Diallo &lt;amina@example.org&gt; wrote:<br></div>"
            "<blockquote class='gmail_quote'>What data?</blockquote></div>"
            "</body></html>")
    raw = compose(sender=thread["member"].email, to=thread["reply_to"], body="", html=html)
    gateway.lmtp(raw, thread["reply_to"], mail_from=thread["member"].email)
    reply = posts_in(thread["topic_id"])[-1]
    assert reply.body == "Agreed, see [the BCH](https://bch.cbd.int/).\n\n- **one**\n- two"
    assert '<a href="https://bch.cbd.int/"' in reply.html
    assert reply.elided.startswith("On Mon, Nov 2, 2026 at 10:00 AM Amina Diallo "
                                   "<amina@example.org> wrote:")


@pytest.mark.parametrize("declared,payload,expected", [
    ("iso-8859-1", "Caf\xe9 \xe0 Bogot\xe1".encode("latin-1"), "Café à Bogotá"),
    (None, "Gr\u00fc\u00dfe aus K\u00f6ln".encode(), "Grüße aus Köln"),
    (None, b"\x93Smart quotes\x94 \x96 cp1252", "“Smart quotes” – cp1252"),
    ("utf-8", b"Declared utf-8 but \xe9crit en latin-1", "Declared utf-8 but écrit en latin-1"),
    ("x-no-such-charset", "na\u00efve".encode(), "naïve"),
])
def test_charsets_are_decoded_declared_then_utf8_then_windows_1252(app, gateway, thread,
                                                                  declared, payload,
                                                                  expected):
    ctype = f'text/plain; charset="{declared}"' if declared else "text/plain"
    raw = (f"From: {thread['member'].email}\r\nTo: {thread['reply_to']}\r\n"
           "Subject: =?iso-8859-1?q?R=E9ponse?=\r\nMessage-ID: <cs@example.org>\r\n"
           f"MIME-Version: 1.0\r\nContent-Type: {ctype}\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + payload + b"\r\n"
    gateway.lmtp(raw, thread["reply_to"], mail_from=thread["member"].email)
    assert posts_in(thread["topic_id"])[-1].body == expected
    assert inbound_rows()[0].subject == "Réponse"


def test_attachments_become_post_attachments(app, gateway, thread):
    from email.message import EmailMessage
    from email.policy import SMTP

    msg = EmailMessage(policy=SMTP)
    msg["From"] = thread["member"].email
    msg["To"] = thread["reply_to"]
    msg["Subject"] = "Re: report"
    msg["Message-ID"] = "<att@example.org>"
    msg.set_content("The report is attached.")
    msg.add_attachment(b"%PDF-1.4 fake report", maintype="application", subtype="pdf",
                       filename="report.pdf")
    gateway.lmtp(msg.as_bytes(), thread["reply_to"], mail_from=thread["member"].email)
    reply = posts_in(thread["topic_id"])[-1]
    assert [a.filename for a in reply.attachments] == ["report.pdf"]


def test_lmtp_answers_once_per_recipient(app, gateway, thread, make_board):
    make_board("detection")
    raw = compose(sender=thread["member"].email, to=LIST, subject="Cross-post",
                  body="To two lists.")
    import smtplib

    with smtplib.LMTP("127.0.0.1", gateway.running.lmtp_port) as client:
        client.ehlo_or_helo_if_needed()
        client.mail(thread["member"].email)
        client.rcpt(LIST)
        client.rcpt("detection@lists.hub.test")
        code, _ = client.data(raw)
        second = client.getreply()
    assert code == 250 and second[0] == 250
    assert sorted(r.status for r in inbound_rows()) == ["posted", "posted"]


def test_a_post_held_on_a_premoderated_board_is_logged_as_held(app, gateway, make_board,
                                                               make_member):
    make_board("vetted", premoderated=True)
    member = make_member()
    gateway.lmtp(compose(sender=member.email, to="vetted@lists.hub.test", body="Hi"),
                 "vetted@lists.hub.test", mail_from=member.email)
    (row,) = inbound_rows()
    assert row.status == "held"
    assert db.session.get(Post, row.post_id).status == "held"


def test_a_post_by_email_goes_through_the_posting_path_that_feeds_live_updates(
        app, gateway, thread):
    """Live updates listen to `post_published` (sent after commit by the forums' posting
    service); mail must take the same path, from the gateway's own threads."""
    from hub import events

    seen: list[events.PostEvent] = []

    def listener(_sender, event, **_):
        seen.append(event)

    events.post_published.connect(listener)
    try:
        gateway.lmtp(compose(sender=thread["member"].email, to=thread["reply_to"],
                             body="Live, please."),
                     thread["reply_to"], mail_from=thread["member"].email)
    finally:
        events.post_published.disconnect(listener)
    (event,) = seen
    assert (event.topic_id, event.source, event.status) == (thread["topic_id"], "email",
                                                             "published")


def test_a_message_stored_by_a_gateway_that_died_is_processed_by_the_sweep(app, thread):
    """Stored (and acknowledged) but never processed: the worker's sweep finishes it."""
    from datetime import timedelta

    from hub import clock
    from listserv import inbound

    raw = compose(sender=thread["member"].email, to=thread["reply_to"], body="Kept safe.")
    row = inbound.receive(raw, thread["reply_to"], thread["member"].email, "lmtp")
    assert row.status == "processing"  # ... and then the process was killed
    assert inbound.sweep() == 0  # a live gateway may still be at work on it
    clock.freeze(clock.now() + timedelta(minutes=6))
    try:
        assert inbound.sweep() == 1
    finally:
        clock.freeze(None)
    assert posts_in(thread["topic_id"])[-1].body == "Kept safe."
    assert inbound_rows()[0].status == "posted"


def test_the_worker_round_runs_the_listserv_tick_at_most_every_interval(app, monkeypatch):
    import listserv
    from listserv import digests, inbound

    calls: list[str] = []
    monkeypatch.setattr(inbound, "sweep", lambda: calls.append("sweep"))
    monkeypatch.setattr(digests, "send_due", lambda: calls.append("digests"))
    assert listserv.periodic in app.extensions["hub_periodic"]
    listserv.periodic()
    listserv.periodic()
    assert calls == ["sweep", "digests"]


def test_a_refused_file_is_left_out_and_the_reply_still_posted(app, gateway, thread):
    from email.message import EmailMessage
    from email.policy import SMTP

    msg = EmailMessage(policy=SMTP)
    msg["From"] = thread["member"].email
    msg["To"] = thread["reply_to"]
    msg["Subject"] = "Re: tools"
    msg["Message-ID"] = "<exe@example.org>"
    msg.set_content("My notes are attached.")
    msg.add_attachment(b"MZ\x90\x00 not a document", maintype="application",
                       subtype="octet-stream", filename="setup.exe")
    gateway.lmtp(msg.as_bytes(), thread["reply_to"], mail_from=thread["member"].email)
    reply = posts_in(thread["topic_id"])[-1]
    assert reply.body.startswith("My notes are attached.")
    assert "setup.exe" in reply.body and reply.attachments == []
