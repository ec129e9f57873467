"""Records as bitsets of their ids, so that a common word with filters is counted without
reading the records the word finds.

`registry_bitset` holds one bitset (`CHUNK` record ids a row, bit `id % CHUNK` of row
`id // CHUNK`, least significant bit first, as PostgreSQL's `set_bit` numbers them) for
each key a record has: each of its facet values (`registry_facet`), its review state
("state", s) and each common term of the full-text index it contains ("term", t): the
terms as the index stores them (FTS5's porter stems, PostgreSQL's lexemes), those in many
records (`registry_common_term`, chosen by `rebuild`). A word in 64% of the registry and a
country are then counted by ANDing a few bitsets and counting the bits each facet value
shares with the result: the work is a bit per record of the registry for each key read
(25 KB at 200,000 records), not the 128,000 records found. A query word is turned into
the index's term by the index's own tokenizer (PostgreSQL's `to_tsvector`; on SQLite an
in-memory FTS5 table with the same tokenizer), so a term stands for exactly the records
the full-text query finds.

Kept in the transaction that changes a record (`search.reindex`, `restate`, `unindex`
call `replace`, `move` and `forget`): each key's bit is set to what it now is, rows in key
order, read with FOR UPDATE. Read only once complete (the row ("built", "", -1), written
by `rebuild` or by the migration for an empty registry): until then `counts` answers None
and the caller groups the records found, as before.

Imports only `hub`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, insert, null, select, text, tuple_

from hub import access, clock
from hub.extensions import db
from hub.fulltext import PG_CONFIG
from hub.registry.kinds import PUBLISHED
from hub.registry.models import Bitset, CommonTerm, Facet, Record

CHUNK = 1 << 15
BUILT = ("built", "", -1)
STATE = "state"
TERM = "term"
# A term is common, and kept, when this many records have it (and at least MIN_DOCS).
SHARE = 0.05
MIN_DOCS = 200
FTS5_TOKENIZER = "porter unicode61 remove_diacritics 2"  # as migration 0003 made the index

Key = tuple[str, str]


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


# -- terms as the full-text index stores them --------------------------------------------

_local = threading.local()


def _fts5_tokens(texts: Iterable[str]) -> set[str]:
    """The terms FTS5 indexes for these texts: one in-memory table per thread with the
    index's tokenizer (the same SQLite library), apart from the hub's database."""
    conn = getattr(_local, "fts5", None)
    if conn is None:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize = '{FTS5_TOKENIZER}')")
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, row)")
        _local.fts5 = conn
    conn.execute("BEGIN")
    try:
        conn.executemany("INSERT INTO t (x) VALUES (?)", [(t,) for t in texts])
        return {term for (term,) in conn.execute("SELECT term FROM v")}
    finally:
        conn.execute("ROLLBACK")


def indexed_terms(record_id: int) -> set[str]:
    """The terms the full-text index holds for a record now (none when not indexed)."""
    if _postgres():
        return set(db.session.scalar(text(
            "SELECT tsvector_to_array(search_vector) FROM registry_record WHERE id = :id"),
            {"id": record_id}) or [])
    row = db.session.execute(text(
        "SELECT title, body FROM registry_record_fts WHERE rowid = :id"),
        {"id": record_id}).first()
    return _fts5_tokens(row) if row else set()


def common_terms() -> set[str]:
    return set(db.session.scalars(select(CommonTerm.term)))


def term_keys(terms: Sequence[str], common: set[str]) -> list[Key | None]:
    """The key of each query term (a word, or a phrase) when it is one common term."""
    if not terms or not common:
        return [None] * len(terms)
    if _postgres():
        rows = dict(db.session.execute(text(
            f"SELECT t, tsvector_to_array(to_tsvector('{PG_CONFIG}', t)) "
            "FROM unnest(CAST(:terms AS text[])) AS t"), {"terms": list(terms)}).all())
        found = [set(rows.get(t) or []) for t in terms]
    else:
        found = [_fts5_tokens([t]) for t in terms]
    return [(TERM, next(iter(f))) if len(f) == 1 and next(iter(f)) in common else None
            for f in found]  # not one term: a phrase, a stop word


def record_keys(facets: Iterable[Key], state: str, terms: Iterable[str],
                common: set[str]) -> set[Key]:
    return {*facets, (STATE, state), *((TERM, t) for t in terms if t in common)}


# -- keeping them --------------------------------------------------------------------------

def _set(record_id: int, changes: dict[Key, bool]) -> None:
    """Set the record's bit of each key to on or off."""
    if not changes:
        return
    chunk, bit = divmod(record_id, CHUNK)
    keys = sorted(changes)
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    empty = bytes(CHUNK // 8)
    db.session.execute(upsert(Bitset).values(
        [{"name": n, "value": v, "chunk": chunk, "bits": empty} for n, v in keys])
        .on_conflict_do_nothing())
    rows = db.session.execute(
        select(Bitset.name, Bitset.value, Bitset.bits)
        .where(Bitset.chunk == chunk, tuple_(Bitset.name, Bitset.value).in_(keys))
        .order_by(Bitset.name, Bitset.value).with_for_update())
    updates = []
    for name, value, bits in rows:
        bits = bytearray(bits)
        if changes[(name, value)]:
            bits[bit >> 3] |= 1 << (bit & 7)
        else:
            bits[bit >> 3] &= ~(1 << (bit & 7)) & 0xFF
        updates.append({"n": name, "v": value, "b": bytes(bits)})
    db.session.execute(text(
        "UPDATE registry_bitset SET bits = :b WHERE name = :n AND value = :v AND chunk = "
        f"{chunk}"), updates)


def replace(record_id: int, old: set[Key], new: set[Key]) -> None:
    """The record's keys went from `old` to `new`."""
    _set(record_id, {**{k: False for k in old - new}, **{k: True for k in new}})


def move(record_id: int, before: str, after: str) -> None:
    """The record went from review state `before` to `after`."""
    _set(record_id, {(STATE, before): False, (STATE, after): True})


def forget(record_id: int, keys: set[Key]) -> None:
    """The record, which had these keys, is about to be deleted."""
    _set(record_id, {k: False for k in keys})


def built() -> bool:
    return db.session.scalar(select(func.count()).select_from(Bitset).where(
        Bitset.name == BUILT[0], Bitset.value == BUILT[1], Bitset.chunk == BUILT[2])) > 0


def _memberships(common: set[str]) -> Iterable[tuple[int, str]]:
    """(record id, term) for each common term a record has, read from the index."""
    if not common:
        return []
    if _postgres():
        return db.session.execute(text(
            "SELECT r.id, t.term FROM registry_record r, "
            "unnest(tsvector_to_array(r.search_vector)) AS t(term) "
            "WHERE t.term = ANY(:common)"), {"common": sorted(common)})
    db.session.execute(text(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.registry_record_fts_instances "
        "USING fts5vocab(main, registry_record_fts, instance)"))
    return db.session.execute(text(
        "SELECT DISTINCT doc, term FROM temp.registry_record_fts_instances "
        "WHERE term IN (SELECT term FROM registry_common_term)"))


def _document_frequencies() -> Iterable[tuple[str, int]]:
    if _postgres():
        return db.session.execute(text(
            "SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM registry_record')"))
    db.session.execute(text(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.registry_record_fts_terms "
        "USING fts5vocab(main, registry_record_fts, row)"))
    return db.session.execute(text("SELECT term, doc FROM temp.registry_record_fts_terms"))


def _threshold(min_docs: int | None) -> int:
    if min_docs is not None:
        return min_docs
    total = db.session.scalar(select(func.count()).select_from(Record)) or 0
    return max(MIN_DOCS, int(total * SHARE))


def _now_common(min_docs: int | None = None) -> set[str]:
    """The index's terms in `min_docs` records (default: SHARE of the registry, at least
    MIN_DOCS)."""
    least = _threshold(min_docs)
    return {term for term, n in _document_frequencies() if n >= least and len(term) <= 200}


def periodic() -> None:
    """The worker calls this every round; about once a day (and once when a worker
    starts) it builds the bitsets if they are not complete (a registry upgraded to
    migration 0020: exact counts meanwhile, from the records found) and chooses the
    common words again when more have become common. Several workers may do it at
    once: `rebuild` makes the others wait, and each finds the same answer."""
    state = current_app.extensions["registry"]
    if not clock.due(state, "next_bitsets", state.get("bitset_seconds", 86400)):
        return
    if built() and not _now_common() - common_terms():
        return
    rebuild()
    db.session.commit()


def rebuild(min_docs: int | None = None) -> None:
    """Every bitset again from `registry_facet`, the states and the full-text index, the
    common terms chosen anew: those in `min_docs` records (default: SHARE of the
    registry, at least MIN_DOCS). Writers wait (PostgreSQL: the table's lock)."""
    if _postgres():
        db.session.execute(text("LOCK TABLE registry_bitset IN EXCLUSIVE MODE"))
    db.session.execute(delete(Bitset))
    db.session.execute(delete(CommonTerm))
    common = _now_common(min_docs)
    if common:
        db.session.execute(insert(CommonTerm), [{"term": t} for t in sorted(common)])
    sets: dict[tuple[str, str, int], bytearray] = {}

    def add(record_id: int, name: str, value: str) -> None:
        chunk, bit = divmod(record_id, CHUNK)
        bits = sets.get((name, value, chunk))
        if bits is None:
            bits = sets[(name, value, chunk)] = bytearray(CHUNK // 8)
        bits[bit >> 3] |= 1 << (bit & 7)

    for record_id, name, value in db.session.execute(
            select(Facet.record_id, Facet.name, Facet.value)):
        add(record_id, name, value)
    for record_id, state in db.session.execute(select(Record.id, Record.state)):
        add(record_id, STATE, state)
    for record_id, term in _memberships(common):
        add(record_id, TERM, term)
    rows = [{"name": n, "value": v, "chunk": c, "bits": bytes(b)}
            for (n, v, c), b in sorted(sets.items())]
    rows.append(dict(zip(("name", "value", "chunk"), BUILT, strict=True), bits=b""))
    for start in range(0, len(rows), 500):
        db.session.execute(insert(Bitset), rows[start:start + 500])


# -- reading --------------------------------------------------------------------------------

def _load(where: Any, chunks: Sequence[int] | None = None) -> dict[Key, dict[int, int]]:
    stmt = select(Bitset.name, Bitset.value, Bitset.chunk, Bitset.bits).where(
        where, Bitset.chunk >= 0)
    if chunks is not None:
        stmt = stmt.where(Bitset.chunk.in_(chunks))
    found: dict[Key, dict[int, int]] = {}
    for name, value, chunk, bits in db.session.execute(stmt):
        found.setdefault((name, value), {})[chunk] = int.from_bytes(bits, "little")
    return found


def _any(sets: dict[Key, dict[int, int]], keys: Iterable[Key]) -> dict[int, int]:
    union: dict[int, int] = {}
    for key in keys:
        for chunk, bits in sets.get(key, {}).items():
            union[chunk] = union.get(chunk, 0) | bits
    return union


def _readable(viewer: Any) -> dict[int, int]:
    """The records `viewer` may read: the states every such viewer reads whole (the shape
    of access.readable_records without an owner), and a member's own records."""
    by_state = access.readable_records(viewer, SimpleNamespace(
        state=Bitset.value, owner_id=null()))
    states = _load((Bitset.name == STATE) & by_state)
    readable = _any(states, states)
    if access.is_active_member(viewer) and not access.is_secretariat(viewer):
        for record_id in db.session.scalars(select(Record.id).where(
                Record.owner_id == viewer.id, Record.state != PUBLISHED,
                access.readable_records(viewer, Record))):
            chunk, bit = divmod(record_id, CHUNK)
            readable[chunk] = readable.get(chunk, 0) | 1 << bit
    return readable


def matching(viewer: Any, wanted: Sequence[Sequence[Key]],
             excluded: Sequence[Key] = ()) -> dict[int, int] | None:
    """{chunk: bits} of the records `viewer` may read that have, for each group of
    `wanted`, one of its keys and none of `excluded` (empty chunks left out). None when
    the bitsets are not complete."""
    if not built():
        return None
    keys = sorted({k for group in wanted for k in group} | set(excluded))
    sets = _load(tuple_(Bitset.name, Bitset.value).in_(keys)) if keys else {}
    found = _readable(viewer)
    for group in wanted:
        union = _any(sets, group)
        found = {c: bits & union.get(c, 0) for c, bits in found.items()}
    banned = _any(sets, excluded)
    found = {c: bits & ~banned.get(c, 0) for c, bits in found.items()}
    return {c: bits for c, bits in found.items() if bits}


def counts(viewer: Any, names: Iterable[str], wanted: Sequence[Sequence[Key]],
           excluded: Sequence[Key] = ()) -> dict[tuple[str, str], int] | None:
    """{(name, value): records} over the records `matching` finds: the same numbers as
    grouping `registry_facet` over those records. None when the bitsets are not
    complete."""
    found = matching(viewer, wanted, excluded)
    if found is None:
        return None
    result: dict[tuple[str, str], int] = {}
    if not found:
        return result
    for (name, value), chunks in _load(Bitset.name.in_(list(names)), sorted(found)).items():
        n = sum((bits & found.get(c, 0)).bit_count() for c, bits in chunks.items())
        if n:
            result[(name, value)] = n
    return result


def ids(found: dict[int, int], limit: int) -> list[int] | None:
    """The record ids of `matching`'s answer, when there are at most `limit`."""
    if sum(bits.bit_count() for bits in found.values()) > limit:
        return None
    result = []
    for chunk, bits in sorted(found.items()):
        while bits:
            low = bits & -bits
            result.append(chunk * CHUNK + low.bit_length() - 1)
            bits ^= low
    return result


def keys_of(record_id: int, state: str, common: set[str] | None = None) -> set[Key]:
    """The keys a record has now (its stored facets, its state, its common terms)."""
    facets = {(n, v) for n, v in db.session.execute(
        select(Facet.name, Facet.value).where(Facet.record_id == record_id))}
    common = common_terms() if common is None else common
    return record_keys(facets, state, indexed_terms(record_id) if common else (), common)
