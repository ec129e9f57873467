"""Commands to SLUG-request@ (a change waits for the member's confirmation, by reply or
on a page with a button) and one-click unsubscribe (RFC 8058, no login)."""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import parseaddr

import pytest

from forums import subscriptions
from hub import clock
from hub.extensions import db
from listserv import confirmations
from listserv.models import CommandRequest
from tests.listserv.helpers import compose, inbound_rows

REQUEST = "risk-request@lists.hub.test"
FORGER = "mallory@evil.example"


def _mode(member, board):
    db.session.rollback()
    return subscriptions.subscription_mode(db.session.get(type(member), member.id), board=board)


def _requests() -> list[CommandRequest]:
    db.session.rollback()
    return list(db.session.scalars(db.select(CommandRequest).order_by(CommandRequest.id)))


def _subject(message) -> str:
    return str(message["Subject"]).strip()  # a long subject may be folded before its first word


def _confirmation_requests(smtp, address):
    return [m for m in smtp.to(address) if _subject(m).startswith("confirm ")]


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def _token(message) -> str:
    return _subject(message).split()[1]


def _link(message) -> str:
    return re.search(r"http://hub\.test(/lists/confirm/\S+)", _text(message)).group(1)


def _ask(gateway, smtp, run_jobs, member, command="unsubscribe", *, sender=None,
         mail_from=None):
    """Send a command for `member` (From may be forged) and return the confirmation
    request that reached the member's registered address."""
    raw = compose(sender=sender or member.email, to=REQUEST, subject=command, body="")
    assert gateway.lmtp(raw, REQUEST, mail_from=mail_from or member.email) == {}
    run_jobs()
    (asked,) = _confirmation_requests(smtp, member.email)
    smtp.clear()
    return asked


def _reply(gateway, run_jobs, to, *, sender, subject="Re: confirm", body="",
           headers=None):
    gateway.lmtp(compose(sender=sender, to=to, subject=subject, body=body, headers=headers),
                 to, mail_from=sender)
    run_jobs()


@pytest.mark.parametrize("subject,body,mode,done", [
    ("subscribe", "", "each", "You now receive every post of Risk assessment by email."),
    ("", "digest weekly\n\n-- \nRaj", "weekly", "one digest of Risk assessment a week"),
    ("digest", "", "daily", "one digest of Risk assessment a day"),
    ("Re: whatever", "unsubscribe\nthanks", "none", "You no longer receive mail from"),
])
def test_a_change_waits_until_the_member_replies_to_the_confirmation_request(
        app, gateway, board, make_member, subscribe, smtp, run_jobs, subject, body, mode,
        done):
    member = make_member(email="raj@example.org")
    start = "none" if mode == "each" else "each"
    subscribe(member, board, start)
    raw = compose(sender=f"Raj <{member.email}>", to=REQUEST, subject=subject, body=body)
    assert gateway.lmtp(raw, REQUEST, mail_from=member.email) == {}
    assert _mode(member, board) == start  # nothing changes yet
    (row,) = inbound_rows()
    assert row.status == "command" and "Waiting for confirmation" in row.reason
    run_jobs()
    (asked,) = smtp.to(member.email)
    assert _subject(asked).startswith("confirm c-")
    assert asked["Auto-Submitted"] == "auto-replied"
    assert asked["In-Reply-To"] == row.message_id
    reply_to = parseaddr(asked["Reply-To"])[1]
    assert reply_to.startswith("risk+c-") and reply_to.endswith("@lists.hub.test")
    text = _text(asked)
    command = (subject.removeprefix("Re: whatever") or body.splitlines()[0]).strip()
    assert f"> {command}" in text and "Nothing has changed yet" in text
    assert "http://hub.test/lists/confirm/" in text
    smtp.clear()

    # The member's mail program replies to Reply-To; the empty reply is the confirmation.
    _reply(gateway, run_jobs, reply_to, sender=member.email,
           subject=f"Re: {_subject(asked)}")
    assert _mode(member, board) == mode
    assert inbound_rows()[-1].status == "command"
    (answer,) = smtp.to(member.email)
    assert done in _text(answer)
    (request,) = _requests()
    assert request.confirmed_via == "email" and request.confirmed_by_id == inbound_rows()[-1].id


