"""A bounded soak of `hub serve`: mixed reads and writes over loopback for a fixed time,
the server's resident memory sampled throughout. Memory must be flat after warm-up: the
largest sample of the last quarter at most --growth percent (plus 8 MB) above the
sample at the end of warm-up (the first fifth).

Reads are many URLs (topic pages at every page, board lists, the search page and the
API's search with many words), so caches miss as well as hit; half the topic pages are
read by signed-in members (READERS of them, each with a session of their own: the
members' kept pages, their settled copies and the kept session cookies are in the
soak); writes are replies and new topics through the API, a tenth of the requests.

    .venv/bin/python bench/soak.py                 # 30 minutes, SQLite in a temp dir
    .venv/bin/python bench/soak.py --minutes 2
    HUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/hub_soak \\
        .venv/bin/python bench/soak.py             # a database of its own: it is wiped

tests/hub/test_soak.py runs a short version.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import forums_support as support  # noqa: E402

READERS = 12
WORDS = ("biosafety risk assessment detection laboratory maize cotton regulators training "
         "customs sampling awareness liability redress framework guidance protocol").split()


def rss_kb(pid: int) -> int:
    """Resident memory of a process and its children, in kB (Linux /proc)."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next(int(line.split()[1]) for line in status
                              if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pids += [int(c) for c in children.read().split()]
        except (OSError, StopIteration):
            continue
    return total


@dataclass
class Result:
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds, kB)
    requests: int = 0
    writes: int = 0
    errors: list[str] = field(default_factory=list)

    def verdict(self, growth: float) -> tuple[int, int, bool]:
        """(kB after warm-up, largest kB of the last quarter, flat?)"""
        end = self.samples[-1][0]
        warm = [kb for t, kb in self.samples if t <= end / 5] or [self.samples[0][1]]
        last = [kb for t, kb in self.samples if t >= end * 3 / 4] or [self.samples[-1][1]]
        after, peak = warm[-1], max(last)
        return after, peak, peak <= after * (1 + growth / 100) + 8 * 1024


def sign_in_readers(base: str, count: int = READERS) -> list[str]:
    """The session cookies of the first `count` readers `prepare` made."""
    return [support.sign_in(base, f"reader{n}@example.org") for n in range(count)]


def _worker(base: str, token: str, topics: list[int], boards: list[str], stop: float,
            seed: int, result: Result, lock: threading.Lock,
            readers: list[str] | None = None) -> None:
    rng = random.Random(seed)
    parts = urlsplit(base)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=30)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    while time.monotonic() < stop:
        roll = rng.random()
        body = None
        headers: dict[str, str] = {}
        if roll < 0.07:
            method, path = "POST", f"/api/v1/topics/{rng.choice(topics)}/posts"
            body = json.dumps({"body": " ".join(rng.choices(WORDS, k=40))})
            headers = auth
        elif roll < 0.10:
            method, path = "POST", f"/api/v1/boards/{rng.choice(boards)}/topics"
            body = json.dumps({"title": f"Soak {rng.randint(0, 10**9)}",
                               "body": " ".join(rng.choices(WORDS, k=30))})
            headers = auth
        elif roll < 0.55:
            method = "GET"
            path = f"/forums/topics/{rng.choice(topics)}?page={rng.randint(1, 4)}"
            headers = {"User-Agent": support.AGENT}  # as the readers signed in
            if readers and rng.random() < 0.5:  # a member's page
                headers["Cookie"] = rng.choice(readers)
        elif roll < 0.70:
            method, path = "GET", f"/forums/{rng.choice(boards)}"
        elif roll < 0.85:
            q = " ".join(rng.sample(WORDS, rng.randint(1, 2)))
            method, path = "GET", f"/forums/search?q={quote(q)}"
        else:
            q = quote(rng.choice(WORDS) + f" term{rng.randint(0, 500)}")
            method, path = "GET", f"/api/v1/search?q={q}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status < 400 or (method == "GET" and response.status == 404)
        except OSError as exc:
            ok, response = False, None
            conn.close()
            conn = HTTPConnection(parts.hostname, parts.port, timeout=30)
            error = f"{method} {path}: {exc}"
        with lock:
            result.requests += 1
            result.writes += method == "POST"
            if not ok:
                result.errors.append(error if response is None
                                     else f"{method} {path}: {response.status}")
    conn.close()


