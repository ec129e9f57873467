"""Finding records: the facet index, the full-text index and the queries over both.

Full text is indexed, never `LIKE '%x%'`: on SQLite an FTS5 table `registry_record_fts`
(porter stemming, accents removed) keyed by the record id; on PostgreSQL the column
`registry_record.search_vector` (tsvector, weights A for the title, B for the rest) with a
GIN index. Both are written here, in the transaction that saves the record. Text is folded
(lower case, no accents) before indexing and querying, so both databases agree.

Queries read like a search box (the language of `hub.fulltext`, shared with the forums):
words are ANDed, "quoted phrases" stay together, `OR` between two terms offers a choice, a
leading `-` excludes. Facet counts are one grouped query for the facets not being
filtered, plus one per filtered facet (counted without its own filter, so a reader can
widen a choice); each is read from the pre-aggregated counts (`hub.registry.tallies`) when
its filters are only a kind, a state and at most one facet filter of one value; from the
bitsets (`hub.registry.bitsets`) when every word of the text query is a common term; else
grouped over `registry_facet` joined to the records found.

Imports only `hub`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from flask_babel import force_locale
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql

from hub import access, clock, countries, fulltext
from hub.extensions import db
from hub.fulltext import PG_CONFIG, TextQuery, parse_query
from hub.models import Member
from hub.registry import bitsets, fields, match_keys, tallies
from hub.registry.kinds import KINDS
from hub.registry.models import MODELS, Facet, Record

MAX_YEARS = 30


def _dialect() -> str:
    return db.engine.dialect.name


# -- what a record is found by ---------------------------------------------------------------

def date_range(record: Record) -> tuple[date | None, date | None]:
    kind = record.kind
    if kind == "projects":
        start, end = record.start_date, record.end_date
    elif kind == "opportunities":
        start, end = record.timeframe_start, record.timeframe_end or record.deadline
    elif kind == "resources":
        start = end = record.published_on
    elif kind == "reports":
        start, end = record.timeframe_start, record.timeframe_end
    else:  # a country's needs are dated by their last update
        stamp = record.updated_at
        start = end = stamp.date() if stamp else None
    return start, end


def organizations(record: Record) -> list[str]:
    """The organizations a record is about: its own field when the kind has one, the
    contacts' organizations, else its owner's."""
    found: list[str] = []
    own = getattr(record, "organization", None) or getattr(record, "publisher", None)
    if own:
        found.append(own)
    found += [c["organization"] for c in record.contacts or [] if c.get("organization")]
    if not found and record.owner is not None and record.owner.organization:
        found.append(record.owner.organization)
    return list(dict.fromkeys(o.strip()[:200] for o in found if o.strip()))


def facet_values(record: Record) -> set[tuple[str, str]]:
    values: set[tuple[str, str]] = {("kind", record.kind)}  # counts the records themselves
    values |= {("theme", slug) for slug in record.thematic_areas or []}
    values |= {("country", code) for code in record.countries or []}
    declared = set(getattr(record, "regions", None) or [])
    regions = {countries.region_of(code) for code in record.countries or []} | declared
    values |= {("region", r) for r in regions if r}
    if record.kind == "opportunities":
        # Who may apply, apart from the countries named: whole regions, or everyone.
        values |= {("open_region", r) for r in declared}
        if not record.countries and not declared:
            values.add(("open", "world"))
    if getattr(record, "type", None):
        values.add(("type", record.type))
    if record.kind == "projects" and record.status:
        values.add(("status", record.status))
    values |= {("language", code) for code in fields.record_languages(record)}
    values |= {("organization", o) for o in organizations(record)}
    start, end = date_range(record)
    if start or end:
        first, last = (start or end).year, (end or start).year
        for year in range(max(first, last - MAX_YEARS), last + 1):
            values.add(("year", str(year)))
    return values


def search_text(record: Record, vocab: fields.Vocabulary) -> tuple[str, str]:
    """(title, everything else) as folded plain text for the full-text index; labels are
    indexed in English whatever the writer's language."""
    with force_locale("en"):
        return _search_text(record, vocab)


