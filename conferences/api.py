"""The conferences' JSON API (DESIGN.md §4), under /api/v1 with the pages' access rules.

The discussion itself is the board named in `board`: its topics and posts go through the
forums' endpoints (`/boards/{board}/topics`, `/topics/{id}/posts`, `/posts/{id}/approve`
...), where `hub.access` on the board answers 404 to outsiders. Imports `hub`, `forums`,
`conferences`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, jsonify, request

from conferences import agenda, cancellation, editing, participation, services
from conferences import proceedings as proc
from conferences.models import Conference, Registration, Round
from forums import urls
from forums.api import post_json
from hub import access, api, content
from hub.errors import Forbidden, Invalid, NotFound
from hub.i18n import isotime
from hub.models import Member

bp = api.blueprint("conferences_api", __name__)

_TIME = {"type": "string", "format": "date-time"}
_CONFERENCE_SCHEMA = {
    "type": "object",
    "properties": {
        "slug": {"type": "string"}, "title": {"type": "string"},
        "theme": {"type": "string"}, "description": {"type": "string"},
        "registration_opens_at": _TIME,
        "registration_closes_at": {**_TIME, "nullable": True},
        "opens_at": _TIME, "closes_at": _TIME,
        "premoderated": {"type": "boolean"}, "auto_approve": {"type": "boolean"},
        "moderators": {"type": "array", "items": {"type": "string", "format": "email"}},
        "lead_moderator": {"type": "string", "format": "email"},
        "contact_name": {"type": "string"}, "contact_email": {"type": "string"},
        "thematic_area": {"type": "string", "nullable": True},
        "keywords": {"type": "string"}, "announce": {"type": "boolean"},
        "source_lang": {"type": "string", "enum": ["en", "es", "fr"]},
        "translations": {"type": "object",
                         "description": "language -> {title, theme, description}"},
        "countries": {"type": "array", "items": {"type": "string"}},
    },
}
_ROUND_SCHEMA = {"type": "object", "properties": {
    "title": {"type": "string"}, "question": {"type": "string"},
    "opens_at": _TIME, "closes_at": _TIME,
    "source_lang": {"type": "string", "enum": ["en", "es", "fr"]},
    "translations": {"type": "object", "description": "language -> {title, question}"}}}


# -- JSON shapes ------------------------------------------------------------------------------

def conference_json(conference: Conference, viewer: Any) -> dict[str, Any]:
    state = services.status(conference)
    manager = services.can_manage(viewer, conference)
    lead = conference.lead_moderator
    data: dict[str, Any] = {
        "slug": conference.slug,
        **content.payload(conference, ("title", "theme", "description", "description_html")),
        "board": conference.board.slug,
        "status": state,
        "cancelled_at": isotime(conference.cancelled_at),
        "cancel_reason": conference.cancel_reason if conference.cancelled_at else None,
        "registration_opens_at": isotime(conference.registration_opens_at),
        "registration_closes_at": isotime(conference.registration_deadline),
        "opens_at": isotime(conference.opens_at),
        "closes_at": isotime(conference.closes_at),
        "registration_open": services.registration_is_open(conference),
        "premoderated": conference.board.premoderated,
        "auto_approve": conference.auto_approve,
        "moderators": [{"id": m.id, "name": m.name, "lead": lead is not None and m.id == lead.id}
                       for m in services.moderators(conference)],
        "contact": {"name": conference.contact_name, "email": conference.contact_email},
        "partners": [{"name": p.name, "url": p.url or None,
                      "logo": urls.absolute("conferences.partner_logo", slug=conference.slug,
                                            partner_id=p.id) if p.logo_sha256 else None}
                     for p in conference.partners],
        "documents": [{"title": d.title,
                       "url": d.url or urls.absolute("conferences.document",
                                                     slug=conference.slug, document_id=d.id,
                                                     filename=d.filename)}
                      for d in conference.documents],
        "rounds": [round_json(r, viewer, conference) for r in conference.rounds],
        "thematic_area": conference.board.thematic_area.slug
        if conference.board.thematic_area else None,
        "keywords": conference.keyword_list,
        "countries": list(conference.countries or []),
        "archive": editing.archive_state(conference),
        "list_address": f"{conference.slug}@{_domain()}",
        "url": urls.absolute("conferences.detail", slug=conference.slug),
        "proceedings": None,
    }
    row = proc.get(conference)
    if row is not None and row.is_published:
        data["proceedings"] = proc.public_urls(conference)
    if manager:
        data["announced_at"] = isotime(conference.announced_at)
    registration = services.registration_of(viewer, conference) if viewer else None
    data["registration"] = registration_json(registration, False) if registration else None
    return data


def _domain() -> str:
    from flask import current_app

    return current_app.config["HUB_MAIL_DOMAIN"]


def round_json(item: Round, viewer: Any, conference: Conference) -> dict[str, Any]:
    takes_part = services.can_take_part(viewer, conference)  # the question is theirs
    texts = content.payload(item, ("title", "question", "question_html") if takes_part
                            else ("title",))
    if not takes_part:
        texts.pop("translations", None)
    data: dict[str, Any] = {"id": item.id, "number": item.number, **texts,
                            "opens_at": isotime(item.opens_at),
                            "closes_at": isotime(item.closes_at)}
    if takes_part:
        data.update(
                    topic_id=item.topic_id,
                    locked=bool(item.topic and item.topic.locked),
                    pinned=bool(item.topic and item.topic.pinned))
    return data


def registration_json(row: Registration, manager: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"id": row.id, "status": row.status, "source": row.source,
                            "anonymous": row.anonymous, "created_at": isotime(row.created_at),
                            "decided_at": isotime(row.decided_at)}
    if row.reason:
        data["reason"] = row.reason
    if manager:
        member: Member = row.member
        data.update(motivation=row.motivation,
                    member={"id": member.id, "name": member.name, "email": member.email,
                            "organization": member.organization, "country": member.country,
                            "status": member.status})
    return data


# -- helpers ---------------------------------------------------------------------------------

def _time(data: dict[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"'{name}' must be an ISO 8601 time with an offset.", fields={name: "type"})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid(f"'{name}' must be an ISO 8601 time with an offset.",
                      fields={name: "format"}) from exc
    if parsed.tzinfo is None:
        raise Invalid(f"'{name}' needs a time zone offset (e.g. +00:00).",
                      fields={name: "naive"})
    return parsed


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return "" if name in data else None
    if not isinstance(value, str):
        raise Invalid(f"'{name}' must be a string.", fields={name: "type"})
    return value


def _bool(data: dict[str, Any], name: str) -> bool | None:
    if name not in data or data[name] is None:
        return None
    if not isinstance(data[name], bool):
        raise Invalid(f"'{name}' must be true or false.", fields={name: "type"})
    return data[name]


def _conference_data(data: dict[str, Any]) -> editing.ConferenceData:
    moderators = data.get("moderators")
    if moderators is not None and (not isinstance(moderators, list)
                                   or not all(isinstance(m, str) for m in moderators)):
        raise Invalid("'moderators' must be a list of email addresses.",
                      fields={"moderators": "type"})
    return editing.ConferenceData(
        slug=_text(data, "slug"), title=_text(data, "title"), theme=_text(data, "theme"),
        description=_text(data, "description"),
        registration_opens_at=_time(data, "registration_opens_at"),
        registration_closes_at=_time(data, "registration_closes_at"),
        clear_registration_closes_at="registration_closes_at" in data
        and data["registration_closes_at"] is None,
        opens_at=_time(data, "opens_at"), closes_at=_time(data, "closes_at"),
        premoderated=_bool(data, "premoderated"), auto_approve=_bool(data, "auto_approve"),
        moderators=moderators, lead_moderator=_text(data, "lead_moderator") or None,
        contact_name=_text(data, "contact_name"), contact_email=_text(data, "contact_email"),
        thematic_area=_text(data, "thematic_area"), keywords=_text(data, "keywords"),
        announce=_bool(data, "announce"), countries=_countries(data),
        translations=content.from_json(data, Conference) if "translations" in data else None,
        source_lang=content.source_lang_from_json(data))


def _countries(data: dict[str, Any]) -> list[str] | None:
    value = data.get("countries")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise Invalid("'countries' must be a list of ISO country codes.",
                      fields={"countries": "type"})
    return value


def _round_data(data: dict[str, Any]) -> agenda.RoundData:
    return agenda.RoundData(title=_text(data, "title"), question=_text(data, "question"),
                            opens_at=_time(data, "opens_at"),
                            closes_at=_time(data, "closes_at"),
                            translations=content.from_json(data, Round)
                            if "translations" in data else None,
                            source_lang=content.source_lang_from_json(data))


def _conference(slug: str) -> Conference:
    return services.get_conference(api.caller(), slug)


# -- conferences ------------------------------------------------------------------------------

@bp.get("/conferences")
@api.api_view
def conferences() -> Any:
    """E-conferences the caller may see; `status` filters (announced, registration_open,
    in_session, closed, published)."""
    viewer = api.caller()
    wanted = request.args.get("status") or None
    if wanted and wanted not in services.STATUSES:
        raise Invalid("Unknown status.", fields={"status": "choice"})
    rows = [c for c in services.visible_conferences(viewer)
            if wanted is None or services.status(c) == wanted]
    return api.page([conference_json(c, viewer) for c in rows], None)


@bp.post("/conferences")
@api.schema(_CONFERENCE_SCHEMA)
@api.api_view
def create() -> Any:
    """Create an e-conference with its closed board (Secretariat); 201."""
    actor = api.require_secretariat()
    data = api.body()
    for name in ("slug", "title", "registration_opens_at", "opens_at", "closes_at"):
        api.field(data, name)
    conference = editing.create_conference(actor, _conference_data(data))
    return jsonify(conference_json(conference, actor)), 201


@bp.get("/conferences/<slug>")
@api.api_view
def conference(slug: str) -> Any:
    """One e-conference: its public details, and for participants the round questions."""
    viewer = api.caller()
    return jsonify(conference_json(_conference(slug), viewer))


@bp.patch("/conferences/<slug>")
@api.schema(_CONFERENCE_SCHEMA)
@api.api_view
def update(slug: str) -> Any:
    """Change an e-conference (Secretariat; moderators change content and dates); fields
    left out stay as they are."""
    actor = api.require_member()
    item = _conference(slug)
    data = api.body()
    data.pop("slug", None)
    editing.update_conference(actor, item, _conference_data(data))
    if "archive" in data:
        editing.set_archive(actor, item, api.field(data, "archive"))
    return jsonify(conference_json(item, actor))


@bp.post("/conferences/<slug>/cancel")
@api.schema({"type": "object", "required": ["reason"],
             "properties": {"reason": {"type": "string"}}})
@api.api_view
def cancel(slug: str) -> Any:
    """Cancel an e-conference that has not closed (Secretariat): {reason}, emailed to its
    registrants, participants and moderators; the conference, status "cancelled"."""
    actor = api.require_secretariat()
    item = _conference(slug)
    cancellation.cancel_conference(actor, item, api.field(api.body(), "reason"))
    return jsonify(conference_json(item, actor))


@bp.delete("/conferences/<slug>")
@api.api_view
def delete(slug: str) -> Any:
    """Delete an e-conference made by mistake (Secretariat): one that never opened or
    where nobody has posted, with its board, groups, rounds, registrations and
    documents; 204, or 409 with the reason it stays."""
    actor = api.require_secretariat()
    cancellation.delete_conference(actor, _conference(slug))
    return "", 204


# -- registrations -------------------------------------------------------------------------------

@bp.get("/conferences/<slug>/registrations")
@api.api_view
def registrations(slug: str) -> Any:
    """Registrations (moderators and the Secretariat); `status` filters."""
    actor = api.require_member()
    item = _conference(slug)
    services.require_manager(actor, item)
    wanted = request.args.get("status")
    rows = services.registrations(item, [wanted] if wanted else None)
    return api.page([registration_json(r, True) for r in rows], None)


@bp.post("/conferences/<slug>/registrations")
@api.schema({"type": "object", "required": ["motivation"], "properties": {
    "motivation": {"type": "string"}, "anonymous": {"type": "boolean"}}})
@api.api_view
def apply(slug: str) -> Any:
    """Register: {motivation, anonymous}; {id, status} ("pending", or "approved" when the
    conference approves automatically)."""
    member = api.require_member()
    item = _conference(slug)
    data = api.body()
    row = participation.apply(member, item, api.field(data, "motivation"),
                              bool(_bool(data, "anonymous")))
    return jsonify(registration_json(row, False)), 201


@bp.get("/conferences/<slug>/registration")
@api.api_view
def my_registration(slug: str) -> Any:
    """The caller's own registration (404 when there is none)."""
    member = api.require_member()
    row = services.registration_of(member, _conference(slug))
    if row is None:
        raise NotFound("You are not registered.")
    return jsonify(registration_json(row, False))


