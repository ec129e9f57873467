"""The conferences' services: creating and changing conferences (and their board and
groups), the computed lifecycle, registrations and invitations, rounds, moderation
helpers and statistics.

Every function owns its transaction and raises `hub.errors`; access is `hub.access` on the
conference's board (moderating the board is managing the conference). Posting, approving,
pinning and locking go through the forums' services, the one posting path. Imports `hub`
and `forums`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError

from conferences import times
from conferences.models import (
    APPROVED,
    DECLINED,
    INVITED,
    PENDING,
    REMOVED,
    WITHDRAWN,
    Conference,
    Document,
    Partner,
    Registration,
    Round,
)
from forums import services as forums
from forums import urls
from forums.models import Board, Post, Subscription, Topic
from hub import access, clock, content, countries, links, markup
from hub import services as hub_services
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import Group, GroupMembership, Member, MemberStatus, Role

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
RESERVED = frozenset({"new", "static", "api", "topics", "posts", "files", "moderation",
                      "manage", "registry"})

# The computed lifecycle (and its end when the Secretariat calls a conference off).
DRAFT, ANNOUNCED, REGISTRATION_OPEN, IN_SESSION, CLOSED, PUBLISHED, CANCELLED = (
    "draft", "announced", "registration_open", "in_session", "closed", "published",
    "cancelled")
STATUSES = (DRAFT, ANNOUNCED, REGISTRATION_OPEN, IN_SESSION, CLOSED, PUBLISHED, CANCELLED)
STATUS_LABELS = {
    DRAFT: _l("Draft (not announced)"),
    ANNOUNCED: _l("Announced"),
    REGISTRATION_OPEN: _l("Registration open"),
    IN_SESSION: _l("In session"),
    CLOSED: _l("Closed"),
    PUBLISHED: _l("Proceedings published"),
    CANCELLED: _l("Cancelled"),
}
ARCHIVE_CHOICES = ("closed", "members", "public")


# -- reading --------------------------------------------------------------------------------

def _published(conference: Conference) -> bool:
    from conferences.models import Proceedings

    return db.session.scalar(
        db.select(Proceedings.id).where(Proceedings.conference_id == conference.id,
                                        Proceedings.published_at.is_not(None))) is not None


def status(conference: Conference, now: datetime | None = None,
           published: bool | None = None) -> str:
    """Where the conference is in its life, from the schedule and the clock alone (or
    cancelled, whatever the clock says)."""
    if conference.cancelled_at is not None:
        return CANCELLED
    now = now or clock.now()
    if not _announced(conference, now):
        return DRAFT
    if now < clock.aware(conference.registration_opens_at) and \
            now < clock.aware(conference.opens_at):
        return ANNOUNCED
    if now < clock.aware(conference.opens_at):
        return REGISTRATION_OPEN
    if now < clock.aware(conference.closes_at):
        return IN_SESSION
    if published if published is not None else _published(conference):
        return PUBLISHED
    return CLOSED


def _announced(conference: Conference, now: datetime) -> bool:
    announced = clock.aware(conference.announced_at)
    return announced is not None and announced <= now


def registration_is_open(conference: Conference, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return (status(conference, now, published=False) not in {DRAFT, CLOSED, CANCELLED}
            and clock.aware(conference.registration_opens_at) <= now
            < clock.aware(conference.registration_deadline))


def current_rounds(conference: Conference, now: datetime | None = None) -> list[Round]:
    now = now or clock.now()
    return [r for r in conference.rounds
            if clock.aware(r.opens_at) <= now < clock.aware(r.closes_at)]


def can_manage(who: Any, conference: Conference) -> bool:
    """The conference's moderators and the Secretariat (moderating its board)."""
    return access.can_moderate(who, conference.board)


def can_see(who: Any, conference: Conference) -> bool:
    """The public page: everyone once announced (cancelled too: it says why); drafts only
    to those who run it."""
    return _announced(conference, clock.now()) or can_manage(who, conference)


def can_take_part(who: Any, conference: Conference) -> bool:
    """May read the discussion (hub.access on the board)."""
    return access.can_read(who, conference.board)


def get_conference(who: Any, slug: str) -> Conference:
    conference = db.session.scalar(db.select(Conference).where(Conference.slug == slug))
    if conference is None or not can_see(who, conference):
        raise NotFound(str(_l("No such e-conference.")))
    return conference


def require_manager(who: Any, conference: Conference) -> Member:
    if not can_manage(who, conference):
        if not access.can_read(who, conference.board):
            raise NotFound(str(_l("No such e-conference.")))
        raise Forbidden(str(_l("Only the conference's moderators and the Secretariat can do "
                               "this.")), code="not_moderator")
    return who


def refuse_if_cancelled(conference: Conference) -> None:
    if conference.cancelled_at is not None:
        raise Conflict(str(_l("This e-conference was cancelled.")), code="cancelled")


def require_participant(who: Any, conference: Conference) -> None:
    """Closed things are invisible to outsiders: 404, never 403."""
    if not can_take_part(who, conference):
        raise NotFound(str(_l("No such e-conference discussion.")))


def visible_conferences(who: Any) -> list[Conference]:
    rows = db.session.scalars(
        db.select(Conference).options(db.joinedload(Conference.board))
        .order_by(Conference.opens_at.desc(), Conference.id.desc()))
    return [c for c in rows if can_see(who, c)]


def published_ids(conferences: Sequence[Conference]) -> set[int]:
    from conferences.models import Proceedings

    if not conferences:
        return set()
    return set(db.session.scalars(
        db.select(Proceedings.conference_id).where(
            Proceedings.conference_id.in_([c.id for c in conferences]),
            Proceedings.published_at.is_not(None))))


@dataclass
class Listing:
    upcoming: list[tuple[Conference, str]] = field(default_factory=list)
    in_session: list[tuple[Conference, str]] = field(default_factory=list)
    past: list[tuple[Conference, str]] = field(default_factory=list)
    drafts: list[tuple[Conference, str]] = field(default_factory=list)


def listing(who: Any) -> Listing:
    rows = visible_conferences(who)
    done = published_ids(rows)
    now = clock.now()
    result = Listing()
    for conference in rows:
        state = status(conference, now, published=conference.id in done)
        bucket = {DRAFT: result.drafts, ANNOUNCED: result.upcoming,
                  REGISTRATION_OPEN: result.upcoming, IN_SESSION: result.in_session
                  }.get(state, result.past)
        bucket.append((conference, state))
    result.upcoming.reverse()  # soonest first
    return result


