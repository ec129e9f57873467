"""The meetings' core services: reading (who may see what, the calendar and its
filters), creating and changing meetings (with their closed board and groups), the
co-organizers, agenda and documents, and electing a group's chairperson.

Every function owns its transaction and raises `hub.errors`; access is `hub.access` on
the meeting itself (seeing it: can_read; running it: can_moderate, which covers the
organizers, the Secretariat and the chair of the meeting's group). Imports `hub` and
`forums`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from forums import attachments, urls
from forums.models import Board
from hub import access, clock, countries, markup
from hub import services as hub_services
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.i18n import is_timezone
from hub.models import Group, GroupMembership, Member
from meetings.models import (
    KINDS,
    LEVELS,
    VISIBILITIES,
    AgendaItem,
    CoOrganizer,
    Meeting,
    MeetingDocument,
)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
RESERVED = frozenset({"new", "calendar", "feeds", "followup", "api", "static", "my",
                      "recommendations"})
KIND_LABELS = {
    "roundtable": _l("Roundtable"), "workshop": _l("Workshop"),
    "consultation": _l("Informal consultation"), "liaison": _l("Liaison group meeting"),
    "webinar": _l("Webinar"),
}
LEVEL_LABELS = {"national": _l("National"), "regional": _l("Regional"),
                "global": _l("Global")}


# -- reading ------------------------------------------------------------------------------

def can_manage(who: Any, meeting: Meeting) -> bool:
    """The organizers, the Secretariat and the chair of the meeting's group."""
    return access.can_moderate(who, meeting)


def can_see(who: Any, meeting: Meeting) -> bool:
    """Announced meetings to those its visibility admits; drafts to those who run it."""
    if meeting.announced_at is None:
        return can_manage(who, meeting)
    return access.can_read(who, meeting) or can_manage(who, meeting)


def get_meeting(who: Any, slug: str) -> Meeting:
    meeting = db.session.scalar(db.select(Meeting).where(Meeting.slug == slug))
    if meeting is None or not can_see(who, meeting):
        raise NotFound(str(_l("No such meeting.")))
    return meeting


def require_manager(who: Any, meeting: Meeting) -> Member:
    if not can_manage(who, meeting):
        raise Forbidden(str(_l("Only the meeting's organizers and the Secretariat can do "
                               "this.")), code="not_organizer")
    return who


def meeting_for_board(board_id: int) -> Meeting | None:
    return db.session.scalar(db.select(Meeting).where(Meeting.board_id == board_id))


def meeting_url(meeting: Meeting) -> str:
    return urls.absolute("meetings.detail", slug=meeting.slug)


def is_past(meeting: Meeting, now: datetime | None = None) -> bool:
    return clock.aware(meeting.ends_at) <= (now or clock.now())


def local(meeting: Meeting, value: datetime | None) -> datetime | None:
    """A UTC time in the meeting's own zone."""
    if value is None:
        return None
    return clock.aware(value).astimezone(ZoneInfo(meeting.timezone))


@dataclass(frozen=True)
class Filters:
    level: str = ""
    region: str = ""
    country: str = ""
    theme: str = ""  # thematic area slug
    kind: str = ""


def visible_condition(who: Any) -> Any:
    """`can_see` as SQL: announced and readable (hub.access's rules), or run by the viewer."""
    member = who if access.is_active_member(who) else None
    if member is None:
        return Meeting.announced_at.is_not(None) & (Meeting.visibility == "public")
    if access.is_secretariat(member):
        return db.true()
    ids = access.group_ids(member) or {-1}
    chaired = access.chaired_group_ids(member) or {-1}
    managed = or_(Meeting.moderator_group_id.in_(ids),
                  (Meeting.visibility == "group") & Meeting.group_id.in_(chaired))
    readable = Meeting.visibility.in_(["public", "members"]) | Meeting.group_id.in_(ids)
    return or_(managed, Meeting.announced_at.is_not(None) & readable)


