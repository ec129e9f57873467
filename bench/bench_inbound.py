"""Inbound: email replies per second, from LMTP to a visible post, beside the gateway's
own accept-and-store rate measured in the same run.

Usage: python bench/bench_inbound.py [--replies 300] [--rounds 3] [--connections 4]
                                     [--topics 10] [--gateways 1] [--database-url URL]
                                     [--quick]

`hub gateway` runs as its own process (as in production; `--gateways 2` runs two on the
same ports) on a scratch database; this script plays the MTA: several LMTP connections
deliver. Rounds alternate between two kinds, so that both meet the same machine:

- store: the same messages to the no-reply address; the gateway accepts, stores, judges
  and discards each one (no post): its fixed cost per message.
- post: replies to the per-member Reply-To addresses of the posts of a few topics, each
  with quoted history to trim; a reply is a published post in its topic when its 250
  comes (checked by counting the posts after each round).

Printed: each kind's median rate, the ratio post/store (the median of each round's
ratio to its neighbour), the gateway's CPU time per message (from /proc: it does not
grow with the load average the way the wall clock does, though a busy machine still
slows each instruction), the time from DATA to 250 (to a visible post) at p50/p95, and
the load average. Budget: at least 100 replies/s (DESIGN.md section 6: "hundreds").
"""

from __future__ import annotations

import argparse
import os
import smtplib
import statistics
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP

from _setup import REPO_ROOT, free_port, make_app, make_members, scratch_database

GOAL = 100.0  # replies per second


def compose(sender: str, to: str, n: int) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = "Re: [risk] Draft guidance: comments welcome"
    msg["Message-ID"] = f"<bench-{n}@example.org>"
    msg.set_content(
        f"Reply number {n}: section 2 should say more about comparators.\n\n"
        "Regards,\nA member\n\n"
        "On Mon, 2 Nov 2026 at 10:00, Risk assessment via the hub "
        "<risk@lists.bench> wrote:\n> ## Reply above this line ##\n>\n"
        "> The draft guidance is open for comments until Friday.\n> Please read "
        "sections 2 and 3.\n")
    return msg.as_bytes()


