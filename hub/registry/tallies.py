"""Facet counts kept ahead. `registry_facet_count` holds, for each kind, review state and
facet value, how many records have it (the facet ("kind", kind) counts the records), so
browsing without filters, or with one facet's filter when that facet's own counts are
asked for, reads a few hundred rows instead of every record's facets.
`registry_facet_pair_count` holds the same for the records one filter finds (a country, a
region, a thematic area, a type, a status, a language: `PAIR_FILTERS`), so a page with one
filter chosen (a country's page) reads a few hundred rows too.

An opportunity is found by a country's filter when it names the country, is open to the
country's whole region or to every country (`search.open_to`); those are three keys
(`country`, `open_region`, `open`), and the key `country_open_region` (the country named
and its region open too) lets the count subtract the records found twice.

The counts follow `registry_facet` and each record's state, in the transaction that
changes them: `search.reindex` and `search.unindex` call `replace` and `forget`, and
`search.restate` (after a change of review state) calls `move`. Each change is one upsert
per table, rows in key order (two writers take the rows' locks in the same order).
`rebuild` recounts everything (bulk loads, `hub registry reindex`); the migration that
added the pairs runs `pair_statements`.

Access is the one `hub.access` gives: the states every viewer may read whole are read from
here (`access.readable_records` on the counts' state column); a member's own records in
other states are counted from their facets (a few rows, by the owner index).

Imports only `hub`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from hub import access, countries
from hub.extensions import db
from hub.registry.kinds import PUBLISHED
from hub.registry.models import Facet, FacetCount, FacetPairCount, Record

Pairs = Iterable[tuple[str, str]]

PAIR_FILTERS = ("country", "region", "theme", "type", "status", "language")
# What an opportunity is open to, besides the countries it names (`search.open_to`).
REACH = ("open_region", "open")
BOTH = "country_open_region"
# The facets a browse page shows (`search.facet_counts`), and what the pairs count: those
# and the records themselves.
FACETS = ("type", "status", "theme", "country", "region", "organization", "year", "language")
COUNTED = ("kind", *FACETS)


def stored(record_id: int) -> set[tuple[str, str]]:
    """The (name, value) pairs `registry_facet` holds for a record."""
    return {(n, v) for n, v in db.session.execute(
        select(Facet.name, Facet.value).where(Facet.record_id == record_id))}


def filter_keys(pairs: Pairs) -> set[tuple[str, str]]:
    """The keys (name1, value1) a record with these facets is counted under."""
    pairs = set(pairs)
    keys = {(n, v) for n, v in pairs if n in PAIR_FILTERS or n in REACH}
    keys |= {(BOTH, v) for n, v in pairs
             if n == "country" and ("open_region", countries.region_of(v)) in pairs}
    return keys


def _pairs(pairs: Pairs) -> set[tuple[str, str, str, str]]:
    pairs = set(pairs)
    counted = [(n, v) for n, v in pairs if n in COUNTED]
    return {(n1, v1, n2, v2) for n1, v1 in filter_keys(pairs) for n2, v2 in counted}


def _upsert(model: Any, keys: list[str], deltas: Counter) -> None:
    rows = [{**dict(zip(keys, key, strict=True)), "n": n}
            for key, n in sorted(deltas.items()) if n]
    if not rows:
        return
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(model).values(rows)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=keys, set_={"n": model.__table__.c.n + stmt.excluded.n}))


_ONE = ["kind", "state", "name", "value"]
_TWO = ["kind", "state", "name1", "value1", "name2", "value2"]


def _change(changes: Iterable[tuple[str, str, Pairs, int]]) -> None:
    """(kind, state, facets, +1 or -1) for each side of a change: one upsert per table."""
    one: Counter = Counter()
    two: Counter = Counter()
    for kind, state, pairs, delta in changes:
        pairs = set(pairs)
        for n, v in pairs:
            one[(kind, state, n, v)] += delta
        for key in _pairs(pairs):
            two[(kind, state, *key)] += delta
    _upsert(FacetCount, _ONE, one)
    _upsert(FacetPairCount, _TWO, two)


def replace(record: Record, old: Pairs, new: Pairs) -> None:
    """The record's facets changed from `old` to `new` (in its current state)."""
    _change([(record.kind, record.state, new, 1), (record.kind, record.state, old, -1)])


def forget(record: Record) -> None:
    """The record is about to be deleted."""
    _change([(record.kind, record.state, stored(record.id), -1)])


def move(record: Record, before: str, pairs: Pairs) -> None:
    """The record, with these facets, went from state `before` to `record.state`."""
    _change([(record.kind, before, pairs, -1), (record.kind, record.state, pairs, 1)])


