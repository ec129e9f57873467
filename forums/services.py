"""The forums' core services: boards, the access helpers every forum module uses, and
THE posting path that the web pages, the API and email all use: `create_topic` and
`create_reply`. Beside it: `forums.editing` (edits and deletions), `forums.moderation`
(held posts, flags, the queue, topic actions), `forums.subscriptions`,
`forums.read_markers` and `forums.attachments`.

Every function here owns its transaction, decides access through `hub.access`, raises
`hub.errors` exceptions and emits `hub.events` signals: `post_pending` inside the
transaction (listeners add rows atomically), the others after commit. Imports only `hub`
and `forums`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from forums import mentions, urls
from forums.attachments import Upload, store_attachments
from forums.models import (
    POSITION_DIGITS,
    POSTING,
    VISIBILITIES,
    Board,
    Post,
    Topic,
    TopicRead,
)
from hub import access, clock, content, events, markup
from hub.errors import (
    Conflict,
    Forbidden,
    HubError,
    Invalid,
    NotAuthenticated,
    NotFound,
)
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import Group, Member
from hub.services import area_id_for, audit

log = logging.getLogger(__name__)

MAX_DEPTH = 5  # replies deeper than this are shown as siblings (threaded view)
MAX_TITLE = 300
MAX_BODY = 100_000
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")

DEFAULTS: dict[str, Any] = {
    # Service-level flood limit: at most HUB_FLOOD_POSTS posts per HUB_FLOOD_SECONDS per
    # member (moderators of the board are exempt); 0 switches it off.
    "HUB_FLOOD_POSTS": 10,
    "HUB_FLOOD_SECONDS": 60,
    "HUB_ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
    "HUB_ATTACHMENT_MAX_COUNT": 5,
    "HUB_FORUM_PAGE_SIZE": 20,
}


class TooFast(HubError):
    status = 429
    code = "rate_limited"


def signal_sender() -> Any:
    return current_app._get_current_object()


def cfg(key: str) -> Any:
    return current_app.config.get(key, DEFAULTS.get(key))


def ensure_visible(who: Any, board: Board) -> None:
    """404 for a board `who` may not know exists (group boards), 403 otherwise."""
    if access.can_read(who, board):
        return
    if board.visibility == "group":
        raise NotFound(str(_l("No such board.")))
    if not access.is_active_member(who):
        raise NotAuthenticated(str(_l("Please sign in to read this board.")))
    raise Forbidden(str(_l("You do not have access to this board.")), code="no_access")


def _check_post(author: Any, board: Board, kind: str = "post") -> None:
    if board.visibility == "group" and not access.can_read(author, board):
        raise NotFound(str(_l("No such board.")))
    decision = access.check_post(author, board, kind=kind)
    if not decision:
        raise Forbidden(decision.message, code=decision.code)


def can_see_post(who: Any, post: Post, board: Board) -> bool:
    """Published posts for readers; held and rejected ones for their author and the
    board's moderators."""
    if not access.can_read(who, board):
        return False
    if post.status == "published":
        return True
    mine = access.is_active_member(who) and post.author_id == who.id
    if mine:
        return True
    return access.can_moderate(who, board)


def get_board(who: Any, slug: str) -> Board:
    board = db.session.scalar(db.select(Board).where(Board.slug == slug))
    if board is None:
        raise NotFound(str(_l("No such board.")))
    ensure_visible(who, board)
    return board


def get_topic(who: Any, topic_id: int) -> Topic:
    return check_topic(who, db.session.scalar(_topic_by_id(), {"topic_id": topic_id}))


@cache
def _topic_by_id() -> Any:
    """Built once: every topic page (a visitor's above all) binds only the id."""
    return topic_query(bindparam("topic_id"))


def topic_query(topic_id: Any) -> Any:
    """A topic by id; the board comes in the same query and stays attached to the topic
    (topic.board). Callers may add columns: `check_topic` then decides access."""
    return (db.select(Topic).join(Topic.board).options(contains_eager(Topic.board))
            .where(Topic.id == topic_id))


def check_topic(who: Any, topic: Topic | None) -> Topic:
    """The topic if `who` may see it, else NotFound (also when there is none)."""
    if topic is None:
        raise NotFound(str(_l("No such topic.")))
    board = topic.board
    ensure_visible(who, board)
    moderator = access.can_moderate(who, board)
    if topic.deleted_at is not None and not moderator:
        raise NotFound(str(_l("No such topic.")))
    if topic.status != "published" and not moderator and not (
            access.is_active_member(who) and topic.author_id == who.id):
        raise NotFound(str(_l("No such topic.")))
    return topic


