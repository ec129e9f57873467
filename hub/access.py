"""The access policy: who may read, post in and moderate a place, in one module.

A "place" is anything with board-shaped fields (a forum board, a conference's board):
`visibility` ("public" | "members" | "group"), `group_id`, `posting` ("all" |
"moderators"), `moderator_group_id`, `opens_at`, `closes_at`, `locked` (and, when present,
`summaries_after_close`: moderators' summaries are still taken after closing). Conference rules
reach boards through these fields, so this module imports no feature package. A group's
elected chairperson (`GroupChair`) moderates the places whose group it is (the group's
board, its meetings).
Every page, API endpoint, search, feed, socket join, digest and email uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from flask import g, has_app_context
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l

from hub import clock
from hub.extensions import db
from hub.models import GroupChair, GroupMembership, Member, MemberStatus, Role


class Place(Protocol):
    id: Any
    visibility: str
    group_id: int | None
    posting: str
    moderator_group_id: int | None
    opens_at: datetime | None
    closes_at: datetime | None
    locked: bool


@dataclass(frozen=True)
class Decision:
    ok: bool
    code: str = "ok"
    message: str = ""

    def __bool__(self) -> bool:
        return self.ok


ALLOWED = Decision(True)


def _member(who: Any) -> Member | None:
    """Accepts a Member, flask-login's anonymous user or None."""
    if isinstance(who, Member) and who.status == MemberStatus.ACTIVE:
        return who
    return None


def group_ids(member: Member | None) -> frozenset[int]:
    """The groups a member belongs to; cached for the request (one query)."""
    if member is None:
        return frozenset()
    cache: dict[int, frozenset[int]] | None = None
    if has_app_context():
        cache = g.setdefault("_hub_group_ids", {})
        if member.id in cache:
            return cache[member.id]
    ids = frozenset(
        db.session.scalars(
            db.select(GroupMembership.group_id).where(GroupMembership.member_id == member.id)
        )
    )
    if cache is not None:
        cache[member.id] = ids
    return ids


def forget_groups() -> None:
    """Drop the request's cached group ids after a membership change."""
    if has_app_context():
        g.pop("_hub_group_ids", None)
        g.pop("_hub_chaired_ids", None)


def managed_group_ids(member: Member | None) -> frozenset[int]:
    if member is None:
        return frozenset()
    return frozenset(
        db.session.scalars(
            db.select(GroupMembership.group_id).where(
                GroupMembership.member_id == member.id, GroupMembership.is_manager.is_(True)
            )
        )
    )


def chaired_group_ids(member: Member | None) -> frozenset[int]:
    """The groups whose elected chairperson this member is; cached for the request."""
    if member is None:
        return frozenset()
    cache: dict[int, frozenset[int]] | None = None
    if has_app_context():
        cache = g.setdefault("_hub_chaired_ids", {})
        if member.id in cache:
            return cache[member.id]
    ids = frozenset(db.session.scalars(
        db.select(GroupChair.group_id).where(GroupChair.member_id == member.id)))
    if cache is not None:
        cache[member.id] = ids
    return ids


def is_chair(who: Any, group_id: int | None) -> bool:
    m = _member(who)
    return m is not None and group_id is not None and group_id in chaired_group_ids(m)


def is_secretariat(who: Any) -> bool:
    m = _member(who)
    return m is not None and m.role == Role.SECRETARIAT


def is_active_member(who: Any) -> bool:
    return _member(who) is not None


def can_moderate(who: Any, place: Place) -> bool:
    m = _member(who)
    if m is None:
        return False
    if m.role == Role.SECRETARIAT:
        return True
    # A group's elected chair moderates the group's places (its board, its meetings).
    if place.visibility == "group" and is_chair(m, place.group_id):
        return True
    if place.moderator_group_id is not None:
        return place.moderator_group_id in group_ids(m)
    # Network moderators look after the open boards; closed places name their own.
    return m.role == Role.MODERATOR and place.visibility != "group"


def can_see(who: Any, place: Place) -> bool:
    """Whether the place's existence may be shown (group places are invisible to others)."""
    return can_read(who, place)


def can_read(who: Any, place: Place) -> bool:
    if place.visibility == "public":
        return True
    m = _member(who)
    if m is None:
        return False
    if place.visibility == "members":
        return True
    if m.role == Role.SECRETARIAT:
        return True
    ids = group_ids(m)
    if place.group_id is not None and place.group_id in ids:
        return True
    return place.moderator_group_id is not None and place.moderator_group_id in ids


