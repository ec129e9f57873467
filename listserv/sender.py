"""Sending many copies over one SMTP connection while their delivery records are
written in the gaps, without ever having more than one copy in doubt.

A copy counts as delivered when the server answers 250 to the end of its DATA. Its
"sent" record is committed (on a connection of its own, in autocommit) while the server
reads the next copy's MAIL command: `send` writes MAIL, calls `while_waiting` (which
commits the previous copy's record), and only then reads the reply. So the record of
copy k is always committed before copy k+1 goes further than MAIL, let alone its final
dot: whenever a worker dies, at most the last accepted copy can lack its record. The
database round trip costs no time of its own (the server is working meanwhile), and no
second thread is needed (a recorder thread cost more in hand-overs than the writes).

Imports the standard library and SQLAlchemy only.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable
from typing import Any

_LEADING_DOT = re.compile(rb"(?m)^\.")
_CRLF = b"\r\n"


class Records:
    """Statements committed one by one on a connection of their own (autocommit), so a
    record is durable the moment `write` returns, whatever the session is doing."""

    def __init__(self, engine: Any) -> None:
        self._conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._postgres = self._conn.dialect.name == "postgresql"
        if self._postgres:
            # The commit is on the server before the next copy's final dot, so a crashed
            # worker never sends twice; only a crash of the database server itself could
            # forget the last fraction of a second of records.
            self._conn.exec_driver_sql("SET synchronous_commit TO OFF")

    def write(self, statement: Any, params: dict[str, Any] | None = None) -> None:
        self._conn.execute(statement, params or {})

    def close(self) -> None:
        try:
            if self._postgres and not self._conn.invalidated:
                self._conn.exec_driver_sql("RESET synchronous_commit")
        finally:
            self._conn.close()


def smtp_of(transport: Any) -> smtplib.SMTP | None:
    """The smtplib connection inside `hub.mailer.open_transport()`'s SMTP transport;
    None for the dev mailbox (which gets plain `send_bytes`)."""
    host = getattr(getattr(transport, "conn", None), "host", None)
    return host if isinstance(host, smtplib.SMTP) else None


def _envelope_address(address: str) -> str:
    """An address as MAIL FROM / RCPT TO carry it. The addresses are ours (VERP) or a
    member's validated one, so smtplib's display-name parser (a third of a copy's cost)
    is not needed; what could break the command line is refused all the same."""
    if not address.isascii() or any(c in address for c in "<>\r\n "):
        raise smtplib.SMTPRecipientsRefused(
            {address: (553, b"5.1.3 not an address this client can send to")})
    return f"<{address}>"


def send(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes,
         while_waiting: Callable[[], None]) -> None:
    """One message to one recipient, raising what smtplib's sendmail would, with
    `while_waiting()` called after MAIL is written and before its reply is read."""
    smtp.ehlo_or_helo_if_needed()
    rcpt = _envelope_address(recipient)
    size = f" SIZE={len(data)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    smtp.putcmd("mail", f"FROM:{_envelope_address(sender)}{size}")
    while_waiting()
    code, reply = smtp.getreply()
    if code != 250:
        _abort(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    smtp.putcmd("rcpt", f"TO:{rcpt}")
    code, reply = smtp.getreply()
    if code not in (250, 251):
        _abort(smtp, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        _abort(smtp, code)
        raise smtplib.SMTPDataError(code, reply)
    content = _LEADING_DOT.sub(b"..", data)
    if not content.endswith(_CRLF):
        content += _CRLF
    # Content and end of data in one write: a separate small "." would wait for the
    # server's delayed ACK (Nagle), some 40 ms per message.
    smtp.send(content + b"." + _CRLF)
    code, reply = smtp.getreply()
    if code != 250:
        _abort(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


def _abort(smtp: smtplib.SMTP, code: int) -> None:
    if code == 421:
        smtp.close()
    else:
        try:
            smtp.rset()
        except smtplib.SMTPServerDisconnected:
            pass