@bp.patch("/conferences/<slug>/registration")
@api.schema({"type": "object", "properties": {"anonymous": {"type": "boolean"}}})
@api.api_view
def update_registration(slug: str) -> Any:
    """Change the caller's choice to be named in the proceedings: {anonymous}."""
    member = api.require_member()
    row = participation.set_anonymous(member, _conference(slug),
                                      api.field(api.body(), "anonymous", bool))
    return jsonify(registration_json(row, False))


@bp.post("/conferences/<slug>/registration/accept")
@api.api_view
def accept(slug: str) -> Any:
    """Accept an invitation to the conference."""
    member = api.require_member()
    return jsonify(registration_json(participation.accept_invitation(member, _conference(slug)),
                                     False))


@bp.delete("/conferences/<slug>/registration")
@api.api_view
def withdraw(slug: str) -> Any:
    """Leave the conference."""
    member = api.require_member()
    participation.withdraw(member, _conference(slug))
    return "", 204


@bp.post("/conferences/<slug>/registrations/<int:registration_id>/approve")
@api.api_view
def approve(slug: str, registration_id: int) -> Any:
    """Approve a registration (moderators and the Secretariat); the member is told."""
    actor = api.require_member()
    item = _conference(slug)
    row = participation.approve(actor, participation.get_registration(actor, item, registration_id))
    return jsonify(registration_json(row, True))


