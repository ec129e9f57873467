"""The hub's own mail (verification, approval, invitations, resets) and the transport
every outgoing message uses: SMTP on one reused Flask-Mail connection, or the local dev
mailbox the Secretariat reads in the browser when no SMTP server is configured.

Messages are rendered in the recipient's language at enqueue time and sent by the
worker (job "mail.send"), never inside a request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, Protocol

from flask import current_app, render_template
from flask_babel import force_locale

from hub import jobs
from hub.extensions import db, mail
from hub.models import DevMail

_CRLF = re.compile(r"[\r\n]")


class HeaderInjection(ValueError):
    pass


def safe_header(value: str) -> str:
    """Refuse header values with CR/LF instead of letting them start new headers."""
    if _CRLF.search(value or ""):
        raise HeaderInjection("header value contains a line break")
    return value


class Transport(Protocol):
    def send_bytes(self, envelope_from: str, recipients: list[str], data: bytes) -> None: ...


class _DevMailbox:
    def send_bytes(self, envelope_from: str, recipients: list[str], data: bytes) -> None:
        subject = ""
        match = re.search(rb"^Subject: (.*)$", data, re.M)
        if match:
            from email.header import decode_header, make_header

            subject = str(make_header(decode_header(match.group(1).decode("ascii", "replace"))))
        db.session.add(
            DevMail(sender=envelope_from, recipients=", ".join(recipients), subject=subject,
                    raw=data)
        )
        db.session.commit()


class _SMTP:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def send_bytes(self, envelope_from: str, recipients: list[str], data: bytes) -> None:
        self.conn.host.sendmail(envelope_from, recipients, data)


@contextmanager
def open_transport() -> Iterator[Transport]:
    """One connection for many messages (fan-out reuses it)."""
    if not current_app.config.get("HUB_SMTP_HOST"):
        yield _DevMailbox()
        return
    with mail.connect() as conn:
        yield _SMTP(conn)


def render_mail(template: str, language: str, **context: Any) -> tuple[str, str, str]:
    """(subject, text, html) from templates/email/<template>.{txt,html}; the subject is the
    text template's first line."""
    with force_locale(language or "en"):
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n", html


def send_mail(to: str, template: str, *, language: str = "en", name: str = "",
              headers: dict[str, str] | None = None, calendar: str | None = None,
              **context: Any) -> None:
    """Queue a message from the hub itself to one person (in the current transaction).
    `calendar` is an iCalendar object (METHOD:REQUEST or CANCEL) carried as a
    text/calendar alternative, so mail clients offer to add (or remove) the event."""
    subject, text, html = render_mail(template, language, **context)
    jobs.enqueue(
        "mail.send",
        {
            "calendar": calendar,
            "to": safe_header(to),
            "name": safe_header(name),
            "subject": safe_header(subject),
            "text": text,
            "html": html,
            "headers": {safe_header(k): safe_header(v) for k, v in (headers or {}).items()},
        },
    )


def build_message(payload: dict[str, Any]) -> EmailMessage:
    """The stdlib builder encodes non-ASCII names and subjects correctly (RFC 2047)."""
    msg = EmailMessage()
    msg["Subject"] = payload["subject"]
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = Address(display_name=payload.get("name") or "", addr_spec=payload["to"])
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=current_app.config["HUB_MAIL_DOMAIN"])
    msg["Auto-Submitted"] = "auto-generated"
    for key, value in payload.get("headers", {}).items():
        del msg[key]  # a caller's header replaces ours (e.g. Auto-Submitted: auto-replied)
        msg[key] = value
    msg.set_content(payload["text"])
    msg.add_alternative(payload["html"], subtype="html")
    if payload.get("calendar"):
        method = "CANCEL" if "\r\nMETHOD:CANCEL\r\n" in payload["calendar"] else "REQUEST"
        msg.add_alternative(payload["calendar"], subtype="calendar",
                            params={"method": method})
    return msg


@jobs.handler("mail.send")
def _send(payload: dict[str, Any]) -> None:
    msg = build_message(payload)
    with open_transport() as transport:
        envelope_from = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
        transport.send_bytes(envelope_from, [payload["to"]], msg.as_bytes(policy=SMTP))
