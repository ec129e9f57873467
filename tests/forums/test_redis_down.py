"""Redis speeds the hub up and is never needed: with a private redis-server killed,
pages, sign-in and posting (web, API, email) keep working, rate limits count in the
process (one log line says so), /healthz names Redis as down; once Redis is back, it
says ok again and limits are shared again."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from forums.models import Post
from hub.extensions import db
from listserv import inbound

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    def __init__(self, tmp: Path) -> None:
        self.port, self.tmp = _free_port(), tmp
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.proc and server.proc.poll() is None:
        server.kill()


@pytest.fixture
def app_config(app_config, private_redis):
    return {**app_config, "HUB_REDIS_URL": private_redis.url,
            "RATELIMIT_STORAGE_URI": private_redis.url, "HUB_FLOOD_POSTS": 0,
            "HUB_RATELIMIT_LOGIN": "3 per minute",
            "HUB_HEALTH_SECONDS": 0}  # /healthz asks Redis on every request here


def test_with_redis_down_members_sign_in_read_and_post_everywhere(
        app, client, auth, make_member, make_board, make_topic, token_for, private_redis,
        caplog):
    board = make_board(slug="open", posting="all")
    member = make_member()
    first = make_topic(member, board, "Outage", "Before.")
    headers = token_for(member)
    assert client.get("/healthz").json == {
        "status": "ok", "down": [], "database": "ok", "redis": "ok"}

    private_redis.kill()
    caplog.set_level(logging.WARNING)
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["down"] == ["redis"]
    assert health.json["database"] == "ok"

    assert client.get(f"/forums/topics/{first.topic_id}").status_code == 200
    assert auth.login(member).status_code == 302
    web = client.post(f"/forums/topics/{first.topic_id}/reply", data={"body": "By web."})
    assert web.status_code == 302, web.text
    api = client.post(f"/api/v1/topics/{first.topic_id}/posts", headers=headers,
                      json={"body": "By API."})
    assert api.status_code == 201, api.text
    mail = (f"From: {member.email}\r\nTo: open@lists.hub.test\r\nSubject: By email\r\n"
            "Message-ID: <outage-1@example.org>\r\n\r\nBy email.\r\n").encode()
    row = inbound.ingest(mail, "open@lists.hub.test", member.email, "lmtp")
    assert row is not None and row.status in {"posted", "done", "accepted"}, row.reason
    bodies = set(db.session.scalars(db.select(Post.body)))
    assert {"By web.", "By API."} <= bodies and any("By email." in b for b in bodies)
    fallbacks = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(fallbacks) == 1

    # Limits still hold, counted in this process: the fourth wrong password is refused.
    outsider = app.test_client()
    codes = [outsider.post("/login", data={"email": "x@example.org", "password": "no"}
                           ).status_code for _ in range(4)]
    assert codes[-1] == 429 and 500 not in codes

    private_redis.start()
    assert client.get("/healthz").status_code == 200


def test_live_pages_are_told_when_redis_goes_and_come_back_with_it(
        app, make_board, private_redis, tmp_path):
    import socketio as sio_client

    from tests.forums.serve_process import serve

    with serve(app, tmp_path, threads=16) as (url, log_path):
        reader = sio_client.Client(reconnection=False)
        reader.connect(url, transports=["websocket"], wait_timeout=10)
        private_redis.kill()
        deadline = time.monotonic() + 10
        while reader.connected:  # closed by the server: the page shows "paused"
            assert time.monotonic() < deadline, log_path.read_text()[-2000:]
            time.sleep(0.1)
        again = sio_client.Client(reconnection=False)
        with pytest.raises(sio_client.exceptions.ConnectionError):
            again.connect(url, transports=["websocket"], wait_timeout=5)
        assert "Redis does not answer" in log_path.read_text()
        private_redis.start()
        back = sio_client.Client(reconnection=False)
        back.connect(url, transports=["websocket"], wait_timeout=10)  # then it catches up
        assert back.connected
        back.disconnect()
