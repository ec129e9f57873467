"""Live updates: Socket.IO rooms per topic and per board, filled from the domain events.

Readers join a room with the `join` event; the join decides access through `hub.access`
(the session's member, from the Flask session cookie of the socket's handshake). Room
names carry the board a topic is on (`t12b3`), so after a move the old room hears no more
and its readers must join again (and be checked again). Each room has one sub-room per
language (`t12b3.es`): new, edited and deleted posts go out as HTML fragments rendered
once per language for a neutral reader, and the page's script adapts them to its reader
(which actions to show, the reader's time zone).

Events carry increasing ids: the topic's change number (`Topic.change_seq`, moved on in
the transaction of every change to one of its posts, so in commit order), so a client
that comes back fetches what it missed over HTTP (`catch_up`, the route
`forums.topic_live`): new posts, held posts published since (whatever their position),
edits and deletions.

Fragments are emitted after commit from the `hub.events` signals, in whichever process
made the change (web, API, mail gateway, worker). With HUB_REDIS_URL set, Flask-SocketIO
uses Redis as its message queue: an emit anywhere reaches the clients of every
`hub serve` process, and the reader counts live in Redis too. Redis is not needed to
read or post: while it does not answer, each process closes its sockets and refuses new
ones (pages say live updates are paused and keep trying), and once it answers again the
pages come back and fetch over HTTP what they missed.

Membership can change while a socket is open: every process re-checks its sockets'
rooms every HUB_LIVE_RECHECK_SECONDS (and at once for changes made in that process).

Imports `hub` and `forums`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, render_template, request
from flask_babel import force_locale, get_locale
from flask_login import current_user
from flask_socketio import join_room, leave_room
from sqlalchemy.orm import joinedload, selectinload

from forums import editing, presence, queries, services
from forums.models import Board, Post, Topic
from hub import access, clock, events
from hub.access import Decision
from hub.errors import HubError
from hub.extensions import db, socketio
from hub.i18n import isotime
from hub.models import Member, MemberStatus

log = logging.getLogger(__name__)

CATCH_UP_LIMIT = 50
FLUSH_SECONDS = 1.0  # reader counts go out at most this often per room
PROBE_SECONDS = 2.0  # how soon a process notices that Redis stopped answering


def topic_room(topic_id: int, board_id: int) -> str:
    return f"t{topic_id}b{board_id}"


def board_room(board_id: int) -> str:
    return f"b{board_id}"


def _locales(app: Flask) -> tuple[str, ...]:
    return tuple(app.config.get("LANGUAGES") or ("en",))


# -- this process's sockets ------------------------------------------------------------------

@dataclass
class Client:
    member_id: int | None
    session_version: int | None
    rooms: dict[str, int] = field(default_factory=dict)  # room -> board id
    locale: str = "en"


class Live:
    """The live state of one app in one process: its sockets, reader counts and the
    background task that sends counts and re-checks access."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        channel = app.config.get("HUB_SOCKETIO_CHANNEL") or "hub-socketio"
        self.presence: Any = presence.for_app(app, channel)
        self.clients: dict[str, Client] = {}
        self.dirty: set[str] = set()
        self.lock = threading.Lock()
        self.running = False
        self.recheck_seconds = float(app.config.get("HUB_LIVE_RECHECK_SECONDS", 30))
        self.max_sockets = int(app.config.get("HUB_LIVE_MAX_SOCKETS") or 100_000)

    # The background task runs while this process has sockets, and stops with the last.
    def start(self) -> None:
        with self.lock:
            if self.running:
                return
            self.running = True
        socketio.start_background_task(self._loop)

    def _loop(self) -> None:
        next_beat = next_check = next_probe = 0.0
        try:
            while True:
                socketio.sleep(FLUSH_SECONDS)
                with self.lock:
                    if not self.clients and not self.dirty:
                        self.running = False
                        return
                now = time.monotonic()
                if now >= next_probe:
                    next_probe = now + PROBE_SECONDS
                    if not self.presence.answers():
                        self.drop_all()
                        continue
                try:
                    if now >= next_beat:
                        self.presence.heartbeat()
                        next_beat = now + presence.HEARTBEAT_SECONDS
                    self.flush()
                    if now >= next_check:
                        next_check = now + self.recheck_seconds
                        self.recheck()
                except Exception:  # a failed round must not end live updates
                    log.exception("live updates: background round failed")
        finally:
            with self.lock:
                self.running = False

    def drop_all(self) -> int:
        """Redis is down: events sent now would reach no one. Close every socket of this
        process, so each page says "paused; trying again" and, once Redis answers and the
        page is let in again, fetches what it missed over HTTP. Returns how many."""
        sids = list(self.clients)
        if sids:
            log.warning("live updates: Redis does not answer; closing %d sockets until it "
                        "does (pages catch up when they reconnect)", len(sids))
        for sid in sids:
            try:
                socketio.server.disconnect(sid, namespace="/")
            except Exception:
                log.debug("live updates: could not close %s", sid, exc_info=True)
            self.forget(sid)
        return len(sids)

    def flush(self) -> None:
        """Send the reader count of every room whose readers changed."""
        with self.lock:
            rooms, self.dirty = self.dirty, set()
        for room in rooms:
            socketio.emit("readers", {"room": room, "count": self.presence.count(room)},
                          to=room)

    def enter(self, sid: str, room: str, board_id: int, locale: str) -> int:
        client = self.clients.get(sid)
        if client is None:
            return 0
        client.rooms[room] = board_id
        client.locale = locale
        self.presence.add(room, sid, client.member_id)
        # Who reads in which language: fragments are rendered only for languages read.
        self.presence.add(f"{room}.{locale}", sid, client.member_id)
        with self.lock:
            self.dirty.add(room)
        return self.presence.count(room)

    def leave(self, sid: str, room: str) -> None:
        client = self.clients.get(sid)
        if client is None or room not in client.rooms:
            return
        del client.rooms[room]
        self.presence.remove(room, sid)
        self.presence.remove(f"{room}.{client.locale}", sid)
        with self.lock:
            self.dirty.add(room)

    def forget(self, sid: str) -> None:
        client = self.clients.pop(sid, None)
        if client is None:
            return
        for room in list(client.rooms):
            self.presence.remove(room, sid)
            self.presence.remove(f"{room}.{client.locale}", sid)
            with self.lock:
                self.dirty.add(room)

    def recheck(self, member_id: int | None = None) -> int:
        """Take sockets out of rooms their member may no longer read (removed from the
        group, the board closed) and disconnect members signed out everywhere or
        deactivated. Returns how many rooms were left."""
        clients = [(sid, c) for sid, c in list(self.clients.items())
                   if c.rooms and (member_id is None or c.member_id == member_id)]
        if not clients:
            return 0
        with self.app.app_context():  # its own session, whatever the caller has open
            try:
                return self._recheck(clients)
            finally:
                db.session.remove()

    def _recheck(self, clients: list[tuple[str, Client]]) -> int:
        member_ids = {c.member_id for _sid, c in clients if c.member_id is not None}
        board_ids = {b for _sid, c in clients for b in c.rooms.values()}
        members = {m.id: m for m in db.session.scalars(
            db.select(Member).where(Member.id.in_(member_ids)))} if member_ids else {}
        boards = {b.id: b for b in db.session.scalars(
            db.select(Board).where(Board.id.in_(board_ids)))}
        access.forget_groups()
        left = 0
        for sid, client in clients:
            member = members.get(client.member_id) if client.member_id else None
            if client.member_id is not None and (
                    member is None or member.status != MemberStatus.ACTIVE
                    or member.session_version != client.session_version):
                self._revoke(sid, client, list(client.rooms))
                socketio.server.disconnect(sid)
                left += 1
                continue
            gone = [room for room, board_id in client.rooms.items()
                    if board_id not in boards or not access.can_read(member, boards[board_id])]
            if gone:
                self._revoke(sid, client, gone)
                left += len(gone)
        return left

    def _revoke(self, sid: str, client: Client, rooms: list[str]) -> None:
        for room in rooms:
            for name in (room, f"{room}.{client.locale}"):
                socketio.server.leave_room(sid, name, namespace="/")
            self.leave(sid, room)
            socketio.emit("revoked", {"room": room}, to=sid)