@pytest.mark.parametrize("where", ["subject", "first line"])
def test_confirm_token_written_to_the_request_address(app, gateway, board, make_member,
                                                      subscribe, smtp, run_jobs, where):
    member = make_member()
    subscribe(member, board)
    token = _token(_ask(gateway, smtp, run_jobs, member))
    if where == "subject":
        _reply(gateway, run_jobs, REQUEST, sender=member.email, subject=f"RE: confirm {token}")
    else:
        _reply(gateway, run_jobs, REQUEST, sender=member.email, subject="Please",
               body=f"\nconfirm {token}\n\n> Someone, probably you, asked by email ...")
    assert _mode(member, board) == "none"


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_a_forged_from_changes_nothing_until_the_member_confirms_on_the_web(
        app, gateway, board, make_member, subscribe, smtp, run_jobs, client):
    member = make_member(email="wanjiru@example.org", name="Wanjiru")
    subscribe(member, board)
    # Mallory writes "unsubscribe" in Wanjiru's name, from her own server.
    raw = compose(sender=f"Wanjiru <{member.email}>", to=REQUEST, subject="unsubscribe",
                  body="")
    assert gateway.smtp(raw, REQUEST, mail_from=FORGER) == {}
    run_jobs()
    assert _mode(member, board) == "each"
    assert smtp.to(FORGER) == []  # the answer goes to the registered address only
    (asked,) = _confirmation_requests(smtp, member.email)
    assert "Someone, probably you, asked by email" in _text(asked)
    assert "If you did not ask for this, ignore this message" in _text(asked)

    # Mallory cannot make up the token: a guess is refused and changes nothing.
    forged = "confirm c-1-1-0123456789abcdef"
    _reply(gateway, run_jobs, REQUEST, sender=member.email, subject=forged)
    assert _mode(member, board) == "each"
    assert inbound_rows()[-1].rule == "confirm" and inbound_rows()[-1].status == "rejected"

    # A mail scanner (or anyone) following the link changes nothing.
    link = _link(asked)
    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Receive no more mail from Risk assessment." in html and "wanjiru@example.org" in html
    assert _mode(member, board) == "each"
    assert client.post(link, data={}).status_code == 400  # no CSRF token: refused
    assert _mode(member, board) == "each"

    csrf = html.split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post(link, data={"csrf_token": csrf})
    assert done.status_code == 200
    assert "You no longer receive mail from Risk assessment." in done.get_data(as_text=True)
    assert _mode(member, board) == "none"
    assert _requests()[0].confirmed_via == "web"

    # Used: the link and a late reply both say so, and change nothing.
    subscribe(member, board, "daily")
    again = client.get(link)
    assert again.status_code == 410 and "confirmed already" in again.get_data(as_text=True)
    smtp.clear()
    _reply(gateway, run_jobs, parseaddr(asked["Reply-To"])[1], sender=member.email)
    assert _mode(member, board) == "daily"
    assert inbound_rows()[-1].reason.startswith("This request was confirmed already")
    # The refusal of Mallory's guess was this hour's one notice of the kind to that address.
    assert smtp.to(member.email) == []


def test_a_confirmation_works_once(app, gateway, board, make_member, subscribe, smtp,
                                   run_jobs):
    member = make_member()
    subscribe(member, board)
    asked = _ask(gateway, smtp, run_jobs, member)
    reply_to = parseaddr(asked["Reply-To"])[1]
    _reply(gateway, run_jobs, reply_to, sender=member.email)
    assert _mode(member, board) == "none"
    subscribe(member, board, "weekly")  # changed back on the web since
    _reply(gateway, run_jobs, reply_to, sender=member.email)  # a second reply
    assert _mode(member, board) == "weekly"
    assert inbound_rows()[-1].reason.startswith("This request was confirmed already")


