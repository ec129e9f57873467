"""Moderation: held posts approved or rejected, flags, the moderators' queue, and
topics pinned, locked, moved or deleted.

Each action checks that its actor moderates the board (`require_moderator`, through
`hub.access`), commits on its own and then tells listeners (`hub.events`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, update

from forums import mentions
from forums.models import (
    Board,
    Flag,
    Post,
    PostEdit,
    Topic,
)
from forums.services import (
    can_see_post,
    lock_topic,
    moderated_boards,
    next_change,
    notify_mentions,
    post_event,
    publish_counts,
    require_moderator,
    signal_sender,
)
from hub import access, clock, events
from hub.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
)
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import Member, MemberStatus
from hub.services import audit


def _still_held(post: Post, topic: Topic) -> None:
    """Under the topic's lock, the post's status as committed: moderators deciding the
    same post at once (on the web and by email) cannot both succeed."""
    lock_topic(topic)
    db.session.refresh(post, ["status", "deleted_at"])
    if post.status != "held" or post.deleted_at is not None:
        raise Conflict(str(_l("This post is not waiting for approval.")), code="not_held")


def approve_post(moderator: Member, post: Post) -> Post:
    """Publish a held post: counters, mentions, `post_pending` in the transaction (the
    listserv adds its outbox rows), `post_published` after commit."""
    topic = post.topic
    board = topic.board
    require_moderator(moderator, board)
    _still_held(post, topic)
    post.status = "published"
    post.change_seq = post.published_seq = next_change(topic)
    now = clock.now()
    publish_counts(post, topic, board, now)
    audit(moderator, "post.approve", post, f"topic {topic.id}")
    notify_mentions(post, topic, board, mentions.resolve(post.body))
    app = signal_sender()
    db.session.flush()
    event = post_event(post, board.id)
    events.post_pending.send(app, event=event)
    db.session.commit()
    events.post_published.send(app, event=event)
    return post


def reject_post(moderator: Member, post: Post, reason: str) -> Post:
    """Refuse a held post; the author is emailed the reason and their text."""
    topic = post.topic
    board = topic.board
    require_moderator(moderator, board)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(str(_l("Please give the author a reason.")), fields={"reason": "required"})
    _still_held(post, topic)
    post.status = "rejected"
    post.change_seq = next_change(topic)
    post.reject_reason = reason[:2000]
    if post.position == 1:
        topic.status = "rejected"
    audit(moderator, "post.reject", post, reason)
    author = post.author
    if author is not None and author.status == MemberStatus.ACTIVE:
        send_mail(author.email, "forum_post_rejected", language=author.language,
                  name=author.name, member=author, topic=topic.title, board=board.name,
                  reason=reason, body=post.body)
    resolve_flags(moderator, post, "rejected")
    db.session.commit()
    events.post_rejected.send(signal_sender(), event=post_event(post, board.id))
    return post


def flag_post(member: Member, post: Post, reason: str) -> Flag:
    board = post.topic.board
    if not access.is_active_member(member) or not can_see_post(member, post, board):
        raise NotFound(str(_l("No such post.")))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(str(_l("Please say what is wrong with this post.")),
                      fields={"reason": "required"})
    existing = db.session.scalar(db.select(Flag).where(Flag.post_id == post.id,
                                                       Flag.member_id == member.id))
    if existing is not None and existing.resolved_at is None:
        raise Conflict(str(_l("You have reported this post already.")), code="flagged")
    if existing is not None:  # a new report after a moderator dismissed the last one
        existing.reason, existing.created_at = reason[:2000], clock.now()
        existing.resolved_at = existing.resolved_by_id = None
        existing.resolution = ""
        flag = existing
    else:
        flag = Flag(post_id=post.id, member_id=member.id, reason=reason[:2000])
        db.session.add(flag)
    db.session.commit()
    return flag


def resolve_flags(actor: Member, post: Post, resolution: str) -> int:
    result = db.session.execute(
        update(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
        .values(resolved_at=clock.now(), resolved_by_id=actor.id, resolution=resolution),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def dismiss_flags(moderator: Member, post: Post) -> int:
    board = post.topic.board
    require_moderator(moderator, board)
    count = resolve_flags(moderator, post, "dismissed")
    audit(moderator, "post.flags_dismiss", post, f"{count} reports")
    db.session.commit()
    return count


@dataclass
class QueueItem:
    post: Post
    flags: list[Flag]
    edit: PostEdit | None = None  # an edit of the published post waiting for approval


def _waiting(board_ids: list[int]) -> Any:
    """Posts on `board_ids` a moderator has to look at: held, reported, or with an edit
    waiting."""
    flagged = db.select(Flag.post_id).where(Flag.resolved_at.is_(None))
    edited = db.select(PostEdit.post_id).where(PostEdit.state == "pending")
    return (Topic.board_id.in_(board_ids), Post.deleted_at.is_(None),
            or_(Post.status == "held", Post.id.in_(flagged), Post.id.in_(edited)))


def moderation_queue(moderator: Member) -> list[QueueItem]:
    """Held posts, posts with open reports and posts with an edit waiting, oldest first,
    on boards `moderator` moderates."""
    board_ids = [b.id for b in moderated_boards(moderator)]
    if not board_ids:
        return []
    posts = db.session.scalars(
        db.select(Post).join(Topic, Post.topic_id == Topic.id)
        .where(*_waiting(board_ids))
        .order_by(Post.created_at, Post.id)
        .options(db.joinedload(Post.topic).joinedload(Topic.board),
                 db.joinedload(Post.author), db.selectinload(Post.attachments))
        .limit(500)
    ).unique().all()
    flags: dict[int, list[Flag]] = {}
    edits: dict[int, PostEdit] = {}
    if posts:
        ids = [p.id for p in posts]
        for flag in db.session.scalars(
                db.select(Flag).where(Flag.post_id.in_(ids), Flag.resolved_at.is_(None))
                .options(db.joinedload(Flag.member)).order_by(Flag.id)):
            flags.setdefault(flag.post_id, []).append(flag)
        for edit in db.session.scalars(
                db.select(PostEdit).where(PostEdit.post_id.in_(ids),
                                          PostEdit.state == "pending")
                .options(db.joinedload(PostEdit.editor)).order_by(PostEdit.id)):
            edits[edit.post_id] = edit
    return [QueueItem(p, flags.get(p.id, []), edits.get(p.id)) for p in posts]


def queue_size(moderator: Member) -> int:
    board_ids = [b.id for b in moderated_boards(moderator)]
    if not board_ids:
        return 0
    return db.session.scalar(
        db.select(func.count(Post.id)).join(Topic, Post.topic_id == Topic.id)
        .where(*_waiting(board_ids))) or 0


def _topic_changed(topic: Topic, action: str, from_board_id: int | None = None) -> None:
    events.topic_changed.send(signal_sender(), event=events.TopicEvent(
        topic_id=topic.id, board_id=topic.board_id, action=action,
        from_board_id=from_board_id))


def set_pinned(moderator: Member, topic: Topic, pinned: bool) -> Topic:
    require_moderator(moderator, topic.board)
    topic.pinned = bool(pinned)
    audit(moderator, "topic.pin" if pinned else "topic.unpin", topic, topic.title)
    db.session.commit()
    _topic_changed(topic, "pin" if pinned else "unpin")
    return topic


def set_locked(moderator: Member, topic: Topic, locked: bool) -> Topic:
    require_moderator(moderator, topic.board)
    return _apply_lock(moderator, topic, locked, topic.title)


def set_locked_by_system(topic: Topic, locked: bool, why: str) -> Topic:
    """Lock or unlock a topic for the hub itself (a conference's schedule when a round
    ends, say): no moderator to check, but the same path as theirs, so the change is
    audited (`why`, with no actor), commits whatever the caller has pending with it, and
    live readers and cached pages follow."""
    return _apply_lock(None, topic, locked, why)


def _apply_lock(actor: Member | None, topic: Topic, locked: bool, detail: str) -> Topic:
    topic.locked = bool(locked)
    audit(actor, "topic.lock" if locked else "topic.unlock", topic, detail)
    db.session.commit()
    _topic_changed(topic, "lock" if locked else "unlock")
    return topic


def move_topic(moderator: Member, topic: Topic, target: Board) -> Topic:
    """Move a topic to another board; the moderator must moderate both."""
    source = topic.board
    require_moderator(moderator, source)
    if target.visibility == "group" and not access.can_read(moderator, target):
        raise NotFound(str(_l("No such board.")))
    if not access.can_moderate(moderator, target):
        raise Forbidden(str(_l("You do not moderate the board you chose.")),
                        code="not_moderator")
    if target.id == source.id:
        return topic
    lock_topic(topic)
    if topic.status == "published" and topic.deleted_at is None:
        source.topic_count = Board.topic_count - 1
        target.topic_count = Board.topic_count + 1
        source.post_count = Board.post_count - topic.post_count
        target.post_count = Board.post_count + topic.post_count
        last = clock.aware(target.last_post_at)
        if last is None or last < clock.aware(topic.last_post_at):
            target.last_post_at = topic.last_post_at
    topic.board_id = target.id
    audit(moderator, "topic.move", topic, f"{source.slug} -> {target.slug}")
    db.session.commit()
    _topic_changed(topic, "move", from_board_id=source.id)
    return topic


def delete_topic(moderator: Member, topic: Topic) -> Topic:
    board = topic.board
    require_moderator(moderator, board)
    if topic.deleted_at is not None:
        raise Conflict(str(_l("This topic is deleted already.")))
    lock_topic(topic)
    topic.deleted_at = clock.now()
    if topic.status == "published":
        board.topic_count = Board.topic_count - 1
        board.post_count = Board.post_count - topic.post_count
    audit(moderator, "topic.delete", topic, topic.title)
    db.session.commit()
    _topic_changed(topic, "delete")
    return topic

