"""The forums' tables: boards, topics, posts (with revisions, flags and attachments),
subscriptions and read markers. Imports only `hub`.

Ordering inside a topic is stored, never computed on read: `Post.position` is the 1-based
arrival order (flat view, keyset pagination) and `Post.thread_key` the materialized path
of positions (threaded view, keyset pagination), so a page of a long topic costs the same
as the first page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub import clock
from hub.content import Translatable
from hub.extensions import db
from hub.models import Group, Member, ThematicArea
from hub.types import UTCDateTime

VISIBILITIES = ("public", "members", "group")
POSTING = ("all", "moderators")
STATUSES = ("published", "held", "rejected")
SOURCES = ("web", "email", "api")
MODES = ("each", "daily", "weekly", "none")
POSITION_DIGITS = 8  # thread keys pad positions so that text order is thread order


class Board(Translatable, db.Model):
    """A place to discuss. The access fields are exactly those `hub.access` reads; a
    conference's discussion is a Board with kind "conference"."""

    __translatable__ = {"name": "text", "description": "text", "category": "text"}

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    thematic_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("thematic_area.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    visibility: Mapped[str] = mapped_column(String(20), default="public")
    group_id: Mapped[int | None] = mapped_column(ForeignKey("group.id", ondelete="SET NULL"))
    posting: Mapped[str] = mapped_column(String(20), default="all")
    moderator_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("group.id", ondelete="SET NULL"))
    premoderated: Mapped[bool] = mapped_column(Boolean, default=False)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # After `closes_at`, the board's moderators may still post summaries (posts of kind
    # "summary"), nobody anything else: a conference's moderators until its proceedings
    # are published.
    summaries_after_close: Mapped[bool] = mapped_column(Boolean, default=False,
                                                        server_default=false())
    kind: Mapped[str] = mapped_column(String(20), default="forum")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    # Kept up to date by the posting service so the board list needs no aggregates.
    topic_count: Mapped[int] = mapped_column(Integer, default=0)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Moves on with every change the board's pages show (topics and posts made, moved,
    # pinned, locked, renamed; the board's settings): kept pages are keyed by it.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    thematic_area: Mapped[ThematicArea | None] = relationship()
    group: Mapped[Group | None] = relationship(foreign_keys=[group_id])
    moderator_group: Mapped[Group | None] = relationship(foreign_keys=[moderator_group_id])

    __table_args__ = (
        CheckConstraint("visibility IN ('public', 'members', 'group')", name="visibility"),
        CheckConstraint("posting IN ('all', 'moderators')", name="posting"),
        Index("ix_board_kind_position", "kind", "position"),
    )


class Topic(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    post_count: Mapped[int] = mapped_column(Integer, default=0)  # published, not deleted
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    external_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # The first post's status: a held first post keeps the whole topic out of sight.
    status: Mapped[str] = mapped_column(String(20), default="published")
    # The position counter: incremented atomically for every new post (held ones too).
    last_position: Mapped[int] = mapped_column(Integer, default=0)
    # The newest published post (for "last post by" and unread markers).
    last_post_id: Mapped[int | None] = mapped_column(Integer)
    last_author_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))
    # Moves on with every change readers would see (posts made, edited, deleted; pin,
    # lock, rename): cached pages of the topic are keyed by it (forums.cache).
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The change counter: incremented in the transaction of every change to one of its
    # posts (made, published, edited, deleted, rejected), in commit order (the topic row
    # is locked by the increment). Live pages catch up by it (forums.sockets.catch_up).
    change_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    board: Mapped[Board] = relationship()
    author: Mapped[Member | None] = relationship(foreign_keys=[author_id])
    last_author: Mapped[Member | None] = relationship(foreign_keys=[last_author_id])

    __table_args__ = (
        Index("ix_topic_board_id_last_post_at", "board_id", "last_post_at", "id"),
        Index("ix_topic_board_id_pinned_last_post_at", "board_id", "pinned", "last_post_at",
              "id"),
    )


