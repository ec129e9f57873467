"""Creating a conference (with its closed board, participants group and moderators group)
and changing it: details, schedule, moderators, announcement, translations, the
discussion's archive, partners and documents. Imports `hub`, `forums`, `conferences`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from conferences.models import Conference, Document, Partner
from conferences.services import moderators, refuse_if_cancelled, require_manager
from forums import attachments
from forums.models import Board
from hub import access, clock, content, countries, markup
from hub import services as hub_services
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.models import Group, GroupMembership, Member, MemberStatus

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
RESERVED = frozenset({"new", "static", "api", "topics", "posts", "files", "moderation",
                      "manage", "registry"})
ARCHIVE_CHOICES = ("closed", "members", "public")


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


# -- partners and documents ---------------------------------------------------------------------

def add_partner(actor: Member, conference: Conference, name: str, url: str = "",
                logo: attachments.Upload | None = None) -> Partner:
    require_manager(actor, conference)
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(str(_l("The partner's name is required.")), fields={"name": "required"})
    url = _check_url(url, "url")
    partner = Partner(conference_id=conference.id, name=name[:200], url=url,
                      position=len(conference.partners) + 1)
    if logo is not None and logo.data:
        content_type = attachments.check_upload(logo)
        if content_type not in {"image/png", "image/jpeg"}:
            raise Invalid(str(_l("A logo is a PNG or JPEG image.")), fields={"logo": "type"})
        partner.logo_sha256 = attachments.save_blob(logo.data)
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
                 upload: attachments.Upload | None = None) -> Document:
    require_manager(actor, conference)
    title = " ".join((title or "").split())
    if not title:
        raise Invalid(str(_l("A title is required.")), fields={"title": "required"})
    url = _check_url(url, "url")
    document = Document(conference_id=conference.id, title=title[:300], url=url,
                        position=len(conference.documents) + 1)
    if upload is not None and upload.data:
        document.content_type = attachments.check_upload(upload)
        document.sha256 = attachments.save_blob(upload.data)
        document.filename = attachments.clean_filename(upload.filename)
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
