"""RFC 3834 (never answer machines; notices from the null sender), the held-post notice,
postmaster@ and SLUG-owner@, and a stranger told once how to apply; over LMTP."""

from __future__ import annotations

import pytest

from hub.models import Role
from tests.listserv.helpers import compose, inbound_rows

LIST = "risk@lists.hub.test"


@pytest.mark.parametrize("headers,sender", [
    ({"List-Id": "Other list <other.example.net>"}, "someone@example.net"),
    ({"List-Unsubscribe": "<mailto:leave@example.net>"}, "someone@example.net"),
    ({}, "no-reply@example.net"),
    ({}, "other-owner@example.net"),
])
def test_no_notice_to_machines_or_other_lists(app, smtp, gateway, run_jobs, board, headers,
                                             sender):
    gateway.lmtp(compose(sender=sender, to=LIST, headers=headers), LIST, mail_from=sender)
    (row,) = inbound_rows()
    assert row.status == "rejected"
    run_jobs()
    assert smtp.to(sender) == []


def test_another_lists_moderation_notice_is_dropped(app, smtp, gateway, board):
    raw = compose(sender="mailman@example.net", to=LIST, headers={
        "List-Id": "x <x.example.net>"},
        subject="Your message to X awaits moderator approval")
    gateway.lmtp(raw, LIST, mail_from="mailman@example.net")
    (row,) = inbound_rows()
    assert (row.status, row.rule) == ("discarded", "auto-reply")


def test_a_stranger_hears_how_to_apply_once_from_the_null_sender(app, smtp, gateway,
                                                                run_jobs, board):
    for n in range(2):
        gateway.lmtp(compose(sender="stranger@example.net", to=LIST, subject=f"Q{n}"), LIST,
                     mail_from="stranger@example.net")
    run_jobs()
    notices = [r for r in smtp.received if "stranger@example.net" in r["rcpt_tos"]]
    assert len(notices) == 1
    assert notices[0]["mail_from"] == "<>"
    text = notices[0]["message"].get_body(("plain",)).get_content()
    assert "/apply" in text
    assert notices[0]["message"]["Auto-Submitted"] == "auto-replied"


def test_a_held_post_is_announced_to_its_author_in_their_language(
        app, smtp, gateway, run_jobs, make_member, make_board):
    make_board("careful", premoderated=True)
    member = make_member(language="fr")
    rcpt = "careful@lists.hub.test"
    gateway.lmtp(compose(sender=member.email, to=rcpt, subject="Question"), rcpt,
                 mail_from=member.email)
    (row,) = inbound_rows()
    assert row.status == "held"
    run_jobs()
    (notice,) = smtp.to(member.email)
    assert "modérat" in notice["Subject"]


@pytest.mark.parametrize("rcpt,who", [("postmaster@lists.hub.test", "secretariat"),
                                      ("risk-owner@lists.hub.test", "moderator")])
def test_postmaster_and_owner_reach_people(app, smtp, gateway, run_jobs, make_member, board,
                                          rcpt, who):
    person = make_member(role=Role.SECRETARIAT if who == "secretariat" else Role.MODERATOR)
    assert gateway.lmtp(compose(sender="admin@example.net", to=rcpt, subject="Your server"),
                        rcpt, mail_from="admin@example.net") == {}
    (row,) = inbound_rows()
    assert row.status == "forwarded"
    run_jobs()
    (copy,) = smtp.to(person.email)
    assert copy["Subject"] == "Your server" and copy["Resent-To"] == rcpt


def test_an_unknown_command_is_not_quoted_back(app, smtp, gateway, run_jobs, make_member,
                                              board):
    member = make_member()
    rcpt = "risk-request@lists.hub.test"
    gateway.lmtp(compose(sender=member.email, to=rcpt, subject="Hello there",
                         body="Can you help me with the maize dossier?"), rcpt,
                 mail_from=member.email)
    run_jobs()
    (answer,) = smtp.to(member.email)
    text = answer.get_body(("plain",)).get_content()
    assert "> " not in text.split("subscribe")[0]
    assert "no command" in text


def test_references_carry_the_whole_chain(app, make_member, board, start_topic):
    from forums import services as forums
    from listserv.services import post_mail

    author = make_member()
    first = start_topic(author, board)
    second = forums.create_reply(author, first.topic, "Two.", parent=first,
                                 message_id="<two@example.org>")
    third = forums.create_reply(author, first.topic, "Three.", parent=second)
    fourth = forums.create_reply(author, first.topic, "Four.", parent=third)
    mail = post_mail(fourth, first.topic, board)
    assert mail.references[0] == first.message_id
    assert list(mail.references[1:]) == ["<two@example.org>", third.message_id]
    assert mail.in_reply_to == third.message_id


def test_raw_utf8_and_rfc2231_names_and_a_multipart_without_boundary(
        app, gateway, make_member, board):
    from tests.listserv.helpers import posts_in

    member = make_member()
    raw = (f"From: {member.email}\r\nTo: {LIST}\r\nSubject: Files\r\n"
           "Message-ID: <files@example.org>\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
           "Content-Type: text/plain; charset=utf-8\r\n\r\nTwo files.\r\n--b\r\n"
           "Content-Type: application/pdf\r\n"
           'Content-Disposition: attachment; filename="Évaluation été.pdf"\r\n\r\n'
           "%PDF-1.4 one\r\n--b\r\nContent-Type: application/pdf\r\n"
           "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf\r\n\r\n"
           "%PDF-1.4 two\r\n--b--\r\n").encode()
    gateway.lmtp(raw, LIST, mail_from=member.email)
    plain = (f"From: {member.email}\r\nTo: {LIST}\r\nSubject: No boundary\r\n"
             "Message-ID: <nob@example.org>\r\nMIME-Version: 1.0\r\n"
             "Content-Type: multipart/mixed\r\n\r\nJust text, really.\r\n").encode()
    gateway.lmtp(plain, LIST, mail_from=member.email)
    first, second = inbound_rows()
    assert (first.status, second.status) == ("posted", "posted")
    (post,) = posts_in(first.topic_id)
    assert sorted(a.filename for a in post.attachments) == ["résumé.pdf",
                                                            "Évaluation été.pdf"]
    assert posts_in(second.topic_id)[0].body == "Just text, really."
