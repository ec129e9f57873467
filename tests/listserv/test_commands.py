"""Commands to SLUG-request@ and one-click unsubscribe (RFC 8058, no login)."""

from __future__ import annotations

from email.utils import parseaddr

import pytest

from forums import services as forums
from hub.extensions import db
from tests.listserv.helpers import compose, inbound_rows

REQUEST = "risk-request@lists.hub.test"


def _mode(member, board):
    db.session.rollback()
    return forums.subscription_mode(db.session.get(type(member), member.id), board=board)


@pytest.mark.parametrize("subject,body,mode", [
    ("subscribe", "", "each"),
    ("", "digest weekly\n\n-- \nRaj", "weekly"),
    ("digest", "", "daily"),
    ("Re: whatever", "unsubscribe\nthanks", "none"),
])
def test_commands_change_the_subscription_and_are_answered(app, gateway, board, make_member,
                                                            smtp, run_jobs, subject, body,
                                                            mode):
    member = make_member(email="raj@example.org")
    raw = compose(sender=f"Raj <{member.email}>", to=REQUEST, subject=subject, body=body)
    assert gateway.lmtp(raw, REQUEST, mail_from=member.email) == {}
    assert _mode(member, board) == mode
    (row,) = inbound_rows()
    assert row.status == "command"
    run_jobs()
    (answer,) = smtp.to(member.email)
    assert answer["Auto-Submitted"] == "auto-replied"
    assert answer["In-Reply-To"] == row.message_id
    assert "risk-request@lists.hub.test" in answer.get_body(("plain",)).get_content()


def test_help_from_a_stranger_changes_nothing_and_says_how_to_join(app, gateway, board,
                                                                  smtp, run_jobs):
    raw = compose(sender="curious@example.com", to=REQUEST, subject="help", body="")
    gateway.lmtp(raw, REQUEST, mail_from="curious@example.com")
    run_jobs()
    (answer,) = smtp.to("curious@example.com")
    text = answer.get_body(("plain",)).get_content()
    assert "subscribe" in text and "http://hub.test/apply" in text


def test_unsubscribe_sent_to_the_list_by_mistake_is_a_command(app, gateway, board,
                                                               make_member, subscribe):
    member = make_member()
    subscribe(member, board)
    raw = compose(sender=member.email, to="risk@lists.hub.test", subject="unsubscribe",
                  body="")
    gateway.lmtp(raw, "risk@lists.hub.test", mail_from=member.email)
    assert _mode(member, board) == "none"
    assert inbound_rows()[0].status == "command"


def test_a_member_who_may_not_read_a_board_cannot_subscribe(app, gateway, make_board,
                                                            make_member, make_group, smtp,
                                                            run_jobs):
    group = make_group("insiders")
    closed = make_board("insiders-forum", visibility="group", group_id=group.id)
    member = make_member()
    gateway.lmtp(compose(sender=member.email, to="insiders-forum-request@lists.hub.test",
                         subject="subscribe"),
                 "insiders-forum-request@lists.hub.test", mail_from=member.email)
    assert _mode(member, closed) == "none"


def test_one_click_unsubscribe_needs_no_login(app, smtp, run_jobs, make_member, board,
                                              subscribe, start_topic, client):
    member = make_member()
    subscribe(member, board)
    start_topic(make_member(), board)
    run_jobs()
    (copy,) = smtp.to(member.email)
    url = copy["List-Unsubscribe"].split(",")[0].strip().strip("<>")
    assert copy["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page = client.get(url)  # a link scanner's GET changes nothing
    assert page.status_code == 200 and _mode(member, board) == "each"

    answer = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert _mode(member, board) == "none"


def test_a_forged_unsubscribe_token_is_refused(app, client, make_member, board, subscribe):
    member = make_member()
    subscribe(member, board)
    assert client.post("/lists/unsubscribe/u-1-1-aaaaaaaaaaaa",
                       data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert client.get("/lists/unsubscribe/nonsense").status_code == 404
    assert _mode(member, board) == "each"


def test_the_mailto_unsubscribe_works_too(app, gateway, smtp, run_jobs, make_member, board,
                                          subscribe, start_topic):
    member = make_member()
    subscribe(member, board)
    start_topic(make_member(), board)
    run_jobs()
    (copy,) = smtp.to(member.email)
    mailto = copy["List-Unsubscribe"].split(",")[1].strip().strip("<>")
    address, _, query = mailto[len("mailto:"):].partition("?")
    assert query == "subject=unsubscribe"
    gateway.lmtp(compose(sender=member.email, to=address, subject="unsubscribe", body=""),
                 parseaddr(address)[1], mail_from=member.email)
    assert _mode(member, board) == "none"


def test_a_question_titled_help_is_a_post_not_a_command(app, gateway, board, make_member):
    member = make_member()
    gateway.lmtp(compose(sender=member.email, to="risk@lists.hub.test", subject="Help",
                         body="Anyone?"), "risk@lists.hub.test", mail_from=member.email)
    assert inbound_rows()[0].status == "posted"
