"""A worker killed during a fan-out: nothing lost, nothing sent twice.

Real processes: `hub worker` runs in a subprocess and sends through a real SMTP server
that holds the tenth message until the test has SIGKILLed the worker. As RFC 5321 says,
a message whose client vanished before the final 250 is not delivered. A second worker,
started after the lease ran out, must send the rest, and only the rest.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from datetime import timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import update

from hub import clock
from hub.extensions import db
from hub.models import Job
from listserv.models import Delivery
from tests.listserv.helpers import free_port

HOLD_AT = 10


class HoldingServer:
    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.count = 0
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        self.count += 1
        if self.count == HOLD_AT:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
            if server.transport is None or server.transport.is_closing():
                return "451 4.4.2 client went away"  # never reaches anyone: not delivered
        self.delivered.extend(envelope.rcpt_tos)
        return "250 OK"


def _worker(app, port: int, log, *args: str, env: dict | None = None) -> subprocess.Popen:
    """`hub worker` for the test's app and SMTP port; `env` has the last word."""
    base = {
        "HUB_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HUB_SECRET_KEY": app.config["SECRET_KEY"],
        "HUB_BASE_URL": app.config["HUB_BASE_URL"],
        "HUB_MAIL_DOMAIN": app.config["HUB_MAIL_DOMAIN"],
        "HUB_SMTP_HOST": "127.0.0.1",
        "HUB_SMTP_PORT": str(port),
        "HUB_WORKER_POLL_SECONDS": "0.2",
    }
    if app.config.get("HUB_REDIS_URL"):
        base["HUB_REDIS_URL"] = app.config["HUB_REDIS_URL"]
    env = {**os.environ, **base, **(env or {})}
    return subprocess.Popen([sys.executable, "-c", "from hub.cli import main; main()",
                             "worker", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=log)


def test_a_worker_killed_mid_fan_out_loses_nothing_and_sends_nothing_twice(
        app, make_member, board, subscribe, start_topic, tmp_path):
    readers = [make_member() for _ in range(25)]
    for member in readers:
        subscribe(member, board)
    post = start_topic(make_member(), board)
    db.session.commit()

    sink = HoldingServer()
    port = free_port()
    server = Controller(sink, hostname="127.0.0.1", port=port)
    server.start()
    log_path = tmp_path / "workers.log"
    log = log_path.open("wb")
    try:
        first = _worker(app, port, log)
        try:
            assert sink.holding.wait(60), log_path.read_text()[-3000:]
        finally:
            first.kill()
            first.wait(10)
        sink.release.set()

        db.session.rollback()
        states = db.session.scalars(db.select(Delivery.status)
                                    .where(Delivery.post_id == post.id)).all()
        assert sorted(states).count("sent") == HOLD_AT - 1
        assert len(states) == len(readers)
        # The lease of the dead worker's job runs out.
        db.session.execute(update(Job).where(Job.status == "running")
                           .values(locked_at=clock.now() - timedelta(minutes=11)))
        db.session.commit()

        second = _worker(app, port, log, "--once")
        assert second.wait(60) == 0, log_path.read_text()[-3000:]
    finally:
        log.close()
        server.stop()

    expected = sorted(m.email for m in readers)
    assert sorted(sink.delivered) == expected  # every reader once: none lost, none twice
    db.session.rollback()
    assert set(db.session.scalars(db.select(Delivery.status)
                                  .where(Delivery.post_id == post.id))) == {"sent"}
