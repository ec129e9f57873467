"""The conferences' core, which the other modules build on: the computed lifecycle (a
conference's status from its schedule and the clock), who may see, take part in and
run a conference, reading conferences, their moderators, registrations, held posts and
statistics, and the mail every notice about a conference shares.

Every function owns its transaction and raises `hub.errors`; access is `hub.access` on the
conference's board (moderating the board is managing the conference). Posting, approving,
pinning and locking go through the forums' services, the one posting path. Imports `hub`
and `forums`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from conferences import times
from conferences.models import APPROVED, Conference, Registration, Round
from forums import editing, moderation, urls
from forums.models import Post, Topic
from hub import access, clock, countries
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import GroupMembership, Member, MemberStatus

# The computed lifecycle (and its end when the Secretariat calls a conference off).
DRAFT, ANNOUNCED, REGISTRATION_OPEN, IN_SESSION, CLOSED, PUBLISHED, CANCELLED = (
    "draft", "announced", "registration_open", "in_session", "closed", "published",
    "cancelled")
STATUSES = (DRAFT, ANNOUNCED, REGISTRATION_OPEN, IN_SESSION, CLOSED, PUBLISHED, CANCELLED)
STATUS_LABELS = {
    DRAFT: _l("Draft (not announced)"),
    ANNOUNCED: _l("Announced"),
    REGISTRATION_OPEN: _l("Registration open"),
    IN_SESSION: _l("In session"),
    CLOSED: _l("Closed"),
    PUBLISHED: _l("Proceedings published"),
    CANCELLED: _l("Cancelled"),
}


# -- reading --------------------------------------------------------------------------------

def _published(conference: Conference) -> bool:
    from conferences.models import Proceedings

    return db.session.scalar(
        db.select(Proceedings.id).where(Proceedings.conference_id == conference.id,
                                        Proceedings.published_at.is_not(None))) is not None


def status(conference: Conference, now: datetime | None = None,
           published: bool | None = None) -> str:
    """Where the conference is in its life, from the schedule and the clock alone (or
    cancelled, whatever the clock says)."""
    if conference.cancelled_at is not None:
        return CANCELLED
    now = now or clock.now()
    if not _announced(conference, now):
        return DRAFT
    if now < clock.aware(conference.registration_opens_at) and \
            now < clock.aware(conference.opens_at):
        return ANNOUNCED
    if now < clock.aware(conference.opens_at):
        return REGISTRATION_OPEN
    if now < clock.aware(conference.closes_at):
        return IN_SESSION
    if published if published is not None else _published(conference):
        return PUBLISHED
    return CLOSED


def _announced(conference: Conference, now: datetime) -> bool:
    announced = clock.aware(conference.announced_at)
    return announced is not None and announced <= now


def registration_is_open(conference: Conference, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return (status(conference, now, published=False) not in {DRAFT, CLOSED, CANCELLED}
            and clock.aware(conference.registration_opens_at) <= now
            < clock.aware(conference.registration_deadline))


def current_rounds(conference: Conference, now: datetime | None = None) -> list[Round]:
    now = now or clock.now()
    return [r for r in conference.rounds
            if clock.aware(r.opens_at) <= now < clock.aware(r.closes_at)]


def can_manage(who: Any, conference: Conference) -> bool:
    """The conference's moderators and the Secretariat (moderating its board)."""
    return access.can_moderate(who, conference.board)


def can_see(who: Any, conference: Conference) -> bool:
    """The public page: everyone once announced (cancelled too: it says why); drafts only
    to those who run it."""
    return _announced(conference, clock.now()) or can_manage(who, conference)


def can_take_part(who: Any, conference: Conference) -> bool:
    """May read the discussion (hub.access on the board)."""
    return access.can_read(who, conference.board)


def get_conference(who: Any, slug: str) -> Conference:
    conference = db.session.scalar(db.select(Conference).where(Conference.slug == slug))
    if conference is None or not can_see(who, conference):
        raise NotFound(str(_l("No such e-conference.")))
    return conference


def require_manager(who: Any, conference: Conference) -> Member:
    if not can_manage(who, conference):
        if not access.can_read(who, conference.board):
            raise NotFound(str(_l("No such e-conference.")))
        raise Forbidden(str(_l("Only the conference's moderators and the Secretariat can do "
                               "this.")), code="not_moderator")
    return who


def refuse_if_cancelled(conference: Conference) -> None:
    if conference.cancelled_at is not None:
        raise Conflict(str(_l("This e-conference was cancelled.")), code="cancelled")


def require_participant(who: Any, conference: Conference) -> None:
    """Closed things are invisible to outsiders: 404, never 403."""
    if not can_take_part(who, conference):
        raise NotFound(str(_l("No such e-conference discussion.")))


