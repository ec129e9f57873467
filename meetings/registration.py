"""Registration (RSVP) for meetings: by web, API and email, optional approval by the
organizers, a capacity limit with a waiting list served in order, and promotion when a
place frees. Confirmed registrations and the participants group (the closed board's
readers) are kept equal here; confirmation and invitation mail carry the meeting's
iCalendar REQUEST so mail clients offer "add to calendar".

Places are counted under the meeting's row lock (FOR UPDATE on PostgreSQL, the write
lock on SQLite), so two people taking the last place at once cannot both get it.
Imports `hub`, `forums`, `meetings`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from forums import urls
from forums.models import Subscription
from hub import access, clock
from hub import services as hub_services
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.i18n import is_timezone
from hub.mailer import send_mail
from hub.models import GroupMembership, Member, MemberStatus
from meetings import ics, services
from meetings.models import (
    CANCELLED,
    CONFIRMED,
    DECLINED,
    PENDING,
    WAITLISTED,
    Meeting,
    Registration,
)

SOURCES = ("web", "api", "email", "invitation")


# -- times and mail -------------------------------------------------------------------------

def when_for(value: datetime | None, member: Any, meeting: Meeting) -> str:
    """A time spelled out in the member's zone and language, and in the meeting's own
    zone when it differs: "lunes, 11 de marzo de 2030, 9:00 (America/Argentina/Buenos_Aires)
    — 15:00 (Africa/Nairobi)"."""
    if value is None:
        return ""
    zone_name = getattr(member, "timezone", None)
    zone = ZoneInfo(zone_name) if zone_name and is_timezone(zone_name) else ZoneInfo("UTC")
    loc = getattr(member, "language", None) or "en"
    mine = clock.aware(value).astimezone(zone)
    text = f"{format_date(mine, 'full', locale=loc)}, {format_time(mine, 'short', locale=loc)}"
    text += f" ({zone})"
    if str(zone) != meeting.timezone:
        theirs = clock.aware(value).astimezone(ZoneInfo(meeting.timezone))
        text += f" — {format_time(theirs, 'short', locale=loc)} ({meeting.timezone})"
    return text


def mail_context(meeting: Meeting, member: Member) -> dict[str, Any]:
    return {
        "meeting": meeting, "member": member, "url": services.meeting_url(meeting),
        "starts": when_for(meeting.starts_at, member, meeting),
        "ends": when_for(meeting.ends_at, member, meeting),
        "ics_url": urls.absolute("meetings.meeting_ics", slug=meeting.slug),
        "list_address": (f"{meeting.board.slug}@{current_app.config['HUB_MAIL_DOMAIN']}"
                         if meeting.board is not None and not meeting.board.locked else ""),
    }


def mail(member: Member, template: str, meeting: Meeting, *, calendar: bool = False,
         **context: Any) -> None:
    if member.status != MemberStatus.ACTIVE:
        return
    send_mail(member.email, template, language=member.language, name=member.name,
              calendar=ics.invitation(meeting, member.email) if calendar else None,
              **{**mail_context(meeting, member), **context})


# -- reading ---------------------------------------------------------------------------------

def registration_of(who: Any, meeting: Meeting) -> Registration | None:
    if not access.is_active_member(who):
        return None
    return db.session.scalar(db.select(Registration).where(
        Registration.meeting_id == meeting.id, Registration.member_id == who.id))


def registrations(meeting: Meeting, statuses: tuple[str, ...] | None = None
                  ) -> list[Registration]:
    query = db.select(Registration).where(Registration.meeting_id == meeting.id)
    if statuses:
        query = query.where(Registration.status.in_(statuses))
    return list(db.session.scalars(query.order_by(Registration.created_at, Registration.id)))


def member_meetings(member: Member, limit: int = 300) -> list[Meeting]:
    """The meetings in a member's own calendar: those they registered for (confirmed,
    pending or waiting) and those they organize, that they may still see."""
    registered = db.select(Registration.meeting_id).where(
        Registration.member_id == member.id,
        Registration.status.in_([PENDING, CONFIRMED, WAITLISTED]))
    organizing = access.group_ids(member) or {-1}
    rows = db.session.scalars(
        db.select(Meeting).where(Meeting.id.in_(registered)
                                 | Meeting.moderator_group_id.in_(organizing))
        .order_by(Meeting.starts_at.desc()).limit(limit))
    return [m for m in rows if services.can_see(member, m)]


def confirmed_count(meeting: Meeting) -> int:
    return db.session.scalar(db.select(func.count(Registration.id)).where(
        Registration.meeting_id == meeting.id, Registration.status == CONFIRMED)) or 0


def confirmed_counts(meetings: list[Meeting]) -> dict[int, int]:
    """Confirmed registrations of many meetings in one query (for lists)."""
    if not meetings:
        return {}
    rows = db.session.execute(
        db.select(Registration.meeting_id, func.count(Registration.id))
        .where(Registration.meeting_id.in_([m.id for m in meetings]),
               Registration.status == CONFIRMED).group_by(Registration.meeting_id))
    return {meeting_id: count for meeting_id, count in rows}


