"""List mail out: one personalized copy per subscriber, asserted on what crossed a real
SMTP socket (headers, threading, parts, tokens, VERP) and on who gets one."""

from __future__ import annotations

from email.utils import parseaddr

from hub.extensions import db
from hub.models import GroupMembership
from listserv import addresses
from listserv.models import Delivery


def _copy(smtp, email):
    copies = smtp.to(email)
    assert len(copies) == 1, f"{email} got {len(copies)} copies"
    return copies[0]


def test_a_new_topic_reaches_each_subscriber_with_list_headers(
        app, smtp, run_jobs, make_member, board, subscribe, start_topic):
    author = make_member(name="Lucía Fernández")
    reader = make_member(name="Wanjiru Kamau")
    subscribe(reader, board)
    subscribe(author, board)

    post = start_topic(author, board, title="Drought-tolerant maize", body="What **data**?")
    run_jobs()

    assert smtp.to(author.email) == []  # the author does not get their own post
    msg = _copy(smtp, reader.email)
    envelope = next(r for r in smtp.received if reader.email in r["rcpt_tos"])
    assert msg["Subject"] == "[risk] Drought-tolerant maize"
    assert parseaddr(msg["From"]) == ("Lucía Fernández via Risk assessment",
                                      "risk@lists.hub.test")
    assert msg["Message-ID"] == post.message_id
    assert msg["List-Id"] == "Risk assessment <risk.lists.hub.test>"
    assert msg["List-Post"] == "<mailto:risk@lists.hub.test>"
    assert "mailto:risk-request@lists.hub.test?subject=help" in msg["List-Help"]
    assert msg["List-Archive"] == "<http://hub.test/forums/risk>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "http://hub.test/lists/unsubscribe/" in msg["List-Unsubscribe"]
    assert msg["Precedence"] == "list"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["In-Reply-To"] is None
    # The Reply-To token names this member and this post; the envelope is VERP.
    reply_to = addresses.parse(parseaddr(msg["Reply-To"])[1])
    assert (reply_to.kind, reply_to.post_id, reply_to.member_id) == ("reply", post.id,
                                                                     reader.id)
    bounce = addresses.parse(envelope["mail_from"])
    assert (bounce.kind, bounce.member_id) == ("bounce", reader.id)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert text.startswith("## Reply above this line ##")
    assert "What **data**?" in text
    assert "<strong>data</strong>" in html and "## Reply above this line ##" in html
    assert f"http://hub.test/forums/posts/{post.id}" in text
    assert "http://hub.test/lists/settings" in text
    assert "http://hub.test/lists/unsubscribe/" in text


def test_replies_thread_under_their_parent(app, smtp, run_jobs, make_member, board,
                                           subscribe, start_topic):
    from forums import services as forums

    a, b, reader = make_member(), make_member(), make_member()
    subscribe(reader, board)
    first = start_topic(a, board)
    reply = forums.create_reply(b, first.topic, "I agree.")
    nested = forums.create_reply(a, first.topic, "Thanks.", parent=reply)
    run_jobs()

    got = {m["Message-ID"]: m for m in smtp.to(reader.email)}
    assert set(got) == {first.message_id, reply.message_id, nested.message_id}
    assert got[reply.message_id]["In-Reply-To"] == first.message_id
    assert got[reply.message_id]["Subject"] == "Re: [risk] Biosafety of drought-tolerant maize"
    assert got[nested.message_id]["In-Reply-To"] == reply.message_id
    assert got[nested.message_id]["References"].split() == [first.message_id,
                                                             reply.message_id]


def test_each_copy_is_personal_and_a_reader_who_may_not_post_sees_list_post_no(
        app, smtp, run_jobs, make_member, make_board, subscribe, start_topic):
    from hub.models import Role

    announcements = make_board("news", name="News", posting="moderators")
    moderator = make_member(role=Role.MODERATOR)
    one, two = make_member(name="One"), make_member(name="Two")
    subscribe(one, announcements)
    subscribe(two, announcements)
    start_topic(moderator, announcements, title="Call for papers")
    run_jobs()

    first, second = _copy(smtp, one.email), _copy(smtp, two.email)
    assert first["List-Post"] == "NO" and first["Reply-To"] is None
    assert first["List-Unsubscribe"] != second["List-Unsubscribe"]
    assert first["To"] == f'"One" <{one.email}>' or one.email in first["To"]


def test_access_is_checked_again_at_send_time(app, smtp, run_jobs, make_member, make_group,
                                              make_board, subscribe, start_topic):
    insider, leaver = make_member(), make_member()
    group = make_group("liaison-team", members=(insider, leaver))
    closed = make_board("liaison-forum", visibility="group", group_id=group.id)
    subscribe(insider, closed)
    subscribe(leaver, closed)
    author = make_member()
    db.session.add(GroupMembership(group_id=group.id, member_id=author.id))
    db.session.commit()
    post = start_topic(author, closed)

    from hub import jobs as hub_jobs

    hub_jobs.run_pending(kinds=["listserv.fanout"])  # deliveries written, nothing sent
    db.session.delete(db.session.get(GroupMembership, (group.id, leaver.id)))
    db.session.commit()
    run_jobs()

    assert len(smtp.to(insider.email)) == 1
    assert smtp.to(leaver.email) == []
    row = db.session.scalar(db.select(Delivery).where(Delivery.post_id == post.id,
                                                      Delivery.member_id == leaver.id))
    assert row.status == "skipped" and "may no longer read" in row.last_error