def get_post(who: Any, post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None:
        raise NotFound(str(_l("No such post.")))
    topic = get_topic(who, post.topic_id)
    if not can_see_post(who, post, topic.board):
        raise NotFound(str(_l("No such post.")))
    return post


def readable_boards(who: Any, kind: str | None = "forum") -> list[Board]:
    query = db.select(Board).order_by(Board.position, Board.name)
    if kind:
        query = query.where(Board.kind == kind)
    return access.readable(who, list(db.session.scalars(query)))


def moderated_boards(who: Any) -> list[Board]:
    return [b for b in db.session.scalars(db.select(Board))
            if access.can_moderate(who, b)]


@dataclass
class BoardData:
    """What the Secretariat sets on a board; `None` leaves a field unchanged on update."""

    slug: str | None = None
    name: str | None = None
    description: str | None = None
    visibility: str | None = None
    group: str | None = None  # group slug; "" clears
    posting: str | None = None
    moderator_group: str | None = None  # group slug; "" clears
    premoderated: bool | None = None
    locked: bool | None = None
    thematic_area: str | None = None  # area slug; "" clears
    category: str | None = None
    position: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # {"es": {"name": ..., "description": ..., "category": ...}}; None leaves them
    translations: dict[str, dict[str, str]] | None = None
    source_lang: str | None = None


def _group_id(slug: str, name: str) -> int | None:
    if not slug:
        return None
    group = db.session.scalar(db.select(Group).where(Group.slug == slug))
    if group is None:
        raise Invalid(str(_l("No group has that short name.")), fields={name: "unknown"})
    return group.id


def _apply_board(board: Board, data: BoardData) -> None:
    if data.name is not None:
        if not data.name.strip():
            raise Invalid(str(_l("A name is required.")), fields={"name": "required"})
        board.name = data.name.strip()[:200]
    if data.description is not None:
        board.description = data.description.strip()
    if data.visibility is not None:
        if data.visibility not in VISIBILITIES:
            raise Invalid(str(_l("Visibility is public, members or group.")),
                          fields={"visibility": "choice"})
        board.visibility = data.visibility
    if data.group is not None:
        board.group_id = _group_id(data.group, "group")
    if data.posting is not None:
        if data.posting not in POSTING:
            raise Invalid(str(_l("Posting is all or moderators.")), fields={"posting": "choice"})
        board.posting = data.posting
    if data.moderator_group is not None:
        board.moderator_group_id = _group_id(data.moderator_group, "moderator_group")
    if data.premoderated is not None:
        board.premoderated = bool(data.premoderated)
    if data.locked is not None:
        board.locked = bool(data.locked)
    if data.thematic_area is not None:
        board.thematic_area_id = area_id_for(data.thematic_area)
    if data.category is not None:
        board.category = data.category.strip()[:100]
    if data.position is not None:
        board.position = data.position
    if data.translations is not None or data.source_lang is not None:
        content.set_translations(board, data.translations or {}, data.source_lang)
        _share_category_translations(board)
    if board.visibility == "group" and board.group_id is None:
        raise Invalid(str(_l("A group board needs a group.")), fields={"group": "required"})
    if board.visibility != "group":
        board.group_id = None


def _share_category_translations(board: Board) -> None:
    """A category is a name boards share: its translations, set on one board, are given
    to every board of that category, so the index groups them under one heading."""
    if not board.category:
        return
    wanted = {lang: v["category"] for lang, v in (board.translations or {}).items()
              if v.get("category")}
    query = db.select(Board).where(Board.category == board.category)
    if board.id is not None:
        query = query.where(Board.id != board.id)
    for other in db.session.scalars(query):
        content.set_translations(other, {lang: {"category": wanted.get(lang, "")}
                                         for lang in content.LANGUAGES})


def create_board(actor: Member, data: BoardData, *, kind: str = "forum") -> Board:
    if not access.is_secretariat(actor):
        raise Forbidden(str(_l("Only the Secretariat can create boards.")))
    slug = (data.slug or "").strip().lower()
    if not _SLUG.match(slug):
        raise Invalid(str(_l("A slug is 2 to 63 lower-case letters, digits or dashes.")),
                      fields={"slug": "format"})
    if db.session.scalar(db.select(Board.id).where(Board.slug == slug)):
        raise Conflict(str(_l("That slug is taken.")), fields={"slug": "taken"})
    board = Board(slug=slug, name="", kind=kind, visibility="public", posting="all")
    if data.position is None:
        data.position = (db.session.scalar(db.select(func.max(Board.position))) or 0) + 1
    _apply_board(board, data)
    db.session.add(board)
    db.session.flush()
    audit(actor, "board.create", board, slug)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(str(_l("That slug is taken.")), fields={"slug": "taken"}) from exc
    return board


def update_board(actor: Member, board: Board, data: BoardData) -> Board:
    if not access.is_secretariat(actor):
        raise Forbidden(str(_l("Only the Secretariat can change boards.")))
    _apply_board(board, data)
    board.revision = Board.revision + 1  # kept pages of the board (forums.cache)
    audit(actor, "board.update", board, board.slug)
    db.session.commit()
    return board


def delete_board(actor: Member, board: Board) -> None:
    """Remove a board for good with its topics, posts, subscriptions and read markers
    (the database cascades); the Secretariat only. Commits with it whatever the caller
    has pending (a conference removes its own rows first), then tells the listeners
    (search index, live readers) that its posts are gone."""
    if not access.is_secretariat(actor):
        raise Forbidden(str(_l("Only the Secretariat can delete boards.")))
    board_id = board.id
    gone = db.session.execute(
        db.select(Post.id, Post.topic_id, Post.author_id, Post.status, Post.source)
        .join(Topic, Post.topic_id == Topic.id).where(Topic.board_id == board_id)).all()
    audit(actor, "board.delete", board, board.slug)
    db.session.delete(board)
    db.session.commit()
    app = signal_sender()
    for row in gone:
        events.post_deleted.send(app, event=events.PostEvent(
            post_id=row.id, topic_id=row.topic_id, board_id=board_id,
            author_id=row.author_id, status=row.status, source=row.source))


def check_text(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise Invalid(str(_l("Please write something.")), fields={"body": "required"})
    if len(body) > MAX_BODY:
        raise Invalid(str(_l("That is too long (at most %(n)d characters).", n=MAX_BODY)),
                      fields={"body": "too_long"})
    return body


def check_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise Invalid(str(_l("A topic needs a title.")), fields={"title": "required"})
    if len(title) > MAX_TITLE:
        raise Invalid(str(_l("The title is too long (at most %(n)d characters).", n=MAX_TITLE)),
                      fields={"title": "too_long"})
    return title


def check_flood(author: Member, board: Board) -> None:
    """The service's own flood limit, whatever channel the post came through."""
    limit = int(cfg("HUB_FLOOD_POSTS") or 0)
    if limit <= 0 or access.can_moderate(author, board):
        return
    since = clock.now() - timedelta(seconds=int(cfg("HUB_FLOOD_SECONDS")))
    recent = db.session.scalar(
        db.select(func.count(Post.id)).where(Post.author_id == author.id,
                                             Post.created_at >= since))
    if recent >= limit:
        raise TooFast(str(_l("You are posting very fast. Please wait a minute and try again.")))


def _status_for(author: Member, board: Board) -> str:
    if board.premoderated and not access.can_moderate(author, board):
        return "held"
    return "published"


def render_body(body: str) -> tuple[str, dict[str, Member]]:
    found = mentions.resolve(body)
    return markup.render(mentions.link(body, found)), found


def post_event(post: Post, board_id: int) -> events.PostEvent:
    return events.PostEvent(post_id=post.id, topic_id=post.topic_id, board_id=board_id,
                            author_id=post.author_id, status=post.status, source=post.source)


def publish_counts(post: Post, topic: Topic, board: Board, now: datetime) -> None:
    """Counters and "last post" for a post that has just become published."""
    topic.post_count = Topic.post_count + 1
    topic.last_post_at = now
    topic.last_post_id = max(topic.last_post_id or 0, post.id)
    topic.last_author_id = post.author_id
    board.post_count = Board.post_count + 1
    board.last_post_at = now
    if post.position == 1:
        topic.status = "published"
        board.topic_count = Board.topic_count + 1


def notify_mentions(post: Post, topic: Topic, board: Board, found: dict[str, Member],
                     already: Iterable[int] = ()) -> None:
    """Mail members mentioned in a published post who may read it (once per member)."""
    if post.status != "published":
        return
    skip = set(already) | {post.author_id}
    author = post.author
    for member in {m.id: m for m in found.values()}.values():
        if member.id in skip or not access.can_read(member, board):
            continue
        send_mail(member.email, "forum_mention", language=member.language, name=member.name,
                  member=member, author=author.name if author else "", topic=topic.title,
                  board=board.name, excerpt=markup.to_text(post.html)[:600],
                  url=urls.absolute("forums.post_link", post_id=post.id))


def advance_read_marker(member_id: int, topic_id: int, post_id: int) -> None:
    """Move a member's read marker forward (never back), in one statement."""
    db.session.execute(_read_marker_statement(db.engine.dialect.name),
                       {"reader": member_id, "topic": topic_id, "post": post_id,
                        "now": clock.now()})


@cache
def _read_marker_statement(dialect: str) -> Any:
    """Built once per dialect (every post and every "mark read" runs it): building the
    upsert and its cache key each time cost more than running it."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
        newest = func.greatest
    else:
        from sqlalchemy.dialects.sqlite import insert
        newest = func.max
    stmt = insert(TopicRead).values(
        member_id=bindparam("reader"), topic_id=bindparam("topic"),
        last_post_id=bindparam("post"),
        read_at=bindparam("now", type_=TopicRead.__table__.c.read_at.type))
    return stmt.on_conflict_do_update(
        index_elements=["member_id", "topic_id"],
        set_={"last_post_id": newest(TopicRead.last_post_id, stmt.excluded.last_post_id),
              "read_at": stmt.excluded.read_at},
    )


def _thread_place(parent: Post | None, position: int) -> tuple[str, int]:
    segment = f"{position:0{POSITION_DIGITS}d}"
    if parent is None:
        return segment, 0
    if parent.depth >= MAX_DEPTH:  # a reply at the cap follows its parent as a sibling
        prefix = parent.thread_key.rpartition(".")[0]
        return (f"{prefix}.{segment}" if prefix else segment), parent.depth
    return f"{parent.thread_key}.{segment}", parent.depth + 1


@contextmanager
def _unique_or_conflict() -> Iterator[None]:
    """A duplicate Message-ID or external key is a conflict, not a server error."""
    try:
        yield
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(str(_l("This message was posted already.")), code="duplicate") from exc


def _finish(post: Post, board: Board, author: Member | None) -> None:
    """Shared tail of both create functions: event in the transaction, read marker,
    commit, event after commit."""
    app = signal_sender()
    event = post_event(post, board.id)
    # First the listeners (the page revisions join the counters' own UPDATEs: nothing
    # is flushed before them), then the read marker.
    events.post_pending.send(app, event=event)
    if author is not None:
        advance_read_marker(author.id, post.topic_id, post.id)
    with _unique_or_conflict():
        db.session.commit()
    # The event's status, not the post's: reading the committed post again costs a query.
    (events.post_published if event.status == "published" else events.post_held).send(
        app, event=event)


def create_topic(author: Member, board: Board, title: str, body: str, *, source: str = "web",
                 message_id: str | None = None, attachments: Sequence[Upload] = (),
                 elided: str = "", kind: str = "post", external_key: str | None = None
                 ) -> Post:
    """Start a topic; returns its first post (published, or held on a pre-moderated
    board). `external_key` ties the topic to an outside record (unique)."""
    _check_post(author, board, kind)
    title = check_title(title)
    body = check_text(body)
    check_flood(author, board)
    status = _status_for(author, board)
    html, found = render_body(body)
    now = clock.now()
    topic = Topic(board_id=board.id, title=title, author_id=author.id, created_at=now,
                  last_post_at=now, last_position=1, status=status, post_count=0,
                  external_key=external_key, change_seq=1)
    key, depth = _thread_place(None, 1)
    post = Post(author_id=author.id, body=body, html=html, status=status,
                source=source, kind=kind, position=1, thread_key=key, depth=depth,
                created_at=now, message_id=message_id, elided=elided or "", change_seq=1,
                published_seq=1 if status == "published" else 0, attachments=[])
    post.topic, post.author = topic, author
    store_attachments(post, attachments)
    with _unique_or_conflict():
        db.session.add_all([topic, post])
        db.session.flush()
    if status == "published":
        publish_counts(post, topic, board, now)
        notify_mentions(post, topic, board, found)
    _finish(post, board, author)
    return post


def create_reply(author: Member, topic: Topic, body: str, *, parent: Post | None = None,
                 source: str = "web", message_id: str | None = None,
                 attachments: Sequence[Upload] = (), elided: str = "",
                 kind: str = "post") -> Post:
    """Reply to a topic, or to one of its posts (`parent`)."""
    board = topic.board
    _check_post(author, board, kind)
    moderator = access.can_moderate(author, board)
    if topic.deleted_at is not None or topic.status != "published":
        raise NotFound(str(_l("No such topic.")))
    if topic.locked and not moderator:
        raise Forbidden(str(_l("This topic is locked.")), code="locked")
    if parent is not None:
        if parent.topic_id != topic.id:
            raise Invalid(str(_l("That post is in another topic.")),
                          fields={"parent_id": "topic"})
        if parent.status != "published" or parent.deleted_at is not None:
            raise Conflict(str(_l("You can no longer reply to that post.")),
                           fields={"parent_id": "gone"})
    body = check_text(body)
    check_flood(author, board)
    status = _status_for(author, board)
    html, found = render_body(body)
    now = clock.now()
    position, seq = db.session.execute(
        _next_position(), {"topic": topic.id},
        execution_options={"synchronize_session": False}).one()
    db.session.expire(topic, ["last_position", "change_seq"])
    key, depth = _thread_place(parent, position)
    post = Post(topic_id=topic.id, parent_id=parent.id if parent else None,
                author_id=author.id, body=body, html=html, status=status, source=source,
                kind=kind, position=position, thread_key=key, depth=depth, created_at=now,
                message_id=message_id, elided=elided or "", change_seq=seq,
                published_seq=seq if status == "published" else 0, attachments=[])
    post.author = author
    store_attachments(post, attachments)
    with _unique_or_conflict():
        db.session.add(post)
        db.session.flush()
    if status == "published":
        publish_counts(post, topic, board, now)
        notify_mentions(post, topic, board, found)
    _finish(post, board, author)
    return post


@cache
def _next_position() -> Any:
    """A reply's place and change number, taken with the topic's row lock (built once)."""
    return (update(Topic).where(Topic.id == bindparam("topic"))
            .values(last_position=Topic.last_position + 1, change_seq=Topic.change_seq + 1)
            .returning(Topic.last_position, Topic.change_seq))


def lock_topic(topic: Topic) -> None:
    """Take the topic's row lock before the board's (PostgreSQL), the order the reply
    path uses, so concurrent replies and moderation cannot deadlock."""
    db.session.execute(db.select(Topic.id).where(Topic.id == topic.id).with_for_update())


def require_moderator(who: Member, board: Board) -> None:
    ensure_visible(who, board)
    if not access.can_moderate(who, board):
        raise Forbidden(str(_l("Only the board's moderators can do this.")),
                        code="not_moderator")


def next_change(topic: Topic) -> int:
    """The topic's next change number. The increment takes the topic's row lock until
    commit, so changes commit in the order of their numbers."""
    seq = db.session.execute(
        update(Topic).where(Topic.id == topic.id).values(change_seq=Topic.change_seq + 1)
        .returning(Topic.change_seq),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    db.session.expire(topic, ["change_seq"])
    return seq


REGISTRY_BOARD = "registry"


def registry_board() -> Board:
    board = db.session.scalar(db.select(Board).where(Board.slug == REGISTRY_BOARD))
    if board is None:
        board = Board(slug=REGISTRY_BOARD, name="Registry discussions",
                      description="Discussion of the records in the capacity-building "
                                  "registry: projects, opportunities, needs, resources and "
                                  "reports.",
                      visibility="members", posting="all", category="Network",
                      position=900, kind="forum")
        db.session.add(board)
        db.session.commit()
    return board


def discuss(actor: Any, key: str, title: str, url: str) -> str:
    """The URL of the discussion topic of a registry record, created on first call (on
    the "registry" board, by `actor`). Registered as app.extensions["hub_discuss"]."""
    key = (key or "").strip()[:120]
    if not key:
        raise Invalid(str(_l("A record key is required.")), fields={"key": "required"})
    topic = db.session.scalar(db.select(Topic).where(Topic.external_key == key))
    if topic is None:
        board = registry_board()
        title = check_title(title)
        body = str(_l("Discussion of the registry record [%(title)s](%(url)s).",
                      title=title.replace("[", "(").replace("]", ")"), url=url))
        try:
            topic = create_topic(actor, board, title, body, external_key=key).topic
        except Conflict:  # someone opened it at the same moment
            topic = db.session.scalar(db.select(Topic).where(Topic.external_key == key))
            if topic is None:
                raise
    return urls.path("forums.topic", topic_id=topic.id)