def live_state(app: Flask | None = None) -> Live:
    app = app or current_app._get_current_object()
    return app.extensions["forums_live"]


# -- socket events --------------------------------------------------------------------------

def _viewer() -> Member | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


def on_connect(*_args: Any) -> bool:
    live = live_state()
    if len(live.clients) >= live.max_sockets:
        # Threaded servers hold a thread per socket: pages come first. The page's script
        # tries again later; reloading always works.
        log.info("live updates: %d sockets, refusing more", len(live.clients))
        return False
    if not live.presence.answers():
        return False  # Redis is down: the page tries again later, then catches up
    viewer = _viewer()
    live.clients[request.sid] = Client(
        member_id=viewer.id if viewer else None,
        session_version=viewer.session_version if viewer else None,
        locale=str(get_locale() or "en"))
    live.start()
    return True


def on_disconnect(*_args: Any) -> None:
    live_state().forget(request.sid)


def on_join(data: Any) -> dict[str, Any]:
    """`join` {topic: id} or {board: slug}; the answer says whether it worked and gives
    the newest position (topics) and the reader count."""
    viewer = _viewer()
    if not isinstance(data, dict):
        return {"ok": False, "error": "invalid"}
    try:
        if "topic" in data:
            topic = services.get_topic(viewer, int(data["topic"]))
            board = topic.board
            room = topic_room(topic.id, board.id)
            extra = {"last": topic.last_position or 0, "seq": topic.change_seq or 0}
        elif "board" in data:
            board = services.get_board(viewer, str(data["board"]))
            room = board_room(board.id)
            extra = {}
        else:
            return {"ok": False, "error": "invalid"}
    except HubError as exc:
        return {"ok": False, "error": exc.code}
    except (TypeError, ValueError):
        return {"ok": False, "error": "invalid"}
    if not access.can_read(viewer, board):  # the services decided; the policy has the say
        return {"ok": False, "error": "no_access"}
    locale = str(get_locale() or "en")
    try:
        join_room(room)
        join_room(f"{room}.{locale}")
    except KeyError:  # the client went away while its join was on the way: nothing to join
        return {"ok": False, "error": "gone"}
    readers = live_state().enter(request.sid, room, board.id, locale)
    return {"ok": True, "room": room, "readers": readers, "at": isotime(clock.now()),
            **extra}