def test_digest_and_none_subscribers_get_no_copy(app, smtp, run_jobs, make_member, board,
                                                 subscribe, start_topic):
    daily, none, each = make_member(), make_member(), make_member()
    subscribe(daily, board, "daily")
    subscribe(none, board, "none")
    subscribe(each, board, "each")
    start_topic(make_member(), board)
    run_jobs()
    assert [len(smtp.to(m.email)) for m in (daily, none, each)] == [0, 0, 1]


def test_a_header_injection_in_a_name_is_refused_not_sent(app, smtp, run_jobs, make_member,
                                                          board, subscribe, start_topic):
    evil = make_member(name="Eve\r\nBcc: victim@example.org")
    fine = make_member()
    subscribe(evil, board)
    subscribe(fine, board)
    post = start_topic(make_member(), board)
    run_jobs()

    assert len(smtp.to(fine.email)) == 1
    assert smtp.to(evil.email) == [] and smtp.to("victim@example.org") == []
    row = db.session.scalar(db.select(Delivery).where(Delivery.post_id == post.id,
                                                      Delivery.member_id == evil.id))
    assert row.status == "failed" and "line break" in row.last_error


def test_a_poison_post_is_quarantined_with_its_reason(app, smtp, run_jobs, make_member,
                                                      board, subscribe, start_topic):
    from hub.models import Job

    subscribe(make_member(), board)
    post = start_topic(make_member(), board)
    post.topic.title = "Hello\r\nBcc: everyone@example.org"
    db.session.commit()
    run_jobs()

    assert smtp.received == []
    job = db.session.scalar(db.select(Job).where(Job.kind == "listserv.deliver"))
    assert job.status == "failed" and "line break" in job.last_error


def test_a_temporary_refusal_is_retried_with_backoff(app, smtp, run_jobs, make_member, board,
                                                     subscribe, start_topic):
    from datetime import timedelta

    from hub import clock

    reader = make_member()
    subscribe(reader, board)
    smtp.fail_next.append("451 4.3.0 Mailbox busy, try later")
    post = start_topic(make_member(), board)
    run_jobs()
    assert smtp.to(reader.email) == []
    row = db.session.scalar(db.select(Delivery).where(Delivery.post_id == post.id))
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error

    clock.freeze(clock.now() + timedelta(minutes=2))
    try:
        run_jobs()
    finally:
        clock.freeze(None)
    assert len(smtp.to(reader.email)) == 1
    db.session.refresh(row)
    assert row.status == "sent"


def test_a_permanent_refusal_fails_the_copy_and_counts_as_a_bounce(
        app, smtp, run_jobs, make_member, board, subscribe, start_topic):
    reader = make_member()
    subscribe(reader, board)
    smtp.fail_next.append("550 5.1.1 No such user")
    post = start_topic(make_member(), board)
    run_jobs()
    row = db.session.scalar(db.select(Delivery).where(Delivery.post_id == post.id))
    assert row.status == "failed" and "550" in row.last_error
    db.session.refresh(reader)
    assert reader.bounce_score == 1.0


def test_site_links_become_absolute_and_files_are_listed(app, smtp, run_jobs, make_member,
                                                         board, subscribe, start_topic):
    from forums.attachments import Upload

    reader = make_member()
    subscribe(reader, board)
    start_topic(make_member(), board, body="See [the rules](/rules).",
                attachments=[Upload("minutes.pdf", "application/pdf", b"%PDF-1.4 minutes")])
    run_jobs()
    (msg,) = smtp.to(reader.email)
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert 'href="http://hub.test/rules"' in html and 'href="/rules"' not in html
    assert "- minutes.pdf: http://hub.test/forums/files/" in text
    assert ">minutes.pdf</a>" in html


def test_a_held_post_goes_out_when_a_moderator_approves_it(app, smtp, run_jobs, make_member,
                                                           make_board, subscribe, start_topic):
    from forums import moderation
    from hub.models import Role

    vetted = make_board("vetted", premoderated=True)
    reader = make_member()
    subscribe(reader, vetted)
    post = start_topic(make_member(), vetted)
    run_jobs()
    assert post.status == "held" and smtp.to(reader.email) == []
    moderation.approve_post(make_member(role=Role.MODERATOR), post)
    run_jobs()
    (copy,) = smtp.to(reader.email)
    assert copy["Message-ID"] == post.message_id


def test_each_copy_names_the_board_in_its_readers_language(
        app, smtp, run_jobs, make_member, board, subscribe, start_topic):
    from hub.content import set_translations

    set_translations(board, {"es": {"name": "Evaluación del riesgo"},
                             "fr": {"name": "Évaluation des risques"}})
    db.session.commit()
    author, lucia = make_member(), make_member(language="es")
    jean, wanjiru = make_member(language="fr"), make_member(language="en")
    for reader in (lucia, jean, wanjiru):
        subscribe(reader, board)
    start_topic(author, board, title="Drought-tolerant maize", body="Data?")
    run_jobs()

    def footer(member):
        return _copy(smtp, member.email).get_body(("plain",)).get_content()

    assert "Evaluación del riesgo" in footer(lucia)
    assert "Évaluation des risques" in footer(jean)
    assert "on Risk assessment." in footer(wanjiru)
