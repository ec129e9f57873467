"""Subscriptions: a member's delivery mode for a board or a topic (each post, a daily
or weekly digest, none) and who receives what."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError

from forums.models import (
    MODES,
    Board,
    Subscription,
    Topic,
)
from forums.services import ensure_visible
from hub import access
from hub.errors import (
    Forbidden,
    Invalid,
)
from hub.extensions import db
from hub.models import GroupMembership, Member, MemberStatus, Role


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise Invalid(str(_l("The mode is each, daily, weekly or none.")),
                      fields={"mode": "choice"})
    return mode


def _upsert_subscription(member: Member, mode: str, *, board_id: int | None = None,
                         topic_id: int | None = None) -> Subscription:
    query = db.select(Subscription).where(Subscription.member_id == member.id)
    query = query.where(Subscription.board_id == board_id) if board_id else query.where(
        Subscription.topic_id == topic_id)
    sub = db.session.scalar(query)
    if sub is None:
        sub = Subscription(member_id=member.id, board_id=board_id, topic_id=topic_id, mode=mode)
        db.session.add(sub)
    else:
        sub.mode = mode
    try:
        db.session.commit()
    except IntegrityError:  # the same member, twice at once: the other request won
        db.session.rollback()
        sub = db.session.scalar(query)
        sub.mode = mode
        db.session.commit()
    return sub


def set_subscription(member: Member, board: Board, mode: str) -> Subscription:
    """How `member` follows `board`: each post, a daily or weekly digest, or none."""
    if not access.is_active_member(member):
        raise Forbidden(str(_l("Please sign in to take part.")), code="login_required")
    ensure_visible(member, board)
    return _upsert_subscription(member, _check_mode(mode), board_id=board.id)


def set_topic_subscription(member: Member, topic: Topic, mode: str) -> Subscription:
    """Watch a topic (`each`), or mute it (`none`) on a board one follows."""
    if not access.is_active_member(member):
        raise Forbidden(str(_l("Please sign in to take part.")), code="login_required")
    ensure_visible(member, topic.board)
    return _upsert_subscription(member, _check_mode(mode), topic_id=topic.id)


def subscription_mode(member: Any, *, board: Board | None = None,
                      topic: Topic | None = None) -> str:
    if not access.is_active_member(member):
        return "none"
    query = db.select(Subscription.mode).where(Subscription.member_id == member.id)
    if board is not None:
        query = query.where(Subscription.board_id == board.id)
    else:
        query = query.where(Subscription.topic_id == topic.id)
    return db.session.scalar(query) or "none"


def _subscribers(where: Any, place: Board, limit: int | None = None) -> list[Member]:
    query = (db.select(Member).join(Subscription, Subscription.member_id == Member.id)
             .where(where, Member.status == MemberStatus.ACTIVE).order_by(Member.id)
             .limit(limit))
    if place.visibility == "group":  # narrow in SQL; hub.access has the last word below
        groups = [g for g in (place.group_id, place.moderator_group_id) if g]
        query = query.where(or_(
            Member.role == Role.SECRETARIAT,
            Member.id.in_(db.select(GroupMembership.member_id)
                          .where(GroupMembership.group_id.in_(groups)))))
    return [m for m in db.session.scalars(query) if access.can_read(m, place)]


def board_subscribers(board: Board, mode: str, limit: int | None = None) -> list[Member]:
    """Members following `board` with `mode` who may read it now (of the first `limit`
    by id, when given)."""
    return _subscribers((Subscription.board_id == board.id) & (Subscription.mode == mode),
                        board, limit)


def topic_subscribers(topic: Topic, mode: str = "each", limit: int | None = None
                      ) -> list[Member]:
    """Members watching (`each`) or muting (`none`) `topic` who may read its board."""
    return _subscribers((Subscription.topic_id == topic.id) & (Subscription.mode == mode),
                        topic.board, limit)