def _search_text(record: Record, vocab: fields.Vocabulary) -> tuple[str, str]:
    kind = KINDS[record.kind]
    parts: list[str] = []
    titles: list[str] = [record.title or ""]
    for spec in kind.fields:
        if spec.name == "title":
            continue
        value = fields.get(record, spec)
        if spec.type in {"text", "longtext", "language"}:
            parts.append(value or "")
            if spec.type == "language" and value:
                parts.append(fields.language_name(value))
        elif spec.type in {"strings", "lines"}:
            parts.extend(value)
        elif spec.type == "choice":
            parts.append(str(dict(spec.choices).get(value, value or "")))
        elif spec.type in {"countries", "country"}:
            codes = value if isinstance(value, list) else [value] if value else []
            parts.extend(countries.country_name(c, "en") for c in codes)
        elif spec.type == "regions":
            parts.extend(str(countries.REGIONS.get(r, r)) for r in value)
        elif spec.type == "themes":
            parts.extend(vocab.theme_name(s) for s in value)
        elif spec.type == "contacts":
            parts.extend(" ".join(filter(None, (c.get("name"), c.get("organization"),
                                               c.get("role")))) for c in value)
        elif spec.type == "links":
            parts.extend(ln.get("title", "") for ln in value)
        elif spec.type == "editions":
            # Every edition is found: its title weighs as a title, the rest as the body.
            titles.extend(e.get("title", "") for e in value)
            for edition in value:
                parts.append(edition.get("abstract", ""))
                parts.extend(ln.get("title", "") for ln in edition.get("links", []))
    if record.external_id:
        parts.append(record.external_id)
    return (fields.fold(" ".join(t for t in titles if t)),
            fields.fold("\n".join(p for p in parts if p)))


def reindex(record: Record, vocab: fields.Vocabulary) -> None:
    """Rewrite the record's facets, their counts and its full-text entry (the record is
    flushed)."""
    old = tallies.stored(record.id)
    common = bitsets.common_terms()
    old_terms = bitsets.indexed_terms(record.id) if common else set()
    new = {(n, v[:200]) for n, v in facet_values(record)}
    db.session.execute(delete(Facet).where(Facet.record_id == record.id))
    rows = [{"record_id": record.id, "name": n, "value": v} for n, v in sorted(new)]
    db.session.execute(insert(Facet), rows)
    tallies.replace(record, old, new)
    match_keys.write(record, new)
    title, body = search_text(record, vocab)
    if _dialect() == "postgresql":
        db.session.execute(
            text("UPDATE registry_record SET search_vector = "
                 f"setweight(to_tsvector('{PG_CONFIG}', :title), 'A') || "
                 f"setweight(to_tsvector('{PG_CONFIG}', :body), 'B') WHERE id = :id"),
            {"title": title, "body": body, "id": record.id})
    else:
        db.session.execute(text("DELETE FROM registry_record_fts WHERE rowid = :id"),
                           {"id": record.id})
        db.session.execute(
            text("INSERT INTO registry_record_fts (rowid, title, body) "
                 "VALUES (:id, :title, :body)"),
            {"title": title, "body": body, "id": record.id})
    new_terms = bitsets.indexed_terms(record.id) if common else set()
    bitsets.replace(record.id, bitsets.record_keys(old, record.state, old_terms, common),
                    bitsets.record_keys(new, record.state, new_terms, common))


def restate(record: Record, before: str) -> None:
    """The record went from review state `before` to `record.state`: its counts and its
    match keys follow."""
    if record.id is None or before == record.state:
        return  # not indexed yet, or no change
    facets = tallies.stored(record.id)
    tallies.move(record, before, facets)
    match_keys.write(record, facets)
    bitsets.move(record.id, before, record.state)


def unindex(record: Record) -> None:
    """Before a record is deleted: its facet counts go; its facets and match keys go with
    the row (ON DELETE CASCADE); the FTS5 table is not a foreign key."""
    bitsets.forget(record.id, bitsets.keys_of(record.id, record.state))
    tallies.forget(record)
    if _dialect() != "postgresql":
        db.session.execute(text("DELETE FROM registry_record_fts WHERE rowid = :id"),
                           {"id": record.id})


# -- the query language (shared with the forums: hub.fulltext) ------------------------------