def moderators(conference: Conference) -> list[Member]:
    return list(db.session.scalars(
        db.select(Member).join(GroupMembership, GroupMembership.member_id == Member.id)
        .where(GroupMembership.group_id == conference.moderators_group_id)
        .order_by(Member.name)))


def registration_of(who: Any, conference: Conference) -> Registration | None:
    if not access.is_active_member(who) and not isinstance(who, Member):
        return None
    return db.session.scalar(db.select(Registration).where(
        Registration.conference_id == conference.id, Registration.member_id == who.id))


def conference_for_board(board_id: int) -> Conference | None:
    return db.session.scalar(db.select(Conference).where(Conference.board_id == board_id))


# -- creating and changing --------------------------------------------------------------------

@dataclass
class ConferenceData:
    """What the Secretariat sets; on update `None` leaves a field unchanged."""

    slug: str | None = None
    title: str | None = None
    theme: str | None = None
    description: str | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    clear_registration_closes_at: bool = False
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    premoderated: bool | None = None
    auto_approve: bool | None = None
    moderators: list[str] | None = None  # emails; the first is the lead unless named
    lead_moderator: str | None = None  # email
    contact_name: str | None = None
    contact_email: str | None = None
    thematic_area: str | None = None  # slug; "" clears
    keywords: str | None = None
    announce: bool | None = None  # True: announced now; False: back to draft
    # {"es": {"title": ..., "theme": ..., "description": ...}}; None leaves them
    translations: dict[str, dict[str, str]] | None = None
    source_lang: str | None = None
    countries: list[str] | None = None  # ISO codes it is held in or about


def _required_text(value: str | None, name: str, limit: int, missing: Any) -> str:
    """A text someone must give (stripped), of at most `limit` characters."""
    text = (value or "").strip()
    if not text:
        raise Invalid(str(missing), fields={name: "required"})
    if len(text) > limit:
        raise Invalid(str(_l("That is too long (at most %(n)d characters).", n=limit)),
                      fields={name: "too_long"})
    return text


def _members_by_email(emails: Iterable[str], name: str) -> list[Member]:
    found: list[Member] = []
    unknown: list[str] = []
    for raw in emails:
        if not isinstance(raw, str):
            raise Invalid(str(_l("Give email addresses.")), fields={name: "type"})
        member = hub_services.member_by_email(raw.strip())
        if member is None or member.status != MemberStatus.ACTIVE:
            unknown.append(raw.strip())
        elif member not in found:
            found.append(member)
    if unknown:
        raise Invalid(str(_l("These addresses are not active members: %(list)s",
                             list=", ".join(unknown))), fields={name: "unknown"})
    return found


def _check_schedule(conference: Conference) -> None:
    reg_open = clock.aware(conference.registration_opens_at)
    opens, closes = clock.aware(conference.opens_at), clock.aware(conference.closes_at)
    reg_close = clock.aware(conference.registration_closes_at)
    if opens is None or closes is None or reg_open is None:
        raise Invalid(str(_l("The registration opening, the opening and the closing times "
                             "are required.")), fields={"opens_at": "required"})
    if closes <= opens:
        raise Invalid(str(_l("The conference must close after it opens.")),
                      fields={"closes_at": "order"})
    if reg_open > opens:
        raise Invalid(str(_l("Registration must open before the conference opens.")),
                      fields={"registration_opens_at": "order"})
    if reg_close is not None and not reg_open < reg_close <= closes:
        raise Invalid(str(_l("Registration must close after it opens and no later than the "
                             "conference closes.")), fields={"registration_closes_at": "order"})
    for r in conference.rounds:
        if clock.aware(r.opens_at) < opens or clock.aware(r.closes_at) > closes:
            raise Invalid(str(_l("Round %(n)d (%(title)s) would fall outside the conference; "
                                 "move it first.", n=r.number, title=r.title)),
                          fields={"closes_at": "rounds"})


def _set_moderators(conference: Conference, members: list[Member], lead: Member | None) -> None:
    group_id = conference.moderators_group_id
    wanted = {m.id for m in members}
    for link in db.session.scalars(db.select(GroupMembership).where(
            GroupMembership.group_id == group_id)):
        if link.member_id not in wanted:
            db.session.delete(link)
    for member in members:
        if db.session.get(GroupMembership, (group_id, member.id)) is None:
            db.session.add(GroupMembership(group_id=group_id, member_id=member.id))
    conference.lead_moderator_id = (lead or members[0]).id if members else None
    access.forget_groups()


def _apply(conference: Conference, board: Board, data: ConferenceData) -> None:
    if data.title is not None:
        title = " ".join(data.title.split())
        if not title:
            raise Invalid(str(_l("A title is required.")), fields={"title": "required"})
        conference.title = title[:300]
        board.name = title[:200]
    if data.theme is not None:
        conference.theme = data.theme.strip()[:300]
        board.description = conference.theme
    if data.description is not None:
        conference.description = data.description.strip()
        conference.description_html = markup.render(conference.description)
    if data.translations is not None or data.source_lang is not None:
        content.set_translations(conference, data.translations or {}, data.source_lang)
        # The discussion board carries the title and theme: the same versions.
        content.set_translations(board, {
            lang: {"name": v.get("title", ""), "description": v.get("theme", "")}
            for lang, v in ((lang, (conference.translations or {}).get(lang, {}))
                            for lang in content.LANGUAGES)}, conference.source_lang)
    for name in ("registration_opens_at", "opens_at", "closes_at", "registration_closes_at"):
        value = getattr(data, name)
        if value is not None:
            if value.tzinfo is None:
                raise Invalid(str(_l("Times need a time zone offset.")), fields={name: "naive"})
            setattr(conference, name, value)
    if data.clear_registration_closes_at:
        conference.registration_closes_at = None
    _check_schedule(conference)
    board.opens_at, board.closes_at = conference.opens_at, conference.closes_at
    if data.premoderated is not None:
        board.premoderated = bool(data.premoderated)
    if data.auto_approve is not None:
        conference.auto_approve = bool(data.auto_approve)
    if data.contact_name is not None:
        conference.contact_name = data.contact_name.strip()[:200]
    if data.contact_email is not None:
        conference.contact_email = (hub_services.normalize_email(data.contact_email)
                                    if data.contact_email.strip() else "")
    if data.keywords is not None:
        conference.keywords = ", ".join(
            k.strip() for k in data.keywords.split(",") if k.strip())[:500]
    if data.thematic_area is not None:
        board.thematic_area_id = hub_services.area_id_for(data.thematic_area)
    if data.countries is not None:
        wrong = [str(c)[:10] for c in data.countries if not countries.is_country(str(c))]
        if wrong:
            raise Invalid(str(_l("Not a country code: %(codes)s (use ISO codes such as KE).",
                                 codes=", ".join(wrong))), fields={"countries": "choice"})
        conference.countries = list(dict.fromkeys(str(c).upper() for c in data.countries))
    if data.moderators is not None or data.lead_moderator is not None:
        members = (_members_by_email(data.moderators, "moderators")
                   if data.moderators is not None else moderators(conference))
        lead = None
        if data.lead_moderator:
            lead = _members_by_email([data.lead_moderator], "lead_moderator")[0]
            if lead not in members:
                members.insert(0, lead)
        elif data.moderators is None and conference.lead_moderator is not None:
            lead = conference.lead_moderator
        _set_moderators(conference, members, lead)
    if data.announce is not None:
        if data.announce and conference.announced_at is None:
            conference.announced_at = clock.now()
        elif not data.announce:
            conference.announced_at = None
    if clock.aware(conference.closes_at) > clock.now():
        conference.schedule_done = False  # reopened or moved: the schedule watches again


