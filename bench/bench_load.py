"""Concurrent writers and readers against a real hub, on both shapes, loopback only:

- embedded: `hub dev` (web, worker and gateway in one process) on SQLite;
- production: `hub serve` + `hub worker` + `hub gateway` on HUB_DATABASE_URL (PostgreSQL;
  it is WIPED) with HUB_REDIS_URL.

For each: WRITERS members post replies through the API and READERS fetch topic pages, for
SECONDS. Prints p50/p95 latency of writes and reads, the count of 5xx answers and of
timeouts, and checks that every acknowledged post is stored exactly once and found by
search. The machine is shared: the load average is printed beside the figures.

    .venv/bin/python bench/bench_load.py [--seconds 60] [--writers 50] [--readers 10]
                                         [--shape embedded|production|both]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forums_support import ROOT, database, make_app, member  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from forums import services  # noqa: E402
from forums.models import Board, Post  # noqa: E402
from hub import api  # noqa: E402
from hub.extensions import db  # noqa: E402


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _word() -> str:
    return "zq" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:12])


def _prepare(url: str, writers: int) -> tuple[object, list[int], list[str], str]:
    app = make_app(url)
    with app.app_context():
        board = Board(slug="load", name="Load", description="", visibility="public",
                      posting="all", position=1)
        db.session.add(board)
        db.session.commit()
        author = member("author@bench.test", "Author")
        topics = [services.create_topic(author, board, f"Load {n}", "First.").topic_id
                  for n in range(5)]
        tokens = [api.create_token(member(f"w{n}@bench.test", f"Writer {n}"), "bench")
                  for n in range(writers)]
        reader = api.create_token(member("reader@bench.test", "Reader"), "bench")
        db.session.commit()
    return app, topics, tokens, reader


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "hub.cli", *args], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def _wait_up(url: str, procs: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a hub process exited at start")
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("the hub did not answer within 60 s")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 \
        if len(values) > 1 else values[0] * 1000


def run_shape(shape: str, seconds: float, writers: int, readers: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"hub-load-{shape}-"))
    if shape == "embedded":
        url = "sqlite:///" + str(tmp / "hub.sqlite3")
        redis_url = ""
    else:
        if not os.environ.get("HUB_DATABASE_URL") or not os.environ.get("HUB_REDIS_URL"):
            print("production shape: set HUB_DATABASE_URL (PostgreSQL) and HUB_REDIS_URL")
            return
        url = database()
        redis_url = os.environ["HUB_REDIS_URL"]
    app, topics, tokens, reader = _prepare(url, writers)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_REDIS_URL": redis_url,
           "HUB_SECRET_KEY": "bench", "HUB_BASE_URL": base, "HUB_FLOOD_POSTS": "0",
           "HUB_RATELIMIT_POST": "100000 per minute", "HUB_UPLOAD_DIR": str(tmp / "up"),
           "HUB_SOCKETIO_CHANNEL": f"bench-{uuid.uuid4().hex}",
           "HUB_GATEWAY_LMTP_PORT": str(_free_port()),
           "HUB_GATEWAY_SMTP_PORT": str(_free_port()), "PYTHONUNBUFFERED": "1"}
    log = tmp / "hub.log"
    if shape == "embedded":
        procs = [_start(["dev", "--host", "127.0.0.1", "--port", str(port)], env, log)]
    else:
        procs = [_start(["serve", "--host", "127.0.0.1", "--port", str(port)], env, log),
                 _start(["worker"], env, log), _start(["gateway"], env, log)]
    statuses: Counter[int] = Counter()
    writes: list[float] = []
    reads: list[float] = []
    acknowledged: dict[int, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def write(n: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[n]}"}
        with requests.Session() as http:
            i = 0
            while not stop.is_set():
                word = _word()
                started = time.monotonic()
                try:
                    r = http.post(f"{base}/api/v1/topics/{topics[(n + i) % len(topics)]}/posts",
                                  headers=headers, json={"body": f"Load {word}."}, timeout=35)
                    code = r.status_code
                except requests.Timeout:
                    code = 599
                took = time.monotonic() - started
                with lock:
                    statuses[code] += 1
                    writes.append(took)
                    if code == 201:
                        acknowledged[r.json()["id"]] = word
                i += 1

    def read(n: int) -> None:
        with requests.Session() as http:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    code = http.get(f"{base}/forums/topics/{topics[n % len(topics)]}",
                                    timeout=35).status_code
                except requests.Timeout:
                    code = 599
                with lock:
                    statuses[code] += 1
                    reads.append(time.monotonic() - started)

    try:
        _wait_up(base, procs)
        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        threads += [threading.Thread(target=read, args=(n,)) for n in range(readers)]
        load_before = os.getloadavg()[0]
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        load_after = os.getloadavg()[0]
        with app.app_context():
            counts = dict(db.session.execute(
                select(Post.id, func.count()).where(Post.id.in_(list(acknowledged)))
                .group_by(Post.id)).all())
            bodies = Counter(db.session.scalars(select(Post.body).where(
                Post.body.like("Load zq%"))))
        missing_rows = [i for i in acknowledged if counts.get(i) != 1]
        duplicates = sum(n - 1 for n in bodies.values() if n > 1)
        with requests.Session() as http:
            unsearchable = [w for w in acknowledged.values() if not http.get(
                f"{base}/api/v1/search", params={"q": w}, timeout=30,
                headers={"Authorization": f"Bearer {reader}"}).json().get("items")]
        server_errors = sum(n for code, n in statuses.items() if code >= 500)
        pool_timeouts = log.read_text(errors="replace").count("QueuePool limit")
        print(f"{shape:<10} {writers} writers + {readers} readers, {seconds:.0f} s, "
              f"load average {load_before:.1f} -> {load_after:.1f}")
        print(f"  writes: {len(writes)} ({len(acknowledged)} acknowledged, "
              f"{len(acknowledged) / seconds:.1f}/s)  p50 {_pct(writes, 50):.0f} ms  "
              f"p95 {_pct(writes, 95):.0f} ms")
        print(f"  reads:  {len(reads)} ({len(reads) / seconds:.1f}/s)  "
              f"p50 {_pct(reads, 50):.0f} ms  p95 {_pct(reads, 95):.0f} ms")
        print(f"  5xx or timeouts: {server_errors}  pool timeouts in log: {pool_timeouts}  "
              f"statuses: {dict(sorted(statuses.items()))}")
        print(f"  acknowledged but not stored once: {len(missing_rows)}  duplicates: "
              f"{duplicates}  not found by search: {len(unsearchable)}")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--readers", type=int, default=10)
    parser.add_argument("--shape", choices=("embedded", "production", "both"), default="both")
    args = parser.parse_args()
    shapes = ("embedded", "production") if args.shape == "both" else (args.shape,)
    for shape in shapes:
        run_shape(shape, args.seconds, args.writers, args.readers)


if __name__ == "__main__":
    main()
