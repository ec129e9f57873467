"""Telling a sender what became of their mail: refusals, command replies and
confirmation requests.

One clear notice in the member's language, marked `Auto-Submitted: auto-replied` and sent
from the null sender `<>` (RFC 3834), never to the null sender or to mail that was itself
generated automatically (Auto-Submitted, Precedence, List-* headers, no-reply and list
robot senders), and rate
limited per address (so a forged sender or a loop cannot turn the hub into a mail
cannon). The log of received mail records when a notice went out. Imports `hub`,
`forums` and `listserv`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func

from hub import clock
from hub.extensions import db
from hub.mailer import send_mail
from hub.services import member_by_email
from listserv import addresses, links
from listserv.models import InboundMessage
from listserv.rules import Mail

PER_RULE_PER_HOUR = 1  # the same kind of refusal, to the same address
PER_DAY = 10  # all notices and command replies to one address


# Senders that are machines by name (RFC 3834 §2: never answer them).
_MACHINE_SENDER = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|no[-_.]?response|mailer[-_.]?daemon|postmaster"
    r"|bounces?|notifications?|auto[-_.]?(reply|responder|mailer)|listserv|majordomo"
    r"|sympa|mailman|owner-[^@]+|[^@]+-(owner|request|bounces?|admin))([+@]|$)", re.I)
_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Owner",
                 "X-Mailing-List", "Mailing-List", "X-List-Administrivia")


def _auto_generated(mail: Mail) -> bool:
    """Mail that a machine wrote or a list relayed: no answer may go back to it."""
    auto = str(mail.msg.get("Auto-Submitted", "") or "").strip().lower()
    precedence = str(mail.msg.get("Precedence", "") or "").strip().lower()
    if auto not in {"", "no"} or precedence in {"bulk", "junk", "list", "auto_reply"}:
        return True
    if any(mail.msg.get(name) is not None for name in _LIST_HEADERS):
        return True
    return any(_MACHINE_SENDER.match(addr or "")
               for addr in (mail.from_address, mail.envelope_from))


def recipient_for(mail: Mail) -> str | None:
    """Where a notice may go: the From address, unless the mail forbids answering."""
    if mail.envelope_from == "" or _auto_generated(mail):
        return None
    to = mail.from_address or mail.envelope_from
    if not to or "@" not in to:
        return None
    return to.lower()


# Some answers go once in a long while to the same address: a stranger writing to a list
# hears how to apply, not every time they write.
WINDOWS = {"not-member": timedelta(days=30)}


def allowed(to: str, rule: str, *, per_rule: int = PER_RULE_PER_HOUR) -> bool:
    now = clock.now()
    base = db.select(func.count(InboundMessage.id)).where(
        InboundMessage.from_address == to, InboundMessage.notice_sent_at.is_not(None))
    today = db.session.scalar(base.where(InboundMessage.notice_sent_at > now - timedelta(days=1)))
    if today >= int(current_app.config.get("HUB_LIST_NOTICES_PER_DAY", PER_DAY)):
        return False
    this_hour = db.session.scalar(base.where(
        InboundMessage.rule == rule,
        InboundMessage.notice_sent_at > now - WINDOWS.get(rule, timedelta(hours=1))))
    return this_hour < per_rule


def reply_headers(mail: Mail) -> dict[str, str]:
    headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    if mail.message_id:
        headers["In-Reply-To"] = mail.message_id
        headers["References"] = mail.message_id
    return headers


def send(inbound: InboundMessage, mail: Mail, template: str, *, rule: str,
         per_rule: int = PER_RULE_PER_HOUR, limited: bool = True, to: str | None = None,
         headers: dict[str, str] | None = None, **context: Any) -> bool:
    """Queue one notice answering `mail` (in the current transaction), if allowed.
    `limited=False` skips the rate limits (never the rule against answering automatic
    mail): for answers that authenticated mail earns once, like a moderator's
    confirmation. `to` replaces From as the recipient: a confirmation request goes to
    the member's registered address, whoever wrote. `headers` add to the reply's."""
    sender = recipient_for(mail)
    if sender is None:
        return False
    to = (to or sender).lower()
    if limited and not allowed(to, rule, per_rule=per_rule):
        return False
    member = mail.member or member_by_email(to)
    language = (member.language if member else None) or "en"
    board = mail.board
    extra = {"list_address": addresses.list_address(board.slug),
             "board_url": links.board_url(board)} if board is not None else {}
    send_mail(to, template, language=language, name=member.name if member else "",
              headers={**reply_headers(mail), **(headers or {})}, member=member,
              envelope_from="",  # RFC 3834 §3.3: the null sender, so nothing answers
              subject=mail.subject, board=board, **{**extra, **context})
    inbound.notice_sent_at = clock.now()
    return True
