"""Counts for common words from the bitsets (`hub.registry.bitsets`) against a
straightforward count: the records the list finds, loaded one by one, their facets taken
from the record itself; for common words with filters (one country, several, a kind, a
state), OR, exclusions, phrases and a member's own records, for every kind of viewer,
before and after records are added, edited, withdrawn, published and deleted. The kept
bitsets against a rebuild from scratch; a common word and a country are counted without
running the full-text query."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest
from sqlalchemy import event

from hub.extensions import db
from hub.registry import actions, bitsets, search, tallies
from hub.registry.models import Bitset, Record

THEMES = ["risk-assessment", "detection-identification", "public-awareness"]
COUNTRIES = ["KE", "UG", "GH", "AR", "FR"]
WORDS = ["maize", "cotton", "customs", "radio", "seeds", "ports"]
QUERIES = ["maize", "Maize", "cotton OR radio", "maize -seeds", "-customs", "maize cotton",
           "seeds OR accreditation", '"maize cotton"', "maize accreditation", "ports"]


def _data(rng: random.Random, kind: str) -> dict:
    words = " ".join(rng.sample(WORDS, 3))
    data: dict = {"thematic_areas": rng.sample(THEMES, rng.randint(1, 2)),
                  "title": " ".join(rng.sample(WORDS, 2)).capitalize()}
    if kind == "needs":
        return {"country": rng.choice(COUNTRIES), "thematic_areas": data["thematic_areas"],
                "needs": [words]}
    if kind == "projects":
        data.update(countries=rng.sample(COUNTRIES, rng.randint(0, 2)), objectives=words,
                    status=rng.choice(["planned", "ongoing", "completed"]))
    elif kind == "opportunities":
        data.update(type=rng.choice(["funding", "training"]), eligibility=words,
                    regions=rng.sample(["africa", "grulac"], rng.randint(0, 1)),
                    countries=rng.sample(COUNTRIES, rng.randint(0, 1)))
    else:
        data.update(type="manual", abstract=words, language=rng.choice(["en", "es"]))
    return data


@pytest.fixture
def registry(make_record, owner, other, secretariat):
    rng = random.Random(20)
    members = [owner, other, secretariat]
    records = []
    for n in range(40):
        kind = ("projects", "opportunities", "needs", "resources")[n % 4]
        state = rng.choice(["published", "published", "submitted", "draft"])
        records.append(make_record(kind, owner=rng.choice(members), state=state,
                                   **_data(rng, kind)))
    bitsets.rebuild(min_docs=3)  # in a registry of 40, a word in 3 of them is common
    db.session.commit()
    return rng, records


def _expected(viewer, f: search.Filters) -> Counter:
    found = db.session.scalars(db.select(Record).where(
        Record.id.in_(search.result_ids(viewer, f)))).all()
    return Counter(pair for record in found for pair in search.facet_values(record))


def _check(viewer, f: search.Filters) -> None:
    counts = search.facet_counts(viewer, f)
    for name in tallies.FACETS:
        without = replace(f, facets={k: v for k, v in f.facets.items() if k != name})
        expected = {v: n for (k, v), n in _expected(viewer, without).items() if k == name}
        assert {value: n for value, n in counts[name] if n} == expected, (name, f)
    assert search.count(viewer, f) == len(search.result_ids(viewer, f)), f
    kinds = {v: n for (k, v), n in _expected(viewer, replace(f, kind=None)).items()
             if k == "kind"}
    assert search.kind_counts(viewer, f) == kinds, f


def _filters(rng: random.Random, owner) -> search.Filters:
    facets: dict[str, tuple[str, ...]] = {}
    for name, values in (("country", COUNTRIES), ("theme", THEMES),
                         ("region", ["africa", "grulac"]), ("type", ["funding", "manual"])):
        if rng.random() < 0.4:
            facets[name] = tuple(rng.sample(values, rng.randint(1, 2)))
    return search.Filters(
        kind=rng.choice([None, None, "projects", "opportunities", "needs"]),
        q=rng.choice(QUERIES), facets=facets,
        state=rng.choice([None, None, "published", "draft"]),
        owner_id=owner.id if rng.random() < 0.1 else None)


def _bitsets() -> dict:
    return {(b.name, b.value, b.chunk): int.from_bytes(b.bits, "little")
            for b in db.session.scalars(db.select(Bitset))}


def _check_kept() -> None:
    kept = _bitsets()
    bitsets.rebuild(min_docs=3)
    rebuilt = _bitsets()
    db.session.rollback()
    kept = {k: v for k, v in kept.items() if v or k[2] < 0}
    assert kept == {k: v for k, v in rebuilt.items() if v or k[2] < 0}


def test_common_words_are_kept_and_counted_as_the_list_finds(registry, owner, other,
                                                             secretariat):
    rng, _records = registry
    assert {"maiz", "cotton", "radio"} <= bitsets.common_terms()
    for viewer in (None, owner, other, secretariat):
        _check(viewer, search.Filters(q="maize", facets={"country": ("KE",)}))
        for _n in range(15):
            _check(viewer, _filters(rng, owner))


def test_counts_follow_edits_withdrawals_and_deletions(registry, owner, other, secretariat):
    rng, records = registry
    published = [r for r in records if r.state == "published"]
    actions.update_record(secretariat, published[0], {
        "thematic_areas": ["detection-identification"], "title": "Radio accreditation"})
    actions.return_record(secretariat, published[1], "Please add the dates.")
    actions.delete_record(secretariat, published[2])
    drafts = [r for r in records if r.state == "draft"]
    actions.submit_record(drafts[0].owner, drafts[0])
    actions.publish_record(secretariat, drafts[0])
    actions.create_record(owner, "projects", _data(rng, "projects"), state="draft")
    actions.create_record(other, "needs", _data(rng, "needs"))
    _check_kept()
    for viewer in (None, owner, other, secretariat):
        for _n in range(10):
            _check(viewer, _filters(rng, owner))


def test_a_common_word_and_a_country_are_counted_without_the_full_text_query(registry):
    f = search.Filters(q="maize", facets={"country": ("KE",)})
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        counts = search.facet_counts(None, f)
        total = search.count(None, f)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert total and counts["theme"]
    full_text = [s for s in statements if "registry_record_fts" in s or "@@" in s]
    assert not full_text, full_text


def test_rare_words_phrases_and_incomplete_bitsets_are_grouped_as_before(registry):
    for q in ("maize accreditation", '"maize cotton"', "the maize"):
        assert search._common_word_counts(None, search.Filters(q=q), ["kind"], None) is None
    f = search.Filters(q="maize")
    assert search._common_word_counts(None, f, ["kind"], None) is not None
    db.session.execute(db.delete(Bitset).where(Bitset.name == "built"))
    assert search._common_word_counts(None, f, ["kind"], None) is None
    _check(None, replace(f, facets={"country": ("KE",)}))


def test_the_list_of_a_common_word_with_filters_is_the_same_from_the_bitsets(registry, owner):
    """On PostgreSQL the bitsets give the few records to rank; the order is the same."""
    rng, _records = registry
    filters = [search.Filters(q="maize", facets={"country": ("KE",)}, kind="projects")]
    filters += [replace(_filters(rng, owner), owner_id=None) for _n in range(12)]
    found = [search.result_ids(owner, f) for f in filters]
    assert any(found)
    db.session.execute(db.delete(Bitset).where(Bitset.name == "built"))
    assert [search.result_ids(owner, f) for f in filters] == found


def test_the_worker_builds_missing_bitsets_and_keeps_the_common_words_current(
        app, registry, owner, make_record, monkeypatch):
    """A registry upgraded to the bitsets has none until the worker builds them (counts
    stay exact meanwhile); a word that becomes common is kept once the worker looks
    again (about once a day)."""
    monkeypatch.setattr(bitsets, "MIN_DOCS", 3)
    monkeypatch.setattr(bitsets, "SHARE", 0.0)
    state = app.extensions["registry"]
    db.session.execute(Bitset.__table__.delete())  # as a registry upgraded to 0020
    db.session.commit()
    assert not bitsets.built()
    state.pop("next_bitsets", None)
    bitsets.periodic()
    assert bitsets.built() and "maiz" in bitsets.common_terms()
    for n in range(3):
        make_record("projects", owner=owner, state="published", title=f"Biosecurity {n}",
                    objectives="biosecurity")
    assert not {t for t in bitsets.common_terms() if t.startswith("biosecur")}
    bitsets.periodic()  # not due yet: nothing is read
    assert not {t for t in bitsets.common_terms() if t.startswith("biosecur")}
    state["next_bitsets"] = None
    bitsets.periodic()
    assert {t for t in bitsets.common_terms() if t.startswith("biosecur")}