_fts5 = fulltext.fts5_term
_fts5_expr = fulltext.fts5_match
_pg_term = fulltext.pg_term
_pg_expr = fulltext.pg_match


_VECTOR = literal_column("registry_record.search_vector")
_FTS = literal_column("registry_record_fts")


def text_hits(query: TextQuery) -> Select:
    """(id, rank) of the records the text query finds; a smaller rank is a better hit."""
    if _dialect() == "postgresql":
        if query.groups:
            tsq = _pg_expr(query.groups)
            stmt = select(Record.id.label("id"),
                          (-func.ts_rank_cd(_VECTOR, tsq)).label("rank")).where(
                _VECTOR.op("@@")(tsq))
        else:
            stmt = select(Record.id.label("id"), literal_column("0.0").label("rank"))
        for term in query.excluded:
            stmt = stmt.where(~_VECTOR.op("@@")(_pg_term(term)))
        return stmt
    if query.groups:
        stmt = select(literal_column("registry_record_fts.rowid").label("id"),
                      func.bm25(_FTS, 10.0, 1.0).label("rank")).select_from(
            text("registry_record_fts")).where(_FTS.op("MATCH")(_fts5_expr(query.groups)))
    else:
        stmt = select(Record.id.label("id"), literal_column("0.0").label("rank"))
    if query.excluded:
        banned = select(literal_column("rowid")).select_from(text("registry_record_fts")).where(
            _FTS.op("MATCH")(" OR ".join(_fts5(t) for t in query.excluded)))
        id_col = literal_column("registry_record_fts.rowid") if query.groups else Record.id
        stmt = stmt.where(id_col.not_in(banned))
    return stmt


# -- filters ---------------------------------------------------------------------------------

@dataclass
class Filters:
    kind: str | None = None
    q: str = ""
    facets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    state: str | None = None
    owner_id: int | None = None
    open_only: bool = False  # opportunities whose deadline has not passed

    @property
    def text(self) -> TextQuery:
        return parse_query(self.q)

    def active(self) -> bool:
        return bool(self.q or any(self.facets.values()) or self.date_from or self.date_to
                    or self.state or self.owner_id or self.open_only)


def conditions(viewer: Member | None, f: Filters, with_kind: bool = True,
               with_text: bool = True) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [access.readable_records(viewer, Record)]
    if with_kind and f.kind:
        conds.append(Record.kind == f.kind)
    if f.state:
        conds.append(Record.state == f.state)
    if f.owner_id is not None:
        conds.append(Record.owner_id == f.owner_id)
    for name, values in f.facets.items():
        if values:
            conds.append(facet_filter(name, values, f.kind if with_kind else None))
    if f.date_from:
        conds.append(func.coalesce(Record.ends_on, Record.starts_on) >= f.date_from)
    if f.date_to:
        conds.append(func.coalesce(Record.starts_on, Record.ends_on) <= f.date_to)
    if f.open_only:
        deadline = MODELS["opportunities"].deadline
        today = clock.now().date()
        conds.append(Record.kind == "opportunities")
        conds.append(Record.id.in_(select(MODELS["opportunities"].id).where(
            or_(deadline.is_(None), deadline >= today))))
    query = f.text
    if query and with_text:
        conds.append(Record.id.in_(select(text_hits(query).subquery().c.id)))
    return conds


def facet_filter(name: str, values: Iterable[str], kind: str | None) -> ColumnElement[bool]:
    """The records a facet's filter finds among those of `kind` (every kind when None):
    a country or a region finds what is open to it too, where opportunities are found."""
    return open_to(name, values) if _finds_open(name, kind) else any_facet(name, values)


def _finds_open(name: str, kind: str | None) -> bool:
    return name in {"country", "region"} and kind in {None, "opportunities"}


def _pre_counted(f: Filters, with_facets: bool = False) -> bool:
    """Whether the pre-aggregated counts answer for these filters: a kind and a state
    (and, `with_facets`, one facet filter of one value that the pairs count)."""
    if f.text or f.date_from or f.date_to or f.owner_id is not None or f.open_only:
        return False
    chosen = {name: values for name, values in f.facets.items() if values}
    if not chosen:
        return True
    if not with_facets or len(chosen) != 1:
        return False
    [(name, values)] = chosen.items()
    return name in tallies.PAIR_FILTERS and len(set(values)) == 1


