"""Registry records: checking what is entered, writing it, moving records through review
(draft, submitted, published) with the mail that comes with each state, and the report
filed for published conference proceedings; with the small helpers the other registry
modules share (links, titles in the reader's language).

Views and the API call these. They check access with `hub.access`, own the transaction,
raise `hub.errors` and queue mail and jobs in the same transaction. Imports only `hub`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from hub import access, clock, countries, events, inputs, jobs
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import Member, MemberStatus
from hub.registry import fields, search
from hub.registry.kinds import (
    BY_KEY,
    DRAFT,
    KINDS,
    PUBLISHED,
    READ_ONLY,
    STATES,
    SUBMITTED,
    Kind,
)
from hub.registry.models import MODELS, Record, Report
from hub.services import audit, secretariat_members

PROJECT_MIN_DAYS = 182  # "initiatives of six months or more"


# -- small helpers -----------------------------------------------------------------------------

def kind_named(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound(_("There is no record kind %(name)s (use one of: %(kinds)s).",
                         name=name[:40], kinds=", ".join(KINDS)))
    return kind


def link(endpoint: str, **values: Any) -> str:
    """An absolute link on HUB_BASE_URL; works in requests, jobs and the worker alike."""
    path = current_app.url_map.bind("hub.invalid").build(endpoint, values)
    return current_app.config["HUB_BASE_URL"] + path


def record_url(record: Record) -> str:
    return link("registry.record", kind=record.kind, record_id=record.id)


def record_key(record: Record) -> str:
    return f"{KINDS[record.kind].key}:{record.id}"


def current_locale() -> str:
    try:
        return str(get_locale() or "en")
    except Exception:  # noqa: BLE001 - outside a request
        return "en"


def display_title(record: Record) -> str:
    """The title people see, in their language when the record has that edition: needs
    have none of their own, they are their country's."""
    if record.kind == "needs":
        return _("Capacity needs of %(country)s",
                 country=countries.country_name(record.country or "", current_locale()))
    edition = fields.edition_for(record, current_locale())
    if edition and edition.get("title"):
        return edition["title"]
    return record.title


def region_name(code: str) -> str:
    """A UN regional group as people say it: "African Group"."""
    return _("%(name)s Group", name=_(countries.REGIONS.get(code, code)))


def current_values(record: Record) -> dict[str, Any]:
    kind = KINDS[record.kind]
    return {spec.name: fields.get(record, spec) for spec in kind.fields}


def get_record(viewer: Any, kind_name: str, record_id: int) -> Record:
    """The record if `viewer` may read it; NotFound otherwise (drafts stay invisible)."""
    kind = kind_named(kind_name)
    record = db.session.get(MODELS[kind.name], record_id)
    if record is None or record.kind != kind.name or not access.can_read_record(viewer, record):
        raise NotFound(_("There is no such record."))
    return record


def record_by_key(key: str) -> Record | None:
    """A record from a short reference such as "project:12" (any state)."""
    name, _sep, raw = key.partition(":")
    kind = BY_KEY.get(name.lower())
    if kind is None or not inputs.is_id(raw):
        return None
    record = db.session.get(MODELS[kind.name], int(raw))
    return record if record is not None and record.kind == kind.name else None


# -- validation ------------------------------------------------------------------------------

def _label(kind: Kind, name: str) -> str:
    spec = kind.field(name)
    return str(spec.label) if spec is not None else name


def _summary(kind: Kind, errors: Mapping[str, str]) -> str:
    return "; ".join(f"{_label(kind, name)}: {message}" for name, message in errors.items())


