"""Sending many copies over one SMTP connection while their delivery records are
written alongside, without ever having more than one copy in doubt.

A copy counts as delivered when the server answers 250 to the end of its DATA. Its
"sent" record is then written by a `Recorder` thread on its own autocommit connection,
while this thread already starts the next copy (MAIL, RCPT, DATA and the content). The
one rule that keeps "nothing twice": the content and final "." of copy k+1 are not sent
before the record of copy k is committed. So whenever a worker dies, at most the last accepted copy
can lack its record, exactly as when every record is written before the next copy
starts, but the database round trip no longer adds to the time of each copy.

Imports the standard library and SQLAlchemy only.
"""

from __future__ import annotations

import queue
import re
import smtplib
import threading
from collections.abc import Callable
from typing import Any

_LEADING_DOT = re.compile(rb"(?m)^\.")
_CRLF = b"\r\n"


class Recorder:
    """Executes statements in order on its own thread and connection (autocommit)."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._queue: queue.Queue[tuple[Any, dict[str, Any]] | None] = queue.Queue()
        self._pending = 0
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="listserv-recorder",
                                        daemon=True)
        self._thread.start()
        self._ready.wait()
        self._raise()

    def _run(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                postgres = conn.dialect.name == "postgresql"
                if postgres:
                    # A crashed worker never sends twice: the server has the commit before
                    # the next copy's final dot. Only a crash of the database server
                    # itself could forget the last fraction of a second of records.
                    conn.exec_driver_sql("SET synchronous_commit TO OFF")
                self._ready.set()
                try:
                    self._loop(conn)
                finally:
                    if postgres:
                        conn.exec_driver_sql("RESET synchronous_commit")
        except BaseException as exc:  # reported to the sending thread at its next wait
            with self._cond:
                self._error = exc
                self._pending = 0
                self._cond.notify_all()
            self._ready.set()

    def _loop(self, conn: Any) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            statement, params = item
            try:
                conn.execute(statement, params)
            except BaseException as exc:
                with self._cond:
                    self._error = exc
            with self._cond:
                self._pending -= 1
                self._cond.notify_all()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, statement: Any, params: dict[str, Any]) -> None:
        with self._cond:
            self._raise()
            self._pending += 1
        self._queue.put((statement, params))

    def wait(self) -> None:
        """Until every submitted statement is committed (or raise its error)."""
        with self._cond:
            while self._pending:
                self._cond.wait()
            self._raise()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._queue.put(None)
            self._thread.join(timeout=30)


def smtp_of(transport: Any) -> smtplib.SMTP | None:
    """The smtplib connection inside `hub.mailer.open_transport()`'s SMTP transport;
    None for the dev mailbox (which gets plain `send_bytes`)."""
    host = getattr(getattr(transport, "conn", None), "host", None)
    return host if isinstance(host, smtplib.SMTP) else None


def send(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes,
         before_final_dot: Callable[[], None]) -> None:
    """One message to one recipient, as smtplib's sendmail would, raising the same
    exceptions, but calling `before_final_dot` just before the end of DATA."""
    smtp.ehlo_or_helo_if_needed()
    options = [f"SIZE={len(data)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
    code, reply = smtp.mail(sender, options)
    if code != 250:
        _abort(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = smtp.rcpt(recipient)
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
