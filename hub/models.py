"""The hub's own tables: members, thematic areas, groups, API tokens, jobs, the dev
mailbox and the audit log. Imports only `hub` modules."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from hub import clock
from hub.content import Translatable
from hub.extensions import db
from hub.types import UTCDateTime


class Role(enum.StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    SECRETARIAT = "secretariat"


class MemberStatus(enum.StrEnum):
    UNVERIFIED = "unverified"  # applied, email not yet confirmed
    PENDING = "pending"  # email confirmed, waiting for the Secretariat
    INVITED = "invited"  # invited by the Secretariat, no password chosen yet
    ACTIVE = "active"
    REJECTED = "rejected"
    DEACTIVATED = "deactivated"


ORG_TYPES = (
    "government",
    "research",
    "intergovernmental",
    "ngo",
    "donor",
    "private",
    "other",
)

member_expertise = Table(
    "member_expertise",
    db.metadata,
    Column("member_id", ForeignKey("member.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("thematic_area.id", ondelete="CASCADE"), primary_key=True),
)


class ThematicArea(Translatable, db.Model):
    """An area of the capacity-building Action Plan; the Secretariat edits the list."""

    __translatable__ = {"name": "text"}

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Member(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    organization: Mapped[str] = mapped_column(String(200), default="")
    org_type: Mapped[str] = mapped_column(String(40), default="other")
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(20))
    bio: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    show_email: Mapped[bool] = mapped_column(Boolean, default=False)
    role: Mapped[str] = mapped_column(String(20), default=Role.MEMBER.value)
    status: Mapped[str] = mapped_column(String(20), default=MemberStatus.UNVERIFIED.value)
    rules_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    # Bumped on every password change: it voids sessions, remember cookies and links.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    bounce_score: Mapped[float] = mapped_column(default=0.0)
    delivery_disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    expertise: Mapped[list[ThematicArea]] = relationship(
        secondary=member_expertise, order_by=ThematicArea.position
    )

    __table_args__ = (Index("ix_member_status", "status"), Index("ix_member_country", "country"))

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive members
        return self.status == MemberStatus.ACTIVE

    def set_password(self, password: str) -> None:
        method = current_app.config.get("HUB_PASSWORD_HASH", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_secretariat(self) -> bool:
        return self.role == Role.SECRETARIAT and self.is_active

    @property
    def is_moderator(self) -> bool:
        return self.role in {Role.MODERATOR, Role.SECRETARIAT} and self.is_active

    @property
    def roles(self) -> list[str]:
        return [self.role]


class Group(Translatable, db.Model):
    """A named group with closed membership (the liaison group, a conference's
    participants); managers add and remove members."""

    __translatable__ = {"name": "text", "description": "text"}

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # "system" groups are owned by another feature (a conference) and not edited directly.
    kind: Mapped[str] = mapped_column(String(20), default="group")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class GroupMembership(db.Model):
    group_id: Mapped[int] = mapped_column(
        ForeignKey("group.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True
    )
    is_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    group: Mapped[Group] = relationship()
    member: Mapped[Member] = relationship()

    __table_args__ = (Index("ix_group_membership_member_id", "member_id"),)


class GroupChair(db.Model):
    """The chairperson a group elected (the liaison group's chair): shown on the group's
    page; `hub.access` lets them moderate the group's places (its board, its meetings)."""

    group_id: Mapped[int] = mapped_column(
        ForeignKey("group.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    elected_on: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    member: Mapped[Member] = relationship()

    __table_args__ = (Index("ix_group_chair_member_id", "member_id"),)


class ApiToken(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="")
    # Only a SHA-256 of the secret is kept; the prefix lets a member recognise a token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    member: Mapped[Member] = relationship()

    __table_args__ = (Index("ix_api_token_member_id", "member_id"),)


class Job(db.Model):
    """A unit of background work, written in the transaction that caused it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_job_status_run_at", "status", "run_at"),)


class IdempotentRequest(db.Model):
    """An API POST sent with an `Idempotency-Key`: what it was (a fingerprint of method,
    path and body) and the first answer, replayed to retries for a day."""

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(80))  # "member:<id>", or the client address
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)  # None: still running
    body: Mapped[bytes] = mapped_column(db.LargeBinary, default=b"")
    location: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    __table_args__ = (db.UniqueConstraint("owner", "key"),
                      Index("ix_idempotent_request_created_at", "created_at"))


class DevMail(db.Model):
    """The local mailbox: where mail goes when no SMTP server is configured."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(400))
    recipients: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[bytes] = mapped_column(db.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class AuditEntry(db.Model):
    """Who did what to whom: Secretariat and moderator actions, for the Secretariat."""

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    actor: Mapped[Member | None] = relationship()

    __table_args__ = (Index("ix_audit_entry_created_at", "created_at"),)


class SiteText(Translatable, db.Model):
    """A text the Secretariat writes for the whole network (the rules, the welcome on
    the home page), in Markdown, with its translations. No row: the built-in text."""

    __translatable__ = {"body": "markdown"}

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now,
                                                 onupdate=clock.now)
