"""Rendered topic pages, kept in memory for a short while.

Readers who are not signed in get the same page (for the same language and time zone):
it is kept whole. Members' pages differ in a few places only (their name, the form
token, which posts are theirs or new to them, their watch setting), so a member's page
is kept once for every member who sees the same posts and the same tools (same language,
time zone, menu, moderator or not, same answer to "may I reply?") with marks in those places
(`hub.personal`), and filled in for each request. A member with held or rejected posts
or waiting edits of their own in the topic (a moderator: anyone's waiting edits) sees
what others do not: their page is rendered for them.

Board pages and the forum index are kept the same way for readers who are not signed in,
keyed by `Board.revision`, which the same listeners move on (a topic moved: both boards)
and so does every change of a board's settings (`forums.services.update_board`).

A cached page is keyed by the topic's `revision`, which moves on after every change
readers would see (the listeners below, after commit, in whichever process made it), so
the topic row the page loads anyway says whether a copy is current: no extra query, and
right across processes. Access is still decided on every request, before the cache is
looked at. What the revision does not follow (a member changing their name, a board
renamed) is at most HUB_FORUM_PAGE_CACHE seconds old (0 switches the cache off).

Imports `hub` and `forums`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from flask import Flask, current_app, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from sqlalchemy import bindparam, update

from forums.models import Board, Topic
from hub import aftercommit, events, personal
from hub.extensions import db
from hub.views import nav

log = logging.getLogger(__name__)


def _weight(page: Any) -> int:
    """About how many bytes a kept page holds (its text; a member page's tails too)."""
    if isinstance(page, bytes | str):
        return len(page)
    tails = sum(len(a) + len(b) for a, b in getattr(page, "tails", {}).values())
    html = getattr(page, "html", "")
    if isinstance(html, personal.Marked):  # a members' page, cut at its marks
        size = sum(_marked_size(marked) for marked in (html, *page.settled.values()))
    else:
        size = len(html)
    return size + tails + 64 * len(getattr(page, "authors", ()))


def _marked_size(page: personal.Marked) -> int:
    return sum(map(len, page.texts)) + 16 * len(page.marks)


class PageCache:
    """A small LRU of rendered pages with a time to live, shared by a process's threads.
    Bounded by count and by bytes: long topic pages must not make a process grow to
    `size` times the largest page (a soak of many URLs showed it)."""

    def __init__(self, size: int = 512, ttl: float = 60, max_bytes: int = 16 << 20) -> None:
        self.size, self.ttl, self.max_bytes = size, ttl, max_bytes
        self._pages: OrderedDict[tuple, tuple[float, Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any:
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._pages[key]
                self._bytes -= found[2]
                return None
            self._pages.move_to_end(key)
            return found[1]

    def put(self, key: tuple, page: Any) -> None:
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            weight = _weight(page)
            self._pages[key] = (time.monotonic() + self.ttl, page, weight)
            self._bytes += weight
            self._evict()

    def reweigh(self, key: tuple) -> None:
        """A kept page grew (a member page settled for one more place): count it again."""
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return
            weight = _weight(found[1])
            self._pages[key] = (found[0], found[1], weight)
            self._bytes += weight - found[2]
            self._evict()

    def _evict(self) -> None:
        while self._pages and (len(self._pages) > self.size or self._bytes > self.max_bytes):
            self._bytes -= self._pages.popitem(last=False)[1][2]


def topic_key(topic: Topic) -> tuple | None:
    """The key of this request's topic page for a reader who is not signed in, or None
    when it must be rendered for them (a member, or a message waiting to be shown)."""
    if current_user.is_authenticated or not _usable():
        return None
    return _page_key(topic)


def member_key(topic: Topic, moderator: bool, reply: Any, sees_more: bool) -> tuple | None:
    """The key of the page kept for every member who reads `topic` as this one does, or
    None when it must be rendered for them alone."""
    if sees_more or not _usable():
        return None
    # The menu differs by role (the Secretariat's desk, the moderation queue).
    menu = tuple(endpoint for endpoint, _label in nav(current_user._get_current_object()))
    return (*_page_key(topic), "member", moderator, bool(reply), reply.code,
            str(reply.message), menu)


def board_key(board: Board) -> tuple | None:
    """The key of this request's board page for a reader who is not signed in, or None.
    Access is decided before; the board's `revision` follows its topics and settings."""
    if current_user.is_authenticated or not _usable():
        return None
    # What the page shows of the board itself is in the key too: a board changed by
    # other code (a conference's schedule) shows at once.
    shown = (board.name, board.description, board.locked, board.visibility,
             board.posting, board.premoderated, board.opens_at, board.closes_at)
    return ("board", board.id, board.revision, shown, *_reader_key())


def index_key(boards: list[Board]) -> tuple | None:
    """The forum index for a reader who is not signed in: keyed by the boards they may
    read and where each one stands (a board closed to them drops out of the key)."""
    if current_user.is_authenticated or not _usable():
        return None
    return ("index", tuple((b.id, b.revision) for b in boards), *_reader_key())


def _reader_key() -> tuple:
    return (request.full_path, str(get_locale()), str(get_timezone()))


def _usable() -> bool:
    return bool(current_app.config.get("HUB_FORUM_PAGE_CACHE")) and not session.get("_flashes")


def _page_key(topic: Topic) -> tuple:
    return (topic.id, topic.revision, topic.last_position, *_reader_key())


@dataclass(frozen=True)
class MemberPage:
    """A member's topic page with marks, and what filling them in needs: each post's
    author and its closing part (actions) as the author and as anyone else sees it."""
    html: personal.Marked
    authors: dict[int, int | None]
    tails: dict[int, tuple[bytes, bytes]]  # post id -> (as its author sees it, as others do)
    watch: tuple[bytes, bytes]  # the watch button for a member not watching, and watching
    new_badge: bytes  # what marks a post new to its reader
    # (the reader's own posts here, how many they have read) -> the page with the marks
    # of its posts filled in as such a reader sees them; shared by all such readers
    settled: dict[tuple, personal.Marked] = field(default_factory=dict)
    post_ids: tuple[int, ...] = field(init=False)  # the page's posts (`authors`), ascending

    def __post_init__(self) -> None:
        object.__setattr__(self, "post_ids", tuple(sorted(self.authors)))


def pages(app: Flask | None = None) -> PageCache:
    return (app or current_app).extensions["forums_pages"]


def _revision_updates(topic_id: int, board_ids: tuple[int | None, ...]
                      ) -> list[tuple[Any, dict[str, Any]]]:
    """(statement, parameters): the statements are built once (every post runs them)."""
    topic, board = _revision_statements()
    statements = [(topic, {"topic": topic_id})]
    boards = [b for b in board_ids if b]
    if boards:
        statements.append((board, {"boards": boards}))
    return statements


@cache
def _revision_statements() -> tuple[Any, Any]:
    return (update(Topic).where(Topic.id == bindparam("topic"))
            .values(revision=Topic.revision + 1),
            update(Board).where(Board.id.in_(bindparam("boards", expanding=True)))
            .values(revision=Board.revision + 1))


def bump(topic_id: int, board_ids: tuple[int | None, ...] = ()) -> None:
    """A change readers see: cached pages of the topic, and of the boards it is listed
    on (and so the index), are no longer current."""
    aftercommit.write(lambda conn: [conn.execute(statement, params) for statement, params
                                    in _revision_updates(topic_id, board_ids)])


def _on_pending(sender: Flask, event: Any, **_kw: Any) -> None:
    """Inside a new (or approved) post's transaction: the revisions move with it, in
    the UPDATEs the post's counters make of the topic and the board (the session's own
    objects; an increment, whatever another writer did meanwhile)."""
    topic = db.session.get(Topic, event.topic_id)
    board = db.session.get(Board, event.board_id)
    if topic is not None:
        topic.revision = Topic.revision + 1
    if board is not None:
        board.revision = Board.revision + 1
    aftercommit.mark("page", event.post_id)


def _on_change(sender: Flask, event: Any, **_kw: Any) -> None:
    if getattr(event, "post_id", None) and aftercommit.done("page", event.post_id):
        return
    try:
        bump(event.topic_id, (event.board_id, getattr(event, "from_board_id", None)))
    except Exception:  # a stale copy lives at most HUB_FORUM_PAGE_CACHE seconds
        log.exception("page cache: could not move topic %s on", event.topic_id)


def init_app(app: Flask) -> None:
    app.config.setdefault("HUB_FORUM_PAGE_CACHE", 60)
    app.extensions["forums_pages"] = PageCache(ttl=float(app.config["HUB_FORUM_PAGE_CACHE"]))
    # Held and rejected posts change what moderators (and their authors) see.
    for signal in (events.post_published, events.post_edited, events.post_deleted,
                   events.post_held, events.post_rejected, events.topic_changed):
        signal.connect(_on_change)
    events.post_pending.connect(_on_pending)
