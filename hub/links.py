"""Signed, expiring links (verify email, reset password, set password, change email).

Each payload carries the member's `session_version` (bumped by every password change)
and the email it was made for, so a link dies when it has been used, when the password
changes, or when the email changes: single use without a table of used tokens.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from hub.extensions import db
from hub.models import Member


class LinkError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "expired" | "invalid" | "used"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"hub-link-{purpose}")


def make(purpose: str, member: Member, **extra: Any) -> str:
    payload = {"m": member.id, "v": member.session_version, "e": member.email, **extra}
    return _serializer(purpose).dumps(payload)


def load(purpose: str, token: str, max_age: int | None = None) -> tuple[Member, dict[str, Any]]:
    """The member a link was made for, or LinkError saying why it no longer works."""
    age = max_age or current_app.config["HUB_TOKEN_MAX_AGE"]
    try:
        payload = _serializer(purpose).loads(token, max_age=age)
    except SignatureExpired as exc:
        raise LinkError("expired") from exc
    except BadSignature as exc:
        raise LinkError("invalid") from exc
    member = db.session.get(Member, payload.get("m"))
    if member is None:
        raise LinkError("invalid")
    if member.session_version != payload.get("v") or member.email != payload.get("e"):
        raise LinkError("used")
    return member, payload