def _grouped(viewer: Member | None, f: Filters, names: list[str],
             with_kind: bool = True) -> dict[tuple[str, str], int]:
    """{(name, value): records} for the records the filters find."""
    kind = f.kind if with_kind else None
    if _pre_counted(f, with_facets=True):
        chosen = None
        for name, values in f.facets.items():
            if values:  # the one filter
                chosen = (tallies.chosen_keys(name, values[0], _finds_open(name, kind)),
                          facet_filter(name, values, kind))
        return tallies.counts(viewer, names, kind, f.state, chosen)
    found = _common_word_counts(viewer, f, names, kind)
    if found is not None:
        return found
    ids = select(Record.id).where(*conditions(viewer, f, with_kind=with_kind)).subquery()
    rows = db.session.execute(
        select(Facet.name, Facet.value, func.count())
        .join(ids, ids.c.id == Facet.record_id)
        .where(Facet.name.in_(names))
        .group_by(Facet.name, Facet.value))
    return {(name, value): n for name, value, n in rows}


def _common_words(f: Filters, kind: str | None,
                  ) -> tuple[list[list[tuple[str, str]]], list[tuple[str, str]]] | None:
    """What the bitsets (`hub.registry.bitsets`) ask for these filters, (wanted groups,
    excluded keys), when every word of the text query is one common term and the other
    filters are a kind, a state and facets; None otherwise. A rare word finds few
    records, which are grouped as quickly."""
    query = f.text
    if not query or f.date_from or f.date_to or f.owner_id is not None or f.open_only:
        return None
    terms = [*query.terms, *query.excluded]
    keys = dict(zip(terms, bitsets.term_keys(terms, bitsets.common_terms()), strict=True))
    if not all(keys.values()):
        return None
    wanted = [[keys[t] for t in group] for group in query.groups]
    excluded = [keys[t] for t in query.excluded]
    if kind:
        wanted.append([("kind", kind)])
    if f.state:
        wanted.append([(bitsets.STATE, f.state)])
    for name, values in f.facets.items():
        if values:
            wanted.append(facet_keys(name, values, kind))
    return wanted, excluded


def _common_word_counts(viewer: Member | None, f: Filters, names: list[str],
                        kind: str | None) -> dict[tuple[str, str], int] | None:
    """The counts from the bitsets, or None (see `_common_words`; or before the bitsets
    are complete)."""
    asked = _common_words(f, kind)
    return None if asked is None else bitsets.counts(viewer, names, *asked)


def count(viewer: Member | None, f: Filters) -> int:
    found = _common_word_counts(viewer, f, ["kind"], f.kind)
    if found is not None:
        return sum(found.values())
    if _pre_counted(f, with_facets=True):
        return sum(_grouped(viewer, f, ["kind"]).values())
    ids = select(Record.id).where(*conditions(viewer, f)).subquery()
    return db.session.scalar(select(func.count()).select_from(ids)) or 0


def facet_counts(viewer: Member | None, f: Filters) -> dict[str, list[tuple[str, int]]]:
    """{facet: [(value, count), ...]} by count, for the records the filters find."""
    counts: dict[str, list[tuple[str, int]]] = {name: [] for name in tallies.FACETS}
    selected = [n for n in tallies.FACETS if f.facets.get(n)]
    plain = [n for n in tallies.FACETS if n not in selected]
    queries = [(plain, f)] + [
        ([n], replace(f, facets={k: v for k, v in f.facets.items() if k != n}))
        for n in selected]
    for names, g in queries:
        for (name, value), n in _grouped(viewer, g, names).items():
            counts[name].append((value, n))
    for name in selected:  # a chosen value stays in view (to be removed) even at 0
        found = {value for value, _n in counts[name]}
        counts[name] += [(value, 0) for value in f.facets[name] if value not in found]
    for name in counts:
        if name == "year":
            counts[name].sort(key=lambda item: item[0], reverse=True)
        else:
            counts[name].sort(key=lambda item: (-item[1], item[0]))
    return counts


