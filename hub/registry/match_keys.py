"""The keys matching compares (`registry_match_key`): for each published project and
opportunity, its thematic areas and where it is or what it is open to, one row each, with
the rest of what its score and order need (its kind, its timeliness bonus, its deadline,
the last day it is open, its last update), so that `matching` finds and scores one need's
matches in one grouped read of this table instead of joining every candidate's rows.

The keys are the record's facets that matching looks at: `theme` and `country` for both
kinds; a project's `region` (the regions of its countries), an opportunity's `open_region`
(the regions it is open to) and `open` (open to every country). They follow the record in
the transaction that changes it: `search.reindex` and `search.restate` (after a change of
review state) call `write`; deletion cascades. `rebuild`
recomputes them all.

Imports only `hub`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select

from hub.extensions import db
from hub.registry.kinds import PUBLISHED
from hub.registry.models import MODELS, Facet, MatchKey, Record

KEYS = {"projects": ("theme", "country", "region"),
        "opportunities": ("theme", "country", "open_region", "open")}
_COLUMNS = ["record_id", "name", "value", "kind", "bonus", "deadline", "open_until",
            "updated_at"]


def write(record: Record, facets: Iterable[tuple[str, str]]) -> None:
    """The record's keys, from its facets, as its kind and state say (none unless it is a
    published project or opportunity)."""
    db.session.execute(delete(MatchKey).where(MatchKey.record_id == record.id))
    names = KEYS.get(record.kind)
    if not names or record.state != PUBLISHED:
        return
    if record.kind == "opportunities":
        bonus, deadline = 10, record.deadline
        open_until = record.deadline or record.timeframe_end
    else:
        bonus = 5 if record.status in {"ongoing", "planned"} else 0
        deadline = open_until = None
    rows = [{"record_id": record.id, "name": n, "value": v, "kind": record.kind,
             "bonus": bonus, "deadline": deadline, "open_until": open_until,
             "updated_at": record.updated_at}
            for n, v in sorted(facets) if n in names]
    if rows:
        db.session.execute(insert(MatchKey), rows)


def rebuild_statements() -> list[Any]:
    """The statements that recompute every key from `registry_facet` (also run by the
    migration that added them, on its own connection)."""
    opp, project = MODELS["opportunities"].__table__.c, MODELS["projects"].__table__.c
    is_opp = Record.kind == "opportunities"
    bonus = case((is_opp, 10), (project.status.in_(["ongoing", "planned"]), 5), else_=0)
    return [
        delete(MatchKey),
        insert(MatchKey).from_select(_COLUMNS, select(
            Facet.record_id, Facet.name, Facet.value, Record.kind, bonus, opp.deadline,
            func.coalesce(opp.deadline, opp.timeframe_end), Record.updated_at)
            .join(Record, Record.id == Facet.record_id)
            .outerjoin(opp.id.table, opp.id == Record.id)
            .outerjoin(project.id.table, project.id == Record.id)
            .where(Record.state == PUBLISHED, or_(*[
                and_(Record.kind == kind, Facet.name.in_(names))
                for kind, names in KEYS.items()]))),
    ]


def rebuild() -> None:
    for stmt in rebuild_statements():
        db.session.execute(stmt)
