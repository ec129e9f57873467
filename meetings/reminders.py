"""Reminders by time alone, run on every round of every worker (`periodic`): a day before
a meeting starts (to its confirmed participants), three days before the submission
deadline (to participants who have submitted nothing), and a week before a
recommendation falls due (to its owner, again once it is overdue). Each mail goes in the
member's own language and zone, as a `hub.jobs` mail job.

Exactly once each, however many workers run: a reminder is claimed by inserting a row
under a unique (meeting, key) constraint in the same transaction as its mail jobs, so
only the worker whose insert commits sends anything. Imports `hub`, `forums`, `meetings`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from forums import urls
from hub import clock
from hub.extensions import db
from hub.models import Member
from meetings import registration, submissions
from meetings.models import CONFIRMED, Meeting, Recommendation, Registration, Reminder

log = logging.getLogger(__name__)

START_LEAD = timedelta(hours=24)
SUBMISSION_LEAD = timedelta(days=3)
DUE_LEAD = timedelta(days=7)


def _claimed(meeting_id: int, key: str) -> bool:
    return db.session.scalar(db.select(Reminder.id).where(
        Reminder.meeting_id == meeting_id, Reminder.key == key)) is not None


def _send_once(meeting: Meeting, key: str, people: list[Member],
               mail: Callable[[Member], None]) -> bool:
    """Claim `key` for the meeting and queue one message per person, atomically."""
    try:
        db.session.add(Reminder(meeting_id=meeting.id, key=key, recipients=len(people)))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    for member in people:
        mail(member)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    log.info("meeting %s: reminder %s to %d people", meeting.slug, key, len(people))
    return True


def _participants(meeting: Meeting) -> list[Member]:
    return list(db.session.scalars(
        db.select(Member).join(Registration, Registration.member_id == Member.id)
        .where(Registration.meeting_id == meeting.id, Registration.status == CONFIRMED)
        .order_by(Member.id)))


def _upcoming(now: datetime, lead: timedelta) -> list[Meeting]:
    return list(db.session.scalars(db.select(Meeting).where(
        Meeting.cancelled_at.is_(None), Meeting.announced_at.is_not(None),
        Meeting.starts_at > now, Meeting.starts_at <= now + lead)))


def remind_start() -> int:
    now, sent = clock.now(), 0
    for meeting in _upcoming(now, START_LEAD):
        if _claimed(meeting.id, "start"):
            continue
        sent += _send_once(meeting, "start", _participants(meeting),
                           lambda m, meeting=meeting: registration.mail(
                               m, "meeting_reminder", meeting, calendar=True))
    return sent


def remind_submissions() -> int:
    now, sent = clock.now(), 0
    rows = db.session.scalars(db.select(Meeting).where(
        Meeting.cancelled_at.is_(None), Meeting.submission_deadline.is_not(None),
        Meeting.submission_deadline > now,
        Meeting.submission_deadline <= now + SUBMISSION_LEAD))
    for meeting in list(rows):
        if _claimed(meeting.id, "submissions"):
            continue
        form_url = urls.absolute("meetings.submit", slug=meeting.slug)
        deadline = meeting.submission_deadline
        sent += _send_once(meeting, "submissions", submissions.missing(meeting),
                           lambda m, meeting=meeting, form_url=form_url, deadline=deadline:
                           registration.mail(
                               m, "meeting_submission_reminder", meeting, form_url=form_url,
                               deadline=registration.when_for(deadline, m, meeting)))
    return sent


def remind_owners() -> int:
    today, sent = clock.now().date(), 0
    rows = db.session.scalars(db.select(Recommendation).where(
        Recommendation.status.in_(["open", "in_progress"]),
        Recommendation.owner_id.is_not(None), Recommendation.due_on.is_not(None),
        Recommendation.due_on <= today + DUE_LEAD))
    for rec in list(rows):
        phase = "overdue" if rec.due_on < today else "due"
        key = f"rec:{rec.id}:{rec.due_on.isoformat()}:{phase}"
        if _claimed(rec.meeting_id, key) or rec.owner is None:
            continue
        meeting = rec.meeting
        url = urls.absolute("meetings.followup", slug=meeting.slug) + f"#rec-{rec.id}"
        sent += _send_once(meeting, key, [rec.owner],
                           lambda m, rec=rec, meeting=meeting, url=url, phase=phase:
                           registration.mail(m, "meeting_recommendation_reminder", meeting,
                                             rec=rec, rec_url=url, overdue=phase == "overdue"))
    return sent


def periodic() -> None:
    remind_start()
    remind_submissions()
    remind_owners()