def create_conference(actor: Member, data: ConferenceData) -> Conference:
    """A conference with its closed board, participants group and moderators group."""
    if not access.is_secretariat(actor):
        raise Forbidden(str(_l("Only the Secretariat can create e-conferences.")))
    slug = (data.slug or "").strip().lower()
    if not _SLUG.match(slug):
        raise Invalid(str(_l("A slug is 2 to 63 lower-case letters, digits or dashes.")),
                      fields={"slug": "format"})
    if slug in RESERVED:
        raise Invalid(str(_l("That slug is reserved; choose another.")),
                      fields={"slug": "reserved"})
    group_slugs = (f"{slug}-participants"[:80], f"{slug}-moderators"[:80])
    taken = (db.session.scalar(db.select(Conference.id).where(Conference.slug == slug))
             or db.session.scalar(db.select(Board.id).where(Board.slug == slug))
             or db.session.scalar(db.select(Group.id).where(Group.slug.in_(group_slugs))))
    if taken:
        raise Conflict(str(_l("That slug is taken.")), fields={"slug": "taken"})
    if not data.title or not data.title.strip():
        raise Invalid(str(_l("A title is required.")), fields={"title": "required"})
    title = " ".join(data.title.split())
    participants = Group(slug=group_slugs[0], kind="conference",
                         name=str(_l("Participants: %(title)s", title=title))[:200])
    moderators_group = Group(slug=group_slugs[1], kind="conference",
                             name=str(_l("Moderators: %(title)s", title=title))[:200])
    db.session.add_all([participants, moderators_group])
    db.session.flush()
    board = Board(slug=slug, name=title[:200], description="", visibility="group",
                  group_id=participants.id, moderator_group_id=moderators_group.id,
                  posting="all", kind="conference", category="E-conferences",
                  premoderated=bool(data.premoderated), position=0,
                  summaries_after_close=True)  # until the proceedings are published
    db.session.add(board)
    db.session.flush()
    conference = Conference(slug=slug, title=title, board_id=board.id,
                            participants_group_id=participants.id,
                            moderators_group_id=moderators_group.id, created_by_id=actor.id,
                            auto_approve=bool(data.auto_approve))
    conference.board = board
    conference.participants_group = participants
    conference.moderators_group = moderators_group
    data.announce = True if data.announce is None else data.announce
    data.moderators = data.moderators or []
    _apply(conference, board, data)
    db.session.add(conference)
    hub_services.audit(actor, "conference.create", conference, slug)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(str(_l("That slug is taken.")), fields={"slug": "taken"}) from exc
    return conference


def update_conference(actor: Member, conference: Conference, data: ConferenceData) -> Conference:
    """Change details and schedule. The Secretariat changes everything; the moderators
    change the content and the dates but not who moderates or whether it is announced."""
    require_manager(actor, conference)
    if not access.is_secretariat(actor) and (data.moderators is not None
                                             or data.lead_moderator is not None
                                             or data.announce is not None):
        raise Forbidden(str(_l("Only the Secretariat can change the moderators or announce "
                               "a conference.")))
    refuse_if_cancelled(conference)  # its board's window and lock stay as cancelling left them
    _apply(conference, conference.board, data)
    hub_services.audit(actor, "conference.update", conference, conference.slug)
    db.session.commit()
    return conference


def set_archive(actor: Member, conference: Conference, visibility: str) -> Conference:
    """Open the discussion's archive to members or to everyone, or close it again.
    Posting stays refused: the board's window has ended."""
    if not access.is_secretariat(actor):
        raise Forbidden(str(_l("Only the Secretariat can open a conference's archive.")))
    if visibility not in ARCHIVE_CHOICES:
        raise Invalid(str(_l("The archive is closed, members or public.")),
                      fields={"archive": "choice"})
    if visibility != "closed" and clock.now() < clock.aware(conference.closes_at) \
            and conference.cancelled_at is None:
        raise Conflict(str(_l("The archive can be opened once the conference has closed.")),
                       code="not_closed")
    board = conference.board
    board.visibility = "group" if visibility == "closed" else visibility
    board.group_id = conference.participants_group_id  # kept for closing it again
    hub_services.audit(actor, "conference.archive", conference, visibility)
    db.session.commit()
    return conference


def archive_state(conference: Conference) -> str:
    return "closed" if conference.board.visibility == "group" else conference.board.visibility


# -- cancelling and deleting -------------------------------------------------------------------

def _concerned(conference: Conference) -> list[Member]:
    """Who hears that a conference is cancelled: its registrants (waiting, invited or
    approved), participants and moderators, each once."""
    registrants = db.select(Registration.member_id).where(
        Registration.conference_id == conference.id,
        Registration.status.in_([PENDING, INVITED, APPROVED]))
    in_groups = db.select(GroupMembership.member_id).where(GroupMembership.group_id.in_(
        [conference.participants_group_id, conference.moderators_group_id]))
    return list(db.session.scalars(
        db.select(Member).where(or_(Member.id.in_(registrants), Member.id.in_(in_groups)))
        .order_by(Member.id)))


def lock_row(conference: Conference) -> None:
    """The conference's row lock (PostgreSQL), taken by cancelling and by the schedule
    before it announces, so a worker never announces a conference being cancelled."""
    db.session.execute(db.select(Conference.id).where(Conference.id == conference.id)
                       .with_for_update())


def cancellation_refusal(conference: Conference) -> str | None:
    """Why the conference can no longer be cancelled, or None."""
    if conference.cancelled_at is not None:
        return str(_l("This e-conference was cancelled."))
    if clock.now() >= clock.aware(conference.closes_at):
        return str(_l("This e-conference has closed; it can no longer be cancelled."))
    return None


