"""Topic pages under load: requests per second for page 1 and page 500 of a 10,000-post
topic (flat view, 20 posts a page), every page of it in a random order (cache misses), the
same with the page cache off (HUB_FORUM_PAGE_CACHE=0), and for a bare Flask endpoint,
each served by gunicorn as `hub serve` runs it (one process), loaded from another process
on loopback (wrk from Debian's package when installed, else a Python thread pool; many
URLs always through the thread pool). Interleaved rounds, medians.

Budgets (DESIGN.md §6): page 500 at least 0.9x page 1 (keyset pages by stored position,
never OFFSET); the topic page at least 20% of the bare endpoint (stored HTML, a fixed
number of queries).

    .venv/bin/python bench/bench_forums_pages.py
    BENCH_WORKER=gevent .venv/bin/python bench/bench_forums_pages.py
    HUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/hub_bench_forums \\
        .venv/bin/python bench/bench_forums_pages.py   # a database of its own: it is wiped
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import forums_support as support  # noqa: E402

POSTS = int(os.environ.get("BENCH_POSTS", "10000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WORKER = os.environ.get("BENCH_WORKER", "gthread")


def main() -> None:
    from forums.models import Board
    from hub.extensions import db

    url = support.database()
    app = support.make_app(url)
    with app.app_context():
        authors = [support.member(f"author{i}@example.org", f"Author {i}") for i in range(8)]
        board = Board(slug="bench", name="Bench", visibility="public", posting="all")
        db.session.add(board)
        db.session.commit()
        topic = support.long_topic(board, authors, POSTS, random.Random(3))
        topic_id, dialect = topic.id, db.engine.dialect.name
        db.engine.dispose()
    pages = POSTS // 20
    print(support.machine())
    print(f"{dialect}, a topic of {POSTS} posts ({pages} pages of 20), "
          f"hub serve --worker {WORKER}")
    rounds: list[dict[str, support.Load]] = []
    with support.bare_serve(WORKER) as bare, \
            support.hub_serve(url, "--worker", WORKER) as base, \
            support.hub_serve(url, "--worker", WORKER,
                              env={"HUB_FORUM_PAGE_CACHE": "0"}) as uncached:
        first = f"{base}/forums/topics/{topic_id}?view=flat&page=1"
        deep = f"{base}/forums/topics/{topic_id}?view=flat&page={pages}"
        threaded = f"{base}/forums/topics/{topic_id}"
        # Every page of the topic in a random order: more pages than the cache keeps
        # for long, so most requests render.
        spread = [f"{base}/forums/topics/{topic_id}?view=flat&page={n}"
                  for n in range(1, pages + 1)]
        off = uncached + spread[0][len(base):]
        off_spread = [uncached + u[len(base):] for u in spread]
        assert support.get(deep) == 200 and support.get(off) == 200
        cookie = support.sign_in(base, "author1@example.org", "bench password 1")
        for url_ in (bare + "/healthz", first, deep, threaded, off):
            support.load(url_, 1)  # warm up
        # The figures are measured in turn, ROUNDS times, so that what else the machine
        # does weighs on all of them alike; each figure is the median of its rounds.
        for _ in range(ROUNDS):
            rounds.append({
                "bare": support.load(bare + "/healthz", SECONDS),
                # Readers who are not signed in: the page as cached for all of them.
                "page 1": support.load(first, SECONDS),
                f"page {pages}": support.load(deep, SECONDS),
                f"pages 1-{pages}, random": support.load(spread, SECONDS),
                "cache off: page 1": support.load(off, SECONDS),
                f"cache off: pages 1-{pages}": support.load(off_spread, SECONDS),
                "threaded, first page": support.load(threaded, SECONDS),
                # A signed-in member: rendered for them on every request.
                "member: page 1": support.load(first, SECONDS, cookie=cookie),
                f"member: page {pages}": support.load(deep, SECONDS, cookie=cookie),
            })
    figures = {label: support.Load(support.median([r[label].rps for r in rounds]),
                                   support.median([r[label].p50_ms for r in rounds]),
                                   rounds[0][label].tool) for label in rounds[0]}
    tool = figures["bare"].tool
    print(f"load: {tool}, 16 connections, from another process on loopback; median of "
          f"{ROUNDS} interleaved rounds of {SECONDS:.0f} s per figure; load average now "
          f"{os.getloadavg()[0]:.1f}")
    for label, result in figures.items():
        print(f"  {label:<28} {result.rps:8.0f} req/s   p50 {result.p50_ms:6.1f} ms")

    def ratio(a: str, b: str) -> float:
        return support.median([r[a].rps / r[b].rps for r in rounds])

    checks = [
        (f"page {pages} / page 1", ratio(f"page {pages}", "page 1"), 0.9, "x"),
        (f"cache off: page {pages}s / page 1", ratio(f"cache off: pages 1-{pages}",
                                                     "cache off: page 1"), 0.9, "x"),
        ("cache off: page 1 / bare endpoint", ratio("cache off: page 1", "bare"), None, "%"),
        (f"member: page {pages} / page 1", ratio(f"member: page {pages}", "member: page 1"),
         0.9, "x"),
        ("page 1 / bare endpoint", ratio("page 1", "bare"), 0.2, "%"),
        ("member: page 1 / bare endpoint", ratio("member: page 1", "bare"), None, "%"),
    ]
    for label, value, budget, unit in checks:
        shown = f"{value:6.1%}" if unit == "%" else f"{value:6.2f}x"
        verdict = "" if budget is None else (
            f"  (budget >= {budget:.0%}: " if unit == "%" else f"  (budget >= {budget}: ") + (
            "met)" if value >= budget else "MISSED)")
        print(f"{label:<34} {shown}{verdict}")


if __name__ == "__main__":
    main()
