"""The registry's services: submitting, editing, reviewing and publishing records; reading
them as JSON and CSV; importing files; matching a country's needs with opportunities and
projects; follows and their announcements; reminders to owners of stale records; and the
report filed for published conference proceedings.

Views and the API call these. They check access with `hub.access`, own the transaction,
raise `hub.errors` and queue mail and jobs in the same transaction. Imports only `hub`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, text, update

from hub import access, clock, countries, events, inputs, jobs
from hub.errors import Conflict, Forbidden, HubError, Invalid, NotFound
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
    Field,
    Kind,
)
from hub.registry.models import MODELS, Follow, Need, Record, Report
from hub.services import audit, secretariat_members

log = logging.getLogger(__name__)

MAX_IMPORT_ROWS = 5000
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


def _locale() -> str:
    try:
        return str(get_locale() or "en")
    except Exception:  # noqa: BLE001 - outside a request
        return "en"


def display_title(record: Record) -> str:
    """The title people see, in their language when the record has that edition: needs
    have none of their own, they are their country's."""
    if record.kind == "needs":
        return _("Capacity needs of %(country)s",
                 country=countries.country_name(record.country or "", _locale()))
    edition = fields.edition_for(record, _locale())
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


def _write(record: Record, kind: Kind, values: Mapping[str, Any]) -> None:
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


def _tell_secretariat(actor: Member, titles: list[str], count: int) -> None:
    if actor.is_secretariat or count == 0:
        return
    for sec in secretariat_members():
        send_mail(sec.email, "registry_submitted", language=sec.language, name=sec.name,
                  actor=actor, titles=titles[:10], count=count,
                  url=link("registry.review"))


def enter_state(actor: Member | None, record: Record, state: str, notify: bool = True) -> None:
    """Move a record to `state`, with what comes with it (times, mail, announcements)."""
    now = clock.now()
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
            _tell_secretariat(actor, [display_title(record)], 1)
            if record.kind == "needs":
                _tell_focal_points(actor, record)
    else:
        record.state = DRAFT


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
    _write(record, kind, values)
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
    _write(record, kind, values)
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
    record_id, key = record.id, record_key(record)
    db.session.delete(record)
    db.session.flush()
    search.unindex(record_id)
    audit(actor, "registry.delete", None, key)
    db.session.commit()


# -- reading ---------------------------------------------------------------------------------

def _contacts_for(viewer: Any, contacts: list[dict[str, str]]) -> list[dict[str, str]]:
    if access.can_see_contact_details(viewer):
        return contacts
    return [{k: v for k, v in c.items() if k not in {"email", "phone"}} for c in contacts]


def record_json(record: Record, viewer: Any) -> dict[str, Any]:
    """The API shape: id, kind, the kind's fields (names from the issue), then metadata."""
    kind = KINDS[record.kind]
    data: dict[str, Any] = {"id": record.id, "kind": kind.name}
    if not kind.has_title:
        data["title"] = display_title(record)
    for spec in kind.fields:
        value = fields.to_json(spec, fields.get(record, spec))
        if spec.type == "contacts":
            value = _contacts_for(viewer, value)
        data[spec.name] = value
    owner = record.owner
    data.update({
        "key": record_key(record),
        "external_id": record.external_id,
        "state": record.state,
        "owner": {"id": owner.id, "name": owner.name, "organization": owner.organization}
        if owner is not None else None,
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
        "published_at": _iso(record.published_at),
        "languages": fields.record_languages(record),
        "on_behalf_of": _submitter_json(viewer, record.submitter),
        "url": record_url(record),
        "api_url": link("registry_api.record", kind=kind.name, record_id=record.id),
    })
    if access.can_edit_record(viewer, record):
        data["review_note"] = record.review_note
    return data


def _submitter_json(viewer: Any, submitter: dict[str, str] | None) -> dict | None:
    if not submitter:
        return None
    if access.can_see_contact_details(viewer):
        return dict(submitter)
    return {k: v for k, v in submitter.items() if k != "email"}


def _iso(value: datetime | None) -> str | None:
    aware = clock.aware(value)
    return aware.isoformat() if aware else None