def cancel_conference(actor: Member, conference: Conference, reason: str) -> Conference:
    """Call off a conference that has not closed (the Secretariat): everyone concerned is
    emailed the reason in their language, registration closes, the board is locked and
    its window ends now, the schedule stops. Its page and the list say it was cancelled
    and why."""
    if not access.is_secretariat(actor):
        raise Forbidden(str(_l("Only the Secretariat can cancel an e-conference.")))
    reason = _required_text(reason, "reason", 2000,
                            _l("Please give the reason; everyone concerned receives it."))
    lock_row(conference)
    db.session.refresh(conference)
    refuse_if_cancelled(conference)
    refusal = cancellation_refusal(conference)
    if refusal:
        raise Conflict(refusal, code="closed")
    now = clock.now()
    conference.cancelled_at = now
    conference.cancel_reason = reason
    conference.schedule_done = True
    board = conference.board
    board.locked = True  # for everyone: the window ends now too, for the moderators
    board.summaries_after_close = False
    if board.closes_at is None or clock.aware(board.closes_at) > now:
        board.closes_at = now
    for item in conference.rounds:
        item.auto_locked = item.topic_id is not None
    for member in _concerned(conference):
        _mail(member, "conference_cancelled", conference, reason=reason)
    hub_services.audit(actor, "conference.cancel", conference, reason)
    db.session.commit()
    # Readers with one of its topics open see it locked (the forums' lock, topic by topic).
    open_topics = db.session.scalars(db.select(Topic).where(
        Topic.board_id == conference.board_id, Topic.locked.is_(False),
        Topic.deleted_at.is_(None)).order_by(Topic.id)).all()
    for topic in open_topics:
        forums.set_locked_by_system(topic, True, f"conference {conference.slug}: cancelled")
    return conference


def deletion_refusal(conference: Conference) -> str | None:
    """Why the conference may not be deleted, or None: only a mistake goes (one that
    never opened, or where nobody has posted: the rounds' questions do not count)."""
    from conferences.models import Proceedings

    if db.session.scalar(db.select(Proceedings.id).where(
            Proceedings.conference_id == conference.id,
            Proceedings.published_at.is_not(None))) is not None:
        return str(_l("Its proceedings are published; it can no longer be deleted."))
    questions = [r.topic_id for r in conference.rounds if r.topic_id]
    posted = (db.select(Post.id).join(Topic, Post.topic_id == Topic.id)
              .where(Topic.board_id == conference.board_id))
    if questions:
        posted = posted.where(~(Post.topic_id.in_(questions) & (Post.position == 1)))
    if db.session.scalar(posted.limit(1)) is not None:
        return str(_l("People have posted in it; cancel it instead, or keep it."))
    return None


def delete_conference(actor: Member, conference: Conference) -> None:
    """Delete a conference made by mistake (the Secretariat), with its board, groups,
    rounds, registrations and documents."""
    if not access.is_secretariat(actor):
        raise Forbidden(str(_l("Only the Secretariat can delete an e-conference.")))
    refusal = deletion_refusal(conference)
    if refusal:
        raise Conflict(refusal, code="not_deletable")
    board = conference.board
    groups = [conference.participants_group, conference.moderators_group]
    hub_services.audit(actor, "conference.delete", conference,
                       f"{conference.slug}: {conference.title}")
    db.session.delete(conference)  # rounds, partners and documents with it; the rest cascades
    db.session.flush()
    for group in groups:
        db.session.delete(group)
    forums.delete_board(actor, board)  # commits the whole removal
    access.forget_groups()


def add_partner(actor: Member, conference: Conference, name: str, url: str = "",
                logo: forums.Upload | None = None) -> Partner:
    require_manager(actor, conference)
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(str(_l("The partner's name is required.")), fields={"name": "required"})
    url = _check_url(url, "url")
    partner = Partner(conference_id=conference.id, name=name[:200], url=url,
                      position=len(conference.partners) + 1)
    if logo is not None and logo.data:
        content_type = forums.check_upload(logo)
        if content_type not in {"image/png", "image/jpeg"}:
            raise Invalid(str(_l("A logo is a PNG or JPEG image.")), fields={"logo": "type"})
        partner.logo_sha256 = forums.save_blob(logo.data)
        partner.logo_type = content_type
    db.session.add(partner)
    hub_services.audit(actor, "conference.partner", conference, name)
    db.session.commit()
    return partner


def remove_partner(actor: Member, conference: Conference, partner_id: int) -> None:
    require_manager(actor, conference)
    partner = db.session.get(Partner, partner_id)
    if partner is None or partner.conference_id != conference.id:
        raise NotFound(str(_l("No such partner.")))
    db.session.delete(partner)
    hub_services.audit(actor, "conference.partner.remove", conference, partner.name)
    db.session.commit()


def _check_url(url: str, name: str) -> str:
    url = (url or "").strip()
    if url and not re.match(r"^https?://[^\s]+$", url):
        raise Invalid(str(_l("A link starts with http:// or https://.")), fields={name: "url"})
    return url[:500]


def add_document(actor: Member, conference: Conference, title: str, url: str = "",
                 upload: forums.Upload | None = None) -> Document:
    require_manager(actor, conference)
    title = " ".join((title or "").split())
    if not title:
        raise Invalid(str(_l("A title is required.")), fields={"title": "required"})
    url = _check_url(url, "url")
    document = Document(conference_id=conference.id, title=title[:300], url=url,
                        position=len(conference.documents) + 1)
    if upload is not None and upload.data:
        document.content_type = forums.check_upload(upload)
        document.sha256 = forums.save_blob(upload.data)
        document.filename = forums.clean_filename(upload.filename)
        document.size = len(upload.data)
    elif not url:
        raise Invalid(str(_l("Give a link or attach a file.")), fields={"url": "required"})
    db.session.add(document)
    hub_services.audit(actor, "conference.document", conference, title)
    db.session.commit()
    return document


def remove_document(actor: Member, conference: Conference, document_id: int) -> None:
    require_manager(actor, conference)
    document = db.session.get(Document, document_id)
    if document is None or document.conference_id != conference.id:
        raise NotFound(str(_l("No such document.")))
    db.session.delete(document)
    hub_services.audit(actor, "conference.document.remove", conference, document.title)
    db.session.commit()


# -- registrations ------------------------------------------------------------------------------

def conference_url(conference: Conference) -> str:
    return urls.absolute("conferences.detail", slug=conference.slug)


