"""`hub serve` in a subprocess on a test's database (and Redis), for tests that need a
real server process: load, and faults of what it depends on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app, tmp_path: Path, threads: int = 64) -> Iterator[tuple[str, Path]]:
    """Yields the server's URL and its log file."""
    port = _free_port()
    env = {**os.environ,
           "HUB_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HUB_REDIS_URL": app.config.get("HUB_REDIS_URL") or "",
           "HUB_SOCKETIO_CHANNEL": f"test-{uuid.uuid4().hex}",
           "HUB_SECRET_KEY": "shared-test-secret", "HUB_FLOOD_POSTS": "0",
           "HUB_UPLOAD_DIR": str(tmp_path / "uploads"),
           "HUB_BASE_URL": f"http://127.0.0.1:{port}", "PYTHONUNBUFFERED": "1"}
    log_path = tmp_path / f"serve-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--threads", str(threads)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if requests.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not up, or still starting
                pass
            assert time.monotonic() < deadline, "hub serve did not start"
            time.sleep(0.1)
        yield url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