# -- CSV and JSON out ----------------------------------------------------------------------------

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    # Spreadsheets run cells that start like a formula; a leading ' keeps them text and
    # the importer takes it off again.
    return "'" + value if value.startswith(_FORMULA) else value


def csv_columns(kind: Kind) -> list[str]:
    return ["id", "external_id", *(f.name for f in kind.fields), "state", "owner",
            "updated_at", "url"]


def csv_rows(viewer: Any, kind: Kind, records: Iterable[Record]) -> Iterator[str]:
    """The CSV text, a row at a time (what `import_records` reads back)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        out = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return out

    writer.writerow(csv_columns(kind))
    yield flush()
    for record in records:
        row = [str(record.id), record.external_id or ""]
        for spec in kind.fields:
            value = fields.get(record, spec)
            if spec.type == "contacts":
                value = _contacts_for(viewer, value)
            row.append(_cell(fields.to_cell(spec, value)))
        row += [record.state, record.owner.name if record.owner else "",
                _iso(record.updated_at) or "", record_url(record)]
        writer.writerow(row)
        yield flush()


def export_records(viewer: Any, f: search.Filters, sort: str = "") -> Iterator[Record]:
    """Every record the filters find, loaded a page at a time."""
    from sqlalchemy.orm import selectinload

    ids = search.result_ids(viewer, f, sort=sort)
    model = MODELS[f.kind] if f.kind else Record
    for start in range(0, len(ids), 200):
        chunk = ids[start:start + 200]
        loaded = {r.id: r for r in db.session.scalars(
            select(model).where(Record.id.in_(chunk)).options(selectinload(Record.owner)))}
        yield from (loaded[i] for i in chunk if i in loaded)


# -- import ------------------------------------------------------------------------------------

# Column names other databases use for our fields (the Clearing-House and spreadsheets).
ALIASES = {
    "name": "title", "record_title": "title",
    "theme": "thematic_areas", "themes": "thematic_areas", "thematic_area": "thematic_areas",
    "subject_areas": "thematic_areas", "areas": "thematic_areas",
    "author": "authors", "keyword": "keywords", "contact": "contacts", "link": "links",
    "url": "links", "urls": "links", "website": "links", "organisation": "organization",
    "publication_date": "published_on", "date_published": "published_on",
    "lessons": "lessons_learned", "start": "start_date", "end": "end_date",
    "deadline_date": "deadline", "region": "regions", "summary": "abstract",
    "description": "abstract", "priorities": "needs", "need": "needs", "identifier":
    "external_id", "bch_id": "external_id", "uid": "external_id", "record_id": "external_id",
}


def column_name(kind: Kind, header: str) -> str:
    import re

    name = re.sub(r"[^a-z0-9]+", "_", fields.fold(header or "")).strip("_")
    if kind.field(name) is not None or name in {"id", "external_id"} | READ_ONLY:
        return name
    if kind.name == "needs" and name == "countries":
        return "country"
    if name == "country" and kind.field("countries") is not None:
        return "countries"
    alias = ALIASES.get(name, name)
    if alias == "abstract" and kind.field("abstract") is None:
        return name
    return alias


@dataclass
class ImportReport:
    kind: str
    dry_run: bool = False
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (row, label, why)
    ignored_columns: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "dry_run": self.dry_run, "created": self.created,
                "updated": self.updated,
                "refused": [{"row": n, "label": label, "reason": why}
                            for n, label, why in self.refused],
                "ignored_columns": self.ignored_columns}


def read_file(raw: bytes, filename: str = "", content_type: str = "") -> tuple[list[dict], int]:
    """(rows, number of the first row) from CSV or JSON bytes. JSON is a list of objects or
    our own export ({"items": [...]}); CSV has a header row (comma, semicolon or tab); an
    OpenDocument spreadsheet (.ods, the offline template) is read from its first sheet."""
    from hub.registry import offline

    if offline.is_ods(raw, filename):
        rows = offline.read_ods(raw)
        if len(rows) > MAX_IMPORT_ROWS:
            raise Invalid(_("Import at most %(n)d rows at a time.", n=MAX_IMPORT_ROWS),
                          fields={"file": "too_many"})
        return rows, 2
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    name = (filename or "").lower()
    is_json = name.endswith(".json") or "json" in (content_type or "") or (
        not name.endswith(".csv") and text.lstrip()[:1] in {"[", "{"})
    if is_json:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise Invalid(_("The file is not valid JSON: %(why)s", why=str(exc)),
                          fields={"file": "json"}) from exc
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            data = data["items"]
        if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
            raise Invalid(_("A JSON import is a list of objects, or {\"items\": [...]}."),
                          fields={"file": "json"})
        rows, first = data, 1
    else:
        head = text.split("\n", 1)[0]
        delimiter = max([",", ";", "\t"], key=head.count)
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        if not reader.fieldnames:
            raise Invalid(_("The file is empty."), fields={"file": "empty"})
        rows, first = list(reader), 2
        for row in rows:
            for key, value in list(row.items()):
                if isinstance(value, str) and value[:1] == "'" and value[1:2] in _FORMULA:
                    row[key] = value[1:]
    if len(rows) > MAX_IMPORT_ROWS:
        raise Invalid(_("Import at most %(n)d rows at a time.", n=MAX_IMPORT_ROWS),
                      fields={"file": "too_many"})
    return rows, first


def _open_transaction() -> None:
    """pysqlite opens a transaction only before a write, so a first SAVEPOINT would be the
    outermost transaction and releasing it would commit (a dry run would keep its rows).
    A write that changes nothing opens the real transaction first."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("DELETE FROM registry_facet WHERE 0"))


