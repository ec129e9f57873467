"""What `/healthz` reports: whether the database and Redis answer.

Load balancers and monitors may ask many times a second, so each process asks the
database and Redis at most once every HUB_HEALTH_SECONDS (0.5 by default; 0 asks on
every request) and answers with that result meanwhile: an outage shows within half a
second. One thread asks at a time; the others wait for its answer rather than asking too.
The database is asked on a pooled connection of its own (no ORM session), Redis through
one client per process (its connection pool), not a new connection per check.

Imports Flask and `hub.extensions` only.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask, current_app
from sqlalchemy import text

from hub.extensions import db

SECONDS = 0.5


class Health:
    """The last result of one process's checks and when it goes stale."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.until = 0.0
        self.result: tuple[dict[str, Any], int] | None = None
        self.redis: Any = None

    def report(self) -> tuple[dict[str, Any], int]:
        result = self.result
        if result is not None and time.monotonic() < self.until:
            return result
        with self.lock:
            if self.result is None or time.monotonic() >= self.until:
                self.result = self._check()
                self.until = time.monotonic() + float(self.app.config["HUB_HEALTH_SECONDS"])
            return self.result

    def _check(self) -> tuple[dict[str, Any], int]:
        checks = {"database": self._database(), "redis": self._redis()}
        down = sorted(name for name, state in checks.items() if state == "down")
        return {"status": "down" if down else "ok", "down": down, **checks}, (
            503 if down else 200)

    def _database(self) -> str:
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return "ok"
        except Exception:
            self.app.logger.error("healthz: the database does not answer", exc_info=True)
            return "down"

    def _redis(self) -> str:
        url = self.app.config.get("HUB_REDIS_URL")
        if not url:
            return "not configured"
        import redis

        if self.redis is None:
            self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            self.redis.ping()
            return "ok"
        except redis.RedisError:
            self.app.logger.warning("healthz: Redis does not answer")
            return "down"


def report() -> tuple[dict[str, Any], int]:
    """The JSON body and status of `/healthz` for this process."""
    return current_app.extensions["hub_health"].report()


def init_app(app: Flask) -> None:
    app.config.setdefault("HUB_HEALTH_SECONDS", SECONDS)
    app.extensions["hub_health"] = Health(app)
