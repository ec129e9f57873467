"""Received mail, from the socket to the post: store, de-duplicate, judge, apply.

`ingest()` stores the raw message in the transaction that applies its verdict (a reply
commits with its post: one commit per message), or stores it quarantined when that
fails, and returns before the gateway acknowledges it, so an accepted message is never
lost; the `dedupe_key` (Message-ID + recipient) makes the second copy of a message a
no-op, across processes. `receive()` only stores (the sweep processes it later).
`process()` runs the rule pipeline (`listserv.rules`) and applies the verdict: a post
through the forums' posting service (the one path: access, rendering, events, live
updates), a bounce score, a command, a refusal notice, a moderator's decision on a held
post (through the forums' own `approve_post` / `reject_post`), a member's confirmation
of a change they asked for by email (`listserv.commands`), or quarantine for the
Secretariat. A stored message not finished (its posting was deferred: the author posts
too fast; stored by `receive()`; a process died while it worked) is picked up again by
`sweep()`. The dry run is `listserv.dryrun`.

Imports `hub`, `forums` and `listserv`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import inspect, or_, update
from sqlalchemy.exc import IntegrityError

from forums import attachments, editing
from forums import moderation as forum_moderation
from forums import services as forums
from forums.models import Board, Post, PostEdit, Topic
from hub import clock
from hub.errors import Conflict, HubError
from hub.extensions import db
from listserv import (
    addresses,
    bounces,
    commands,
    forward,
    links,
    mime,
    moderation,
    notices,
    rules,
)
from listserv.models import InboundMessage

log = logging.getLogger(__name__)

STALE = timedelta(minutes=5)  # a message "processing" this long was abandoned
MAX_ATTEMPTS = 5
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I | re.M)

# Final statuses by verdict action.
_STATUS = {rules.DISCARD: "discarded", rules.REJECT: "rejected", rules.BOUNCE: "bounce",
           rules.COMMAND: "command", rules.CONFIRM: "command", rules.QUARANTINE: "quarantined",
           rules.MODERATE: "moderated", rules.FORWARD: "forwarded"}
# Answers to moderators (confirmations and refusals) per hour: one per held post is normal.
MODERATION_NOTICES_PER_HOUR = 30


class UnknownRecipient(Exception):
    pass


def recipient_slug(address: str) -> str | None:
    """The slug of the board an address needs ("" for the no-reply and postmaster
    addresses, which need none); None for an address that is not ours."""
    parsed = addresses.parse(address)
    if parsed is None:
        return None
    return "" if parsed.kind in {"noreply", "postmaster"} else parsed.slug


def board_exists(slug: str) -> bool:
    return db.session.scalar(db.select(Board.id).where(Board.slug == slug)) is not None


def known_recipient(address: str) -> bool:
    """Whether RCPT TO may name this address: the no-reply address or a board's."""
    slug = recipient_slug(address)
    return slug is not None and (slug == "" or board_exists(slug))


def _header_block(raw: bytes) -> bytes:
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
    return raw if end < 0 else raw[:end]


def raw_message_id(raw: bytes) -> str:
    match = _MESSAGE_ID.search(_header_block(raw))
    if match is None:
        return ""
    ids = mime.message_ids(match.group(1).decode("ascii", "replace"))
    return ids[0][:998] if ids else ""


def dedupe_key(raw: bytes, recipient: str) -> str:
    message_id = raw_message_id(raw)
    basis = message_id.lower().encode() if message_id else hashlib.sha256(raw).digest()
    return hashlib.sha256(basis + b"\0" + recipient.lower().encode()).hexdigest()


def _envelope(mail_from: str) -> str:
    value = (mail_from or "").strip()
    return "" if value in {"", "<>"} else value.strip("<>").lower()


# A recipient's address and the board it names, as found on receipt.
_Known = tuple[addresses.ListAddress, Board | None]


def _board_of(parsed: addresses.ListAddress) -> Board | None:
    return db.session.scalar(db.select(Board).where(Board.slug == parsed.slug))