def import_records(actor: Member, kind_name: str, rows: list[dict[str, Any]], *,
                   first_row: int = 1, publish: bool = False,
                   dry_run: bool = False) -> ImportReport:
    """Create or update one record per row; refuse the rows that are wrong, saying why.

    A row updates the record with the same `external_id` (the id in the database it came
    from), else the record with its `id`, else it creates one. Rows are independent: a
    refused row changes nothing, the others go in. With `dry_run` nothing is kept."""
    kind = kind_named(kind_name)
    if not access.can_submit_record(actor):
        raise Forbidden(_("Only active members can import records."))
    if publish and not access.can_publish_record(actor):
        raise Forbidden(_("Only the Secretariat publishes records."))
    vocab = fields.Vocabulary.load()
    _open_transaction()
    report = ImportReport(kind=kind.name, dry_run=dry_run)
    known = {f.name for f in kind.fields} | {"id", "external_id", "on_behalf_of"}
    ignored: dict[str, None] = {}
    seen: dict[str, int] = {}
    submitted: list[str] = []
    for number, raw in enumerate(rows, start=first_row):
        data: dict[str, Any] = {}
        for header, value in raw.items():
            if header is None:
                continue
            name = column_name(kind, str(header))
            if name in known:
                data[name] = value
            elif name not in READ_ONLY and not (name == "title" and kind.name == "needs"):
                ignored[str(header)] = None
        label = str(data.get("title") or data.get("country") or data.get("external_id")
                    or "")[:80]
        external = str(data.get("external_id") or "").strip()
        if external and external in seen:
            report.refused.append((number, label, _("the same external_id as row %(n)d",
                                                    n=seen[external])))
            continue
        if external:
            seen[external] = number
        record_id = data.pop("id", None)
        existing = None
        if external:
            existing = db.session.scalar(select(MODELS[kind.name]).where(
                Record.kind == kind.name, Record.external_id == external))
        if existing is None and inputs.is_id(str(record_id or "").strip()):
            found = db.session.get(MODELS[kind.name], int(str(record_id).strip()))
            if found is not None and found.kind == kind.name:
                existing = found
        savepoint = db.session.begin_nested()
        try:
            if existing is not None:
                if not access.can_edit_record(actor, existing):
                    raise Forbidden(_("record %(id)d belongs to someone else",
                                      id=existing.id))
                update_record(actor, existing, data, vocab=vocab, commit=False)
                if publish and existing.state != PUBLISHED:
                    enter_state(actor, existing, PUBLISHED, notify=not dry_run)
                report.updated.append(existing.id)
            else:
                state = PUBLISHED if publish else SUBMITTED
                record = create_record(actor, kind.name, data, state=state, vocab=vocab,
                                       commit=False, notify=False)
                report.created.append(record.id)
                if state == SUBMITTED:
                    submitted.append(display_title(record))
            savepoint.commit()
        except HubError as exc:
            savepoint.rollback()
            report.refused.append((number, label, exc.message))
    report.ignored_columns = list(ignored)
    if dry_run:
        db.session.rollback()
        return report
    _tell_secretariat(actor, submitted, len(submitted))
    audit(actor, "registry.import", None,
          f"{kind.name}: {len(report.created)} created, {len(report.updated)} updated, "
          f"{len(report.refused)} refused")
    db.session.commit()
    return report


