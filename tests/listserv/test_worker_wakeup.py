"""A separate `hub worker` hears of a post at once, without Redis: the commit that queues
the list mail wakes it through a local socket (hub.live_channel), so the first copy
leaves long before the worker's next poll."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from hub.extensions import db
from listserv.models import Delivery

POLL = 30.0  # the worker's poll: far longer than the test may take


@pytest.mark.skipif(bool(os.environ.get("HUB_REDIS_URL")),
                    reason="the Redis wake-up is tested with Redis; this is the one without")
def test_a_post_wakes_a_worker_in_another_process(app, smtp, _smtp_server, make_member,
                                                  board, subscribe, start_topic, tmp_path):
    reader = make_member()
    subscribe(reader, board)
    _sink, port = _smtp_server
    env = {**os.environ,
           "HUB_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HUB_SECRET_KEY": app.config["SECRET_KEY"],
           "HUB_BASE_URL": app.config["HUB_BASE_URL"],
           "HUB_MAIL_DOMAIN": app.config["HUB_MAIL_DOMAIN"],
           "HUB_SMTP_HOST": "127.0.0.1", "HUB_SMTP_PORT": str(port),
           "HUB_WORKER_POLL_SECONDS": str(POLL), "HUB_REDIS_URL": ""}
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-c", "from hub.cli import main; main()",
                               "worker"], env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        # The worker has run its first round and waits (its wake-up socket is there).
        directory = _channel_dir(app)
        deadline = time.monotonic() + 30
        while not list(directory.glob(f"wake-{worker.pid}.sock")):
            assert worker.poll() is None and time.monotonic() < deadline, \
                (tmp_path / "worker.log").read_text()
            time.sleep(0.05)
        time.sleep(0.3)  # into its wait
        app.config["HUB_LIVE_LOCAL"] = True  # this process posts as `hub serve` does
        saved = time.monotonic()
        start_topic(make_member(), board)
        while not smtp.to(reader.email):
            assert time.monotonic() - saved < POLL / 3, "the worker was not woken"
            time.sleep(0.02)
        waited = time.monotonic() - saved
        print(f"first copy {waited:.2f} s after the post")
        assert waited < 5  # in practice well under a second; the machine may be busy
        while db.session.scalar(db.select(db.func.count(Delivery.id))  # recorded after
                                .where(Delivery.status == "sent")) != 1:
            assert time.monotonic() - saved < POLL / 3, "the copy was not recorded as sent"
            db.session.rollback()
            time.sleep(0.05)
    finally:
        app.config["HUB_LIVE_LOCAL"] = False
        _forget_wake(app)
        worker.kill()  # what it did is checked; its wait would outlast the test
        worker.wait(timeout=15)
        log.close()


def _forget_wake(app):  # noqa: ANN001, ANN202
    from hub import live_channel

    wake = live_channel._wakes.pop(_channel_dir(app), None)
    if wake is not None:
        wake.close()


def _channel_dir(app):  # noqa: ANN001, ANN202
    from hub.live_channel import channel_dir

    return channel_dir(app.instance_path, app.config["SQLALCHEMY_DATABASE_URI"],
                       app.config.get("HUB_SOCKETIO_CHANNEL") or "hub-socketio")