def _received(raw: bytes, recipient: str, mail_from: str, channel: str
              ) -> tuple[InboundMessage, _Known]:
    """The row for one received copy (not yet in the session) and what its address names;
    raises UnknownRecipient for an address that names no list."""
    recipient = recipient.strip().strip("<>").lower()
    parsed = addresses.parse(recipient)
    board = None
    if parsed is None:
        raise UnknownRecipient(recipient)
    if parsed.kind not in {"noreply", "postmaster"}:
        board = _board_of(parsed)
        if board is None:
            raise UnknownRecipient(recipient)
    now = clock.now()
    msg_headers = mime.parse(_header_block(raw) + b"\r\n\r\n")
    senders = mime.addresses(msg_headers, "From")
    row = InboundMessage(
        dedupe_key=dedupe_key(raw, recipient), message_id=raw_message_id(raw),
        recipient=recipient[:320], mail_from=_envelope(mail_from)[:320],
        from_address=(senders[0][1] if senders else "")[:320],
        subject=mime.header_text(msg_headers, "Subject")[:2000],
        size=len(raw), raw=raw, channel=channel, status="processing", locked_at=now,
        attempts=1, received_at=now)
    return row, (parsed, board)


def receive(raw: bytes, recipient: str, mail_from: str, channel: str) -> InboundMessage | None:
    """Store one message for one recipient, unprocessed (committed): the sweep takes it up.

    Returns None for a duplicate. Raises UnknownRecipient for an address that names no
    list.
    """
    row, _known = _received(raw, recipient, mail_from, channel)
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # the same message to the same address, stored before
        db.session.rollback()
        return None
    return row


def ingest(raw: bytes, recipient: str, mail_from: str, channel: str) -> InboundMessage | None:
    """Receive and process one message; what the gateway and `hub gateway ingest` call.

    The message is stored in the transaction that applies its verdict (the post and the
    row commit together), so one commit keeps it; when processing fails, the message is
    stored quarantined instead. Either way it is kept when this returns, and a process
    that dies before has kept nothing and answered nothing: the MTA sends it again.
    Returns None for a duplicate (a copy of it was kept before). Raises UnknownRecipient
    for an address that names no list.
    """
    row, known = _received(raw, recipient, mail_from, channel)
    if db.session.scalar(db.select(InboundMessage.id).where(
            InboundMessage.dedupe_key == row.dedupe_key)) is not None:
        return None
    try:
        return _process(row, known=known)
    except IntegrityError:  # a copy kept by another connection a moment ago
        db.session.rollback()
        if db.session.scalar(db.select(InboundMessage.id).where(
                InboundMessage.dedupe_key == row.dedupe_key)) is not None:
            return None
        raise


def build_mail(row_or_raw: InboundMessage | bytes, recipient: str = "", mail_from: str = "",
               dry_run: bool = False) -> rules.Mail:
    if isinstance(row_or_raw, InboundMessage):
        raw, recipient, mail_from = row_or_raw.raw, row_or_raw.recipient, row_or_raw.mail_from
    else:
        raw = row_or_raw
    return rules.Mail(raw=raw, rcpt=recipient, envelope_from=_envelope(mail_from),
                      msg=mime.parse(raw), dry_run=dry_run)


def process(row: InboundMessage, mail: rules.Mail | None = None) -> str:
    """Judge a stored message and apply the verdict; returns the row's final status."""
    kept = _process(row, mail)
    return "gone" if kept is None else kept.status


_RECEIVED = ("dedupe_key", "message_id", "recipient", "mail_from", "from_address", "subject",
             "size", "raw", "channel", "attempts", "received_at")


def _keep(row: InboundMessage) -> InboundMessage:
    """The row in the session: added when the message was not stored yet."""
    if row not in db.session:
        db.session.add(row)
    return row


def _restore(row: InboundMessage) -> InboundMessage:
    """After a rollback: the stored row, or for a message not stored before, a fresh row
    of what was received (the rolled-back one may name a post that is gone)."""
    if inspect(row).persistent:
        return row
    fresh = InboundMessage(**{name: getattr(row, name) for name in _RECEIVED},
                           status="processing", locked_at=clock.now())
    db.session.add(fresh)
    return fresh


def _process(row: InboundMessage, mail: rules.Mail | None = None,
             known: _Known | None = None) -> InboundMessage | None:
    try:
        mail = mail or build_mail(row)  # parsed here: a message no parser reads is kept
        if known is not None:  # looked up on receipt: `check_recipient` reuses it
            mail.address, mail.board = known
        verdict = rules.run(mail)
        return _apply(row, mail, verdict)
    except IntegrityError as exc:
        if "dedupe_key" in str(exc.orig):
            raise  # a copy kept by another connection: `ingest` tells it from a fault
        return _quarantine(row, exc)
    except Exception as exc:
        return _quarantine(row, exc)


