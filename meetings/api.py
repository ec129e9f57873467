"""The meetings' JSON API under /api/v1/meetings, with the pages' access rules: the
calendar, a meeting, registration (RSVP), participants' submissions, recommendations and
their progress, and the proceedings. A meeting's discussion is the board named in
`board` (forums endpoints). Imports `hub`, `forums`, `meetings`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, jsonify, request

from forums import urls
from hub import api
from hub.errors import Invalid, NotFound
from hub.i18n import isotime
from meetings import followup, registration, services, submissions
from meetings.models import Meeting, Recommendation, Registration

bp = api.blueprint("meetings_api", __name__)

_TIME = {"type": "string", "format": "date-time"}
_MEETING_SCHEMA = {"type": "object", "properties": {
    "slug": {"type": "string"}, "title": {"type": "string"},
    "kind": {"type": "string", "enum": ["roundtable", "workshop", "consultation", "liaison",
                                         "webinar"]},
    "level": {"type": "string", "enum": ["national", "regional", "global"]},
    "region": {"type": "string"}, "country": {"type": "string"},
    "theme": {"type": "string"}, "description": {"type": "string"},
    "timezone": {"type": "string"}, "starts_at": _TIME, "ends_at": _TIME,
    "venue": {"type": "string"}, "online_url": {"type": "string"},
    "visibility": {"type": "string", "enum": ["public", "members", "group"]},
    "group": {"type": "string"}, "capacity": {"type": "integer", "nullable": True},
    "requires_approval": {"type": "boolean"}, "registration_open": {"type": "boolean"},
    "submission_deadline": {**_TIME, "nullable": True}, "discussion": {"type": "boolean"},
    "announce": {"type": "boolean"},
    "organizers": {"type": "array", "items": {"type": "string", "format": "email"}}}}
_REC_SCHEMA = {"type": "object", "properties": {
    "text": {"type": "string"}, "owner_email": {"type": "string"},
    "owner_organization": {"type": "string"}, "due_on": {"type": "string", "format": "date"},
    "status": {"type": "string", "enum": ["open", "in_progress", "done", "dropped"]}}}


_UNKNOWN: Any = object()


def meeting_json(meeting: Meeting, viewer: Any, mine: Any = _UNKNOWN,
                 confirmed: int | None = None) -> dict[str, Any]:
    """One meeting; lists pass the viewer's registration and the confirmed count they
    read for all meetings at once."""
    if mine is _UNKNOWN:
        mine = registration.registration_of(viewer, meeting)
    participant = mine is not None and mine.status == "confirmed"
    manager = services.can_manage(viewer, meeting)
    return {
        "slug": meeting.slug, "title": meeting.title, "kind": meeting.kind,
        "level": meeting.level, "region": meeting.region, "country": meeting.country,
        "theme": meeting.thematic_area.slug if meeting.thematic_area else None,
        "description": meeting.description, "description_html": meeting.description_html,
        "timezone": meeting.timezone, "starts_at": isotime(meeting.starts_at),
        "ends_at": isotime(meeting.ends_at),
        "starts_at_local": services.local(meeting, meeting.starts_at).isoformat(),
        "ends_at_local": services.local(meeting, meeting.ends_at).isoformat(),
        "venue": meeting.venue,
        "online_url": meeting.online_url if (participant or manager) else None,
        "visibility": meeting.visibility,
        "group": meeting.group.slug if meeting.group else None,
        "board": meeting.board.slug if meeting.board else None,
        "capacity": meeting.capacity, "places_left": registration.places_left(meeting, confirmed),
        "requires_approval": meeting.requires_approval,
        "registration_open": meeting.registration_open,
        "submission_deadline": isotime(meeting.submission_deadline),
        "announced": meeting.announced_at is not None,
        "co_organizers": [{"name": o.name, "url": o.url or None,
                           "logo": urls.absolute("meetings.organizer_logo", slug=meeting.slug,
                                                 item_id=o.id) if o.logo_sha256 else None}
                          for o in meeting.organizers],
        "agenda": [{"title": a.title, "description": a.description,
                    "starts_at": isotime(a.starts_at)} for a in meeting.agenda],
        "documents": [{"title": d.title, "language": d.language,
                       "url": urls.absolute("meetings.document", slug=meeting.slug,
                                            document_id=d.id, filename=d.filename)
                       if d.sha256 else d.url} for d in meeting.documents],
        "my_registration": registration_json(mine) if mine else None,
        "url": services.meeting_url(meeting),
        "ics_url": urls.absolute("meetings.meeting_ics", slug=meeting.slug),
        "proceedings_published_at": isotime(meeting.proceedings_published_at),
    }


def registration_json(row: Registration) -> dict[str, Any]:
    return {"id": row.id, "status": row.status, "source": row.source,
            "member": {"id": row.member.id, "name": row.member.name},
            "created_at": isotime(row.created_at)}


def rec_json(rec: Recommendation) -> dict[str, Any]:
    return {"id": rec.id, "meeting": rec.meeting.slug, "number": rec.number,
            "text": rec.text, "html": rec.text_html,
            "owner": ({"id": rec.owner.id, "name": rec.owner.name} if rec.owner else None),
            "owner_organization": rec.owner_organization or None,
            "due_on": rec.due_on.isoformat() if rec.due_on else None, "status": rec.status,
            "overdue": followup.overdue(rec),
            "notes": [{"body": n.body, "status": n.status or None,
                       "author": n.author.name if n.author else None,
                       "created_at": isotime(n.created_at)} for n in rec.notes]}


def _time(data: dict[str, Any], name: str) -> datetime | None:
    raw = data.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError as exc:
        raise Invalid(f"'{name}' must be an ISO 8601 time.", fields={name: "format"}) from exc
    if value.tzinfo is None:
        raise Invalid(f"'{name}' needs a time zone offset.", fields={name: "naive"})
    return value


def _date(data: dict[str, Any], name: str) -> date | None:
    raw = data.get(name)
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise Invalid(f"'{name}' must be a date (YYYY-MM-DD).", fields={name: "format"}) from exc


def _data(data: dict[str, Any]) -> services.MeetingData:
    texts = {n: api.field(data, n, required=False) for n in (
        "slug", "title", "kind", "level", "region", "country", "theme", "description",
        "timezone", "venue", "online_url", "visibility", "group")}
    flags = {n: api.field(data, n, bool, required=False) for n in (
        "requires_approval", "registration_open", "discussion", "announce")}
    organizers = api.field(data, "organizers", list, required=False)
    capacity = api.field(data, "capacity", int, required=False)
    return services.MeetingData(
        **texts, **flags, capacity=capacity,
        clear_capacity="capacity" in data and data["capacity"] is None,
        starts_at=_time(data, "starts_at"), ends_at=_time(data, "ends_at"),
        submission_deadline=_time(data, "submission_deadline"),
        clear_submission_deadline="submission_deadline" in data
        and data["submission_deadline"] is None,
        organizers=[str(e) for e in organizers] if organizers is not None else None)


def _meeting(slug: str) -> Meeting:
    return services.get_meeting(api.caller(), slug)


@bp.get("/meetings")
@api.api_view
def calendar() -> Any:
    """The calendar: upcoming meetings (?past=1 for past ones); filters level, region,
    country, theme, kind."""
    args = request.args
    filters = services.Filters(level=args.get("level", ""), region=args.get("region", ""),
                               country=args.get("country", ""), theme=args.get("theme", ""),
                               kind=args.get("kind", ""))
    viewer = api.caller()
    rows = services.calendar(viewer, filters, past=args.get("past") == "1",
                             limit=api.limit_arg(100, 500), details=True)
    mine = registration.registrations_of(viewer, rows)
    counts = registration.confirmed_counts(rows)
    return api.page([meeting_json(m, viewer, mine.get(m.id), counts.get(m.id, 0))
                     for m in rows], None)


@bp.post("/meetings")
@api.schema(_MEETING_SCHEMA)
@api.api_view
def create() -> Any:
    """Create a meeting (the Secretariat, or a group's chair for the group); 201."""
    actor = api.require_member()
    meeting = services.create_meeting(actor, _data(api.body()))
    return jsonify(meeting_json(meeting, actor)), 201


@bp.get("/meetings/<slug>")
@api.api_view
def detail(slug: str) -> Any:
    """One meeting."""
    return jsonify(meeting_json(_meeting(slug), api.caller()))


@bp.patch("/meetings/<slug>")
@api.schema(_MEETING_SCHEMA)
@api.api_view
def update(slug: str) -> Any:
    """Change a meeting (its organizers, the Secretariat, the group's chair)."""
    actor = api.require_member()
    meeting = _meeting(slug)
    services.update_meeting(actor, meeting, _data(api.body()))
    return jsonify(meeting_json(meeting, actor))


@bp.get("/meetings/<slug>/registrations")
@api.api_view
def registrations(slug: str) -> Any:
    """Everyone's registrations (organizers)."""
    actor = api.require_member()
    meeting = _meeting(slug)
    services.require_manager(actor, meeting)
    return api.page([registration_json(r) for r in registration.registrations(meeting)], None)


@bp.post("/meetings/<slug>/registrations")
@api.schema({"type": "object", "properties": {"note": {"type": "string"}}})
@api.api_view
def register(slug: str) -> Any:
    """Register (RSVP): {id, status} with status confirmed, waitlisted or pending; 201."""
    member = api.require_member()
    meeting = _meeting(slug)
    data = request.get_json(silent=True) or {}
    note = data.get("note", "") if isinstance(data, dict) else ""
    row = registration.register(member, meeting, str(note or ""), source="api")
    return jsonify(registration_json(row)), 201


@bp.delete("/meetings/<slug>/registrations/mine")
@api.api_view
def cancel(slug: str) -> Any:
    """Cancel my registration (a place I held goes to the waiting list)."""
    member = api.require_member()
    row = registration.cancel(member, _meeting(slug))
    return jsonify(registration_json(row))


@bp.post("/meetings/<slug>/registrations/<int:registration_id>/<any(approve, decline):action>")
@api.api_view
def decide(slug: str, registration_id: int, action: str) -> Any:
    """Approve or decline a registration (organizers); decline takes {reason}."""
    actor = api.require_member()
    meeting = _meeting(slug)
    row = registration.get_registration(actor, meeting, registration_id)
    if action == "approve":
        registration.approve(actor, row)
    else:
        data = request.get_json(silent=True) or {}
        registration.decline(actor, row, str(data.get("reason", "")) if isinstance(data, dict)
                             else "")
    return jsonify(registration_json(row))


@bp.get("/meetings/<slug>/submissions")
@api.api_view
def list_submissions(slug: str) -> Any:
    """The compiled pre-meeting submissions (participants and organizers)."""
    viewer = api.require_member()
    meeting = _meeting(slug)
    if not submissions.can_read(viewer, meeting):
        raise NotFound("No such meeting's submissions.")
    items = [{"kind": s.kind, "label": s.label,
              "items": [{**i, "updated_at": isotime(i["updated_at"])} for i in s.items]}
             for s in submissions.compiled(meeting)]
    return api.page(items, None)


@bp.post("/meetings/<slug>/submissions")
@api.schema({"type": "object", "properties": {
    "kind": {"type": "string", "enum": ["activities", "project_report", "work_plan",
                                         "collaboration"]},
    "body": {"type": "string"}}})
@api.api_view
def submit(slug: str) -> Any:
    """Submit (or replace) my submission of one kind; 201."""
    member = api.require_member()
    data = api.body()
    row = submissions.submit(member, _meeting(slug), api.field(data, "kind"),
                             api.field(data, "body"))
    return jsonify({"id": row.id, "kind": row.kind, "body": row.body,
                    "updated_at": isotime(row.updated_at)}), 201


@bp.get("/meetings/recommendations")
@api.api_view
def tracker() -> Any:
    """Recommendations across the meetings the caller may see; ?status=, ?owner=."""
    rows = followup.tracker(api.caller(), request.args.get("status", ""),
                            request.args.get("owner", ""))
    return api.page([rec_json(r) for r in rows], None)


@bp.get("/meetings/<slug>/recommendations")
@api.api_view
def recommendations(slug: str) -> Any:
    """A meeting's recommendations with their progress notes."""
    meeting = _meeting(slug)
    return api.page([rec_json(r) for r in meeting.recommendations], None)


def _rec_data(data: dict[str, Any]) -> followup.RecommendationData:
    return followup.RecommendationData(
        text=api.field(data, "text", required=False),
        owner_email=api.field(data, "owner_email", required=False),
        owner_organization=api.field(data, "owner_organization", required=False),
        due_on=_date(data, "due_on"), clear_due_on="due_on" in data and not data["due_on"],
        status=api.field(data, "status", required=False))


@bp.post("/meetings/<slug>/recommendations")
@api.schema(_REC_SCHEMA)
@api.api_view
def add_recommendation(slug: str) -> Any:
    """Add a recommendation (organizers); 201."""
    actor = api.require_member()
    rec = followup.add_recommendation(actor, _meeting(slug), _rec_data(api.body()))
    return jsonify(rec_json(rec)), 201


@bp.patch("/meetings/<slug>/recommendations/<int:rec_id>")
@api.schema(_REC_SCHEMA)
@api.api_view
def edit_recommendation(slug: str, rec_id: int) -> Any:
    """Change a recommendation (organizers)."""
    actor = api.require_member()
    meeting = _meeting(slug)
    rec = followup.get_recommendation(actor, meeting, rec_id)
    followup.update_recommendation(actor, rec, _rec_data(api.body()))
    return jsonify(rec_json(rec))


@bp.post("/meetings/<slug>/recommendations/<int:rec_id>/progress")
@api.schema({"type": "object", "properties": {
    "body": {"type": "string"},
    "status": {"type": "string", "enum": ["open", "in_progress", "done", "dropped"]}}})
@api.api_view
def progress(slug: str, rec_id: int) -> Any:
    """Record progress (its owner or the organizers): {body, status}; 201."""
    actor = api.require_member()
    meeting = _meeting(slug)
    rec = followup.get_recommendation(actor, meeting, rec_id)
    data = api.body()
    followup.add_progress(actor, rec, api.field(data, "body", required=False) or "",
                          api.field(data, "status", required=False))
    return jsonify(rec_json(rec)), 201


@bp.post("/meetings/<slug>/proceedings")
@api.schema({"type": "object", "properties": {"text": {"type": "string"},
                                              "publish": {"type": "boolean"}}})
@api.api_view
def proceedings(slug: str) -> Any:
    """Save the proceedings (Markdown) and, with publish: true, publish them (the registry
    files the meeting report)."""
    actor = api.require_member()
    meeting = _meeting(slug)
    data = api.body()
    followup.save_proceedings(actor, meeting, api.field(data, "text"))
    if api.field(data, "publish", bool, required=False):
        followup.publish(actor, meeting)
    return jsonify({"url": urls.absolute("meetings.followup", slug=meeting.slug),
                    "published_at": isotime(meeting.proceedings_published_at)})


def init_app(app: Flask) -> None:
    api.register(app, bp)