def _mail_context(conference: Conference, member: Member) -> dict[str, Any]:
    return {
        "conference": conference, "member": member,
        "url": conference_url(conference),
        "discussion_url": urls.absolute("conferences.discussion", slug=conference.slug),
        "opens": times.for_member(conference.opens_at, member),
        "closes": times.for_member(conference.closes_at, member),
        "list_address": f"{conference.slug}@{current_app.config['HUB_MAIL_DOMAIN']}",
    }


def _mail(member: Member, template: str, conference: Conference, **context: Any) -> None:
    if member.status not in {MemberStatus.ACTIVE, MemberStatus.INVITED}:
        return
    send_mail(member.email, template, language=member.language, name=member.name,
              **{**_mail_context(conference, member), **context})


def _join(conference: Conference, member: Member) -> None:
    """Into the participants group, and following the list (every post by email) unless
    they already chose a setting for this board."""
    group_id = conference.participants_group_id
    if db.session.get(GroupMembership, (group_id, member.id)) is None:
        db.session.add(GroupMembership(group_id=group_id, member_id=member.id))
    exists = db.session.scalar(db.select(Subscription.id).where(
        Subscription.member_id == member.id, Subscription.board_id == conference.board_id))
    if exists is None:
        db.session.add(Subscription(member_id=member.id, board_id=conference.board_id,
                                    mode="each"))
    access.forget_groups()


def _leave(conference: Conference, member: Member) -> None:
    link = db.session.get(GroupMembership, (conference.participants_group_id, member.id))
    if link is not None:
        db.session.delete(link)
    access.forget_groups()


def _approve(registration: Registration, actor: Member | None) -> None:
    registration.status = APPROVED
    registration.reason = ""
    registration.decided_by_id = actor.id if actor else None
    registration.decided_at = clock.now()
    _join(registration.conference, registration.member)
    _mail(registration.member, "conference_registered", registration.conference)


def registration_refusal(conference: Conference) -> str | None:
    now = clock.now()
    state = status(conference, now, published=False)
    if state == CANCELLED:
        return str(_l("This e-conference was cancelled."))
    if state == CLOSED:
        return str(_l("This e-conference has closed."))
    if now < clock.aware(conference.registration_opens_at):
        return str(_l("Registration opens on %(when)s.",
                      when=times.spelled(conference.registration_opens_at)))
    if now >= clock.aware(conference.registration_deadline):
        return str(_l("Registration closed on %(when)s.",
                      when=times.spelled(conference.registration_deadline)))
    return None


def apply(member: Member, conference: Conference, motivation: str,
          anonymous: bool = False) -> Registration:
    """A member asks to take part. Approved at once when the conference approves
    automatically; otherwise the moderators are told."""
    if not access.is_active_member(member):
        raise Forbidden(str(_l("Please sign in to register.")), code="login_required")
    refusal = registration_refusal(conference)
    if refusal:
        raise Conflict(refusal, code="registration_closed")
    motivation = _required_text(motivation, "motivation", 5000,
                                _l("Please tell the moderators why you want to take part."))
    registration = registration_of(member, conference)
    if registration is not None and registration.status in {PENDING, APPROVED}:
        raise Conflict(str(_l("You have registered already.")), code="registered")
    if registration is None:
        registration = Registration(conference_id=conference.id, member_id=member.id)
        db.session.add(registration)
    registration.conference, registration.member = conference, member
    registration.motivation = motivation
    registration.anonymous = bool(anonymous)
    registration.source = "invitation" if registration.status == INVITED else "application"
    if conference.auto_approve or registration.status == INVITED:
        _approve(registration, None)
    else:
        registration.status = PENDING
        for moderator in moderators(conference) or hub_services.secretariat_members():
            _mail(moderator, "conference_application", conference, applicant=member,
                  motivation=motivation,
                  queue_url=urls.absolute("conferences.participants", slug=conference.slug))
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same member twice at once
        db.session.rollback()
        raise Conflict(str(_l("You have registered already.")), code="registered") from exc
    return registration


def get_registration(actor: Member, conference: Conference, registration_id: int) -> Registration:
    require_manager(actor, conference)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.conference_id != conference.id:
        raise NotFound(str(_l("No such registration.")))
    return registration


def approve(actor: Member, registration: Registration) -> Registration:
    conference = registration.conference
    require_manager(actor, conference)
    if registration.status == APPROVED:
        raise Conflict(str(_l("This registration is approved already.")), code="approved")
    if registration.status not in {PENDING, DECLINED, INVITED}:
        raise Conflict(str(_l("This registration was withdrawn.")), code="withdrawn")
    if registration.member.status != MemberStatus.ACTIVE:
        raise Conflict(str(_l("This person has no active account yet.")), code="inactive")
    refuse_if_cancelled(conference)
    if clock.now() >= clock.aware(conference.closes_at):
        raise Conflict(str(_l("This e-conference has closed.")), code="closed")
    _approve(registration, actor)
    hub_services.audit(actor, "conference.approve", registration, registration.member.email)
    db.session.commit()
    return registration


def decline(actor: Member, registration: Registration, reason: str) -> Registration:
    """Decline with a reason, which is emailed to the applicant in their language."""
    conference = registration.conference
    require_manager(actor, conference)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(str(_l("Please give the applicant a reason.")),
                      fields={"reason": "required"})
    if registration.status not in {PENDING, APPROVED}:
        raise Conflict(str(_l("This registration is not waiting for a decision.")),
                       code="not_pending")
    registration.status = DECLINED
    registration.reason = reason[:2000]
    registration.decided_by_id = actor.id
    registration.decided_at = clock.now()
    _leave(conference, registration.member)
    _mail(registration.member, "conference_declined", conference, reason=registration.reason)
    hub_services.audit(actor, "conference.decline", registration, reason)
    db.session.commit()
    return registration


def withdraw(member: Member, conference: Conference) -> Registration:
    registration = registration_of(member, conference)
    if registration is None or registration.status not in {PENDING, APPROVED, INVITED}:
        raise NotFound(str(_l("You are not registered.")))
    registration.status = WITHDRAWN
    _leave(conference, member)
    db.session.commit()
    return registration


def accept_invitation(member: Member, conference: Conference) -> Registration:
    registration = registration_of(member, conference)
    if registration is None or registration.status != INVITED:
        raise NotFound(str(_l("You have no invitation to this e-conference.")))
    refuse_if_cancelled(conference)
    if clock.now() >= clock.aware(conference.closes_at):
        raise Conflict(str(_l("This e-conference has closed.")), code="closed")
    _approve(registration, None)
    db.session.commit()
    return registration