def calendar(who: Any, filters: Filters = Filters(), *, past: bool = False,
             limit: int = 200, details: bool = False) -> list[Meeting]:
    """Upcoming (soonest first) or past (latest first) meetings the viewer may see;
    `details` loads what the API shows of each (partners, agenda, documents) at once."""
    from hub.models import ThematicArea

    now = clock.now()
    query = db.select(Meeting).where(visible_condition(who))
    query = query.where(Meeting.ends_at <= now) if past else query.where(Meeting.ends_at > now)
    if filters.level in LEVELS:
        query = query.where(Meeting.level == filters.level)
    if filters.kind in KINDS:
        query = query.where(Meeting.kind == filters.kind)
    if filters.region in countries.REGIONS:
        query = query.where(or_(Meeting.region == filters.region,
                                Meeting.country.in_(countries.countries_in_region(
                                    filters.region) or ["--"])))
    if filters.country:
        query = query.where(Meeting.country == filters.country.upper()[:2])
    if filters.theme:
        query = query.join(ThematicArea, ThematicArea.id == Meeting.thematic_area_id).where(
            ThematicArea.slug == filters.theme)
    order = Meeting.starts_at.desc() if past else Meeting.starts_at
    if details:
        query = query.options(
            selectinload(Meeting.organizers), selectinload(Meeting.agenda),
            selectinload(Meeting.documents), joinedload(Meeting.thematic_area),
            joinedload(Meeting.group), joinedload(Meeting.board))
    return list(db.session.scalars(query.order_by(order, Meeting.id).limit(limit)))


def in_country(who: Any, country: str) -> list[Meeting]:
    query = db.select(Meeting).where(visible_condition(who), Meeting.country == country,
                                     Meeting.announced_at.is_not(None))
    return list(db.session.scalars(query.order_by(Meeting.starts_at.desc()).limit(50)))


# -- creating and changing ----------------------------------------------------------------

@dataclass
class MeetingData:
    """What organizers set; `None` leaves a field unchanged on update. Times carry an
    offset (the forms convert from the meeting's zone)."""

    slug: str | None = None
    title: str | None = None
    kind: str | None = None
    level: str | None = None
    region: str | None = None
    country: str | None = None
    theme: str | None = None  # thematic area slug
    description: str | None = None
    timezone: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    venue: str | None = None
    online_url: str | None = None
    visibility: str | None = None
    group: str | None = None  # group slug for visibility "group"
    capacity: int | None = None
    clear_capacity: bool = False
    requires_approval: bool | None = None
    registration_open: bool | None = None
    submission_deadline: datetime | None = None
    clear_submission_deadline: bool = False
    discussion: bool | None = None  # a closed board for the participants
    announce: bool | None = None
    organizers: list[str] | None = None  # emails


def check_url(url: str | None, name: str) -> str:
    url = (url or "").strip()
    if url and not re.match(r"^https?://[^\s]+$", url):
        raise Invalid(str(_l("A link starts with http:// or https://.")), fields={name: "url"})
    return url[:500]


def _choice(value: str, allowed: Iterable[str], name: str) -> str:
    if value not in allowed:
        raise Invalid(str(_l("Choose one of the listed values.")), fields={name: "choice"})
    return value


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise Invalid(str(_l("Times need a time zone offset.")), fields={name: "naive"})
    return value


def _members(emails: Iterable[str], name: str) -> list[Member]:
    found = []
    for raw in emails:
        email = (raw or "").strip()
        if not email:
            continue
        member = hub_services.member_by_email(email)
        if member is None or not access.is_active_member(member):
            raise Invalid(str(_l("%(email)s is not an active member.", email=email)),
                          fields={name: "unknown"})
        if member not in found:
            found.append(member)
    return found


def _set_organizers(meeting: Meeting, members: list[Member]) -> None:
    wanted = {m.id for m in members}
    for link in db.session.scalars(db.select(GroupMembership).where(
            GroupMembership.group_id == meeting.moderator_group_id)):
        if link.member_id not in wanted:
            db.session.delete(link)
    for member in members:
        if db.session.get(GroupMembership, (meeting.moderator_group_id, member.id)) is None:
            db.session.add(GroupMembership(group_id=meeting.moderator_group_id,
                                           member_id=member.id))
    access.forget_groups()


