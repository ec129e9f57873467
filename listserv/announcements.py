"""The Secretariat writes to the network: an announcement to all members, a group, a
country or a UN region. It is a topic on a board (Announcements, usually) started
through the forums' one posting path, so the web keeps it and the list machinery sends
it (headers, one-click unsubscribe, VERP bounces, retries); an `Announcement` row,
written in the post's own transaction, narrows the list mail to the audience.

Members' choices are respected: whoever set the board to "no email" gets nothing,
digest readers find it in their digest, paused delivery stays paused; a member who
never chose gets it as its own message (an announcement is meant to reach everyone).
Imports `hub`, `forums` and `listserv`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from forums import services as forums
from forums.models import Board, Post
from hub import access, countries
from hub.errors import Forbidden, Invalid
from hub.extensions import db
from hub.models import Group, GroupMembership, Member, MemberStatus
from listserv.models import AUDIENCES, Announcement

ANNOUNCEMENTS = "announcements"


@dataclass(frozen=True)
class AnnouncementForm:
    board: str
    subject: str
    body: str
    audience: str = "all"
    value: str = ""


def form_data(form: Mapping[str, str]) -> AnnouncementForm:
    audience = form.get("audience", "all")
    value = form.get(audience, "") if audience in {"group", "country", "region"} else ""
    return AnnouncementForm(board=form.get("board", ""), subject=form.get("subject", ""),
                            body=form.get("body", ""), audience=audience,
                            value=(value or "").strip())


def choices() -> dict[str, Any]:
    """What the form offers: the boards, groups, countries and regions."""
    boards = [b for b in db.session.scalars(db.select(Board).order_by(Board.position))
              if b.visibility != "group"]
    boards.sort(key=lambda b: b.slug != ANNOUNCEMENTS)
    groups = list(db.session.scalars(db.select(Group).order_by(Group.name)))
    return {"boards": boards, "groups": groups, "audiences": AUDIENCES,
            "countries": countries.country_choices(str(get_locale() or "en")),
            "regions": countries.region_choices()}


def _audience_filter(audience: str, value: str) -> Any:
    """A WHERE clause on Member for the audience."""
    if audience == "group":
        return Member.id.in_(select(GroupMembership.member_id).join(
            Group, Group.id == GroupMembership.group_id).where(Group.slug == value))
    if audience == "country":
        return Member.country == value.upper()
    if audience == "region":
        return Member.region == value
    return Member.id.is_not(None)


def _check(form: AnnouncementForm) -> Board:
    board = db.session.scalar(db.select(Board).where(Board.slug == form.board))
    if board is None:
        raise Invalid(_("Choose the board that keeps the announcement."))
    if form.audience not in AUDIENCES:
        raise Invalid(_("Choose who receives the announcement."))
    if form.audience == "group" and db.session.scalar(
            db.select(Group.id).where(Group.slug == form.value)) is None:
        raise Invalid(_("Choose a group."))
    if form.audience == "country" and not countries.is_country(form.value.upper()):
        raise Invalid(_("Choose a country."))
    if form.audience == "region" and form.value not in dict(countries.region_choices()):
        raise Invalid(_("Choose a region."))
    return board


def audience_size(form: AnnouncementForm, author: Member | None = None) -> int:
    """How many members the announcement is for (its author aside)."""
    board = db.session.scalar(db.select(Board).where(Board.slug == form.board))
    if board is None:
        return 0
    return len([m for m in audience_members(board, form.audience, form.value)
                if author is None or m.id != author.id])


def audience_members(board: Board, audience: str, value: str, limit: int | None = None
                     ) -> list[Member]:
    """Active members of the audience who may read the board (mail preferences aside);
    of the first `limit` by id, when given."""
    members = db.session.scalars(db.select(Member).where(
        Member.status == MemberStatus.ACTIVE, _audience_filter(audience, value))
        .order_by(Member.id).limit(limit))
    return [m for m in members if access.can_read(m, board)]


_sending: ContextVar[AnnouncementForm | None] = ContextVar("listserv_announcing",
                                                           default=None)


def send(actor: Member, form: AnnouncementForm) -> Post:
    """Post the announcement; list mail follows from the outbox like any post."""
    if not actor.is_secretariat:
        raise Forbidden(_("Only the Secretariat writes to the whole network."))
    board = _check(form)
    token = _sending.set(form)
    try:
        return forums.create_topic(actor, board, form.subject, form.body)
    finally:
        _sending.reset(token)


def on_post_pending(_sender: Any, event: Any, **_kw: Any) -> None:
    """Inside the posting transaction: the announcement's audience commits with it."""
    form = _sending.get()
    if form is None or db.session.get(Announcement, event.post_id) is not None:
        return
    value = form.value.upper() if form.audience == "country" else form.value
    db.session.add(Announcement(post_id=event.post_id, audience=form.audience, value=value))


def of_post(post_id: int) -> Announcement | None:
    return db.session.get(Announcement, post_id)


def in_audience(announcement: Announcement, member_ids: list[int]) -> set[int]:
    """Which of these members the announcement is for."""
    if announcement.audience == "all" or not member_ids:
        return set(member_ids)
    return set(db.session.scalars(db.select(Member.id).where(
        Member.id.in_(member_ids),
        _audience_filter(announcement.audience, announcement.value))))


def audience_label(announcement: Announcement) -> str:
    if announcement.audience == "group":
        group = db.session.scalar(db.select(Group).where(Group.slug == announcement.value))
        return _("Members of %(group)s", group=group.name if group else announcement.value)
    if announcement.audience == "country":
        return _("Members in %(country)s", country=countries.country_name(
            announcement.value, str(get_locale() or "en")))
    if announcement.audience == "region":
        return _("Members in %(region)s", region=dict(countries.region_choices()).get(
            announcement.value, announcement.value))
    return _("All members")
