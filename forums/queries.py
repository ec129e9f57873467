"""What the forums' pages and API read: a page of a topic, a page of a board, the home
page's summary. Reads only: no function here writes to the database.

Pages are cut by stored keys, never by OFFSET: the flat view by `Post.position` (page N
holds positions N*size-size+1 .. N*size, so a link to a post's page is computed, not
searched), the threaded view by `Post.thread_key` (`after`/`before`/`at` a key), and a
board's topics by (last_post_at, id). Each page is a fixed number of queries whatever the
topic's length. Imports `hub` and `forums`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, func, or_
from sqlalchemy.orm import aliased, contains_eager, joinedload

from forums import editing, read_markers, services, subscriptions
from forums.models import (
    POSITION_DIGITS,
    Board,
    BoardRead,
    Post,
    PostEdit,
    Subscription,
    Topic,
    TopicRead,
)
from hub import access, clock
from hub.access import Decision
from hub.errors import Invalid
from hub.extensions import db
from hub.models import Member
from hub.views import loaded_with_member

FIRST_KEY = f"{1:0{POSITION_DIGITS}d}"
_KEY_CHARS = frozenset("0123456789.")


def visible_posts(viewer: Any, moderator: bool) -> Any:
    """The SQL condition for posts `viewer` sees in a topic they may read."""
    member_id = viewer.id if access.is_active_member(viewer) else None
    if moderator:
        return Post.status.in_(("published", "held", "rejected"))
    if member_id is not None:
        return or_(Post.status == "published", Post.author_id == member_id)
    return Post.status == "published"


def _post_options() -> list[Any]:
    return [
        joinedload(Post.author).load_only(Member.id, Member.name),
        joinedload(Post.parent).load_only(Post.id, Post.topic_id, Post.author_id, Post.position)
        .joinedload(Post.author).load_only(Member.id, Member.name),
        # In the posts' own statement (few posts have files): one statement a page.
        joinedload(Post.attachments),
    ]


@dataclass
class TopicPage:
    topic: Topic
    board: Board
    posts: list[Post]
    view: str  # "threaded" | "flat"
    size: int
    moderator: bool
    reply: Decision
    page: int = 1
    pages: int = 1
    next_args: dict[str, Any] | None = None
    prev_args: dict[str, Any] | None = None
    seen_post_id: int | None = None  # newest post the member has read; None: anonymous
    subscription: str = "none"
    pending_edits: set[int] = field(default_factory=set)  # posts with an edit waiting


@dataclass(frozen=True)
class Reader:
    """What a signed-in member's topic page needs to know of them, in one query."""
    seen_post_id: int  # the newest post they have read (0: none)
    subscription: str
    # They see here what others do not: held or rejected posts of their own, or edits
    # waiting for a moderator (their own; anyone's for a moderator).
    sees_more: bool
    moderator: bool


def member_topic(viewer: Member, topic_id: int) -> tuple[Topic, Reader]:
    """A topic as `services.get_topic` finds it (access decided the same way) and what
    its page needs to know of an active member, in one statement: the member's own load
    when the page is the topic page (`member_topic_load`), else a statement of its own."""
    row = loaded_with_member("forums.topic", {"topic_id": topic_id})
    if row is None:
        row = db.session.execute(_member_topic_statement(),
                                 {"topic_id": topic_id, "viewer_id": viewer.id}).one_or_none()
    topic = services.check_topic(viewer, row[0] if row is not None else None)
    _topic, seen, mode, more_own, more_any = row
    moderator = access.can_moderate(viewer, topic.board)
    return topic, Reader(seen or 0, mode or "none", bool(more_any if moderator else more_own),
                         moderator)


def member_topic_load(view_args: dict[str, Any]) -> tuple[Any, dict[str, Any]] | None:
    """For `hub.views.load_with_member`: on a topic page, the member comes in the topic
    page's statement (one statement for both; `member_topic` reads the rest)."""
    if not isinstance(view_args.get("topic_id"), int):
        return None
    return _member_with_topic_statement(), {"topic_id": view_args["topic_id"]}


