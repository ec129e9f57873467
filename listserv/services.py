"""List mail out: the outbox, the fan-out and the per-(post, member) deliveries, plus
the member-facing services (one-click unsubscribe, delivery on/off) and the
Secretariat's retry and drop.

The flow, crash-safe at every step:

1. `post_pending` (inside the post's transaction): an `Outbox` row and a
   `listserv.fanout` job. If the post's transaction rolls back, neither exists.
2. `listserv.fanout` (worker): one `Delivery` row per subscriber who may read the post,
   and `listserv.deliver` jobs for disjoint ranges of them, each step in one commit:
   first the first few recipients' rows and their job (so the first copies leave at
   once), then a second `listserv.fanout` job, queued behind it, adds everyone else.
3. `listserv.deliver` (any worker; claimed with FOR UPDATE SKIP LOCKED by `hub.jobs`):
   re-checks access and subscription at send time, sends each copy over one reused SMTP
   connection, and commits each delivery as sent right after the server accepted it
   (on its own connection, while the server reads the next copy's MAIL command, so
   always before that copy's end of data: `listserv.sender`).
   A killed worker leaves its job to be claimed again after the lease; rows already sent
   are skipped. Temporary refusals back off per recipient; repeated failures end as
   "failed" for the Secretariat to retry or drop.

Imports `hub`, `forums` and `listserv`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, update

from forums import subscriptions
from forums.models import Board, Post, Subscription, Topic
from hub import access, clock, content, events, jobs
from hub.errors import HubError, NotFound
from hub.extensions import db
from hub.mailer import HeaderInjection, open_transport
from hub.models import Member, MemberStatus
from listserv import addresses, announcements, bounces, links, sender
from listserv.models import Delivery, Outbox
from listserv.outbound import PostMail, PreparedPost, Reader
from listserv.sender import Records, smtp_of

log = logging.getLogger(__name__)

CHUNK = 500  # deliveries per job: one SMTP connection each, spread over workers
HEAD_START = 50  # recipients of a post's first delivery job, sent before the rest is known
MAX_DELIVERY_ATTEMPTS = 6
BACKOFF_MINUTES = (1, 5, 30, 120, 360)
MAX_REFERENCES = 20  # the first post and the nearest ancestors


# -- message ids -------------------------------------------------------------------------------

def default_message_id(post_id: int) -> str:
    """The Message-ID listserv gives a post that did not arrive by email: stable, ours."""
    key = current_app.config["SECRET_KEY"].encode()
    tag = hmac.new(key, f"post-message-id:{post_id}".encode(), hashlib.sha256).hexdigest()[:10]
    return f"<post-{post_id}.{tag}@{addresses.domain()}>"


def message_id_of(post: Post) -> str:
    return post.message_id or default_message_id(post.id)


# -- the outbox (inside the post's transaction) ------------------------------------------------

def on_post_pending(_sender: Any, event: events.PostEvent, **_: Any) -> None:
    """Listener: runs inside the posting transaction, so the outbox commits with the post."""
    post = db.session.get(Post, event.post_id)
    if post is None:
        return
    if post.message_id is None:
        post.message_id = default_message_id(post.id)
    if event.status != "published" or db.session.get(Outbox, post.id) is not None:
        return
    db.session.add(Outbox(post_id=post.id, created_at=clock.now()))
    jobs.enqueue("listserv.fanout", {"post_id": post.id})


# -- recipients --------------------------------------------------------------------------------

def recipients(post: Post, topic: Topic, board: Board, limit: int | None = None
               ) -> list[Member]:
    """Who gets this post now: `each` on the board or the topic, not muted on the topic,
    allowed to read (checked by forums through hub.access), not the author, mail on.
    With `limit`, only some of the first: a head start, never the whole list."""
    announcement = announcements.of_post(post.id)
    if announcement is not None:
        return _announcement_recipients(post, topic, board, announcement, limit)
    chosen = {m.id: m for m in subscriptions.board_subscribers(board, "each", limit)}
    for m in subscriptions.topic_subscribers(topic, "each", limit):
        chosen[m.id] = m
    muted = {m.id for m in subscriptions.topic_subscribers(topic, "none")}
    return [m for mid, m in sorted(chosen.items())
            if mid not in muted and mid != post.author_id and not m.delivery_disabled]


def _announcement_recipients(post: Post, topic: Topic, board: Board, announcement: Any,
                             limit: int | None) -> list[Member]:
    """The audience, minus those who chose a digest or no email for the board (or muted
    the topic): an announcement goes to members who never chose, too."""
    members = announcements.audience_members(board, announcement.audience,
                                             announcement.value, limit)
    modes = _modes([m.id for m in members], board.id, topic.id, default="each")
    return [m for m in members if m.id != post.author_id and not m.delivery_disabled
            and modes[m.id][0] == "each" and modes[m.id][1] != "none"]


def _modes(member_ids: list[int], board_id: int, topic_id: int, default: str = "none"
           ) -> dict[int, tuple[str, str]]:
    """(board mode, topic mode) per member, read at send time; `default` for a member
    with no choice for the board."""
    found: dict[int, list[str]] = {mid: [default, ""] for mid in member_ids}
    rows = db.session.execute(
        db.select(Subscription.member_id, Subscription.board_id, Subscription.mode)
        .where(Subscription.member_id.in_(member_ids),
               (Subscription.board_id == board_id) | (Subscription.topic_id == topic_id)))
    for member_id, sub_board_id, mode in rows:
        found[member_id][0 if sub_board_id is not None else 1] = mode
    return {mid: (modes[0], modes[1]) for mid, modes in found.items()}


def _still_wanted(member: Member | None, board: Board, modes: tuple[str, str]) -> str | None:
    """Why a copy should not go after all (None: send it)."""
    if member is None or member.status != MemberStatus.ACTIVE:
        return "The member is no longer active."
    if member.delivery_disabled:
        return "Delivery is off for this member (bounces)."
    if not access.can_read(member, board):
        return "The member may no longer read this board."
    board_mode, topic_mode = modes
    if topic_mode == "none" or (board_mode != "each" and topic_mode != "each"):
        return "The member no longer follows this by email."
    return None


# -- the fan-out job ---------------------------------------------------------------------------

@jobs.handler("listserv.fanout")
def fan_out(payload: dict[str, Any]) -> None:
    """In two steps, so the first copies leave at once whatever the list's size: first
    the post's first HEAD_START recipients (by member id) and their delivery
    job, then, as a job of its own queued behind that one, everyone (rows that exist
    already are kept). Each step commits its rows and jobs together."""
    post_id = int(payload["post_id"])
    head_start = not payload.get("rest")
    post = db.session.get(Post, post_id)
    outbox = db.session.get(Outbox, post_id)
    now = clock.now()
    if post is None or post.status != "published" or post.deleted_at is not None:
        if outbox is not None:
            outbox.fanned_out_at = now
        db.session.commit()
        return
    topic = db.session.get(Topic, post.topic_id)
    board = db.session.get(Board, topic.board_id)
    members = recipients(post, topic, board, HEAD_START if head_start else None)
    _add_deliveries(post_id, [m.id for m in members], now)
    if head_start:
        jobs.enqueue("listserv.fanout", {"post_id": post_id, "rest": True})
    elif outbox is not None:
        outbox.fanned_out_at = now
        outbox.recipients = len(members)
    db.session.commit()


def _add_deliveries(post_id: int, member_ids: list[int], now: Any) -> None:
    """A pending delivery for each member who has none for the post yet, and the jobs
    that send them, HUB_LIST_CHUNK each (in the current transaction)."""
    have = set(db.session.scalars(db.select(Delivery.member_id)
                                  .where(Delivery.post_id == post_id)))
    new = [mid for mid in member_ids if mid not in have]
    if not new:
        return
    before = db.session.scalar(db.select(func.max(Delivery.id))) or 0
    db.session.execute(insert(_DELIVERY), [
        {"post_id": post_id, "member_id": mid, "status": "pending", "attempts": 0,
         "last_error": "", "created_at": now} for mid in new])
    ids = list(db.session.scalars(
        db.select(Delivery.id).where(Delivery.post_id == post_id, Delivery.id > before)
        .order_by(Delivery.id)))
    size = int(current_app.config.get("HUB_LIST_CHUNK", CHUNK))
    for start in range(0, len(ids), size):
        chunk = ids[start:start + size]
        jobs.enqueue("listserv.deliver",
                     {"post_id": post_id, "first": chunk[0], "last": chunk[-1]})


# -- building ----------------------------------------------------------------------------------

def post_mail(post: Post, topic: Topic, board: Board) -> PostMail:
    first = post if post.position == 1 else db.session.scalar(
        db.select(Post).where(Post.topic_id == topic.id, Post.position == 1))
    parent = db.session.get(Post, post.parent_id) if post.parent_id else None
    in_reply_to = None
    references: list[str] = []
    if post.id != (first.id if first else post.id):
        # The whole chain from the first post down to the parent (the ids of posts that
        # arrived by email are theirs), so mail clients thread all of the discussion.
        chain: list[Post] = []
        seen = {post.id}
        node = parent
        while node is not None and node.id not in seen and len(chain) < MAX_REFERENCES:
            chain.append(node)
            seen.add(node.id)
            node = db.session.get(Post, node.parent_id) if node.parent_id else None
        chain.reverse()
        if first is not None and (not chain or chain[0].id != first.id):
            chain.insert(0, first)
        references = [message_id_of(p) for p in chain]
        in_reply_to = references[-1] if references else None
    author = db.session.get(Member, post.author_id) if post.author_id else None
    return PostMail(
        post_id=post.id, board_id=board.id, board_slug=board.slug, board_name=board.name,
        topic_title=topic.title, is_reply=post.position != 1,
        author_name=author.name if author else "A member",
        message_id=message_id_of(post), in_reply_to=in_reply_to,
        references=tuple(references), date=clock.aware(post.created_at),
        text=post.body, html=post.html,
        post_url=links.post_url(post, topic), reply_url=links.reply_url(post, topic),
        archive_url=links.board_url(board), help_url=links.absolute("listserv.help"),
        settings_url=links.absolute("listserv.settings"),
        unsubscribe_base=links.absolute("listserv.unsubscribe", token="T")[:-1],
        base_url=current_app.config["HUB_BASE_URL"],
        attachments=tuple((a.filename, links.absolute("forums.attachment", attachment_id=a.id,
                                                      filename=a.filename))
                          for a in post.attachments),
        board_names=content.names_by_language(board, "name"),
    )


# -- the delivery job --------------------------------------------------------------------------

@dataclass
class _Row:
    id: int
    member_id: int
    attempts: int


def _mark(row_id: int, **values: Any) -> None:
    db.session.execute(update(Delivery).where(Delivery.id == row_id).values(**values),
                       execution_options={"synchronize_session": False})


_DELIVERY = Delivery.__table__

def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1])


def _smtp_code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return codes[0] if codes else None
    return getattr(exc, "smtp_code", None)


@jobs.handler("listserv.deliver")
def deliver(payload: dict[str, Any]) -> None:
    post_id, first, last = int(payload["post_id"]), int(payload["first"]), int(payload["last"])
    access.forget_groups()  # memberships may have changed since the post: decide afresh
    now = clock.now()
    in_range = (Delivery.post_id == post_id) & Delivery.id.between(first, last) & \
        (Delivery.status == "pending")
    post = db.session.get(Post, post_id)
    if post is None or post.status != "published" or post.deleted_at is not None:
        db.session.execute(update(Delivery).where(in_range).values(
            status="skipped", last_error="The post was withdrawn before it was sent."))
        db.session.commit()
        return
    topic = db.session.get(Topic, post.topic_id)
    board = db.session.get(Board, topic.board_id)
    due = in_range & ((Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now))
    rows = [_Row(*r) for r in db.session.execute(
        db.select(Delivery.id, Delivery.member_id, Delivery.attempts).where(due)
        .order_by(Delivery.id))]
    if rows:
        try:
            prepared = PreparedPost(post_mail(post, topic, board))
        except HeaderInjection as exc:
            raise jobs.PermanentError(f"post {post_id}: {exc}") from exc
        _send_rows(rows, prepared, board, topic)
    later = db.session.scalar(db.select(func.min(Delivery.next_attempt_at)).where(in_range))
    if later is not None:
        jobs.enqueue("listserv.deliver", payload,
                     delay=max(clock.aware(later) - clock.now(), timedelta()))
    db.session.commit()


@dataclass(frozen=True)
class _Copy:
    row: _Row
    reader: Reader


def _plan(rows: list[_Row], board: Board, topic: Topic, post_id: int) -> list[_Copy]:
    """Who still gets a copy, decided now (access, subscription, mail on), as plain data
    for the send loop."""
    ids = [r.member_id for r in rows]
    members = {m.id: m for m in db.session.scalars(db.select(Member).where(Member.id.in_(ids)))}
    announcement = announcements.of_post(post_id)
    modes = _modes(ids, board.id, topic.id, default="each" if announcement else "none")
    audience = (announcements.in_audience(announcement, ids) if announcement is not None
                else set(ids))
    copies: list[_Copy] = []
    for row in rows:
        member = members.get(row.member_id)
        why_not = _still_wanted(member, board, modes.get(row.member_id, ("none", "")))
        if why_not is None and row.member_id not in audience:
            why_not = "The member is no longer in the announcement's audience."
        if why_not is not None:
            _mark(row.id, status="skipped", last_error=why_not)
            continue
        assert member is not None
        can_post = access.can_post(member, board) and (
            not topic.locked or access.can_moderate(member, board))
        copies.append(_Copy(row, Reader(member_id=member.id, email=member.email,
                                        name=member.name, language=member.language or "en",
                                        can_post=can_post)))
    db.session.commit()
    return copies


def _send_rows(rows: list[_Row], prepared: PreparedPost, board: Board, topic: Topic) -> None:
    slug = board.slug
    copies = _plan(rows, board, topic, prepared.mail.post_id)
    records = Records(db.engine, _DELIVERY)
    try:
        with open_transport() as transport:
            smtp = smtp_of(transport)
            for copy in copies:
                row, reader = copy.row, copy.reader
                try:
                    data = prepared.copy_for(reader)
                    envelope = addresses.bounce_address(slug, reader.member_id)
                    if smtp is not None:
                        sender.send(smtp, envelope, reader.email, data, records.during_mail,
                                    records.settle)
                    else:
                        records.settle()
                        transport.send_bytes(envelope, [reader.email], data)
                except HeaderInjection as exc:
                    records.write(*_outcome(row.id, status="failed", attempts=row.attempts + 1,
                                            last_error=f"Refused to build the message: {exc}"))
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                        smtplib.SMTPSenderRefused) as exc:
                    _failed(records, row, reader.member_id, exc)
                else:
                    records.sent(row.id, clock.now())
    finally:
        records.close()


def _outcome(row_id: int, **values: Any) -> tuple[Any, dict[str, Any]]:
    return update(_DELIVERY).where(_DELIVERY.c.id == row_id).values(**values), {}


def _failed(records: Records, row: _Row, member_id: int, exc: Exception) -> None:
    code = _smtp_code(exc) or 451
    attempts = row.attempts + 1
    text = f"{code} {exc}"[:2000]
    if code >= 500:
        records.write(*_outcome(row.id, status="failed", attempts=attempts, last_error=text))
        member = db.session.get(Member, member_id)
        if member is not None:
            bounces.record(member, "hard", f"SMTP refused: {text}")
            db.session.commit()
    elif attempts >= MAX_DELIVERY_ATTEMPTS:
        records.write(*_outcome(row.id, status="failed", attempts=attempts,
                                last_error=f"Gave up after {attempts} attempts: {text}"))
    else:
        records.write(*_outcome(row.id, attempts=attempts, last_error=text,
                                next_attempt_at=clock.now() + _backoff(attempts)))


# -- retry and drop (the Secretariat) ----------------------------------------------------------

def retry_delivery(delivery: Delivery) -> None:
    if delivery.status not in {"failed", "skipped"}:
        return
    delivery.status = "pending"
    delivery.next_attempt_at = None
    jobs.enqueue("listserv.deliver", {"post_id": delivery.post_id, "first": delivery.id,
                                      "last": delivery.id})
    db.session.commit()


def drop_delivery(delivery: Delivery) -> None:
    if delivery.status in {"failed", "pending"}:
        delivery.status = "dropped"
        db.session.commit()


# -- members ------------------------------------------------------------------------------------

def stop_digests(member: Member) -> None:
    """Every board the member reads in a digest: no email any more."""
    db.session.execute(update(Subscription).where(
        Subscription.member_id == member.id, Subscription.board_id.is_not(None),
        Subscription.mode.in_(["daily", "weekly"])).values(mode="none"))
    db.session.commit()


def unsubscribe_by_token(token: str) -> tuple[Member, Board | None]:
    """RFC 8058 one-click unsubscribe: no login, the token names member and board."""
    parsed = addresses.parse_unsubscribe_token(token)
    member = db.session.get(Member, parsed[0]) if parsed else None
    if member is not None and parsed[1] == 0:  # a digest's link: stop every digest
        return member, stop_digests(member)
    board = db.session.get(Board, parsed[1]) if parsed else None
    if member is None or board is None:
        raise NotFound("This unsubscribe link is not valid.")
    try:
        subscriptions.set_subscription(member, board, "none")
    except HubError:
        # No longer active, or no longer allowed to read the board: no list mail goes to
        # them anyway; the link still says it worked, and the row is set to "none".
        db.session.rollback()
        sub = db.session.scalar(db.select(Subscription).where(
            Subscription.member_id == member.id, Subscription.board_id == board.id))
        if sub is not None:
            sub.mode = "none"
            db.session.commit()
    return member, board


def set_delivery(member: Member, enabled: bool) -> None:
    if enabled:
        bounces.enable(member)
    else:
        member.delivery_disabled = True
    db.session.commit()