def kind_counts(viewer: Member | None, f: Filters) -> dict[str, int]:
    return {value: n for (_name, value), n in
            _grouped(viewer, f, ["kind"], with_kind=False).items()}


SORTS = ("relevance", "updated", "title", "date", "deadline")


def _ordered(viewer: Member | None, f: Filters, sort: str, stmt: Select) -> Select:
    """`stmt` (a select of records or ids) filtered and put in the order asked for."""
    query = f.text
    if not sort:
        sort = "relevance" if query.groups else "updated"
    if sort == "relevance" and query.groups:
        hits = text_hits(query)
        if _dialect() == "postgresql":
            few = _few_found(viewer, f)
            if few is not None:  # rank those, not every record the words find
                hits = hits.where(Record.id == any_(
                    bindparam("few", few, type_=postgresql.ARRAY(Integer))))
            # Without MATERIALIZED the planner may walk every record in update order.
            hits = hits.cte("hits").prefix_with("MATERIALIZED")
        else:
            hits = hits.cte("hits")
        stmt = stmt.join(hits, hits.c.id == Record.id).where(
            *conditions(viewer, f, with_text=False))
        return stmt.order_by(hits.c.rank, Record.id.desc())
    stmt = stmt.where(*conditions(viewer, f))
    if sort == "title":
        return stmt.order_by(func.lower(Record.title), Record.id)
    if sort == "date":
        return stmt.order_by(func.coalesce(Record.starts_on, Record.ends_on).desc().nulls_last(),
                             Record.id.desc())
    if sort == "deadline" and f.kind == "opportunities":
        deadline = MODELS["opportunities"].deadline
        return stmt.order_by(deadline.is_(None), deadline, Record.id.desc())
    return stmt.order_by(Record.updated_at.desc(), Record.id.desc())


FEW = 5000  # ranked one by one on PostgreSQL rather than every record the words find


def _few_found(viewer: Member | None, f: Filters) -> list[int] | None:
    """The ids of what common words with filters find, from the bitsets, when there are
    at most FEW of them. On SQLite FTS5 ranks every match of a word faster than it looks
    up a few thousand by id, so this is for PostgreSQL."""
    asked = _common_words(f, f.kind)
    if asked is None:
        return None
    found = bitsets.matching(viewer, *asked)
    return None if found is None else bitsets.ids(found, FEW)


def results(viewer: Member | None, f: Filters, sort: str = "", offset: int = 0,
            limit: int = 20) -> list[Record]:
    """A page of the records the filters find, in order."""
    from sqlalchemy.orm import selectinload

    model = MODELS[f.kind] if f.kind else Record
    stmt = _ordered(viewer, f, sort, select(model).options(selectinload(Record.owner)))
    return list(db.session.scalars(stmt.offset(offset).limit(limit)))


def result_ids(viewer: Member | None, f: Filters, sort: str = "") -> list[int]:
    """The ids of every record the filters find, in order (for exports)."""
    return list(db.session.scalars(_ordered(viewer, f, sort, select(Record.id))))


def facet_keys(name: str, values: Iterable[str], kind: str | None) -> list[tuple[str, str]]:
    """The facet values whose records `facet_filter` finds (any of them)."""
    values = list(values)
    keys = [(name, v) for v in values]
    if _finds_open(name, kind):
        keys += [("open_region", r) for r in _regions(name, values)] + [("open", "world")]
    return keys


def _regions(name: str, values: list[str]) -> list[str]:
    return values if name == "region" else sorted(
        {r for r in (countries.region_of(c) for c in values) if r})


def open_to(name: str, values: Iterable[str]) -> ColumnElement[bool]:
    """Records in these countries (or regions); and the opportunities open to them: those
    for their whole UN region and those for every country."""
    values = list(values)
    return or_(any_facet(name, values), any_facet("open_region", _regions(name, values)),
               any_facet("open", ["world"]))


def any_facet(name: str, values: Iterable[str]) -> ColumnElement[bool]:
    """Records with at least one of these facet values. `IN`, not `EXISTS`: SQLite can
    then start from the facet index (a country's records) instead of testing every
    record of the kind."""
    return Record.id.in_(select(Facet.record_id).where(Facet.name == name,
                                                       Facet.value.in_(list(values))))
