"""Shared set-up for the listserv benchmarks: a scratch database built by the
migrations, an app bound to it, a board and many members, and an SMTP sink running in
its own process (so that it does not share the benchmark's interpreter lock)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

SINK = r"""
import sys, time
from aiosmtpd.controller import Controller
class Sink:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        if len(sys.argv) > 2:  # when each message was accepted, on the machine's clock
            print(f"{time.time():.4f}", flush=True)
        return "250 OK"
c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
try:
    sys.stdin.read()
finally:
    c.stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink(timestamps: bool = False) -> tuple[subprocess.Popen, int]:
    """An SMTP server in its own process; with `timestamps`, it prints the time.time() of
    each message it accepts, a line each, on its stdout."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SINK, str(port), *(["t"] * timestamps)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    if proc.stdin:
        proc.stdin.close()
    proc.wait(10)


def scratch_database() -> str:
    path = Path(tempfile.mkdtemp(prefix="hub-bench-")) / "bench.sqlite3"
    return f"sqlite:///{path}"


def make_app(database_url: str, **config: Any) -> Any:
    os.environ.setdefault("HUB_SECRET_KEY", "bench-secret")
    import logging

    from flask_migrate import upgrade

    from hub import create_app, seed

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench-secret",
                      "HUB_BASE_URL": "http://hub.bench", "HUB_MAIL_DOMAIN": "lists.bench",
                      "HUB_FLOOD_POSTS": 0, **config})
    with app.app_context():
        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade()
        seed.ensure_reference_data()
    logging.getLogger().setLevel(logging.WARNING)
    return app


def make_members(count: int, prefix: str = "reader") -> list[int]:
    """Active members, inserted in bulk; returns their ids."""
    from sqlalchemy import insert

    from hub import clock
    from hub.extensions import db
    from hub.models import Member

    now = clock.now()
    db.session.execute(insert(Member), [
        {"email": f"{prefix}{n}@example.org", "name": f"Reader {n}", "status": "active",
         "role": "member", "language": ("en", "es", "fr")[n % 3], "timezone": "UTC",
         "organization": "", "org_type": "other", "bio": "", "show_email": False,
         "rejection_reason": "", "session_version": 1, "bounce_score": 0.0,
         "delivery_disabled": False, "created_at": now, "email_verified_at": now,
         "approved_at": now} for n in range(count)])
    db.session.commit()
    return list(db.session.scalars(db.select(Member.id).where(
        Member.email.like(f"{prefix}%@example.org")).order_by(Member.id)))


def timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started
