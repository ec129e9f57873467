"""A short soak of `hub serve` (bench/soak.py, 30 minutes when run by hand): mixed reads
and writes over loopback, and the server's memory stays flat after warm-up."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _soak():
    spec = importlib.util.spec_from_file_location("soak", ROOT / "bench" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_memory_stays_flat_under_mixed_load(app, tmp_path):
    soak = _soak()
    token, topics, boards = soak.prepare(topics=6, posts=30)
    while str(ROOT / "bench") in sys.path:  # soak.py put it there for its helpers
        sys.path.remove(str(ROOT / "bench"))
    port = soak_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HUB_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HUB_SECRET_KEY": "soak", "HUB_BASE_URL": base, "HUB_FLOOD_POSTS": "0",
           "HUB_RATELIMIT_POST": "100000 per minute", "HUB_REDIS_URL": "",
           "HUB_UPLOAD_DIR": str(tmp_path / "uploads")}
    with open(tmp_path / "serve.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "serve", "--host",
                                 "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait(base + "/healthz", proc)
            readers = soak.sign_in_readers(base, 3)
            result = soak.run(base, proc.pid, token, topics, boards, seconds=12, clients=3,
                              sample_every=0.5, readers=readers)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)  # gunicorn lets its workers finish their requests
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert not result.errors, result.errors[:5]
    assert result.writes > 5 and result.requests > 100
    after, peak, flat = result.verdict(growth=10)
    assert flat, f"memory grew from {after} kB after warm-up to {peak} kB"


def soak_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "hub serve exited"
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url}")