def on_leave(data: Any) -> None:
    room = data.get("room") if isinstance(data, dict) else None
    live = live_state()
    client = live.clients.get(request.sid)
    if not isinstance(room, str) or client is None or room not in client.rooms:
        return
    leave_room(room)
    leave_room(f"{room}.{client.locale}")
    live.leave(request.sid, room)


# -- fragments for a neutral reader ------------------------------------------------------------

@dataclass
class LivePage:
    """What `render_post` reads from a page, for a reader we do not know: no "new" marks,
    no moderator tools; actions marked for the page's script to keep or drop."""

    view: str = "flat"
    moderator: bool = False
    reply: Decision = field(default_factory=lambda: Decision(True))
    seen_post_id: int | None = None
    live: bool = True


@contextmanager
def _neutral(app: Flask) -> Iterator[None]:
    """A fresh app context (its own session and `g`: not the poster's signed-in user)
    and an anonymous request on HUB_BASE_URL, for rendering and URLs."""
    with app.app_context(), app.test_request_context("/", base_url=app.config["HUB_BASE_URL"]):
        try:
            yield
        finally:
            db.session.remove()


def _load_post(post_id: int) -> Post | None:
    return db.session.scalar(
        db.select(Post).where(Post.id == post_id).options(
            joinedload(Post.author), joinedload(Post.topic).joinedload(Topic.board),
            joinedload(Post.parent).joinedload(Post.author), selectinload(Post.attachments)))


