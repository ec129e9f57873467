"""Every page, on every core: board pages, the forum index, members' topic pages and the
server's own floor, each served by `hub serve` as in production (one process per core),
loaded from other processes on loopback; and the CPU an uncached topic page costs.

Budgets (issue 13), each a ratio within one run (interleaved rounds, medians), so that
what else the machine does weighs on all figures alike:
- a board of 1,000 topics >= 60% of the topic page (both for visitors), and a board of
  10,000 topics >= 0.9x a board of 100;
- a signed-in member's topic page >= 80% of a visitor's;
- the hub's `/healthz` >= 30% of a bare Flask endpoint under the same server;
- an uncached topic page of 20 posts <= 8 ms of CPU (in process, median).

Beside requests per second, each figure has the server's CPU time per request (its
processes' user + system time over the requests served): on a busy machine it moves far
less than req/s, and its ratio is what the req/s ratio would be on an idle one.

What is a cache hit: visitors' topic pages, board pages and the forum index are kept
(forums.cache) and served from memory after the first request; a member's topic page is
the copy kept for members who see it alike, filled in for them on every request; a
member's board page is rendered for them every time.

    .venv/bin/python bench/bench_pages.py            # every figure (about 3 minutes)
    .venv/bin/python bench/bench_pages.py --quick    # rounds of 1 s
    .venv/bin/python bench/bench_pages.py --only topic,healthz   # some targets only
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import forums_support as support  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PROCESSES = os.cpu_count() or 1

BARE_APP = """
import sys
from flask import Flask
from hub.cli import serve_app
app = Flask("bare")
app.add_url_rule("/healthz", "ok", lambda: {"status": "ok"})
serve_app(app, "127.0.0.1", int(sys.argv[1]), processes=int(sys.argv[2]), threads=64)
"""


def seed(app) -> dict[str, int]:  # noqa: ANN001
    from sqlalchemy import insert

    from forums.models import Board, Topic
    from hub import clock
    from hub.extensions import db

    authors = [support.member(f"author{i}@example.org", f"Author {i}") for i in range(8)]
    talk = Board(slug="talk", name="Talk", visibility="public", posting="all")
    db.session.add(talk)
    db.session.commit()
    topic = support.long_topic(talk, authors, 200, random.Random(3))
    now = clock.now()
    for slug, count in (("b100", 100), ("b1000", 1000), ("b10000", 10000)):
        board = Board(slug=slug, name=f"A board of {count} topics", visibility="public",
                      posting="all", topic_count=count, post_count=3 * count,
                      last_post_at=now)
        db.session.add(board)
        db.session.commit()
        rows = [{"board_id": board.id, "title": f"Topic {i}: stacked events in maize",
                 "author_id": authors[i % 8].id, "created_at": now - timedelta(hours=i),
                 "last_post_at": now - timedelta(minutes=7 * i), "post_count": 3,
                 "last_author_id": authors[(i + 1) % 8].id, "status": "published",
                 "last_position": 3, "last_post_id": 1, "pinned": i in (5, 50)}
                for i in range(count)]
        for start in range(0, count, 2000):
            db.session.execute(insert(Topic), rows[start:start + 2000])
        db.session.commit()
    support.analyze()  # long_topic's statistics predate these 11,100 topics
    return {"topic": topic.id}


def uncached_cpu(app, topic_id: int) -> float:  # noqa: ANN001
    """Median CPU ms of an uncached topic page (20 posts, flat page 1), in process."""
    app.config["HUB_FORUM_PAGE_CACHE"] = 0
    client = app.test_client()
    path = f"/forums/topics/{topic_id}?view=flat&page=1"
    assert client.get(path).status_code == 200
    samples = []
    for _ in range(7):
        start = time.process_time()
        for _ in range(30):
            client.get(path)
        samples.append((time.process_time() - start) / 30 * 1000)
    app.config["HUB_FORUM_PAGE_CACHE"] = 60
    return support.median(samples)


@contextmanager
def bare_serve(procs: list):  # noqa: ANN201
    port = support.free_port()
    proc = subprocess.Popen([sys.executable, "-c", BARE_APP, str(port), str(PROCESSES)],
                            cwd=support.ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    procs.append(proc)
    try:
        support.wait_until_up(f"http://127.0.0.1:{port}/healthz", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by a server and its worker processes (Linux /proc): per
    request, far steadier than requests per second on a busy machine."""
    pids, total = [pid], 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    for each in pids:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def resigned(url: str, cookie: str) -> bool:
    """Whether a member's page sends a new session cookie (it should not), asked as the
    load generator asks."""
    from http.client import HTTPConnection
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", f"{parts.path}?{parts.query}",
                 headers={"Cookie": cookie, "User-Agent": support.AGENT})
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status
    return response.getheader("Set-Cookie") is not None