def cpu_seconds(pids: list[int]) -> float:
    """User + system time of the gateway processes so far."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def deliver(port: int, messages: list[tuple[str, str, bytes]], connections: int
            ) -> tuple[float, list[float], list[str]]:
    """Send over `connections` LMTP connections; (seconds, DATA-to-250 times, refusals)."""
    refused: list[str] = []
    latencies: list[float] = []

    def send(part: list[tuple[str, str, bytes]]) -> None:
        with smtplib.LMTP("127.0.0.1", port) as client:
            for sender, to, raw in part:
                started = time.perf_counter()
                try:
                    client.sendmail(sender, [to], raw)
                except smtplib.SMTPException as exc:
                    refused.append(str(exc))
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=send, args=(messages[i::connections],))
               for i in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, refused


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=300, help="messages per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each kind")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--topics", type=int, default=10, help="discussions replied to")
    parser.add_argument("--gateways", type=int, default=1,
                        help="`hub gateway` processes sharing the ports (SO_REUSEPORT)")
    parser.add_argument("--quick", action="store_true", help="100 per round, 2 rounds")
    parser.add_argument("--log", default=None, help="write the gateways' log to this file")
    parser.add_argument("--database-url", default=None,
                        help="an EMPTY database to use (default: a scratch SQLite file)")
    args = parser.parse_args(argv)
    if args.quick:
        args.replies, args.rounds = 100, 2
    url = args.database_url or scratch_database()
    app = make_app(url)
    per_round = args.replies
    with app.app_context():
        from forums import services as forums
        from forums.models import Board, Post
        from hub.extensions import db
        from hub.models import Member
        from listserv import addresses

        board = Board(slug="risk", name="Risk assessment", visibility="members",
                      posting="all")
        db.session.add(board)
        db.session.commit()
        authors = make_members(max(1, per_round // 5), prefix="author")
        firsts = [forums.create_topic(db.session.get(Member, authors[0]), board,
                                      f"Draft guidance, part {n + 1}", "Comments, please.")
                  for n in range(args.topics)]
        emails = dict(db.session.execute(db.select(Member.id, Member.email)
                                         .where(Member.id.in_(authors))).all())
        noreply = f"{addresses.NOREPLY}@{addresses.domain()}"
        rounds: list[tuple[str, list[tuple[str, str, bytes]]]] = []
        n = 0
        for r in range(args.rounds):
            kinds = ("store", "post") if r % 2 == 0 else ("post", "store")
            for kind in kinds:
                batch = []
                for _ in range(per_round):
                    member_id = authors[n % len(authors)]
                    to = (addresses.reply_address("risk", firsts[n % len(firsts)].id,
                                                  member_id) if kind == "post" else noreply)
                    batch.append((emails[member_id], to, compose(emails[member_id], to, n)))
                    n += 1
                rounds.append((kind, batch))
        topic_ids = [first.topic_id for first in firsts]

    def visible() -> int:
        with app.app_context():
            return db.session.scalar(db.select(db.func.count(Post.id)).where(
                Post.topic_id.in_(topic_ids), Post.status == "published",
                Post.source == "email"))

    lmtp_port, smtp_port = free_port(), free_port()
    env = dict(os.environ, HUB_DATABASE_URL=url, HUB_SECRET_KEY="bench-secret",
               HUB_MAIL_DOMAIN="lists.bench", HUB_BASE_URL="http://hub.bench",
               HUB_FLOOD_POSTS="0", HUB_GATEWAY_SHARED_PORTS="1")
    env.pop("HUB_REDIS_URL", None)
    log = open(args.log, "ab") if args.log else subprocess.DEVNULL  # noqa: SIM115
    gateways = [subprocess.Popen(
        [sys.executable, "-c", "from hub.cli import main; main()", "gateway", "--host",
         "127.0.0.1", "--lmtp-port", str(lmtp_port), "--smtp-port", str(smtp_port)],
        env=env, cwd=REPO_ROOT, stdout=log, stderr=log)
        for _ in range(args.gateways)]
    time.sleep(0.5 * (args.gateways - 1))  # let every process bind before traffic starts
    results: list[dict] = []
    errors: list[str] = []
    load_before = os.getloadavg()[0]
    try:
        deadline = time.monotonic() + 120  # a busy machine starts Python slowly
        while True:
            try:
                smtplib.LMTP("127.0.0.1", lmtp_port).quit()
                break
            except OSError:
                if time.monotonic() > deadline:
                    print("the gateway did not start", file=sys.stderr)
                    return 1
                time.sleep(0.1)
        pids = [gateway.pid for gateway in gateways]
        # Warm-up: the first messages pay for imports, compiled statements, templates.
        warm = [(s, t, raw.replace(b"<bench-", b"<warm-")) for s, t, raw in
                rounds[0][1][:10] + rounds[1][1][:10]]
        deliver(lmtp_port, warm, args.connections)
        posted = visible()
        for kind, batch in rounds:
            cpu = cpu_seconds(pids)
            seconds, latencies, refused = deliver(lmtp_port, batch, args.connections)
            cpu = cpu_seconds(pids) - cpu
            if kind == "post":
                now_visible = visible()
                if now_visible - posted != len(batch):
                    errors.append(f"a post round made {now_visible - posted} posts of "
                                  f"{len(batch)}")
                posted = now_visible
            if refused:
                errors.append(f"{len(refused)} refused, e.g. {refused[0]}")
            results.append({"kind": kind, "rate": len(batch) / seconds,
                            "cpu_ms": cpu / len(batch) * 1000, "latencies": latencies})
        with app.app_context():
            sample = db.session.scalar(db.select(Post.body).where(
                Post.topic_id.in_(topic_ids), Post.source == "email").limit(1))
    finally:
        for gateway in gateways:
            gateway.terminate()
        for gateway in gateways:
            gateway.wait(20)
        if args.log:
            log.close()

    def of(kind: str, key: str) -> list[float]:
        return [r[key] for r in results if r["kind"] == kind]

    # Each post round against the store round it shares a pair with.
    ratios = [results[i + (0 if results[i]["kind"] == "post" else 1)]["rate"]
              / results[i + (1 if results[i]["kind"] == "post" else 0)]["rate"]
              for i in range(0, len(results), 2)]
    post_rate = statistics.median(of("post", "rate"))
    store_rate = statistics.median(of("store", "rate"))
    post_lat = [x for r in results if r["kind"] == "post" for x in r["latencies"]]
    dialect = url.partition(":")[0].partition("+")[0]
    print(f"load average:           {load_before:.1f} before, {os.getloadavg()[0]:.1f} "
          f"after, on {os.cpu_count()} CPUs")
    print(f"database:               {dialect}; {args.rounds} rounds of each kind, "
          f"{per_round} messages each, over {args.connections} LMTP connections to "
          f"{args.gateways} gateway process(es)")
    print("rounds (messages/s):    " + ", ".join(f"{r['kind']} {r['rate']:.0f}"
                                                  for r in results))
    print(f"store (accept + store): {store_rate:8.0f} messages/s (median)")
    print(f"post (LMTP to post):    {post_rate:8.0f} replies/s (median)   budget: at least "
          f"{GOAL:.0f}/s -> {'met' if post_rate >= GOAL else 'NOT met'} at load "
          f"{os.getloadavg()[0]:.1f}")
    print(f"post / store:           {statistics.median(ratios):8.2f} (median of "
          f"{len(ratios)} paired rounds)")
    print(f"gateway CPU per message: store {statistics.median(of('store', 'cpu_ms')):.1f} "
          f"ms, post {statistics.median(of('post', 'cpu_ms')):.1f} ms (median; at most "
          f"{1000 / GOAL * args.gateways:.0f} ms for {GOAL:.0f}/s on {args.gateways} "
          "process(es))")
    print(f"DATA to visible post:   p50 {percentile(post_lat, 0.5) * 1000:.0f} ms, "
          f"p95 {percentile(post_lat, 0.95) * 1000:.0f} ms (posted before the 250)")
    print(f"a trimmed body:         {sample!r}")
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