@cache
def _member_topic_statement() -> Any:
    """Built once (its parameters bound per request): the topic with its board and what
    the page needs to know of the member (`_reader_columns`)."""
    return services.topic_query(bindparam("topic_id")).add_columns(
        *_reader_columns(bindparam("viewer_id")))


@cache
def _member_with_topic_statement() -> Any:
    """The same, with the member's own load in front (the member is found whether or not
    the topic is: the topic's columns are then NULL)."""
    return (db.select(Member, Topic, *_reader_columns(bindparam("id"))).select_from(Member)
            .outerjoin(Topic, Topic.id == bindparam("topic_id"))
            .outerjoin(Board, Board.id == Topic.board_id)
            .options(contains_eager(Topic.board)).where(Member.id == bindparam("id")))


def _reader_columns(viewer: Any) -> list[Any]:
    """The member's read marker and watch setting in the topic, and whether they see
    posts or edits others do not (edits wait for a moderator on pre-moderated boards
    only): as themselves, and as a moderator."""
    own_hidden = db.exists().where(Post.topic_id == Topic.id, Post.author_id == viewer,
                                   Post.status != "published")
    waiting = db.exists().where(PostEdit.state == "pending", PostEdit.post_id == Post.id,
                                Post.topic_id == Topic.id)
    return [
        db.select(TopicRead.last_post_id).where(TopicRead.member_id == viewer,
                                                TopicRead.topic_id == Topic.id)
        .scalar_subquery(),
        db.select(Subscription.mode).where(Subscription.member_id == viewer,
                                           Subscription.topic_id == Topic.id)
        .scalar_subquery(),
        or_(own_hidden, and_(Board.premoderated, waiting.where(PostEdit.editor_id == viewer))),
        or_(own_hidden, and_(Board.premoderated, waiting))]


