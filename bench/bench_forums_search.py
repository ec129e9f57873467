"""Forum search at two sizes side by side: p50 / p95 of `forums.search.search` (access,
the full-text query, loading the hits, snippets) over 100,000 and 1,000,000 generated
posts, for a rare word, two common words, a phrase, and two common words newest first on
one board, as an anonymous reader (a closed board's posts must never come back). Budget:
p95 <= 25 ms at every size.

The sizes are measured in interleaved rounds (size A, size B, size A, ...), each round
every query; the figures are over all rounds, with the load average of each round, so a
busy moment of the machine hits both sizes alike. Beside the wall-clock figures, what
does not depend on the load: the median CPU time of a search (this process, plus on
PostgreSQL the server processes serving it, read from /proc), and the database's own
account of one search: on PostgreSQL its statements under EXPLAIN (ANALYZE, BUFFERS)
(time and 8 kB buffers touched; --plans prints the plans), on SQLite the CPU time of its
statements run again and their virtual-machine instructions. A reference loop's CPU time
is printed to compare machines.

    .venv/bin/python bench/bench_forums_search.py [--sizes 100000,1000000] [--rounds 5]
    .venv/bin/python bench/bench_forums_search.py --quick   # 3 rounds of 8 searches
    HUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/hub_search \\
        .venv/bin/python bench/bench_forums_search.py  # one schema per size in that database

Generating is bulk SQL (executemany, the index built in one statement), then VACUUM
ANALYZE. SQLite databases are kept under /tmp (hub-bench-search-N.sqlite3) and PostgreSQL
schemas (bench_N) between runs: a second run starts measuring at once (--fresh makes them
again); 1,000,000 posts take about 17 minutes to make on a busy 2-core machine.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import forums_support as support  # noqa: E402

PER_TOPIC = 50
BUDGET_MS = 25.0
VERSION = 2  # of the generated data: a cached database of another version is made again
BOARDS = [("board-0", "public"), ("board-1", "public"), ("board-2", "members"),
          ("board-3", "members"), ("board-4", "public"), ("closed", "group")]
RARE = "accreditation"
SECRET = "zanzibarite"  # only on the closed board: an anonymous search must find nothing

QUERIES = [
    ("a rare word", RARE, None),
    ("two common words", "maize detection", None),
    ('a phrase "risk assessment"', '"risk assessment"', None),
    ("two common words, newest first, one board", "maize detection", "board-1"),
    ("one very common word", "biosafety", None),
]


def _vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Zipf-distributed words, the domain's words among the frequent ones, and their
    cumulative weights."""
    syllables = ["ba", "ko", "ri", "ta", "me", "lu", "si", "no", "de", "fa", "gu", "pe"]
    made = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
            for _ in range(6000)}
    words = support.WORDS + sorted(made)
    weights = [1 / (rank + 8) for rank in range(len(words))]
    return words, list(itertools.accumulate(weights))  # what `choices` would sum each call


def _url(base: str | None, size: int) -> str:
    if base:
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}options=-csearch_path%3Dbench_{size}"
    return f"sqlite:////tmp/hub-bench-search-{size}.sqlite3"


