"""Signing in and what it rests on: checking a password (in the same time whether or not
the account exists), resetting and changing it, and changing the email address one
signs in with (confirmed by a link to the new address, the old one warned). Imports
`hub` only.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from hub import clock, links
from hub.errors import Conflict, Invalid
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import Member, MemberStatus
from hub.services import audit, check_password_strength, external, member_by_email, normalize_email


def authenticate(email: str, password: str) -> Member | None:
    """The member, or None; callers show one message for every failure."""
    member = member_by_email((email or "").strip())
    if member is None:
        # Spend the same time as a real check so timing does not reveal accounts.
        from werkzeug.security import check_password_hash, generate_password_hash

        check_password_hash(_dummy_hash(generate_password_hash), password or "")
        return None
    if not member.check_password(password or ""):
        return None
    return member


_DUMMY: str | None = None


def _dummy_hash(generate: Any) -> str:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = generate("not a real password")
    return _DUMMY


def request_password_reset(email: str) -> None:
    """Sends a link when the account exists; callers say the same thing either way."""
    try:
        member = member_by_email(normalize_email(email))
    except Invalid:
        return
    if member is None or member.status in {MemberStatus.DEACTIVATED, MemberStatus.REJECTED}:
        return
    token = links.make("reset", member)
    send_mail(member.email, "reset_password", language=member.language, name=member.name,
              member=member, url=external("auth.reset", token=token))
    db.session.commit()


def reset_password(token: str, password: str) -> Member:
    member, _ = links.load("reset", token)
    check_password_strength(password, member.email)
    member.set_password(password)
    if member.status == MemberStatus.INVITED:
        member.status = MemberStatus.ACTIVE
        member.approved_at = clock.now()
    if member.status == MemberStatus.UNVERIFIED:
        member.email_verified_at = clock.now()
        member.status = MemberStatus.PENDING
    db.session.commit()
    return member


def change_password(member: Member, current: str, new: str) -> None:
    if not member.check_password(current):
        raise Invalid(str(_l("Your current password is not right.")),
                      fields={"current_password": "wrong"})
    check_password_strength(new, member.email)
    member.set_password(new)  # ends all other sessions and voids outstanding links
    db.session.commit()


def request_email_change(member: Member, new_email: str, password: str) -> None:
    if not member.check_password(password):
        raise Invalid(str(_l("Your password is not right.")), fields={"password": "wrong"})
    email = normalize_email(new_email)
    if email == member.email:
        raise Invalid(str(_l("That is already your address.")), fields={"email": "same"})
    if member_by_email(email) is None:
        token = links.make("email", member, new=email)
        send_mail(email, "confirm_email_change", language=member.language, name=member.name,
                  member=member, new_email=email, url=external("auth.confirm_email", token=token))
    # Warn the old address either way; say nothing about whether the new one is taken.
    send_mail(member.email, "email_change_requested", language=member.language,
              name=member.name, member=member, new_email=email)
    db.session.commit()


def confirm_email_change(token: str) -> Member:
    member, payload = links.load("email", token)
    new = payload["new"]
    if member_by_email(new) is not None:
        raise Conflict(str(_l("That address now belongs to another account.")))
    member.email = new
    member.email_verified_at = clock.now()
    audit(member, "member.email_change", member)
    db.session.commit()
    return member
