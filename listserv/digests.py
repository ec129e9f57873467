"""Digests: one message per member per period, across every board they follow `daily`
(or every board they follow `weekly`): a table of contents, then a section per board
with each post, its link and its reply link; plain text and HTML, or, for members who
prefer it, a MIME digest (RFC 1153 / RFC 2046 multipart/digest: one message/rfc822 part
per post). In the member's time zone and language.

A day runs from local midnight to midnight and a week from Monday to Monday; a period's
digest goes out from HUB_DIGEST_HOUR (local) after it ends. The `DigestRun` row is
written (unique per member, mode and period) before the message is sent, so two workers
never send the same digest. Only posts the member may read now are included (and
announcements only for their audience). Replies go to a `+d-` address that answers with
a helpful refusal (see `listserv.rules.check_digest_reply`). Imports `hub`, `forums`
and `listserv`.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
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
from hub.mailer import Transport, open_transport, safe_header
from hub.models import Member, MemberStatus
from listserv import addresses, announcements, links
from listserv.models import DigestRun, MemberListPrefs
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
    mode: str
    start: datetime
    end: datetime


def _posts(board_ids: list[int], start: datetime, end: datetime) -> list[Post]:
    if not board_ids:
        return []
    return list(db.session.scalars(
        db.select(Post).join(Topic, Topic.id == Post.topic_id)
        .where(Topic.board_id.in_(board_ids), Topic.deleted_at.is_(None),
               Topic.status == "published", Post.status == "published",
               Post.deleted_at.is_(None), Post.created_at >= start, Post.created_at < end)
        .order_by(Post.topic_id, Post.position)))


def _digest_boards(member_id: int, mode: str) -> list[int]:
    return list(db.session.scalars(db.select(Subscription.board_id).where(
        Subscription.member_id == member_id, Subscription.board_id.is_not(None),
        Subscription.mode == mode)))


def due_digests(now: datetime | None = None) -> list[Due]:
    """Every (member, mode, period) whose digest is due, has posts on one of the member's
    boards in that mode, and is not sent."""
    now = now or clock.now()
    send_hour = int(current_app.config.get("HUB_DIGEST_HOUR", 6))
    rows = db.session.execute(
        db.select(Subscription.member_id, Subscription.board_id, Subscription.mode,
                  Member.timezone)
        .join(Member, Member.id == Subscription.member_id)
        .where(Subscription.board_id.is_not(None), Subscription.mode.in_(["daily", "weekly"]),
               Member.status == MemberStatus.ACTIVE, Member.delivery_disabled.is_(False)))
    wanted: dict[tuple[int, str, datetime, datetime], list[int]] = defaultdict(list)
    for member_id, board_id, mode, timezone in rows:
        try:
            zone = ZoneInfo(timezone or "UTC")
        except Exception:
            zone = ZoneInfo("UTC")
        start, end = last_period(mode, now, zone, send_hour)
        wanted[(member_id, mode, start, end)].append(board_id)
    has_posts: dict[tuple[int, datetime, datetime], bool] = {}

    def busy(board_id: int, start: datetime, end: datetime) -> bool:
        key = (board_id, start, end)
        if key not in has_posts:
            has_posts[key] = db.session.scalar(
                db.select(Post.id).join(Topic, Topic.id == Post.topic_id)
                .where(Topic.board_id == board_id, Post.status == "published",
                       Post.created_at >= start, Post.created_at < end).limit(1)) is not None
        return has_posts[key]

    done = {(m, mode, clock.aware(start)) for m, mode, start in db.session.execute(
        db.select(DigestRun.member_id, DigestRun.mode, DigestRun.period_start).where(
            DigestRun.period_start.in_({k[2] for k in wanted} or {now})))}
    return [Due(member_id, mode, start, end)
            for (member_id, mode, start, end), boards in sorted(wanted.items())
            if (member_id, mode, start) not in done
            and any(busy(b, start, end) for b in boards)]


def send_due(now: datetime | None = None) -> int:
    """Send every due digest (and retry failed ones); returns how many went out."""
    now = now or clock.now()
    sent = 0
    runs: list[int] = []
    for item in due_digests(now):
        run = DigestRun(member_id=item.member_id, mode=item.mode, period_start=item.start,
                        period_end=item.end, status="sending", created_at=now)
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


@dataclass
class Section:
    board: Board
    items: list[dict]
    can_post: bool
    unsubscribe_url: str


def _readable_posts(member: Member, run: DigestRun) -> tuple[list[Board], list[Post]]:
    """The member's boards in the run's mode that they may read now, and their posts of
    the period (announcements only when the member is in their audience)."""
    board_ids = [run.board_id] if run.board_id else _digest_boards(member.id, run.mode)
    boards = [b for b in db.session.scalars(db.select(Board).where(Board.id.in_(board_ids))
                                            .order_by(Board.position, Board.name))
              if access.can_read(member, b)]
    posts = _posts([b.id for b in boards], clock.aware(run.period_start),
                   clock.aware(run.period_end))
    kept = []
    for post in posts:
        announcement = announcements.of_post(post.id)
        if announcement is None or announcements.in_audience(announcement, [member.id]):
            kept.append(post)
    return boards, kept


def _send_one(transport: Transport, run_id: int) -> bool:
    run = db.session.get(DigestRun, run_id)
    member = db.session.get(Member, run.member_id)
    if member is None or member.status != MemberStatus.ACTIVE or member.delivery_disabled:
        run.status = "skipped"
        db.session.commit()
        return False
    boards, posts = _readable_posts(member, run)
    if not posts:
        run.status = "empty"
        db.session.commit()
        return False
    try:
        data = build(run, member, boards, posts).as_bytes(policy=SMTP)
        transport.send_bytes(addresses.bounce_address(boards[0].slug, member.id),
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


def digest_format(member: Member) -> str:
    prefs = db.session.get(MemberListPrefs, member.id)
    return prefs.digest_format if prefs is not None else "standard"


def set_digest_format(member: Member, value: str) -> None:
    from listserv.models import DIGEST_FORMATS

    if value not in DIGEST_FORMATS:
        value = "standard"
    prefs = db.session.get(MemberListPrefs, member.id) or MemberListPrefs(member_id=member.id)
    prefs.digest_format = value
    db.session.add(prefs)
    db.session.commit()


def _sections(member: Member, boards: list[Board], posts: list[Post]) -> list[Section]:
    zone = _zone(member)
    topics = {t.id: t for t in db.session.scalars(
        db.select(Topic).where(Topic.id.in_({p.topic_id for p in posts})))}
    authors = {m.id: m for m in db.session.scalars(
        db.select(Member).where(Member.id.in_({p.author_id for p in posts if p.author_id})))}
    by_board: dict[int, list[dict]] = defaultdict(list)
    for post in posts:
        topic = topics[post.topic_id]
        author = authors.get(post.author_id)
        by_board[topic.board_id].append({
            "topic": topic, "post": post,
            "author": author.name if author else _("A former member"),
            "date": clock.aware(post.created_at),
            "when": format_datetime(clock.aware(post.created_at).astimezone(zone), "short",
                                    rebase=False),
            "url": links.post_url(post, topic), "reply_url": links.reply_url(post, topic),
        })
    return [Section(board=b, items=by_board[b.id], can_post=access.can_post(member, b),
                    unsubscribe_url=links.absolute("listserv.unsubscribe",
                                                   token=addresses.unsubscribe_token(
                                                       member.id, b.id)))
            for b in boards if by_board.get(b.id)]


def build(run: DigestRun, member: Member, boards: list[Board], posts: list[Post]
          ) -> EmailMessage:
    """The digest message for one member: every board of the period in one message."""
    zone = _zone(member)
    with force_locale(member.language or "en"):
        sections = _sections(member, boards, posts)
        start_local = clock.aware(run.period_start).astimezone(zone)
        period = format_date(start_local, "long", rebase=False)
        one = sections[0].board if len(sections) == 1 else None
        if one is not None and run.mode == "daily":
            subject = _("[%(tag)s] Daily digest, %(date)s", tag=one.slug, date=period)
        elif one is not None:
            subject = _("[%(tag)s] Weekly digest, week of %(date)s", tag=one.slug,
                        date=period)
        elif run.mode == "daily":
            subject = _("Daily digest of %(count)d boards, %(date)s", count=len(sections),
                        date=period)
        else:
            subject = _("Weekly digest of %(count)d boards, week of %(date)s",
                        count=len(sections), date=period)
        # One click stops every digest of this kind (the token's board 0: all boards).
        stop_url = links.absolute("listserv.unsubscribe",
                                  token=addresses.unsubscribe_token(member.id, 0))
        context = {"sections": sections, "member": member, "period": period,
                   "stored": markup.stored, "mode": run.mode, "one": one,
                   "count": sum(len(s.items) for s in sections), "stop_url": stop_url,
                   "settings_url": links.absolute("listserv.settings")}
        mime = digest_format(member) == "mime"
        text = render_template("email/list_digest.txt", toc_only=mime, **context)
        html = render_template("email/list_digest.html", **context)
        parts = _rfc822_parts(sections, member) if mime else []
        name = one.name if one is not None else _("Network digest")
    first = sections[0].board
    list_id = addresses.list_id(one.slug) if one else f"digest.{addresses.domain()}"
    list_addr = addresses.list_address(first.slug)
    request_addr = addresses.request_address(first.slug)
    headers = [
        ("Message-ID", f"<digest-{run.id}.{secrets.token_hex(4)}@{addresses.domain()}>"),
        ("Date", rfc5322_date(clock.now())),
        ("Reply-To", addresses.digest_address(first.slug, member.id)),
        ("List-Id", f"{name} <{list_id}>"),
        ("List-Help", f"<mailto:{request_addr}?subject=help>"),
        ("List-Archive", f"<{links.board_url(first)}>"),
        ("List-Unsubscribe", f"<{one and sections[0].unsubscribe_url or stop_url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Precedence", "list"),
        ("X-Auto-Response-Suppress", "All"),
        ("X-Loop", list_addr),
    ]
    if one is not None:
        headers.insert(4, ("List-Post", f"<mailto:{list_addr}>" if sections[0].can_post
                           else "NO"))
    sender = str(Address(name, addr_spec=list_addr))
    if not mime:
        return simple_message(sender=sender, to=member.email, subject=subject, text=text,
                              html=html, headers=headers)
    return _mime_digest(sender, member.email, subject, text, headers, parts)


def _rfc822_parts(sections: list[Section], member: Member) -> list[EmailMessage]:
    """One message/rfc822 part per post, as it would have arrived on its own."""
    from listserv.services import message_id_of

    parts = []
    for section in sections:
        for item in section.items:
            part = EmailMessage(policy=SMTP)
            part["From"] = str(Address(f"{item['author']} via {section.board.name}",
                                       addr_spec=addresses.list_address(section.board.slug)))
            part["Subject"] = safe_header(f"[{section.board.slug}] {item['topic'].title}")
            part["Date"] = rfc5322_date(item["date"])
            part["Message-ID"] = message_id_of(item["post"])
            links_text = f"{_('View:')} {item['url']}"
            if section.can_post:
                links_text += f"\n{_('Reply:')} {item['reply_url']}"
            part.set_content(f"{item['post'].body}\n\n-- \n{links_text}\n",
                             cte="quoted-printable")
            parts.append(part)
    return parts


def _mime_digest(sender: str, to: str, subject: str, text: str,
                 headers: list[tuple[str, str]], parts: list[EmailMessage]) -> EmailMessage:
    """RFC 1153 in MIME: the table of contents as text/plain, then a multipart/digest
    whose parts are the posts (message/rfc822 is the default type inside it)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = safe_header(sender)
    msg["To"] = safe_header(to)
    msg["Subject"] = safe_header(subject)
    for name, value in headers:
        msg[name] = safe_header(value)
    msg.make_mixed()
    toc = EmailMessage(policy=SMTP)
    toc.set_content(text, cte="quoted-printable")
    msg.attach(toc)
    digest = EmailMessage(policy=SMTP)
    digest.make_mixed()
    digest.set_type("multipart/digest")
    for part in parts:
        wrapper = EmailMessage(policy=SMTP)
        wrapper.set_content(part)  # message/rfc822
        del wrapper["MIME-Version"]
        digest.attach(wrapper)
    msg.attach(digest)
    return msg