@bp.post("/conferences/<slug>/registrations/<int:registration_id>/decline")
@api.schema({"type": "object", "required": ["reason"],
             "properties": {"reason": {"type": "string"}}})
@api.api_view
def decline(slug: str, registration_id: int) -> Any:
    """Decline a registration with a reason, emailed to the applicant in their language."""
    actor = api.require_member()
    item = _conference(slug)
    row = participation.get_registration(actor, item, registration_id)
    participation.decline(actor, row, api.field(api.body(), "reason"))
    return jsonify(registration_json(row, True))


@bp.post("/conferences/<slug>/invitations")
@api.schema({"type": "object", "properties": {
    "emails": {"type": "array", "items": {"type": "string"}},
    "group": {"type": "string"}}})
@api.api_view
def invitations(slug: str) -> Any:
    """Invite people: {emails: ["Name <a@b>", ...], group: slug}. New addresses get an
    account to finish on the way in (moderators and the Secretariat)."""
    actor = api.require_member()
    item = _conference(slug)
    data = api.body()
    emails = api.field(data, "emails", list, required=False, default=[])
    if not all(isinstance(e, str) for e in emails):
        raise Invalid("'emails' must be a list of strings.", fields={"emails": "type"})
    report = participation.invite(actor, item, "\n".join(emails),
                                  api.field(data, "group", required=False, default="") or "")
    return jsonify({"invited": report.invited, "new": report.new,
                    "skipped": [{"email": e, "reason": r} for e, r in report.skipped]}), 201