def _shown(topic: Topic) -> bool:
    return topic.status == "published" and topic.deleted_at is None


def _row_payload(topic: Topic, change: str = "update") -> dict[str, Any]:
    return {"topic_id": topic.id, "pinned": topic.pinned, "change": change,
            "last_post_id": topic.last_post_id or 0}


def _read_in(app: Flask, room: str) -> list[str]:
    """The languages in which someone reads `room` now (in any process, with Redis)."""
    readers = live_state(app).presence
    return [loc for loc in _locales(app) if readers.has_readers(f"{room}.{loc}")]


def _emit_topic_row(app: Flask, topic: Topic, board_id: int, change: str = "update") -> None:
    room = board_room(board_id)
    if change == "remove":
        socketio.emit("topic_row", _row_payload(topic, "remove"), to=room)
        return
    for locale in _read_in(app, room):
        with force_locale(locale):
            html = render_template("forums/_live_row.html", t=topic, live=True)
        socketio.emit("topic_row", {**_row_payload(topic), "html": html},
                      to=f"{room}.{locale}")


def publish_post(app: Flask, event: events.PostEvent, change: str) -> None:
    """Send a post to its topic's readers (and its topic's row to the board's), rendered
    in the languages they read; nothing to do when nobody is reading either."""
    topic_languages = _read_in(app, topic_room(event.topic_id, event.board_id))
    if not topic_languages and not _read_in(app, board_room(event.board_id)):
        return
    post_id = event.post_id
    with _neutral(app):
        post = _load_post(post_id)
        if post is None:
            return
        topic = post.topic
        if not _shown(topic) or (post.status != "published" and change != "delete"):
            return
        board = topic.board
        room = topic_room(topic.id, board.id)
        page = LivePage(reply=Decision(not topic.locked))
        data = {"topic_id": topic.id, "id": post.id, "position": post.position,
                "thread_key": post.thread_key, "depth": post.depth,
                "parent_id": post.parent_id, "author_id": post.author_id, "change": change,
                "seq": post.change_seq, "at": isotime(clock.now())}
        if post.position == 1:
            data["title"] = topic.title
        for locale in topic_languages:
            with force_locale(locale):
                html = render_template("forums/_live_post.html", post=post, page=page,
                                       topic=topic, board=board)
            socketio.emit("post", {**data, "html": html}, to=f"{room}.{locale}")
        _emit_topic_row(app, topic, board.id)


def publish_topic(app: Flask, event: events.TopicEvent) -> None:
    with _neutral(app):
        topic = db.session.get(Topic, event.topic_id)
        if topic is None:
            return
        old_board = event.from_board_id if event.action == "move" else event.board_id
        socketio.emit("topic", {"topic_id": topic.id, "action": event.action,
                                "title": topic.title, "locked": topic.locked,
                                "pinned": topic.pinned},
                      to=topic_room(topic.id, old_board or event.board_id))
        if event.action == "move" and event.from_board_id:
            _emit_topic_row(app, topic, event.from_board_id, "remove")
        if event.action == "delete" or not _shown(topic):
            _emit_topic_row(app, topic, event.board_id, "remove")
        else:
            _emit_topic_row(app, topic, event.board_id)


# Listeners of hub.events (after commit). A failure here must never fail the post.