# -- matching ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    code: str  # theme | country | region | global | open | status
    value: str
    label: str


@dataclass
class Match:
    record: Record
    score: int
    reasons: list[Reason]


def _is_closed(record: Record, today: date) -> bool:
    if record.kind != "opportunities":
        return False
    if record.deadline is not None:
        return record.deadline < today
    return record.timeframe_end is not None and record.timeframe_end < today


def matches_for(viewer: Any, need: Need, limit: int = 50) -> list[Match]:
    """Published opportunities and projects that fit a country's need: at least one of its
    thematic areas, and projects in its country or UN region, opportunities open to its
    country (by name, for its whole region, or for every country).

    Score (0-100): thematic areas shared (up to 50, by the share of the need's areas
    covered), geography (country 30, region 20, worldwide 10), and timeliness (an open
    opportunity 10 and 5 more when the deadline is within 60 days; an ongoing or planned
    project 5). Closed opportunities are left out."""
    from flask_babel import format_date

    themes = list(need.thematic_areas or [])
    if not themes or not need.country:
        return []
    country, region = need.country, countries.region_of(need.country)
    vocab = fields.Vocabulary.load()
    today = clock.now().date()
    # Projects in the country or its region; opportunities open to the country: named,
    # for its whole region, or for every country.
    geography = [search.any_facet("country", [country]), search.any_facet("open", ["world"])]
    if region:
        geography.append(and_(Record.kind == "projects", search.any_facet("region", [region])))
        geography.append(search.any_facet("open_region", [region]))
    candidates = db.session.scalars(
        select(Record).where(
            Record.kind.in_(["opportunities", "projects"]),
            access.readable_records(viewer, Record),
            Record.state == PUBLISHED,
            search.any_facet("theme", themes),
            or_(*geography),
        )
    )
    found: list[Match] = []
    for record in candidates:
        if _is_closed(record, today):
            continue
        reasons: list[Reason] = []
        shared = [t for t in themes if t in (record.thematic_areas or [])]
        score = round(50 * len(shared) / len(themes))
        reasons += [Reason("theme", t, _("Thematic area: %(name)s", name=vocab.theme_name(t)))
                    for t in shared]
        if record.kind == "opportunities":
            regions = set(record.regions or [])
        else:
            regions = {countries.region_of(c) for c in record.countries or []}
        if country in (record.countries or []):
            score += 30
            reasons.append(Reason("country", country, _(
                "Country: %(name)s", name=countries.country_name(country, _locale()))))
        elif region and region in regions:
            score += 20
            reasons.append(Reason("region", region, _(
                "Region: %(name)s", name=region_name(region))))
        else:
            score += 10
            reasons.append(Reason("global", "", _("Open to every country")))
        if record.kind == "opportunities":
            score += 10
            if record.deadline is not None:
                soon = (record.deadline - today).days <= 60
                score += 5 if soon else 0
                reasons.append(Reason("open", record.deadline.isoformat(), _(
                    "Open until %(date)s", date=format_date(record.deadline, "long"))))
            else:
                reasons.append(Reason("open", "", _("Open, no deadline")))
        elif record.status in {"ongoing", "planned"}:
            score += 5
            reasons.append(Reason("status", record.status, _("Ongoing project")
                                  if record.status == "ongoing" else _("Planned project")))
        else:
            reasons.append(Reason("status", record.status,
                                  _("Completed project: its lessons may help")))
        found.append(Match(record, min(score, 100), reasons))
    found.sort(key=lambda m: (
        -m.score, m.record.kind != "opportunities",
        getattr(m.record, "deadline", None) or date.max,
        -(clock.aware(m.record.updated_at) or clock.now()).timestamp()))
    return found[:limit]


