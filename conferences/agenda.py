"""The agenda: dated rounds, each with a discussion topic started with its question when
the round opens and locked when it ends (through the forums' lock), their pins and
locks, and the moderators' summaries. Imports `hub`, `forums`, `conferences`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from conferences import times
from conferences.models import Conference, Round
from conferences.services import moderators, refuse_if_cancelled, require_manager
from forums import editing, moderation
from forums import services as forums
from forums.models import Post, Topic
from hub import access, clock, content, markup
from hub import services as hub_services
from hub.errors import Conflict, Invalid, NotFound
from hub.extensions import db
from hub.models import Member


@dataclass
class RoundData:
    title: str | None = None
    question: str | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    translations: dict[str, dict[str, str]] | None = None  # {"es": {"title", "question"}}
    source_lang: str | None = None


def _renumber(conference: Conference) -> None:
    ordered = sorted(conference.rounds, key=lambda r: (clock.aware(r.opens_at), r.id or 0))
    for number, item in enumerate(ordered, start=1):
        item.number = number


def _apply_round(conference: Conference, item: Round, data: RoundData) -> None:
    if data.title is not None:
        title = " ".join(data.title.split())
        if not title:
            raise Invalid(str(_l("A round needs a title.")), fields={"title": "required"})
        item.title = title[:250]
    if data.question is not None:
        question = data.question.strip()
        if not question:
            raise Invalid(str(_l("A round needs a question.")), fields={"question": "required"})
        item.question = question
        item.question_html = markup.render(question)
    if data.translations is not None or data.source_lang is not None:
        content.set_translations(item, data.translations or {}, data.source_lang)
    for name in ("opens_at", "closes_at"):
        value = getattr(data, name)
        if value is not None:
            if value.tzinfo is None:
                raise Invalid(str(_l("Times need a time zone offset.")), fields={name: "naive"})
            setattr(item, name, value)
    opens, closes = clock.aware(item.opens_at), clock.aware(item.closes_at)
    if opens is None or closes is None:
        raise Invalid(str(_l("A round needs an opening and a closing time.")),
                      fields={"opens_at": "required"})
    if closes <= opens:
        raise Invalid(str(_l("A round must close after it opens.")),
                      fields={"closes_at": "order"})
    if opens < clock.aware(conference.opens_at) or closes > clock.aware(conference.closes_at):
        raise Invalid(str(_l("A round must fall within the conference (%(opens)s to "
                             "%(closes)s); change the conference's dates first.",
                             opens=times.spelled(conference.opens_at),
                             closes=times.spelled(conference.closes_at))),
                      fields={"closes_at": "window"})


def round_key(conference: Conference, item: Round) -> str:
    return f"conference:{conference.slug}:round:{item.id}"


def _round_author(conference: Conference, item: Round) -> Member | None:
    candidates = [item.created_by, conference.lead_moderator, *moderators(conference),
                  *hub_services.secretariat_members()]
    for member in candidates:
        if member is not None and access.can_moderate(member, conference.board) \
                and access.can_post(member, conference.board):
            return member
    return None


def ensure_round_topic(conference: Conference, item: Round) -> Topic | None:
    """The round's discussion topic, started with its question when the round has
    opened (through the posting service; the unique external key keeps it to one even
    when several workers try at once)."""
    if item.topic_id is not None:
        return item.topic
    now = clock.now()
    if conference.cancelled_at is not None or now < clock.aware(item.opens_at) \
            or now >= clock.aware(conference.closes_at) \
            or now < clock.aware(conference.opens_at):
        return None
    key = round_key(conference, item)
    topic = db.session.scalar(db.select(Topic).where(Topic.external_key == key))
    if topic is None:
        author = _round_author(conference, item)
        if author is None:
            return None
        title = str(_l("Round %(n)d: %(title)s", n=item.number, title=item.title))[:300]
        round_id = item.id
        try:
            topic = forums.create_topic(author, conference.board, title, item.question,
                                        external_key=key).topic
        except Conflict:
            topic = db.session.scalar(db.select(Topic).where(Topic.external_key == key))
            if topic is None:
                raise
        item = db.session.get(Round, round_id)
    item.topic_id = topic.id
    db.session.commit()
    return topic


def add_round(actor: Member, conference: Conference, data: RoundData) -> Round:
    require_manager(actor, conference)
    refuse_if_cancelled(conference)
    item = Round(conference_id=conference.id, created_by_id=actor.id, title="", question="")
    item.conference = conference
    if data.title is None or data.question is None:
        raise Invalid(str(_l("A round needs a title and a question.")),
                      fields={"title": "required"})
    _apply_round(conference, item, data)
    db.session.add(item)  # in conference.rounds already, through item.conference
    _renumber(conference)
    hub_services.audit(actor, "conference.round", conference, item.title)
    db.session.commit()
    ensure_round_topic(conference, item)
    return item


def get_round(who: Any, conference: Conference, round_id: int) -> Round:
    item = db.session.get(Round, round_id)
    if item is None or item.conference_id != conference.id:
        raise NotFound(str(_l("No such round.")))
    return item


def sync_round_lock(conference: Conference, item: Round, now: datetime | None = None) -> bool:
    """Lock a round's topic when its time is over; unlock it when a moderator extends a
    round the schedule had locked. True when something changed (and is committed).

    Through the forums' lock, in one transaction with the round's own flag, so readers
    with the topic open are told and cached pages of it move on."""
    now = now or clock.now()
    topic = item.topic
    if topic is None or conference.cancelled_at is not None:  # cancelling locked it for good
        return False
    ended = now >= clock.aware(item.closes_at)
    if ended == bool(item.auto_locked):
        return False
    item.auto_locked = ended
    why = (f"conference {conference.slug}: round {item.number} "
           + ("ended" if ended else "extended"))
    moderation.set_locked_by_system(topic, ended, why)
    return True


def update_round(actor: Member, item: Round, data: RoundData) -> Round:
    """Change a round: retitle, reword the question, extend or shorten it."""
    conference = item.conference
    require_manager(actor, conference)
    refuse_if_cancelled(conference)
    _apply_round(conference, item, data)
    _renumber(conference)
    if item.topic is not None:
        # The topic's opening post is the question: edit it through the forums (revision
        # kept, "edited" shown, listeners told), with the topic's title.
        first = db.session.scalar(db.select(Post).where(Post.topic_id == item.topic_id,
                                                        Post.position == 1))
        title = str(_l("Round %(n)d: %(title)s", n=item.number, title=item.title))[:300]
        if first is not None and (first.body != item.question
                                  or item.topic.title != title):
            editing.edit_post(actor, first, item.question, title=title)
    hub_services.audit(actor, "conference.round_update", item, item.title)
    db.session.commit()
    sync_round_lock(conference, item)
    ensure_round_topic(conference, item)
    return item


def delete_round(actor: Member, item: Round) -> None:
    conference = item.conference
    require_manager(actor, conference)
    if item.topic_id is not None:
        raise Conflict(str(_l("This round has started; it can be shortened but not removed.")),
                       code="started")
    conference.rounds.remove(item)
    db.session.delete(item)
    _renumber(conference)
    db.session.commit()


def set_round_locked(actor: Member, item: Round, locked: bool) -> Round:
    refuse_if_cancelled(item.conference)
    if item.topic is None:
        raise Conflict(str(_l("This round has not started yet.")), code="not_started")
    moderation.set_locked(actor, item.topic, locked)
    return item


def set_round_pinned(actor: Member, item: Round, pinned: bool) -> Round:
    if item.topic is None:
        raise Conflict(str(_l("This round has not started yet.")), code="not_started")
    moderation.set_pinned(actor, item.topic, pinned)
    return item


def post_summary(actor: Member, item: Round, body: str) -> Post:
    """A moderator's summary of a round: a reply marked as a summary in the thread.
    Taken after the closing too, until the proceedings are published (the board's
    `summaries_after_close`, which `hub.access` reads)."""
    conference = item.conference
    require_manager(actor, conference)
    if item.topic is None:
        raise Conflict(str(_l("This round has not started yet.")), code="not_started")
    return forums.create_reply(actor, item.topic, body, kind="summary")


def summaries(item: Round) -> list[Post]:
    if item.topic_id is None:
        return []
    return list(db.session.scalars(
        db.select(Post).where(Post.topic_id == item.topic_id, Post.kind == "summary",
                              Post.status == "published", Post.deleted_at.is_(None))
        .order_by(Post.position)))
