"""Matching a country's needs with the opportunities and projects that fit them. Imports
only `hub`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, distinct, func, or_, select

from hub import clock, countries
from hub.extensions import db
from hub.registry import fields, match_keys
from hub.registry.actions import current_locale, region_name
from hub.registry.exchange import record_json
from hub.registry.models import MatchKey, Need, Record


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


def _scored(viewer: Any, need: Need, limit: int) -> list[tuple[int, int]]:
    """(record id, score) of the best `limit` matches, scored and ordered in one grouped
    read of the match keys (`hub.registry.match_keys`): the rows of the need's thematic
    areas with its country, its region or "world", which only the records that match
    have; nothing is loaded but the ids. The keys are those of published records, which
    every viewer may read."""
    themes = list(need.thematic_areas or [])
    region = countries.region_of(need.country)
    places = [match_keys.place("country:", need.country), match_keys.place("world", "")]
    if region:
        places.append(match_keys.place("region:", region))
    today = clock.now().date()
    key = MatchKey
    shared = func.count(distinct(key.theme))
    # The rest is the record's own (the same on each of its rows).
    is_opp = func.max(case((key.kind == "opportunities", 1), else_=0))
    deadline, updated = func.max(key.deadline), func.max(key.updated_at)
    # Half up: 50 x the share of the need's areas covered, in whole points.
    score = ((100 * shared + len(themes)) // (2 * len(themes)) + func.max(key.geography)
             + func.max(key.bonus) + case((deadline <= today + timedelta(days=60), 5),
                                          else_=0))
    stmt = (select(key.record_id, score.label("score"))
            .where(key.theme.in_(themes), key.place.in_(places),
                   or_(key.open_until.is_(None), key.open_until >= today))
            .group_by(key.record_id)
            .order_by(score.desc(), is_opp.desc(), deadline.asc().nulls_last(),
                      updated.desc(), key.record_id.desc())
            .limit(limit))
    return [(rid, int(n)) for rid, n in db.session.execute(stmt)]


def matches_for(viewer: Any, need: Need, limit: int = 50) -> list[Match]:
    """Published opportunities and projects that fit a country's need: at least one of its
    thematic areas, and projects in its country or UN region, opportunities open to its
    country (by name, for its whole region, or for every country).

    Score (0-95): thematic areas shared (up to 50, by the share of the need's areas
    covered, rounded half up), geography (country 30, region 20, worldwide 10), and
    timeliness (an open opportunity 10 and 5 more when the deadline is within 60 days; an
    ongoing or planned project 5). Closed opportunities are left out. Best first; among
    equals opportunities first, the nearest deadline, the newest update."""
    from flask_babel import format_date

    themes = list(need.thematic_areas or [])
    if not themes or not need.country:
        return []
    country, region = need.country, countries.region_of(need.country)
    vocab = fields.Vocabulary.load()
    scored = _scored(viewer, need, limit)
    loaded = {r.id: r for r in db.session.scalars(
        select(Record).where(Record.id.in_([rid for rid, _n in scored])))}
    found: list[Match] = []
    for rid, score in scored:
        record = loaded[rid]
        shared = [t for t in themes if t in (record.thematic_areas or [])]
        reasons = [Reason("theme", t, _("Thematic area: %(name)s", name=vocab.theme_name(t)))
                   for t in shared]
        if record.kind == "opportunities":
            regions = set(record.regions or [])
        else:
            regions = {countries.region_of(c) for c in record.countries or []}
        if country in (record.countries or []):
            reasons.append(Reason("country", country, _(
                "Country: %(name)s", name=countries.country_name(country, current_locale()))))
        elif region and region in regions:
            reasons.append(Reason("region", region, _(
                "Region: %(name)s", name=region_name(region))))
        else:
            reasons.append(Reason("global", "", _("Open to every country")))
        if record.kind == "opportunities":
            if record.deadline is not None:
                reasons.append(Reason("open", record.deadline.isoformat(), _(
                    "Open until %(date)s", date=format_date(record.deadline, "long"))))
            else:
                reasons.append(Reason("open", "", _("Open, no deadline")))
        elif record.status in {"ongoing", "planned"}:
            reasons.append(Reason("status", record.status, _("Ongoing project")
                                  if record.status == "ongoing" else _("Planned project")))
        else:
            reasons.append(Reason("status", record.status,
                                  _("Completed project: its lessons may help")))
        found.append(Match(record, score, reasons))
    return found


def match_json(m: Match, viewer: Any) -> dict[str, Any]:
    return {"kind": m.record.kind, "score": m.score,
            "reasons": [{"code": r.code, "value": r.value, "label": r.label}
                        for r in m.reasons],
            "record": record_json(m.record, viewer)}