def match_json(m: Match, viewer: Any) -> dict[str, Any]:
    return {"kind": m.record.kind, "score": m.score,
            "reasons": [{"code": r.code, "value": r.value, "label": r.label}
                        for r in m.reasons],
            "record": record_json(m.record, viewer)}


# -- follows and announcements -------------------------------------------------------------------

_THEMES = Field("themes", "themes", "themes")
_COUNTRIES = Field("countries", "countries", "countries")


def follows(member: Member) -> dict[str, list[str]]:
    rows = db.session.scalars(select(Follow).where(Follow.member_id == member.id)
                              .order_by(Follow.facet, Follow.value))
    found: dict[str, list[str]] = {"themes": [], "countries": []}
    for row in rows:
        found["themes" if row.facet == "theme" else "countries"].append(row.value)
    return found


def set_follows(member: Member, themes: Any, country_codes: Any) -> dict[str, list[str]]:
    """Replace what a member follows (thematic area slugs and country codes)."""
    if not access.is_active_member(member):
        raise Forbidden(_("Only active members can follow the registry."))
    vocab = fields.Vocabulary.load()
    errors: dict[str, str] = {}
    try:
        slugs = fields.clean(_THEMES, themes, vocab)
    except fields.FieldError as exc:
        errors["themes"] = exc.message
    try:
        codes = fields.clean(_COUNTRIES, country_codes, vocab)
    except fields.FieldError as exc:
        errors["countries"] = exc.message
    if errors:
        raise Invalid("; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors)
    db.session.execute(Follow.__table__.delete().where(Follow.member_id == member.id))
    for slug in slugs:
        db.session.add(Follow(member_id=member.id, facet="theme", value=slug))
    for code in codes:
        db.session.add(Follow(member_id=member.id, facet="country", value=code))
    db.session.commit()
    return follows(member)


@jobs.handler("registry.announce")
def announce(payload: dict[str, Any]) -> None:
    """Tell the members who follow its thematic areas or countries of a new opportunity."""
    record = db.session.get(Record, payload["record_id"])
    if record is None or record.kind != "opportunities" or record.state != PUBLISHED:
        return
    covered = set(record.countries or [])
    for region in record.regions or []:
        covered |= set(countries.countries_in_region(region))
    worldwide = not record.countries and not record.regions
    country_match = Follow.facet == "country"
    if not worldwide:
        country_match = and_(country_match, Follow.value.in_(sorted(covered)))
    rows = db.session.scalars(select(Follow).where(or_(
        and_(Follow.facet == "theme", Follow.value.in_(record.thematic_areas or [])),
        country_match)))
    why: dict[int, list[Follow]] = defaultdict(list)
    for row in rows:
        why[row.member_id].append(row)
    if not why:
        return
    vocab = fields.Vocabulary.load()
    members = db.session.scalars(select(Member).where(Member.id.in_(list(why))))
    for member in members:
        if (member.status != MemberStatus.ACTIVE or member.delivery_disabled
                or member.id == record.owner_id
                or not access.can_read_record(member, record)):
            continue
        reasons = [vocab.theme_name(f.value) if f.facet == "theme"
                   else countries.country_name(f.value, member.language or "en")
                   for f in why[member.id]]
        send_mail(member.email, "registry_opportunity", language=member.language,
                  name=member.name, member=member, record=record,
                  title=display_title(record), url=record_url(record), reasons=reasons,
                  deadline=record.deadline, following_url=link("registry.following"))
    db.session.commit()


# -- reminders -----------------------------------------------------------------------------------

def send_reminders(now: datetime | None = None) -> int:
    """Remind owners of published records not updated for HUB_REGISTRY_REMIND_DAYS; one
    message per owner, at most once per period per record, however many workers run this
    (each record is claimed by a conditional UPDATE before its reminder is queued)."""
    days = int(current_app.config.get("HUB_REGISTRY_REMIND_DAYS") or 0)
    if days <= 0:
        return 0
    now = now or clock.now()
    cutoff = now - timedelta(days=days)
    table = Record.__table__
    due = and_(table.c.state == PUBLISHED, table.c.owner_id.is_not(None),
               table.c.updated_at <= cutoff,
               or_(table.c.reminded_at.is_(None), table.c.reminded_at <= cutoff))
    ids = list(db.session.scalars(select(table.c.id).where(due).order_by(table.c.id)
                                  .limit(1000)))
    claimed = [rid for rid in ids if db.session.execute(
        update(table).where(table.c.id == rid, due).values(reminded_at=now)).rowcount == 1]
    if not claimed:
        db.session.commit()
        return 0
    by_owner: dict[int, list[Record]] = defaultdict(list)
    for record in db.session.scalars(select(Record).where(Record.id.in_(claimed))
                                     .order_by(Record.updated_at)):
        by_owner[record.owner_id].append(record)
    sent = 0
    for owner in db.session.scalars(select(Member).where(Member.id.in_(list(by_owner)))):
        if owner.status != MemberStatus.ACTIVE:
            continue
        items = [{"title": display_title(r), "kind": KINDS[r.kind], "url": record_url(r),
                  "updated_at": r.updated_at} for r in by_owner[owner.id]]
        send_mail(owner.email, "registry_reminder", language=owner.language, name=owner.name,
                  member=owner, items=items, days=days, mine_url=link("registry.mine"))
        sent += 1
    db.session.commit()
    return sent


def periodic() -> None:
    """The worker calls this every round; the scan itself runs about once an hour."""
    state = current_app.extensions["registry"]
    now = clock.now()
    due = state.get("next_scan")
    if due is not None and now < due:
        return
    state["next_scan"] = now + timedelta(seconds=state.get("scan_seconds", 3600))
    send_reminders(now)


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
    _write(record, kind, values)
    db.session.flush()
    if record.state != PUBLISHED:
        enter_state(actor, record, PUBLISHED, notify=False)
    search.reindex(record, vocab)
    audit(actor, "registry.proceedings", record, event.key)
    db.session.commit()


# -- what the pages show ---------------------------------------------------------------------------

def review_queue(viewer: Any = None) -> list[Record]:
    """What waits for review: everything for the Secretariat; for a national focal point,
    the needs proposed for their countries."""
    stmt = select(Record).where(Record.state == SUBMITTED).order_by(Record.submitted_at)
    if viewer is not None and not access.is_secretariat(viewer):
        stmt = stmt.where(Record.kind == "needs", Record.id.in_(
            select(Need.id).where(Need.country.in_(sorted(access.focal_point_countries(viewer))))))
    return list(db.session.scalars(stmt))


def review_count() -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).where(Record.state == SUBMITTED)) or 0