def visible_conferences(who: Any) -> list[Conference]:
    rows = db.session.scalars(
        db.select(Conference).options(db.joinedload(Conference.board))
        .order_by(Conference.opens_at.desc(), Conference.id.desc()))
    return [c for c in rows if can_see(who, c)]


def published_ids(conferences: Sequence[Conference]) -> set[int]:
    from conferences.models import Proceedings

    if not conferences:
        return set()
    return set(db.session.scalars(
        db.select(Proceedings.conference_id).where(
            Proceedings.conference_id.in_([c.id for c in conferences]),
            Proceedings.published_at.is_not(None))))


@dataclass
class Listing:
    upcoming: list[tuple[Conference, str]] = field(default_factory=list)
    in_session: list[tuple[Conference, str]] = field(default_factory=list)
    past: list[tuple[Conference, str]] = field(default_factory=list)
    drafts: list[tuple[Conference, str]] = field(default_factory=list)


def listing(who: Any) -> Listing:
    rows = visible_conferences(who)
    done = published_ids(rows)
    now = clock.now()
    result = Listing()
    for conference in rows:
        state = status(conference, now, published=conference.id in done)
        bucket = {DRAFT: result.drafts, ANNOUNCED: result.upcoming,
                  REGISTRATION_OPEN: result.upcoming, IN_SESSION: result.in_session
                  }.get(state, result.past)
        bucket.append((conference, state))
    result.upcoming.reverse()  # soonest first
    return result


def moderators(conference: Conference) -> list[Member]:
    return list(db.session.scalars(
        db.select(Member).join(GroupMembership, GroupMembership.member_id == Member.id)
        .where(GroupMembership.group_id == conference.moderators_group_id)
        .order_by(Member.name)))


def registration_of(who: Any, conference: Conference) -> Registration | None:
    if not access.is_active_member(who) and not isinstance(who, Member):
        return None
    return db.session.scalar(db.select(Registration).where(
        Registration.conference_id == conference.id, Registration.member_id == who.id))


def registrations(conference: Conference, statuses: Sequence[str] | None = None
                  ) -> list[Registration]:
    query = (db.select(Registration).where(Registration.conference_id == conference.id)
             .options(db.joinedload(Registration.member))
             .join(Member, Member.id == Registration.member_id)
             .order_by(Registration.created_at, Registration.id))
    if statuses:
        query = query.where(Registration.status.in_(list(statuses)))
    return list(db.session.scalars(query))


def conference_for_board(board_id: int) -> Conference | None:
    return db.session.scalar(db.select(Conference).where(Conference.board_id == board_id))


# -- what the other modules share: a required text, and mail about a conference ----------

def _required_text(value: str | None, name: str, limit: int, missing: Any) -> str:
    """A text someone must give (stripped), of at most `limit` characters."""
    text = (value or "").strip()
    if not text:
        raise Invalid(str(missing), fields={name: "required"})
    if len(text) > limit:
        raise Invalid(str(_l("That is too long (at most %(n)d characters).", n=limit)),
                      fields={name: "too_long"})
    return text


def conference_url(conference: Conference) -> str:
    return urls.absolute("conferences.detail", slug=conference.slug)


def _mail_context(conference: Conference, member: Member) -> dict[str, Any]:
    return {
        "conference": conference, "member": member,
        "url": conference_url(conference),
        "discussion_url": urls.absolute("conferences.discussion", slug=conference.slug),
        "opens": times.for_member(conference.opens_at, member),
        "closes": times.for_member(conference.closes_at, member),
        "list_address": f"{conference.slug}@{current_app.config['HUB_MAIL_DOMAIN']}",
    }


def _mail(member: Member, template: str, conference: Conference, **context: Any) -> None:
    if member.status not in {MemberStatus.ACTIVE, MemberStatus.INVITED}:
        return
    send_mail(member.email, template, language=member.language, name=member.name,
              **{**_mail_context(conference, member), **context})


# -- moderation ---------------------------------------------------------------------------------

def held_posts(actor: Member, conference: Conference) -> list[Post]:
    """Posts waiting for a moderator on this conference's board, oldest first."""
    require_manager(actor, conference)
    return list(db.session.scalars(
        db.select(Post).join(Topic, Post.topic_id == Topic.id)
        .where(Topic.board_id == conference.board_id, Post.status == "held",
               Post.deleted_at.is_(None))
        .options(db.joinedload(Post.topic), db.joinedload(Post.author),
                 db.selectinload(Post.attachments))
        .order_by(Post.created_at, Post.id)).unique())


def edit_and_approve(actor: Member, post: Post, body: str) -> Post:
    """A moderator corrects a held post, then publishes it; the thread shows that a
    moderator edited it."""
    editing.edit_post(actor, post, body)
    if post.status == "held":
        moderation.approve_post(actor, post)
    return post


