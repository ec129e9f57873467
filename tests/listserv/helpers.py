"""Helpers for the listserv's tests: free ports, a client that speaks LMTP/SMTP to the
gateway under test, messages as members' mail clients write them, and reads of what the
gateway stored (in a fresh transaction: it commits from its own threads)."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

from forums.models import Post
from hub.extensions import db
from listserv import gateway as gateway_module
from listserv.models import InboundMessage


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GatewayClient:
    """Talks to the gateway under test over real sockets."""

    def __init__(self, running: gateway_module.Gateway) -> None:
        self.running = running

    def lmtp(self, raw: bytes, rcpt: str | list[str], mail_from: str = "sender@example.org"
             ) -> dict[str, tuple[int, bytes]]:
        """Deliver over LMTP; returns the refused recipients (like smtplib)."""
        recipients = [rcpt] if isinstance(rcpt, str) else rcpt
        with smtplib.LMTP("127.0.0.1", self.running.lmtp_port) as client:
            try:
                return client.sendmail(mail_from, recipients, raw)
            except smtplib.SMTPRecipientsRefused as exc:
                return exc.recipients

    def smtp(self, raw: bytes, rcpt: str | list[str], mail_from: str = "sender@example.org"
             ) -> dict[str, tuple[int, bytes]]:
        recipients = [rcpt] if isinstance(rcpt, str) else rcpt
        with smtplib.SMTP("127.0.0.1", self.running.smtp_port) as client:
            try:
                return client.sendmail(mail_from, recipients, raw)
            except smtplib.SMTPRecipientsRefused as exc:
                return exc.recipients


def compose(*, sender: str, to: str, subject: str = "Hello", body: str = "Hello list.",
            message_id: str | None = None, headers: dict[str, str] | None = None,
            html: str | None = None) -> bytes:
    """A plain message as a member's mail client would send it."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.org")
    for name, value in (headers or {}).items():
        msg[name] = value
    if html is not None and not body:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(body)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def inbound_rows() -> list[InboundMessage]:
    """What the gateway stored, read in a fresh transaction (it commits elsewhere)."""
    db.session.rollback()
    return list(db.session.scalars(db.select(InboundMessage).order_by(InboundMessage.id)))


def posts_in(topic_id: int) -> list[Post]:
    db.session.rollback()
    return list(db.session.scalars(db.select(Post).where(Post.topic_id == topic_id)
                                   .order_by(Post.position)))
