"""Fan-out under `kill -9`: one post to N subscribers, sent by two `hub worker`
processes of which one is killed (and a fresh one started) KILLS times while copies are
going out. Counts what reached the SMTP sink (its own process): missing copies (must be
0), duplicates (at most one per kill that hit while sending), and for each kill how long
the killed worker's job waited before another worker took it up (must be < 60 s: the
lease, HUB_JOB_LEASE_SECONDS, is 30 s by default). Prints the load average.

Usage: python bench/bench_worker_kills.py [--subscribers 10000] [--kills 20]
                                          [--database-url URL (EMPTY)]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _setup import REPO_ROOT, free_port, make_app, make_members, scratch_database

SINK = r"""
import sys
from aiosmtpd.controller import Controller
out = open(sys.argv[2], "a", buffering=1)
class Sink:
    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            out.write(rcpt + "\n")
        return "250 OK"
c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
try:
    sys.stdin.read()
finally:
    c.stop()
"""


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "hub.cli", "worker"], cwd=REPO_ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hub-kills-"))
    received = tmp / "received.txt"
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(port), str(received)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    url = args.database_url or scratch_database()
    app = make_app(url, HUB_SMTP_HOST="127.0.0.1", HUB_SMTP_PORT=port)
    from sqlalchemy import func, insert

    from forums import services as forums
    from forums.models import Board, Subscription
    from hub import clock
    from hub.extensions import db
    from hub.models import Job, Member
    from listserv.models import Delivery

    with app.app_context():
        board = Board(slug="risk", name="Risk", visibility="members", posting="all")
        db.session.add(board)
        db.session.commit()
        ids = make_members(args.subscribers)
        db.session.execute(insert(Subscription), [
            {"member_id": i, "board_id": board.id, "mode": "each", "created_at": clock.now()}
            for i in ids])
        db.session.commit()
        author = db.session.get(Member, make_members(1, prefix="author")[0])
        post = forums.create_topic(author, board, "Under fire", "Every copy, once.")
        post_id = post.id
        db.session.remove()

    env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_SECRET_KEY": "bench-secret",
           "HUB_BASE_URL": "http://hub.bench", "HUB_MAIL_DOMAIN": "lists.bench",
           "HUB_SMTP_HOST": "127.0.0.1", "HUB_SMTP_PORT": str(port),
           "HUB_WORKER_POLL_SECONDS": "1", "HUB_LIST_CHUNK": "250"}
    env.pop("HUB_REDIS_URL", None)
    log = tmp / "workers.log"
    workers = [_worker(env, log), _worker(env, log)]
    rng = random.Random(7)
    kills: list[dict] = []
    started = time.monotonic()
    load_before = os.getloadavg()[0]

    def delivered() -> int:
        return sum(1 for _ in received.open()) if received.exists() else 0

    def held_by(pid: int) -> list[int]:
        with app.app_context():
            rows = db.session.scalars(db.select(Job.id).where(
                Job.status == "running", Job.locked_by.like(f"%:{pid}:%"))).all()
            db.session.remove()
            return list(rows)

    def check_taken_up() -> None:
        waiting = [k for k in kills if k["taken_up"] is None]
        if not waiting:
            return
        with app.app_context():
            for kill in waiting:
                rows = db.session.execute(db.select(Job.status, Job.locked_by).where(
                    Job.id.in_(kill["jobs"]))).all() if kill["jobs"] else []
                if all(status != "running" or f":{kill['pid']}:" not in (owner or "")
                       for status, owner in rows):
                    kill["taken_up"] = time.monotonic() - kill["at"]
            db.session.remove()

    try:
        while len(kills) < args.kills and time.monotonic() - started < 900:
            time.sleep(rng.uniform(0.3, 1.2))
            before = delivered()
            if before >= args.subscribers:
                break
            time.sleep(0.2)
            if delivered() == before:
                continue  # not sending right now
            victim = workers.pop(rng.randrange(len(workers)))
            jobs_held = held_by(victim.pid)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            kills.append({"at": time.monotonic(), "jobs": jobs_held, "taken_up": None,
                          "pid": victim.pid})
            workers.append(_worker(env, log))
            check_taken_up()
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with app.app_context():
                pending = db.session.scalar(db.select(func.count(Delivery.id)).where(
                    Delivery.post_id == post_id, Delivery.status == "pending"))
                total = db.session.scalar(db.select(func.count(Delivery.id)).where(
                    Delivery.post_id == post_id))
                db.session.remove()
            check_taken_up()
            if total == args.subscribers and not pending:
                break
            time.sleep(0.5)
        finished = time.monotonic() - started
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(15)
        if sink.stdin:
            sink.stdin.close()
        sink.wait(10)
    counts = Counter(line.strip() for line in received.open())
    expected = {f"reader{n}@example.org" for n in range(args.subscribers)}
    missing = len(expected - set(counts))
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    print(f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")
    print(f"subscribers {args.subscribers}, kills while sending {len(kills)}, "
          f"all sent after {finished:.0f} s")
    holding = [k for k in kills if k["jobs"]]  # the others held no job when killed
    delays = sorted(k["taken_up"] for k in holding if k["taken_up"] is not None)
    print(f"missing {missing}  duplicates {duplicates}  (allowed: <= {len(kills)})")
    if delays:
        median = delays[len(delays) // 2]
        print(f"{len(holding)} kills held a job; taken up again after: median {median:.1f} s, "
              f"max {delays[-1]:.1f} s ({len(holding) - len(delays)} never measured)")
    slow = bool(delays) and delays[-1] >= 60 or len(delays) < len(holding)
    return 0 if missing == 0 and duplicates <= len(kills) and not slow else 1


if __name__ == "__main__":
    sys.exit(main())