# -- rounds -----------------------------------------------------------------------------------

@bp.get("/conferences/<slug>/rounds")
@api.api_view
def rounds(slug: str) -> Any:
    """The agenda: rounds with their dates (questions for participants)."""
    viewer = api.caller()
    item = _conference(slug)
    return api.page([round_json(r, viewer, item) for r in item.rounds], None)


@bp.post("/conferences/<slug>/rounds")
@api.schema({**_ROUND_SCHEMA, "required": ["title", "question", "opens_at", "closes_at"]})
@api.api_view
def add_round(slug: str) -> Any:
    """Add a round (moderators and the Secretariat); its topic starts when it opens."""
    actor = api.require_member()
    item = _conference(slug)
    data = api.body()
    for name in ("title", "question", "opens_at", "closes_at"):
        api.field(data, name)
    row = agenda.add_round(actor, item, _round_data(data))
    return jsonify(round_json(row, actor, item)), 201


@bp.patch("/conferences/<slug>/rounds/<int:round_id>")
@api.schema({**_ROUND_SCHEMA, "properties": {**_ROUND_SCHEMA["properties"],
                                             "locked": {"type": "boolean"},
                                             "pinned": {"type": "boolean"}}})
@api.api_view
def update_round(slug: str, round_id: int) -> Any:
    """Change a round: extend or shorten it (dates), retitle, lock, pin."""
    actor = api.require_member()
    item = _conference(slug)
    row = agenda.get_round(actor, item, round_id)
    data = api.body()
    changes = _round_data(data)
    if any(v is not None for v in (changes.title, changes.question, changes.opens_at,
                                   changes.closes_at)):
        agenda.update_round(actor, row, changes)
    if _bool(data, "locked") is not None:
        agenda.set_round_locked(actor, row, data["locked"])
    if _bool(data, "pinned") is not None:
        agenda.set_round_pinned(actor, row, data["pinned"])
    return jsonify(round_json(row, actor, item))