def _apply(meeting: Meeting, data: MeetingData) -> None:
    if data.title is not None:
        title = " ".join(data.title.split())
        if not title:
            raise Invalid(str(_l("A title is required.")), fields={"title": "required"})
        meeting.title = title[:300]
    if data.kind is not None:
        meeting.kind = _choice(data.kind, KINDS, "kind")
    if data.level is not None:
        meeting.level = _choice(data.level, LEVELS, "level")
    if data.country is not None:
        code = data.country.strip().upper()
        if code and not countries.is_country(code):
            raise Invalid(str(_l("Choose a country from the list.")), fields={"country": "choice"})
        meeting.country = code or None
        if code and data.region is None:
            meeting.region = countries.region_of(code)
    if data.region is not None:
        region = data.region.strip()
        if region and region not in countries.REGIONS:
            raise Invalid(str(_l("Choose a region from the list.")), fields={"region": "choice"})
        meeting.region = region or None
    if data.theme is not None:
        meeting.thematic_area_id = hub_services.area_id_for(data.theme)
    if data.description is not None:
        meeting.description = data.description.strip()
        meeting.description_html = markup.render(meeting.description)
    if data.timezone is not None:
        if not is_timezone(data.timezone):
            raise Invalid(str(_l("Choose a time zone from the list.")),
                          fields={"timezone": "choice"})
        meeting.timezone = data.timezone
    moved = False
    for name in ("starts_at", "ends_at"):
        value = getattr(data, name)
        if value is not None:
            value = _aware(value, name)
            moved = moved or clock.aware(getattr(meeting, name, None)) != value
            setattr(meeting, name, value)
    if meeting.starts_at is None or meeting.ends_at is None:
        raise Invalid(str(_l("A meeting needs a start and an end.")),
                      fields={"starts_at": "required"})
    if clock.aware(meeting.ends_at) <= clock.aware(meeting.starts_at):
        raise Invalid(str(_l("The meeting must end after it starts.")),
                      fields={"ends_at": "order"})
    if data.venue is not None:
        moved = moved or data.venue.strip() != (meeting.venue or "")
        meeting.venue = data.venue.strip()[:300]
    if data.online_url is not None:
        url = check_url(data.online_url, "online_url")
        moved = moved or url != (meeting.online_url or "")
        meeting.online_url = url
    if data.visibility is not None:
        meeting.visibility = _choice(data.visibility, VISIBILITIES, "visibility")
    if data.group is not None:
        group = db.session.scalar(db.select(Group).where(Group.slug == data.group.strip()))
        if data.group.strip() and group is None:
            raise Invalid(str(_l("No group has that short name.")), fields={"group": "unknown"})
        meeting.group_id = group.id if group else None
    if meeting.visibility == "group" and meeting.group_id is None:
        raise Invalid(str(_l("A meeting for a group needs the group.")),
                      fields={"group": "required"})
    if data.capacity is not None:
        if data.capacity < 1:
            raise Invalid(str(_l("The capacity is a positive number.")),
                          fields={"capacity": "range"})
        meeting.capacity = data.capacity
    if data.clear_capacity:
        meeting.capacity = None
    if data.requires_approval is not None:
        meeting.requires_approval = bool(data.requires_approval)
    if data.registration_open is not None:
        meeting.registration_open = bool(data.registration_open)
    if data.submission_deadline is not None:
        meeting.submission_deadline = _aware(data.submission_deadline, "submission_deadline")
    if data.clear_submission_deadline:
        meeting.submission_deadline = None
    if data.organizers is not None:
        _set_organizers(meeting, _members(data.organizers, "organizers"))
    if data.announce is not None:
        if data.announce and meeting.announced_at is None:
            meeting.announced_at = clock.now()
        elif not data.announce:
            meeting.announced_at = None
    if moved and meeting.id is not None:
        meeting.sequence = (meeting.sequence or 0) + 1
    if data.discussion is not None:
        _set_discussion(meeting, bool(data.discussion))


