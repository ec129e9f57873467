"""Fixtures for the whole suite, after flaskr's: `app`, `client`, `runner`, `auth`, plus
factories and a real SMTP server (aiosmtpd) that tests assert mail on.

The database is the one in HUB_DATABASE_URL when set (PostgreSQL in CI), else SQLite.
Migrations build the schema once per session; every test then starts from empty tables
(a fresh copy of the migrated SQLite file, or TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

import contextvars
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from hub import create_app, jobs, seed
from hub.extensions import db
from hub.models import Group, GroupMembership, Member, MemberStatus, Role

PASSWORD = "correct horse battery"
PG_URL = os.environ.get("HUB_DATABASE_URL") or None
REDIS_URL = os.environ.get("HUB_REDIS_URL") or None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (its own `g` and database session), as in
    production, even though the test itself runs inside a pushed app context."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


# -- the database, once per session --------------------------------------------------------

@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from flask_migrate import upgrade

    if PG_URL:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        url = PG_URL
        template = None
    else:
        template = tmp_path_factory.mktemp("db") / "template.sqlite3"
        url = f"sqlite:///{template}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "TESTING": True})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return {"url": url, "template": template}


def _wipe_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'")).scalars().all()
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                              + " RESTART IDENTITY CASCADE"))
    engine.dispose()


# -- SMTP ----------------------------------------------------------------------------------

class Sink:
    """What crossed a real SMTP socket: envelope and parsed message for each delivery."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.fail_next: list[str] = []  # SMTP replies to give instead of accepting

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.fail_next:
                return self.fail_next.pop(0)
            self.received.append({
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "data": envelope.content,
                "message": message_from_bytes(envelope.content, policy=policy.default),
            })
        return "250 OK"

    @property
    def messages(self) -> list[EmailMessage]:
        return [r["message"] for r in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        return [r["message"] for r in self.received
                if address.lower() in [a.lower() for a in r["rcpt_tos"]]]

    def clear(self) -> None:
        self.received.clear()


@pytest.fixture(scope="session")
def _smtp_server() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def smtp(_smtp_server: tuple[Sink, int]) -> Iterator[Sink]:
    sink, _ = _smtp_server
    sink.clear()
    sink.fail_next.clear()
    yield sink
    sink.clear()


# -- the app -------------------------------------------------------------------------------

@pytest.fixture
def app_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Overrides for the app; a test adds its own with @pytest.mark.config(KEY=value)."""
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "HUB_BASE_URL": "http://hub.test",
        "SERVER_NAME": None,
        "HUB_MAIL_DOMAIN": "lists.hub.test",
        "MAIL_DEFAULT_SENDER": "Biosafety Network <noreply@lists.hub.test>",
        "HUB_UPLOAD_DIR": str(tmp_path / "uploads"),
        "HUB_REDIS_URL": REDIS_URL,
        "RATELIMIT_STORAGE_URI": REDIS_URL or "memory://",
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "HUB_SMTP_HOST": None,
        # Fast hashing keeps the suite quick; production uses scrypt.
        "HUB_PASSWORD_HASH": "pbkdf2:sha256:1000",
    }
    marker = request.node.get_closest_marker("config")
    if marker:
        config.update(marker.kwargs)
    return config


@pytest.fixture
def app(request: pytest.FixtureRequest, database: dict[str, Any], app_config: dict[str, Any],
        tmp_path: Path) -> Iterator[Flask]:
    if database["template"] is not None:
        path = tmp_path / "hub.sqlite3"
        shutil.copyfile(database["template"], path)
        url = f"sqlite:///{path}"
    else:
        url = database["url"]
        _wipe_postgres(url)
    config = {"SQLALCHEMY_DATABASE_URI": url, **app_config}
    if "smtp" in request.fixturenames:
        _, port = request.getfixturevalue("_smtp_server")
        config.update(HUB_SMTP_HOST="127.0.0.1", HUB_SMTP_PORT=port)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        seed.ensure_reference_data()
        yield app
        _stop_live_updates(app)
        db.session.remove()
        db.engine.dispose()


def _stop_live_updates(app: Flask, timeout: float = 5) -> None:
    """End the live-updates loop of a test's sockets before the engine is disposed: a
    loop still running opened connections on the disposed engine's new pool, which no
    one closed (on PostgreSQL a ResourceWarning when they were collected, in some later
    test)."""
    live = app.extensions.get("forums_live")
    if live is None or not live.running:
        return
    with live.lock:
        live.clients.clear()
        live.dirty.clear()
    deadline = time.monotonic() + timeout
    while live.running and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def gateway(app: Flask) -> Iterator[Any]:
    """The inbound gateway (LMTP and SMTP) on free ports, and a client that speaks to it."""
    from listserv import gateway as gateway_module
    from tests.listserv.helpers import GatewayClient

    running = gateway_module.start(app, "127.0.0.1", free_port(), free_port(), threads=4)
    try:
        yield GatewayClient(running)
    finally:
        running.stop()
        db.session.rollback()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def run_jobs(app: Flask) -> Callable[[], int]:
    """Run the background work that is due, as `hub worker` would."""

    def run() -> int:
        count = jobs.run_pending()
        db.session.expire_all()
        return count

    return run


# -- factories -----------------------------------------------------------------------------

@pytest.fixture
def make_member(app: Flask) -> Callable[..., Member]:
    counter = iter(range(1, 10_000))

    def make(email: str | None = None, role: str = Role.MEMBER,
             status: str = MemberStatus.ACTIVE, **fields: Any) -> Member:
        n = next(counter)
        from hub import clock

        member = Member(
            email=email or f"member{n}@example.org",
            name=fields.pop("name", f"Member {n}"),
            organization=fields.pop("organization", "Example Institute"),
            org_type=fields.pop("org_type", "research"),
            country=fields.pop("country", "KE"),
            region=fields.pop("region", "africa"),
            role=role,
            status=status,
            email_verified_at=fields.pop("email_verified_at", clock.now()),
            approved_at=clock.now() if status == MemberStatus.ACTIVE else None,
            **fields,
        )
        member.set_password(PASSWORD)
        db.session.add(member)
        db.session.commit()
        return member

    return make


@pytest.fixture
def make_group(app: Flask) -> Callable[..., Group]:
    def make(slug: str = "team", name: str | None = None, members: tuple = (),
             managers: tuple = ()) -> Group:
        group = Group(slug=slug, name=name or slug.title())
        db.session.add(group)
        db.session.flush()
        for m in members:
            db.session.add(GroupMembership(group_id=group.id, member_id=m.id))
        for m in managers:
            db.session.add(GroupMembership(group_id=group.id, member_id=m.id, is_manager=True))
        db.session.commit()
        return group

    return make


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, who: Member | str, password: str = PASSWORD) -> Any:
        email = who if isinstance(who, str) else who.email
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self) -> Any:
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def token_for(app: Flask) -> Callable[[Member], dict[str, str]]:
    """Authorization headers with a fresh API token for a member."""
    from hub import api

    def make(member: Member) -> dict[str, str]:
        secret = api.create_token(member, "test")
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "config(**overrides): app configuration for a test")
    config.addinivalue_line("markers", "browser: runs headless Chromium")