def set_anonymous(member: Member, conference: Conference, anonymous: bool) -> Registration:
    """The participant's choice to be named in the proceedings, or not."""
    registration = registration_of(member, conference)
    if registration is None or registration.status in {DECLINED, WITHDRAWN, REMOVED}:
        raise NotFound(str(_l("You are not registered.")))
    registration.anonymous = bool(anonymous)
    db.session.commit()
    return registration


def registrations(conference: Conference, statuses: Sequence[str] | None = None
                  ) -> list[Registration]:
    query = (db.select(Registration).where(Registration.conference_id == conference.id)
             .options(db.joinedload(Registration.member))
             .join(Member, Member.id == Registration.member_id)
             .order_by(Registration.created_at, Registration.id))
    if statuses:
        query = query.where(Registration.status.in_(list(statuses)))
    return list(db.session.scalars(query))


# -- invitations ---------------------------------------------------------------------------------

@dataclass
class InvitationReport:
    invited: list[str] = field(default_factory=list)  # existing members, to accept
    new: list[str] = field(default_factory=list)  # new people: an account on the way in
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (who, why)


def _parse_people(text: str) -> list[tuple[str, str]]:
    """Lines or commas of "Name <email>" or "email"."""
    people = []
    for chunk in re.split(r"[\n;,]+", text or ""):
        chunk = chunk.strip()
        if not chunk:
            continue
        name, email = parseaddr(chunk)
        people.append((name.strip(), email.strip() or chunk))
    return people


def _invite_one(actor: Member, conference: Conference, member: Member, source: str,
                report: InvitationReport) -> None:
    registration = registration_of(member, conference)
    if registration is not None and registration.status == APPROVED:
        report.skipped.append((member.email, str(_l("already a participant"))))
        return
    if member.status == MemberStatus.ACTIVE and can_manage(member, conference):
        report.skipped.append((member.email, str(_l("runs this e-conference"))))
        return
    if registration is None:
        registration = Registration(conference_id=conference.id, member_id=member.id)
        db.session.add(registration)
    registration.conference, registration.member = conference, member
    registration.status = INVITED
    registration.source = source
    registration.invited_by_id = actor.id
    if member.status == MemberStatus.INVITED:
        # A new person: the hub's invitation link makes the account, then brings them
        # back to the conference, where their registration is accepted.
        token = links.make("invite", member)
        _mail(member, "conference_invitation_new", conference, inviter=actor,
              accept_url=urls.absolute("auth.accept_invitation", token=token,
                                       next=urls.path("conferences.detail",
                                                      slug=conference.slug)))
        report.new.append(member.email)
    else:
        _mail(member, "conference_invitation", conference, inviter=actor)
        report.invited.append(member.email)


def invite(actor: Member, conference: Conference, people: str = "",
           group_slug: str = "") -> InvitationReport:
    """Invite members and new people by email ("Name <email>" per line), and every
    active member of a group. New addresses get an account to finish on the way in."""
    require_manager(actor, conference)
    refuse_if_cancelled(conference)
    if clock.now() >= clock.aware(conference.closes_at):
        raise Conflict(str(_l("This e-conference has closed.")), code="closed")
    report = InvitationReport()
    entries = _parse_people(people)
    if not entries and not group_slug:
        raise Invalid(str(_l("Give email addresses or choose a group.")),
                      fields={"people": "required"})
    seen: set[int] = set()
    for name, raw in entries:
        try:
            email = hub_services.normalize_email(raw)
        except Invalid:
            report.skipped.append((raw, str(_l("not a valid email address"))))
            continue
        member = hub_services.member_by_email(email)
        if member is None:
            member = Member(email=email, name=name or email.split("@")[0],
                            status=MemberStatus.INVITED, role=Role.MEMBER)
            db.session.add(member)
            db.session.flush()
        elif member.status not in {MemberStatus.ACTIVE, MemberStatus.INVITED}:
            report.skipped.append((email, str(_l("this account is not active"))))
            continue
        if member.id in seen:
            continue
        seen.add(member.id)
        _invite_one(actor, conference, member, "email" if member.status == MemberStatus.INVITED
                    else "invitation", report)
    if group_slug:
        group = db.session.scalar(db.select(Group).where(Group.slug == group_slug))
        if group is None or group.id in {conference.participants_group_id,
                                         conference.moderators_group_id}:
            raise Invalid(str(_l("No group has that short name.")), fields={"group": "unknown"})
        if not access.is_secretariat(actor) and group.id not in access.group_ids(actor):
            raise Invalid(str(_l("No group has that short name.")), fields={"group": "unknown"})
        for link in hub_services.group_members(group):
            member = link.member
            if member.id in seen or member.status != MemberStatus.ACTIVE:
                continue
            seen.add(member.id)
            _invite_one(actor, conference, member, "group", report)
    hub_services.audit(actor, "conference.invite", conference,
                       f"{len(report.invited)} members, {len(report.new)} new, "
                       f"{len(report.skipped)} skipped")
    db.session.commit()
    return report


def on_member_approved(sender: Any, event: Any, **_kw: Any) -> None:
    """A person invited by email has made their account: their invitations to
    conferences still running are accepted (they came in through one)."""
    rows = db.session.scalars(db.select(Registration).where(
        Registration.member_id == event.member_id, Registration.status == INVITED,
        Registration.source == "email")).all()
    changed = False
    for registration in rows:
        if clock.now() < clock.aware(registration.conference.closes_at) \
                and registration.conference.cancelled_at is None:
            _approve(registration, None)
            changed = True
    if changed:
        db.session.commit()


def on_group_membership_changed(sender: Any, event: Any, **_kw: Any) -> None:
    """Someone edited a participants group directly (the groups page or API): keep the
    registrations equal to the group."""
    conference = db.session.scalar(db.select(Conference).where(
        Conference.participants_group_id == event.group_id))
    if conference is None:
        return
    member = db.session.get(Member, event.member_id)
    if member is None:
        return
    registration = registration_of(member, conference)
    if event.added:
        if registration is None:
            registration = Registration(conference_id=conference.id, member_id=member.id,
                                        source="added")
            db.session.add(registration)
        if registration.status != APPROVED:
            registration.status = APPROVED
            registration.decided_at = clock.now()
        _join(conference, member)  # follows the list, like any approved participant
    elif registration is not None and registration.status == APPROVED:
        registration.status = REMOVED
    db.session.commit()


# -- rounds --------------------------------------------------------------------------------------

@dataclass
class RoundData:
    title: str | None = None
    question: str | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    translations: dict[str, dict[str, str]] | None = None  # {"es": {"title", "question"}}
    source_lang: str | None = None


