"""E-conferences at the size of a large real one: P participants, N contributions over
two rounds, written through the posting service. Prints what the Secretariat and the
worker wait for: compiling the proceedings, publishing them (PDF and text rendered),
the PDF's size and pages, the worker's periodic schedule task over C running
conferences (it runs every round of every worker), and the conference pages.

    .venv/bin/python bench/bench_conferences.py            # SQLite in a temporary file
    BENCH_POSTS=3000 .venv/bin/python bench/bench_conferences.py
    HUB_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/hub_bench_conferences \\
        .venv/bin/python bench/bench_conferences.py      # a database of its own: it is wiped
"""

from __future__ import annotations

import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from hub import clock, create_app, seed  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.models import Member, MemberStatus, Role  # noqa: E402

N = int(os.environ.get("BENCH_POSTS", "1000"))
P = int(os.environ.get("BENCH_PARTICIPANTS", "150"))
C = int(os.environ.get("BENCH_CONFERENCES", "50"))
T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
WORDS = ("biosafety risk assessment detection laboratory maize cotton regulators training "
         "customs sampling awareness liability framework guidance protocol socio-economic "
         "consultation inspection seeds evaluation network capacity uncertainty").split()
COUNTRIES = ["KE", "UG", "GH", "NG", "AR", "UY", "BR", "MX", "IN", "JP", "UA", "FR", "ZA"]


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


def _ms(fn, repeat: int = 1) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    from flask_migrate import upgrade

    from conferences import agenda, editing, participation, proceedings, schedule, services
    from forums import services as forums

    app = create_app({"SQLALCHEMY_DATABASE_URI": _database(), "SECRET_KEY": "bench",
                      "HUB_FLOOD_POSTS": 0, "HUB_PASSWORD_HASH": "pbkdf2:sha256:1000",
                      "HUB_UPLOAD_DIR": tempfile.mkdtemp(), "RATELIMIT_ENABLED": False})
    rng = random.Random(7)
    with app.app_context():
        upgrade()
        seed.ensure_reference_data()
        sec = Member(email="sec@example.org", name="Secretariat", role=Role.SECRETARIAT,
                     status=MemberStatus.ACTIVE)
        mod = Member(email="mod@example.org", name="Moderator", status=MemberStatus.ACTIVE)
        people = [Member(email=f"p{i}@example.org", name=f"Participant {i}",
                         organization=f"Institute {i % 40}", status=MemberStatus.ACTIVE,
                         country=rng.choice(COUNTRIES), region="africa",
                         org_type=rng.choice(["government", "research", "ngo"]))
                  for i in range(P)]
        db.session.add_all([sec, mod, *people])
        db.session.commit()
        clock.freeze(T0)
        conference = editing.create_conference(sec, editing.ConferenceData(
            slug="big", title="A large e-conference", theme="Many voices",
            registration_opens_at=T0, opens_at=T0 + timedelta(days=1),
            closes_at=T0 + timedelta(days=15), moderators=[mod.email]))
        for n in (0, 1):
            agenda.add_round(mod, conference, agenda.RoundData(
                title=f"Round {n + 1}", question="What do you think?",
                opens_at=T0 + timedelta(days=1 + 7 * n),
                closes_at=T0 + timedelta(days=8 + 7 * n)))
        for member in people:
            participation.approve(mod, participation.apply(member, conference, "Count me in.",
                                                           rng.random() < 0.2))
        for _ in range(C - 1):  # other running conferences the worker looks at
            other = editing.create_conference(sec, editing.ConferenceData(
                slug=f"c{rng.randrange(10**9)}", title="Another conference",
                registration_opens_at=T0, opens_at=T0 + timedelta(days=1),
                closes_at=T0 + timedelta(days=15), moderators=[mod.email]))
            agenda.add_round(mod, other, agenda.RoundData(
                title="Only round", question="Q?", opens_at=T0 + timedelta(days=1),
                closes_at=T0 + timedelta(days=15)))
        slug = conference.slug
        clock.freeze(T0 + timedelta(days=1, hours=1))
        first_run = _ms(schedule.run)
        steady = _ms(schedule.run, repeat=20)
        start = time.perf_counter()
        for n in range(N):
            if n == N // 2:
                clock.freeze(T0 + timedelta(days=8, hours=1))
                schedule.run()
            conf = db.session.scalar(db.select(services.Conference).where(
                services.Conference.slug == slug))
            topic = next(r for r in conf.rounds if r.topic_id and r.number ==
                         (1 if n < N // 2 else 2)).topic
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 160)))
            forums.create_reply(rng.choice(people), topic, body.capitalize() + ".")
        posting = (time.perf_counter() - start) * 1000 / N
        clock.freeze(T0 + timedelta(days=16))
        schedule.run()
        conf = db.session.scalar(db.select(services.Conference).where(
            services.Conference.slug == slug))
        compile_ms = _ms(lambda: proceedings.compile_draft(sec, conf))
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            cProfile.runctx("proceedings.publish(sec, conf)", globals(), locals(),
                            "/tmp/bench_publish.prof")
            pstats.Stats("/tmp/bench_publish.prof").sort_stats("cumulative").print_stats(18)
        publish_ms = _ms(lambda: proceedings.publish(sec, conf))
        row = proceedings.get(conf)
        from pypdf import PdfReader

        pages = len(PdfReader(io.BytesIO(row.pdf)).pages)
        client = app.test_client()
        page_ms = {url: _ms(lambda u=url: client.get(u), repeat=5)
                   for url in ("/conferences/", f"/conferences/{slug}",
                               f"/conferences/{slug}/proceedings",
                               f"/conferences/{slug}/proceedings.pdf")}
        stats_ms = _ms(lambda: services.statistics(conf), repeat=5)
        clock.freeze(None)
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")
    print(f"{P} participants, {N} contributions in 2 rounds, {C} running conferences")
    print(f"posting through the service: {posting:.1f} ms per post")
    print(f"schedule.run(): first round (opens {C} conferences, mails queued) {first_run:.0f} ms;"
          f" a quiet round {steady:.1f} ms ({steady / C:.2f} ms per conference)")
    print(f"statistics: {stats_ms:.0f} ms")
    print(f"compile the proceedings: {compile_ms:.0f} ms")
    print(f"publish (PDF + text): {publish_ms:.0f} ms; PDF {len(row.pdf) / 1024:.0f} KB, "
          f"{pages} pages ({publish_ms / max(pages, 1):.1f} ms per page); text "
          f"{len(row.text) / 1024:.0f} KB")
    for url, ms in page_ms.items():
        print(f"GET {url}: {ms:.1f} ms")


if __name__ == "__main__":
    main()
