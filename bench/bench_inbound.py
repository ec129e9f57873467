"""Inbound: email replies per second, from LMTP acceptance to a visible post.

Usage: python bench/bench_inbound.py [--replies 1000] [--topics 10] [--connections 4]
                                     [--gateways 1] [--database-url URL]

`hub gateway` runs as its own process (as in production; `--gateways 2` runs two on the
same ports) on a scratch database; this script plays the MTA: several LMTP connections
deliver replies to the per-member Reply-To addresses of the posts of a few topics, each
with quoted history to trim. The clock stops when every reply is a published post in its
topic. Goal: at least 100/s.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP

from _setup import REPO_ROOT, free_port, make_app, make_members, scratch_database


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--topics", type=int, default=10, help="discussions replied to")
    parser.add_argument("--gateways", type=int, default=1,
                        help="`hub gateway` processes sharing the ports (SO_REUSEPORT)")
    parser.add_argument("--log", default=None, help="write the gateways' log to this file")
    parser.add_argument("--database-url", default=None,
                        help="an EMPTY database to use (default: a scratch SQLite file)")
    args = parser.parse_args(argv)
    url = args.database_url or scratch_database()
    app = make_app(url)
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
        authors = make_members(max(1, args.replies // 5), prefix="author")
        firsts = [forums.create_topic(db.session.get(Member, authors[0]), board,
                                      f"Draft guidance, part {n + 1}", "Comments, please.")
                  for n in range(args.topics)]
        emails = dict(db.session.execute(db.select(Member.id, Member.email)
                                         .where(Member.id.in_(authors))).all())
        messages = []
        for n in range(args.replies):
            member_id = authors[n % len(authors)]
            to = addresses.reply_address("risk", firsts[n % len(firsts)].id, member_id)
            messages.append((emails[member_id], to, compose(emails[member_id], to, n)))
        topic_ids = [first.topic_id for first in firsts]

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
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                smtplib.LMTP("127.0.0.1", lmtp_port).quit()
                break
            except OSError:
                if time.monotonic() > deadline:
                    print("the gateway did not start", file=sys.stderr)
                    return 1
                time.sleep(0.1)

        refused: list[str] = []

        def deliver(part: list[tuple[str, str, bytes]]) -> None:
            with smtplib.LMTP("127.0.0.1", lmtp_port) as client:
                for sender, to, raw in part:
                    try:
                        client.sendmail(sender, [to], raw)
                    except smtplib.SMTPException as exc:
                        refused.append(str(exc))

        parts = [messages[i::args.connections] for i in range(args.connections)]
        threads = [threading.Thread(target=deliver, args=(part,)) for part in parts]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        accepted = time.perf_counter() - started
        with app.app_context():
            while True:  # processing happens before the 250, so this is at once
                db.session.rollback()
                visible = db.session.scalar(db.select(db.func.count(Post.id)).where(
                    Post.topic_id.in_(topic_ids), Post.status == "published",
                    Post.source == "email"))
                if visible >= args.replies or time.perf_counter() - started > 300:
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            sample = db.session.scalar(db.select(Post.body).where(
                Post.topic_id.in_(topic_ids), Post.source == "email").limit(1))
    finally:
        for gateway in gateways:
            gateway.terminate()
        for gateway in gateways:
            gateway.wait(20)
        if args.log:
            log.close()

    print(f"load average:           {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"replies:                {args.replies} to {args.topics} topics, over "
          f"{args.connections} LMTP connections to {args.gateways} gateway process(es)")
    print(f"accepted (250) in:      {accepted:.2f} s")
    print(f"visible as posts:       {visible} in {elapsed:.2f} s")
    print(f"inbound rate:           {visible / elapsed:8.0f} replies/s  (goal: at least 100/s)")
    print(f"a trimmed body:         {sample!r}")
    if refused or visible < args.replies:
        print(f"ERROR: {len(refused)} refused, {args.replies - visible} not posted",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