def _renumber(conference: Conference) -> None:
    ordered = sorted(conference.rounds, key=lambda r: (clock.aware(r.opens_at), r.id or 0))
    for number, item in enumerate(ordered, start=1):
        item.number = number


def _apply_round(conference: Conference, item: Round, data: RoundData) -> None:
    if data.title is not None:
        title = " ".join(data.title.split())
        if not title:
            raise Invalid(str(_l("A round needs a title.")), fields={"title": "required"})
        item.title = title[:250]
    if data.question is not None:
        question = data.question.strip()
        if not question:
            raise Invalid(str(_l("A round needs a question.")), fields={"question": "required"})
        item.question = question
        item.question_html = markup.render(question)
    if data.translations is not None or data.source_lang is not None:
        content.set_translations(item, data.translations or {}, data.source_lang)
    for name in ("opens_at", "closes_at"):
        value = getattr(data, name)
        if value is not None:
            if value.tzinfo is None:
                raise Invalid(str(_l("Times need a time zone offset.")), fields={name: "naive"})
            setattr(item, name, value)
    opens, closes = clock.aware(item.opens_at), clock.aware(item.closes_at)
    if opens is None or closes is None:
        raise Invalid(str(_l("A round needs an opening and a closing time.")),
                      fields={"opens_at": "required"})
    if closes <= opens:
        raise Invalid(str(_l("A round must close after it opens.")),
                      fields={"closes_at": "order"})
    if opens < clock.aware(conference.opens_at) or closes > clock.aware(conference.closes_at):
        raise Invalid(str(_l("A round must fall within the conference (%(opens)s to "
                             "%(closes)s); change the conference's dates first.",
                             opens=times.spelled(conference.opens_at),
                             closes=times.spelled(conference.closes_at))),
                      fields={"closes_at": "window"})


def round_key(conference: Conference, item: Round) -> str:
    return f"conference:{conference.slug}:round:{item.id}"


def _round_author(conference: Conference, item: Round) -> Member | None:
    candidates = [item.created_by, conference.lead_moderator, *moderators(conference),
                  *hub_services.secretariat_members()]
    for member in candidates:
        if member is not None and access.can_moderate(member, conference.board) \
                and access.can_post(member, conference.board):
            return member
    return None


def ensure_round_topic(conference: Conference, item: Round) -> Topic | None:
    """The round's discussion topic, started with its question when the round has
    opened (through the posting service; the unique external key keeps it to one even
    when several workers try at once)."""
    if item.topic_id is not None:
        return item.topic
    now = clock.now()
    if conference.cancelled_at is not None or now < clock.aware(item.opens_at) \
            or now >= clock.aware(conference.closes_at) \
            or now < clock.aware(conference.opens_at):
        return None
    key = round_key(conference, item)
    topic = db.session.scalar(db.select(Topic).where(Topic.external_key == key))
    if topic is None:
        author = _round_author(conference, item)
        if author is None:
            return None
        title = str(_l("Round %(n)d: %(title)s", n=item.number, title=item.title))[:300]
        round_id = item.id
        try:
            topic = forums.create_topic(author, conference.board, title, item.question,
                                        external_key=key).topic
        except Conflict:
            topic = db.session.scalar(db.select(Topic).where(Topic.external_key == key))
            if topic is None:
                raise
        item = db.session.get(Round, round_id)
    item.topic_id = topic.id
    db.session.commit()
    return topic


def add_round(actor: Member, conference: Conference, data: RoundData) -> Round:
    require_manager(actor, conference)
    refuse_if_cancelled(conference)
    item = Round(conference_id=conference.id, created_by_id=actor.id, title="", question="")
    item.conference = conference
    if data.title is None or data.question is None:
        raise Invalid(str(_l("A round needs a title and a question.")),
                      fields={"title": "required"})
    _apply_round(conference, item, data)
    db.session.add(item)  # in conference.rounds already, through item.conference
    _renumber(conference)
    hub_services.audit(actor, "conference.round", conference, item.title)
    db.session.commit()
    ensure_round_topic(conference, item)
    return item


def get_round(who: Any, conference: Conference, round_id: int) -> Round:
    item = db.session.get(Round, round_id)
    if item is None or item.conference_id != conference.id:
        raise NotFound(str(_l("No such round.")))
    return item


def sync_round_lock(conference: Conference, item: Round, now: datetime | None = None) -> bool:
    """Lock a round's topic when its time is over; unlock it when a moderator extends a
    round the schedule had locked. True when something changed (and is committed).

    Through the forums' lock, in one transaction with the round's own flag, so readers
    with the topic open are told and cached pages of it move on."""
    now = now or clock.now()
    topic = item.topic
    if topic is None or conference.cancelled_at is not None:  # cancelling locked it for good
        return False
    ended = now >= clock.aware(item.closes_at)
    if ended == bool(item.auto_locked):
        return False
    item.auto_locked = ended
    why = (f"conference {conference.slug}: round {item.number} "
           + ("ended" if ended else "extended"))
    forums.set_locked_by_system(topic, ended, why)
    return True


def update_round(actor: Member, item: Round, data: RoundData) -> Round:
    """Change a round: retitle, reword the question, extend or shorten it."""
    conference = item.conference
    require_manager(actor, conference)
    refuse_if_cancelled(conference)
    _apply_round(conference, item, data)
    _renumber(conference)
    if item.topic is not None:
        # The topic's opening post is the question: edit it through the forums (revision
        # kept, "edited" shown, listeners told), with the topic's title.
        first = db.session.scalar(db.select(Post).where(Post.topic_id == item.topic_id,
                                                        Post.position == 1))
        title = str(_l("Round %(n)d: %(title)s", n=item.number, title=item.title))[:300]
        if first is not None and (first.body != item.question
                                  or item.topic.title != title):
            forums.edit_post(actor, first, item.question, title=title)
    hub_services.audit(actor, "conference.round_update", item, item.title)
    db.session.commit()
    sync_round_lock(conference, item)
    ensure_round_topic(conference, item)
    return item


def delete_round(actor: Member, item: Round) -> None:
    conference = item.conference
    require_manager(actor, conference)
    if item.topic_id is not None:
        raise Conflict(str(_l("This round has started; it can be shortened but not removed.")),
                       code="started")
    conference.rounds.remove(item)
    db.session.delete(item)
    _renumber(conference)
    db.session.commit()


def set_round_locked(actor: Member, item: Round, locked: bool) -> Round:
    refuse_if_cancelled(item.conference)
    if item.topic is None:
        raise Conflict(str(_l("This round has not started yet.")), code="not_started")
    forums.set_locked(actor, item.topic, locked)
    return item


