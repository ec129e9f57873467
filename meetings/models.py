"""The meetings' tables: meetings (roundtables, workshops, consultations, liaison-group
meetings, webinars), their co-organizers, agenda and documents, registrations (with a
waiting list), participants' submissions, recommendations with progress notes, and the
record of reminders sent. Imports `hub` and `forums`.

A meeting is itself a "place" in `hub.access`'s sense (visibility, group, moderator
group): who may see it and who runs it are answered there. Its optional discussion is a
forums `Board` (kind "meeting", visibility "group") whose group is the participants, so
the board is a mailing list that follows the same rules without knowing about meetings.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forums.models import Board
from hub import clock
from hub.extensions import db
from hub.models import Group, Member, ThematicArea
from hub.types import UTCDateTime

KINDS = ("roundtable", "workshop", "consultation", "liaison", "webinar")
LEVELS = ("national", "regional", "global")
VISIBILITIES = ("public", "members", "group")
# Registration statuses: "pending" waits for an organizer, "waitlisted" for a place.
PENDING, CONFIRMED, WAITLISTED, DECLINED, CANCELLED = (
    "pending", "confirmed", "waitlisted", "declined", "cancelled")
REGISTRATION_STATUSES = (PENDING, CONFIRMED, WAITLISTED, DECLINED, CANCELLED)
SUBMISSION_KINDS = ("activities", "project_report", "work_plan", "collaboration")
REC_STATUSES = ("open", "in_progress", "done", "dropped")


class Meeting(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="workshop")
    level: Mapped[str] = mapped_column(String(20), default="regional")
    region: Mapped[str | None] = mapped_column(String(20))  # UN regional group
    country: Mapped[str | None] = mapped_column(String(2))  # where it is held
    thematic_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("thematic_area.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    description_html: Mapped[str] = mapped_column(Text, default="")
    # The meeting's own zone: its times are entered and printed in it.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    venue: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    # Access, read by hub.access: "public" | "members" | "group" (then `group_id`).
    visibility: Mapped[str] = mapped_column(String(20), default="public")
    group_id: Mapped[int | None] = mapped_column(ForeignKey("group.id", ondelete="SET NULL"))
    # The organizers (moderate the meeting and its board); the Secretariat always does.
    moderator_group_id: Mapped[int] = mapped_column(ForeignKey("group.id", ondelete="RESTRICT"))
    participants_group_id: Mapped[int] = mapped_column(
        ForeignKey("group.id", ondelete="RESTRICT"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("board.id", ondelete="SET NULL"),
                                                 unique=True)
    capacity: Mapped[int | None] = mapped_column(Integer)  # None: no limit
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    registration_open: Mapped[bool] = mapped_column(Boolean, default=True)
    submission_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: a draft
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on every change of time or place: calendars replace the event (RFC 5545).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    proceedings: Mapped[str] = mapped_column(Text, default="")  # Markdown
    proceedings_html: Mapped[str] = mapped_column(Text, default="")
    proceedings_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))

    thematic_area: Mapped[ThematicArea | None] = relationship()
    group: Mapped[Group | None] = relationship(foreign_keys=[group_id])
    moderator_group: Mapped[Group] = relationship(foreign_keys=[moderator_group_id])
    participants_group: Mapped[Group] = relationship(foreign_keys=[participants_group_id])
    board: Mapped[Board | None] = relationship()
    organizers: Mapped[list[CoOrganizer]] = relationship(
        order_by=lambda: [CoOrganizer.position, CoOrganizer.id], cascade="all, delete-orphan")
    agenda: Mapped[list[AgendaItem]] = relationship(
        order_by=lambda: [AgendaItem.position, AgendaItem.id], cascade="all, delete-orphan")
    documents: Mapped[list[MeetingDocument]] = relationship(
        order_by=lambda: [MeetingDocument.position, MeetingDocument.id],
        cascade="all, delete-orphan")
    recommendations: Mapped[list[Recommendation]] = relationship(
        order_by=lambda: [Recommendation.number, Recommendation.id],
        cascade="all, delete-orphan", back_populates="meeting")

    __table_args__ = (
        Index("ix_meeting_starts_at", "starts_at"),
        Index("ix_meeting_country", "country"),
    )

    # The rest of hub.access's Place: a meeting has no posting window of its own.
    posting = "all"
    opens_at = None
    closes_at = None
    locked = False


class CoOrganizer(db.Model):
    """A co-organizing partner organization, with an uploaded logo (served by the hub:
    the CSP allows only our own images)."""

    __tablename__ = "meeting_organizer"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500), default="")
    logo_sha256: Mapped[str | None] = mapped_column(String(64))
    logo_type: Mapped[str] = mapped_column(String(40), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_meeting_organizer_meeting_id", "meeting_id"),)


class AgendaItem(db.Model):
    __tablename__ = "meeting_agenda_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_meeting_agenda_item_meeting_id", "meeting_id"),)


class MeetingDocument(db.Model):
    """A link, or a file stored by its SHA-256 with the forums' attachments."""

    __tablename__ = "meeting_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(5), default="en")
    url: Mapped[str] = mapped_column(String(500), default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_meeting_document_meeting_id", "meeting_id"),)


class Registration(db.Model):
    """A member's RSVP. Confirmed registrations and the participants group are kept
    equal by the services; the waiting list is served in order of `created_at`."""

    __tablename__ = "meeting_registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    source: Mapped[str] = mapped_column(String(20), default="web")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    meeting: Mapped[Meeting] = relationship()
    member: Mapped[Member] = relationship()

    __table_args__ = (
        UniqueConstraint("meeting_id", "member_id",
                         name="uq_meeting_registration_meeting_id_member_id"),
        Index("ix_meeting_registration_meeting_id_status", "meeting_id", "status"),
        Index("ix_meeting_registration_member_id", "member_id"),
    )


class Submission(db.Model):
    """A participant's input before the meeting, one per kind, editable until the
    deadline; shared with the other participants in the pre-meeting document."""

    __tablename__ = "meeting_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    body_html: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    member: Mapped[Member] = relationship()

    __table_args__ = (
        UniqueConstraint("meeting_id", "member_id", "kind",
                         name="uq_meeting_submission_meeting_id_member_id_kind"),
    )


class Recommendation(db.Model):
    """An actionable recommendation: its owner (a member or an organization), due date
    and status, followed up with dated progress notes."""

    __tablename__ = "meeting_recommendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text)  # Markdown
    text_html: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    owner_organization: Mapped[str] = mapped_column(String(200), default="")
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    meeting: Mapped[Meeting] = relationship(back_populates="recommendations")
    owner: Mapped[Member | None] = relationship()
    notes: Mapped[list[ProgressNote]] = relationship(
        order_by=lambda: [ProgressNote.created_at, ProgressNote.id],
        cascade="all, delete-orphan")

    __table_args__ = (
        Index("ix_meeting_recommendation_meeting_id", "meeting_id"),
        Index("ix_meeting_recommendation_status_due_on", "status", "due_on"),
    )


class ProgressNote(db.Model):
    __tablename__ = "meeting_progress_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_recommendation.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="")  # the status it set
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    author: Mapped[Member | None] = relationship()

    __table_args__ = (Index("ix_meeting_progress_note_recommendation_id",
                            "recommendation_id"),)


class Reminder(db.Model):
    """What the reminders have sent ("start", "submissions", "rec:<id>:<due>"). The unique
    key is the claim: of several workers, only the one whose insert commits sends mail."""

    __tablename__ = "meeting_reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(60))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    __table_args__ = (
        UniqueConstraint("meeting_id", "key", name="uq_meeting_reminder_meeting_id_key"),
    )
