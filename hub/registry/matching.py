"""Matching a country's needs with the opportunities and projects that fit them. Imports
only `hub`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from hub import access, clock, countries
from hub.extensions import db
from hub.registry import fields, search
from hub.registry.actions import (
    current_locale,
    region_name,
)
from hub.registry.exchange import record_json
from hub.registry.kinds import (
    PUBLISHED,
)
from hub.registry.models import Need, Record

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
                "Country: %(name)s", name=countries.country_name(country, current_locale()))))
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
