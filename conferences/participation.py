"""Taking part: registering (by web, API and email), the moderators' decisions,
withdrawing, invitations to members, new people and groups, and the participants
group kept equal to the approved registrations (also when someone edits the group
directly). Imports `hub`, `forums`, `conferences`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from flask_babel import lazy_gettext as _l
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
    Registration,
)
from conferences.services import (
    CANCELLED,
    CLOSED,
    _mail,
    _required_text,
    can_manage,
    moderators,
    refuse_if_cancelled,
    registration_of,
    require_manager,
    status,
)
from forums import urls
from forums.models import Subscription
from hub import access, clock, links
from hub import groups as hub_groups
from hub import services as hub_services
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.models import Group, GroupMembership, Member, MemberStatus, Role

# -- registrations -------------------------------------------------------------------------------

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
        for link in hub_groups.group_members(group):
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