# -- statistics ---------------------------------------------------------------------------------

@dataclass
class Breakdown:
    key: str
    label: str
    participants: int = 0
    posts: int = 0


@dataclass
class Statistics:
    participants: int
    posters: int
    posts: int
    held: int
    rejected: int
    summaries: int
    by_country: list[Breakdown]
    by_region: list[Breakdown]
    by_org_type: list[Breakdown]
    per_round: list[tuple[int, str, int]]  # (number, title, posts)
    other_posts: int

    @property
    def share_posted(self) -> float:
        return self.posters / self.participants if self.participants else 0.0

    def as_dict(self) -> dict[str, Any]:
        def rows(items: list[Breakdown]) -> list[dict[str, Any]]:
            return [{"key": b.key, "label": b.label, "participants": b.participants,
                     "posts": b.posts} for b in items]

        return {
            "participants": self.participants, "posters": self.posters,
            "share_posted": round(self.share_posted, 4), "posts": self.posts,
            "held": self.held, "rejected": self.rejected, "summaries": self.summaries,
            "by_country": rows(self.by_country), "by_region": rows(self.by_region),
            "by_org_type": rows(self.by_org_type),
            "per_round": [{"number": n, "title": t, "posts": c} for n, t, c in self.per_round],
            "other_posts": self.other_posts,
        }


def contributions_query(conference: Conference) -> Any:
    """Published posts that are contributions: not deleted, not summaries, not a round's
    opening question."""
    question_topics = [r.topic_id for r in conference.rounds if r.topic_id]
    query = (db.select(Post).join(Topic, Post.topic_id == Topic.id)
             .where(Topic.board_id == conference.board_id, Post.status == "published",
                    Post.deleted_at.is_(None), Topic.deleted_at.is_(None),
                    Post.kind == "post"))
    if question_topics:
        query = query.where(~((Post.topic_id.in_(question_topics)) & (Post.position == 1)))
    return query


def statistics(conference: Conference, locale: str | None = None) -> Statistics:
    from hub.forms import ORG_TYPE_LABELS, REGION_LABELS

    locale = locale or "en"
    people = [r.member for r in registrations(conference, [APPROVED])]
    participant_ids = {m.id for m in people}
    posts = list(db.session.execute(
        contributions_query(conference).with_only_columns(
            Post.author_id, Post.topic_id, Member.country, Member.region, Member.org_type)
        .outerjoin(Member, Member.id == Post.author_id)).all())
    status_counts = dict(db.session.execute(
        db.select(Post.status, func.count(Post.id)).join(Topic, Post.topic_id == Topic.id)
        .where(Topic.board_id == conference.board_id, Post.deleted_at.is_(None))
        .group_by(Post.status)).all())
    summary_count = db.session.scalar(
        db.select(func.count(Post.id)).join(Topic, Post.topic_id == Topic.id)
        .where(Topic.board_id == conference.board_id, Post.kind == "summary",
               Post.status == "published", Post.deleted_at.is_(None))) or 0

    def breakdown(attr: str, labels: Any) -> list[Breakdown]:
        table: dict[str, Breakdown] = {}
        for member in people:
            key = getattr(member, attr) or ""
            table.setdefault(key, Breakdown(key, labels(key))).participants += 1
        index = {"country": 2, "region": 3, "org_type": 4}[attr]
        for row in posts:
            key = row[index] or ""
            table.setdefault(key, Breakdown(key, labels(key))).posts += 1
        return sorted(table.values(), key=lambda b: (-b.posts, -b.participants, b.label))

    unknown = str(_l("Not given"))
    per_topic = Counter(row[1] for row in posts)
    rounds = [(r.number, r.title, per_topic.get(r.topic_id, 0) if r.topic_id else 0)
              for r in sorted(conference.rounds, key=lambda r: r.number)]
    round_topics = {r.topic_id for r in conference.rounds if r.topic_id}
    return Statistics(
        participants=len(people),
        posters=len({row[0] for row in posts} & participant_ids),
        posts=len(posts),
        held=status_counts.get("held", 0),
        rejected=status_counts.get("rejected", 0),
        summaries=summary_count,
        by_country=breakdown("country", lambda k: countries.country_name(k, locale)
                             if k else unknown),
        by_region=breakdown("region", lambda k: str(REGION_LABELS.get(k, k)) if k
                            else unknown),
        by_org_type=breakdown("org_type", lambda k: str(ORG_TYPE_LABELS.get(k, k)) if k
                              else unknown),
        per_round=rounds,
        other_posts=sum(c for t, c in per_topic.items() if t not in round_topics),
    )
