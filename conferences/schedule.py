"""The schedule: what happens by time alone, with no one pressing a button.

`run()` is registered in `app.extensions["hub_periodic"]` and runs on every round of every
worker. For each conference still running it starts round topics when rounds open, locks
them when rounds end, and announces the opening, each new round and the closing by email
to the participants and moderators, exactly once each: an announcement is claimed by
inserting a row under a unique (conference, key) constraint in the same transaction as
its mail jobs, so of several workers only the one whose insert commits sends anything.

Announcements that come too late to be useful (the worker was down past the end of the
round) are recorded as skipped instead of sent. A cancelled conference announces
nothing more, also when a worker was already under way as it was cancelled: the claim
reads the cancellation under the conference's row lock before it queues any mail.
Imports `hub`, `forums`, `conferences`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from conferences import agenda, cancellation, services, times
from conferences.models import Announcement, Conference, Round
from forums import urls
from hub import clock, content
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import GroupMembership, Member, MemberStatus

log = logging.getLogger(__name__)

# The closing is still worth announcing this long after it happened.
CLOSE_GRACE = timedelta(days=2)


def recipients(conference: Conference) -> list[Member]:
    """Active participants and moderators, each once."""
    return list(db.session.scalars(
        db.select(Member).where(
            Member.status == MemberStatus.ACTIVE,
            Member.id.in_(db.select(GroupMembership.member_id).where(
                GroupMembership.group_id.in_([conference.participants_group_id,
                                              conference.moderators_group_id]))))
        .order_by(Member.id)))


def _claim(conference_id: int, keys: list[str], fresh: bool, count: int) -> bool:
    """Insert the announcement rows; False when another worker has them already."""
    try:
        for key in keys:
            db.session.add(Announcement(conference_id=conference_id, key=key, sent=fresh,
                                        recipients=count if fresh else 0))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _announce(conference: Conference, keys: list[str], fresh: bool, template: str,
              rounds: list[Round]) -> bool:
    """Claim `keys` and queue one message per recipient in the same transaction."""
    people = recipients(conference) if fresh else []
    conference_id = conference.id
    if not _claim(conference_id, keys, fresh, len(people)):
        return False
    if not _still_on(conference):
        db.session.rollback()
        return False
    for member in people:
        round_lines = [
            {"number": r.number, "title": content.shown(r, "title", member.language),
             "question": content.shown(r, "question", member.language),
             "opens": times.for_member(r.opens_at, member),
             "closes": times.for_member(r.closes_at, member),
             "url": urls.absolute("forums.topic", topic_id=r.topic_id) if r.topic_id
             else urls.absolute("conferences.discussion", slug=conference.slug)}
            for r in rounds]
        send_mail(member.email, template, language=member.language, name=member.name,
                  **services._mail_context(conference, member), rounds=round_lines)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    log.info("conference %s: announced %s to %d people", conference.slug, ",".join(keys),
             len(people))
    return True


def _still_on(conference: Conference) -> bool:
    """Not cancelled, read in the claim's transaction after its insert: under the
    conference's row lock on PostgreSQL (cancelling takes it too), under the database's
    write lock on SQLite; either way a cancellation committed meanwhile is seen."""
    cancellation.lock_row(conference)
    return db.session.scalar(db.select(Conference.cancelled_at).where(
        Conference.id == conference.id)) is None


def _claimed(conference: Conference) -> set[str]:
    return set(db.session.scalars(db.select(Announcement.key).where(
        Announcement.conference_id == conference.id)))


def advance(conference: Conference, now: datetime | None = None) -> list[str]:
    """Bring one conference up to date with the clock; returns the keys announced."""
    now = now or clock.now()
    if conference.cancelled_at is not None:
        return []
    slug = conference.slug
    opens, closes = clock.aware(conference.opens_at), clock.aware(conference.closes_at)
    announced: list[str] = []
    in_window = opens <= now < closes
    if in_window:
        for item in list(conference.rounds):
            if item.topic_id is None and clock.aware(item.opens_at) <= now:
                agenda.ensure_round_topic(conference, item)
    conference = db.session.scalar(db.select(Conference).where(Conference.slug == slug))
    claimed = _claimed(conference)
    rounds = list(conference.rounds)

    def round_fresh(r: Round) -> bool:
        return now < clock.aware(r.closes_at) and now < closes

    if now >= opens and "open" not in claimed:
        # Rounds open at the same moment are announced with the opening, in one message.
        current = [r for r in rounds if clock.aware(r.opens_at) <= now and round_fresh(r)
                   and f"round:{r.id}" not in claimed]
        keys = ["open", *(f"round:{r.id}" for r in current)]
        if _announce(conference, keys, now < closes, "conference_opening", current):
            announced.extend(keys)
        claimed = _claimed(conference)
    for item in rounds:
        key = f"round:{item.id}"
        if key in claimed or clock.aware(item.opens_at) > now or now < opens:
            continue
        if _announce(conference, [key], round_fresh(item), "conference_round", [item]):
            announced.append(key)
    if now >= closes and "close" not in claimed:
        if _announce(conference, ["close"], now < closes + CLOSE_GRACE, "conference_closing",
                     []):
            announced.append("close")
    conference = db.session.scalar(db.select(Conference).where(Conference.slug == slug))
    for item in list(conference.rounds):  # each change commits (the forums' lock)
        agenda.sync_round_lock(conference, item, now)
    if now >= closes and "close" in _claimed(conference):
        conference.schedule_done = all(r.auto_locked or r.topic_id is None
                                       for r in conference.rounds)
        db.session.commit()
    return announced


def run(now: datetime | None = None) -> dict[str, list[str]]:
    """The periodic task: every conference whose schedule is not finished."""
    now = now or clock.now()
    slugs = list(db.session.scalars(
        db.select(Conference.slug).where(Conference.schedule_done.is_(False),
                                         Conference.cancelled_at.is_(None),
                                         Conference.announced_at.is_not(None),
                                         Conference.announced_at <= now,
                                         Conference.opens_at <= now)
        .order_by(Conference.id)))
    done: dict[str, list[str]] = {}
    for slug in slugs:
        conference = db.session.scalar(db.select(Conference).where(Conference.slug == slug))
        if conference is None:
            continue
        try:
            keys = advance(conference, now)
        except Exception:  # one broken conference must not stop the others
            db.session.rollback()
            log.exception("conference %s: the schedule failed", slug)
            continue
        if keys:
            done[slug] = keys
    return done


def periodic() -> None:
    run()
