"""Who is reading: reader counts per live room, kept by one process (`LocalPresence`),
by the `hub` command's processes without Redis (`hub.live_channel.FilePresence`), or in
Redis for every process (`RedisPresence`). Members count once however many tabs they
have open; every guest counts.

Imports `hub` only.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 20  # a process's presence entries expire 3 heartbeats after it dies


def for_app(app: Flask, channel: str) -> Any:
    """The presence `app` keeps its reader counts in: Redis when HUB_REDIS_URL is set,
    files shared by the `hub` command's processes with HUB_LIVE_LOCAL, else memory."""
    url = app.config.get("HUB_REDIS_URL")
    if url:
        return RedisPresence(url, f"hub-live:{channel}")
    if app.config.get("HUB_LIVE_LOCAL"):
        return _shared_presence(app, channel)
    return LocalPresence()


class LocalPresence:
    """Reader counts for one process (no Redis): room -> sid -> member id (None: guest)."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, int | None]] = {}
        self._lock = threading.Lock()

    def add(self, room: str, sid: str, member_id: int | None) -> None:
        with self._lock:
            self._rooms.setdefault(room, {})[sid] = member_id

    def remove(self, room: str, sid: str) -> None:
        with self._lock:
            readers = self._rooms.get(room)
            if readers is not None:
                readers.pop(sid, None)
                if not readers:
                    del self._rooms[room]

    def count(self, room: str) -> int:
        with self._lock:
            return _distinct(self._rooms.get(room, {}).values())

    def has_readers(self, room: str) -> bool:
        return bool(self._rooms.get(room))

    def heartbeat(self) -> None:
        pass

    def answers(self) -> bool:
        return True


class RedisPresence:
    """Reader counts shared by every process: one hash per room, sid -> "host:member".
    Each process refreshes a heartbeat key; entries of a process that died are dropped
    when a count finds its heartbeat gone."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix
        self.host = uuid.uuid4().hex[:12]
        self._alive: dict[str, float] = {}

    def _key(self, room: str) -> str:
        return f"{self._prefix}:readers:{room}"

    def heartbeat(self) -> None:
        self._redis.set(f"{self._prefix}:host:{self.host}", "1", ex=3 * HEARTBEAT_SECONDS)

    def add(self, room: str, sid: str, member_id: int | None) -> None:
        self._redis.hset(self._key(room), sid, f"{self.host}:{member_id or ''}")

    def remove(self, room: str, sid: str) -> None:
        import redis

        try:
            self._redis.hdel(self._key(room), sid)
        except redis.RedisError:  # Redis is down: its entries went with it, or expire
            log.debug("live updates: could not drop %s from %s", sid, room)

    def answers(self) -> bool:
        import redis

        try:
            return bool(self._redis.ping())
        except redis.RedisError:
            return False

    def _is_alive(self, host: str) -> bool:
        if host == self.host:
            return True
        now = time.monotonic()
        if self._alive.get(host, 0) > now:
            return True
        if self._redis.exists(f"{self._prefix}:host:{host}"):
            self._alive[host] = now + HEARTBEAT_SECONDS / 2
            return True
        return False

    def has_readers(self, room: str) -> bool:
        """Cheap and never wrong by omission (a dead process's readers still count)."""
        return bool(self._redis.hlen(self._key(room)))

    def count(self, room: str) -> int:
        entries = self._redis.hgetall(self._key(room))
        readers: list[int | None] = []
        dead: list[bytes] = []
        for sid, value in entries.items():
            host, _, member = value.decode().partition(":")
            if not self._is_alive(host):
                dead.append(sid)
                continue
            readers.append(int(member) if member else None)
        if dead:
            self._redis.hdel(self._key(room), *dead)
        return _distinct(readers)


def _distinct(readers: Any) -> int:
    """Members count once however many tabs they have open; every guest counts."""
    members: set[int] = set()
    guests = 0
    for member_id in readers:
        if member_id is None:
            guests += 1
        else:
            members.add(member_id)
    return len(members) + guests


def _shared_presence(app: Flask, channel: str) -> Any:
    """Reader counts shared by the `hub` command's processes without Redis."""
    from hub.live_channel import FilePresence, channel_dir

    return FilePresence(channel_dir(app.instance_path, app.config["SQLALCHEMY_DATABASE_URI"],
                                    channel), _distinct)