def load(url: str, seconds: float, cookie: str = "") -> support.Load:
    """wrk when installed; else the Python load generator in as many processes as the
    machine has cores (one would be held back by its own interpreter lock)."""
    import shutil

    if shutil.which("wrk"):
        return support.load(url, seconds, cookie=cookie)
    procs = [subprocess.Popen([sys.executable, "-c", support.PY_LOAD, url, str(seconds),
                               str(16 // PROCESSES), cookie, support.AGENT],
                              stdout=subprocess.PIPE,
                              text=True) for _ in range(PROCESSES)]
    results = [proc.communicate(timeout=seconds + 60)[0].split() for proc in procs]
    if any(proc.returncode for proc in procs):
        raise SystemExit(f"failed requests on {url}")
    return support.Load(sum(float(r[0]) for r in results),
                        support.median([float(r[1]) for r in results]),
                        f"Python thread pools in {PROCESSES} processes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="rounds of 1 s")
    parser.add_argument("--only", default="", help="comma-separated words: only the "
                        "targets whose label holds one of them (ratios need both sides)")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else SECONDS
    words = [w.strip() for w in args.only.split(",") if w.strip()]
    url = support.database()
    app = support.make_app(url)
    with app.app_context():
        ids = seed(app)
        cpu = uncached_cpu(app, ids["topic"])
    print(support.machine())
    print(f"uncached topic page, 20 posts: {cpu:.1f} ms of CPU in process (median of 7 x 30)"
          f"  (budget <= 8 ms: {'met' if cpu <= 8 else 'MISSED'})")
    env = {"HUB_SERVE_PROCESSES": str(PROCESSES)}
    bare_proc: list = []
    hub_proc: list = []
    with bare_serve(bare_proc) as bare, support.hub_serve(url, env=env,
                                                         procs=hub_proc) as base:
        cookie = support.sign_in(base, "author1@example.org", "bench password 1")
        topic = f"{base}/forums/topics/{ids['topic']}?view=flat&page=1"
        targets = {
            "bare Flask /healthz": (bare + "/healthz", ""),
            "hub /healthz": (base + "/healthz", ""),
            "topic page (visitor)": (topic, ""),
            "board of 100 (visitor)": (base + "/forums/b100", ""),
            "board of 1,000 (visitor)": (base + "/forums/b1000", ""),
            "board of 10,000 (visitor)": (base + "/forums/b10000", ""),
            "forum index (visitor)": (base + "/forums/", ""),
            "topic page (member)": (topic, cookie),
            "board of 1,000 (member)": (base + "/forums/b1000", cookie),
            "forum index (member)": (base + "/forums/", cookie),
        }
        targets = {label: target for label, target in targets.items()
                   if not words or any(word in label for word in words)}
        for target, who in targets.values():
            load(target, 0.5, cookie=who)  # warm up every process
        again = resigned(topic, cookie) if "topic page (member)" in targets else None
        rounds, cpu_ms = [], {label: [] for label in targets}
        for _ in range(ROUNDS):
            done = {}
            for label, (target, who) in targets.items():
                pid = (bare_proc if target.startswith(bare) else hub_proc)[0].pid
                before = server_cpu(pid)
                done[label] = load(target, seconds, cookie=who)
                served = done[label].rps * max(1, round(seconds))
                cpu_ms[label].append((server_cpu(pid) - before) / served * 1000)
            rounds.append(done)
    tool = next(iter(rounds[0].values())).tool
    print(f"hub serve and the bare app: {PROCESSES} processes each; load: {tool}, 16 "
          f"connections from another process; median of {ROUNDS} interleaved rounds of "
          f"{seconds:.0f} s; load average now {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for label in rounds[0]:
        rps = support.median([r[label].rps for r in rounds])
        p50 = support.median([r[label].p50_ms for r in rounds])
        print(f"  {label:<28} {rps:8.0f} req/s   p50 {p50:6.1f} ms   server CPU "
              f"{support.median(cpu_ms[label]):5.2f} ms a request")
    if again is not None:
        print(f"member's page re-sends the session cookie: {'YES' if again else 'no'}")

    def ratio(a: str, b: str) -> float:
        return support.median([r[a].rps / r[b].rps for r in rounds])

    def cpu_ratio(a: str, b: str) -> float:  # b's server CPU a request / a's
        return support.median([y / x for x, y in zip(cpu_ms[a], cpu_ms[b], strict=True)])

    for label, a, b, budget in (
            ("board of 1,000 / topic page", "board of 1,000 (visitor)",
             "topic page (visitor)", 0.6),
            ("board of 10,000 / board of 100", "board of 10,000 (visitor)",
             "board of 100 (visitor)", 0.9),
            ("member topic page / visitor's", "topic page (member)",
             "topic page (visitor)", 0.8),
            ("hub /healthz / bare endpoint", "hub /healthz", "bare Flask /healthz", 0.3),
            ("member board / visitor board", "board of 1,000 (member)",
             "board of 1,000 (visitor)", None)):
        if a not in rounds[0] or b not in rounds[0]:
            continue
        value = ratio(a, b)
        verdict = "" if budget is None else (
            f"  (budget >= {budget:.0%}: {'met' if value >= budget else 'MISSED'})")
        print(f"{label:<34} {value:6.0%}{verdict}   by server CPU a request: "
              f"{cpu_ratio(a, b):.0%}")


if __name__ == "__main__":
    main()
