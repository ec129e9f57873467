"""Membership services: applications, verification, approval, invitations, deactivation,
roles and profiles; the thematic areas and the network's own texts; and the helpers
every package's services use (addresses, the audit log, links in mail, the
Secretariat). Sign-in and passwords are in `hub.credentials`, groups in `hub.groups`.

Views and the API call these; they own the transaction, raise `hub.errors`, write the
audit log and emit events after commit.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from hub import clock, content, countries, events, links, markup
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import ORG_TYPES, AuditEntry, Member, MemberStatus, Role, SiteText, ThematicArea

MIN_PASSWORD = 10


def normalize_email(raw: str) -> str:
    """Validated, with the domain lower-cased; refuses anything that is not one address."""
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid(str(_l("That is not a valid email address.")),
                      fields={"email": str(exc)}) from exc
    return result.normalized.lower()


def check_password_strength(password: str, email: str = "") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(str(_l("Choose a password of at least %(n)d characters.", n=MIN_PASSWORD)),
                      fields={"password": "too_short"})
    if email and password.lower() == email.lower():
        raise Invalid(str(_l("Your password must not be your email address.")),
                      fields={"password": "weak"})


def member_by_email(email: str) -> Member | None:
    return db.session.scalar(db.select(Member).where(func.lower(Member.email) == email.lower()))


def audit(actor: Member | None, action: str, target: Any = None, detail: str = "") -> None:
    db.session.add(
        AuditEntry(
            actor_id=actor.id if actor else None,
            action=action,
            target_type=type(target).__name__.lower() if target is not None else "",
            target_id=getattr(target, "id", None),
            detail=detail[:2000],
        )
    )


def external(endpoint: str, **values: Any) -> str:
    """An absolute link for email, built on HUB_BASE_URL (requests may come from elsewhere)."""
    return current_app.config["HUB_BASE_URL"] + url_for(endpoint, **values)


def secretariat_members() -> list[Member]:
    return list(
        db.session.scalars(
            db.select(Member).where(
                Member.role == Role.SECRETARIAT, Member.status == MemberStatus.ACTIVE
            )
        )
    )


# -- applications --------------------------------------------------------------------------

@dataclass(frozen=True)
class Application:
    name: str
    email: str
    password: str
    organization: str
    org_type: str
    country: str
    expertise: tuple[int, ...] = ()
    bio: str = ""
    language: str = "en"
    timezone: str = "UTC"
    accept_rules: bool = False


@dataclass
class ProfileData:
    name: str
    organization: str
    org_type: str
    country: str
    expertise: tuple[int, ...] = ()
    bio: str = ""
    language: str = "en"
    timezone: str = "UTC"
    show_email: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _check_profile(name: str, org_type: str, country: str, language: str, timezone: str) -> None:
    from hub.i18n import is_timezone

    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "required"
    if org_type not in ORG_TYPES:
        errors["org_type"] = "choice"
    if not countries.is_country(country):
        errors["country"] = "choice"
    if language not in current_app.config["LANGUAGES"]:
        errors["language"] = "choice"
    if not is_timezone(timezone):
        errors["timezone"] = "choice"
    if errors:
        raise Invalid(str(_l("Please correct the highlighted fields.")), fields=errors)


def _areas(ids: tuple[int, ...]) -> list[ThematicArea]:
    if not ids:
        return []
    return list(db.session.scalars(db.select(ThematicArea).where(ThematicArea.id.in_(ids))))


def apply(data: Application) -> Member | None:
    """Register an applicant and send the verification link.

    Returns None when the address already has an account: the applicant sees the same
    page either way (no account enumeration) and the owner of the address gets a note.
    """
    email = normalize_email(data.email)
    _check_profile(data.name, data.org_type, data.country, data.language, data.timezone)
    check_password_strength(data.password, email)
    if not data.accept_rules:
        raise Invalid(str(_l("You need to accept the network's rules to join.")),
                      fields={"accept_rules": "required"})
    existing = member_by_email(email)
    if existing is not None:
        send_mail(existing.email, "already_registered", language=existing.language,
                  name=existing.name, member=existing,
                  login_url=external("auth.login"),
                  reset_url=external("auth.forgot"))
        db.session.commit()
        return None
    member = Member(
        email=email,
        name=data.name.strip(),
        organization=data.organization.strip(),
        org_type=data.org_type,
        country=data.country.upper(),
        region=countries.region_of(data.country),
        bio=data.bio.strip(),
        language=data.language,
        timezone=data.timezone,
        rules_accepted_at=clock.now(),
        status=MemberStatus.UNVERIFIED,
        role=Role.MEMBER,
    )
    member.set_password(data.password)
    member.expertise = _areas(data.expertise)
    db.session.add(member)
    db.session.flush()
    _send_verification(member)
    db.session.commit()
    events.member_applied.send(current_app._get_current_object(),
                               event=events.MemberEvent(member.id))
    return member


def _send_verification(member: Member) -> None:
    token = links.make("verify", member)
    send_mail(member.email, "verify_email", language=member.language, name=member.name,
              member=member, url=external("auth.verify", token=token))


def resend_verification(email: str) -> None:
    member = member_by_email(normalize_email(email))
    if member is not None and member.status == MemberStatus.UNVERIFIED:
        _send_verification(member)
        db.session.commit()


def verify_email(token: str) -> Member:
    member, _ = links.load("verify", token)
    if member.status != MemberStatus.UNVERIFIED:
        raise links.LinkError("used")
    member.email_verified_at = clock.now()
    member.session_version += 1  # the link is single use
    if current_app.config["HUB_AUTO_APPROVE"]:
        _activate(member, None)
    else:
        member.status = MemberStatus.PENDING
        for sec in secretariat_members():
            send_mail(sec.email, "application_waiting", language=sec.language, name=sec.name,
                      applicant=member, url=external("secretariat.applications"))
    db.session.commit()
    if member.status == MemberStatus.ACTIVE:
        events.member_approved.send(current_app._get_current_object(),
                                    event=events.MemberEvent(member.id))
    return member


def _activate(member: Member, actor: Member | None) -> None:
    member.status = MemberStatus.ACTIVE
    member.approved_at = clock.now()
    member.rejection_reason = ""
    audit(actor, "member.approve", member)
    send_mail(member.email, "approved", language=member.language, name=member.name,
              member=member, url=external("auth.login"))


def pending_applications() -> list[Member]:
    return list(
        db.session.scalars(
            db.select(Member)
            .where(Member.status.in_([MemberStatus.PENDING, MemberStatus.UNVERIFIED]))
            .order_by(Member.created_at)
        )
    )


def approve(actor: Member, member: Member) -> Member:
    if not actor.is_secretariat:
        raise Forbidden(str(_l("Only the Secretariat can approve members.")))
    if member.status not in {MemberStatus.PENDING, MemberStatus.REJECTED,
                             MemberStatus.UNVERIFIED}:
        raise Conflict(str(_l("This application is not waiting for approval.")))
    if member.status == MemberStatus.UNVERIFIED or (
            member.email_verified_at is None and member.status == MemberStatus.PENDING):
        # Nobody has shown the address works: approving would mail a stranger.
        raise Conflict(str(_l("The applicant has not confirmed the email address yet.")))
    if member.email_verified_at is None:
        member.email_verified_at = clock.now()  # a rejected member's application again
    _activate(member, actor)
    db.session.commit()
    events.member_approved.send(current_app._get_current_object(),
                                event=events.MemberEvent(member.id))
    return member


def reject(actor: Member, member: Member, reason: str) -> Member:
    if not actor.is_secretariat:
        raise Forbidden(str(_l("Only the Secretariat can reject applications.")))
    if not reason.strip():
        raise Invalid(str(_l("Please give the applicant a reason.")), fields={"reason": "required"})
    if member.status not in {MemberStatus.PENDING, MemberStatus.UNVERIFIED}:
        raise Conflict(str(_l("This application is not waiting for approval.")))
    member.status = MemberStatus.REJECTED
    member.rejection_reason = reason.strip()
    audit(actor, "member.reject", member, reason)
    send_mail(member.email, "rejected", language=member.language, name=member.name,
              member=member, reason=reason.strip())
    db.session.commit()
    return member


def deactivate(actor: Member, member: Member) -> Member:
    if not actor.is_secretariat:
        raise Forbidden(str(_l("Only the Secretariat can deactivate members.")))
    if member.id == actor.id:
        raise Conflict(str(_l("You cannot deactivate your own account.")))
    member.status = MemberStatus.DEACTIVATED
    member.session_version += 1  # ends every session and API use at once
    audit(actor, "member.deactivate", member)
    db.session.commit()
    events.member_deactivated.send(current_app._get_current_object(),
                                   event=events.MemberEvent(member.id))
    return member


def reactivate(actor: Member, member: Member) -> Member:
    if not actor.is_secretariat:
        raise Forbidden(str(_l("Only the Secretariat can reactivate members.")))
    if member.status != MemberStatus.DEACTIVATED:
        raise Conflict(str(_l("This member is not deactivated.")))
    member.status = MemberStatus.ACTIVE
    audit(actor, "member.reactivate", member)
    db.session.commit()
    return member


def set_role(actor: Member, member: Member, role: str) -> Member:
    if not actor.is_secretariat:
        raise Forbidden(str(_l("Only the Secretariat can change roles.")))
    if role not in {r.value for r in Role}:
        raise Invalid(str(_l("Unknown role.")), fields={"role": "choice"})
    if member.id == actor.id and role != Role.SECRETARIAT:
        raise Conflict(str(_l("You cannot remove your own Secretariat role.")))
    member.role = role
    audit(actor, "member.role", member, role)
    db.session.commit()
    return member


# -- invitations ---------------------------------------------------------------------------

@dataclass
class InvitationReport:
    invited: list[str] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (line, email, why)


def invite_csv(actor: Member, text: str) -> InvitationReport:
    """Bulk invitation from CSV with columns name, email, organization, country."""
    if not actor.is_secretariat:
        raise Forbidden(str(_l("Only the Secretariat can invite members.")))
    report = InvitationReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = {h.strip().lower() for h in (reader.fieldnames or [])}
    if not {"name", "email"} <= headers:
        raise Invalid(str(_l("The CSV needs a header row with at least: name, email "
                             "(and optionally organization, country).")),
                      fields={"file": "headers"})
    seen: set[str] = set()
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        name, email = row.get("name", ""), row.get("email", "")
        country = row.get("country", "").upper()
        try:
            email = normalize_email(email)
        except Invalid:
            report.refused.append((line, email, str(_l("not a valid email address"))))
            continue
        if not name:
            report.refused.append((line, email, str(_l("the name is missing"))))
            continue
        if country and not countries.is_country(country):
            report.refused.append((line, email, str(_l("unknown country code"))))
            continue
        if email in seen or member_by_email(email) is not None:
            report.refused.append((line, email, str(_l("already a member or invited"))))
            continue
        seen.add(email)
        member = Member(
            email=email, name=name, organization=row.get("organization", ""),
            country=country or None, region=countries.region_of(country) if country else None,
            status=MemberStatus.INVITED, role=Role.MEMBER,
        )
        db.session.add(member)
        db.session.flush()
        _send_invitation(member, actor)
        report.invited.append(email)
    audit(actor, "member.invite", None, f"{len(report.invited)} invited, "
          f"{len(report.refused)} refused")
    db.session.commit()
    return report


def _send_invitation(member: Member, actor: Member | None) -> None:
    token = links.make("invite", member)
    send_mail(member.email, "invitation", language=member.language, name=member.name,
              member=member, inviter=actor, url=external("auth.accept_invitation", token=token),
              max_age_days=max(1, current_app.config["HUB_TOKEN_MAX_AGE"] // 86400) * 7)


def invitation_member(token: str) -> Member:
    member, _ = links.load("invite", token, max_age=current_app.config["HUB_TOKEN_MAX_AGE"] * 7)
    if member.status != MemberStatus.INVITED:
        raise links.LinkError("used")
    return member


def accept_invitation(token: str, password: str, data: ProfileData) -> Member:
    member = invitation_member(token)
    check_password_strength(password, member.email)
    update_profile(member, data, commit=False)
    member.set_password(password)
    member.email_verified_at = clock.now()
    member.rules_accepted_at = clock.now()
    member.status = MemberStatus.ACTIVE
    member.approved_at = clock.now()
    db.session.commit()
    events.member_approved.send(current_app._get_current_object(),
                                event=events.MemberEvent(member.id))
    return member


# -- profile -------------------------------------------------------------------------------

def update_profile(member: Member, data: ProfileData, commit: bool = True) -> Member:
    _check_profile(data.name, data.org_type, data.country, data.language, data.timezone)
    member.name = data.name.strip()
    member.organization = data.organization.strip()
    member.org_type = data.org_type
    member.country = data.country.upper()
    member.region = countries.region_of(data.country)
    member.bio = data.bio.strip()
    member.language = data.language
    member.timezone = data.timezone
    member.show_email = data.show_email
    member.expertise = _areas(data.expertise)
    if commit:
        db.session.commit()
    return member


# -- thematic areas ------------------------------------------------------------------------

def area_id_for(slug: str) -> int | None:
    """The id of the thematic area with this slug (None for ""), or Invalid."""
    if not slug:
        return None
    area = db.session.scalar(db.select(ThematicArea).where(ThematicArea.slug == slug))
    if area is None:
        raise Invalid(str(_l("Unknown thematic area.")), fields={"thematic_area": "unknown"})
    return area.id


def thematic_areas(include_inactive: bool = False) -> list[ThematicArea]:
    query = db.select(ThematicArea).order_by(ThematicArea.position, ThematicArea.name)
    if not include_inactive:
        query = query.where(ThematicArea.active.is_(True))
    return list(db.session.scalars(query))


def save_area(actor: Member, name: str, area: ThematicArea | None = None,
              position: int | None = None, active: bool = True,
              translations: dict | None = None) -> ThematicArea:
    if not actor.is_secretariat:
        raise Forbidden(str(_l("Only the Secretariat can edit thematic areas.")))
    name = (name or "").strip()
    if not name:
        raise Invalid(str(_l("A name is required.")), fields={"name": "required"})
    if area is None:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80] or "area"
        if db.session.scalar(db.select(ThematicArea).where(ThematicArea.slug == slug)):
            raise Conflict(str(_l("That area exists already.")), fields={"name": "taken"})
        last = db.session.scalar(db.select(func.max(ThematicArea.position))) or 0
        area = ThematicArea(slug=slug, name=name, position=last + 1, translations={})
        db.session.add(area)
    area.name = name
    if translations is not None:
        content.set_translations(area, translations)
    area.active = active
    if position is not None:
        area.position = position
    audit(actor, "area.save", area, name)
    db.session.commit()
    return area


# -- the network's own texts (rules, welcome) -------------------------------------------------

SITE_TEXTS = ("rules", "welcome")


def site_text(key: str) -> SiteText | None:
    """The Secretariat's version of a network text; None: the built-in one is shown."""
    return db.session.get(SiteText, key) if key in SITE_TEXTS else None


def save_site_text(actor: Member, key: str, body: str,
                   translations: dict[str, dict[str, str]] | None = None,
                   source_lang: str | None = None) -> SiteText | None:
    """Write a network text; an empty original goes back to the built-in text."""
    if not actor.is_secretariat:
        raise Forbidden(str(_l("Only the Secretariat can edit the network's texts.")))
    if key not in SITE_TEXTS:
        raise NotFound(str(_l("No such text.")))
    row = db.session.get(SiteText, key)
    body = (body or "").strip()
    if not body:
        if row is not None:
            db.session.delete(row)
        audit(actor, "text.reset", None, key)
        db.session.commit()
        return None
    if row is None:
        row = SiteText(key=key, translations={})
        db.session.add(row)
    row.body, row.body_html = body, markup.render(body)
    content.set_translations(row, translations or {}, source_lang)
    audit(actor, "text.save", None, key)
    db.session.commit()
    return row