def _quarantine(row: InboundMessage, exc: Exception) -> InboundMessage | None:
    """Kept for the Secretariat, with the reason; None when a stored row is gone."""
    db.session.rollback()
    state = inspect(row)
    log.exception("inbound message %s could not be processed",
                  state.identity[0] if state.persistent else "(new)")
    if state.persistent:
        if db.session.get(InboundMessage, state.identity[0]) is None:
            return None
    else:
        row = _restore(row)
    if isinstance(exc, RecursionError):
        reason = ("The message could not be read: its parts are nested too deeply "
                  f"(more than Python's limit of {sys.getrecursionlimit()} levels).")
    else:
        reason = f"Processing failed: {type(exc).__name__}: {exc}"
    _finish(row, "quarantined", "error", reason)
    db.session.commit()
    return row


def _finish(row: InboundMessage, status: str, rule: str, reason: str) -> None:
    row.status = status
    row.rule = rule
    row.reason = reason[:4000]
    row.processed_at = clock.now()
    row.locked_at = None


def _apply(row: InboundMessage, mail: rules.Mail, verdict: rules.Verdict) -> InboundMessage:
    """Carry out the verdict; the row commits with what it did. Returns the row kept."""
    row.board_id = mail.board.id if mail.board else None
    row.member_id = mail.member.id if mail.member else None
    row.topic_id = mail.topic.id if mail.topic else None
    if mail.held is not None:  # a moderator's reply names the held post it decides
        row.post_id = mail.held.id
    action = verdict.action
    if action == rules.ACCEPT:
        return _post(row, mail, verdict)  # the row joins the post's transaction
    _keep(row)
    if action not in {rules.DISCARD, rules.QUARANTINE}:
        db.session.flush()  # what is done next names the row
    if action == rules.MODERATE:
        return _moderate(row, mail, verdict)
    if action == rules.BOUNCE:
        for member, kind in mail.bounced:
            bounces.record(member, kind, verdict.reason, inbound_id=row.id)
    elif action == rules.FORWARD:
        forward.enqueue(row, mail)
    elif action in {rules.COMMAND, rules.CONFIRM}:
        run = commands.run if action == rules.COMMAND else commands.confirm
        outcomes = run(row, mail)
        verdict = rules.Verdict(action, verdict.rule, "; ".join(
            f"{o.command}: {o.result}" for o in outcomes) or verdict.reason, verdict.code)
    elif action == rules.REJECT and verdict.notify and verdict.rule == "confirm":
        commands.refuse_confirmation(row, mail, verdict)
    elif action == rules.REJECT and verdict.notify and verdict.rule == "moderation":
        _moderation_notice(row, mail, done=False, outcome=verdict.reason)
    elif action == rules.REJECT and verdict.notify:
        notices.send(row, mail, "listserv_refusal", rule=verdict.rule, reason=verdict.reason,
                     code=verdict.code)
    if action in {rules.DISCARD, rules.QUARANTINE}:
        log.info("inbound %s %s by %s: %s", row.id, _STATUS[action], verdict.rule,
                 verdict.reason)
    _finish(row, _STATUS[action], verdict.rule, verdict.reason)
    db.session.commit()
    return row


def _uploads(mail: rules.Mail) -> tuple[list[attachments.Upload], list[str]]:
    """The attachments the board accepts, and a line for each one left out: a file of a
    refused type should not cost the member their whole reply."""
    assert mail.body is not None
    limit = int(current_app.config.get("HUB_ATTACHMENT_MAX_COUNT", 5))
    kept: list[attachments.Upload] = []
    dropped: list[str] = []
    for item in mail.body.attachments:
        upload = attachments.Upload(filename=item.filename, content_type=item.content_type,
                               data=item.data)
        try:
            attachments.check_upload(upload)
        except HubError as exc:
            dropped.append(exc.message)
            continue
        if len(kept) >= limit:
            dropped.append(item.filename)
            continue
        kept.append(upload)
    return kept, dropped


