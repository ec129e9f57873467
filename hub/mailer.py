"""The hub's own mail (verification, approval, invitations, resets) and the transport
every outgoing message uses: SMTP on one reused connection, or the local dev mailbox the
Secretariat reads in the browser when no SMTP server is configured.

The SMTP connection has a connect timeout (HUB_SMTP_CONNECT_TIMEOUT) and a timeout for
every command and reply (HUB_SMTP_TIMEOUT), so a silent server never holds a worker. Any
failure while the connection is open closes the socket at once: a QUIT sent into an open
DATA phase would wait for a reply that never comes, and closing is what makes the server
discard the half-sent copy.

Messages are rendered in the recipient's language at enqueue time and sent by the
worker (job "mail.send"), never inside a request.
"""

from __future__ import annotations

import re
import smtplib
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
from hub.extensions import db
from hub.models import DevMail

_CRLF = re.compile(r"[\r\n]")
# Line breaks (any kind) and ASCII spacing; a no-break space (French « ») is kept.
_SPACE = re.compile("[\t\n\v\f\r \x1c-\x1f\x85\u2028\u2029]+")


class HeaderInjection(ValueError):
    pass


def safe_header(value: str) -> str:
    """Refuse header values with CR/LF instead of letting them start new headers."""
    if _CRLF.search(value or ""):
        raise HeaderInjection("header value contains a line break")
    return value


def header_text(value: str) -> str:
    """A header written by a template (a subject): every run of white space, line breaks
    included, becomes one space, so no header starts with or holds a line break. The
    email package folds long values itself, by the rules."""
    return _SPACE.sub(" ", value or "").strip()


class Transport(Protocol):
    def send_bytes(self, envelope_from: str, recipients: list[str], data: bytes) -> None: ...


class _DevMailbox:
    def send_bytes(self, envelope_from: str, recipients: list[str], data: bytes) -> None:
        from email import policy
        from email.parser import BytesParser

        # The parser unfolds a folded Subject (a long one spans several lines).
        parsed = BytesParser(policy=policy.default).parsebytes(data, headersonly=True)
        subject = header_text(str(parsed["subject"] or ""))
        db.session.add(
            DevMail(sender=envelope_from, recipients=", ".join(recipients), subject=subject,
                    raw=data)
        )
        db.session.commit()


class _Connection:
    def __init__(self, host: smtplib.SMTP) -> None:
        self.host = host


class _SMTP:
    def __init__(self, conn: _Connection) -> None:
        self.conn = conn

    def send_bytes(self, envelope_from: str, recipients: list[str], data: bytes) -> None:
        self.conn.host.sendmail(envelope_from, recipients, data)


@contextmanager
def open_transport() -> Iterator[Transport]:
    """One connection for many messages (fan-out reuses it)."""
    if not current_app.config.get("HUB_SMTP_HOST"):
        yield _DevMailbox()
        return
    smtp = connect_smtp()
    try:
        yield _SMTP(_Connection(smtp))
    except BaseException:
        smtp.close()
        raise
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def connect_smtp() -> smtplib.SMTP:
    config = current_app.config
    cls = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    smtp = cls(config["HUB_SMTP_HOST"], config["HUB_SMTP_PORT"],
               timeout=float(config["HUB_SMTP_CONNECT_TIMEOUT"]))
    try:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME") and config.get("MAIL_PASSWORD"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.timeout = float(config["HUB_SMTP_TIMEOUT"])
        if smtp.sock is not None:
            smtp.sock.settimeout(smtp.timeout)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _text_parts(template: str) -> tuple[Any, Any]:
    """The text template's first source line (the subject) and the rest, compiled apart:
    a value with a line break in the subject stays in the subject, never cuts it."""
    env = current_app.extensions.get("hub_text_env")
    if env is None:  # plain text: never HTML-escaped (a file name says so; a string not)
        env = current_app.extensions["hub_text_env"] = current_app.jinja_env.overlay(
            autoescape=False)
    parts = current_app.extensions.setdefault("hub_mail_parts", {})
    source, filename, uptodate = env.loader.get_source(env, f"email/{template}.txt")
    kept = parts.get(filename or template)
    if kept is not None and (uptodate is None or uptodate()):
        return kept
    first, _, rest = source.partition("\n")
    made = (env.from_string(first), env.from_string(rest))
    parts[filename or template] = made
    return made


def render_mail(template: str, language: str, **context: Any) -> tuple[str, str, str]:
    """(subject, text, html) from templates/email/<template>.{txt,html}; the subject is the
    text template's first line, rendered as one header line (`header_text`)."""
    subject_part, body_part = _text_parts(template)
    with force_locale(language or "en"):
        values = dict(context)
        current_app.update_template_context(values)
        subject = subject_part.render(values)
        body = body_part.render(values)
        html = render_template(f"email/{template}.html", **context)
    return header_text(subject), body.strip() + "\n", html


def send_mail(to: str, template: str, *, language: str = "en", name: str = "",
              headers: dict[str, str] | None = None, envelope_from: str | None = None,
              calendar: str | None = None, **context: Any) -> None:
    """Queue a message from the hub itself to one person (in the current transaction).
    `envelope_from=""` sends it with the null sender `<>` (RFC 3834 notices: nothing may
    answer them, not even a bounce). `calendar` is an iCalendar object (METHOD:REQUEST
    or CANCEL) carried as a text/calendar alternative, so mail clients offer to add (or
    remove) the event."""
    subject, text, html = render_mail(template, language, **context)
    extra = {} if envelope_from is None else {"envelope_from": safe_header(envelope_from)}
    jobs.enqueue(
        "mail.send",
        {
            **extra,
            "calendar": calendar,
            "to": safe_header(to),
            "name": safe_header(name),  # a member's name: a line break is an attack
            "subject": safe_header(subject),
            "text": text,
            "html": html,
            "headers": {safe_header(k): safe_header(v) for k, v in (headers or {}).items()},
        },
    )


def build_message(payload: dict[str, Any]) -> EmailMessage:
    """The stdlib builder encodes non-ASCII names and subjects correctly (RFC 2047)."""
    msg = EmailMessage()
    msg["Subject"] = header_text(payload["subject"])
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
        envelope_from = payload.get("envelope_from")
        if envelope_from is None:
            envelope_from = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
        transport.send_bytes(envelope_from, [payload["to"]], msg.as_bytes(policy=SMTP))
