"""The hub core and the composition root: `create_app` binds the extensions and calls
each package's `init_app`. `hub` imports none of the feature packages at module level;
the composition root is the one place that knows them all."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

import socketio as socketio_server
from flask import Flask, render_template, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from config import ROOT, load_config
from hub import sqlite_writers  # noqa: F401  (its listeners serialize SQLite writers)
from hub.errors import HubError
from hub.extensions import babel, csrf, db, limiter, login_manager, mail, migrate, socketio

FEATURE_PACKAGES = ("forums", "conferences", "meetings", "listserv")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")  # many writers queue for the one lock
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_mapping(load_config(config))
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from hub import (
        avatars,
        content,
        directory,
        health,
        i18n,
        idempotency,
        inputs,
        personal,
        security,
    )

    inputs.init_app(app)
    idempotency.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale,
                   timezone_selector=i18n.select_timezone)
    mail.init_app(app)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "hub")
    limiter.init_app(app)
    # Flask-Limiter keeps the first app's prefix on re-init; each app (test) needs its own.
    limiter._key_prefix = app.config["RATELIMIT_KEY_PREFIX"]
    _limits_where_declared(app)
    socketio.init_app(
        app,
        client_manager=_live_manager(app),
        async_mode=app.config.get("HUB_SOCKETIO_ASYNC_MODE", "threading"),
        cors_allowed_origins=[app.config["HUB_BASE_URL"]],
        logger=False,
        engineio_logger=False,
    )
    i18n.init_app(app)
    content.init_app(app)
    avatars.init_app(app)
    directory.init_app(app)
    personal.init_app(app)
    security.init_app(app)
    health.init_app(app)

    from hub import urls, views

    app.jinja_env.globals["fast_url"] = urls.fast_url
    views.init_app(app)
    for name in FEATURE_PACKAGES:
        importlib.import_module(name).init_app(app)
    _errors(app)
    return app


def _limits_where_declared(app: Flask) -> None:
    """Flask-Limiter's before-request hook applies default, application, meta and
    blueprint limits to every request; each limited view of the hub carries its own
    `@limiter.limit`, which checks its limits itself when the view is called. With none of
    those limits configured the hook decides nothing, yet it cost every request (the
    largest part of `/healthz`): it is dropped. Configure any of them and it stays."""
    manager = limiter.limit_manager
    if (manager.default_limits or manager.application_limits
            or getattr(limiter, "_meta_limits", True)
            or getattr(manager, "_blueprint_limits", True)):
        return
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks
                if getattr(hook, "__func__", None) is not type(limiter)._check_request_limit]


def _live_manager(app: Flask) -> Any:
    """How live events reach sockets held by other processes. With Redis, every process
    (web, worker, gateway) reaches every socket. Without it, the processes the `hub`
    command starts (HUB_LIVE_LOCAL) meet in socket files (`hub.live_channel`); an app
    alone (tests, one process) keeps them in process. A manager of its own for each app:
    Flask-SocketIO would keep the last app's otherwise. Hubs (and test runs) sharing one
    Redis or one machine keep their events apart by channel."""
    channel = app.config.get("HUB_SOCKETIO_CHANNEL") or "hub-socketio"
    if app.config["HUB_REDIS_URL"]:
        return socketio_server.RedisManager(app.config["HUB_REDIS_URL"], channel=channel)
    if app.config.get("HUB_LIVE_LOCAL"):
        from hub.live_channel import LocalSocketManager, channel_dir

        return LocalSocketManager(channel_dir(app.instance_path,
                                              app.config["SQLALCHEMY_DATABASE_URI"], channel))
    return None


def _errors(app: Flask) -> None:
    from hub import api

    @app.errorhandler(HubError)
    def hub_error(exc: HubError) -> Any:
        db.session.rollback()
        if api.is_api_request():
            return api.handle_hub(exc)
        return render_template("error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if api.is_api_request():
            return api.handle_http(exc)
        if exc.code == 400 and "CSRF" in (exc.description or ""):
            app.logger.info("CSRF refusal on %s", request.path)
        status = exc.code or 500
        return render_template("error.html", status=status, message=None), status

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> Any:
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if api.is_api_request():
            return api.error_response(500, "server_error", "Something went wrong on our side.")
        return render_template("error.html", status=500, message=None), 500