def _post(row: InboundMessage, mail: rules.Mail, verdict: rules.Verdict) -> InboundMessage:
    """Through the forums' one posting path; the row (and its new status) commits with
    the post (`on_post_pending`)."""
    message_id = mail.message_id or None
    if message_id:
        existing = db.session.execute(
            db.select(Post.id, Topic.board_id).join(Topic, Topic.id == Post.topic_id)
            .where(Post.message_id == message_id)).first()
        if existing is not None:
            if mail.board is not None and existing.board_id == mail.board.id:
                _keep(row).post_id = existing.id
                _finish(row, "discarded", "duplicate",
                        "This message was posted already (same Message-ID).")
                db.session.commit()
                return row
            message_id = None  # cross-posted to a second list: this copy gets our own id
    uploads, dropped = _uploads(mail)
    text = mail.text
    if dropped:
        with force_locale(mail.language):
            text += "\n\n" + _("(Files not attached: %(files)s)", files="; ".join(dropped))
    _finish(row, "posted", verdict.rule, verdict.reason)  # commits with the post
    posting = _Posting(row)
    token = _posting.set(posting)
    try:
        if mail.topic is not None:
            post = forums.create_reply(mail.member, mail.topic, text, parent=mail.parent,
                                       source="email", message_id=message_id,
                                       attachments=uploads, elided=mail.elided)
        else:
            post = forums.create_topic(mail.member, mail.board, mail.title, text,
                                       source="email", message_id=message_id,
                                       attachments=uploads, elided=mail.elided)
    except forums.TooFast as exc:
        return _defer(row, exc.message)
    except Conflict as exc:
        return _refused(row, mail, "duplicate" if exc.code == "duplicate" else "post",
                        exc.message, notify=exc.code != "duplicate")
    except HubError as exc:
        return _refused(row, mail, "post", exc.message, notify=True)
    finally:
        _posting.reset(token)
    if posting.held:
        _held_notice(row, mail, post)
    return row  # (its post_id names the post; reading it after commit would cost a query)


HELD_NOTICES_PER_HOUR = 10


def _held_notice(row: InboundMessage, mail: rules.Mail, post: Post) -> None:
    """Tell the author, once for this post, that it waits for a moderator."""
    topic = db.session.get(Topic, post.topic_id)
    if topic is None:
        return
    notices.send(row, mail, "listserv_held_notice", rule="held",
                 per_rule=HELD_NOTICES_PER_HOUR, topic=topic.title,
                 post_url=links.post_url(post, topic))
    db.session.commit()


def _moderation_notice(row: InboundMessage, mail: rules.Mail, *, done: bool,
                       outcome: str, post_url: str = "") -> None:
    """The answer to a moderator's reply: what was done, or why nothing was. A
    confirmation is not held back by the limits on notices: the token is the
    moderator's own and each post can be decided once."""
    notices.send(row, mail, "listserv_moderation", rule="moderation",
                 per_rule=MODERATION_NOTICES_PER_HOUR, limited=not done, done=done,
                 outcome=outcome, topic=mail.topic.title if mail.topic else "",
                 post_url=post_url, queue_url=moderation.queue_url())


def _moderate(row: InboundMessage, mail: rules.Mail, verdict: rules.Verdict
              ) -> InboundMessage:
    """Carry out "approve" / "reject <reason>" (of a held post, or of an edit waiting
    for approval) through the forums' services, which check access again, write the
    audit log and tell the author; the log row and the confirmation commit with the
    decision (or neither does)."""
    post, decision, moderator, edit = mail.held, mail.decision, mail.member, mail.held_edit
    assert post is not None and decision is not None and moderator is not None
    post_id = post.id
    edit_id = edit.id if edit is not None else None
    row.post_id = post_id
    author = post.author.name if post.author is not None else ""
    if edit is not None:
        author = edit.editor.name if edit.editor is not None else ""
    topic = mail.topic.title if mail.topic is not None else ""
    what = f"Edit {edit_id} of post {post_id}" if edit is not None else f"Post {post_id}"
    approve = decision.verb == moderation.APPROVE
    with force_locale(mail.language):
        if approve and edit is not None:
            done = _("You approved the edit by %(author)s in “%(topic)s”; the post now "
                     "shows the new text.", author=author, topic=topic)
        elif approve:
            done = _("You approved the post by %(author)s in “%(topic)s”; it is published "
                     "and goes out to the list.", author=author, topic=topic)
        elif edit is not None:
            done = _("You rejected the edit by %(author)s in “%(topic)s”; the post keeps "
                     "its published text. We emailed them your reason: %(reason)s",
                     author=author, topic=topic, reason=decision.reason)
        else:
            done = _("You rejected the post by %(author)s in “%(topic)s”. We emailed them "
                     "your reason: %(reason)s", author=author, topic=topic,
                     reason=decision.reason)
    if approve:
        reason = f"{what} approved by {moderator.email}."
    else:
        reason = f"{what} rejected by {moderator.email}: {decision.reason}"
    _finish(row, "moderated", verdict.rule, reason)  # commits with the decision
    try:
        if approve:
            _moderation_notice(row, mail, done=True, outcome=done,
                               post_url=links.post_url(post, mail.topic))
            if edit is not None:
                editing.approve_edit(moderator, edit)
            else:
                forum_moderation.approve_post(moderator, post)
        else:
            _moderation_notice(row, mail, done=True, outcome=done)
            if edit is not None:
                editing.reject_edit(moderator, edit, decision.reason)
            else:
                forum_moderation.reject_post(moderator, post, decision.reason)
    except HubError as exc:
        db.session.rollback()
        row = _restore(row)
        with force_locale(mail.language):
            if exc.code in {"not_held", "not_pending"}:  # decided on the web a moment ago
                why = (moderation.what_happened_edit(db.session.get(PostEdit, edit_id))
                       if edit_id is not None
                       else moderation.what_happened(db.session.get(Post, post_id)))
            elif exc.code == "not_moderator":
                why = moderation.not_moderator(mail.board)
            else:
                why = exc.message
        if not inspect(row).persistent:
            db.session.flush()  # the notice names the row
        _moderation_notice(row, mail, done=False, outcome=why)
        _finish(row, "rejected", "moderation", why)
        db.session.commit()
        return row
    log.info("inbound %s: %s", row.id, reason)
    return row