@bp.post("/conferences/<slug>/rounds/<int:round_id>/summary")
@api.schema({"type": "object", "required": ["body"],
             "properties": {"body": {"type": "string"}}})
@api.api_view
def round_summary(slug: str, round_id: int) -> Any:
    """Post a moderator's summary of a round (a post of kind "summary"); 201."""
    actor = api.require_member()
    item = _conference(slug)
    post = agenda.post_summary(actor, agenda.get_round(actor, item, round_id),
                               api.field(api.body(), "body"))
    return jsonify(post_json(post, True)), 201


# -- moderation and statistics ---------------------------------------------------------------------

@bp.get("/conferences/<slug>/held")
@api.api_view
def held(slug: str) -> Any:
    """Posts waiting for approval, oldest first (moderators); decide with
    POST /posts/{id}/approve or /posts/{id}/reject {reason}."""
    actor = api.require_member()
    item = _conference(slug)
    return api.page([{**post_json(p, True), "topic_title": p.topic.title}
                     for p in services.held_posts(actor, item)], None)


@bp.get("/conferences/<slug>/statistics")
@api.api_view
def statistics(slug: str) -> Any:
    """Participants and contributions by country, region and type of organization, the
    share of participants who posted, contributions per round (moderators)."""
    actor = api.require_member()
    item = _conference(slug)
    services.require_manager(actor, item)
    locale = actor.language if actor.language else "en"
    return jsonify(services.statistics(item, locale).as_dict())


# -- proceedings -----------------------------------------------------------------------------

def _proceedings_json(item: Conference, row: Any, draft: bool) -> dict[str, Any]:
    data = proc.edition(row) if draft else dict(row.edition)
    data.pop("default_summaries", None)
    data["status"] = "published" if row.is_published else "draft"
    data["summaries"] = row.summaries if draft else None
    if row.is_published:
        data.update(proc.public_urls(item))
        data["published_at"] = isotime(row.published_at)
    return data


@bp.get("/conferences/<slug>/proceedings")
@api.api_view
def proceedings(slug: str) -> Any:
    """The published proceedings (anyone); the Secretariat adds ?draft=1 for the draft."""
    viewer = api.caller()
    item = _conference(slug)
    if request.args.get("draft") == "1":
        if not access.is_secretariat(viewer):
            raise Forbidden("Only the Secretariat reads the draft.")
        row = proc.get(item)
        if row is None or not row.content:
            raise NotFound("Compile the proceedings first.")
        return jsonify(_proceedings_json(item, row, True))
    return jsonify(_proceedings_json(item, proc.published(item), False))


@bp.post("/conferences/<slug>/proceedings")
@api.schema({"type": "object", "properties": {"language": {"type": "string"}}})
@api.api_view
def compile_proceedings(slug: str) -> Any:
    """Compile (or recompile) the draft from the closed conference (Secretariat); 201."""
    actor = api.require_secretariat()
    item = _conference(slug)
    data = request.get_json(silent=True) or {}
    language = data.get("language") if isinstance(data, dict) else None
    row = proc.compile_draft(actor, item, language)
    return jsonify(_proceedings_json(item, row, True)), 201


@bp.patch("/conferences/<slug>/proceedings")
@api.schema({"type": "object", "properties": {
    "title": {"type": "string"}, "introduction": {"type": "string"},
    "conclusions": {"type": "string"},
    "summaries": {"type": "object", "additionalProperties": {"type": "string"},
                  "description": "round id -> Markdown"}}})
@api.api_view
def edit_proceedings(slug: str) -> Any:
    """Edit the draft: title, introduction, conclusions, summaries by round id."""
    actor = api.require_secretariat()
    item = _conference(slug)
    data = api.body()
    summaries = data.get("summaries")
    if summaries is not None and not isinstance(summaries, dict):
        raise Invalid("'summaries' maps round ids to text.", fields={"summaries": "type"})
    row = proc.update_draft(actor, item, title=_text(data, "title"),
                            introduction=_text(data, "introduction"),
                            conclusions=_text(data, "conclusions"), summaries=summaries)
    return jsonify(_proceedings_json(item, row, True))


@bp.post("/conferences/<slug>/proceedings/publish")
@api.api_view
def publish(slug: str) -> Any:
    """Publish the draft (Secretariat): {url, pdf_url, text_url}, readable by anyone."""
    actor = api.require_secretariat()
    item = _conference(slug)
    proc.publish(actor, item)
    return jsonify(proc.public_urls(item))


def init_app(app: Flask) -> None:
    api.register(app, bp)
