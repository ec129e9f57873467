"""After the meeting: proceedings and actionable recommendations, each with an owner (a
member or an organization), a due date, a status (open, in progress, done, dropped) and
dated progress notes; the public follow-up tracker per meeting and across meetings; and
publishing the proceedings, which files the meeting report in the registry through
`hub.events.proceedings_published`. Imports `hub`, `forums`, `meetings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from forums import urls
from hub import access, clock, events, markup
from hub import services as hub_services
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.models import Member
from meetings import services
from meetings.models import REC_STATUSES, Meeting, ProgressNote, Recommendation

STATUS_LABELS = {"open": _l("Open"), "in_progress": _l("In progress"), "done": _l("Done"),
                 "dropped": _l("Dropped")}


def tracker_visible(who: Any, meeting: Meeting) -> bool:
    """Recommendations are public once the meeting is (the tracker is for everyone who
    may see the meeting)."""
    return services.can_see(who, meeting)


def can_update(who: Any, rec: Recommendation) -> bool:
    """Its owner, the meeting's organizers, the Secretariat."""
    if not access.is_active_member(who):
        return False
    return services.can_manage(who, rec.meeting) or (rec.owner_id is not None
                                                     and rec.owner_id == who.id)


@dataclass
class RecommendationData:
    text: str | None = None
    owner_email: str | None = None  # "" clears
    owner_organization: str | None = None
    due_on: date | None = None
    clear_due_on: bool = False
    status: str | None = None


def _apply(rec: Recommendation, data: RecommendationData) -> None:
    if data.text is not None:
        text = data.text.strip()
        if not text:
            raise Invalid(str(_l("The recommendation's text is required.")),
                          fields={"text": "required"})
        rec.text, rec.text_html = text[:10_000], markup.render(text[:10_000])
    if data.owner_email is not None:
        if data.owner_email.strip():
            owner = hub_services.member_by_email(data.owner_email.strip())
            if owner is None or not access.is_active_member(owner):
                raise Invalid(str(_l("%(email)s is not an active member.",
                                     email=data.owner_email.strip())),
                              fields={"owner_email": "unknown"})
            rec.owner_id, rec.owner = owner.id, owner
        else:
            rec.owner_id, rec.owner = None, None
    if data.owner_organization is not None:
        rec.owner_organization = " ".join(data.owner_organization.split())[:200]
    if data.due_on is not None:
        rec.due_on = data.due_on
    if data.clear_due_on:
        rec.due_on = None
    if data.status is not None:
        if data.status not in REC_STATUSES:
            raise Invalid(str(_l("Choose one of the listed values.")),
                          fields={"status": "choice"})
        rec.status = data.status
    if rec.owner_id is None and not rec.owner_organization:
        raise Invalid(str(_l("A recommendation needs an owner: a member or an organization.")),
                      fields={"owner_email": "required"})
    rec.updated_at = clock.now()


def add_recommendation(actor: Member, meeting: Meeting, data: RecommendationData
                       ) -> Recommendation:
    services.require_manager(actor, meeting)
    number = (db.session.scalar(db.select(func.max(Recommendation.number)).where(
        Recommendation.meeting_id == meeting.id)) or 0) + 1
    rec = Recommendation(meeting_id=meeting.id, number=number, text="", status="open")
    db.session.add(rec)
    rec.meeting = meeting
    with db.session.no_autoflush:
        _apply(rec, data)
    hub_services.audit(actor, "meeting.recommendation", meeting, f"#{number}")
    db.session.commit()
    return rec


def get_recommendation(who: Any, meeting: Meeting, rec_id: int) -> Recommendation:
    rec = db.session.get(Recommendation, rec_id)
    if rec is None or rec.meeting_id != meeting.id:
        raise NotFound(str(_l("No such recommendation.")))
    return rec


def update_recommendation(actor: Member, rec: Recommendation, data: RecommendationData
                          ) -> Recommendation:
    services.require_manager(actor, rec.meeting)
    _apply(rec, data)
    db.session.commit()
    return rec


