"""Joining means delivery: the network's defaults for new members (which boards they
follow by email, and how), applied when a member is approved, and the welcome mail
that says what they will receive and how to change it.

The defaults are the Secretariat's (`ListDefaults`, one row; until it is saved:
Announcements for every post and the boards of the member's thematic areas as a daily
digest). They apply only to members approved after they are set: a member who already
follows a board keeps their choice, and existing members are never changed. Listens to
`hub.events.member_approved`; imports `hub`, `forums` and `listserv`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from forums.forms import MODE_LABELS
from forums.models import Board, Subscription
from hub import access, clock
from hub.errors import Forbidden, Invalid
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import Member, MemberStatus
from listserv import addresses, links
from listserv.models import ListDefaults

DIGEST_MODES = ("each", "daily", "weekly")
ANNOUNCEMENTS = "announcements"


@dataclass(frozen=True)
class Defaults:
    board_ids: tuple[int, ...]
    board_mode: str
    thematic_mode: str  # "none": the thematic areas' boards are not added


def current() -> Defaults:
    row = db.session.get(ListDefaults, 1)
    if row is not None:
        return Defaults(tuple(row.board_ids or ()), row.board_mode, row.thematic_mode)
    announcements = db.session.scalar(db.select(Board.id).where(Board.slug == ANNOUNCEMENTS))
    return Defaults((announcements,) if announcements else (), "each", "daily")


def save(actor: Member, board_ids: list[int], board_mode: str, thematic_mode: str) -> None:
    """The Secretariat's new defaults, for members approved from now on."""
    if not actor.is_secretariat:
        raise Forbidden(_("Only the Secretariat can change the network's email defaults."))
    if board_mode not in DIGEST_MODES or thematic_mode not in (*DIGEST_MODES, "none"):
        raise Invalid(_("Choose every post, a daily or a weekly digest."))
    known = set(db.session.scalars(db.select(Board.id).where(Board.id.in_(board_ids))))
    row = db.session.get(ListDefaults, 1) or ListDefaults(id=1)
    row.board_ids = sorted(known)
    row.board_mode, row.thematic_mode = board_mode, thematic_mode
    row.updated_at, row.updated_by_id = clock.now(), actor.id
    db.session.add(row)
    db.session.commit()


def plan(member: Member, defaults: Defaults | None = None) -> list[tuple[Board, str]]:
    """The boards a new member would follow, and how: the chosen boards, then the boards
    of their thematic areas; only boards they may read."""
    defaults = defaults or current()
    chosen: dict[int, tuple[Board, str]] = {}
    if defaults.board_ids:
        for board in db.session.scalars(db.select(Board).where(
                Board.id.in_(defaults.board_ids)).order_by(Board.position, Board.name)):
            chosen[board.id] = (board, defaults.board_mode)
    areas = [a.id for a in member.expertise]
    if defaults.thematic_mode != "none" and areas:
        for board in db.session.scalars(db.select(Board).where(
                Board.thematic_area_id.in_(areas)).order_by(Board.position, Board.name)):
            chosen.setdefault(board.id, (board, defaults.thematic_mode))
    return [(b, mode) for b, mode in chosen.values()
            if not b.locked and access.can_read(member, b)]


def apply(member: Member) -> list[tuple[Board, str]]:
    """Follow the default boards (never changing a choice the member made); returns what
    is now followed because of it."""
    have = set(db.session.scalars(db.select(Subscription.board_id).where(
        Subscription.member_id == member.id, Subscription.board_id.is_not(None))))
    added = [(b, mode) for b, mode in plan(member) if b.id not in have]
    for board, mode in added:
        db.session.add(Subscription(member_id=member.id, board_id=board.id, mode=mode,
                                    created_at=clock.now()))
    try:
        db.session.flush()
    except IntegrityError:  # approved twice at once: the other one subscribed them
        db.session.rollback()
        return []
    return added


def on_member_approved(_sender: Any, event: Any, **_kw: Any) -> None:
    """After approval: the defaults at once, and the welcome mail in their language."""
    member = db.session.get(Member, event.member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        return
    access.forget_groups()
    added = apply(member)
    _welcome(member, added)
    db.session.commit()


def _welcome(member: Member, added: list[tuple[Board, str]]) -> None:
    language = member.language or "en"
    with force_locale(language):
        items = [{"name": b.name, "address": addresses.list_address(b.slug),
                  "request": addresses.request_address(b.slug), "mode": str(MODE_LABELS[m]),
                  "url": links.board_url(b)} for b, m in added]
    headers = {}
    if added:  # a reply with a command reaches the first list's command address
        headers["Reply-To"] = addresses.request_address(added[0][0].slug)
    send_mail(member.email, "list_welcome", language=language, name=member.name,
              headers=headers, member=member, items=items,
              settings_url=links.absolute("listserv.settings"),
              help_url=links.absolute("listserv.help"),
              forums_url=links.absolute("forums.index"))
