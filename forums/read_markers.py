"""Read markers: what a member has read, per topic and per board, and what is new to
them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l

from forums.models import (
    Board,
    BoardRead,
    Post,
    Topic,
    TopicRead,
)
from forums.services import advance_read_marker, ensure_visible
from hub import access, clock
from hub.errors import (
    Forbidden,
)
from hub.extensions import db
from hub.models import Member


def mark_topic_read(member: Member, topic: Topic, up_to_post_id: int | None = None) -> None:
    """Record that `member` has read `topic` up to a post (the newest by default).
    Called by the page's read beacon and the "mark as read" button, never on a GET."""
    if not access.is_active_member(member):
        raise Forbidden(str(_l("Please sign in to take part.")), code="login_required")
    ensure_visible(member, topic.board)
    newest = topic.last_post_id or 0
    target = newest if up_to_post_id is None else min(max(int(up_to_post_id), 0), newest)
    if target <= 0:
        return
    advance_read_marker(member.id, topic.id, target)
    db.session.commit()


def mark_board_read(member: Member, board: Board) -> None:
    if not access.is_active_member(member):
        raise Forbidden(str(_l("Please sign in to take part.")), code="login_required")
    ensure_visible(member, board)
    row = db.session.get(BoardRead, (member.id, board.id))
    if row is None:
        db.session.add(BoardRead(member_id=member.id, board_id=board.id, read_at=clock.now()))
    else:
        row.read_at = clock.now()
    db.session.commit()


def unread_topic_ids(member: Any, topics: Sequence[Topic]) -> set[int]:
    """Which of `topics` have published posts `member` has not seen (two queries)."""
    if not topics or not access.is_active_member(member):
        return set()
    ids = [t.id for t in topics]
    seen = dict(db.session.execute(
        db.select(TopicRead.topic_id, TopicRead.last_post_id)
        .where(TopicRead.member_id == member.id, TopicRead.topic_id.in_(ids))).all())
    board_ids = {t.board_id for t in topics}
    marks = dict(db.session.execute(
        db.select(BoardRead.board_id, BoardRead.read_at)
        .where(BoardRead.member_id == member.id, BoardRead.board_id.in_(board_ids))).all())
    # Activity from before someone joined is not "new" to them.
    joined = clock.aware(member.approved_at or member.created_at)
    unread = set()
    for topic in topics:
        if topic.last_post_id is None:
            continue
        since = max([d for d in (joined, clock.aware(marks.get(topic.board_id))) if d],
                    default=None)
        if since is not None and clock.aware(topic.last_post_at) <= since:
            continue
        if topic.last_post_id > seen.get(topic.id, 0):
            unread.add(topic.id)
    return unread


def first_unread_post(member: Member, topic: Topic) -> Post | None:
    seen = db.session.scalar(db.select(TopicRead.last_post_id).where(
        TopicRead.member_id == member.id, TopicRead.topic_id == topic.id)) or 0
    return db.session.scalar(
        db.select(Post).where(Post.topic_id == topic.id, Post.id > seen,
                              Post.status == "published", Post.deleted_at.is_(None))
        .order_by(Post.position).limit(1))