def pair_statements() -> list[Any]:
    """The statements that recount the pairs from `registry_facet` (also run by the
    migration that added them, on its own connection)."""
    key, country, reach = aliased(Facet), aliased(Facet), aliased(Facet)
    region_of = case(dict(countries.region_map()), value=country.value)
    keys = union_all(
        select(key.record_id.label("record_id"), key.name.label("name"),
               key.value.label("value"))
        .where(key.name.in_(PAIR_FILTERS + REACH)),
        select(country.record_id, literal(BOTH), country.value)
        .join(reach, and_(reach.record_id == country.record_id,
                          reach.name == "open_region", reach.value == region_of))
        .where(country.name == "country")).subquery()
    return [
        delete(FacetPairCount),
        insert(FacetPairCount).from_select(
            _TWO + ["n"],
            select(Record.kind, Record.state, keys.c.name, keys.c.value, Facet.name,
                   Facet.value, func.count())
            .select_from(keys)
            .join(Record, Record.id == keys.c.record_id)
            .join(Facet, Facet.record_id == keys.c.record_id)
            .where(Facet.name.in_(COUNTED))
            .group_by(Record.kind, Record.state, keys.c.name, keys.c.value, Facet.name,
                      Facet.value)),
    ]


def rebuild() -> None:
    """Recount from `registry_facet` (after a bulk load; `hub registry reindex`)."""
    db.session.execute(delete(FacetCount))
    db.session.execute(insert(FacetCount).from_select(
        _ONE + ["n"],
        select(Record.kind, Record.state, Facet.name, Facet.value, func.count())
        .join(Record, Record.id == Facet.record_id)
        .group_by(Record.kind, Record.state, Facet.name, Facet.value)))
    for stmt in pair_statements():
        db.session.execute(stmt)


# -- reading ----------------------------------------------------------------------------------

def chosen_keys(name: str, value: str, open_to: bool) -> dict[tuple[str, str], int]:
    """{key: +1 or -1}: the keys whose signed sum counts the records one filter finds;
    `open_to` when a country or region also finds what is open to it."""
    if not open_to:
        return {(name, value): 1}
    if name == "region":  # what is open to a region has the region's facet already
        return {("region", value): 1, ("open", "world"): 1}
    region = countries.region_of(value)
    keys = {("country", value): 1, ("open", "world"): 1}
    if region:
        keys |= {("open_region", region): 1, (BOTH, value): -1}
    return keys


def counts(viewer: Any, names: Iterable[str], kind: str | None = None,
           state: str | None = None,
           chosen: tuple[dict[tuple[str, str], int], ColumnElement[bool]] | None = None,
           ) -> dict[tuple[str, str], int]:
    """{(name, value): records} over what `viewer` may read, of a kind and a state when
    given, and found by one filter when `chosen` is (its `chosen_keys`, its condition on
    `Record`): the same numbers as grouping `registry_facet` over those records."""
    names = list(names)
    if chosen is None:
        table, name_col, value_col = FacetCount, FacetCount.name, FacetCount.value
        weight: Any = literal(1)
        where = []
    else:
        keys, _found = chosen
        table, name_col, value_col = FacetPairCount, FacetPairCount.name2, FacetPairCount.value2
        weight = case(*[(and_(FacetPairCount.name1 == n, FacetPairCount.value1 == v), w)
                        for (n, v), w in keys.items()], else_=0)
        where = [FacetPairCount.name1.in_({n for n, _v in keys}),
                 FacetPairCount.value1.in_({v for _n, v in keys}), weight != 0]
    # Readable by state alone: the shape of access.readable_records without an owner.
    by_state = access.readable_records(viewer, SimpleNamespace(
        state=table.state, owner_id=null()))
    stmt = (select(name_col, value_col, func.sum(weight * table.n))
            .where(by_state, name_col.in_(names), table.n > 0, *where)
            .group_by(name_col, value_col))
    if kind:
        stmt = stmt.where(table.kind == kind)
    if state:
        stmt = stmt.where(table.state == state)
    found: dict[tuple[str, str], int] = {}
    for name, value, n in db.session.execute(stmt):
        if n:
            found[(name, value)] = int(n)
    if access.is_active_member(viewer) and not access.is_secretariat(viewer):
        # A member's own records in the states others may not read.
        own = (select(Facet.name, Facet.value, func.count())
               .join(Record, Record.id == Facet.record_id)
               .where(Record.owner_id == viewer.id, Record.state != PUBLISHED,
                      access.readable_records(viewer, Record), Facet.name.in_(names))
               .group_by(Facet.name, Facet.value))
        if chosen is not None:
            own = own.where(chosen[1])
        if kind:
            own = own.where(Record.kind == kind)
        if state:
            own = own.where(Record.state == state)
        for name, value, n in db.session.execute(own):
            found[(name, value)] = found.get((name, value), 0) + n
    return found
