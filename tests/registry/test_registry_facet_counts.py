"""Facet counts (pre-aggregated, by one chosen filter, or grouped) against a
straightforward count: the records the filters find, loaded one by one, their facets taken
from the record itself; for random filter combinations, every single filter the pairs
count, every kind of viewer, and after records are added, edited, withdrawn, published and
deleted. The kept counts and match keys against a rebuild from scratch. Matching's scores
(computed in SQL from the match keys) against the documented formula applied to every
published record."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest

from hub.extensions import db
from hub.registry import actions, match_keys, matching, search, tallies
from hub.registry.models import FacetCount, FacetPairCount, MatchKey, Record

THEMES = ["risk-assessment", "detection-identification", "public-awareness", "socio-economic"]
COUNTRIES = ["KE", "UG", "GH", "AR", "BR", "FR"]
WORDS = ["maize", "cotton", "customs", "radio", "seeds"]


def _data(rng: random.Random, kind: str) -> dict:
    data: dict = {"thematic_areas": rng.sample(THEMES, rng.randint(1, 2)),
                  "title": " ".join(rng.sample(WORDS, 2)).capitalize()}
    if kind == "needs":
        return {"country": rng.choice(COUNTRIES), "thematic_areas": data["thematic_areas"],
                "needs": [" ".join(rng.sample(WORDS, 3))]}
    if kind == "projects":
        year = rng.randint(2018, 2024)
        data.update(countries=rng.sample(COUNTRIES, rng.randint(0, 2)),
                    status=rng.choice(["planned", "ongoing", "completed"]),
                    start_date=f"{year}-01-01", end_date=f"{year + 1}-12-31",
                    objectives=" ".join(rng.sample(WORDS, 2)))
    elif kind == "opportunities":
        data.update(type=rng.choice(["funding", "training"]),
                    regions=rng.sample(["africa", "grulac"], rng.randint(0, 1)),
                    countries=rng.sample(COUNTRIES, rng.randint(0, 1)))
    elif kind == "resources":
        data.update(type="manual", language=rng.choice(["en", "es"]))
    else:
        data.update(type="evaluation", organization=rng.choice(["UNEP", "FAO"]))
    return data


@pytest.fixture
def registry(make_record, owner, other, secretariat):
    rng = random.Random(15)
    members = [owner, other, secretariat]
    # What an opportunity may be open to: a country and its region both (found once),
    # a region, every country; drafts of the owner's among them.
    records = [make_record("opportunities", countries=["KE"], regions=["africa"]),
               make_record("opportunities", countries=["AR"], regions=["africa"]),
               make_record("opportunities", regions=["africa"], owner=owner, state="draft"),
               make_record("opportunities", countries=[], regions=[]),
               make_record("opportunities", countries=["KE"], regions=["africa"], owner=owner,
                           state="submitted")]
    for n in range(36):
        kind = ("projects", "opportunities", "needs", "resources", "reports")[n % 5]
        state = rng.choice(["published", "published", "submitted", "draft"])
        records.append(make_record(kind, owner=rng.choice(members), state=state,
                                   **_data(rng, kind)))
    return rng, records


def _expected(viewer, f: search.Filters) -> tuple[dict[str, Counter], Counter]:
    found = db.session.scalars(db.select(Record).where(
        Record.id.in_(search.result_ids(viewer, f)))).all()
    counts: dict[str, Counter] = {name: Counter() for name in tallies.FACETS}
    for record in found:
        for name, value in search.facet_values(record):
            if name in counts:
                counts[name][value] += 1
    return counts, Counter(r.kind for r in found)


def _random_filters(rng: random.Random) -> search.Filters:
    facets: dict[str, tuple[str, ...]] = {}
    for name, values in (("theme", THEMES), ("country", COUNTRIES), ("year", ["2020", "2023"]),
                         ("status", ["ongoing", "completed"]), ("type", ["funding", "manual"]),
                         ("region", ["africa", "grulac"])):
        if rng.random() < 0.25:
            facets[name] = tuple(rng.sample(values, rng.randint(1, 2)))
    return search.Filters(
        kind=rng.choice([None, None, "projects", "opportunities", "needs", "reports"]),
        q=rng.choice(["", "", "", "maize", "cotton OR radio", "-seeds"]), facets=facets,
        state=rng.choice([None, None, None, "published", "draft"]))


def _check(viewer, f: search.Filters) -> None:
    counts = search.facet_counts(viewer, f)
    for name in tallies.FACETS:
        without = replace(f, facets={k: v for k, v in f.facets.items() if k != name})
        expected, _kinds = _expected(viewer, without)
        got = {value: n for value, n in counts[name] if n}
        assert got == dict(expected[name]), (name, f)
        if name in f.facets or (name in {"country", "region"}
                                and f.kind in {None, "opportunities"}):
            continue  # the geographic filters also find what is open to the place
        for value, n in got.items():  # choosing a value finds as many records as it says
            chosen = replace(f, facets={**f.facets, name: (value,)})
            assert search.count(viewer, chosen) == n, (name, value, f)
    _counts, kinds = _expected(viewer, replace(f, kind=None))
    assert search.kind_counts(viewer, f) == dict(kinds)
    assert search.count(viewer, f) == len(search.result_ids(viewer, f))


def _kept() -> tuple[dict, dict, set]:
    one = {(c.kind, c.state, c.name, c.value): c.n
           for c in db.session.scalars(db.select(FacetCount)) if c.n}
    two = {(c.kind, c.state, c.name1, c.value1, c.name2, c.value2): c.n
           for c in db.session.scalars(db.select(FacetPairCount)) if c.n}
    keys = {(k.record_id, k.theme, k.place, k.geography, k.kind, k.bonus, k.deadline,
             k.open_until, k.updated_at) for k in db.session.scalars(db.select(MatchKey))}
    return one, two, keys


def _check_tallies() -> None:
    kept = _kept()
    assert kept[1] and kept[2]
    tallies.rebuild()
    match_keys.rebuild()
    rebuilt = _kept()
    db.session.rollback()
    assert kept == rebuilt


def _check_single_filters(viewer, rng: random.Random, tries: int) -> None:
    """Filters of one facet value, those the pairs count: every filterable facet, the
    kinds where a country or a region also finds what is open to it and where not."""
    choices = [("country", c) for c in COUNTRIES] + [
        ("region", r) for r in ("africa", "grulac", "weog")] + [
        ("theme", t) for t in THEMES] + [
        ("type", "funding"), ("type", "manual"), ("status", "ongoing"), ("language", "es")]
    for name, value in rng.sample(choices, tries):
        for kind in (None, "opportunities", "projects", rng.choice(["needs", "resources"])):
            f = search.Filters(kind=kind, facets={name: (value,)},
                               state=rng.choice([None, None, "published", "draft"]))
            assert search._pre_counted(f, with_facets=True)
            _check(viewer, f)


def test_facet_counts_equal_a_straight_count(registry, owner, other, secretariat):
    rng, _records = registry
    _check_tallies()
    for viewer in (None, owner, other, secretariat):
        _check(viewer, search.Filters())
        for _n in range(12):
            _check(viewer, _random_filters(rng))
        _check_single_filters(viewer, rng, 8)


def test_counts_follow_edits_withdrawals_and_deletions(registry, owner, other, secretariat):
    rng, records = registry
    published = [r for r in records if r.state == "published"]
    actions.update_record(secretariat, published[0], {
        "thematic_areas": ["detection-identification"], "title": "Radio maize"})
    actions.return_record(secretariat, published[1], "Please add the dates.")  # withdrawn
    actions.delete_record(secretariat, published[2])
    drafts = [r for r in records if r.state == "draft"]
    actions.submit_record(drafts[0].owner, drafts[0])
    actions.publish_record(secretariat, drafts[0])
    actions.confirm_record(secretariat, published[3])
    actions.create_record(owner, "projects", _data(rng, "projects"), state="draft")
    actions.create_record(other, "needs", _data(rng, "needs"))
    _check_tallies()
    for viewer in (None, owner, other, secretariat):
        _check(viewer, search.Filters())
        for _n in range(8):
            _check(viewer, _random_filters(rng))
        _check_single_filters(viewer, rng, 5)


def test_a_kinds_tabs_count_what_is_open_to_the_country(make_record, owner):
    """The tabs above a project list for Kenya count every kind as its own tab would: the
    opportunities tab counts those open to Kenya's region and to every country."""
    make_record("projects", countries=["KE"])
    make_record("opportunities", countries=["KE"], regions=["africa"])
    make_record("opportunities", regions=["africa"])
    make_record("opportunities", countries=[], regions=[])
    make_record("opportunities", countries=["AR"])
    make_record("opportunities", regions=["africa"], owner=owner, state="draft")
    for viewer, opportunities in ((None, 3), (owner, 4)):
        for chosen in ({"country": ("KE",)}, {"country": ("KE", "UG")},
                       {"country": ("KE",), "theme": ("risk-assessment",)}):
            f = search.Filters(kind="projects", facets=chosen)
            assert search.kind_counts(viewer, f) == {"projects": 1,
                                                     "opportunities": opportunities}
            assert search.count(viewer, replace(f, kind="opportunities")) == opportunities


