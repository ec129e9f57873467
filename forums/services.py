"""The forums' services, among them THE posting path that the web pages, the API and
email all use: `create_topic` and `create_reply`.

Every function here owns its transaction, decides access through `hub.access`, raises
`hub.errors` exceptions and emits `hub.events` signals: `post_pending` inside the
transaction (listeners add rows atomically), the others after commit. Imports only `hub`
and `forums`.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from forums import mentions, urls
from forums.models import (
    MODES,
    POSITION_DIGITS,
    POSTING,
    VISIBILITIES,
    Attachment,
    Board,
    BoardRead,
    Flag,
    Post,
    PostEdit,
    PostRevision,
    Subscription,
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
    StorageFull,
)
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import Group, GroupMembership, Member, MemberStatus, Role
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

# Accepted attachments: extension -> the type we serve it as. The browser's claim is
# ignored; images must also start with their format's signature.
ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "txt": "text/plain",
    "csv": "text/csv",
    "rtf": "application/rtf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "zip": "application/zip",
}
# Shown inline (<img>); everything else, SVG above all, is only ever downloaded.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}


class TooFast(HubError):
    status = 429
    code = "rate_limited"


@dataclass(frozen=True)
class Upload:
    """A file to attach, as received (web form, API, email)."""

    filename: str
    content_type: str
    data: bytes


def _app() -> Any:
    return current_app._get_current_object()


def _cfg(key: str) -> Any:
    return current_app.config.get(key, DEFAULTS.get(key))


# -- access helpers ------------------------------------------------------------------------

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
    return check_topic(who, db.session.scalar(topic_query(topic_id)))


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


# -- boards ----------------------------------------------------------------------------------

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
    app = _app()
    for row in gone:
        events.post_deleted.send(app, event=events.PostEvent(
            post_id=row.id, topic_id=row.topic_id, board_id=board_id,
            author_id=row.author_id, status=row.status, source=row.source))


# -- the posting path ------------------------------------------------------------------------

def _check_text(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise Invalid(str(_l("Please write something.")), fields={"body": "required"})
    if len(body) > MAX_BODY:
        raise Invalid(str(_l("That is too long (at most %(n)d characters).", n=MAX_BODY)),
                      fields={"body": "too_long"})
    return body


def _check_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise Invalid(str(_l("A topic needs a title.")), fields={"title": "required"})
    if len(title) > MAX_TITLE:
        raise Invalid(str(_l("The title is too long (at most %(n)d characters).", n=MAX_TITLE)),
                      fields={"title": "too_long"})
    return title


def check_flood(author: Member, board: Board) -> None:
    """The service's own flood limit, whatever channel the post came through."""
    limit = int(_cfg("HUB_FLOOD_POSTS") or 0)
    if limit <= 0 or access.can_moderate(author, board):
        return
    since = clock.now() - timedelta(seconds=int(_cfg("HUB_FLOOD_SECONDS")))
    recent = db.session.scalar(
        db.select(func.count(Post.id)).where(Post.author_id == author.id,
                                             Post.created_at >= since))
    if recent >= limit:
        raise TooFast(str(_l("You are posting very fast. Please wait a minute and try again.")))


def _status_for(author: Member, board: Board) -> str:
    if board.premoderated and not access.can_moderate(author, board):
        return "held"
    return "published"


def _render(body: str) -> tuple[str, dict[str, Member]]:
    found = mentions.resolve(body)
    return markup.render(mentions.link(body, found)), found


def _event(post: Post, board_id: int) -> events.PostEvent:
    return events.PostEvent(post_id=post.id, topic_id=post.topic_id, board_id=board_id,
                            author_id=post.author_id, status=post.status, source=post.source)


def _publish_counts(post: Post, topic: Topic, board: Board, now: datetime) -> None:
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