def set_round_pinned(actor: Member, item: Round, pinned: bool) -> Round:
    if item.topic is None:
        raise Conflict(str(_l("This round has not started yet.")), code="not_started")
    forums.set_pinned(actor, item.topic, pinned)
    return item


def post_summary(actor: Member, item: Round, body: str) -> Post:
    """A moderator's summary of a round: a reply marked as a summary in the thread.
    Taken after the closing too, until the proceedings are published (the board's
    `summaries_after_close`, which `hub.access` reads)."""
    conference = item.conference
    require_manager(actor, conference)
    if item.topic is None:
        raise Conflict(str(_l("This round has not started yet.")), code="not_started")
    return forums.create_reply(actor, item.topic, body, kind="summary")


def summaries(item: Round) -> list[Post]:
    if item.topic_id is None:
        return []
    return list(db.session.scalars(
        db.select(Post).where(Post.topic_id == item.topic_id, Post.kind == "summary",
                              Post.status == "published", Post.deleted_at.is_(None))
        .order_by(Post.position)))


# -- moderation ---------------------------------------------------------------------------------

def held_posts(actor: Member, conference: Conference) -> list[Post]:
    """Posts waiting for a moderator on this conference's board, oldest first."""
    require_manager(actor, conference)
    return list(db.session.scalars(
        db.select(Post).join(Topic, Post.topic_id == Topic.id)
        .where(Topic.board_id == conference.board_id, Post.status == "held",
               Post.deleted_at.is_(None))
        .options(db.joinedload(Post.topic), db.joinedload(Post.author),
                 db.selectinload(Post.attachments))
        .order_by(Post.created_at, Post.id)).unique())


def edit_and_approve(actor: Member, post: Post, body: str) -> Post:
    """A moderator corrects a held post, then publishes it; the thread shows that a
    moderator edited it."""
    forums.edit_post(actor, post, body)
    if post.status == "held":
        forums.approve_post(actor, post)
    return post


# -- statistics ---------------------------------------------------------------------------------

@dataclass
class Breakdown:
    key: str
    label: str
    participants: int = 0
    posts: int = 0


@dataclass
class Statistics:
    participants: int
    posters: int
    posts: int
    held: int
    rejected: int
    summaries: int
    by_country: list[Breakdown]
    by_region: list[Breakdown]
    by_org_type: list[Breakdown]
    per_round: list[tuple[int, str, int]]  # (number, title, posts)
    other_posts: int

    @property
    def share_posted(self) -> float:
        return self.posters / self.participants if self.participants else 0.0

    def as_dict(self) -> dict[str, Any]:
        def rows(items: list[Breakdown]) -> list[dict[str, Any]]:
            return [{"key": b.key, "label": b.label, "participants": b.participants,
                     "posts": b.posts} for b in items]

        return {
            "participants": self.participants, "posters": self.posters,
            "share_posted": round(self.share_posted, 4), "posts": self.posts,
            "held": self.held, "rejected": self.rejected, "summaries": self.summaries,
            "by_country": rows(self.by_country), "by_region": rows(self.by_region),
            "by_org_type": rows(self.by_org_type),
            "per_round": [{"number": n, "title": t, "posts": c} for n, t, c in self.per_round],
            "other_posts": self.other_posts,
        }


def contributions_query(conference: Conference) -> Any:
    """Published posts that are contributions: not deleted, not summaries, not a round's
    opening question."""
    question_topics = [r.topic_id for r in conference.rounds if r.topic_id]
    query = (db.select(Post).join(Topic, Post.topic_id == Topic.id)
             .where(Topic.board_id == conference.board_id, Post.status == "published",
                    Post.deleted_at.is_(None), Topic.deleted_at.is_(None),
                    Post.kind == "post"))
    if question_topics:
        query = query.where(~((Post.topic_id.in_(question_topics)) & (Post.position == 1)))
    return query


def statistics(conference: Conference, locale: str | None = None) -> Statistics:
    from hub.forms import ORG_TYPE_LABELS, REGION_LABELS

    locale = locale or "en"
    people = [r.member for r in registrations(conference, [APPROVED])]
    participant_ids = {m.id for m in people}
    posts = list(db.session.execute(
        contributions_query(conference).with_only_columns(
            Post.author_id, Post.topic_id, Member.country, Member.region, Member.org_type)
        .outerjoin(Member, Member.id == Post.author_id)).all())
    status_counts = dict(db.session.execute(
        db.select(Post.status, func.count(Post.id)).join(Topic, Post.topic_id == Topic.id)
        .where(Topic.board_id == conference.board_id, Post.deleted_at.is_(None))
        .group_by(Post.status)).all())
    summary_count = db.session.scalar(
        db.select(func.count(Post.id)).join(Topic, Post.topic_id == Topic.id)
        .where(Topic.board_id == conference.board_id, Post.kind == "summary",
               Post.status == "published", Post.deleted_at.is_(None))) or 0

    def breakdown(attr: str, labels: Any) -> list[Breakdown]:
        table: dict[str, Breakdown] = {}
        for member in people:
            key = getattr(member, attr) or ""
            table.setdefault(key, Breakdown(key, labels(key))).participants += 1
        index = {"country": 2, "region": 3, "org_type": 4}[attr]
        for row in posts:
            key = row[index] or ""
            table.setdefault(key, Breakdown(key, labels(key))).posts += 1
        return sorted(table.values(), key=lambda b: (-b.posts, -b.participants, b.label))

    unknown = str(_l("Not given"))
    per_topic = Counter(row[1] for row in posts)
    rounds = [(r.number, r.title, per_topic.get(r.topic_id, 0) if r.topic_id else 0)
              for r in sorted(conference.rounds, key=lambda r: r.number)]
    round_topics = {r.topic_id for r in conference.rounds if r.topic_id}
    return Statistics(
        participants=len(people),
        posters=len({row[0] for row in posts} & participant_ids),
        posts=len(posts),
        held=status_counts.get("held", 0),
        rejected=status_counts.get("rejected", 0),
        summaries=summary_count,
        by_country=breakdown("country", lambda k: countries.country_name(k, locale)
                             if k else unknown),
        by_region=breakdown("region", lambda k: str(REGION_LABELS.get(k, k)) if k
                            else unknown),
        by_org_type=breakdown("org_type", lambda k: str(ORG_TYPE_LABELS.get(k, k)) if k
                              else unknown),
        per_round=rounds,
        other_posts=sum(c for t, c in per_topic.items() if t not in round_topics),
    )