def _ready(url: str, size: int) -> bool:
    """Whether the database at `url` holds this version's `size` posts."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT value FROM bench_marker")).scalar()
        return found == f"{VERSION}:{size}"
    except Exception:
        return False
    finally:
        engine.dispose()


def _reset(base: str | None, size: int) -> None:
    from sqlalchemy import create_engine, text

    if base:
        engine = create_engine(base)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS bench_{size} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA bench_{size}"))
        engine.dispose()
    else:
        Path(f"/tmp/hub-bench-search-{size}.sqlite3").unlink(missing_ok=True)


def generate(url: str, size: int, seed: int = 11) -> float:
    """`size` posts in topics of PER_TOPIC on BOARDS, indexed; returns the seconds taken."""
    from sqlalchemy import text

    from hub import clock, fulltext
    from hub.extensions import db

    started = time.perf_counter()
    rng = random.Random(seed)
    app = support.make_app(url)
    with app.app_context():
        authors = [support.member(f"author{i}@example.org", f"Author {i}").id
                   for i in range(50)]
        from sqlalchemy import insert

        from forums.models import Board, Post, Topic
        from hub.models import Group

        group = Group(slug="closed", name="Closed")
        db.session.add(group)
        db.session.flush()
        boards = [Board(slug=slug, name=slug, visibility=visibility, posting="all",
                        group_id=group.id if visibility == "group" else None)
                  for slug, visibility in BOARDS]
        db.session.add_all(boards)
        db.session.commit()
        board_ids = [b.id for b in boards]
        words, weights = _vocabulary(rng)
        now = clock.now()
        topics = size // PER_TOPIC
        db.session.execute(insert(Topic.__table__), [
            {"board_id": board_ids[t % len(BOARDS)], "author_id": authors[t % 50],
             "title": " ".join(rng.choices(words, cum_weights=weights, k=6)).capitalize(),
             "created_at": now, "last_post_at": now, "post_count": PER_TOPIC,
             "pinned": False, "locked": False, "status": "published",
             "last_position": PER_TOPIC, "revision": 0, "change_seq": 0}
            for t in range(topics)])
        topic_rows = db.session.execute(text("SELECT id, board_id FROM topic ORDER BY id")).all()
        closed = board_ids[-1]
        batch = []
        for n in range(size):
            topic_id, board_id = topic_rows[n // PER_TOPIC]
            text_words = rng.choices(words, cum_weights=weights, k=rng.randint(30, 90))
            if rng.random() < 0.0004:  # the rare word someone looks for
                text_words.insert(rng.randint(0, len(text_words)), RARE)
            if board_id == closed and n % 7 == 0:
                text_words.insert(0, SECRET)
            body = " ".join(text_words).capitalize() + "."
            position = n % PER_TOPIC + 1
            batch.append({"topic_id": topic_id, "author_id": authors[n % 50], "body": body,
                          "html": f"<p>{body}</p>", "status": "published", "source": "web",
                          "kind": "post", "position": position,
                          "thread_key": f"{position:08d}", "depth": 0, "created_at": now,
                          "elided": "", "reject_reason": "", "change_seq": 0,
                          "published_seq": 0})
            if len(batch) == 20000:
                db.session.execute(insert(Post.__table__), batch)
                batch = []
        if batch:
            db.session.execute(insert(Post.__table__), batch)
        db.session.commit()
        conn = db.session.connection()
        dialect = conn.dialect.name
        raw = conn.connection.dbapi_connection
        mark = "?" if dialect == "sqlite" else "%s"
        cur = raw.cursor()
        # The index, as `search.write_index` would write it: these texts are ASCII, so
        # folding them is lower-casing (the first post of a topic carries its title).
        if dialect == "postgresql":
            cur.execute("DROP INDEX IF EXISTS ix_forum_post_fts_search_vector")
            cur.execute(
                "INSERT INTO forum_post_fts (post_id, search_vector) SELECT post.id, "
                f"setweight(to_tsvector('{fulltext.PG_CONFIG}', CASE WHEN post.position = 1 "
                f"THEN lower(topic.title) ELSE '' END), 'A') || setweight(to_tsvector("
                f"'{fulltext.PG_CONFIG}', lower(post.body)), 'B') FROM post JOIN topic ON "
                "topic.id = post.topic_id ORDER BY post.id")
            cur.execute("SET maintenance_work_mem = '256MB'")  # a GIN index of 1M rows
            cur.execute("CREATE INDEX ix_forum_post_fts_search_vector ON forum_post_fts "
                        "USING gin (search_vector)")
        else:
            cur.execute(
                "INSERT INTO forum_post_fts (rowid, title, body) SELECT post.id, CASE WHEN "
                "post.position = 1 THEN lower(topic.title) ELSE '' END, lower(post.body) "
                "FROM post JOIN topic ON topic.id = post.topic_id ORDER BY post.id")
            cur.execute("INSERT INTO forum_post_fts (forum_post_fts) VALUES ('optimize')")
        # One grouped pass, not a correlated query per topic (PostgreSQL would scan the
        # posts once per topic: their topic index is on (topic_id, ...) but unanalyzed).
        cur.execute("UPDATE topic SET last_post_id = last.id FROM (SELECT topic_id, "
                    "max(id) AS id FROM post GROUP BY topic_id) AS last "
                    "WHERE last.topic_id = topic.id")
        cur.execute("CREATE TABLE bench_marker (value VARCHAR(40))")
        cur.execute(f"INSERT INTO bench_marker VALUES ({mark})", (f"{VERSION}:{size}",))
        raw.commit()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    _vacuum(url)
    return time.perf_counter() - started


def _vacuum(url: str) -> None:
    """VACUUM ANALYZE (PostgreSQL; ANALYZE on SQLite): statistics for the planner and, on
    PostgreSQL, the visibility map that index-only scans need, as autovacuum would leave
    them after a bulk load."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql"
                          else "ANALYZE"))
    engine.dispose()