def page_of(position: int, size: int) -> int:
    return max(1, (position - 1) // size + 1)


def check_key(value: str | None, name: str) -> str | None:
    if not value:
        return None
    if len(value) > 200 or not set(value) <= _KEY_CHARS:
        raise Invalid(f"'{name}' is not a thread key.", fields={name: "format"})
    return value


def topic_page(viewer: Any, topic: Topic, *, view: str = "threaded", page: int = 1,
               after: str | None = None, before: str | None = None, at: str | None = None,
               size: int | None = None, member: Reader | None = None) -> TopicPage:
    board = topic.board
    size = size or int(services.cfg("HUB_FORUM_PAGE_SIZE"))
    moderator = access.can_moderate(viewer, board)
    query = (db.select(Post).where(Post.topic_id == topic.id, visible_posts(viewer, moderator))
             .options(*_post_options()))
    result = TopicPage(topic=topic, board=board, posts=[], view=view, size=size,
                       moderator=moderator, reply=reply_decision(viewer, topic, board,
                                                                 moderator))
    if view == "flat":
        result.pages = max(1, page_of(topic.last_position or 1, size))
        result.page = page = min(max(1, page), result.pages)
        low = (page - 1) * size
        result.posts = list(db.session.scalars(
            query.where(Post.position > low, Post.position <= low + size)
            .order_by(Post.position)).unique())
        if page > 1:
            result.prev_args = {"view": "flat", "page": page - 1}
        if page < result.pages:
            result.next_args = {"view": "flat", "page": page + 1}
    else:
        result.view = "threaded"
        after, before, at = (check_key(after, "after"), check_key(before, "before"),
                             check_key(at, "at"))
        if before:
            rows = list(db.session.scalars(
                query.where(Post.thread_key < before).order_by(Post.thread_key.desc())
                .limit(size + 1)).unique())
            more_before = len(rows) > size
            rows = rows[:size][::-1]
            result.posts = rows
            if more_before and rows:
                result.prev_args = {"before": rows[0].thread_key}
            if rows:
                result.next_args = {"after": rows[-1].thread_key}
        else:
            if at:
                query = query.where(Post.thread_key >= at)
            elif after:
                query = query.where(Post.thread_key > after)
            rows = list(db.session.scalars(
                query.order_by(Post.thread_key).limit(size + 1)).unique())
            result.posts = rows[:size]
            if len(rows) > size:
                result.next_args = {"after": result.posts[-1].thread_key}
            if result.posts and result.posts[0].thread_key != FIRST_KEY:
                result.prev_args = {"before": result.posts[0].thread_key}
    if member is not None:
        result.seen_post_id, result.subscription = member.seen_post_id, member.subscription
        if board.premoderated:  # edits wait for a moderator only there
            result.pending_edits = editing.pending_edit_ids(viewer, result.posts, moderator)
    return result


def reply_decision(viewer: Any, topic: Topic, board: Board, moderator: bool) -> Decision:
    decision = access.check_post(viewer, board)
    if decision and topic.locked and not moderator:
        return Decision(False, "locked", "")
    if decision and (topic.deleted_at is not None or topic.status != "published"):
        return Decision(False, "closed", "")
    return decision


def posts_after(viewer: Any, topic: Topic, after: int, limit: int) -> list[Post]:
    """Posts in arrival order after a position (the API's keyset cursor)."""
    moderator = access.can_moderate(viewer, topic.board)
    return list(db.session.scalars(
        db.select(Post).where(Post.topic_id == topic.id, Post.position > after,
                              visible_posts(viewer, moderator))
        .options(*_post_options()).order_by(Post.position).limit(limit)).unique())


# -- boards ---------------------------------------------------------------------------------

def visible_topics(viewer: Any, moderator: bool) -> Any:
    member_id = viewer.id if access.is_active_member(viewer) else None
    shown = Topic.status == "published"
    if moderator:
        shown = or_(shown, Topic.status == "held")
    if member_id is not None:
        shown = or_(shown, Topic.author_id == member_id)
    return and_(Topic.deleted_at.is_(None), shown)


@dataclass
class BoardPage:
    board: Board
    pinned: list[Topic]
    topics: list[Topic]
    next_args: dict[str, Any] | None
    moderator: bool
    post: Decision
    unread: set[int] = field(default_factory=set)
    subscription: str = "none"


def encode_cursor(when: datetime, topic_id: int) -> str:
    return f"{clock.aware(when).strftime('%Y%m%dT%H%M%S.%f')}_{topic_id}"


def decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    if not raw:
        return None
    stamp, _, ident = raw.partition("_")
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)
        return when, int(ident)
    except ValueError as exc:
        raise Invalid("'before' is not a cursor from this list.",
                      fields={"before": "format"}) from exc


def board_topics(viewer: Any, board: Board, before: str | None = None,
                 size: int = 30) -> tuple[list[Topic], list[Topic], dict[str, Any] | None]:
    """(pinned topics on the first page, a page of the others newest first, next args)."""
    moderator = access.can_moderate(viewer, board)
    base = (db.select(Topic).where(Topic.board_id == board.id,
                                   visible_topics(viewer, moderator))
            .options(joinedload(Topic.author).load_only(Member.id, Member.name),
                     joinedload(Topic.last_author).load_only(Member.id, Member.name)))
    cursor = decode_cursor(before)
    pinned: list[Topic] = []
    if cursor is None:
        pinned = list(db.session.scalars(
            base.where(Topic.pinned.is_(True)).order_by(Topic.last_post_at.desc())))
    query = base.where(Topic.pinned.is_(False))
    if cursor is not None:
        when, ident = cursor
        query = query.where(or_(Topic.last_post_at < when,
                                and_(Topic.last_post_at == when, Topic.id < ident)))
    rows = list(db.session.scalars(
        query.order_by(Topic.last_post_at.desc(), Topic.id.desc()).limit(size + 1)))
    nxt = None
    if len(rows) > size:
        rows = rows[:size]
        nxt = {"before": encode_cursor(rows[-1].last_post_at, rows[-1].id)}
    return pinned, rows, nxt


