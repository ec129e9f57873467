"""Registry search at scale: full text (FTS5 / tsvector), facet counts, the browse page
and matching, over N records written through the services (so facets and the index are
real). Prints milliseconds per operation and the ratio of a `LIKE '%x%'` scan to the
indexed search on the same rows.

    .venv/bin/python bench/bench_registry.py            # SQLite in a temporary file
    BENCH_RECORDS=20000 .venv/bin/python bench/bench_registry.py
    HUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/hub_bench_registry \\
        .venv/bin/python bench/bench_registry.py         # a database of its own: it is wiped
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from hub import create_app, seed  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.models import Member, MemberStatus, Role  # noqa: E402
from hub.registry import actions, fields, matching, search  # noqa: E402
from hub.registry.models import Need, Record  # noqa: E402

N = int(os.environ.get("BENCH_RECORDS", "5000"))
WORDS = ("biosafety risk assessment detection laboratory maize cotton regulators training "
         "customs sampling awareness radio liability redress framework guidance protocol "
         "socio-economic consultation inspection ports seeds "
         "evaluation mission synthesis network capacity").split()
COUNTRIES = ["KE", "UG", "TZ", "GH", "NG", "BF", "AR", "UY", "PY", "BR", "MX", "IN", "JP",
             "UA", "MD", "FR", "DE", "ZA", "EG", "PE"]


def _database() -> str:
    url = os.environ.get("HUB_DATABASE_URL")
    if url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return "sqlite:///" + str(Path(tempfile.mkdtemp()) / "bench.sqlite3")


def _fill(rng: random.Random) -> None:
    owner = Member(email="bench@example.org", name="Bench", role=Role.SECRETARIAT,
                   status=MemberStatus.ACTIVE, organization="Bench institute")
    db.session.add(owner)
    db.session.commit()
    vocab = fields.Vocabulary.load()
    themes = list(vocab.by_slug)
    kinds = ["projects", "opportunities", "needs", "resources", "reports"]
    for n in range(N):
        kind = kinds[n % 5]
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
        actions.create_record(owner, kind, data, state="published", vocab=vocab,
                               commit=False, notify=False)
        if n % 500 == 499:
            db.session.commit()
    db.session.commit()
    # What autovacuum does soon after a bulk load: fresh statistics for the planner.
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def _time(label: str, fn, repeat: int = 20) -> float:
    fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
        db.session.rollback()
    ms = statistics.median(runs)
    print(f"{label:<58} {ms:8.2f} ms")
    return ms


def main() -> None:
    url = _database()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "SECRET_KEY": "bench", "HUB_BASE_URL": "http://bench.test"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        seed.ensure_reference_data()
        started = time.perf_counter()
        _fill(random.Random(7))
        took = time.perf_counter() - started
        print(f"{db.engine.dialect.name}: {N} records written through the services in "
              f"{took:.1f} s ({N / took:.0f} records/s)")
        total = db.session.scalar(select(func.count()).select_from(Record))
        assert total == N
        rare = search.Filters(q="accreditation proficiency")
        common = search.Filters(q="biosafety")
        fts = _time("full text, 2 words, first page (20), relevance",
                    lambda: search.results(None, rare))
        _time("full text, a word in every record, first page",
              lambda: search.results(None, common))
        _time("full text + count", lambda: search.count(None, rare))
        _time("facet counts, all records", lambda: search.facet_counts(None, search.Filters()))
        _time("facet counts, text + country filter", lambda: search.facet_counts(
            None, search.Filters(q="maize", facets={"country": ("KE",)})))
        need = db.session.scalar(select(Need).limit(1))
        _time("matches for a need", lambda: matching.matches_for(None, need))
        client = app.test_client()
        _time("browse page /registry/projects/?q=maize&country=KE (HTTP)",
              lambda: client.get("/registry/projects/?q=maize&country=KE"), repeat=10)
        scan = text(
            "SELECT r.id FROM registry_record r "
            "LEFT JOIN registry_project p ON p.id = r.id "
            "LEFT JOIN registry_opportunity o ON o.id = r.id "
            "LEFT JOIN registry_resource s ON s.id = r.id "
            "LEFT JOIN registry_need n ON n.id = r.id "
            "WHERE lower(r.title) LIKE :a OR lower(p.objectives) LIKE :a "
            "OR lower(o.eligibility) LIKE :a OR lower(s.abstract) LIKE :a "
            "OR lower(CAST(n.needs AS TEXT)) LIKE :a ORDER BY r.updated_at DESC LIMIT 20")
        like = _time("the same search as LIKE '%word%' scans (no index)",
                     lambda: list(db.session.execute(scan, {"a": "%proficiency%"})))
        print(f"ratio LIKE scan / indexed search: {like / fts:.1f}x "
              "(the scan grows with the table; the index with the matches)")


if __name__ == "__main__":
    main()
