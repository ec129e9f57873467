"""Mail for the people behind the lists: `postmaster@` (RFC 5321 §4.5.1) reaches the
Secretariat and `SLUG-owner@` the board's moderators. The message is passed on as it
came, with Resent-* headers (RFC 5322 §3.6.6) in front, by the worker; its envelope
sender is the hub's no-reply address, whose bounces are dropped, so a dead address
cannot start a loop. Imports `hub`, `forums` and `listserv`.
"""

from __future__ import annotations

from email.utils import format_datetime, make_msgid
from typing import Any

from hub import clock, jobs
from hub.extensions import db
from hub.mailer import open_transport, safe_header
from hub.services import secretariat_members
from listserv import addresses, moderation
from listserv.models import InboundMessage
from listserv.rules import Mail


def enqueue(row: InboundMessage, mail: Mail) -> None:
    """Queue the forward (in the current transaction)."""
    assert mail.address is not None
    if mail.address.kind == "owner" and mail.board is not None:
        people = moderation.moderators_of(mail.board)
    else:
        people = secretariat_members()
    if people:
        jobs.enqueue("listserv.forward", {"inbound_id": row.id, "rcpt": mail.rcpt,
                                          "to": sorted({m.email for m in people})})


@jobs.handler("listserv.forward")
def send_forward(payload: dict[str, Any]) -> None:
    row = db.session.get(InboundMessage, int(payload["inbound_id"]))
    if row is None:
        return
    domain = addresses.domain()
    resent = (f"Resent-From: {safe_header(f'{addresses.NOREPLY}@{domain}')}\r\n"
              f"Resent-To: {safe_header(payload['rcpt'])}\r\n"
              f"Resent-Date: {format_datetime(clock.now())}\r\n"
              f"Resent-Message-ID: {make_msgid(domain=domain)}\r\n").encode()
    with open_transport() as transport:
        transport.send_bytes(f"{addresses.NOREPLY}@{domain}", list(payload["to"]),
                             resent + row.raw)
