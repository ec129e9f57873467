"""The listserv's tables: the log of received mail (raw message, verdict, reason), the
outbox and per-(post, member) delivery records of list mail, bounces, digests and the
requests by email that wait for confirmation.
Imports `hub` and `forums`."""

from __future__ import annotations

from datetime import datetime

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

from forums.models import Board, Post
from hub import clock
from hub.extensions import db
from hub.models import Member
from hub.types import UTCDateTime

# What became of a received message. "received" and "processing" are on the way; the
# others are final until the Secretariat reprocesses or drops a message.
# "moderated": a moderator's reply approved or rejected a held post; "forwarded": mail to
# postmaster@ or SLUG-owner@, passed on to the Secretariat or the board's moderators.
INBOUND_STATUSES = ("received", "processing", "posted", "held", "moderated", "rejected",
                    "discarded", "bounce", "command", "forwarded", "quarantined", "dropped")


class InboundMessage(db.Model):
    """One received message for one list address, stored raw before it is acknowledged.

    `dedupe_key` (the Message-ID and the recipient, hashed) makes a second copy of the
    same message to the same address a no-op, whichever gateway receives it.
    """

    __tablename__ = "list_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str] = mapped_column(String(998), default="")
    recipient: Mapped[str] = mapped_column(String(320))
    mail_from: Mapped[str] = mapped_column(String(320), default="")  # envelope; "" for <>
    from_address: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # loaded when read
    channel: Mapped[str] = mapped_column(String(10), default="smtp")  # lmtp | smtp | pipe
    status: Mapped[str] = mapped_column(String(20), default="received")
    rule: Mapped[str] = mapped_column(String(40), default="")  # the rule that decided
    reason: Mapped[str] = mapped_column(Text, default="")  # for people
    board_id: Mapped[int | None] = mapped_column(ForeignKey("board.id", ondelete="SET NULL"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="SET NULL"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    board: Mapped[Board | None] = relationship()
    post: Mapped[Post | None] = relationship()
    member: Mapped[Member | None] = relationship()

    __table_args__ = (
        Index("ix_list_inbound_status_received_at", "status", "received_at"),
        Index("ix_list_inbound_from_address_notice_sent_at", "from_address", "notice_sent_at"),
        Index("ix_list_inbound_received_at", "received_at"),
    )


class Outbox(db.Model):
    """A published post waiting to go out as list mail; written in the post's own
    transaction by the `post_pending` listener, together with the fan-out job."""

    __tablename__ = "list_outbox"

    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"),
                                         primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recipients: Mapped[int] = mapped_column(Integer, default=0)


# pending: to send; sent; skipped: no longer subscribed or allowed at send time;
# failed: refused for good or quarantined after retries; dropped: by the Secretariat.
DELIVERY_STATUSES = ("pending", "sent", "skipped", "failed", "dropped")


class Delivery(db.Model):
    """One member's copy of one post. Written before anything is sent; marked sent in its
    own commit right after the SMTP server accepted it, so a worker that dies loses
    nothing and a restarted one sends nothing twice."""

    __tablename__ = "list_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    member: Mapped[Member] = relationship()
    post: Mapped[Post] = relationship()

    __table_args__ = (
        UniqueConstraint("post_id", "member_id", name="uq_list_delivery_post_id_member_id"),
        Index("ix_list_delivery_status", "status"),
        Index("ix_list_delivery_member_id", "member_id"),
    )


class Bounce(db.Model):
    """A delivery failure reported for a member: a DSN, a VERP return, an SMTP refusal."""

    __tablename__ = "list_bounce"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("list_inbound.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))  # hard | soft
    scored: Mapped[bool] = mapped_column(Boolean, default=False)  # counted towards the score
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    __table_args__ = (Index("ix_list_bounce_member_id_created_at", "member_id", "created_at"),)


class DigestRun(db.Model):
    """One member's digest for one period, across every board they follow in that mode:
    written before sending, so a period is never sent twice, whichever worker gets there
    first. (`board_id` is set only on runs from before digests were combined.)"""

    __tablename__ = "list_digest"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(10))  # daily | weekly
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="sending")  # sending|sent|failed
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("member_id", "mode", "period_start",
                         name="uq_list_digest_member_id_mode_period_start"),
    )


class CommandRequest(db.Model):
    """A change asked for by email (subscribe, unsubscribe, a digest mode) that waits for
    the member to confirm it: anyone can forge From, so mail alone never changes a
    subscription (after GNU Mailman 3's pending requests). The token that confirms it is
    signed (`listserv.addresses`); this row makes it work once (`confirmed_at`) and only
    until `expires_at`."""

    __tablename__ = "list_command_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"))
    # The message that asked, and the one that confirmed (none when confirmed on the web).
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("list_inbound.id", ondelete="SET NULL"))
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("list_inbound.id", ondelete="SET NULL"))
    # What was asked, in order: [{"command": "digest weekly", "mode": "weekly"}, ...]
    changes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_via: Mapped[str] = mapped_column(String(10), default="")  # email | web

    member: Mapped[Member] = relationship()
    board: Mapped[Board] = relationship()

    __table_args__ = (
        Index("ix_list_command_request_member_id_created_at", "member_id", "created_at"),
    )


class ListDefaults(db.Model):
    """The network's defaults for a newly approved member (one row): which boards they
    follow at once, and how. Members approved before a change keep their settings."""

    __tablename__ = "list_defaults"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    board_mode: Mapped[str] = mapped_column(String(10), default="each")
    # The boards of the member's thematic areas; "none" leaves them out.
    thematic_mode: Mapped[str] = mapped_column(String(10), default="daily")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))


DIGEST_FORMATS = ("standard", "mime")  # text + HTML, or RFC 1153 multipart/digest


class MemberListPrefs(db.Model):
    """A member's list preferences beyond per-board modes: the digest format."""

    __tablename__ = "list_member_prefs"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"),
                                           primary_key=True)
    digest_format: Mapped[str] = mapped_column(String(10), default="standard")


AUDIENCES = ("all", "group", "country", "region")


class Announcement(db.Model):
    """A post the Secretariat sent to part of the network: list mail for it (each post and
    digests) goes only to the members of the audience. The post itself is the web
    archive."""

    __tablename__ = "list_announcement"

    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"),
                                         primary_key=True)
    audience: Mapped[str] = mapped_column(String(10), default="all")
    value: Mapped[str] = mapped_column(String(64), default="")  # group slug, country, region
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