def validate(kind: Kind, data: Mapping[str, Any], vocab: fields.Vocabulary,
             current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The cleaned values of the fields in `data`; Invalid names every field that is wrong
    (with `current`, the record's values stand in for fields `data` leaves out)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for spec in kind.fields:
        if spec.name in data:
            try:
                values[spec.name] = fields.clean(spec, data[spec.name], vocab)
            except fields.FieldError as exc:
                errors[spec.name] = exc.message
    merged = {**(current or {}), **values}
    for spec in kind.fields:
        if spec.required and spec.name not in errors and fields.is_empty(merged.get(spec.name)):
            errors[spec.name] = _("is required")
    if kind.name == "projects":
        start, end = merged.get("start_date"), merged.get("end_date")
        if start and end and "end_date" not in errors:
            if end < start:
                errors["end_date"] = _("is before the start date")
            elif (end - start).days < PROJECT_MIN_DAYS:
                errors["end_date"] = _("a project lasts six months or more; list shorter "
                                       "activities as opportunities or reports")
    if errors:
        raise Invalid(_summary(kind, errors), fields=errors)
    return values


def _check_keys(kind: Kind, data: Mapping[str, Any], record: Record | None = None) -> None:
    allowed = {f.name for f in kind.fields} | {"external_id", "on_behalf_of"} | READ_ONLY
    if kind.name == "needs":
        allowed.add("title")  # read-only for needs, shown in their JSON
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise Invalid(_("Unknown fields: %(names)s. The fields of %(kind)s are: %(all)s.",
                        names=", ".join(unknown), kind=kind.name,
                        all=", ".join(f.name for f in kind.fields)),
                      fields={k: "unknown" for k in unknown})
    if record is not None and "state" in data and data["state"] != record.state:
        raise Invalid(_("The state changes through submit, publish and return, not by "
                        "editing."), fields={"state": "read_only"})


def _external_id(kind: Kind, data: Mapping[str, Any], record: Record | None) -> str | None:
    if "external_id" not in data:
        return record.external_id if record is not None else None
    raw = data["external_id"]
    if raw is not None and not isinstance(raw, str | int):
        raise Invalid(_("external_id must be text."), fields={"external_id": "type"})
    value = str(raw).strip()[:200] if raw not in (None, "") else None
    if value:
        other = db.session.scalar(select(Record.id).where(
            Record.kind == kind.name, Record.external_id == value))
        if other is not None and (record is None or other != record.id):
            raise Conflict(_("Another record has the external id %(value)s.", value=value),
                           fields={"external_id": "taken"})
    return value


def _submitter(actor: Member, data: Mapping[str, Any]) -> dict[str, str] | None | bool:
    """Whom the Secretariat enters a record for (from a paper form): {name, organization,
    email}; False when `data` does not say."""
    if "on_behalf_of" not in data:
        return False
    raw = data["on_behalf_of"]
    if raw in (None, "", {}):
        return None
    if not access.is_secretariat(actor):
        raise Forbidden(_("Only the Secretariat enters records on behalf of someone."))
    try:
        contact = fields.clean_contact(raw)
    except fields.FieldError as exc:
        raise Invalid(_("on_behalf_of: %(why)s", why=exc.message),
                      fields={"on_behalf_of": exc.message}) from exc
    if not contact.get("name"):
        raise Invalid(_("on_behalf_of: name the person the record is entered for."),
                      fields={"on_behalf_of": "required"})
    return {k: contact[k] for k in ("name", "organization", "email") if contact.get(k)}


def _check_publish(actor: Member | None, record: Record) -> None:
    if access.can_publish_record(actor, record):
        return
    if record.kind == "needs":
        raise Forbidden(_("A country's needs are published by its national focal points "
                          "or the Secretariat; submit them for review."))
    raise Forbidden(_("Only the Secretariat publishes records; submit it for review."))


def write_values(record: Record, kind: Kind, values: Mapping[str, Any]) -> None:
    """Put checked values (from `validate`) on the record, with what they imply."""
    for name, value in values.items():
        spec = kind.field(name)
        assert spec is not None
        fields.put(record, spec, value)
    if kind.name == "needs":
        record.countries = [record.country] if record.country else []
        record.title = f"{countries.country_name(record.country or '', 'en')}: capacity needs"
    record.updated_at = clock.now()
    record.starts_on, record.ends_on = search.date_range(record)


# -- states and their mail -------------------------------------------------------------------

def _mail_owner(record: Record, template: str, **context: Any) -> None:
    owner = record.owner
    if owner is None or owner.status != MemberStatus.ACTIVE:
        return
    send_mail(owner.email, template, language=owner.language, name=owner.name, member=owner,
              title=display_title(record), kind=KINDS[record.kind], url=record_url(record),
              **context)


def tell_secretariat(actor: Member, titles: list[str], count: int) -> None:
    if actor.is_secretariat or count == 0:
        return
    for sec in secretariat_members():
        send_mail(sec.email, "registry_submitted", language=sec.language, name=sec.name,
                  actor=actor, titles=titles[:10], count=count,
                  url=link("registry.review"))


def enter_state(actor: Member | None, record: Record, state: str, notify: bool = True) -> None:
    """Move a record to `state`, with what comes with it (times, mail, announcements, the
    facet counts)."""
    now = clock.now()
    before = record.state
    if state == PUBLISHED:
        record.state = PUBLISHED
        record.published_at = now
        record.review_note = ""
        if record.kind == "opportunities" and record.announced_at is None:
            record.announced_at = now
            db.session.flush()
            jobs.enqueue("registry.announce", {"record_id": record.id})
        if notify and record.owner_id is not None and (actor is None
                                                       or record.owner_id != actor.id):
            _mail_owner(record, "registry_published")
    elif state == SUBMITTED:
        record.state = SUBMITTED
        record.submitted_at = now
        if notify and actor is not None:
            tell_secretariat(actor, [display_title(record)], 1)
            if record.kind == "needs":
                _tell_focal_points(actor, record)
    else:
        record.state = DRAFT
    search.restate(record, before)


def _tell_focal_points(actor: Member, record: Record) -> None:
    """A proposal for a country's needs goes to the country's focal points too."""
    from hub.registry.models import FocalPoint

    points = db.session.scalars(select(Member).join(
        FocalPoint, FocalPoint.member_id == Member.id).where(
        FocalPoint.country == record.country, Member.id != actor.id,
        Member.status == MemberStatus.ACTIVE))
    for point in points:
        if point.is_secretariat:
            continue  # told already
        send_mail(point.email, "registry_submitted", language=point.language,
                  name=point.name, actor=actor, titles=[display_title(record)], count=1,
                  url=record_url(record))


def _start_state(actor: Member, state: str | None) -> str:
    state = state or SUBMITTED
    if state not in STATES:
        raise Invalid(_("state must be one of: %(states)s.", states=", ".join(STATES)),
                      fields={"state": "choice"})
    return state


# -- writing ---------------------------------------------------------------------------------

def create_record(actor: Member, kind_name: str, data: Mapping[str, Any], *,
                  state: str | None = None, vocab: fields.Vocabulary | None = None,
                  commit: bool = True, notify: bool = True) -> Record:
    """A new record owned by `actor`: a draft, submitted for review (the default) or, by
    the Secretariat, published at once."""
    kind = kind_named(kind_name)
    if not access.can_submit_record(actor):
        raise Forbidden(_("Only active members can submit records."))
    _check_keys(kind, data)
    state = _start_state(actor, state)
    vocab = vocab or fields.Vocabulary.load()
    values = validate(kind, data, vocab)
    submitter = _submitter(actor, data)
    record = MODELS[kind.name](state=DRAFT, owner_id=actor.id)
    record.owner = actor
    record.external_id = _external_id(kind, data, None)
    record.submitter = submitter or None
    write_values(record, kind, values)
    if state == PUBLISHED:
        _check_publish(actor, record)
    db.session.add(record)
    db.session.flush()
    enter_state(actor, record, state, notify=notify)
    search.reindex(record, vocab)
    audit(actor, "registry.create", record, record_key(record))
    if commit:
        db.session.commit()
    return record


def update_record(actor: Member, record: Record, data: Mapping[str, Any], *,
                  vocab: fields.Vocabulary | None = None, commit: bool = True) -> Record:
    """Change the fields in `data` (the others stay). A published record stays published."""
    kind = KINDS[record.kind]
    if not access.can_edit_record(actor, record):
        raise Forbidden(_("Only the owner and the Secretariat can change this record."))
    _check_keys(kind, data, record)
    vocab = vocab or fields.Vocabulary.load()
    values = validate(kind, data, vocab, current=current_values(record))
    record.external_id = _external_id(kind, data, record)
    submitter = _submitter(actor, data)
    if submitter is not False:
        record.submitter = submitter
    write_values(record, kind, values)
    record.reminded_at = None
    if (record.state == PUBLISHED and record.kind == "needs"
            and not access.can_publish_record(actor, record)):
        # Only the country's focal points (or the Secretariat) speak for it: anyone
        # else's change to its published needs is a proposal, reviewed again.
        enter_state(actor, record, SUBMITTED)
    db.session.flush()
    search.reindex(record, vocab)
    audit(actor, "registry.update", record, record_key(record))
    if commit:
        db.session.commit()
    return record


def submit_record(actor: Member, record: Record) -> Record:
    if not access.can_edit_record(actor, record):
        raise Forbidden(_("Only the owner can submit this record."))
    if record.state != DRAFT:
        raise Conflict(_("This record is not a draft."))
    enter_state(actor, record, SUBMITTED)
    audit(actor, "registry.submit", record, record_key(record))
    db.session.commit()
    return record


def publish_record(actor: Member, record: Record) -> Record:
    _check_publish(actor, record)
    if record.state == PUBLISHED:
        raise Conflict(_("This record is already published."))
    enter_state(actor, record, PUBLISHED)
    audit(actor, "registry.publish", record, record_key(record))
    db.session.commit()
    return record


def return_record(actor: Member, record: Record, note: str) -> Record:
    """Send a record back to its owner as a draft, saying what to change."""
    if not access.can_publish_record(actor, record):
        raise Forbidden(_("Only the Secretariat returns records."))
    note = (note or "").strip()
    if not note:
        raise Invalid(_("Tell the owner what to change."), fields={"note": "required"})
    if record.state == DRAFT:
        raise Conflict(_("This record is already a draft."))
    enter_state(actor, record, DRAFT)
    record.review_note = note[:4000]
    _mail_owner(record, "registry_returned", note=record.review_note)
    audit(actor, "registry.return", record, note)
    db.session.commit()
    return record


def confirm_record(actor: Member, record: Record) -> Record:
    """The owner says the record is still right: it counts as updated now."""
    if not access.can_edit_record(actor, record):
        raise Forbidden(_("Only the owner and the Secretariat can confirm this record."))
    record.updated_at = clock.now()
    record.reminded_at = None
    record.starts_on, record.ends_on = search.date_range(record)
    search.reindex(record, fields.Vocabulary.load())
    audit(actor, "registry.confirm", record, record_key(record))
    db.session.commit()
    return record


def delete_record(actor: Member, record: Record) -> None:
    if not access.can_edit_record(actor, record):
        raise Forbidden(_("Only the owner and the Secretariat can delete this record."))
    key = record_key(record)
    search.unindex(record)
    db.session.delete(record)
    db.session.flush()
    audit(actor, "registry.delete", None, key)
    db.session.commit()


# -- discussion and proceedings --------------------------------------------------------------------

def discussion_url(actor: Any, record: Record) -> str:
    """The forum topic about a record, made on first use by the forums' `hub_discuss`."""
    provider = current_app.extensions.get("hub_discuss")
    if provider is None:
        raise NotFound(_("Discussions are not available on this hub."))
    if not access.is_active_member(actor):
        raise Forbidden(_("Please sign in to discuss records."))
    if record.state != PUBLISHED:
        raise Conflict(_("Only published records can be discussed."))
    return provider(actor, record_key(record), display_title(record), record_url(record))


def _day(value: date | None) -> str | None:
    if value is None:
        return None
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def file_proceedings(sender: Any, event: events.ProceedingsEvent, **_kw: Any) -> None:
    """Listener of `hub.events.proceedings_published`: one published report per key."""
    vocab = fields.Vocabulary.load()
    kind = KINDS["reports"]
    record = db.session.scalar(select(Report).where(Report.external_id == event.key))
    links = [{"url": event.url, "title": _("Proceedings")}]
    if event.pdf_url:
        links.append({"url": event.pdf_url, "title": _("Proceedings (PDF)")})
    data = {
        "title": (event.title or event.key)[:300],
        "type": event.report_type,
        "timeframe": {"start": _day(event.timeframe_start), "end": _day(event.timeframe_end)},
        "organization": event.organization[:300],
        "thematic_areas": [s for s in event.thematic_areas if s in vocab.by_slug],
        "keywords": list(event.keywords),
        "countries": [c for c in event.countries if countries.is_country(c)],
        "links": links,
    }
    values = validate(kind, data, vocab)
    actor = db.session.get(Member, event.actor_id) if event.actor_id else None
    if record is None:
        record = Report(state=DRAFT, owner_id=actor.id if actor else None,
                        external_id=event.key)
        db.session.add(record)
    write_values(record, kind, values)
    db.session.flush()
    if record.state != PUBLISHED:
        enter_state(actor, record, PUBLISHED, notify=False)
    search.reindex(record, vocab)
    audit(actor, "registry.proceedings", record, event.key)
    db.session.commit()
