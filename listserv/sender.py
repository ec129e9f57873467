"""Sending many copies over one SMTP connection while their delivery records are
written in the gaps, without ever having more than one copy in doubt.

A copy counts as delivered when the server answers 250 to the end of its DATA. Its
"sent" record is committed (on a connection of its own, in autocommit) while the server
answers the next copy's commands, and always before that copy's final dot: `send` calls
`before_final_dot` (`Records.settle`: the previous record is committed, or the send
stops) just before it. Whenever a worker dies, at most the last accepted copy can lack
its record. The write costs no time of its own: SQLite's is made while the server reads
MAIL (`while_waiting`), PostgreSQL's leaves as soon as the copy is accepted and its
answer is read before the next dot. No second thread is needed (a recorder thread cost
more in hand-overs than the writes).

Imports the standard library, SQLAlchemy and (on PostgreSQL) psycopg only.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update

try:
    from psycopg.pq import ExecStatus
except ImportError:  # SQLite only
    ExecStatus = None  # type: ignore[assignment,misc]

_LEADING_DOT = re.compile(rb"(?m)^\.")
_CRLF = b"\r\n"


class Records:
    """Delivery records on a connection of their own, each committed at once (autocommit).

    `sent(row_id, at)` records an accepted copy in two halves: on PostgreSQL the UPDATE
    leaves at once without waiting for its answer (libpq's asynchronous call) and
    `settle()` collects the answer; on SQLite, in this process, `during_mail()` or
    `settle()` writes it. `write` is for the rare other outcomes, committed before it
    returns."""

    def __init__(self, engine: Any, table: Any) -> None:
        self._conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._table = table
        self._pending: tuple[int, datetime] | None = None
        self._pg: Any = None
        if self._conn.dialect.name == "postgresql":
            # The commit is on the server before the next copy's final dot, so a crashed
            # worker never sends twice; only a crash of the database server itself could
            # forget the last fraction of a second of records.
            self._conn.exec_driver_sql("SET synchronous_commit TO OFF")
            self._pg = self._conn.connection.driver_connection.pgconn
            self._sql = (f"UPDATE {table.name} SET status = 'sent', sent_at = $1, "
                         "attempts = attempts + 1, next_attempt_at = NULL WHERE id = $2"
                         ).encode()
        self._statement = (update(table).where(table.c.id == bindparam("row_id"))
                           .values(status="sent", sent_at=bindparam("at"),
                                   attempts=table.c.attempts + 1, next_attempt_at=None))

    def sent(self, row_id: int, at: datetime) -> None:
        self.settle()
        if self._pg is not None:
            self._pg.send_query_params(self._sql, [at.isoformat().encode(),
                                                   str(row_id).encode()])
            while self._pg.flush():
                pass
        self._pending = (row_id, at)

    def during_mail(self) -> None:
        """While the server reads MAIL: SQLite writes the record now (the server works
        meanwhile); PostgreSQL's is on its way already, collected before the dot."""
        if self._pg is None:
            self.settle()

    def settle(self) -> None:
        """Until the last `sent` is committed (or raise why it could not be)."""
        if self._pending is None:
            return
        row_id, at = self._pending
        self._pending = None
        if self._pg is None:
            self._conn.execute(self._statement, {"row_id": row_id, "at": at})
            return
        error = None
        while (result := self._pg.get_result()) is not None:
            if result.status != ExecStatus.COMMAND_OK:
                error = (result.error_message or b"").decode(errors="replace")
        if error is not None:
            raise psycopg_error(error)

    def write(self, statement: Any, params: dict[str, Any] | None = None) -> None:
        self.settle()
        self._conn.execute(statement, params or {})

    def close(self) -> None:
        try:
            self.settle()
            if self._pg is not None and not self._conn.invalidated:
                self._conn.exec_driver_sql("RESET synchronous_commit")
        finally:
            self._conn.close()


def psycopg_error(message: str) -> Exception:
    import psycopg

    return psycopg.DatabaseError(f"recording a sent copy failed: {message}")


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
         while_waiting: Callable[[], None], before_final_dot: Callable[[], None]) -> None:
    """One message to one recipient, raising what smtplib's sendmail would, with
    `while_waiting()` called after MAIL is written and before its reply is read, and
    `before_final_dot()` just before the end of DATA."""
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
    before_final_dot()
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