def check_post(who: Any, place: Place, now: datetime | None = None,
               kind: str = "post") -> Decision:
    """May `who` start a topic or reply here now (a post of `kind`: "post" or "summary")?
    The refusal says why, for people."""
    m = _member(who)
    if m is None:
        return Decision(False, "login_required", str(_l("Please sign in to take part.")))
    if not can_read(m, place):
        return Decision(False, "no_access", str(_l("You do not have access to this place.")))
    moderator = can_moderate(m, place)
    if getattr(place, "locked", False) and not moderator:
        return Decision(False, "locked", str(_l("This discussion is locked.")))
    if place.posting == "moderators" and not moderator:
        return Decision(
            False, "moderators_only", str(_l("Only moderators can post on this board."))
        )
    now = now or clock.now()
    opens, closes = clock.aware(place.opens_at), clock.aware(place.closes_at)
    if opens is not None and now < opens:
        when = format_datetime(opens, "full")
        return Decision(
            False, "not_open", str(_l("This discussion opens on %(when)s.", when=when))
        )
    if closes is not None and now >= closes:
        if kind == "summary" and moderator and getattr(place, "summaries_after_close", False):
            return ALLOWED
        when = format_datetime(closes, "full")
        return Decision(
            False, "closed", str(_l("This discussion closed on %(when)s.", when=when))
        )
    return ALLOWED


def can_post(who: Any, place: Place, now: datetime | None = None, kind: str = "post") -> bool:
    return check_post(who, place, now, kind).ok


def readable(who: Any, places: list[Any]) -> list[Any]:
    return [p for p in places if can_read(who, p)]


def can_manage_group(who: Any, group_id: int) -> bool:
    m = _member(who)
    if m is None:
        return False
    return m.role == Role.SECRETARIAT or group_id in managed_group_ids(m)


def can_view_member(who: Any, member: Member) -> bool:
    """The directory and profiles are for members; the Secretariat sees everyone."""
    viewer = _member(who)
    if viewer is None:
        return False
    if viewer.role == Role.SECRETARIAT or viewer.id == member.id:
        return True
    return member.status == MemberStatus.ACTIVE


def can_see_email(who: Any, member: Member) -> bool:
    viewer = _member(who)
    if viewer is None:
        return False
    return member.show_email or viewer.id == member.id or viewer.role == Role.SECRETARIAT


# -- registry records ----------------------------------------------------------------------
# A record is anything with `owner_id` and `state` ("draft" | "submitted" | "published").
# Published records are public; drafts and records waiting for review are seen by their
# owner and the Secretariat only.

class Entry(Protocol):
    owner_id: int | None
    state: str


def can_submit_record(who: Any) -> bool:
    """Active members submit records (and import them)."""
    return _member(who) is not None


def focal_point_countries(who: Any) -> frozenset[str]:
    """The countries a member is a national focal point of (named by the Secretariat);
    cached for the request (lists check every record)."""
    m = _member(who)
    if m is None:
        return frozenset()
    from hub.registry.models import FocalPoint

    cache: dict[int, frozenset[str]] | None = None
    if has_app_context():
        cache = g.setdefault("_hub_focal_points", {})
        if m.id in cache:
            return cache[m.id]
    found = frozenset(db.session.scalars(
        db.select(FocalPoint.country).where(FocalPoint.member_id == m.id)))
    if cache is not None:
        cache[m.id] = found
    return found


def forget_focal_points() -> None:
    """Drop the request's cached focal points after the Secretariat changes them."""
    if has_app_context():
        g.pop("_hub_focal_points", None)


def is_focal_point(who: Any, country: str | None) -> bool:
    return bool(country) and country in focal_point_countries(who)


def _speaks_for(who: Any, record: Entry) -> bool:
    """A country's needs are its focal points' as much as their owner's."""
    return getattr(record, "kind", "") == "needs" and is_focal_point(
        who, getattr(record, "country", None))


def can_read_record(who: Any, record: Entry) -> bool:
    if record.state == "published":
        return True
    m = _member(who)
    if m is None:
        return False
    return m.role == Role.SECRETARIAT or (record.owner_id is not None
                                          and record.owner_id == m.id) or _speaks_for(m, record)


def can_edit_record(who: Any, record: Entry) -> bool:
    """Owners edit their own records; the Secretariat edits any; a country's focal points
    edit its needs."""
    m = _member(who)
    if m is None:
        return False
    return m.role == Role.SECRETARIAT or (record.owner_id is not None
                                          and record.owner_id == m.id) or _speaks_for(m, record)


def can_publish_record(who: Any, record: Entry | None = None) -> bool:
    """The Secretariat reviews, publishes and returns records; a country's focal points
    publish (and return) its needs."""
    if is_secretariat(who):
        return True
    return record is not None and _speaks_for(who, record)


def can_name_focal_points(who: Any) -> bool:
    """National focal points are named by the Secretariat."""
    return is_secretariat(who)


def can_see_contact_details(who: Any) -> bool:
    """Contacts' email addresses and phone numbers are for members, not for crawlers."""
    return _member(who) is not None


def readable_records(who: Any, model: Any) -> Any:
    """`can_read_record` as an SQL condition on a record model, for lists and searches."""
    from sqlalchemy import or_, true

    m = _member(who)
    if m is not None and m.role == Role.SECRETARIAT:
        return true()
    if m is None:
        return model.state == "published"
    return or_(model.state == "published", model.owner_id == m.id)
