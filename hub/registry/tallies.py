"""Facet counts kept ahead: `registry_facet_count` holds, for each kind, review state and
facet value, how many records have it (the facet ("kind", kind) counts the records), so
browsing without filters, or with one facet's filter when that facet's own counts are
asked for, reads a few hundred rows instead of every record's facets.

The counts follow `registry_facet` and each record's state, in the transaction that
changes them: `search.reindex` and `search.unindex` call `replace` and `forget`, and
`actions.enter_state` calls `move`. Each change is one upsert, rows in key order (two
writers take the rows' locks in the same order). `rebuild` recounts everything (bulk
loads, `hub registry reindex`).

Access is the one `hub.access` gives: the states every viewer may read whole are read from
here (`access.readable_records` on the counts' state column); a member's own records in
other states are counted from their facets (a few rows, by the owner index).

Imports only `hub`.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, func, insert, null, select
from sqlalchemy.dialects import postgresql, sqlite

from hub import access
from hub.extensions import db
from hub.registry.kinds import PUBLISHED
from hub.registry.models import Facet, FacetCount, Record

Pairs = Iterable[tuple[str, str]]


def stored(record_id: int) -> set[tuple[str, str]]:
    """The (name, value) pairs `registry_facet` holds for a record."""
    return {(n, v) for n, v in db.session.execute(
        select(Facet.name, Facet.value).where(Facet.record_id == record_id))}


def _add(kind: str, state: str, pairs: Pairs, delta: int) -> None:
    rows = [{"kind": kind, "state": state, "name": n, "value": v, "n": delta}
            for n, v in sorted(pairs)]
    if not rows:
        return
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(FacetCount).values(rows)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=["kind", "state", "name", "value"],
        set_={"n": FacetCount.__table__.c.n + stmt.excluded.n}))


def replace(record: Record, old: Pairs, new: Pairs) -> None:
    """The record's facets changed from `old` to `new` (in its current state)."""
    old, new = set(old), set(new)
    _add(record.kind, record.state, new - old, 1)
    _add(record.kind, record.state, old - new, -1)


def forget(record: Record) -> None:
    """The record is about to be deleted."""
    _add(record.kind, record.state, stored(record.id), -1)


def move(record: Record, before: str) -> None:
    """The record went from state `before` to `record.state`."""
    if record.id is None or before == record.state:
        return
    pairs = stored(record.id)
    _add(record.kind, before, pairs, -1)
    _add(record.kind, record.state, pairs, 1)


def rebuild() -> None:
    """Recount from `registry_facet` (after a bulk load; `hub registry reindex`)."""
    db.session.execute(delete(FacetCount))
    db.session.execute(insert(FacetCount).from_select(
        ["kind", "state", "name", "value", "n"],
        select(Record.kind, Record.state, Facet.name, Facet.value, func.count())
        .join(Record, Record.id == Facet.record_id)
        .group_by(Record.kind, Record.state, Facet.name, Facet.value)))


# -- reading ----------------------------------------------------------------------------------

def counts(viewer: Any, names: Iterable[str], kind: str | None = None,
           state: str | None = None) -> dict[tuple[str, str], int]:
    """{(name, value): records} over what `viewer` may read, of a kind and a state when
    given: the same numbers as grouping `registry_facet` over those records."""
    names = list(names)
    # Readable by state alone: the shape of access.readable_records without an owner.
    by_state = access.readable_records(viewer, SimpleNamespace(
        state=FacetCount.state, owner_id=null()))
    stmt = (select(FacetCount.name, FacetCount.value, func.sum(FacetCount.n))
            .where(by_state, FacetCount.name.in_(names), FacetCount.n > 0)
            .group_by(FacetCount.name, FacetCount.value))
    if kind:
        stmt = stmt.where(FacetCount.kind == kind)
    if state:
        stmt = stmt.where(FacetCount.state == state)
    found: dict[tuple[str, str], int] = {}
    for name, value, n in db.session.execute(stmt):
        found[(name, value)] = int(n)
    if access.is_active_member(viewer) and not access.is_secretariat(viewer):
        # A member's own records in the states others may not read.
        own = (select(Facet.name, Facet.value, func.count())
               .join(Record, Record.id == Facet.record_id)
               .where(Record.owner_id == viewer.id, Record.state != PUBLISHED,
                      access.readable_records(viewer, Record), Facet.name.in_(names))
               .group_by(Facet.name, Facet.value))
        if kind:
            own = own.where(Record.kind == kind)
        if state:
            own = own.where(Record.state == state)
        for name, value, n in db.session.execute(own):
            found[(name, value)] = found.get((name, value), 0) + n
    return found
