"""The gateway's limits: a message no parser can read (MIME nested 1,000 deep) is kept
and quarantined at once with the reason, not answered 451 and left "processing"; past
HUB_GATEWAY_MAX_RECIPIENTS recipients in one transaction RCPT answers 452."""

from __future__ import annotations

import smtplib

import pytest

from tests.listserv.helpers import inbound_rows


def _nested(sender: str, to: str, depth: int) -> bytes:
    head = (f"From: {sender}\r\nTo: {to}\r\nSubject: deep\r\n"
            "Message-ID: <deep@example.org>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n')
    opening = "".join(f'--b{n}\r\nContent-Type: multipart/mixed; boundary="b{n + 1}"\r\n\r\n'
                      for n in range(depth))
    closing = "".join(f"\r\n--b{n}--\r\n" for n in reversed(range(depth + 1)))
    return (head + opening + f"--b{depth}\r\nContent-Type: text/plain\r\n\r\nHello.\r\n"
            + closing).encode()


def test_mime_nested_a_thousand_deep_is_quarantined_at_once(app, gateway, board,
                                                           make_member):
    member = make_member()
    raw = _nested(member.email, "risk@lists.hub.test", 1000)
    refused = gateway.lmtp(raw, "risk@lists.hub.test", mail_from=member.email)
    assert refused == {}  # kept: the sender is not asked to try again
    (row,) = inbound_rows()
    assert row.status == "quarantined" and "nested too deeply" in row.reason
    assert row.raw == raw


@pytest.mark.config(HUB_GATEWAY_MAX_RECIPIENTS=3)
def test_past_the_recipient_limit_rcpt_answers_452(app, gateway, board, make_member):
    with smtplib.LMTP("127.0.0.1", gateway.running.lmtp_port) as client:
        client.ehlo("client.example.org")
        assert client.mail("sender@example.org")[0] == 250
        codes = [client.rcpt("risk@lists.hub.test")[0] for _ in range(5)]
    assert codes == [250, 250, 250, 452, 452]


def test_the_smtp_protocol_trace_is_quiet_unless_the_operator_asks_for_it(app):
    """aiosmtpd logs five INFO lines per message; the gateway keeps its logger at
    WARNING, unless the operator's logging configuration set a level for it."""
    import logging

    from listserv import gateway
    from tests.conftest import free_port

    protocol_log = logging.getLogger("mail.log")
    saved = protocol_log.level
    try:
        for chosen, expected in ((logging.NOTSET, logging.WARNING),
                                 (logging.DEBUG, logging.DEBUG)):
            protocol_log.setLevel(chosen)
            running = gateway.start(app, "127.0.0.1", free_port(), free_port())
            running.stop()
            assert protocol_log.level == expected
    finally:
        protocol_log.setLevel(saved)