def registrations_of(who: Any, meetings: list[Meeting]) -> dict[int, Registration]:
    """A member's registrations for many meetings in one query (for lists)."""
    if not meetings or not access.is_active_member(who):
        return {}
    rows = db.session.scalars(db.select(Registration).where(
        Registration.member_id == who.id,
        Registration.meeting_id.in_([m.id for m in meetings])))
    return {row.meeting_id: row for row in rows}


def places_left(meeting: Meeting, confirmed: int | None = None) -> int | None:
    if meeting.capacity is None:
        return None
    count = confirmed if confirmed is not None else confirmed_count(meeting)
    return max(0, meeting.capacity - count)


def is_participant(who: Any, meeting: Meeting) -> bool:
    row = registration_of(who, meeting)
    return row is not None and row.status == CONFIRMED


def refusal(who: Any, meeting: Meeting) -> str | None:
    """Why `who` cannot register now, for people; None when they can."""
    if not access.is_active_member(who):
        return str(_l("Please sign in to register."))
    if meeting.cancelled_at is not None:
        return str(_l("This meeting was cancelled."))
    if meeting.announced_at is None:
        return str(_l("This meeting is not announced yet."))
    if services.is_past(meeting):
        return str(_l("This meeting has taken place."))
    if not meeting.registration_open:
        return str(_l("Registration for this meeting is closed."))
    if not access.can_read(who, meeting):
        return str(_l("This meeting is for the members of its group."))
    return None


# -- changing ----------------------------------------------------------------------------------

def _lock(meeting: Meeting) -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.select(Meeting.id).where(Meeting.id == meeting.id)
                           .with_for_update())


def _join(meeting: Meeting, member: Member) -> None:
    if db.session.get(GroupMembership, (meeting.participants_group_id, member.id)) is None:
        db.session.add(GroupMembership(group_id=meeting.participants_group_id,
                                       member_id=member.id))
    if meeting.board_id is not None and db.session.scalar(db.select(Subscription.id).where(
            Subscription.member_id == member.id,
            Subscription.board_id == meeting.board_id)) is None:
        db.session.add(Subscription(member_id=member.id, board_id=meeting.board_id,
                                    mode="each"))
    access.forget_groups()


def _leave(meeting: Meeting, member: Member) -> None:
    link = db.session.get(GroupMembership, (meeting.participants_group_id, member.id))
    if link is not None:
        db.session.delete(link)
    access.forget_groups()


def _seat(registration: Registration, meeting: Meeting) -> None:
    """Confirm, or put on the waiting list when the meeting is full."""
    left = places_left(meeting)
    registration.decided_at = clock.now()
    if left is not None and left <= 0:
        registration.status = WAITLISTED
        mail(registration.member, "meeting_waitlisted", meeting)
        return
    registration.status = CONFIRMED
    db.session.flush()
    _join(meeting, registration.member)
    mail(registration.member, "meeting_confirmed", meeting, calendar=True)


def register(member: Member, meeting: Meeting, note: str = "", source: str = "web"
             ) -> Registration:
    reason = refusal(member, meeting)
    if reason:
        code = "login_required" if not access.is_active_member(member) else "closed"
        raise (Forbidden if code == "login_required" else Conflict)(reason, code=code)
    if source not in SOURCES:
        source = "web"
    _lock(meeting)
    registration = registration_of(member, meeting)
    if registration is not None and registration.status in {PENDING, CONFIRMED, WAITLISTED}:
        raise Conflict(str(_l("You have registered already.")), code="registered")
    if registration is not None and registration.status == DECLINED:
        raise Conflict(str(_l("The organizers declined your registration.")), code="declined")
    if registration is None:
        registration = Registration(meeting_id=meeting.id, member_id=member.id)
        db.session.add(registration)
    registration.meeting, registration.member = meeting, member
    registration.note = (note or "").strip()[:2000]
    registration.source = source
    registration.created_at = clock.now()  # back of the queue after cancelling
    if meeting.requires_approval:
        registration.status = PENDING
        for organizer in services.organizers(meeting) or hub_services.secretariat_members():
            mail(organizer, "meeting_pending", meeting, applicant=member,
                 note=registration.note,
                 queue_url=urls.absolute("meetings.participants", slug=meeting.slug))
    else:
        _seat(registration, meeting)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(str(_l("You have registered already.")), code="registered") from exc
    return registration


def get_registration(actor: Member, meeting: Meeting, registration_id: int) -> Registration:
    services.require_manager(actor, meeting)
    row = db.session.get(Registration, registration_id)
    if row is None or row.meeting_id != meeting.id:
        raise NotFound(str(_l("No such registration.")))
    return row