def _guarded(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("live updates: could not send %s%r", fn.__name__, args[1:])


def on_post_published(sender: Flask, event: events.PostEvent, **_kw: Any) -> None:
    _guarded(publish_post, sender, event, "new")


def on_post_edited(sender: Flask, event: events.PostEvent, **_kw: Any) -> None:
    _guarded(publish_post, sender, event, "edit")


def on_post_deleted(sender: Flask, event: events.PostEvent, **_kw: Any) -> None:
    _guarded(publish_post, sender, event, "delete")


def on_topic_changed(sender: Flask, event: events.TopicEvent, **_kw: Any) -> None:
    _guarded(publish_topic, sender, event)


def on_membership_changed(sender: Flask, event: Any, **_kw: Any) -> None:
    """Someone left a group or was deactivated: re-check their sockets here at once
    (other processes do within HUB_LIVE_RECHECK_SECONDS)."""
    live = sender.extensions.get("forums_live")
    if live is not None:
        _guarded(_recheck_member, live, event.member_id)


def _recheck_member(live: Live, member_id: int) -> None:
    live.recheck(member_id)


# -- catching up over HTTP --------------------------------------------------------------------

def catch_up(viewer: Any, topic: Topic, after: int, since: Any = None,
             view: str = "flat", seq: int | None = None) -> dict[str, Any]:
    """Posts a reader missed, rendered for this reader as on the topic page.

    With `seq` (the topic's change number the reader's page is current to): every post
    changed since, in change order: new ones, held ones published since whatever their
    position, edited and deleted ones. The answer's `seq` is where to go on from.
    Without it (pages from before change numbers): posts after position `after` and,
    with `since`, those edited or deleted since then."""
    from sqlalchemy import or_

    board = topic.board
    moderator = access.can_moderate(viewer, board)
    # Read before the posts: every change up to it is committed (the topic row lock
    # orders them), so nothing at or below it can appear later.
    current = topic.change_seq or 0
    query = db.select(Post).where(Post.topic_id == topic.id,
                                  queries.visible_posts(viewer, moderator))
    if seq is not None:
        query = query.where(Post.change_seq > seq).order_by(Post.change_seq)
    else:
        changed = Post.position > after
        if since is not None:
            changed = or_(changed, Post.edited_at >= since, Post.deleted_at >= since)
        query = query.where(changed).order_by(Post.position)
    rows = list(db.session.scalars(
        query.options(*queries._post_options()).limit(CATCH_UP_LIMIT + 1)).unique())
    more = len(rows) > CATCH_UP_LIMIT
    rows = rows[:CATCH_UP_LIMIT]
    page = queries.TopicPage(
        topic=topic, board=board, posts=rows, view=view, size=CATCH_UP_LIMIT,
        moderator=moderator, reply=queries.reply_decision(viewer, topic, board, moderator))
    if board.premoderated:
        page.pending_edits = editing.pending_edit_ids(viewer, rows, moderator)
    items = []
    for post in rows:
        html = render_template("forums/_live_post.html", post=post, page=page, topic=topic,
                               board=board)
        if post.deleted_at is not None:
            change = "delete"
        elif post.position > after or (seq is not None and post.published_seq > seq):
            change = "new"  # the reader cannot have it: arrived or published since
        else:
            change = "edit"
        items.append({"id": post.id, "position": post.position,
                      "thread_key": post.thread_key, "depth": post.depth,
                      "parent_id": post.parent_id, "author_id": post.author_id,
                      "change": change, "seq": post.change_seq, "html": html})
    if more:
        current = rows[-1].change_seq if seq is not None else current
    return {"items": items, "more": more, "last": topic.last_position or 0,
            "seq": max(current, seq or 0), "at": isotime(clock.now())}


def board_rows(viewer: Any, board: Board) -> dict[str, Any]:
    """The first page of a board's topic list, rendered for this reader (after a
    reconnect, the list is simply replaced)."""
    page = queries.board_page(viewer, board)
    rows = [{"topic_id": t.id, "pinned": t.pinned,
             "html": render_template("forums/_live_row.html", t=t,
                                     unread=t.id in page.unread)}
            for t in page.pinned + page.topics]
    return {"items": rows, "at": isotime(clock.now())}


# -- wiring ----------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    app.config.setdefault("HUB_LIVE_RECHECK_SECONDS", 30)
    app.extensions["forums_live"] = Live(app)
    app.add_template_global(lambda: isotime(clock.now()), "live_now")
    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)
    socketio.on_event("join", on_join)
    socketio.on_event("leave", on_leave)
    events.post_published.connect(on_post_published)
    events.post_edited.connect(on_post_edited)
    events.post_deleted.connect(on_post_deleted)
    events.topic_changed.connect(on_topic_changed)
    events.group_membership_changed.connect(on_membership_changed)
    events.member_deactivated.connect(on_membership_changed)
