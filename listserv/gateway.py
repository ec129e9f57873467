"""The inbound gateway: LMTP (for an MTA such as Postfix) and SMTP servers (aiosmtpd).

Unknown recipients are refused at RCPT (550); a board found there is believed for
KNOWN_SECONDS. At the end of DATA each recipient's copy
is stored, de-duplicated and processed (`listserv.inbound.ingest`) before the server
answers, so a 250 means "kept". LMTP answers once per recipient; SMTP answers once for
the message (a 451 when any recipient hit a temporary failure: the client retries and
de-duplication makes the retry harmless). Past HUB_GATEWAY_MAX_RECIPIENTS (100) recipients
in one transaction RCPT answers 452, and the client sends the rest in another: one
message cannot hold the gateway for minutes. Database work runs on a thread pool, each call
in its own application context. Imports `hub`, `forums` and `listserv`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from flask import Flask

from hub.extensions import db
from listserv import inbound

log = logging.getLogger(__name__)
T = TypeVar("T")

OK = "250 2.0.0 OK: kept"
UNKNOWN = "550 5.1.1 No such list here"
TEMPORARY = "451 4.3.0 Temporary failure, please try again later"
TOO_MANY = "452 4.5.3 Too many recipients in one transaction; send the rest in another"
# A board found at RCPT is believed this long without asking the database again (each
# reply has its own address, but a few lists get them all). Only "yes" is remembered: a
# new board is known at once, and mail to a board deleted meanwhile is refused at DATA.
KNOWN_SECONDS = 30.0


class Handler:
    """aiosmtpd handler shared by the LMTP and SMTP servers."""

    def __init__(self, app: Flask, channel: str, executor: ThreadPoolExecutor) -> None:
        self.app = app
        self.channel = channel
        self.executor = executor
        self.max_recipients = int(app.config.get("HUB_GATEWAY_MAX_RECIPIENTS") or 100)
        self._known: dict[str, float] = {}  # board slug -> when it was last found

    def _in_app(self, fn: Callable[..., T], *args: Any) -> T:
        with self.app.app_context():
            try:
                return fn(*args)
            finally:
                db.session.remove()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._in_app, fn, *args)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= self.max_recipients:
            # RFC 5321 4.5.3.1.10: the client sends the rest in another transaction.
            return TOO_MANY
        with self.app.app_context():  # no database: the domain and the token's MAC
            slug = inbound.recipient_slug(address)
        now = time.monotonic()
        if slug and now - self._known.get(slug, -KNOWN_SECONDS) >= KNOWN_SECONDS:
            try:
                known = await self._run(inbound.board_exists, slug)
            except Exception:
                log.exception("RCPT check failed for %s", address)
                return TEMPORARY
            if known:
                if len(self._known) > 10_000:
                    self._known.clear()
                self._known[slug] = now
            else:
                slug = None
        if slug is None:
            log.info("refused unknown recipient %s", address)
            return f"550 5.1.1 <{address}>: no such list here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        statuses = await self._run(self._deliver, envelope.mail_from or "",
                                   list(envelope.rcpt_tos), raw)
        if self.channel == "lmtp":
            return "\r\n".join(statuses)
        for status in statuses:
            if not status.startswith("250"):
                return status
        return OK

    def _deliver(self, mail_from: str, recipients: list[str], raw: bytes) -> list[str]:
        statuses = []
        for rcpt in recipients:
            try:
                inbound.ingest(raw, rcpt, mail_from, self.channel)
                statuses.append(OK)
            except inbound.UnknownRecipient:
                statuses.append(UNKNOWN)
            except Exception:
                log.exception("could not keep a message for %s", rcpt)
                db.session.rollback()
                statuses.append(TEMPORARY)
        return statuses


class _SharedPortController(Controller):
    """With `shared`, binds with SO_REUSEPORT: several `hub gateway` processes can serve
    the same ports, and the kernel spreads connections over them."""

    def __init__(self, *args: Any, shared: bool = False, **kwargs: Any) -> None:
        self.shared = shared
        super().__init__(*args, **kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, host=self.hostname,
                                       port=self.port, ssl=self.ssl_context,
                                       reuse_port=self.shared or None)

    def _trigger_server(self) -> None:
        # aiosmtpd probes a new server by connecting to it; with a shared port the probe
        # may reach another process. Build the protocol once in the loop's own thread
        # instead: that is all the probe checks.
        self.loop.call_soon_threadsafe(self._factory_invoker)


class _LMTPController(_SharedPortController):
    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


@dataclass
class Gateway:
    lmtp: Controller
    smtp: Controller
    executor: ThreadPoolExecutor

    @property
    def lmtp_port(self) -> int:
        return int(self.lmtp.port)

    @property
    def smtp_port(self) -> int:
        return int(self.smtp.port)

    def stop(self) -> None:
        for controller in (self.lmtp, self.smtp):
            try:
                controller.stop()
            except Exception:  # already stopped
                log.debug("gateway controller stop failed", exc_info=True)
        self.executor.shutdown(wait=True)


def start(app: Flask, host: str | None = None, lmtp_port: int | None = None,
          smtp_port: int | None = None, threads: int | None = None) -> Gateway:
    """Start both servers (each on its own event-loop thread); returns when they listen."""
    config = app.config
    host = host or config["HUB_GATEWAY_HOST"]
    # aiosmtpd logs every command of every session at INFO (five lines a message, a few
    # per cent of the gateway's CPU at a hundred replies a second); each message is kept
    # as a row with its verdict instead (Received mail). A level set for "mail.log" by the
    # operator's own logging configuration is left as it is.
    protocol_log = logging.getLogger("mail.log")
    if protocol_log.level == logging.NOTSET:
        protocol_log.setLevel(logging.WARNING)
    executor = ThreadPoolExecutor(max_workers=threads or int(config.get(
        "HUB_GATEWAY_THREADS", 8)), thread_name_prefix="gateway")
    limit = int(config.get("HUB_LIST_MAX_BYTES", 10 * 1024 * 1024))
    # The hard cap at the socket; up to it, an oversized message gets a clear notice.
    kwargs = {"data_size_limit": 2 * limit, "server_hostname": config["HUB_MAIL_DOMAIN"],
              "shared": bool(config.get("HUB_GATEWAY_SHARED_PORTS"))}
    lmtp = _LMTPController(Handler(app, "lmtp", executor), hostname=host,
                           port=lmtp_port if lmtp_port is not None
                           else config["HUB_GATEWAY_LMTP_PORT"], **kwargs)
    smtp = _SharedPortController(Handler(app, "smtp", executor), hostname=host,
                      port=smtp_port if smtp_port is not None
                      else config["HUB_GATEWAY_SMTP_PORT"], **kwargs)
    lmtp.start()
    try:
        smtp.start()
    except Exception:
        lmtp.stop()
        executor.shutdown(wait=False)
        raise
    log.info("gateway listening: LMTP %s:%s, SMTP %s:%s", host, lmtp.port, host, smtp.port)
    return Gateway(lmtp, smtp, executor)


def service(app: Flask, stop: threading.Event) -> None:
    """The `hub dev` / `hub gateway` role: serve until told to stop."""
    gateway = start(app)
    try:
        stop.wait()
    finally:
        gateway.stop()
