"""Bounces: DSNs to the VERP envelope raise the member's score (once a day); at the
threshold list mail stops, the member is told by a probe message and on the web."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub import clock
from hub.extensions import db
from listserv import addresses
from listserv.models import Bounce
from tests.listserv.helpers import compose, inbound_rows


def dsn(failed: str, status: str = "5.1.1", action: str = "failed",
        to: str = "risk@lists.hub.test") -> bytes:
    """An RFC 3464 delivery status notification, as Postfix sends them."""
    return (
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n"
        f"To: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-%s@mx.example.org>\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nOriginal-Recipient: rfc822;{failed}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        "--B--\r\n"
    ).replace("%s", f"{failed}-{status}-{clock.now().timestamp()}").encode()


@pytest.fixture
def reader(make_member, board, subscribe):
    member = make_member(email="raj@example.org", name="Raj Patel")
    subscribe(member, board)
    return member


def test_a_dsn_to_the_verp_address_raises_the_score_once_a_day(app, gateway, reader):
    verp = addresses.bounce_address("risk", reader.id)
    for _ in range(3):
        assert gateway.lmtp(dsn(reader.email), verp, mail_from="<>") == {}
    rows = inbound_rows()
    assert [r.status for r in rows] == ["bounce"] * 3
    db.session.refresh(reader)
    assert reader.bounce_score == 1.0  # one bad day counts once
    assert db.session.scalar(db.select(db.func.count(Bounce.id))) == 3


def test_a_soft_bounce_counts_half(app, gateway, reader):
    verp = addresses.bounce_address("risk", reader.id)
    gateway.lmtp(dsn(reader.email, status="4.2.2", action="delayed"), verp, mail_from="<>")
    db.session.rollback()
    assert db.session.get(type(reader), reader.id).bounce_score == 0.5


def test_a_dsn_to_the_list_address_is_read_by_flufl_bounce(app, gateway, reader):
    gateway.lmtp(dsn(reader.email), "risk@lists.hub.test", mail_from="<>")
    (row,) = inbound_rows()
    assert row.status == "bounce" and reader.email in row.reason


def test_a_vacation_reply_to_the_verp_address_is_no_bounce(app, gateway, reader):
    verp = addresses.bounce_address("risk", reader.id)
    raw = compose(sender=reader.email, to=verp, subject="Away", body="Back Monday.")
    gateway.lmtp(raw, verp, mail_from=reader.email)
    (row,) = inbound_rows()
    assert row.status == "discarded"
    db.session.refresh(reader)
    assert reader.bounce_score == 0


def test_at_the_threshold_mail_stops_with_a_probe_and_a_web_notice(
        app, gateway, reader, smtp, run_jobs, client, auth, make_member, board, start_topic):
    verp = addresses.bounce_address("risk", reader.id)
    start = clock.now() - timedelta(days=4)
    try:
        for day in range(5):
            clock.freeze(start + timedelta(days=day))
            gateway.lmtp(dsn(reader.email), verp, mail_from="<>")
    finally:
        clock.freeze(None)
    db.session.rollback()
    member = db.session.get(type(reader), reader.id)
    assert member.bounce_score == 5.0 and member.delivery_disabled

    run_jobs()
    (probe,) = smtp.to(reader.email)
    assert "paused" in probe["Subject"]
    assert "http://hub.test/lists/settings" in probe.get_body(("plain",)).get_content()

    smtp.clear()
    start_topic(make_member(), board)
    run_jobs()
    assert smtp.to(reader.email) == []  # no more list mail

    auth.login(reader)
    page = client.get("/").get_data(as_text=True)
    assert "kept bouncing" in page or "paused" in page
    page = client.get("/lists/settings").get_data(as_text=True)
    assert "turn list mail back on" in page
    client.post("/lists/settings", data={"delivery": "on"})
    db.session.refresh(member)
    assert not member.delivery_disabled and member.bounce_score == 0


def test_a_score_goes_stale_after_a_quiet_week(app, gateway, reader):
    verp = addresses.bounce_address("risk", reader.id)
    start = clock.now()
    try:
        clock.freeze(start)
        gateway.lmtp(dsn(reader.email), verp, mail_from="<>")
        clock.freeze(start + timedelta(days=10))
        gateway.lmtp(dsn(reader.email), verp, mail_from="<>")
    finally:
        clock.freeze(None)
    db.session.rollback()
    assert db.session.get(type(reader), reader.id).bounce_score == 1.0