def _set_discussion(meeting: Meeting, wanted: bool) -> None:
    """The participants' closed board (kind "meeting"); turning it off locks it, its
    archive is kept."""
    board = meeting.board
    if wanted and board is None:
        taken = db.session.scalar(db.select(Board.id).where(Board.slug == meeting.slug))
        if taken:
            raise Conflict(str(_l("A board already has this short name.")),
                           fields={"slug": "taken"})
        board = Board(slug=meeting.slug, name=meeting.title[:200], visibility="group",
                      group_id=meeting.participants_group_id,
                      moderator_group_id=meeting.moderator_group_id, posting="all",
                      kind="meeting", category="Meetings", position=0)
        db.session.add(board)
        db.session.flush()
        meeting.board = board
    elif board is not None:
        board.locked = not wanted
        board.name = meeting.title[:200]


def create_meeting(actor: Member, data: MeetingData) -> Meeting:
    """The Secretariat, or a group's chair for a meeting of their group."""
    slug = (data.slug or "").strip().lower()
    group = None
    if data.group:
        group = db.session.scalar(db.select(Group).where(Group.slug == data.group.strip()))
    if not (access.is_secretariat(actor)
            or (group is not None and access.is_chair(actor, group.id))):
        raise Forbidden(str(_l("Only the Secretariat and group chairs can create meetings.")))
    if not _SLUG.match(slug):
        raise Invalid(str(_l("A slug is 2 to 63 lower-case letters, digits or dashes.")),
                      fields={"slug": "format"})
    if slug in RESERVED:
        raise Invalid(str(_l("That slug is reserved; choose another.")),
                      fields={"slug": "reserved"})
    names = (f"{slug}-organizers"[:80], f"{slug}-participants"[:80])
    if (db.session.scalar(db.select(Meeting.id).where(Meeting.slug == slug))
            or db.session.scalar(db.select(Group.id).where(Group.slug.in_(names)))):
        raise Conflict(str(_l("That slug is taken.")), fields={"slug": "taken"})
    title = " ".join((data.title or "").split())
    if not title:
        raise Invalid(str(_l("A title is required.")), fields={"title": "required"})
    organizers = Group(slug=names[0], kind="meeting",
                       name=str(_l("Organizers: %(title)s", title=title))[:200])
    participants = Group(slug=names[1], kind="meeting",
                         name=str(_l("Participants: %(title)s", title=title))[:200])
    db.session.add_all([organizers, participants])
    db.session.flush()
    meeting = Meeting(slug=slug, title=title, moderator_group_id=organizers.id,
                      participants_group_id=participants.id, created_by_id=actor.id,
                      timezone="UTC")
    meeting.moderator_group, meeting.participants_group = organizers, participants
    data.organizers = data.organizers if data.organizers is not None else [actor.email]
    data.discussion = True if data.discussion is None else data.discussion
    data.announce = True if data.announce is None else data.announce
    with db.session.no_autoflush:
        _apply(meeting, data)
    db.session.add(meeting)
    hub_services.audit(actor, "meeting.create", meeting, slug)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(str(_l("That slug is taken.")), fields={"slug": "taken"}) from exc
    return meeting


def update_meeting(actor: Member, meeting: Meeting, data: MeetingData) -> Meeting:
    require_manager(actor, meeting)
    data.slug = None
    with db.session.no_autoflush:
        _apply(meeting, data)
    hub_services.audit(actor, "meeting.update", meeting, meeting.slug)
    db.session.commit()
    return meeting


def organizers(meeting: Meeting) -> list[Member]:
    return list(db.session.scalars(
        db.select(Member).join(GroupMembership, GroupMembership.member_id == Member.id)
        .where(GroupMembership.group_id == meeting.moderator_group_id).order_by(Member.name)))