def test_an_expired_request_changes_nothing(app, gateway, board, make_member, subscribe,
                                            smtp, run_jobs, client):
    member = make_member()
    subscribe(member, board)
    asked = _ask(gateway, smtp, run_jobs, member)
    clock.freeze(clock.now() + timedelta(hours=confirmations.lifetime_hours(), minutes=1))
    try:
        page = client.get(_link(asked))
        assert page.status_code == 410 and "expired" in page.get_data(as_text=True)
        assert client.post(_link(asked)).status_code == 410
        _reply(gateway, run_jobs, parseaddr(asked["Reply-To"])[1], sender=member.email)
    finally:
        clock.freeze(None)
    assert _mode(member, board) == "each"
    (answer,) = smtp.to(member.email)
    assert "This request has expired, so nothing was changed" in _text(answer)
    assert "risk-request@lists.hub.test" in _text(answer)


def test_a_forged_confirm_address_or_link_is_refused(app, gateway, board, make_member,
                                                     subscribe, smtp, run_jobs, client):
    member = make_member()
    subscribe(member, board)
    asked = _ask(gateway, smtp, run_jobs, member)
    token = _token(asked)
    forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    address = f"risk+{forged}@lists.hub.test"
    _reply(gateway, run_jobs, address, sender=member.email)
    assert _mode(member, board) == "each"
    (answer,) = smtp.to(member.email)
    assert "This confirmation code is not valid" in _text(answer)
    assert client.get(f"/lists/confirm/{forged}").status_code == 404
    assert client.post(f"/lists/confirm/{forged}").status_code == 404
    assert client.get("/lists/confirm/nonsense").status_code == 404
    assert _mode(member, board) == "each"


def test_a_confirmation_from_another_address_is_refused(app, gateway, board, make_member,
                                                        subscribe, smtp, run_jobs):
    member = make_member()
    subscribe(member, board)
    other = make_member()
    asked = _ask(gateway, smtp, run_jobs, member)
    _reply(gateway, run_jobs, parseaddr(asked["Reply-To"])[1], sender=other.email)
    assert _mode(member, board) == "each"
    assert inbound_rows()[-1].status == "rejected"
    (answer,) = smtp.to(other.email)
    assert "belongs to another email address" in _text(answer)
    assert _requests()[0].confirmed_at is None


def test_an_automatic_reply_to_the_request_confirms_nothing(app, gateway, board,
                                                           make_member, subscribe, smtp,
                                                           run_jobs):
    member = make_member()
    subscribe(member, board)
    asked = _ask(gateway, smtp, run_jobs, member)
    _reply(gateway, run_jobs, parseaddr(asked["Reply-To"])[1], sender=member.email,
           headers={"Auto-Submitted": "auto-replied"})
    assert _mode(member, board) == "each"
    assert inbound_rows()[-1].status == "discarded"


def test_a_forger_cannot_flood_a_member_with_confirmation_requests(app, gateway, board,
                                                                   make_member, subscribe,
                                                                   smtp, run_jobs):
    member = make_member()
    subscribe(member, board)
    for _ in range(confirmations.PER_HOUR + 3):
        gateway.smtp(compose(sender=member.email, to=REQUEST, subject="unsubscribe"),
                     REQUEST, mail_from=FORGER)
    run_jobs()
    assert len(_confirmation_requests(smtp, member.email)) == confirmations.PER_HOUR
    assert len(smtp.to(member.email)) == confirmations.PER_HOUR
    assert len(_requests()) == confirmations.PER_HOUR
    assert "too many requests" in inbound_rows()[-1].reason
    assert _mode(member, board) == "each"


def test_the_request_is_written_in_the_members_language(app, gateway, board, make_member,
                                                        subscribe, smtp, run_jobs):
    member = make_member(language="fr", name="Jean")
    subscribe(member, board)
    asked = _ask(gateway, smtp, run_jobs, member)
    assert "Bonjour Jean," in _text(asked)


