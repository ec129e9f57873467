"""Calling a conference off (the Secretariat, with a reason everyone concerned is mailed)
and deleting one made by mistake, with the row lock cancelling shares with the
schedule. Imports `hub`, `forums`, `conferences`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_

from conferences.models import APPROVED, INVITED, PENDING, Conference, Registration
from conferences.services import _mail, _required_text, refuse_if_cancelled
from forums import moderation
from forums import services as forums
from forums.models import Post, Topic
from hub import access, clock
from hub import services as hub_services
from hub.errors import Conflict, Forbidden
from hub.extensions import db
from hub.models import GroupMembership, Member


def _concerned(conference: Conference) -> list[Member]:
    """Who hears that a conference is cancelled: its registrants (waiting, invited or
    approved), participants and moderators, each once."""
    registrants = db.select(Registration.member_id).where(
        Registration.conference_id == conference.id,
        Registration.status.in_([PENDING, INVITED, APPROVED]))
    in_groups = db.select(GroupMembership.member_id).where(GroupMembership.group_id.in_(
        [conference.participants_group_id, conference.moderators_group_id]))
    return list(db.session.scalars(
        db.select(Member).where(or_(Member.id.in_(registrants), Member.id.in_(in_groups)))
        .order_by(Member.id)))


def lock_row(conference: Conference) -> None:
    """The conference's row lock (PostgreSQL), taken by cancelling and by the schedule
    before it announces, so a worker never announces a conference being cancelled."""
    db.session.execute(db.select(Conference.id).where(Conference.id == conference.id)
                       .with_for_update())


def cancellation_refusal(conference: Conference) -> str | None:
    """Why the conference can no longer be cancelled, or None."""
    if conference.cancelled_at is not None:
        return str(_l("This e-conference was cancelled."))
    if clock.now() >= clock.aware(conference.closes_at):
        return str(_l("This e-conference has closed; it can no longer be cancelled."))
    return None


def cancel_conference(actor: Member, conference: Conference, reason: str) -> Conference:
    """Call off a conference that has not closed (the Secretariat): everyone concerned is
    emailed the reason in their language, registration closes, the board is locked and
    its window ends now, the schedule stops. Its page and the list say it was cancelled
    and why."""
    if not access.is_secretariat(actor):
        raise Forbidden(str(_l("Only the Secretariat can cancel an e-conference.")))
    reason = _required_text(reason, "reason", 2000,
                            _l("Please give the reason; everyone concerned receives it."))
    lock_row(conference)
    db.session.refresh(conference)
    refuse_if_cancelled(conference)
    refusal = cancellation_refusal(conference)
    if refusal:
        raise Conflict(refusal, code="closed")
    now = clock.now()
    conference.cancelled_at = now
    conference.cancel_reason = reason
    conference.schedule_done = True
    board = conference.board
    board.locked = True  # for everyone: the window ends now too, for the moderators
    board.summaries_after_close = False
    if board.closes_at is None or clock.aware(board.closes_at) > now:
        board.closes_at = now
    for item in conference.rounds:
        item.auto_locked = item.topic_id is not None
    for member in _concerned(conference):
        _mail(member, "conference_cancelled", conference, reason=reason)
    hub_services.audit(actor, "conference.cancel", conference, reason)
    db.session.commit()
    # Readers with one of its topics open see it locked (the forums' lock, topic by topic).
    open_topics = db.session.scalars(db.select(Topic).where(
        Topic.board_id == conference.board_id, Topic.locked.is_(False),
        Topic.deleted_at.is_(None)).order_by(Topic.id)).all()
    for topic in open_topics:
        moderation.set_locked_by_system(topic, True, f"conference {conference.slug}: cancelled")
    return conference


def deletion_refusal(conference: Conference) -> str | None:
    """Why the conference may not be deleted, or None: only a mistake goes (one that
    never opened, or where nobody has posted: the rounds' questions do not count)."""
    from conferences.models import Proceedings

    if db.session.scalar(db.select(Proceedings.id).where(
            Proceedings.conference_id == conference.id,
            Proceedings.published_at.is_not(None))) is not None:
        return str(_l("Its proceedings are published; it can no longer be deleted."))
    questions = [r.topic_id for r in conference.rounds if r.topic_id]
    posted = (db.select(Post.id).join(Topic, Post.topic_id == Topic.id)
              .where(Topic.board_id == conference.board_id))
    if questions:
        posted = posted.where(~(Post.topic_id.in_(questions) & (Post.position == 1)))
    if db.session.scalar(posted.limit(1)) is not None:
        return str(_l("People have posted in it; cancel it instead, or keep it."))
    return None


def delete_conference(actor: Member, conference: Conference) -> None:
    """Delete a conference made by mistake (the Secretariat), with its board, groups,
    rounds, registrations and documents."""
    if not access.is_secretariat(actor):
        raise Forbidden(str(_l("Only the Secretariat can delete an e-conference.")))
    refusal = deletion_refusal(conference)
    if refusal:
        raise Conflict(refusal, code="not_deletable")
    board = conference.board
    groups = [conference.participants_group, conference.moderators_group]
    hub_services.audit(actor, "conference.delete", conference,
                       f"{conference.slug}: {conference.title}")
    db.session.delete(conference)  # rounds, partners and documents with it; the rest cascades
    db.session.flush()
    for group in groups:
        db.session.delete(group)
    forums.delete_board(actor, board)  # commits the whole removal
    access.forget_groups()
