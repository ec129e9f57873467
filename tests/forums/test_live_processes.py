"""Live updates across processes: two `hub serve` processes sharing the test's database
and Redis; a post made through one (and one made by a process that serves nothing, as
the mail gateway and the worker do) reaches a Socket.IO client connected to the other.
They run through Redis when HUB_REDIS_URL is set, and always without it, where the
hub's processes on one machine meet in local sockets (hub.live_channel). And `hub serve
--worker gevent` serves pages and live updates."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio as sio_client

from forums import services

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("HUB_REDIS_URL") or None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def hub_env(app, tmp_path) -> dict[str, str]:
    """The environment of a hub process that shares this test's database and Redis."""
    return {
        **os.environ,
        "HUB_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HUB_REDIS_URL": REDIS_URL or "",
        "HUB_SOCKETIO_CHANNEL": f"test-{uuid.uuid4().hex}",
        "HUB_SECRET_KEY": "shared-test-secret",
        "HUB_UPLOAD_DIR": str(tmp_path / "uploads"),
        "HUB_FLOOD_POSTS": "0",
        "PYTHONUNBUFFERED": "1",
    }


def _serve(hub_env: dict[str, str], tmp_path: Path, count: int, *args: str
           ) -> Iterator[list[str]]:
    ports = [free_port() for _ in range(count)]
    procs = []
    for port in ports:
        env = {**hub_env, "HUB_BASE_URL": f"http://127.0.0.1:{port}"}
        log = open(tmp_path / f"serve-{port}.log", "wb")  # noqa: SIM115 (closed below)
        procs.append((subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), *args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, (proc, _log) in zip(urls, procs, strict=True):
            _wait_until_up(url, proc, tmp_path)
        yield urls
    finally:
        for proc, _log in procs:
            proc.terminate()
        for proc, log in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


@pytest.fixture(params=["redis", "local sockets"])
def channel(request) -> str:
    if request.param == "redis" and not REDIS_URL:
        pytest.skip("needs Redis (set HUB_REDIS_URL)")
    return request.param


@pytest.fixture
def servers(hub_env, tmp_path, channel) -> Iterator[list[str]]:
    env = hub_env if channel == "redis" else {**hub_env, "HUB_REDIS_URL": ""}
    # Two servers of one process each: each post crosses from one process to another.
    yield from _serve(env, tmp_path, 2, "--threads", "16", "--processes", "1")


@pytest.fixture
def gevent_server(hub_env, tmp_path) -> Iterator[str]:
    for urls in _serve({**hub_env, "HUB_REDIS_URL": ""}, tmp_path, 1, "--worker", "gevent",
                       "--processes", "1"):
        yield urls[0]


def _wait_until_up(url: str, proc: subprocess.Popen, tmp_path: Path) -> None:
    deadline = time.monotonic() + 60  # a loaded machine starts processes slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            logs = "\n".join(p.read_text() for p in tmp_path.glob("serve-*.log"))
            pytest.fail(f"hub serve exited with {proc.returncode}:\n{logs}")
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or its processes are still starting
        time.sleep(0.1)
    pytest.fail(f"hub serve at {url} did not answer within 60 s")


def _listen(url: str, topic_id: int) -> tuple[sio_client.Client, queue.Queue]:
    received: queue.Queue = queue.Queue()
    client = sio_client.Client(reconnection=False)
    client.on("post", lambda data: received.put(data))
    client.connect(url, transports=["websocket"], wait_timeout=10)
    answer = client.call("join", {"topic": topic_id}, timeout=10)
    assert answer["ok"], answer
    return client, received


def _next(received: queue.Queue, timeout: float = 10) -> dict:
    try:
        return received.get(timeout=timeout)
    except queue.Empty:
        pytest.fail(f"no live event within {timeout} s")


def test_a_post_through_one_server_reaches_a_reader_on_the_other(
        app, cast, token_for, servers, hub_env, channel):
    first = services.create_topic(cast.member, cast.public, "Across processes", "Hello.")
    headers = token_for(cast.moderator)
    a, b = servers
    client, received = _listen(b, first.topic_id)
    try:
        response = requests.post(f"{a}/api/v1/topics/{first.topic_id}/posts", headers=headers,
                                 json={"body": "Posted on server A."}, timeout=10)
        assert response.status_code == 201, response.text
        event = _next(received)
        assert event["id"] == response.json()["id"] and event["position"] == 2
        assert "Posted on server A." in event["html"]

        # A process that serves nothing (the mail gateway, the worker) emits through Redis,
        # or to the local sockets of the `hub` command's processes.
        script = textwrap.dedent(f"""
            from hub import create_app
            from hub.extensions import db
            from hub.models import Member
            from forums import services
            from forums.models import Topic
            app = create_app({{"HUB_LIVE_LOCAL": True}})
            with app.app_context():
                topic = db.session.get(Topic, {first.topic_id})
                author = db.session.get(Member, {cast.group_member.id})
                services.create_reply(author, topic, "Posted by email.", source="email")
        """)
        env = hub_env if channel == "redis" else {**hub_env, "HUB_REDIS_URL": ""}
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                       timeout=60)
        event = _next(received)
        assert event["position"] == 3 and "Posted by email." in event["html"]
    finally:
        client.disconnect()


def test_a_reader_who_missed_posts_catches_up_over_http(app, cast, servers):
    first = services.create_topic(cast.member, cast.public, "Reconnect", "One.")
    services.create_reply(cast.moderator, first.topic, "Two, while the reader was away.")
    _a, b = servers
    data = requests.get(f"{b}/forums/topics/{first.topic_id}/live?after=1", timeout=10).json()
    assert [item["position"] for item in data["items"]] == [2] and data["last"] == 2


def test_hub_serve_on_gevent_serves_pages_and_live_updates(app, cast, token_for, gevent_server):
    first = services.create_topic(cast.member, cast.public, "On gevent", "Hello.")
    headers = token_for(cast.moderator)
    page = requests.get(f"{gevent_server}/forums/topics/{first.topic_id}", timeout=10)
    assert page.status_code == 200 and "On gevent" in page.text
    client, received = _listen(gevent_server, first.topic_id)
    try:
        response = requests.post(f"{gevent_server}/api/v1/topics/{first.topic_id}/posts",
                                 headers=headers, json={"body": "Greenlets."}, timeout=10)
        assert response.status_code == 201
        assert "Greenlets." in _next(received)["html"]
    finally:
        client.disconnect()


def test_readers_on_every_process_of_one_server_hear_a_post(app, cast, token_for, hub_env,
                                                           tmp_path):
    """`hub serve --processes 2` without Redis: readers connected to any of its processes
    (one connection each, wherever the kernel hands it) all receive a post made through
    whichever process takes the request."""
    first = services.create_topic(cast.member, cast.public, "One port", "Hello.")
    headers = token_for(cast.moderator)
    for (url,) in _serve({**hub_env, "HUB_REDIS_URL": ""}, tmp_path, 1, "--processes", "2",
                         "--threads", "32"):
        readers = [_listen(url, first.topic_id) for _ in range(6)]
        try:
            response = requests.post(f"{url}/api/v1/topics/{first.topic_id}/posts",
                                     headers=headers, json={"body": "To all."}, timeout=10)
            assert response.status_code == 201, response.text
            for _client, received in readers:
                assert "To all." in _next(received)["html"]
        finally:
            for client, _received in readers:
                client.disconnect()
