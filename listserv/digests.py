"""Digests: one message per period per board for members who follow it `daily` or
`weekly`, with the period's posts and links, in the member's time zone and language.

A day runs from local midnight to midnight and a week from Monday to Monday; a period's
digest goes out from HUB_DIGEST_HOUR (local) after it ends. The `DigestRun` row is
written (unique per member, board, mode and period) before the message is sent, so two
workers never send the same digest. Replies go to a `+d-` address that answers with a
helpful refusal (see `listserv.rules.check_digest_reply`). Imports `hub`, `forums` and
`listserv`.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime as rfc5322_date
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale, format_date, format_datetime
from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from forums.models import Board, Post, Subscription, Topic
from hub import access, clock, markup
from hub.extensions import db
from hub.mailer import Transport, open_transport
from hub.models import Member, MemberStatus
from listserv import addresses, links
from listserv.models import DigestRun
from listserv.outbound import simple_message

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(days=2)


def _zone(member: Member) -> ZoneInfo:
    try:
        return ZoneInfo(member.timezone or "UTC")
    except Exception:
        return ZoneInfo("UTC")


def last_period(mode: str, now: datetime, zone: ZoneInfo, send_hour: int
                ) -> tuple[datetime, datetime]:
    """The latest complete day or week (local) whose digest is due at `now`, in UTC."""
    local = now.astimezone(zone)
    midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
    if mode == "daily":
        end = midnight if local.hour >= send_hour else midnight - timedelta(days=1)
        start = end - timedelta(days=1)
    else:
        monday = midnight - timedelta(days=local.weekday())
        end = monday if local >= monday + timedelta(hours=send_hour) else \
            monday - timedelta(days=7)
        start = end - timedelta(days=7)
    # Rebuild through the zone so a DST change inside the period keeps wall-clock bounds.
    start = datetime(start.year, start.month, start.day, tzinfo=zone)
    end = datetime(end.year, end.month, end.day, tzinfo=zone)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


@dataclass(frozen=True)
class Due:
    member_id: int
    board_id: int
    mode: str
    start: datetime
    end: datetime


def _posts(board_id: int, start: datetime, end: datetime) -> list[Post]:
    return list(db.session.scalars(
        db.select(Post).join(Topic, Topic.id == Post.topic_id)
        .where(Topic.board_id == board_id, Topic.deleted_at.is_(None),
               Topic.status == "published", Post.status == "published",
               Post.deleted_at.is_(None), Post.created_at >= start, Post.created_at < end)
        .order_by(Post.topic_id, Post.position)))


def due_digests(now: datetime | None = None) -> list[Due]:
    """Every (member, board, period) whose digest is due, has posts, and is not sent."""
    now = now or clock.now()
    send_hour = int(current_app.config.get("HUB_DIGEST_HOUR", 6))
    rows = db.session.execute(
        db.select(Subscription.member_id, Subscription.board_id, Subscription.mode,
                  Member.timezone)
        .join(Member, Member.id == Subscription.member_id)
        .where(Subscription.board_id.is_not(None), Subscription.mode.in_(["daily", "weekly"]),
               Member.status == MemberStatus.ACTIVE, Member.delivery_disabled.is_(False)))
    groups: dict[tuple[int, str, datetime, datetime], list[int]] = defaultdict(list)
    for member_id, board_id, mode, timezone in rows:
        try:
            zone = ZoneInfo(timezone or "UTC")
        except Exception:
            zone = ZoneInfo("UTC")
        start, end = last_period(mode, now, zone, send_hour)
        groups[(board_id, mode, start, end)].append(member_id)
    due: list[Due] = []
    for (board_id, mode, start, end), member_ids in groups.items():
        has_posts = db.session.scalar(
            db.select(Post.id).join(Topic, Topic.id == Post.topic_id)
            .where(Topic.board_id == board_id, Post.status == "published",
                   Post.created_at >= start, Post.created_at < end).limit(1))
        if has_posts is None:
            continue
        done = set(db.session.scalars(db.select(DigestRun.member_id).where(
            DigestRun.board_id == board_id, DigestRun.mode == mode,
            DigestRun.period_start == start)))
        due += [Due(mid, board_id, mode, start, end) for mid in member_ids if mid not in done]
    return due


def send_due(now: datetime | None = None) -> int:
    """Send every due digest (and retry failed ones); returns how many went out."""
    now = now or clock.now()
    sent = 0
    runs: list[int] = []
    for item in due_digests(now):
        run = DigestRun(member_id=item.member_id, board_id=item.board_id, mode=item.mode,
                        period_start=item.start, period_end=item.end, status="sending",
                        created_at=now)
        db.session.add(run)
        try:
            db.session.commit()
        except IntegrityError:  # another worker took it
            db.session.rollback()
            continue
        runs.append(run.id)
    runs += _retryable(now)
    if not runs:
        return 0
    with open_transport() as transport:
        for run_id in runs:
            if _send_one(transport, run_id):
                sent += 1
    return sent


def _retryable(now: datetime) -> list[int]:
    """Failed (or abandoned) runs to try again, claimed so only one worker does."""
    ids = list(db.session.scalars(db.select(DigestRun.id).where(
        DigestRun.status.in_(["failed", "sending"]), DigestRun.created_at < now - RETRY_AFTER,
        DigestRun.period_end > now - GIVE_UP_AFTER)))
    claimed = []
    for run_id in ids:
        if db.session.execute(update(DigestRun).where(
                DigestRun.id == run_id, DigestRun.status.in_(["failed", "sending"]),
                DigestRun.created_at < now - RETRY_AFTER)
                .values(status="sending", created_at=now)).rowcount:
            claimed.append(run_id)
    db.session.commit()
    return claimed


def _send_one(transport: Transport, run_id: int) -> bool:
    run = db.session.get(DigestRun, run_id)
    member = db.session.get(Member, run.member_id)
    board = db.session.get(Board, run.board_id)
    if member is None or board is None or not access.can_read(member, board):
        run.status = "skipped"
        db.session.commit()
        return False
    posts = _posts(board.id, clock.aware(run.period_start), clock.aware(run.period_end))
    if not posts:
        run.status = "empty"
        db.session.commit()
        return False
    try:
        data = build(run, member, board, posts).as_bytes()
        transport.send_bytes(addresses.bounce_address(board.slug, member.id),
                             [member.email], data)
    except Exception as exc:
        db.session.rollback()
        run = db.session.get(DigestRun, run_id)
        run.status = "failed"
        db.session.commit()
        log.warning("digest %s for member %s failed: %s", run_id, member.id, exc)
        return False
    run.status = "sent"
    run.post_count = len(posts)
    run.sent_at = clock.now()
    db.session.commit()
    return True


def build(run: DigestRun, member: Member, board: Board, posts: list[Post]) -> EmailMessage:
    """The digest message for one member."""
    zone = _zone(member)
    topics = {t.id: t for t in db.session.scalars(
        db.select(Topic).where(Topic.id.in_({p.topic_id for p in posts})))}
    authors = {m.id: m for m in db.session.scalars(
        db.select(Member).where(Member.id.in_({p.author_id for p in posts if p.author_id})))}
    can_post = access.can_post(member, board)
    with force_locale(member.language or "en"):
        start_local = clock.aware(run.period_start).astimezone(zone)
        period = format_date(start_local, "long", rebase=False)
        if run.mode == "daily":
            subject = _("[%(tag)s] Daily digest, %(date)s", tag=board.slug, date=period)
        else:
            subject = _("[%(tag)s] Weekly digest, week of %(date)s", tag=board.slug,
                        date=period)
        items = []
        for post in posts:
            topic = topics[post.topic_id]
            author = authors.get(post.author_id)
            items.append({
                "topic": topic, "post": post,
                "author": author.name if author else _("A former member"),
                "when": format_datetime(clock.aware(post.created_at).astimezone(zone),
                                        "short", rebase=False),
                "url": links.post_url(post, topic),
                "reply_url": links.reply_url(post, topic),
            })
        unsubscribe_url = links.absolute(
            "listserv.unsubscribe", token=addresses.unsubscribe_token(member.id, board.id))
        context = {"board": board, "member": member, "items": items, "period": period,
                   "stored": markup.stored,
                   "mode": run.mode, "can_post": can_post, "unsubscribe_url": unsubscribe_url,
                   "settings_url": links.absolute("listserv.settings"),
                   "board_url": links.board_url(board)}
        text = render_template("email/list_digest.txt", **context)
        html = render_template("email/list_digest.html", **context)
    list_addr = addresses.list_address(board.slug)
    request_addr = addresses.request_address(board.slug)
    headers = [
        ("Message-ID", f"<digest-{run.id}.{secrets.token_hex(4)}@{addresses.domain()}>"),
        ("Date", rfc5322_date(clock.now())),
        ("Reply-To", addresses.digest_address(board.slug, member.id)),
        ("List-Id", f"{board.name} <{addresses.list_id(board.slug)}>"),
        ("List-Post", f"<mailto:{list_addr}>" if can_post else "NO"),
        ("List-Help", f"<mailto:{request_addr}?subject=help>"),
        ("List-Archive", f"<{links.board_url(board)}>"),
        ("List-Unsubscribe", f"<{unsubscribe_url}>, <mailto:{request_addr}?subject=unsubscribe>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Precedence", "list"),
        ("X-Auto-Response-Suppress", "All"),
        ("X-Loop", list_addr),
    ]
    return simple_message(sender=str(Address(board.name, addr_spec=list_addr)),
                          to=member.email, subject=subject, text=text, html=html,
                          headers=headers)

