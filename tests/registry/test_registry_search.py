"""Browsing and searching: facets (type, thematic area, country, region, organization,
dates) and indexed full text, in the browser and through the API. The same tests run on
SQLite (FTS5) and on PostgreSQL (tsvector + GIN) depending on HUB_DATABASE_URL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from hub.extensions import db


@pytest.fixture
def library(make_record, owner):
    """A small registry: records of several kinds, countries, themes and dates."""
    return {
        "maize": make_record("projects", owner=owner, title="Risk assessments of GM maize",
                             countries=["KE", "UG"], thematic_areas=["risk-assessment"],
                             objectives="Regulators review dossiers of insect-resistant "
                                        "maize.", start_date="2022-01-01",
                             end_date="2024-12-31"),
        "labs": make_record("projects", title="Laboratory network for LMO detection",
                            countries=["GH"], thematic_areas=["detection-identification"],
                            status="completed", start_date="2019-01-01",
                            end_date="2020-06-30",
                            contacts=[{"name": "Ama", "organization": "Ghana EPA"}]),
        "course": make_record("opportunities", title="Curso de evaluación de riesgos",
                              type="training", regions=["grulac"],
                              thematic_areas=["risk-assessment", "education-training"],
                              eligibility="Reguladores de América Latina",
                              timeframe="2025-03-01/2025-03-05"),
        "grant": make_record("opportunities", title="Grants for detection laboratories",
                             type="funding", thematic_areas=["detection-identification"],
                             deadline="2030-01-31"),
        "guide": make_record("resources", title="Guidance on risk assessment", type="manual",
                             thematic_areas=["risk-assessment"], language="en",
                             publisher="CBD Secretariat", published_on="2016-12-01",
                             keywords=["roadmap", "LMO"]),
        "draft": make_record("projects", owner=owner, state="draft",
                             title="Secret maize draft", countries=["KE"]),
    }


def _titles(client, url, headers=None):
    data = client.get(url, headers=headers or {}).get_json()
    return sorted(item["title"] for item in data["items"])


def test_full_text_finds_words_with_their_other_forms(client, library):
    # "assessment" finds "assessments" (stemming); the draft stays invisible.
    assert _titles(client, "/api/v1/registry/projects?q=assessment") == [
        "Risk assessments of GM maize"]
    assert _titles(client, "/api/v1/registry/projects?q=maize") == [
        "Risk assessments of GM maize"]


def test_full_text_ignores_accents_and_case(client, library):
    assert _titles(client, "/api/v1/registry/opportunities?q=EVALUACION") == [
        "Curso de evaluación de riesgos"]
    assert _titles(client, "/api/v1/registry/opportunities?q=américa") == [
        "Curso de evaluación de riesgos"]


def test_full_text_reads_phrases_alternatives_and_exclusions(client, library):
    assert _titles(client, '/api/v1/registry/projects?q="insect-resistant maize"') == [
        "Risk assessments of GM maize"]
    assert _titles(client, '/api/v1/registry/projects?q="maize insect"') == []
    assert _titles(client, "/api/v1/registry/projects?q=maize OR laboratory") == [
        "Laboratory network for LMO detection", "Risk assessments of GM maize"]
    assert _titles(client, "/api/v1/registry/projects?q=risk -maize") == []
    assert _titles(client, "/api/v1/registry/projects?q=-maize") == [
        "Laboratory network for LMO detection"]


def test_full_text_covers_labels_countries_and_contacts(client, library):
    # Country names, thematic area names and contacts' organizations are indexed.
    assert _titles(client, "/api/v1/registry/projects?q=uganda") == [
        "Risk assessments of GM maize"]
    assert _titles(client, "/api/v1/registry/projects?q=Ghana EPA") == [
        "Laboratory network for LMO detection"]
    assert _titles(client, "/api/v1/registry/resources?q=roadmap") == [
        "Guidance on risk assessment"]


def test_the_best_match_comes_first(client, make_record):
    make_record("resources", title="Biosafety manual", type="manual",
                abstract="A chapter mentions detection once.")
    make_record("resources", title="Detection of LMOs: a detection manual", type="manual",
                keywords=["detection"])
    items = client.get("/api/v1/registry/resources?q=detection").get_json()["items"]
    assert [i["title"] for i in items] == ["Detection of LMOs: a detection manual",
                                           "Biosafety manual"]


def test_the_index_follows_edits_and_deletions(client, library, owner, token_for):
    headers = token_for(owner)
    record = library["maize"]
    client.patch(f"/api/v1/registry/projects/{record.id}", json={"title": "Cotton dossiers",
                 "objectives": "Cotton."}, headers=headers)
    assert _titles(client, "/api/v1/registry/projects?q=maize") == []
    assert _titles(client, "/api/v1/registry/projects?q=cotton") == ["Cotton dossiers"]
    client.delete(f"/api/v1/registry/projects/{record.id}", headers=headers)
    assert _titles(client, "/api/v1/registry/projects?q=cotton") == []


def test_search_uses_the_full_text_index_never_like(client, library):
    statements: list[str] = []

    def log(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", log)
    try:
        client.get("/api/v1/registry/projects?q=maize")
        client.get("/registry/?q=maize")
    finally:
        event.remove(db.engine, "before_cursor_execute", log)
    searching = [s for s in statements if "registry" in s]
    assert not any(" LIKE " in s.upper() for s in searching)
    marker = "@@" if db.engine.dialect.name == "postgresql" else "MATCH"
    assert any(marker in s for s in searching)


def test_facets_count_what_the_search_finds(client, library):
    data = client.get("/api/v1/registry/projects").get_json()
    facets = {name: {v["value"]: v["count"] for v in values}
              for name, values in data["facets"].items()}
    assert data["total"] == 2
    assert facets["country"] == {"KE": 1, "UG": 1, "GH": 1}
    assert facets["region"] == {"africa": 2}
    assert facets["theme"] == {"risk-assessment": 1, "detection-identification": 1}
    assert facets["status"] == {"ongoing": 1, "completed": 1}
    assert facets["organization"]["Ghana EPA"] == 1
    assert facets["year"]["2023"] == 1 and facets["year"]["2019"] == 1


def test_a_chosen_facet_still_offers_its_other_values(client, library):
    data = client.get("/api/v1/registry/projects?country=GH").get_json()
    assert [i["title"] for i in data["items"]] == ["Laboratory network for LMO detection"]
    countries = {v["value"]: v["count"] for v in data["facets"]["country"]}
    assert countries == {"KE": 1, "UG": 1, "GH": 1}  # to widen the choice
    themes = {v["value"] for v in data["facets"]["theme"]}
    assert themes == {"detection-identification"}  # narrowed by the country


@pytest.mark.parametrize("query,expected", [
    ("country=KE", ["Risk assessments of GM maize"]),
    ("country=Kenya", ["Risk assessments of GM maize"]),
    ("country=KE,GH", ["Laboratory network for LMO detection", "Risk assessments of GM maize"]),
    ("theme=detection-identification", ["Laboratory network for LMO detection"]),
    ("region=africa&status=completed", ["Laboratory network for LMO detection"]),
    ("organization=Ghana EPA", ["Laboratory network for LMO detection"]),
    ("year=2020", ["Laboratory network for LMO detection"]),
    ("from=2021-01-01", ["Risk assessments of GM maize"]),
    ("to=2019-12-31", ["Laboratory network for LMO detection"]),
    ("from=2020&to=2022", ["Laboratory network for LMO detection",
                           "Risk assessments of GM maize"]),
    ("q=maize&country=GH", []),
])
def test_filters(client, library, query, expected):
    assert _titles(client, f"/api/v1/registry/projects?{query}") == expected


def test_opportunity_filters_by_type_region_and_theme(client, library):
    assert _titles(client, "/api/v1/registry/opportunities?type=funding") == [
        "Grants for detection laboratories"]
    assert _titles(client, "/api/v1/registry/opportunities?region=grulac") == [
        "Curso de evaluación de riesgos", "Grants for detection laboratories"]  # worldwide
    assert _titles(client, "/api/v1/registry/opportunities?theme=education-training") == [
        "Curso de evaluación de riesgos"]
    assert _titles(client, "/api/v1/registry/resources?language=English") == [
        "Guidance on risk assessment"]


@pytest.mark.parametrize("query,field", [
    ("country=XX", "country"), ("theme=astrology", "theme"), ("type=party", "type"),
    ("year=last", "year"), ("from=yesterday", "from"), ("sort=random", "sort"),
    ("region=mars", "region"), ("status=dreaming", "status"),
])
def test_bad_filters_are_refused_with_a_json_error(client, library, query, field):
    response = client.get(f"/api/v1/registry/projects?{query}")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]


def test_the_browse_page_shows_facets_and_results(client, library):
    page = client.get("/registry/projects/?country=KE")
    html = page.data.decode()
    assert page.status_code == 200
    assert "Risk assessments of GM maize" in html
    assert "Laboratory network" not in html
    assert "Thematic area" in html and "Country" in html and "Kenya" in html
    # The selected value links back to the page without it.
    assert 'aria-current="true"' in html
    assert "Secret maize draft" not in html


def test_the_browse_page_searches_every_kind(client, library):
    html = client.get("/registry/?q=risk").data.decode()
    assert "Risk assessments of GM maize" in html
    assert "Curso de evaluación de riesgos" in html
    assert "Guidance on risk assessment" in html
    assert "Laboratory network" not in html


def test_a_bad_filter_on_the_page_explains_itself(client, library):
    page = client.get("/registry/projects/?country=Atlantis")
    assert page.status_code == 422
    assert b"Atlantis is not a country" in page.data


def test_the_owner_finds_their_drafts_with_mine(client, library, owner, token_for):
    titles = _titles(client, "/api/v1/registry/projects?mine=1&q=maize", token_for(owner))
    assert titles == ["Risk assessments of GM maize", "Secret maize draft"]
    assert client.get("/api/v1/registry/projects?mine=1").status_code == 403


def test_pages_of_results(client, make_record):
    for n in range(5):
        make_record("reports", title=f"Report {n}")
    first = client.get("/api/v1/registry/reports?limit=2&sort=title").get_json()
    assert [i["title"] for i in first["items"]] == ["Report 0", "Report 1"]
    second = client.get(first["next"]).get_json()
    assert [i["title"] for i in second["items"]] == ["Report 2", "Report 3"]
    last = client.get(second["next"]).get_json()
    assert [i["title"] for i in last["items"]] == ["Report 4"] and last["next"] is None


def test_only_open_opportunities(client, library, make_record):
    make_record("opportunities", title="Closed call", type="funding", deadline="2001-01-01")
    assert _titles(client, "/api/v1/registry/opportunities?open=1") == [
        "Curso de evaluación de riesgos", "Grants for detection laboratories"]
    html = client.get("/registry/opportunities/?open=1").data.decode()
    assert "Closed call" not in html and "Still open" in html


def test_a_country_finds_the_opportunities_open_to_it(client, make_record):
    make_record("opportunities", title="For Kenya", type="funding", countries=["KE"])
    make_record("opportunities", title="For Africa", type="training", regions=["africa"])
    make_record("opportunities", title="For everyone", type="funding")
    make_record("opportunities", title="For Ghana", type="funding", countries=["GH"])
    make_record("opportunities", title="For Asia", type="funding", regions=["asia_pacific"])
    assert _titles(client, "/api/v1/registry/opportunities?country=KE") == [
        "For Africa", "For Kenya", "For everyone"]
    assert _titles(client, "/api/v1/registry/opportunities?region=asia_pacific") == [
        "For Asia", "For everyone"]
    html = client.get("/registry/opportunities/?country=BR").data.decode()
    assert "For everyone" in html and "For Kenya" not in html
    assert re.search(r'<a href="/registry/opportunities/"[^>]*class="on">.*Brazil</a>', html)


def test_the_indexes_can_be_rebuilt(runner, client, make_record):
    make_record("resources", title="Toolkit on public participation", type="toolkit")
    from hub.extensions import db

    db.session.execute(db.text("DELETE FROM registry_facet"))
    db.session.commit()
    result = runner.invoke(args=["registry", "reindex"])
    assert "1 records reindexed" in result.output
    assert _titles(client, "/api/v1/registry/resources?type=toolkit&q=participation") == [
        "Toolkit on public participation"]