def board_page(viewer: Any, board: Board, before: str | None = None) -> BoardPage:
    pinned, topics, nxt = board_topics(viewer, board, before)
    page = BoardPage(board=board, pinned=pinned, topics=topics, next_args=nxt,
                     moderator=access.can_moderate(viewer, board),
                     post=access.check_post(viewer, board))
    if access.is_active_member(viewer):
        page.unread = read_markers.unread_topic_ids(viewer, pinned + topics)
        page.subscription = subscriptions.subscription_mode(viewer, board=board)
    return page


# -- the index and the home page -------------------------------------------------------------

@dataclass
class Summary:
    boards: list[Board]
    recent: list[Topic]


def summary(viewer: Any, recent: int = 6) -> Summary:
    """Boards `viewer` may read and the latest active topics on them."""
    boards = services.readable_boards(viewer)
    topics: list[Topic] = []
    if boards and recent:
        topics = list(db.session.scalars(
            db.select(Topic).where(Topic.board_id.in_([b.id for b in boards]),
                                   Topic.status == "published", Topic.deleted_at.is_(None))
            .options(joinedload(Topic.board), joinedload(Topic.last_author))
            .order_by(Topic.last_post_at.desc()).limit(recent)))
    return Summary(boards=boards, recent=topics)


@dataclass
class BoardSummary:
    """What the forum index shows of a board beyond its own row."""
    latest: Topic | None = None  # the topic with the newest activity
    unread: int = 0  # topics with posts the member has not seen (0: not signed in)


def index_overview(viewer: Any, boards: list[Board]) -> dict[int, BoardSummary]:
    """Each board's latest topic (one query for all boards) and, for a member, how many
    of its topics have posts they have not seen (one more)."""
    overview = {b.id: BoardSummary() for b in boards}
    if not boards:
        return overview
    newest = aliased(Topic)
    latest_id = (db.select(newest.id)
                 .where(newest.board_id == Board.id, newest.status == "published",
                        newest.deleted_at.is_(None))
                 .order_by(newest.last_post_at.desc(), newest.id.desc()).limit(1)
                 .correlate(Board).scalar_subquery())
    ids = db.select(latest_id).where(Board.id.in_(list(overview)))
    for topic in db.session.scalars(
            db.select(Topic).where(Topic.id.in_(ids))
            .options(joinedload(Topic.last_author).load_only(Member.id, Member.name))):
        overview[topic.board_id].latest = topic
    if access.is_active_member(viewer):
        for board_id, count in _unread_counts(viewer, list(overview)):
            overview[board_id].unread = count
    return overview


def _unread_counts(member: Any, board_ids: list[int]) -> list[tuple[int, int]]:
    """Per board, topics with a published post newer than the member's read marker,
    counting only activity since they joined and since they marked the board read
    (`read_markers.unread_topic_ids`, for whole boards, in SQL)."""
    joined = clock.aware(member.approved_at or member.created_at)
    marked = (db.select(BoardRead.read_at)
              .where(BoardRead.member_id == member.id, BoardRead.board_id == Topic.board_id)
              .correlate(Topic).scalar_subquery())
    seen = (db.select(TopicRead.last_post_id)
            .where(TopicRead.member_id == member.id, TopicRead.topic_id == Topic.id)
            .correlate(Topic).scalar_subquery())
    query = (db.select(Topic.board_id, func.count())
             .where(Topic.board_id.in_(board_ids), Topic.status == "published",
                    Topic.deleted_at.is_(None), Topic.last_post_id.is_not(None),
                    Topic.last_post_id > func.coalesce(seen, 0),
                    or_(marked.is_(None), Topic.last_post_at > marked))
             .group_by(Topic.board_id))
    if joined is not None:
        query = query.where(Topic.last_post_at > joined)
    return [(board_id, count) for board_id, count in db.session.execute(query)]
