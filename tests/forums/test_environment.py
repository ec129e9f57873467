"""Operators' settings reach the boards: set in the environment (not only as overrides),
HUB_FORUM_PAGE_CACHE=0 turns the page cache off and HUB_LIVE_RECHECK_SECONDS paces the
live readers' access re-check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from forums import cache, services, sockets
from hub import create_app
from hub.extensions import db


@contextmanager
def _app(monkeypatch, app_config, database_url, **env) -> Iterator:
    """A second app made from the environment; its connections closed after the test."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    other = create_app({"SQLALCHEMY_DATABASE_URI": database_url, **app_config})
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("seconds, kept", [("0", False), ("60", True)])
def test_the_page_cache_follows_the_environment(monkeypatch, app, app_config, cast, seconds,
                                                kept):
    topic = services.create_topic(cast.member, cast.public, "Env topic", "Text.").topic
    with _app(monkeypatch, app_config, app.config["SQLALCHEMY_DATABASE_URI"],
              HUB_FORUM_PAGE_CACHE=seconds) as other, other.app_context():
        client = other.test_client()
        assert client.get(f"/forums/topics/{topic.id}").status_code == 200
        assert bool(cache.pages(other)._pages) is kept


def test_the_live_recheck_follows_the_environment(monkeypatch, app, app_config):
    with _app(monkeypatch, app_config, app.config["SQLALCHEMY_DATABASE_URI"],
              HUB_LIVE_RECHECK_SECONDS="5") as other:
        assert sockets.live_state(other).recheck_seconds == 5.0
    assert sockets.live_state(app).recheck_seconds == 30.0


def test_the_page_cache_is_bounded_by_bytes():
    kept = cache.PageCache(size=100, ttl=60, max_bytes=10_000)
    for n in range(50):
        kept.put(("page", n), b"x" * 1000)
    assert len(kept._pages) == 10 and kept._bytes <= 10_000
    assert kept.get(("page", 49)) is not None and kept.get(("page", 0)) is None
    kept.put(("page", 49), b"y" * 500)  # replaced, not counted twice
    assert kept._bytes == 9 * 1000 + 500
