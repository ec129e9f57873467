"""The conferences' tables: conferences, their partners, background documents and rounds,
registrations, the record of what the schedule has announced, and proceedings.
Imports `hub` and `forums`.

A conference owns no discussion of its own: its discussion is a forums `Board` (kind
"conference", visibility "group") whose participants group and moderators group are hub
`Group`s, so every access decision is `hub.access` on that board.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forums.models import Board, Topic
from hub import clock
from hub.content import Translatable
from hub.extensions import db
from hub.models import Group, Member
from hub.types import UTCDateTime

# Registration statuses. "invited" waits for the invitee, "pending" for a moderator.
PENDING, INVITED, APPROVED, DECLINED, WITHDRAWN, REMOVED = (
    "pending", "invited", "approved", "declined", "withdrawn", "removed")
REGISTRATION_STATUSES = (PENDING, INVITED, APPROVED, DECLINED, WITHDRAWN, REMOVED)
# How a registration came about.
SOURCES = ("application", "invitation", "group", "email", "added")


class Conference(Translatable, db.Model):
    __translatable__ = {"title": "text", "theme": "text", "description": "markdown"}

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    theme: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    description_html: Mapped[str] = mapped_column(Text, default="")  # hub.markup.render
    keywords: Mapped[str] = mapped_column(String(500), default="")  # comma-separated
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="RESTRICT"),
                                          unique=True)
    participants_group_id: Mapped[int] = mapped_column(
        ForeignKey("group.id", ondelete="RESTRICT"))
    moderators_group_id: Mapped[int] = mapped_column(ForeignKey("group.id", ondelete="RESTRICT"))
    lead_moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))
    # The schedule, in UTC. Registration closes at `registration_closes_at`, or when the
    # conference closes if that is not set.
    registration_opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Null: a draft only the Secretariat and the moderators see.
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set once the closing is announced and every round is locked: the worker's periodic
    # task then skips the conference (one indexed query per round of the worker).
    schedule_done: Mapped[bool] = mapped_column(Boolean, default=False)
    # Called off by the Secretariat before it closed, and why (shown on its page and
    # mailed to everyone concerned; the audit log says who).
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # ISO codes of the countries it is held in or about (its country pages list it).
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))

    board: Mapped[Board] = relationship()
    participants_group: Mapped[Group] = relationship(foreign_keys=[participants_group_id])
    moderators_group: Mapped[Group] = relationship(foreign_keys=[moderators_group_id])
    lead_moderator: Mapped[Member | None] = relationship(foreign_keys=[lead_moderator_id])
    rounds: Mapped[list[Round]] = relationship(
        back_populates="conference", order_by=lambda: [Round.opens_at, Round.id],
        cascade="all, delete-orphan")
    partners: Mapped[list[Partner]] = relationship(
        order_by=lambda: [Partner.position, Partner.id], cascade="all, delete-orphan")
    documents: Mapped[list[Document]] = relationship(
        order_by=lambda: [Document.position, Document.id], cascade="all, delete-orphan")

    __table_args__ = (
        Index("ix_conference_schedule_done", "schedule_done"),
        Index("ix_conference_opens_at", "opens_at"),
    )

    @property
    def registration_deadline(self) -> datetime:
        return self.registration_closes_at or self.closes_at

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in self.keywords.split(",") if k.strip()]


class Partner(db.Model):
    """A co-sponsoring partner organization, with an uploaded logo (the CSP allows only
    our own images, and the PDF embeds it)."""

    __tablename__ = "conference_partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500), default="")
    logo_sha256: Mapped[str | None] = mapped_column(String(64))
    logo_type: Mapped[str] = mapped_column(String(40), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_conference_partner_conference_id", "conference_id"),)


class Document(db.Model):
    """A background document: a link, or a file stored by its SHA-256 with the forums'
    attachments."""

    __tablename__ = "conference_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(500), default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_conference_document_conference_id", "conference_id"),)


class Round(Translatable, db.Model):
    """One round of the agenda: its own dates and question, discussed in its own topic
    (created by the schedule when the round opens)."""

    __tablename__ = "conference_round"
    __translatable__ = {"title": "text", "question": "markdown"}

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(250))
    question: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    question_html: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="SET NULL"),
                                                 unique=True)
    # The schedule locked the topic when the round ended (a moderator may unlock it).
    auto_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    conference: Mapped[Conference] = relationship(back_populates="rounds")
    topic: Mapped[Topic | None] = relationship()
    created_by: Mapped[Member | None] = relationship()

    __table_args__ = (Index("ix_conference_round_conference_id", "conference_id"),)


class Registration(db.Model):
    """A member's place in a conference. Approved registrations and the participants
    group are kept equal by the services (and by a listener when someone edits the
    group directly)."""

    __tablename__ = "conference_registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    source: Mapped[str] = mapped_column(String(20), default="application")
    motivation: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")  # why declined, told to them
    # The participant's choice: not named in the proceedings ("A participant from X").
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    conference: Mapped[Conference] = relationship()
    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    decided_by: Mapped[Member | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        UniqueConstraint("conference_id", "member_id",
                         name="uq_conference_registration_conference_id_member_id"),
        Index("ix_conference_registration_conference_id_status", "conference_id", "status"),
        Index("ix_conference_registration_member_id", "member_id"),
    )


class Announcement(db.Model):
    """What the schedule has announced ("open", "round:<id>", "close"). The unique key is
    the claim: of several workers, only the one whose insert commits sends the mail."""

    __tablename__ = "conference_announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    sent: Mapped[bool] = mapped_column(Boolean, default=True)  # False: too late, skipped
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    __table_args__ = (
        UniqueConstraint("conference_id", "key",
                         name="uq_conference_announcement_conference_id_key"),
    )


class Proceedings(db.Model):
    """The Secretariat's draft and, once published, the frozen public edition (page,
    PDF and plain text)."""

    __tablename__ = "conference_proceedings"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"),
                                               unique=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    title: Mapped[str] = mapped_column(String(300), default="")
    introduction: Mapped[str] = mapped_column(Text, default="")  # Markdown
    conclusions: Mapped[str] = mapped_column(Text, default="")  # Markdown
    # {round_id (str): Markdown}: the moderators' summaries, editable in the draft.
    summaries: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The compiled record: rounds, numbered posts, participants, statistics.
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    compiled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The published edition: what the public page, the PDF and the text show.
    edition: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    text: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))

    conference: Mapped[Conference] = relationship()

    @property
    def is_published(self) -> bool:
        return self.published_at is not None