def add_progress(actor: Member, rec: Recommendation, body: str, status: str | None = None
                 ) -> ProgressNote:
    """A dated note on the progress, optionally moving the status."""
    if not can_update(actor, rec):
        raise Forbidden(str(_l("Only the recommendation's owner and the organizers can "
                               "report progress.")), code="not_owner")
    body = (body or "").strip()
    if status is not None and status not in REC_STATUSES:
        raise Invalid(str(_l("Choose one of the listed values.")), fields={"status": "choice"})
    if not body and (status is None or status == rec.status):
        raise Invalid(str(_l("Say what has happened, or change the status.")),
                      fields={"body": "required"})
    note = ProgressNote(recommendation_id=rec.id, author_id=actor.id, body=body[:10_000],
                        body_html=markup.render(body[:10_000]) if body else "",
                        status=status or "")
    if status:
        rec.status = status
    rec.updated_at = clock.now()
    db.session.add(note)
    db.session.commit()
    return note


def tracker(who: Any, status: str = "", owner: str = "") -> list[Recommendation]:
    """Recommendations across the meetings the viewer may see, the soonest due first."""
    seen = db.select(Meeting.id).where(services.visible_condition(who))
    query = db.select(Recommendation).where(Recommendation.meeting_id.in_(seen)).options(
        db.joinedload(Recommendation.meeting), db.joinedload(Recommendation.owner))
    if status in REC_STATUSES:
        query = query.where(Recommendation.status == status)
    rows = list(db.session.scalars(query.order_by(
        Recommendation.due_on.is_(None), Recommendation.due_on, Recommendation.id)))
    if owner:
        needle = owner.lower()
        rows = [r for r in rows if needle in (r.owner_organization or "").lower()
                or (r.owner is not None and needle in r.owner.name.lower())]
    return rows


def overdue(rec: Recommendation, today: date | None = None) -> bool:
    today = today or clock.now().date()
    return rec.status in {"open", "in_progress"} and rec.due_on is not None \
        and rec.due_on < today


# -- proceedings ------------------------------------------------------------------------------

def save_proceedings(actor: Member, meeting: Meeting, text: str) -> Meeting:
    services.require_manager(actor, meeting)
    meeting.proceedings = (text or "").strip()
    meeting.proceedings_html = markup.render(meeting.proceedings)
    db.session.commit()
    return meeting


def publish(actor: Member, meeting: Meeting) -> Meeting:
    """Publish the proceedings (after the meeting): the registry files the meeting report
    (type "meeting_report") for the meeting's country, and updates it when published again."""
    services.require_manager(actor, meeting)
    if not services.is_past(meeting):
        raise Conflict(str(_l("Proceedings are published after the meeting.")),
                       code="not_over")
    if not meeting.proceedings.strip():
        raise Invalid(str(_l("Write the proceedings first.")), fields={"proceedings": "required"})
    meeting.proceedings_published_at = clock.now()
    hub_services.audit(actor, "meeting.proceedings.publish", meeting, meeting.slug)
    db.session.commit()
    area = meeting.thematic_area
    partners = ", ".join(o.name for o in meeting.organizers)
    events.proceedings_published.send(
        current_app._get_current_object(),
        event=events.ProceedingsEvent(
            key=f"meeting:{meeting.slug}", title=meeting.title,
            url=urls.absolute("meetings.followup", slug=meeting.slug),
            pdf_url=None,
            timeframe_start=clock.aware(meeting.starts_at).date(),
            timeframe_end=clock.aware(meeting.ends_at).date(),
            organization=partners or current_app.config.get("HUB_NAME", ""),
            thematic_areas=(area.slug,) if area else (),
            keywords=(meeting.kind, meeting.level), actor_id=actor.id,
            report_type="meeting_report",
            countries=(meeting.country,) if meeting.country else ()))
    return meeting
