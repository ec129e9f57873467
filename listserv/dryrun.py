"""The dry run of the inbound pipeline (`hub gateway check`): what it would decide for a
saved message; nothing stored, nothing sent. Imports `hub`, `forums` and `listserv`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from forums.models import Post
from hub.extensions import db
from listserv import commands, mime, rules
from listserv.inbound import build_mail, dedupe_key, known_recipient
from listserv.models import InboundMessage


@dataclass(frozen=True)
class CheckResult:
    file: str
    verdict: str
    reason: str
    board: str | None
    topic_id: int | None
    body: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "verdict": self.verdict, "reason": self.reason,
                "board": self.board, "topic_id": self.topic_id, "body": self.body}


def check(raw: bytes, name: str, recipient: str | None = None) -> CheckResult:
    """The dry run: what the pipeline would decide; nothing stored, nothing sent."""
    msg = mime.parse(raw)
    rcpt = recipient or _guess_recipient(msg)
    if not rcpt or not known_recipient(rcpt):
        return CheckResult(name, "reject", f"Unknown recipient {rcpt or '(none)'}: the "
                           "gateway would refuse it at RCPT (550).", None, None, None)
    # A saved file has no envelope: Return-Path when the MTA added one, else From.
    if msg.get("Return-Path") is not None:
        envelope = mime.header_text(msg, "Return-Path")
    else:
        senders = mime.addresses(msg, "From")
        envelope = senders[0][1] if senders else ""
    mail = build_mail(raw, rcpt, envelope, dry_run=True)
    try:
        verdict = rules.run(mail)
        seen = db.session.scalar(db.select(InboundMessage.id).where(
            InboundMessage.dedupe_key == dedupe_key(raw, rcpt.lower())))
        if seen is not None:
            verdict = rules.Verdict(rules.DISCARD, "duplicate",
                                    "This message was received already (same Message-ID).")
        elif verdict.action == rules.ACCEPT and mail.message_id and db.session.scalar(
                db.select(Post.id).where(Post.message_id == mail.message_id)):
            verdict = rules.Verdict(rules.DISCARD, "duplicate",
                                    "This message was posted already (same Message-ID).")
        elif verdict.action == rules.COMMAND:  # say what the commands would do
            verdict = rules.Verdict(verdict.action, verdict.rule, commands.preview(mail),
                                    verdict.code)
    finally:
        db.session.rollback()
    posted = verdict.action == rules.ACCEPT
    decided = verdict.action == rules.MODERATE
    return CheckResult(
        file=name, verdict=verdict.action, reason=verdict.reason,
        board=mail.board.slug if mail.board else None,
        topic_id=mail.topic.id if ((posted or decided) and mail.topic) else None,
        body=mail.text if posted else None)


def _guess_recipient(msg: Any) -> str:
    dom = "@" + current_app.config["HUB_MAIL_DOMAIN"].lower()
    for header in ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc"):
        for _name, addr in mime.addresses(msg, header):
            if addr.endswith(dom):
                return addr
    return ""
