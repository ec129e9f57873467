"""The `hub` command: a Flask CLI group with the hub's roles and administration commands.

Packages add their own commands (`hub gateway`, ...) to `app.cli` in `init_app`, and
long-running services to `app.extensions["hub_services"]` for `hub dev`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from config import load_config
from hub import create_app

Service = Callable[[Flask, threading.Event], None]


def _create_app(*_: Any) -> Flask:
    # The `hub` command's processes (web, worker, gateway) share live events across
    # processes even without Redis (hub.live_channel).
    return create_app({"HUB_LIVE_LOCAL": True})


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False,
             load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """The Biosafety Capacity-Building Network hub."""


def init_app(app: Flask) -> None:
    """The commands live on app.cli, so `hub X` and the test runner see the same ones."""
    for command in (dev, serve, worker, create_member, token, seed_demo):
        app.cli.add_command(command)


def _start_services(app: Flask, stop: threading.Event, names: set[str] | None = None
                    ) -> list[threading.Thread]:
    threads = []
    for name, service in app.extensions["hub_services"].items():
        if names is not None and name not in names:
            continue
        thread = threading.Thread(target=service, args=(app, stop), name=name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def _run_until_signal(stop: threading.Event, threads: list[threading.Thread]) -> None:
    def handle(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    while not stop.is_set() and any(t.is_alive() for t in threads):
        stop.wait(0.5)
    stop.set()
    for t in threads:
        t.join(timeout=10)


@click.command("dev")
@click.option("--host", default=None, help="Address to listen on (HUB_HOST).")
@click.option("--port", default=None, type=int, help="Port (HUB_PORT).")
@with_appcontext
def dev(host: str | None, port: int | None) -> None:
    """Web server, worker and gateway in one process (what `make run` uses)."""
    from hub.extensions import socketio

    app = current_app._get_current_object()
    stop = threading.Event()
    _start_services(app, stop)
    host = host or app.config["HUB_HOST"]
    port = port or app.config["HUB_PORT"]
    click.echo(f"The hub is at {app.config['HUB_BASE_URL']} (listening on {host}:{port})")
    # Flask refuses app.run() under its CLI; `hub dev` is the one place we want it.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    try:
        socketio.run(app, host=host, port=port, debug=False, use_reloader=False,
                     allow_unsafe_werkzeug=True, log_output=False)
    finally:
        stop.set()


SERVE_WORKERS = ("gthread", "gevent")


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (HUB_HOST).")
@click.option("--port", default=None, type=int, help="Port (HUB_PORT).")
@click.option("--worker", type=click.Choice(SERVE_WORKERS), default=None,
              help="gthread: a thread per request and per live socket; gevent: "
                   "greenlets, for many live sockets (HUB_SERVE_WORKER, default gthread).")
@click.option("--processes", default=None, type=int,
              help="Server processes (HUB_SERVE_PROCESSES, default: one per core).")
@click.option("--threads", default=None, type=int,
              help="Threads per process, gthread (HUB_SERVE_THREADS, default 128); each "
                   "live reader holds one.")
def serve(host: str | None, port: int | None, worker: str | None, processes: int | None,
          threads: int | None) -> None:
    """The web role alone, under gunicorn: one process per core by default, sharing the
    port; live updates reach readers in every process (through Redis when set, else
    through local sockets)."""
    settings = load_config()
    worker = worker or settings["HUB_SERVE_WORKER"]
    if worker not in SERVE_WORKERS:
        raise click.BadParameter(f"HUB_SERVE_WORKER is one of {', '.join(SERVE_WORKERS)}")
    processes = processes or settings["HUB_SERVE_PROCESSES"]
    threads = threads or settings["HUB_SERVE_THREADS"]
    if processes < 1 or threads < 1:
        raise click.BadParameter("HUB_SERVE_PROCESSES and HUB_SERVE_THREADS are at least 1")
    if worker == "gevent" and not _gevent_patched():
        # gevent must patch the standard library before anything imports it: start over
        # in a process that patches first (hub/gevent_serve.py), with the same arguments.
        args = [a for a in sys.argv[1:]]
        os.execv(sys.executable, [sys.executable, "-m", "hub.gevent_serve", *args,
                                  *([] if "--worker" in args else ["--worker", "gevent"])])
    overrides: dict[str, Any] = {"HUB_LIVE_LOCAL": True}
    if worker == "gevent":
        overrides["HUB_SOCKETIO_ASYNC_MODE"] = "gevent"
    else:
        # A live socket holds a thread: keep some for pages, refuse sockets beyond.
        overrides["HUB_LIVE_MAX_SOCKETS"] = max(threads - 16, threads // 2)
    config = create_app(overrides).config  # fails here, not in each process, when wrong
    # Each process makes its own app after the fork: database pools, the live channel's
    # listener and Redis connections belong to one process.
    serve_app(lambda: create_app(overrides), host or config["HUB_HOST"],
              port or config["HUB_PORT"], worker=worker, threads=threads,
              processes=processes)


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched("socket"))


def serve_app(app: Any, host: str, port: int, *, worker: str = "gthread", threads: int = 64,
              processes: int = 1, accesslog: str | None = "-") -> None:
    """Run a WSGI app (or a function making one, called in each process) under gunicorn
    the way `hub serve` does (the benchmarks reuse it)."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            # Several processes on one port need no sticky sessions: live pages speak
            # WebSocket only (forums/static/live.js), one connection to one process.
            self.cfg.set("workers", processes)
            if worker == "gevent":
                self.cfg.set("worker_class",
                             "geventwebsocket.gunicorn.workers.GeventWebSocketWorker")
                self.cfg.set("worker_connections", 10_000)
            else:
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("threads", threads)
            self.cfg.set("accesslog", accesslog)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn >= 25 opens one control socket per user: several `hub serve`
                # processes on a machine would take it from each other.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return app() if callable(app) and not hasattr(app, "wsgi_app") else app

    Server().run()


