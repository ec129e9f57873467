"""Registry records in and out: the API's JSON shape, CSV and JSON exports, and imports
of CSV, JSON and spreadsheet files (each row checked and written like a form's). Imports
only `hub`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, text

from hub import access, clock, inputs
from hub.errors import Forbidden, HubError, Invalid
from hub.extensions import db
from hub.models import Member
from hub.registry import fields, search
from hub.registry.actions import (
    create_record,
    display_title,
    enter_state,
    kind_named,
    link,
    record_key,
    record_url,
    tell_secretariat,
    update_record,
)
from hub.registry.kinds import (
    KINDS,
    PUBLISHED,
    READ_ONLY,
    SUBMITTED,
    Kind,
)
from hub.registry.models import MODELS, Record
from hub.services import audit

MAX_IMPORT_ROWS = 5000


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
    tell_secretariat(actor, submitted, len(submitted))
    audit(actor, "registry.import", None,
          f"{kind.name}: {len(report.created)} created, {len(report.updated)} updated, "
          f"{len(report.refused)} refused")
    db.session.commit()
    return report