def test_help_is_answered_at_once_and_asks_for_nothing(app, gateway, board, make_member,
                                                      smtp, run_jobs):
    member = make_member()
    gateway.lmtp(compose(sender=member.email, to=REQUEST, subject="help", body=""), REQUEST,
                 mail_from=member.email)
    run_jobs()
    (answer,) = smtp.to(member.email)
    assert _subject(answer) == "Your request to risk-request@lists.hub.test"
    assert "Help is below." in _text(answer) and "unsubscribe" in _text(answer)
    assert _requests() == []


def test_help_from_a_stranger_changes_nothing_and_says_how_to_join(app, gateway, board,
                                                                  smtp, run_jobs):
    raw = compose(sender="curious@example.com", to=REQUEST, subject="help", body="")
    gateway.lmtp(raw, REQUEST, mail_from="curious@example.com")
    run_jobs()
    (answer,) = smtp.to("curious@example.com")
    text = _text(answer)
    assert "subscribe" in text and "http://hub.test/apply" in text


def test_a_change_for_an_unknown_sender_changes_nothing(app, gateway, board, smtp,
                                                       run_jobs):
    gateway.lmtp(compose(sender="curious@example.com", to=REQUEST, subject="subscribe"),
                 REQUEST, mail_from="curious@example.com")
    run_jobs()
    (answer,) = smtp.to("curious@example.com")
    assert "We do not know curious@example.com" in _text(answer)
    assert _requests() == []


def test_unsubscribe_sent_to_the_list_by_mistake_is_a_command(app, gateway, board,
                                                               make_member, subscribe,
                                                               smtp, run_jobs):
    member = make_member()
    subscribe(member, board)
    raw = compose(sender=member.email, to="risk@lists.hub.test", subject="unsubscribe",
                  body="")
    gateway.lmtp(raw, "risk@lists.hub.test", mail_from=member.email)
    assert _mode(member, board) == "each"
    assert inbound_rows()[0].status == "command"
    run_jobs()
    assert len(_confirmation_requests(smtp, member.email)) == 1


def test_a_member_who_may_not_read_a_board_cannot_subscribe(app, gateway, make_board,
                                                            make_member, make_group, smtp,
                                                            run_jobs):
    group = make_group("insiders")
    closed = make_board("insiders-forum", visibility="group", group_id=group.id)
    member = make_member()
    gateway.lmtp(compose(sender=member.email, to="insiders-forum-request@lists.hub.test",
                         subject="subscribe"),
                 "insiders-forum-request@lists.hub.test", mail_from=member.email)
    run_jobs()
    assert _mode(member, closed) == "none"
    assert _requests() == []  # nothing to confirm: the answer says no at once
    (answer,) = smtp.to(member.email)
    assert "No such board." in _text(answer)


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


def test_the_mailto_unsubscribe_asks_for_confirmation(app, gateway, smtp, run_jobs,
                                                      make_member, board, subscribe,
                                                      start_topic):
    member = make_member()
    subscribe(member, board)
    start_topic(make_member(), board)
    run_jobs()
    (copy,) = smtp.to(member.email)
    mailto = copy["List-Unsubscribe"].split(",")[1].strip().strip("<>")
    address, _, query = mailto[len("mailto:"):].partition("?")
    assert query == "subject=unsubscribe"
    smtp.clear()
    gateway.lmtp(compose(sender=member.email, to=address, subject="unsubscribe", body=""),
                 parseaddr(address)[1], mail_from=member.email)
    run_jobs()
    assert _mode(member, board) == "each"
    (asked,) = _confirmation_requests(smtp, member.email)
    _reply(gateway, run_jobs, parseaddr(asked["Reply-To"])[1], sender=member.email)
    assert _mode(member, board) == "none"


def test_a_question_titled_help_is_a_post_not_a_command(app, gateway, board, make_member):
    member = make_member()
    gateway.lmtp(compose(sender=member.email, to="risk@lists.hub.test", subject="Help",
                         body="Anyone?"), "risk@lists.hub.test", mail_from=member.email)
    assert inbound_rows()[0].status == "posted"