def run(base: str, pid: int, token: str, topics: list[int], boards: list[str],
        seconds: float, clients: int = 4, sample_every: float = 1.0,
        readers: list[str] | None = None) -> Result:
    """Load `base` for `seconds` from `clients` threads; sample `pid`'s memory.
    `readers`: members' session cookies for half the topic pages."""
    result = Result()
    lock = threading.Lock()
    started = time.monotonic()
    stop = started + seconds
    threads = [threading.Thread(target=_worker, args=(base, token, topics, boards, stop, n,
                                                      result, lock, readers or []),
                                daemon=True)
               for n in range(clients)]
    for thread in threads:
        thread.start()
    while time.monotonic() < stop:
        result.samples.append((time.monotonic() - started, rss_kb(pid)))
        time.sleep(min(sample_every, max(0.0, stop - time.monotonic())))
    for thread in threads:
        thread.join(timeout=60)
    result.samples.append((time.monotonic() - started, rss_kb(pid)))
    return result


def prepare(topics: int = 20, posts: int = 60) -> tuple[str, list[int], list[str]]:
    """In the current app: a member with an API token, READERS members to read, boards
    with topics of several pages. Returns (token, topic ids, board slugs)."""
    from forums import services
    from forums.models import Board
    from hub import api
    from hub.extensions import db
    from hub.models import Role

    author = support.member("soak@example.org", "Soak Author", role=Role.SECRETARIAT)
    for n in range(READERS):
        support.member(f"reader{n}@example.org", f"Soak Reader {n}")
    boards = []
    for n in range(3):
        board = Board(slug=f"soak-{n}", name=f"Soak {n}", visibility="public", posting="all")
        db.session.add(board)
        boards.append(board)
    db.session.commit()
    rng = random.Random(5)
    ids = []
    for n in range(topics):
        first = services.create_topic(author, boards[n % 3], f"Soak topic {n}",
                                      support.paragraph(rng))
        for _ in range(posts // topics):
            services.create_reply(author, first.topic, support.paragraph(rng, 20))
        ids.append(first.topic.id)
    token = api.create_token(author, "soak")
    db.session.commit()
    return token, ids, [b.slug for b in boards]


def report(result: Result, growth: float) -> bool:
    after, peak, flat = result.verdict(growth)
    seconds = result.samples[-1][0]
    print(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")
    print(f"{result.requests} requests ({result.writes} writes) in {seconds:.0f} s, "
          f"{result.requests / seconds:.0f}/s, {len(result.errors)} failed")
    print(f"memory: {result.samples[0][1] / 1024:.0f} MB at the start, {after / 1024:.0f} MB "
          f"after warm-up, at most {peak / 1024:.0f} MB in the last quarter: "
          + ("flat" if flat else f"GREW more than {growth:.0f}%"))
    return flat and not result.errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--growth", type=float, default=10.0,
                        help="percent of growth after warm-up still called flat")
    args = parser.parse_args(argv)
    url = support.database()
    app = support.make_app(url)
    with app.app_context():
        token, topics, boards = prepare()
    procs: list = []
    with support.hub_serve(url, procs=procs) as base:
        readers = sign_in_readers(base)
        result = run(base, procs[0].pid, token, topics, boards, args.minutes * 60,
                     clients=args.clients, sample_every=max(1.0, args.minutes * 60 / 300),
                     readers=readers)
    for error in result.errors[:10]:
        print("failed:", error)
    return 0 if report(result, args.growth) else 1


if __name__ == "__main__":
    sys.exit(main())