class Post(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="published")
    source: Mapped[str] = mapped_column(String(20), default="web")
    kind: Mapped[str] = mapped_column(String(20), default="post")
    position: Mapped[int] = mapped_column(Integer)
    # Materialized path of zero-padded positions, capped at MAX_DEPTH levels.
    thread_key: Mapped[str] = mapped_column(String(200))
    depth: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    edited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    elided: Mapped[str] = mapped_column(Text, default="")
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    # The topic's change number of this post's latest change, and of the change that
    # made it visible to every reader (0: never published).
    change_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    published_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    topic: Mapped[Topic] = relationship()
    parent: Mapped[Post | None] = relationship(remote_side=[id])
    author: Mapped[Member | None] = relationship(foreign_keys=[author_id])
    edited_by: Mapped[Member | None] = relationship(foreign_keys=[edited_by_id])
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="post", order_by="Attachment.id")

    __table_args__ = (
        UniqueConstraint("topic_id", "position", name="uq_post_topic_id_position"),
        Index("ix_post_topic_id_thread_key", "topic_id", "thread_key"),
        Index("ix_post_author_id_created_at", "author_id", "created_at"),
        # "Has this member held or rejected posts here?" on every page a member reads.
        Index("ix_post_topic_id_author_id", "topic_id", "author_id"),
        Index("ix_post_status", "status"),
        Index("ix_post_topic_id_change_seq", "topic_id", "change_seq"),
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class PostRevision(db.Model):
    """The text a post had before an edit; moderators read the history."""

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str | None] = mapped_column(String(300))
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    editor: Mapped[Member | None] = relationship()

    __table_args__ = (Index("ix_post_revision_post_id", "post_id"),)


EDIT_STATES = ("pending", "approved", "rejected", "replaced", "withdrawn")


class PostEdit(db.Model):
    """A member's edit of a published post on a pre-moderated board, waiting for a
    moderator: the published text stays until it is approved. A newer edit by the author
    replaces a pending one (its row becomes "replaced"), so a decision always names the
    text the moderator read."""

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str | None] = mapped_column(String(300))  # a first post's new title
    state: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))

    post: Mapped[Post] = relationship()
    editor: Mapped[Member | None] = relationship(foreign_keys=[editor_id])
    decided_by: Mapped[Member | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'approved', 'rejected', 'replaced', 'withdrawn')",
            name="state"),
        Index("ix_post_edit_post_id_state", "post_id", "state"),
        Index("ix_post_edit_state", "state"),
    )


class Flag(db.Model):
    """A member's report that a post needs a moderator's eyes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))
    resolution: Mapped[str] = mapped_column(String(40), default="")

    post: Mapped[Post] = relationship()
    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])

    __table_args__ = (
        UniqueConstraint("post_id", "member_id", name="uq_flag_post_id_member_id"),
        Index("ix_flag_resolved_at", "resolved_at"),
    )


class Attachment(db.Model):
    """A file on a post, stored once under the upload directory by its SHA-256."""

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    post: Mapped[Post] = relationship(back_populates="attachments")

    __table_args__ = (Index("ix_attachment_post_id", "post_id"),)


class Subscription(db.Model):
    """How a member follows a board or a topic; listserv delivers by `mode`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(10), default="each")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)

    member: Mapped[Member] = relationship()

    __table_args__ = (
        UniqueConstraint("member_id", "board_id", name="uq_subscription_member_id_board_id"),
        UniqueConstraint("member_id", "topic_id", name="uq_subscription_member_id_topic_id"),
        CheckConstraint("(board_id IS NULL) <> (topic_id IS NULL)", name="one_target"),
        CheckConstraint("mode IN ('each', 'daily', 'weekly', 'none')", name="mode"),
        Index("ix_subscription_board_id_mode", "board_id", "mode"),
        Index("ix_subscription_topic_id_mode", "topic_id", "mode"),
    )


class TopicRead(db.Model):
    """The newest post a member has seen in a topic. Written by explicit actions (the
    page's read beacon, "mark as read", posting), never by a page view."""

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True)
    last_post_id: Mapped[int] = mapped_column(Integer, default=0)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)


class BoardRead(db.Model):
    """"Mark all as read" on a board: topics with no activity since are read."""

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    board_id: Mapped[int] = mapped_column(
        ForeignKey("board.id", ondelete="CASCADE"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