def _notify_mentions(post: Post, topic: Topic, board: Board, found: dict[str, Member],
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


def _upsert_read(member_id: int, topic_id: int, post_id: int) -> None:
    """Move a member's read marker forward (never back), in one statement."""
    dialect = db.engine.dialect.name
    now = clock.now()
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
        newest = func.greatest
    else:
        from sqlalchemy.dialects.sqlite import insert
        newest = func.max
    stmt = insert(TopicRead).values(member_id=member_id, topic_id=topic_id,
                                    last_post_id=post_id, read_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=["member_id", "topic_id"],
        set_={"last_post_id": newest(TopicRead.last_post_id, stmt.excluded.last_post_id),
              "read_at": now},
    )
    db.session.execute(stmt)


def _store_attachments(post: Post, uploads: Sequence[Upload]) -> None:
    if not uploads:
        return
    if len(uploads) > int(_cfg("HUB_ATTACHMENT_MAX_COUNT")):
        raise Invalid(str(_l("At most %(n)d files per post.",
                             n=int(_cfg("HUB_ATTACHMENT_MAX_COUNT")))),
                      fields={"attachments": "too_many"})
    checked = [(upload, check_upload(upload)) for upload in uploads]
    for upload, content_type in checked:
        sha = save_blob(upload.data)
        post.attachments.append(Attachment(
            filename=clean_filename(upload.filename), content_type=content_type,
            size=len(upload.data), sha256=sha))


def clean_filename(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/"))
    name = re.sub(r"[\x00-\x1f\x7f\"]", "", name).strip(" .") or "file"
    return name[-200:]


def check_upload(upload: Upload) -> str:
    """The type the file will be served as, or Invalid when size or type is refused."""
    limit = int(_cfg("HUB_ATTACHMENT_MAX_BYTES"))
    if len(upload.data) > limit:
        raise Invalid(str(_l("%(name)s is larger than %(mb)s MB.", name=upload.filename,
                             mb=round(limit / 1024 / 1024, 1))),
                      fields={"attachments": "too_large"})
    if not upload.data:
        raise Invalid(str(_l("%(name)s is empty.", name=upload.filename)),
                      fields={"attachments": "empty"})
    ext = clean_filename(upload.filename).rpartition(".")[2].lower()
    content_type = ATTACHMENT_TYPES.get(ext)
    if content_type is None:
        raise Invalid(str(_l("Files of this type cannot be attached: %(name)s. Accepted: "
                             "%(types)s.", name=upload.filename,
                             types=", ".join(sorted(ATTACHMENT_TYPES)))),
                      fields={"attachments": "type"})
    signatures = _SIGNATURES.get(content_type)
    if content_type == "image/webp":
        ok = upload.data[:4] == b"RIFF" and upload.data[8:12] == b"WEBP"
    else:
        ok = signatures is None or upload.data.startswith(signatures)
    if not ok:
        raise Invalid(str(_l("%(name)s is not really a %(ext)s file.", name=upload.filename,
                             ext=ext.upper())), fields={"attachments": "type"})
    return content_type


def upload_dir() -> Path:
    return Path(current_app.config["HUB_UPLOAD_DIR"])


def blob_path(sha: str) -> Path:
    return upload_dir() / sha[:2] / sha


def save_blob(data: bytes) -> str:
    """Store bytes once by content hash (written atomically); returns the hash."""
    sha = hashlib.sha256(data).hexdigest()
    path = blob_path(sha)
    if path.exists():
        return sha
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".up-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        log.error("uploads: the disk is full (%s): %s", upload_dir(), exc)
        raise StorageFull(str(_l("The server has no room for files just now, so nothing "
                                 "was posted. Please try again later, or post without "
                                 "the attachment."))) from exc
    return sha


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
    """Shared tail of both create functions: read marker, event in the transaction,
    commit, event after commit."""
    if author is not None:
        _upsert_read(author.id, post.topic_id, post.id)
    app = _app()
    event = _event(post, board.id)
    events.post_pending.send(app, event=event)
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
    title = _check_title(title)
    body = _check_text(body)
    check_flood(author, board)
    status = _status_for(author, board)
    html, found = _render(body)
    now = clock.now()
    topic = Topic(board_id=board.id, title=title, author_id=author.id, created_at=now,
                  last_post_at=now, last_position=1, status=status, post_count=0,
                  external_key=external_key, change_seq=1)
    key, depth = _thread_place(None, 1)
    post = Post(author_id=author.id, body=body, html=html, status=status,
                source=source, kind=kind, position=1, thread_key=key, depth=depth,
                created_at=now, message_id=message_id, elided=elided or "", change_seq=1,
                published_seq=1 if status == "published" else 0)
    post.topic, post.author = topic, author
    _store_attachments(post, attachments)
    with _unique_or_conflict():
        db.session.add_all([topic, post])
        db.session.flush()
    if status == "published":
        _publish_counts(post, topic, board, now)
        _notify_mentions(post, topic, board, found)
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
    body = _check_text(body)
    check_flood(author, board)
    status = _status_for(author, board)
    html, found = _render(body)
    now = clock.now()
    position, seq = db.session.execute(
        update(Topic).where(Topic.id == topic.id)
        .values(last_position=Topic.last_position + 1, change_seq=Topic.change_seq + 1)
        .returning(Topic.last_position, Topic.change_seq),
        execution_options={"synchronize_session": False},
    ).one()
    db.session.expire(topic, ["last_position", "change_seq"])
    key, depth = _thread_place(parent, position)
    post = Post(topic_id=topic.id, parent_id=parent.id if parent else None,
                author_id=author.id, body=body, html=html, status=status, source=source,
                kind=kind, position=position, thread_key=key, depth=depth, created_at=now,
                message_id=message_id, elided=elided or "", change_seq=seq,
                published_seq=seq if status == "published" else 0)
    post.author = author
    _store_attachments(post, attachments)
    with _unique_or_conflict():
        db.session.add(post)
        db.session.flush()
    if status == "published":
        _publish_counts(post, topic, board, now)
        _notify_mentions(post, topic, board, found)
    _finish(post, board, author)
    return post


# -- editing and deleting ------------------------------------------------------------------

def _lock_topic(topic: Topic) -> None:
    """Take the topic's row lock before the board's (PostgreSQL), the order the reply
    path uses, so concurrent replies and moderation cannot deadlock."""
    db.session.execute(db.select(Topic.id).where(Topic.id == topic.id).with_for_update())


def _require_moderator(who: Member, board: Board) -> None:
    ensure_visible(who, board)
    if not access.can_moderate(who, board):
        raise Forbidden(str(_l("Only the board's moderators can do this.")),
                        code="not_moderator")


def _next_change(topic: Topic) -> int:
    """The topic's next change number. The increment takes the topic's row lock until
    commit, so changes commit in the order of their numbers."""
    seq = db.session.execute(
        update(Topic).where(Topic.id == topic.id).values(change_seq=Topic.change_seq + 1)
        .returning(Topic.change_seq),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    db.session.expire(topic, ["change_seq"])
    return seq


def can_edit(who: Any, post: Post, board: Board) -> bool:
    if post.deleted_at is not None or not access.is_active_member(who):
        return False
    if access.can_moderate(who, board):
        return True
    if post.author_id != who.id or post.status == "rejected":
        return False
    return access.can_post(who, board) and not post.topic.locked


def edit_needs_approval(editor: Any, post: Post, board: Board) -> bool:
    """Whether `editor`'s edit of `post` waits for a moderator: a published post on a
    pre-moderated board, edited by someone who does not moderate it. (A held post's
    text is simply replaced: the moderators have not published it yet.)"""
    return (board.premoderated and post.status == "published"
            and not access.can_moderate(editor, board))


def pending_edit(post: Post) -> PostEdit | None:
    return db.session.scalar(db.select(PostEdit).where(
        PostEdit.post_id == post.id, PostEdit.state == "pending").limit(1))


def pending_edit_ids(viewer: Any, posts: Sequence[Post], moderator: bool) -> set[int]:
    """Which of `posts` have an edit waiting that `viewer` may know of: their own, or
    any for a moderator (one query; none off pre-moderated boards)."""
    if not posts or not access.is_active_member(viewer):
        return set()
    query = db.select(PostEdit.post_id).where(
        PostEdit.state == "pending", PostEdit.post_id.in_([p.id for p in posts]))
    if not moderator:
        query = query.where(PostEdit.editor_id == viewer.id)
    return set(db.session.scalars(query))


def _apply_edit(editor: Member, post: Post, body: str, new_title: str | None) -> None:
    """Replace a post's text (in the caller's transaction): the old text becomes a
    revision, the HTML is rendered once, mentioned members new to the text are told."""
    topic = post.topic
    before = set(mentions.resolve(post.body).keys())
    db.session.add(PostRevision(post_id=post.id, body=post.body, html=post.html,
                                title=topic.title if post.position == 1 else None,
                                editor_id=editor.id))
    html, found = _render(body)
    post.body, post.html = body, html
    post.edited_at = clock.now()
    post.edited_by_id = editor.id
    if new_title is not None:
        topic.title = new_title
    post.change_seq = _next_change(topic)
    old_ids = [m.id for t, m in found.items() if t in before]
    _notify_mentions(post, topic, topic.board, found, already=old_ids)


def edit_post(editor: Member, post: Post, body: str, *, title: str | None = None) -> Post:
    """Change a post's text (and the topic's title, for a first post); the old text is
    kept as a revision and the post shows an "edited" mark. On a pre-moderated board a
    member's edit of a published post waits for a moderator instead
    (`edit_needs_approval`); `pending_edit(post)` then returns it."""
    topic = post.topic
    board = topic.board
    ensure_visible(editor, board)
    if not can_see_post(editor, post, board):
        raise NotFound(str(_l("No such post.")))
    if not can_edit(editor, post, board):
        raise Forbidden(str(_l("You cannot edit this post.")), code="cannot_edit")
    body = _check_text(body)
    new_title = _check_title(title) if title is not None and post.position == 1 else None
    if edit_needs_approval(editor, post, board):
        _propose_edit(editor, post, body, new_title)
        return post
    if body == post.body and (new_title is None or new_title == topic.title):
        return post
    _apply_edit(editor, post, body, new_title)
    if editor.id != post.author_id:
        audit(editor, "post.edit", post, f"topic {topic.id}")
    db.session.commit()
    events.post_edited.send(_app(), event=_event(post, board.id))
    return post


def _propose_edit(editor: Member, post: Post, body: str, new_title: str | None) -> None:
    """Keep an edit for the moderators; a newer one replaces the one waiting, and going
    back to the published text withdraws it."""
    topic = post.topic
    _lock_topic(topic)
    waiting = pending_edit(post)
    if waiting is not None and waiting.body == body and waiting.title == new_title:
        return
    now = clock.now()
    unchanged = body == post.body and (new_title is None or new_title == topic.title)
    if waiting is not None:
        waiting.state = "withdrawn" if unchanged else "replaced"
        waiting.decided_at, waiting.decided_by_id = now, editor.id
    if unchanged:
        db.session.commit()
        return
    edit = PostEdit(post_id=post.id, editor_id=editor.id, body=body, title=new_title,
                    created_at=now)
    db.session.add(edit)
    db.session.flush()
    events.post_edit_pending.send(_app(), event=events.PostEditEvent(
        edit_id=edit.id, post_id=post.id, topic_id=topic.id, board_id=topic.board_id,
        editor_id=editor.id))
    db.session.commit()


def get_edit(who: Any, edit_id: int) -> PostEdit:
    """A proposed edit, for the board's moderators (404 for everyone else)."""
    edit = db.session.get(PostEdit, edit_id)
    if edit is None:
        raise NotFound(str(_l("No such edit.")))
    board = get_topic(who, edit.post.topic_id).board
    if not access.can_moderate(who, board):
        raise NotFound(str(_l("No such edit.")))
    return edit


def _still_pending(edit: PostEdit) -> Post:
    """Under the topic's lock, the edit as committed: one decision per edit, and none
    on a post deleted meanwhile."""
    post = edit.post
    _lock_topic(post.topic)
    db.session.refresh(edit, ["state"])
    db.session.refresh(post, ["status", "deleted_at"])
    if edit.state == "replaced":
        raise Conflict(str(_l("The author has changed this edit since; the moderation queue "
                              "shows the new text.")), code="not_pending")
    if edit.state != "pending" or post.deleted_at is not None or post.status != "published":
        raise Conflict(str(_l("This edit is not waiting for approval.")), code="not_pending")
    return post


def approve_edit(moderator: Member, edit: PostEdit) -> Post:
    """Publish a waiting edit as if its author had just made it: revision history,
    stored HTML, mentions, then (after commit) the search index, live pages and the page
    cache through `post_edited`."""
    board = edit.post.topic.board
    _require_moderator(moderator, board)
    post = _still_pending(edit)
    _apply_edit(edit.editor or moderator, post, edit.body, edit.title)
    edit.state = "approved"
    edit.decided_at, edit.decided_by_id = clock.now(), moderator.id
    audit(moderator, "post.edit_approve", post, f"topic {post.topic_id}")
    db.session.commit()
    events.post_edited.send(_app(), event=_event(post, board.id))
    return post


def reject_edit(moderator: Member, edit: PostEdit, reason: str) -> Post:
    """Refuse a waiting edit: the published text stays; the author is emailed the reason
    and the text they proposed, in their language."""
    topic = edit.post.topic
    board = topic.board
    _require_moderator(moderator, board)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(str(_l("Please give the author a reason.")), fields={"reason": "required"})
    post = _still_pending(edit)
    edit.state = "rejected"
    edit.reason = reason[:2000]
    edit.decided_at, edit.decided_by_id = clock.now(), moderator.id
    audit(moderator, "post.edit_reject", post, reason)
    author = edit.editor
    if author is not None and author.status == MemberStatus.ACTIVE:
        send_mail(author.email, "forum_edit_rejected", language=author.language,
                  name=author.name, member=author, topic=topic.title, board=board.name,
                  reason=reason, body=edit.body,
                  url=urls.absolute("forums.post_link", post_id=post.id))
    db.session.commit()
    return post


def edit_diff(before: str, after: str) -> list[tuple[str, str]]:
    """Line by line, what an edit changes: ("same" | "removed" | "added", line)."""
    kinds = {" ": "same", "-": "removed", "+": "added"}
    return [(kinds[line[0]], line[2:]) for line in difflib.ndiff(
        before.splitlines(), after.splitlines()) if line[0] in kinds]


def unified_diff(before: str, after: str) -> str:
    return "\n".join(difflib.unified_diff(before.splitlines(), after.splitlines(),
                                          "published", "proposed", lineterm=""))


def revisions(who: Member, post: Post) -> list[PostRevision]:
    _require_moderator(who, post.topic.board)
    return list(db.session.scalars(
        db.select(PostRevision).where(PostRevision.post_id == post.id)
        .order_by(PostRevision.id.desc())))


def delete_post(actor: Member, post: Post) -> Post:
    """Soft delete: the post stays in the thread as "deleted" so replies keep their
    place; authors delete their own posts, moderators any."""
    topic = post.topic
    board = topic.board
    ensure_visible(actor, board)
    moderator = access.can_moderate(actor, board)
    if not can_see_post(actor, post, board):
        raise NotFound(str(_l("No such post.")))
    if not moderator and post.author_id != actor.id:
        raise Forbidden(str(_l("You can only delete your own posts.")), code="not_author")
    if post.deleted_at is not None:
        raise Conflict(str(_l("This post is deleted already.")))
    _lock_topic(topic)
    post.deleted_at = clock.now()
    post.change_seq = _next_change(topic)
    if post.status == "published":
        topic.post_count = Topic.post_count - 1
        board.post_count = Board.post_count - 1
    if moderator and actor.id != post.author_id:
        audit(actor, "post.delete", post, f"topic {topic.id}")
    _resolve_flags(actor, post, "deleted")
    db.session.commit()
    events.post_deleted.send(_app(), event=_event(post, board.id))
    return post


# -- moderation --------------------------------------------------------------------------

def _still_held(post: Post, topic: Topic) -> None:
    """Under the topic's lock, the post's status as committed: moderators deciding the
    same post at once (on the web and by email) cannot both succeed."""
    _lock_topic(topic)
    db.session.refresh(post, ["status", "deleted_at"])
    if post.status != "held" or post.deleted_at is not None:
        raise Conflict(str(_l("This post is not waiting for approval.")), code="not_held")


def approve_post(moderator: Member, post: Post) -> Post:
    """Publish a held post: counters, mentions, `post_pending` in the transaction (the
    listserv adds its outbox rows), `post_published` after commit."""
    topic = post.topic
    board = topic.board
    _require_moderator(moderator, board)
    _still_held(post, topic)
    post.status = "published"
    post.change_seq = post.published_seq = _next_change(topic)
    now = clock.now()
    _publish_counts(post, topic, board, now)
    audit(moderator, "post.approve", post, f"topic {topic.id}")
    _notify_mentions(post, topic, board, mentions.resolve(post.body))
    app = _app()
    db.session.flush()
    event = _event(post, board.id)
    events.post_pending.send(app, event=event)
    db.session.commit()
    events.post_published.send(app, event=event)
    return post


def reject_post(moderator: Member, post: Post, reason: str) -> Post:
    """Refuse a held post; the author is emailed the reason and their text."""
    topic = post.topic
    board = topic.board
    _require_moderator(moderator, board)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(str(_l("Please give the author a reason.")), fields={"reason": "required"})
    _still_held(post, topic)
    post.status = "rejected"
    post.change_seq = _next_change(topic)
    post.reject_reason = reason[:2000]
    if post.position == 1:
        topic.status = "rejected"
    audit(moderator, "post.reject", post, reason)
    author = post.author
    if author is not None and author.status == MemberStatus.ACTIVE:
        send_mail(author.email, "forum_post_rejected", language=author.language,
                  name=author.name, member=author, topic=topic.title, board=board.name,
                  reason=reason, body=post.body)
    _resolve_flags(moderator, post, "rejected")
    db.session.commit()
    events.post_rejected.send(_app(), event=_event(post, board.id))
    return post


def flag_post(member: Member, post: Post, reason: str) -> Flag:
    board = post.topic.board
    if not access.is_active_member(member) or not can_see_post(member, post, board):
        raise NotFound(str(_l("No such post.")))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(str(_l("Please say what is wrong with this post.")),
                      fields={"reason": "required"})
    existing = db.session.scalar(db.select(Flag).where(Flag.post_id == post.id,
                                                       Flag.member_id == member.id))
    if existing is not None and existing.resolved_at is None:
        raise Conflict(str(_l("You have reported this post already.")), code="flagged")
    if existing is not None:  # a new report after a moderator dismissed the last one
        existing.reason, existing.created_at = reason[:2000], clock.now()
        existing.resolved_at = existing.resolved_by_id = None
        existing.resolution = ""
        flag = existing
    else:
        flag = Flag(post_id=post.id, member_id=member.id, reason=reason[:2000])
        db.session.add(flag)
    db.session.commit()
    return flag


def _resolve_flags(actor: Member, post: Post, resolution: str) -> int:
    result = db.session.execute(
        update(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
        .values(resolved_at=clock.now(), resolved_by_id=actor.id, resolution=resolution),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def dismiss_flags(moderator: Member, post: Post) -> int:
    board = post.topic.board
    _require_moderator(moderator, board)
    count = _resolve_flags(moderator, post, "dismissed")
    audit(moderator, "post.flags_dismiss", post, f"{count} reports")
    db.session.commit()
    return count


@dataclass
class QueueItem:
    post: Post
    flags: list[Flag]
    edit: PostEdit | None = None  # an edit of the published post waiting for approval


def _waiting(board_ids: list[int]) -> Any:
    """Posts on `board_ids` a moderator has to look at: held, reported, or with an edit
    waiting."""
    flagged = db.select(Flag.post_id).where(Flag.resolved_at.is_(None))
    edited = db.select(PostEdit.post_id).where(PostEdit.state == "pending")
    return (Topic.board_id.in_(board_ids), Post.deleted_at.is_(None),
            or_(Post.status == "held", Post.id.in_(flagged), Post.id.in_(edited)))


def moderation_queue(moderator: Member) -> list[QueueItem]:
    """Held posts, posts with open reports and posts with an edit waiting, oldest first,
    on boards `moderator` moderates."""
    board_ids = [b.id for b in moderated_boards(moderator)]
    if not board_ids:
        return []
    posts = db.session.scalars(
        db.select(Post).join(Topic, Post.topic_id == Topic.id)
        .where(*_waiting(board_ids))
        .order_by(Post.created_at, Post.id)
        .options(db.joinedload(Post.topic).joinedload(Topic.board),
                 db.joinedload(Post.author), db.selectinload(Post.attachments))
        .limit(500)
    ).unique().all()
    flags: dict[int, list[Flag]] = {}
    edits: dict[int, PostEdit] = {}
    if posts:
        ids = [p.id for p in posts]
        for flag in db.session.scalars(
                db.select(Flag).where(Flag.post_id.in_(ids), Flag.resolved_at.is_(None))
                .options(db.joinedload(Flag.member)).order_by(Flag.id)):
            flags.setdefault(flag.post_id, []).append(flag)
        for edit in db.session.scalars(
                db.select(PostEdit).where(PostEdit.post_id.in_(ids),
                                          PostEdit.state == "pending")
                .options(db.joinedload(PostEdit.editor)).order_by(PostEdit.id)):
            edits[edit.post_id] = edit
    return [QueueItem(p, flags.get(p.id, []), edits.get(p.id)) for p in posts]


def queue_size(moderator: Member) -> int:
    board_ids = [b.id for b in moderated_boards(moderator)]
    if not board_ids:
        return 0
    return db.session.scalar(
        db.select(func.count(Post.id)).join(Topic, Post.topic_id == Topic.id)
        .where(*_waiting(board_ids))) or 0


def _topic_changed(topic: Topic, action: str, from_board_id: int | None = None) -> None:
    events.topic_changed.send(_app(), event=events.TopicEvent(
        topic_id=topic.id, board_id=topic.board_id, action=action,
        from_board_id=from_board_id))


def set_pinned(moderator: Member, topic: Topic, pinned: bool) -> Topic:
    _require_moderator(moderator, topic.board)
    topic.pinned = bool(pinned)
    audit(moderator, "topic.pin" if pinned else "topic.unpin", topic, topic.title)
    db.session.commit()
    _topic_changed(topic, "pin" if pinned else "unpin")
    return topic


def set_locked(moderator: Member, topic: Topic, locked: bool) -> Topic:
    _require_moderator(moderator, topic.board)
    return _apply_lock(moderator, topic, locked, topic.title)


def set_locked_by_system(topic: Topic, locked: bool, why: str) -> Topic:
    """Lock or unlock a topic for the hub itself (a conference's schedule when a round
    ends, say): no moderator to check, but the same path as theirs, so the change is
    audited (`why`, with no actor), commits whatever the caller has pending with it, and
    live readers and cached pages follow."""
    return _apply_lock(None, topic, locked, why)


def _apply_lock(actor: Member | None, topic: Topic, locked: bool, detail: str) -> Topic:
    topic.locked = bool(locked)
    audit(actor, "topic.lock" if locked else "topic.unlock", topic, detail)
    db.session.commit()
    _topic_changed(topic, "lock" if locked else "unlock")
    return topic


def move_topic(moderator: Member, topic: Topic, target: Board) -> Topic:
    """Move a topic to another board; the moderator must moderate both."""
    source = topic.board
    _require_moderator(moderator, source)
    if target.visibility == "group" and not access.can_read(moderator, target):
        raise NotFound(str(_l("No such board.")))
    if not access.can_moderate(moderator, target):
        raise Forbidden(str(_l("You do not moderate the board you chose.")),
                        code="not_moderator")
    if target.id == source.id:
        return topic
    _lock_topic(topic)
    if topic.status == "published" and topic.deleted_at is None:
        source.topic_count = Board.topic_count - 1
        target.topic_count = Board.topic_count + 1
        source.post_count = Board.post_count - topic.post_count
        target.post_count = Board.post_count + topic.post_count
        last = clock.aware(target.last_post_at)
        if last is None or last < clock.aware(topic.last_post_at):
            target.last_post_at = topic.last_post_at
    topic.board_id = target.id
    audit(moderator, "topic.move", topic, f"{source.slug} -> {target.slug}")
    db.session.commit()
    _topic_changed(topic, "move", from_board_id=source.id)
    return topic


def delete_topic(moderator: Member, topic: Topic) -> Topic:
    board = topic.board
    _require_moderator(moderator, board)
    if topic.deleted_at is not None:
        raise Conflict(str(_l("This topic is deleted already.")))
    _lock_topic(topic)
    topic.deleted_at = clock.now()
    if topic.status == "published":
        board.topic_count = Board.topic_count - 1
        board.post_count = Board.post_count - topic.post_count
    audit(moderator, "topic.delete", topic, topic.title)
    db.session.commit()
    _topic_changed(topic, "delete")
    return topic


# -- subscriptions --------------------------------------------------------------------------

def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise Invalid(str(_l("The mode is each, daily, weekly or none.")),
                      fields={"mode": "choice"})
    return mode


def _upsert_subscription(member: Member, mode: str, *, board_id: int | None = None,
                         topic_id: int | None = None) -> Subscription:
    query = db.select(Subscription).where(Subscription.member_id == member.id)
    query = query.where(Subscription.board_id == board_id) if board_id else query.where(
        Subscription.topic_id == topic_id)
    sub = db.session.scalar(query)
    if sub is None:
        sub = Subscription(member_id=member.id, board_id=board_id, topic_id=topic_id, mode=mode)
        db.session.add(sub)
    else:
        sub.mode = mode
    try:
        db.session.commit()
    except IntegrityError:  # the same member, twice at once: the other request won
        db.session.rollback()
        sub = db.session.scalar(query)
        sub.mode = mode
        db.session.commit()
    return sub


def set_subscription(member: Member, board: Board, mode: str) -> Subscription:
    """How `member` follows `board`: each post, a daily or weekly digest, or none."""
    if not access.is_active_member(member):
        raise Forbidden(str(_l("Please sign in to take part.")), code="login_required")
    ensure_visible(member, board)
    return _upsert_subscription(member, _check_mode(mode), board_id=board.id)


def set_topic_subscription(member: Member, topic: Topic, mode: str) -> Subscription:
    """Watch a topic (`each`), or mute it (`none`) on a board one follows."""
    if not access.is_active_member(member):
        raise Forbidden(str(_l("Please sign in to take part.")), code="login_required")
    ensure_visible(member, topic.board)
    return _upsert_subscription(member, _check_mode(mode), topic_id=topic.id)


def subscription_mode(member: Any, *, board: Board | None = None,
                      topic: Topic | None = None) -> str:
    if not access.is_active_member(member):
        return "none"
    query = db.select(Subscription.mode).where(Subscription.member_id == member.id)
    if board is not None:
        query = query.where(Subscription.board_id == board.id)
    else:
        query = query.where(Subscription.topic_id == topic.id)
    return db.session.scalar(query) or "none"


def _subscribers(where: Any, place: Board, limit: int | None = None) -> list[Member]:
    query = (db.select(Member).join(Subscription, Subscription.member_id == Member.id)
             .where(where, Member.status == MemberStatus.ACTIVE).order_by(Member.id)
             .limit(limit))
    if place.visibility == "group":  # narrow in SQL; hub.access has the last word below
        groups = [g for g in (place.group_id, place.moderator_group_id) if g]
        query = query.where(or_(
            Member.role == Role.SECRETARIAT,
            Member.id.in_(db.select(GroupMembership.member_id)
                          .where(GroupMembership.group_id.in_(groups)))))
    return [m for m in db.session.scalars(query) if access.can_read(m, place)]


def board_subscribers(board: Board, mode: str, limit: int | None = None) -> list[Member]:
    """Members following `board` with `mode` who may read it now (of the first `limit`
    by id, when given)."""
    return _subscribers((Subscription.board_id == board.id) & (Subscription.mode == mode),
                        board, limit)


def topic_subscribers(topic: Topic, mode: str = "each", limit: int | None = None
                      ) -> list[Member]:
    """Members watching (`each`) or muting (`none`) `topic` who may read its board."""
    return _subscribers((Subscription.topic_id == topic.id) & (Subscription.mode == mode),
                        topic.board, limit)


# -- read markers ---------------------------------------------------------------------------

def mark_topic_read(member: Member, topic: Topic, up_to_post_id: int | None = None) -> None:
    """Record that `member` has read `topic` up to a post (the newest by default).
    Called by the page's read beacon and the "mark as read" button, never on a GET."""
    if not access.is_active_member(member):
        raise Forbidden(str(_l("Please sign in to take part.")), code="login_required")
    ensure_visible(member, topic.board)
    newest = topic.last_post_id or 0
    target = newest if up_to_post_id is None else min(max(int(up_to_post_id), 0), newest)
    if target <= 0:
        return
    _upsert_read(member.id, topic.id, target)
    db.session.commit()


def mark_board_read(member: Member, board: Board) -> None:
    if not access.is_active_member(member):
        raise Forbidden(str(_l("Please sign in to take part.")), code="login_required")
    ensure_visible(member, board)
    row = db.session.get(BoardRead, (member.id, board.id))
    if row is None:
        db.session.add(BoardRead(member_id=member.id, board_id=board.id, read_at=clock.now()))
    else:
        row.read_at = clock.now()
    db.session.commit()


def unread_topic_ids(member: Any, topics: Sequence[Topic]) -> set[int]:
    """Which of `topics` have published posts `member` has not seen (two queries)."""
    if not topics or not access.is_active_member(member):
        return set()
    ids = [t.id for t in topics]
    seen = dict(db.session.execute(
        db.select(TopicRead.topic_id, TopicRead.last_post_id)
        .where(TopicRead.member_id == member.id, TopicRead.topic_id.in_(ids))).all())
    board_ids = {t.board_id for t in topics}
    marks = dict(db.session.execute(
        db.select(BoardRead.board_id, BoardRead.read_at)
        .where(BoardRead.member_id == member.id, BoardRead.board_id.in_(board_ids))).all())
    # Activity from before someone joined is not "new" to them.
    joined = clock.aware(member.approved_at or member.created_at)
    unread = set()
    for topic in topics:
        if topic.last_post_id is None:
            continue
        since = max([d for d in (joined, clock.aware(marks.get(topic.board_id))) if d],
                    default=None)
        if since is not None and clock.aware(topic.last_post_at) <= since:
            continue
        if topic.last_post_id > seen.get(topic.id, 0):
            unread.add(topic.id)
    return unread


def first_unread_post(member: Member, topic: Topic) -> Post | None:
    seen = db.session.scalar(db.select(TopicRead.last_post_id).where(
        TopicRead.member_id == member.id, TopicRead.topic_id == topic.id)) or 0
    return db.session.scalar(
        db.select(Post).where(Post.topic_id == topic.id, Post.id > seen,
                              Post.status == "published", Post.deleted_at.is_(None))
        .order_by(Post.position).limit(1))


# -- the registry's discussion hook ---------------------------------------------------------

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
        title = _check_title(title)
        body = str(_l("Discussion of the registry record [%(title)s](%(url)s).",
                      title=title.replace("[", "(").replace("]", ")"), url=url))
        try:
            topic = create_topic(actor, board, title, body, external_key=key).topic
        except Conflict:  # someone opened it at the same moment
            topic = db.session.scalar(db.select(Topic).where(Topic.external_key == key))
            if topic is None:
                raise
    return urls.path("forums.topic", topic_id=topic.id)