def _reference_score(need, record, today) -> int | None:
    """The documented score, straight from the record; None when it does not match."""
    from hub import countries

    themes = need.thematic_areas
    shared = [t for t in themes if t in (record.thematic_areas or [])]
    region = countries.region_of(need.country)
    if record.kind == "opportunities":
        regions = set(record.regions or [])
        closed = (record.deadline < today if record.deadline
                  else record.timeframe_end is not None and record.timeframe_end < today)
        worldwide = not record.countries and not record.regions
    else:
        regions = {countries.region_of(c) for c in record.countries or []}
        closed, worldwide = False, False
    if need.country in (record.countries or []):
        geo = 30
    elif region and region in regions:
        geo = 20
    elif worldwide:
        geo = 10
    else:
        return None
    if not shared or closed or record.state != "published":
        return None
    score = (100 * len(shared) + len(themes)) // (2 * len(themes)) + geo
    if record.kind == "opportunities":
        score += 10 + (5 if record.deadline and (record.deadline - today).days <= 60 else 0)
    elif record.status in {"ongoing", "planned"}:
        score += 5
    return score


def _check_matching(viewer) -> int:
    """Every need's matches: the documented scores, in the documented order."""
    from datetime import date

    from hub import clock

    today = clock.now().date()
    needs = db.session.scalars(db.select(Record).where(Record.kind == "needs")).all()
    candidates = db.session.scalars(db.select(Record).where(
        Record.kind.in_(["projects", "opportunities"]))).all()
    checked = 0
    for need in needs:
        expected = {r: s for r in candidates
                    if (s := _reference_score(need, r, today)) is not None}
        order = sorted(expected, key=lambda r: (
            -expected[r], r.kind != "opportunities",
            (getattr(r, "deadline", None) or date.max).toordinal(),
            -r.updated_at.timestamp(), -r.id))
        got = matching.matches_for(viewer, need, limit=500)
        assert [(m.record.id, m.score) for m in got] == [(r.id, expected[r]) for r in order]
        checked += len(got)
    return checked


def test_matching_scores_equal_the_formula(registry, make_record, secretariat, owner):
    rng, records = registry
    for kind in ("opportunities", "projects") * 6:
        make_record(kind, **_data(rng, kind))
    assert _check_matching(secretariat) > 10
    published = [r for r in records if r.state == "published"
                 and r.kind in {"projects", "opportunities"}]
    actions.update_record(secretariat, published[0], {"thematic_areas": THEMES[:2]})
    actions.return_record(secretariat, published[1], "Please add the dates.")
    actions.delete_record(secretariat, published[2])
    drafts = [r for r in records if r.state != "published"
              and r.kind in {"projects", "opportunities"}]
    actions.submit_record(drafts[0].owner, drafts[0])
    actions.publish_record(secretariat, drafts[0])
    _check_tallies()
    assert _check_matching(None) == _check_matching(owner) > 10
