"""Registry search at scale: facet counts, matching, full-text search and the browse page
over generated registries of several sizes, on SQLite and PostgreSQL, side by side so
growth is visible. Rounds are interleaved (every size and database in each round);
medians of wall time and of this process's CPU time, the load average, and the budget
(DESIGN.md §6, issue 15: facets and matching <= 30 ms at 20,000 records, <= 60 ms at
200,000) beside each figure.

The data is generated in bulk once per size and database and kept: SQLite files under
/tmp/hub-bench-registry/ (--data-dir), PostgreSQL databases hub_registry_bench_<size> on
BENCH_PG_URL (--pg-prefix names them otherwise: one engineer's branch, with its own
migrations, does not upgrade another's databases).
Records are built by the same code as the services (`actions.validate`, `write_values`,
the facet and full-text index functions) and inserted many rows at a time.

    .venv/bin/python bench/bench_registry.py                      # 20,000 and 200,000
    .venv/bin/python bench/bench_registry.py --quick              # 2,000 and 20,000, 3 rounds
    .venv/bin/python bench/bench_registry.py --sizes 20000 --databases sqlite
    .venv/bin/python bench/bench_registry.py --rebuild            # generate the data again
    .venv/bin/python bench/bench_registry.py --pg-prefix hub_mine_ --data-dir /tmp/mine
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from hub import clock, create_app, seed  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.models import Member, MemberStatus, Role  # noqa: E402
from hub.registry import (  # noqa: E402
    actions,
    bitsets,
    fields,
    match_keys,
    matching,
    search,
    tallies,
)
from hub.registry.kinds import KINDS  # noqa: E402
from hub.registry.models import MODELS, Facet, Need, Record  # noqa: E402

DATA_DIR = Path("/tmp/hub-bench-registry")
PG_PREFIX = "hub_registry_bench_"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/")
WORDS = ("biosafety risk assessment detection laboratory maize cotton regulators training "
         "customs sampling awareness radio liability redress framework guidance protocol "
         "socio-economic consultation inspection ports seeds "
         "evaluation mission synthesis network capacity").split()
COUNTRIES = ["KE", "UG", "TZ", "GH", "NG", "BF", "AR", "UY", "PY", "BR", "MX", "IN", "JP",
             "UA", "MD", "FR", "DE", "ZA", "EG", "PE"]
BATCH = 5000


def record_data(rng: random.Random, n: int, themes: list[str]) -> tuple[str, dict]:
    """The n-th generated record: its kind and its fields as a form would send them."""
    kind = ("projects", "opportunities", "needs", "resources", "reports")[n % 5]
    words = " ".join(rng.choice(WORDS) for _ in range(30))
    words += " " + " ".join(f"term{rng.randint(0, 5000)}" for _ in range(10))
    if rng.random() < 0.01:  # the rare words a reader looks for
        words += " accreditation and proficiency testing"
    data: dict = {"thematic_areas": rng.sample(themes, 2)}
    if kind == "needs":
        data.update(country=rng.choice(COUNTRIES), needs=[words[:200], words[200:]])
    else:
        data["title"] = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize()
    if kind == "projects":
        year = rng.randint(2010, 2024)
        data.update(countries=rng.sample(COUNTRIES, 2), objectives=words,
                    status=rng.choice(["planned", "ongoing", "completed"]),
                    start_date=f"{year}-01-01", end_date=f"{year + 2}-06-30")
    elif kind == "opportunities":
        data.update(type=rng.choice(["funding", "training", "scholarship"]),
                    eligibility=words, regions=[rng.choice(["africa", "grulac"])])
    elif kind == "resources":
        data.update(type="manual", abstract=words, language=rng.choice(["en", "es"]))
    elif kind == "reports":
        data.update(type="evaluation", organization=rng.choice(["UNEP", "FAO", "GEF"]),
                    keywords=words.split()[:5])
    return kind, data


def _row(table: sa.Table, obj: Any) -> dict:
    row = {}
    for col in table.columns:
        if col.key == "search_vector":
            continue
        value = getattr(obj, col.key, None)
        if value is None and col.default is not None:
            value = col.default.arg(None) if col.default.is_callable else col.default.arg
        row[col.key] = value
    return row


def _prepared(size: int) -> Iterator[dict[str, list[dict]]]:
    """The rows of `size` generated records, a batch at a time; kept under DATA_DIR, so
    that the second database and later runs do not build them again."""
    path = DATA_DIR / f"rows-{size}.pickle"
    if path.exists():
        with path.open("rb") as fh:
            for _n in range(0, size, BATCH):
                yield pickle.load(fh)
        return
    owner = Member(id=0, email="bench@example.org", name="Bench",
                   organization="Bench institute")
    vocab = fields.Vocabulary.load()
    themes = list(vocab.by_slug)
    rng = random.Random(7)
    now = clock.now()
    batch: dict[str, list[dict]] = {}
    with (DATA_DIR / "rows.tmp").open("wb") as fh:
        for n in range(size):
            kind_name, data = record_data(rng, n, themes)
            kind = KINDS[kind_name]
            record = MODELS[kind_name](id=n + 1, state="published")
            record.owner = owner
            actions.write_values(record, kind, actions.validate(kind, data, vocab))
            record.updated_at = record.created_at = record.published_at = (
                now - timedelta(minutes=rng.randint(0, 5 * 365 * 24 * 60)))
            for table in (Record.__table__, MODELS[kind_name].__table__):
                batch.setdefault(table.name, []).append(_row(table, record))
            batch.setdefault("facet", []).extend(
                {"record_id": record.id, "name": k, "value": v[:200]}
                for k, v in sorted(search.facet_values(record)))
            title, body = search.search_text(record, vocab)
            batch.setdefault("text", []).append({"id": record.id, "title": title, "body": body})
            if n % BATCH == BATCH - 1 or n == size - 1:
                pickle.dump(batch, fh)
                yield batch
                batch = {}
    (DATA_DIR / "rows.tmp").rename(path)


def _fill(size: int) -> None:
    """`size` published records, inserted in bulk with their facets, facet counts, match
    keys and full-text entries."""
    owner = Member(email="bench@example.org", name="Bench", role=Role.SECRETARIAT,
                   status=MemberStatus.ACTIVE, organization="Bench institute")
    db.session.add(owner)
    db.session.commit()
    postgres = db.engine.dialect.name == "postgresql"
    texts = sa.Table("bench_text", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("title", sa.Text), sa.Column("body", sa.Text),
                     prefixes=["TEMPORARY"])
    if postgres:
        texts.create(db.session.connection())
    done = 0
    for batch in _prepared(size):
        for row in batch[Record.__table__.name]:
            row["owner_id"] = owner.id
        done += len(batch["text"])
        _insert(batch, texts, postgres)
        print(f"  {done} records", end="\r", flush=True)
    if postgres:
        from hub.fulltext import PG_CONFIG

        db.session.execute(sa.text(
            "UPDATE registry_record r SET search_vector = "
            f"setweight(to_tsvector('{PG_CONFIG}', t.title), 'A') || "
            f"setweight(to_tsvector('{PG_CONFIG}', t.body), 'B') FROM bench_text t "
            "WHERE t.id = r.id"))
        texts.drop(db.session.connection())
        db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('registry_record', "
                                   "'id'), (SELECT max(id) FROM registry_record))"))
    tallies.rebuild()
    match_keys.rebuild()
    bitsets.rebuild()
    db.session.execute(sa.text("CREATE TABLE bench_done (records INTEGER)"))
    db.session.execute(sa.text("INSERT INTO bench_done VALUES (:n)"), {"n": size})
    db.session.commit()
    # What autovacuum does soon after a bulk load: fresh statistics for the planner.
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def _insert(batch: dict[str, list[dict]], texts: sa.Table, postgres: bool) -> None:
    tables = {t.name: t for t in [Record.__table__, *(m.__table__ for m in MODELS.values())]}
    db.session.execute(sa.insert(Record.__table__), batch.pop(Record.__table__.name))
    for name, rows in batch.items():
        if name in tables:
            db.session.execute(sa.insert(tables[name]), rows)
    db.session.execute(sa.insert(Facet), batch["facet"])
    if postgres:
        db.session.execute(sa.insert(texts), batch["text"])
    else:
        db.session.execute(sa.text("INSERT INTO registry_record_fts (rowid, title, body) "
                                   "VALUES (:id, :title, :body)"), batch["text"])
    db.session.commit()


_REBUILT: set[int] = set()


def database_url(engine: str, size: int, rebuild: bool) -> str:
    DATA_DIR.mkdir(exist_ok=True)
    if rebuild and size not in _REBUILT:  # the rows once, for every database
        _REBUILT.add(size)
        (DATA_DIR / f"rows-{size}.pickle").unlink(missing_ok=True)
    if engine == "sqlite":
        path = DATA_DIR / f"registry-{size}.sqlite3"
        if rebuild and path.exists():
            path.unlink()
        return f"sqlite:///{path}"
    name = f"{PG_PREFIX}{size}"
    admin = sa.create_engine(PG_URL + "postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if rebuild:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                           {"n": name}):
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return PG_URL + name


def dataset(engine: str, size: int, rebuild: bool = False) -> Any:
    """An app bound to a registry of `size` generated records (made on first use)."""
    from flask_migrate import upgrade

    url = database_url(engine, size, rebuild)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "SECRET_KEY": "bench", "HUB_BASE_URL": "http://bench.test"})
    with app.app_context():
        upgrade()
        seed.ensure_reference_data()
        done = sa.inspect(db.engine).has_table("bench_done") and db.session.scalar(
            sa.text("SELECT records FROM bench_done"))
        if done != size:
            print(f"{engine}: generating {size} records ...", flush=True)
            started = time.perf_counter()
            _fill(size)
            took = time.perf_counter() - started
            print(f"{engine}: {size} records in {took:.0f} s ({size / took:.0f}/s)")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Record)) == size
        if not bitsets.built():  # data generated before migration 0020
            started = time.perf_counter()
            bitsets.rebuild()
            db.session.commit()
            print(f"{engine}: bitsets of {size} records in {time.perf_counter() - started:.0f} s")
    return app


def operations(app: Any) -> dict[str, Callable[[], Any]]:
    """What is timed, by name; the first five have the budget."""
    client = app.test_client()
    with app.app_context():
        need_id = db.session.scalar(sa.select(Need.id).order_by(Need.id).limit(1))

    def need_matches() -> Any:
        return matching.matches_for(None, db.session.get(Need, need_id))

    def page(url: str) -> Callable[[], Any]:
        def get() -> None:
            assert client.get(url).status_code == 200
        return get

    F = search.Filters
    return {
        "facets: all records (pre-counted)": lambda: search.facet_counts(None, F()),
        "facets: projects, country KE": lambda: search.facet_counts(
            None, F(kind="projects", facets={"country": ("KE",)})),
        "facets: text 'maize' + country KE": lambda: search.facet_counts(
            None, F(q="maize", facets={"country": ("KE",)})),
        "facets: rare text (1% of records)": lambda: search.facet_counts(
            None, F(q="accreditation proficiency")),
        "matching: one need's matches": need_matches,
        "full text, rare words, first page": lambda: search.results(
            None, F(q="accreditation proficiency")),
        "full text, a common word, first page": lambda: search.results(None, F(q="biosafety")),
        "count, rare words": lambda: search.count(None, F(q="accreditation proficiency")),
        "page /registry/projects/?q=maize&country=KE": page(
            "/registry/projects/?q=maize&country=KE"),
        "page /registry/ (no filter)": page("/registry/"),
    }


BUDGETED = 5


def budget(size: int) -> float | None:
    if size <= 20000:
        return 30.0
    if size <= 200000:
        return 60.0
    return None


def main() -> None:
    global DATA_DIR, PG_PREFIX
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="2,000 and 20,000; 3 rounds")
    parser.add_argument("--rebuild", action="store_true", help="generate the data again")
    parser.add_argument("--pg-prefix", default=PG_PREFIX,
                        help="PostgreSQL databases are <prefix><size>")
    parser.add_argument("--data-dir", default=str(DATA_DIR),
                        help="where the generated rows and SQLite files are kept")
    args = parser.parse_args()
    DATA_DIR, PG_PREFIX = Path(args.data_dir), args.pg_prefix
    sizes = [2000, 20000] if args.quick else [int(s) for s in args.sizes.split(",")]
    rounds = 3 if args.quick else args.rounds
    setups = [(e, s) for e in args.databases.split(",") for s in sizes]
    apps = {key: dataset(*key, rebuild=args.rebuild) for key in setups}
    ops = {key: operations(app) for key, app in apps.items()}
    names = list(next(iter(ops.values())))
    wall: dict[tuple, list[float]] = {}
    cpu: dict[tuple, list[float]] = {}
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    for _round in range(rounds + 1):  # the first round warms caches and is not counted
        for key, app in apps.items():
            with app.app_context():
                for name in names:
                    w0, c0 = time.perf_counter(), time.process_time()
                    ops[key][name]()
                    w, c = time.perf_counter() - w0, time.process_time() - c0
                    db.session.rollback()
                    if _round:
                        wall.setdefault((key, name), []).append(w * 1000)
                        cpu.setdefault((key, name), []).append(c * 1000)
    load = os.getloadavg()[0]
    print(f"load average after: {load:.1f}; {rounds} interleaved rounds, medians in ms, "
          "wall / CPU of this process (PostgreSQL's own CPU is not in the second figure)")
    for engine in args.databases.split(","):
        head = "".join(f"{s:>17,}" for s in sizes)
        print(f"\n{engine:<44}{head}   budget (per size)")
        for i, name in enumerate(names):
            cells = ""
            verdicts = []
            for size in sizes:
                w = statistics.median(wall[((engine, size), name)])
                c = statistics.median(cpu[((engine, size), name)])
                cells += f"{w:>9.1f} /{c:>6.1f}"
                limit = budget(size) if i < BUDGETED else None
                if limit is not None:
                    verdicts.append(f"{limit:.0f}: " + (
                        "met" if w <= limit else "not met" if c > limit
                        else f"not shown at load {load:.0f}"))
            print(f"{name:<44}{cells}   {'; '.join(verdicts) or 'no stated budget'}")


if __name__ == "__main__":
    main()
