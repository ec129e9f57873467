"""Configuration from environment variables, with safe defaults.

Nothing here reads the environment at import time: `load_config()` is called by
`create_app()`, so tests and scripts can set variables or pass overrides first.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"


def _secret_key() -> str:
    """A stable key for a single machine: made once, kept in instance/."""
    path = INSTANCE / "secret_key"
    if path.exists():
        return path.read_text().strip()
    INSTANCE.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


def _engine_options(config: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {"pool_pre_ping": True}
    url = str(config["SQLALCHEMY_DATABASE_URI"])
    if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:"):
        return options  # one connection per thread: no queue to size
    options.update(pool_size=config["HUB_DB_POOL_SIZE"],
                   max_overflow=config["HUB_DB_MAX_OVERFLOW"],
                   pool_timeout=config["HUB_DB_POOL_TIMEOUT"])
    return options


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Settings whose defaults live with the package that uses them (forums/services.py and
# listserv/__init__.py DEFAULTS, forums/cache.py, forums/sockets.py, hub/health.py): read
# here, and only when set, so that every variable an operator can set is read in this file.
FROM_ENVIRONMENT: dict[str, Callable[[str], Any]] = {
    "HUB_FORUM_PAGE_CACHE": float,
    "HUB_HEALTH_SECONDS": float,
    "HUB_FORUM_PAGE_SIZE": int,
    "HUB_LIVE_RECHECK_SECONDS": float,
    "HUB_FLOOD_POSTS": int,
    "HUB_FLOOD_SECONDS": int,
    "HUB_ATTACHMENT_MAX_BYTES": int,
    "HUB_ATTACHMENT_MAX_COUNT": int,
    "HUB_LIST_MAX_BYTES": int,
    "HUB_LIST_CHUNK": int,
    "HUB_LIST_NOTICES_PER_DAY": int,
    "HUB_LIST_CONFIRM_HOURS": int,
    "HUB_LIST_TICK_SECONDS": float,
    "HUB_BOUNCE_THRESHOLD": float,
    "HUB_BOUNCE_STALE_DAYS": int,
    "HUB_DIGEST_HOUR": int,
    "HUB_GATEWAY_THREADS": int,
    "HUB_GATEWAY_SHARED_PORTS": _bool,
}


def _package_settings() -> dict[str, Any]:
    found = {}
    for name, parse in FROM_ENVIRONMENT.items():
        raw = os.environ.get(name, "").strip()
        if raw:
            try:
                found[name] = parse(raw)
            except ValueError as exc:
                raise ValueError(f"{name}={raw!r} is not a valid value") from exc
    return found


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    env = os.environ
    base_url = env.get("HUB_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    database_url = env.get("HUB_DATABASE_URL") or f"sqlite:///{INSTANCE / 'hub.sqlite3'}"
    redis_url = env.get("HUB_REDIS_URL") or None
    config: dict[str, Any] = {
        "SECRET_KEY": env.get("HUB_SECRET_KEY") or None,
        "HUB_BASE_URL": base_url,
        "HUB_HOST": env.get("HUB_HOST", "127.0.0.1"),
        "HUB_PORT": _int("HUB_PORT", 5000),
        "HUB_NAME": env.get("HUB_NAME", "Biosafety Capacity-Building Network"),
        "HUB_MAIL_DOMAIN": env.get("HUB_MAIL_DOMAIN", "lists.localhost"),
        "HUB_SMTP_HOST": env.get("HUB_SMTP_HOST") or None,
        "HUB_SMTP_PORT": _int("HUB_SMTP_PORT", 25),
        # Seconds to connect to the outbound SMTP server, and to wait for any one reply.
        "HUB_SMTP_CONNECT_TIMEOUT": _float("HUB_SMTP_CONNECT_TIMEOUT", 10),
        "HUB_SMTP_TIMEOUT": _float("HUB_SMTP_TIMEOUT", 30),
        "HUB_GATEWAY_HOST": env.get("HUB_GATEWAY_HOST", "127.0.0.1"),
        "HUB_GATEWAY_SMTP_PORT": _int("HUB_GATEWAY_SMTP_PORT", 8025),
        "HUB_GATEWAY_LMTP_PORT": _int("HUB_GATEWAY_LMTP_PORT", 8024),
        # Recipients one LMTP/SMTP transaction may name; past it RCPT answers 452.
        "HUB_GATEWAY_MAX_RECIPIENTS": _int("HUB_GATEWAY_MAX_RECIPIENTS", 100),
        "HUB_REDIS_URL": redis_url,
        "HUB_SOCKETIO_CHANNEL": env.get("HUB_SOCKETIO_CHANNEL", "hub-socketio"),
        # Applicants wait for the Secretariat unless the network opts into auto-approval.
        "HUB_AUTO_APPROVE": _bool(env.get("HUB_AUTO_APPROVE", "")),
        "HUB_TOKEN_MAX_AGE": _int("HUB_TOKEN_MAX_AGE", 2 * 24 * 3600),
        "HUB_API_TOKEN_DAYS": _int("HUB_API_TOKEN_DAYS", 365),
        "HUB_UPLOAD_DIR": env.get("HUB_UPLOAD_DIR") or str(INSTANCE / "uploads"),
        "HUB_RATELIMIT_LOGIN": env.get("HUB_RATELIMIT_LOGIN", "10 per minute;50 per hour"),
        "HUB_RATELIMIT_REGISTER": env.get("HUB_RATELIMIT_REGISTER", "5 per minute;30 per day"),
        "HUB_RATELIMIT_RESET": env.get("HUB_RATELIMIT_RESET", "5 per minute;20 per hour"),
        "HUB_RATELIMIT_POST": env.get("HUB_RATELIMIT_POST", "20 per minute;300 per day"),
        "HUB_WORKER_POLL_SECONDS": _float("HUB_WORKER_POLL_SECONDS", 2.0),
        # `hub serve`: processes (default one per core) and threads per process (gthread).
        "HUB_SERVE_PROCESSES": _int("HUB_SERVE_PROCESSES", os.cpu_count() or 1),
        "HUB_SERVE_THREADS": _int("HUB_SERVE_THREADS", 128),
        "HUB_SERVE_WORKER": env.get("HUB_SERVE_WORKER", "").strip() or "gthread",
        "HUB_PDF_FONT_DIR": env.get("HUB_PDF_FONT_DIR") or None,
        # A running job's lease, renewed while it runs: a killed worker's job is taken up
        # again by another worker this many seconds after its last renewal.
        "HUB_JOB_LEASE_SECONDS": _float("HUB_JOB_LEASE_SECONDS", 30),
        # Owners of registry records not updated for this many days are reminded (0: never).
        "HUB_REGISTRY_REMIND_DAYS": _int("HUB_REGISTRY_REMIND_DAYS", 365),
        # Run queued jobs inside the request's process right after commit (tests, demos).
        "HUB_RUN_JOBS_INLINE": False,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Connections per process: a request holds at most one at a time, so requests
        # beyond pool + overflow wait in line (up to the timeout) instead of deadlocking.
        "HUB_DB_POOL_SIZE": _int("HUB_DB_POOL_SIZE", 10),
        "HUB_DB_MAX_OVERFLOW": _int("HUB_DB_MAX_OVERFLOW", 20),
        "HUB_DB_POOL_TIMEOUT": _int("HUB_DB_POOL_TIMEOUT", 30),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": 30 * 24 * 3600,
        "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ("en", "es", "fr"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # Redis speeds things up but is never needed: while it is down each process
        # counts limits itself (Flask-Limiter logs "falling back to in-memory storage"
        # once) and goes back to Redis when it answers again.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
        "RATELIMIT_HEADERS_ENABLED": True,
        "MAIL_DEFAULT_SENDER": env.get("HUB_MAIL_FROM")
        or f"Biosafety Network <noreply@{env.get('HUB_MAIL_DOMAIN', 'lists.localhost')}>",
        **_package_settings(),
    }
    if overrides:
        config.update(overrides)
    # Browsers drop Secure cookies on plain http: they are Secure when the hub uses TLS.
    https = str(config["HUB_BASE_URL"]).startswith("https://")
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        config.setdefault(key, https)
    config.setdefault("PREFERRED_URL_SCHEME", "https" if https else "http")
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _secret_key()
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(config))
    config["MAIL_SERVER"] = config["HUB_SMTP_HOST"] or "localhost"
    config["MAIL_PORT"] = config["HUB_SMTP_PORT"]
    # The dev mailbox, not Flask-Mail's suppression, is how a hub without SMTP keeps mail.
    config["MAIL_SUPPRESS_SEND"] = False
    return config