def add_organizer(actor: Member, meeting: Meeting, name: str, url: str = "",
                  logo: attachments.Upload | None = None) -> CoOrganizer:
    require_manager(actor, meeting)
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(str(_l("The organization's name is required.")),
                      fields={"name": "required"})
    item = CoOrganizer(meeting_id=meeting.id, name=name[:200], url=check_url(url, "url"),
                       position=len(meeting.organizers) + 1)
    if logo is not None and logo.data:
        content_type = attachments.check_upload(logo)
        if content_type not in {"image/png", "image/jpeg"}:
            raise Invalid(str(_l("A logo is a PNG or JPEG image.")), fields={"logo": "type"})
        item.logo_sha256 = attachments.save_blob(logo.data)
        item.logo_type = content_type
    db.session.add(item)
    hub_services.audit(actor, "meeting.organizer", meeting, name)
    db.session.commit()
    return item


def _owned(model: Any, meeting: Meeting, item_id: int, missing: Any) -> Any:
    item = db.session.get(model, item_id)
    if item is None or item.meeting_id != meeting.id:
        raise NotFound(str(missing))
    return item


def remove_item(actor: Member, meeting: Meeting, what: str, item_id: int) -> None:
    """Remove a co-organizer, an agenda item or a document."""
    require_manager(actor, meeting)
    model, missing = {"organizer": (CoOrganizer, _l("No such organization.")),
                      "agenda": (AgendaItem, _l("No such agenda item.")),
                      "document": (MeetingDocument, _l("No such document."))}[what]
    item = _owned(model, meeting, item_id, missing)
    db.session.delete(item)
    hub_services.audit(actor, f"meeting.{what}.remove", meeting, str(item_id))
    db.session.commit()


def add_agenda_item(actor: Member, meeting: Meeting, title: str, description: str = "",
                    starts_at: datetime | None = None) -> AgendaItem:
    require_manager(actor, meeting)
    title = " ".join((title or "").split())
    if not title:
        raise Invalid(str(_l("A title is required.")), fields={"title": "required"})
    if starts_at is not None:
        _aware(starts_at, "starts_at")
    item = AgendaItem(meeting_id=meeting.id, title=title[:300],
                      description=(description or "").strip()[:2000], starts_at=starts_at,
                      position=len(meeting.agenda) + 1)
    db.session.add(item)
    db.session.commit()
    return item


def add_document(actor: Member, meeting: Meeting, title: str, language: str = "en",
                 url: str = "", upload: attachments.Upload | None = None) -> MeetingDocument:
    require_manager(actor, meeting)
    title = " ".join((title or "").split())
    if not title:
        raise Invalid(str(_l("A title is required.")), fields={"title": "required"})
    if language not in {"en", "es", "fr", "ar", "ru", "zh", "pt"}:
        raise Invalid(str(_l("Choose a language from the list.")), fields={"language": "choice"})
    document = MeetingDocument(meeting_id=meeting.id, title=title[:300], language=language,
                               url=check_url(url, "url"), position=len(meeting.documents) + 1)
    if upload is not None and upload.data:
        document.content_type = attachments.check_upload(upload)
        document.sha256 = attachments.save_blob(upload.data)
        document.filename = attachments.clean_filename(upload.filename)
        document.size = len(upload.data)
    elif not document.url:
        raise Invalid(str(_l("Give a link or attach a file.")), fields={"url": "required"})
    db.session.add(document)
    hub_services.audit(actor, "meeting.document", meeting, title)
    db.session.commit()
    return document


# -- chairs ---------------------------------------------------------------------------------

def on_group_chair_changed(sender: Any, event: Any, **_kw: Any) -> None:
    """The chair of a group runs its meetings: into their organizers (their boards)."""
    if event.member_id is None:
        return
    for meeting in db.session.scalars(db.select(Meeting).where(
            Meeting.group_id == event.group_id)):
        if db.session.get(GroupMembership, (meeting.moderator_group_id,
                                            event.member_id)) is None:
            db.session.add(GroupMembership(group_id=meeting.moderator_group_id,
                                           member_id=event.member_id))
    db.session.commit()
    access.forget_groups()
