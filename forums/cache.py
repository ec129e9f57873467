"""Rendered topic pages for readers who are not signed in, kept in memory for a short
while: most readers of public boards are not signed in, and their pages are the same for
all of them (same language and time zone).

A cached page is keyed by the topic's `revision`, which moves on after every change
readers would see (the listeners below, after commit, in whichever process made it), so
the topic row the page loads anyway says whether a copy is current: no extra query, and
right across processes. Access is still decided on every request, before the cache is
looked at. What the revision does not follow (a member changing their name, a board
renamed) is at most HUB_FORUM_PAGE_CACHE seconds old (0 switches the cache off).
Members' pages are always rendered for them.

Imports `hub` and `forums`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, current_app, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from sqlalchemy import update

from forums.models import Topic
from hub import events
from hub.extensions import db

log = logging.getLogger(__name__)


class PageCache:
    """A small LRU of rendered pages with a time to live, shared by a process's threads."""

    def __init__(self, size: int = 256, ttl: float = 60) -> None:
        self.size, self.ttl = size, ttl
        self._pages: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return found[1]

    def put(self, key: tuple, page: str) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic() + self.ttl, page.encode())
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


def topic_key(topic: Topic) -> tuple | None:
    """The key of this request's topic page, or None when it must be rendered for the
    reader (signed in, or a message waiting to be shown)."""
    if not current_app.config.get("HUB_FORUM_PAGE_CACHE") or current_user.is_authenticated:
        return None
    if session.get("_flashes"):
        return None
    return (topic.id, topic.revision, topic.last_position, request.full_path,
            str(get_locale()), str(get_timezone()))


def pages(app: Flask | None = None) -> PageCache:
    return (app or current_app).extensions["forums_pages"]


def bump(topic_id: int) -> None:
    """A change readers see: cached pages of the topic are no longer current."""
    with db.engine.begin() as conn:
        conn.execute(update(Topic).where(Topic.id == topic_id)
                     .values(revision=Topic.revision + 1))


def _on_change(sender: Flask, event: Any, **_kw: Any) -> None:
    try:
        bump(event.topic_id)
    except Exception:  # a stale copy lives at most HUB_FORUM_PAGE_CACHE seconds
        log.exception("page cache: could not move topic %s on", event.topic_id)


def init_app(app: Flask) -> None:
    app.config.setdefault("HUB_FORUM_PAGE_CACHE", 60)
    app.extensions["forums_pages"] = PageCache(ttl=float(app.config["HUB_FORUM_PAGE_CACHE"]))
    for signal in (events.post_published, events.post_edited, events.post_deleted,
                   events.topic_changed):
        signal.connect(_on_change)
