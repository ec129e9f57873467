"""Fan-out: one post to N subscribers through a real local SMTP server (aiosmtpd, in its
own process), in messages per second, beside the limit: a bare smtplib loop sending
pre-built messages on one connection to the same server. Goal: at least 60% of it.

Usage: python bench/bench_fanout.py [--subscribers 5000] [--rounds 5] [--quick]
                                    [--database-url URL] [--redis-url URL]

The fan-out is the real thing: the post's outbox job, the delivery rows, access and
subscription re-checked at send time, one personalized copy per member (To, Reply-To
token, List-Unsubscribe, footer), a VERP envelope, and a commit per delivery. Then the
first copy's delay: a separate `hub worker` process, woken by the post's commit, through
a local socket (and through Redis with --redis-url), timed by the sink's own clock.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import statistics
import sys

from _setup import make_app, make_members, scratch_database, start_sink, stop, timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternate the two measurements this often; the medians count, "
                             "and the ratio is the median of each round's own ratio")
    parser.add_argument("--database-url", default=None,
                        help="an EMPTY database to use (default: a scratch SQLite file)")
    parser.add_argument("--redis-url", default=None,
                        help="also time the first copy with the worker woken through Redis")
    parser.add_argument("--quick", action="store_true",
                        help="2,000 subscribers, 3 rounds: a minute or two")
    args = parser.parse_args(argv)
    if args.quick:
        args.subscribers, args.rounds = 2000, 3

    sink, port = start_sink()
    try:
        app = make_app(args.database_url or scratch_database(), HUB_SMTP_HOST="127.0.0.1",
                       HUB_SMTP_PORT=port)
        with app.app_context():
            return run(app, args.subscribers, args.rounds, port, args.redis_url)
    finally:
        stop(sink)


BODY = ("Dear colleagues,\n\nThe draft guidance on **risk assessment** of drought-tolerant "
        "maize is open for comments until Friday. Please read sections 2 and 3 in "
        "particular.\n\n- field trial design\n- comparators\n\nBest regards,\nAmina\n") * 2


def run(app, subscribers: int, rounds: int, port: int,  # noqa: ANN001
        redis_url: str | None) -> int:
    from sqlalchemy import insert, text

    from forums import services as forums
    from forums.models import Board, Subscription
    from hub import clock, jobs
    from hub.extensions import db
    from hub.models import Member
    from listserv.models import Delivery
    from listserv.outbound import PreparedPost, Reader
    from listserv.services import post_mail

    board = Board(slug="risk", name="Risk assessment", visibility="members", posting="all")
    db.session.add(board)
    db.session.commit()
    ids = make_members(subscribers)
    now = clock.now()
    db.session.execute(insert(Subscription), [
        {"member_id": i, "board_id": board.id, "mode": "each", "created_at": now}
        for i in ids])
    db.session.commit()
    # Planner statistics, as autovacuum keeps them on a live database: without them
    # PostgreSQL takes the fresh tables for empty and joins them in a nested loop.
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    author = db.session.get(Member, make_members(1, prefix="author")[0])
    members = db.session.scalars(db.select(Member).where(Member.id.in_(ids))).all()

    bare_rates: list[float] = []
    rates: list[float] = []
    size = 0
    for number in range(1, rounds + 1):
        post = forums.create_topic(author, board, f"Draft guidance, round {number}", BODY)
        # The limit: the same server, one connection, every copy built beforehand.
        prepared = PreparedPost(post_mail(post, post.topic, board))
        messages = [(m.email, prepared.copy_for(Reader(m.id, m.email, m.name, m.language)))
                    for m in members]
        size = len(messages[0][1])

        def bare(messages: list[tuple[str, bytes]] = messages) -> None:
            with smtplib.SMTP("127.0.0.1", port) as conn:
                for email, data in messages:
                    conn.sendmail("bounces@lists.bench", [email], data)

        _, bare_seconds = timed(bare)
        bare_rates.append(len(messages) / bare_seconds)

        # The real thing: outbox job, delivery rows, checks, personal copies, records.
        _, seconds = timed(lambda: jobs.run_pending(max_rounds=1000))
        sent = db.session.scalar(db.select(db.func.count(Delivery.id)).where(
            Delivery.post_id == post.id, Delivery.status == "sent"))
        if sent != subscribers:
            print(f"ERROR: {subscribers - sent} copies were not sent", file=sys.stderr)
            return 1
        rates.append(sent / seconds)
        print(f"round {number}: bare {bare_rates[-1]:6.0f}/s, fan-out {rates[-1]:6.0f}/s "
              f"({seconds:.2f} s), ratio {rates[-1] / bare_rates[-1]:.0%}, "
              f"load {os.getloadavg()[0]:.1f}")

    firsts = {how: first_copies(app, author, board, port, subscribers, url)
              for how, url in (("a local socket", ""), ("Redis", redis_url)) if url is not None}
    # Medians, never the best round: a busy machine makes the best round a lucky one.
    median = statistics.median(r / b for r, b in zip(rates, bare_rates, strict=True))
    print(f"load average:           {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(other work on the machine slows the fan-out more than the bare loop)")
    print(f"database:               {db.engine.dialect.name}")
    print(f"subscribers:            {subscribers}")
    print(f"message size:           {size} bytes")
    print(f"bare smtplib loop:      {statistics.median(bare_rates):8.0f} messages/s  "
          f"(pre-built, one connection; median of {rounds} rounds, "
          f"{min(bare_rates):.0f}-{max(bare_rates):.0f})")
    print(f"listserv fan-out:       {statistics.median(rates):8.0f} messages/s  (outbox to "
          f"SMTP; median of {rounds} rounds, {min(rates):.0f}-{max(rates):.0f})")
    print(f"ratio:                  {median:8.0%}  (goal: at least 60%; the median of the "
          "rounds' ratios, each side measured back to back)")
    for how, (cold, warm) in firsts.items():
        print(f"first copy, {how + ':':17s}{warm:6.2f} s after the post's commit, accepted "
              f"by the SMTP server from a separate running `hub worker` woken through {how} "
              f"(goal: at most 1 s); {cold:.2f} s from a worker that had just started")
    return 0


def first_copies(app, author, board, port: int, subscribers: int,  # noqa: ANN001
                 redis_url: str) -> tuple[float, float]:
    """Seconds from a post's commit to its first copy accepted by the SMTP server, sent by
    `hub worker` in its own process, woken through `redis_url` or (when empty) a local
    socket: for the first post the worker sees after it started, then for the next."""
    import subprocess
    import threading
    import time

    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from forums import services as forums
    from hub.extensions import db
    from hub.live_channel import channel_dir
    from listserv.models import Delivery

    sink, sink_port = start_sink(timestamps=True)
    accepted: list[float] = []
    threading.Thread(target=lambda: accepted.extend(float(line) for line in sink.stdout),
                     daemon=True).start()
    commits: list[float] = []
    env = {**os.environ, "HUB_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HUB_SECRET_KEY": app.config["SECRET_KEY"], "HUB_SMTP_HOST": "127.0.0.1",
           "HUB_SMTP_PORT": str(sink_port), "HUB_REDIS_URL": redis_url,
           "HUB_WORKER_POLL_SECONDS": "60", "HUB_BASE_URL": app.config["HUB_BASE_URL"],
           "HUB_MAIL_DOMAIN": app.config["HUB_MAIL_DOMAIN"]}
    worker = subprocess.Popen([sys.executable, "-c", "from hub.cli import main; main()",
                               "worker"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    # This process posts as `hub serve` does, and wakes the worker the same way.
    app.config.update(HUB_LIVE_LOCAL=True, HUB_REDIS_URL=redis_url or None)

    def committed(_session: object) -> None:
        commits.append(time.time())

    event.listen(Session, "after_commit", committed)
    try:
        directory = channel_dir(app.instance_path, app.config["SQLALCHEMY_DATABASE_URI"],
                                app.config.get("HUB_SOCKETIO_CHANNEL") or "hub-socketio")
        while not redis_url and not list(directory.glob(f"wake-{worker.pid}.sock")):
            if worker.poll() is not None:
                raise SystemExit("hub worker exited")
            time.sleep(0.05)
        time.sleep(2)  # started, and waiting for work
        figures = []
        for title in ("Timed, first", "Timed, next"):
            before = time.time()
            post = forums.create_topic(author, board, title, BODY)
            saved = min(t for t in commits if t >= before)  # the post's own commit
            deadline = time.time() + 60
            while not [t for t in accepted if t >= saved]:
                if time.time() > deadline:
                    raise SystemExit("no copy within 60 s")
                time.sleep(0.01)
            figures.append(min(t for t in accepted if t >= saved) - saved)
            while db.session.scalar(db.select(db.func.count(Delivery.id)).where(
                    Delivery.post_id == post.id, Delivery.status == "sent")) < subscribers:
                db.session.rollback()
                time.sleep(0.2)
            db.session.rollback()
            time.sleep(0.5)  # the worker waits again
        return figures[0], figures[1]
    finally:
        event.remove(Session, "after_commit", committed)
        app.config.update(HUB_LIVE_LOCAL=False, HUB_REDIS_URL=None)
        worker.kill()
        worker.wait(timeout=15)
        stop(sink)

if __name__ == "__main__":
    sys.exit(main())