def approve(actor: Member, registration: Registration) -> Registration:
    meeting = registration.meeting
    services.require_manager(actor, meeting)
    if registration.status not in {PENDING, DECLINED}:
        raise Conflict(str(_l("This registration is not waiting for a decision.")),
                       code="not_pending")
    _lock(meeting)
    _seat(registration, meeting)
    hub_services.audit(actor, "meeting.registration.approve", meeting,
                       registration.member.email)
    db.session.commit()
    return registration


def _promote(meeting: Meeting) -> Registration | None:
    """Give a freed place to the first on the waiting list (in the caller's transaction)."""
    left = places_left(meeting)
    if left is not None and left <= 0:
        return None
    first = db.session.scalar(db.select(Registration).where(
        Registration.meeting_id == meeting.id, Registration.status == WAITLISTED)
        .order_by(Registration.created_at, Registration.id).limit(1))
    if first is None:
        return None
    first.status = CONFIRMED
    first.decided_at = clock.now()
    db.session.flush()
    _join(meeting, first.member)
    mail(first.member, "meeting_confirmed", meeting, calendar=True, promoted=True)
    return first


def _release(registration: Registration, status: str) -> None:
    meeting = registration.meeting
    _lock(meeting)
    was_seated = registration.status == CONFIRMED
    registration.status = status
    registration.decided_at = clock.now()
    _leave(meeting, registration.member)
    db.session.flush()
    if was_seated and not services.is_past(meeting):
        _promote(meeting)


def decline(actor: Member, registration: Registration, reason: str = "") -> Registration:
    meeting = registration.meeting
    services.require_manager(actor, meeting)
    if registration.status == DECLINED:
        return registration
    _release(registration, DECLINED)
    mail(registration.member, "meeting_declined", meeting, reason=(reason or "").strip())
    hub_services.audit(actor, "meeting.registration.decline", meeting,
                       registration.member.email)
    db.session.commit()
    return registration


def cancel(member: Member, meeting: Meeting) -> Registration:
    """The member withdraws; a place they held goes to the waiting list."""
    registration = registration_of(member, meeting)
    if registration is None or registration.status not in {PENDING, CONFIRMED, WAITLISTED}:
        raise Conflict(str(_l("You are not registered.")), code="not_registered")
    _release(registration, CANCELLED)
    db.session.commit()
    return registration


def invite(actor: Member, meeting: Meeting, emails: str = "", whole_group: bool = False
           ) -> list[Member]:
    """Mail an invitation with the event (METHOD:REQUEST) to members named by address,
    or to everyone in the meeting's group."""
    services.require_manager(actor, meeting)
    if meeting.announced_at is None:
        raise Conflict(str(_l("Announce the meeting before inviting people.")),
                       code="draft")
    people: list[Member] = []
    if whole_group and meeting.group_id is not None:
        people.extend(db.session.scalars(
            db.select(Member).join(GroupMembership, GroupMembership.member_id == Member.id)
            .where(GroupMembership.group_id == meeting.group_id,
                   Member.status == MemberStatus.ACTIVE).order_by(Member.id)))
    for raw in emails.replace(",", "\n").replace(";", "\n").splitlines():
        raw = raw.strip()
        if not raw:
            continue
        member = hub_services.member_by_email(raw)
        if member is None or member.status != MemberStatus.ACTIVE:
            raise Invalid(str(_l("%(email)s is not an active member.", email=raw)),
                          fields={"emails": "unknown"})
        if not access.can_read(member, meeting):
            raise Invalid(str(_l("%(email)s may not see this meeting.", email=raw)),
                          fields={"emails": "no_access"})
        people.append(member)
    unique = list({m.id: m for m in people}.values())
    if not unique:
        raise Invalid(str(_l("Name at least one member to invite.")),
                      fields={"emails": "required"})
    for member in unique:
        mail(member, "meeting_invitation", meeting, calendar=True, inviter=actor)
    hub_services.audit(actor, "meeting.invite", meeting, f"{len(unique)} people")
    db.session.commit()
    return unique


def cancel_meeting(actor: Member, meeting: Meeting, reason: str) -> Meeting:
    """Call the meeting off: registration closes, its board locks, and everyone
    registered (or waiting) is told why, with a METHOD:CANCEL calendar entry."""
    services.require_manager(actor, meeting)
    if meeting.cancelled_at is not None:
        raise Conflict(str(_l("This meeting was cancelled.")), code="cancelled")
    if services.is_past(meeting):
        raise Conflict(str(_l("This meeting has taken place.")), code="past")
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid(str(_l("Say why the meeting is cancelled.")), fields={"reason": "required"})
    meeting.cancelled_at = clock.now()
    meeting.registration_open = False
    meeting.sequence = (meeting.sequence or 0) + 1
    if meeting.board is not None:
        meeting.board.locked = True
    for row in registrations(meeting, (PENDING, CONFIRMED, WAITLISTED)):
        mail(row.member, "meeting_cancelled", meeting, calendar=True, reason=reason[:2000])
    hub_services.audit(actor, "meeting.cancel", meeting, reason[:500])
    db.session.commit()
    return meeting