# The message being posted in this thread, for the listener below.
@dataclass
class _Posting:
    row: InboundMessage
    held: bool = False  # known before commit: reading the post after it costs a query


_posting: ContextVar[_Posting | None] = ContextVar("listserv_posting", default=None)


def on_post_pending(_sender: Any, event: Any, **_: Any) -> None:
    """Inside the posting transaction: the received message records its post, so the
    post and "posted" commit together (or neither does)."""
    posting = _posting.get()
    if posting is None or event.source != "email":
        return
    row = _keep(posting.row)
    row.post_id, row.topic_id = event.post_id, event.topic_id
    if event.status == "held":
        posting.held = True
        row.status = "held"
        row.reason = "Held for the moderators of the board."


def _refused(row: InboundMessage, mail: rules.Mail, rule: str, reason: str,
             notify: bool) -> InboundMessage:
    db.session.rollback()
    row = _restore(row)
    status = "discarded" if rule == "duplicate" else "rejected"
    if notify:
        db.session.flush()  # the notice names the row
        notices.send(row, mail, "listserv_refusal", rule=rule, reason=reason, code=rule)
    _finish(row, status, rule, reason)
    db.session.commit()
    return row


def _defer(row: InboundMessage, reason: str) -> InboundMessage:
    """Posting too fast: try again later rather than lose the message."""
    db.session.rollback()
    row = _restore(row)
    row.status = "received"
    row.reason = reason
    row.locked_at = clock.now()
    db.session.commit()
    return row


def sweep(limit: int = 50) -> int:
    """Process messages that were stored but never finished (a process died, or
    posting was deferred); the worker calls this every round."""
    now = clock.now()
    stale = now - STALE
    candidates = list(db.session.scalars(
        db.select(InboundMessage.id).where(
            InboundMessage.status.in_(["received", "processing"]),
            or_(InboundMessage.locked_at.is_(None), InboundMessage.locked_at < stale),
        ).order_by(InboundMessage.id).limit(limit)))
    done = 0
    for row_id in candidates:
        claimed = db.session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == row_id,
                   InboundMessage.status.in_(["received", "processing"]),
                   or_(InboundMessage.locked_at.is_(None), InboundMessage.locked_at < stale))
            .values(status="processing", locked_at=now, attempts=InboundMessage.attempts + 1)
        ).rowcount
        db.session.commit()
        if not claimed:
            continue
        row = db.session.get(InboundMessage, row_id)
        if row.attempts > MAX_ATTEMPTS:
            _finish(row, "quarantined", "error", f"Gave up after {MAX_ATTEMPTS} attempts.")
            db.session.commit()
            continue
        process(row)
        done += 1
    return done


def reprocess(row: InboundMessage) -> str:
    """The Secretariat's retry of a quarantined (or refused) message."""
    if row.status in {"posted", "held"}:
        raise Conflict(_("This message was posted already."))
    if row.status == "moderated":
        raise Conflict(_("This moderator's decision was carried out already."))
    row.status = "processing"
    row.locked_at = clock.now()
    row.attempts += 1
    row.post_id = None
    db.session.commit()
    return process(row)


def drop(row: InboundMessage) -> None:
    _finish(row, "dropped", row.rule or "secretariat", row.reason)
    db.session.commit()