def my_records(member: Member) -> list[Record]:
    return list(db.session.scalars(
        select(Record).where(Record.owner_id == member.id)
        .order_by(Record.updated_at.desc(), Record.id.desc())))


def open_opportunities(limit: int = 5) -> list[Record]:
    """The newest published opportunities whose deadline has not passed."""
    model = MODELS["opportunities"]
    today = clock.now().date()
    return list(db.session.scalars(
        select(model).where(Record.state == PUBLISHED,
                            or_(model.deadline.is_(None), model.deadline >= today))
        .order_by(Record.published_at.desc(), Record.id.desc()).limit(limit)))


# -- filters from a query string (pages and API) ----------------------------------------------

_FILTER_SPECS = {
    "country": Field("country", "countries", "country"),
    "theme": Field("theme", "themes", "theme"),
    "region": Field("region", "regions", "region"),
    "language": Field("language", "language", "language"),
}


def _values(args: Any, name: str, split: bool = True) -> list[str]:
    found: list[str] = []
    for raw in args.getlist(name):
        parts = raw.split(",") if split else [raw]
        found += [p.strip() for p in parts if p.strip()]
    return found


FILTER_NAMES = ("q", "country", "theme", "region", "type", "status", "organization", "year",
                "language", "from", "to", "open", "state", "mine", "sort")