class Size:
    """One generated database, an app on it, and what its searches cost."""

    def __init__(self, url: str, size: int) -> None:
        from sqlalchemy import select

        from forums.models import Board
        from hub.extensions import db

        self.size = size
        self.app = support.make_app(url)
        with self.app.app_context():
            self.boards = {b.slug: b.id for b in db.session.scalars(select(Board))}
            self.work = support.Work(db.engine)
        self.runs: dict[str, list[float]] = {label: [] for label, _q, _b in QUERIES}
        self.cpu: dict[str, list[float]] = {label: [] for label, _q, _b in QUERIES}
        self.here: dict[str, list[float]] = {label: [] for label, _q, _b in QUERIES}
        self.account: dict[str, dict[str, float]] = {}
        self.shown: dict[str, int] = {}

    def _filters(self, q: str, board: str | None) -> Any:
        from forums import search
        from forums.models import Board
        from hub.extensions import db

        return search.Filters(q=q, board=db.session.get(Board, self.boards[board])
                              if board else None)

    def round(self, runs: int) -> None:
        from forums import search
        from hub.extensions import db

        with self.app.app_context(), self.app.test_request_context():
            leaked = search.search(None, search.Filters(q=SECRET))[0]
            assert not leaked, "a closed board's post came back to an anonymous reader"
            for label, q, board in QUERIES:
                f = self._filters(q, board)
                self.shown[label] = len(search.search(None, f)[0])  # warm
                db.session.remove()
                for _ in range(runs):
                    # A request's session: fresh each time, as `hub serve` has it.
                    cpu, here = self.work.cpu_ns(), time.process_time_ns()
                    started = time.perf_counter()
                    search.search(None, f)
                    self.runs[label].append((time.perf_counter() - started) * 1000)
                    self.here[label].append((time.process_time_ns() - here) / 1e6)
                    self.cpu[label].append((self.work.cpu_ns() - cpu) / 1e6)
                    db.session.remove()

    def explain(self, show: bool) -> None:
        """The database's account of one search per query (after the rounds: warm)."""
        from forums import search
        from hub.extensions import db

        with self.app.app_context(), self.app.test_request_context():
            for label, q, board in QUERIES:
                f = self._filters(q, board)
                self.account[label] = self.work.account(
                    db.session, lambda f=f: search.search(None, f))
                db.session.remove()
                if show:
                    print(f"--- {self.size:,} posts: {label}")
                    for plan in self.work.plans(db.session,
                                                lambda f=f: search.search(None, f)):
                        print(plan)
                    db.session.remove()