@click.command("worker")
@click.option("--once", is_flag=True, help="Run what is due now, then exit.")
@with_appcontext
def worker(once: bool) -> None:
    """The background worker: mail, list fan-out, digests, reminders."""
    from hub import jobs

    app = current_app._get_current_object()
    if once:
        click.echo(f"{jobs.run_pending()} jobs run")
        return
    stop = threading.Event()
    threads = _start_services(app, stop, {"worker"})
    _run_until_signal(stop, threads)


@click.command("create-member")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(["secretariat", "moderator", "member"]),
              default="member", show_default=True)
@click.option("--country", default=None, help="ISO 3166 code, e.g. KE.")
@with_appcontext
def create_member(email: str, name: str, password: str, role: str, country: str | None) -> None:
    """Create an active member (verified, approved), or update one with that email."""
    from hub import clock, countries, services
    from hub.errors import HubError
    from hub.extensions import db
    from hub.models import Member, MemberStatus

    try:
        email = services.normalize_email(email)
        services.check_password_strength(password, email)
    except HubError as exc:
        raise click.ClickException(exc.message) from exc
    member = services.member_by_email(email) or Member(email=email)
    member.name = name
    member.role = role
    member.status = MemberStatus.ACTIVE
    member.email_verified_at = member.email_verified_at or clock.now()
    member.approved_at = member.approved_at or clock.now()
    member.rules_accepted_at = member.rules_accepted_at or clock.now()
    if country:
        if not countries.is_country(country):
            raise click.ClickException(f"unknown country code {country!r}")
        member.country = country.upper()
        member.region = countries.region_of(country)
    member.set_password(password)
    db.session.add(member)
    db.session.commit()
    click.echo(f"member {member.id} {member.email} ({role}) is active")


@click.group("token")
def token() -> None:
    """Personal API tokens."""


@token.command("create")
@click.argument("email")
@click.option("--name", default="cli", show_default=True)
@click.option("--days", default=None, type=int, help="Lifetime in days (0: never expires).")
@with_appcontext
def token_create(email: str, name: str, days: int | None) -> None:
    """Print a new API token for a member, alone on the last line."""
    from hub import api, services
    from hub.extensions import db

    member = services.member_by_email(email.strip())
    if member is None or not member.is_active:
        raise click.ClickException(f"no active member with email {email}")
    secret = api.create_token(member, name, days)
    db.session.commit()
    click.echo(f"token for {member.email}:", err=True)
    click.echo(secret)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the hub has members.")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Load the demo network: the Secretariat, members from every region, groups, boards."""
    from hub import seed

    created = seed.seed_demo(if_empty=if_empty)
    if created is None:
        click.echo("the hub already has members; demo not loaded")
        return
    click.echo(f"Demo accounts (password for all: {seed.DEMO_PASSWORD}):")
    for email, role in created:
        click.echo(f"  {email:38} {role}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