# Not filters, but understood beside them: pages, exports, the API's paging and facets.
PAGING_NAMES = ("page", "format", "limit", "offset", "facets")


def check_names(args: Any, allowed: Iterable[str]) -> None:
    """Invalid naming every query parameter not in `allowed`, and the allowed ones: a
    filter mistyped (`?author=Smith`) must not quietly find everything."""
    allowed = tuple(allowed)
    unknown = sorted(str(k) for k in args if k not in allowed)
    if unknown:
        raise Invalid(_("Unknown filter: %(names)s. The filters are: %(allowed)s.",
                        names=", ".join(n[:40] for n in unknown[:10]),
                        allowed=", ".join(allowed)),
                      fields={n[:40]: "unknown" for n in unknown[:10]})


def parse_filters(args: Any, kind_name: str | None, viewer: Any) -> tuple[search.Filters, str]:
    """Filters and sort order from a query string: q, country, theme, region, type,
    status, organization, year, language (each repeatable or comma-separated; values of
    one filter are alternatives), from, to (dates), open (opportunities still open),
    state, mine, sort. Any other name (but paging's) is refused."""
    kind = kind_named(kind_name) if kind_name else None
    check_names(args, FILTER_NAMES + PAGING_NAMES)
    vocab = fields.Vocabulary.load()
    errors: dict[str, str] = {}
    facets: dict[str, tuple[str, ...]] = {}
    for name, spec in _FILTER_SPECS.items():
        raw = _values(args, name)
        if not raw:
            continue
        try:
            if spec.type == "language":
                facets[name] = tuple(fields.clean(spec, v, vocab) for v in raw)
            else:
                facets[name] = tuple(fields.clean(spec, raw, vocab))
        except fields.FieldError as exc:
            errors[name] = exc.message
    types = _values(args, "type")
    if types:
        kinds = [kind] if kind else list(KINDS.values())
        codes = {c for k in kinds if k.type_field for c in k.type_field.choice_codes}
        wrong = [t for t in types if t not in codes]
        if wrong:
            errors["type"] = _("%(value)s is not one of: %(choices)s", value=", ".join(wrong),
                               choices=", ".join(sorted(codes)))
        facets["type"] = tuple(types)
    statuses = _values(args, "status")
    if statuses:
        codes = set(KINDS["projects"].field("status").choice_codes)
        if not set(statuses) <= codes:
            errors["status"] = _("is one of: %(choices)s", choices=", ".join(sorted(codes)))
        facets["status"] = tuple(statuses)
    organizations = _values(args, "organization", split=False)
    if organizations:
        facets["organization"] = tuple(o[:200] for o in organizations)
    years = _values(args, "year")
    if years:
        if not all(y.isdigit() and len(y) == 4 for y in years):
            errors["year"] = _("is a year such as 2024")
        facets["year"] = tuple(years)
    dates: dict[str, date | None] = {}
    for name, end in (("from", False), ("to", True)):
        try:
            dates[name] = fields.parse_date(args.get(name, "").strip(), end=end, partial=True)
        except fields.FieldError as exc:
            errors[name] = exc.message
    state = args.get("state", "").strip() or None
    if state and state not in STATES:
        errors["state"] = _("is one of: %(choices)s", choices=", ".join(STATES))
    owner_id = None
    if args.get("mine", "") in {"1", "true", "yes", "on"}:
        if not access.is_active_member(viewer):
            raise Forbidden(_("Sign in to see your own records."))
        owner_id = viewer.id
    sort = args.get("sort", "").strip()
    if sort and sort not in search.SORTS:
        errors["sort"] = _("%(value)s is not a sort order; the sorts are: %(choices)s",
                           value=sort[:40], choices=", ".join(search.SORTS))
    q = args.get("q", "").strip()[:500]
    open_only = args.get("open", "") in {"1", "true", "yes", "on"}
    if errors:
        raise Invalid("; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors)
    return search.Filters(kind=kind.name if kind else None, q=q, facets=facets,
                          date_from=dates.get("from"), date_to=dates.get("to"), state=state,
                          owner_id=owner_id, open_only=open_only), sort
