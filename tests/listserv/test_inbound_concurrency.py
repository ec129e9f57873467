"""Many MTA connections at once, over real LMTP sockets: every reply becomes one post
(the same message sent twice at the same moment too), a reply whose posting fails is kept
quarantined before its 250, and the gateway's memory of known lists refuses nothing it
should accept and keeps nothing for a board that is gone. Runs on SQLite and, with
HUB_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import smtplib
import threading

import pytest

from hub.extensions import db
from listserv import addresses
from tests.listserv.helpers import compose, inbound_rows, posts_in


def _send_all(port: int, batches: list[list[tuple[str, str, bytes]]]) -> list[str]:
    """Each batch over its own LMTP connection, all at once; the answers that were not
    250."""
    failures: list[str] = []
    start = threading.Barrier(len(batches))

    def send(batch: list[tuple[str, str, bytes]]) -> None:
        with smtplib.LMTP("127.0.0.1", port) as client:
            start.wait(10)
            for sender, to, raw in batch:
                try:
                    refused = client.sendmail(sender, [to], raw)
                except smtplib.SMTPException as exc:
                    failures.append(repr(exc))
                else:
                    failures.extend(repr(r) for r in refused.values())

    threads = [threading.Thread(target=send, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return failures


def test_replies_over_many_connections_at_once_become_one_post_each(
        app, gateway, make_member, board, start_topic):
    members = [make_member() for _ in range(6)]
    first = start_topic(make_member(), board)
    db.session.commit()
    messages = []
    for n in range(36):
        member = members[n % len(members)]
        to = addresses.reply_address(board.slug, first.id, member.id)
        messages.append((member.email, to, compose(
            sender=member.email, to=to, subject="Re: field trials",
            message_id=f"<reply-{n}@example.org>", body=f"Reply number {n}.")))
    # Six connections share the messages; two more send every sixth one again at the
    # same moment, as an MTA retrying after a lost answer would.
    batches = [messages[i::6] for i in range(6)] + [messages[0::6], messages[3::6]]
    assert _send_all(gateway.running.lmtp_port, batches) == []

    bodies = [p.body for p in posts_in(first.topic_id) if p.source == "email"]
    assert sorted(bodies) == sorted(f"Reply number {n}." for n in range(36))
    positions = [p.position for p in posts_in(first.topic_id)]
    assert positions == list(range(1, 38))  # no two replies took one place
    rows = inbound_rows()
    assert len(rows) == 36 and {r.status for r in rows} == {"posted"}
    assert len({r.post_id for r in rows}) == 36


def test_a_reply_whose_posting_fails_is_kept_quarantined_before_its_250(
        app, gateway, make_member, board, start_topic, monkeypatch):
    from forums import services as forums

    member = make_member()
    first = start_topic(make_member(), board)
    db.session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("the disk hiccuped")

    monkeypatch.setattr(forums, "create_reply", broken)
    to = addresses.reply_address(board.slug, first.id, member.id)
    raw = compose(sender=member.email, to=to, subject="Re: trials", body="Kept anyway.")
    assert gateway.lmtp(raw, to, mail_from=member.email) == {}

    (row,) = inbound_rows()
    assert (row.status, row.rule) == ("quarantined", "error")
    assert "RuntimeError: the disk hiccuped" in row.reason
    assert row.raw == raw and row.post_id is None
    assert [p.position for p in posts_in(first.topic_id)] == [1]
    # The Secretariat's retry posts it once the fault is gone.
    monkeypatch.undo()
    from listserv import inbound

    assert inbound.reprocess(row) == "posted"
    assert [p.body for p in posts_in(first.topic_id)][-1] == "Kept anyway."


@pytest.mark.parametrize("channel", ["lmtp", "smtp"])
def test_a_board_deleted_after_its_address_was_known_keeps_nothing(
        app, gateway, make_member, make_board, channel):
    from forums import services as forums

    secretariat = make_member(role="secretariat")
    member = make_member()
    doomed = make_board("doomed")
    db.session.commit()
    first = compose(sender=member.email, to="doomed@lists.hub.test", subject="One")
    send = gateway.lmtp if channel == "lmtp" else gateway.smtp
    assert send(first, "doomed@lists.hub.test", mail_from=member.email) == {}
    assert len(inbound_rows()) == 1
    forums.delete_board(secretariat, doomed)

    # RCPT believes the address for a while; DATA finds no board and keeps nothing.
    second = compose(sender=member.email, to="doomed@lists.hub.test", subject="Two")
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(second, "doomed@lists.hub.test", mail_from=member.email)
    assert refused.value.smtp_code == 550
    assert len(inbound_rows()) == 1
    # An address never seen is asked about at RCPT, and refused there.
    third = compose(sender=member.email, to="never@lists.hub.test", subject="Three")
    assert 550 in next(iter(send(third, "never@lists.hub.test",
                                 mail_from=member.email).values()))
