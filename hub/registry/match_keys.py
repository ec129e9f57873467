"""The keys matching compares (`registry_match_key`): for each published project and
opportunity, each of its thematic areas with each place it is in or open to, one row each,
with the rest of what its score and order need (its kind, its timeliness bonus, its
deadline, the last day it is open, its last update). A need reads the rows of its areas
and its places only (its country, its region, "world"): the records that share both, which
`matching` scores and orders in one grouped query, instead of every record that shares an
area.

The places are the record's facets that matching looks at: `country` ("country:KE", 30
points) for both kinds; a project's `region` (the regions of its countries) and an
opportunity's `open_region` (the regions it is open to) as "region:africa" (20 points); an
opportunity's `open` ("world", 10 points: open to every country). They follow the record
in the transaction that changes it: `search.reindex` and `search.restate` (after a change
of review state) call `write`; deletion cascades. `rebuild` recomputes them all.

Imports only `hub`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, literal, or_, select
from sqlalchemy.orm import aliased

from hub.extensions import db
from hub.registry.kinds import PUBLISHED
from hub.registry.models import MODELS, Facet, MatchKey, Record

# Facet name -> (the place's prefix, geography points), by kind.
PLACES = {
    "projects": {"country": ("country:", 30), "region": ("region:", 20)},
    "opportunities": {"country": ("country:", 30), "open_region": ("region:", 20),
                      "open": ("world", 10)},
}
_COLUMNS = ["record_id", "theme", "place", "geography", "kind", "bonus", "deadline",
            "open_until", "updated_at"]


def place(prefix: str, value: str) -> str:
    """A place as the keys spell it ("world" stands alone)."""
    return prefix if prefix == "world" else prefix + value


def write(record: Record, facets: Iterable[tuple[str, str]]) -> None:
    """The record's keys, from its facets, as its kind and state say (none unless it is a
    published project or opportunity)."""
    db.session.execute(delete(MatchKey).where(MatchKey.record_id == record.id))
    places = PLACES.get(record.kind)
    if not places or record.state != PUBLISHED:
        return
    if record.kind == "opportunities":
        bonus, deadline = 10, record.deadline
        open_until = record.deadline or record.timeframe_end
    else:
        bonus = 5 if record.status in {"ongoing", "planned"} else 0
        deadline = open_until = None
    facets = sorted(facets)
    themes = [v for n, v in facets if n == "theme"]
    rows = []
    for name, value in facets:
        if name in places:
            prefix, points = places[name]
            rows += [{"record_id": record.id, "theme": theme, "place": place(prefix, value),
                      "geography": points, "kind": record.kind, "bonus": bonus,
                      "deadline": deadline, "open_until": open_until,
                      "updated_at": record.updated_at} for theme in themes]
    if rows:
        db.session.execute(insert(MatchKey), rows)


def rebuild_statements() -> list[Any]:
    """The statements that recompute every key from `registry_facet` (also run by the
    migration that added them, on its own connection)."""
    opp, project = MODELS["opportunities"].__table__.c, MODELS["projects"].__table__.c
    theme, where = aliased(Facet), aliased(Facet)
    is_opp = Record.kind == "opportunities"
    bonus = case((is_opp, 10), (project.status.in_(["ongoing", "planned"]), 5), else_=0)
    cases = [(and_(Record.kind == kind, where.name == name), (prefix, points))
             for kind, places in PLACES.items() for name, (prefix, points) in places.items()]
    spelled = case(*[(cond, literal(prefix) if prefix == "world"
                      else literal(prefix) + where.value) for cond, (prefix, _p) in cases])
    points = case(*[(cond, p) for cond, (_prefix, p) in cases])
    return [
        delete(MatchKey),
        insert(MatchKey).from_select(_COLUMNS, select(
            theme.record_id, theme.value, spelled, points, Record.kind, bonus, opp.deadline,
            func.coalesce(opp.deadline, opp.timeframe_end), Record.updated_at)
            .join(Record, Record.id == theme.record_id)
            .join(where, where.record_id == theme.record_id)
            .outerjoin(opp.id.table, opp.id == Record.id)
            .outerjoin(project.id.table, project.id == Record.id)
            .where(Record.state == PUBLISHED, theme.name == "theme",
                   or_(*[cond for cond, _p in cases]))),
    ]


def rebuild() -> None:
    for stmt in rebuild_statements():
        db.session.execute(stmt)
