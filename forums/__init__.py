"""Bulletin boards: boards, topics, posts, the one posting service, moderation,
subscriptions, read markers and attachments. Imports `hub` only.

Live updates (`sockets`), search (`search`) and feeds (`feeds`) build on the signals the
posting service emits after commit (`hub.events.post_*`, `topic_changed`) and on the
stored `Post.position` ordering.
"""

from __future__ import annotations

import os

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the forums' blueprints, extension points, listeners and demo seeder."""
    from forums import (
        api,
        cache,
        cli,
        models,  # noqa: F401  (the tables, for migrations)
        search,
        seed,
        services,
        sockets,
        views,
    )

    for key, default in services.DEFAULTS.items():
        raw = os.environ.get(key, "").strip()  # read when the app is made, not on import
        app.config.setdefault(key, int(raw) if raw.isdigit() else default)
    views.init_app(app)
    api.init_app(app)
    cache.init_app(app)
    sockets.init_app(app)
    search.init_app(app)
    cli.init_app(app)
    app.extensions["hub_discuss"] = services.discuss
    app.extensions["hub_seeders"].append(seed.seed_forums)