def _account(figures: dict[str, float]) -> str:
    if "vm_steps" in figures:
        return (f"{figures['db_cpu_ms']:.1f} ms cpu, {figures['vm_steps'] / 1000:,.0f}k VM "
                f"steps, {figures['statements']:.0f} stmts")
    return (f"{figures['db_ms']:.1f} ms, {figures['buffers']:,.0f} bufs, "
            f"{figures['statements']:.0f} stmts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "100000,1000000"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "20")),
                        help="searches per query per round")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 8 searches")
    parser.add_argument("--fresh", action="store_true", help="generate the data again")
    parser.add_argument("--plans", action="store_true",
                        help="print every statement's plan (EXPLAIN ANALYZE on PostgreSQL)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.runs = 3, 8
    base = os.environ.get("HUB_DATABASE_URL") or None
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(support.machine())
    print(support.reference_cpu())
    for size in sizes:
        url = _url(base, size)
        if args.fresh or not _ready(url, size):
            _reset(base, size)
            took = generate(url, size)
            print(f"generated {size} posts in {took:.0f} s ({size / took:.0f} posts/s)")
    measured = [Size(_url(base, size), size) for size in sizes]
    loads = []
    for number in range(args.rounds):
        for one in measured:
            one.round(args.runs)
        loads.append(os.getloadavg()[0])
        print(f"round {number + 1}: load {loads[-1]:.1f}")
    for one in measured:
        one.explain(args.plans)
    dialect = "postgresql" if base else "sqlite"
    where = ("this process + its PostgreSQL server processes; (here) this process alone"
             if base else "this process")
    print(f"{dialect}: {args.rounds} interleaved rounds of {args.runs} searches per query, "
          f"an anonymous reader; load average {min(loads):.1f}-{max(loads):.1f} on "
          f"{os.cpu_count()} cores")
    print(f"  wall: p50 / p95 ms (budget p95 <= {BUDGET_MS:.0f} ms); cpu: median ms of CPU "
          f"({where}; budget <= {BUDGET_MS:.0f} ms)")
    print("  db: the database's account of one search, "
          + ("EXPLAIN (ANALYZE, BUFFERS) summed over its statements" if base
             else "its SELECTs' CPU time run again, and virtual-machine instructions "
                  "(SQLite runs in this process: cpu includes it)"))
    width = 34
    header = "".join(f" | {s.size:>{width - 6},} posts" for s in measured)
    print(f"{'query':<52}{header}")
    missed, over = [], []
    for label, q, _board in QUERIES:
        counted = label != "one very common word"
        walls, cpus, dbs = "", "", ""
        for one in measured:
            p50 = support.percentile(one.runs[label], 50)
            p95 = support.percentile(one.runs[label], 95)
            cpu = support.median(one.cpu[label])
            mark = "" if not counted else (" ok" if p95 <= BUDGET_MS else " over")
            walls += f" | {f'{p50:.1f} / {p95:.1f}{mark}':<{width}}"
            mark = "" if not counted else (" ok" if cpu <= BUDGET_MS else " over")
            here = f" ({support.median(one.here[label]):.1f} here)" if base else ""
            cpus += f" | {f'{cpu:.1f}{mark}{here}':<{width}}"
            dbs += f" | {_account(one.account[label]):<{width}}"
            if counted and p95 > BUDGET_MS:
                missed.append(f"{label} at {one.size:,}")
            if counted and cpu > BUDGET_MS:
                over.append(f"{label} at {one.size:,}")
        print(f"{label + ' (' + q + ')':<52}{walls}")
        print(f"{'  cpu':<52}{cpus}")
        print(f"{'  db':<52}{dbs}")
    print(f"wall p95 <= {BUDGET_MS:.0f} ms: " + ("met" if not missed else
          f"not shown at load {max(loads):.1f}: " + "; ".join(missed)))
    print(f"cpu <= {BUDGET_MS:.0f} ms per search: " + ("met" if not over
                                                       else "MISSED by " + "; ".join(over)))
    return 0 if not over else 1


if __name__ == "__main__":
    sys.exit(main())
