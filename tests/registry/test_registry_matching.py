"""Matching a country's needs with opportunities and projects: by thematic area and by
country, region or worldwide; ranked, with the reasons; on the API and the need's page."""

from __future__ import annotations

import pytest

from hub import clock


@pytest.fixture
def kenya(make_record, owner):
    return make_record("needs", owner=owner, country="KE",
                       thematic_areas=["risk-assessment", "detection-identification"],
                       needs=["Train regulators", "Equip the laboratory"])


@pytest.fixture
def offers(make_record):
    today = clock.now().date().isoformat()
    year = clock.now().year
    return {
        "kenyan": make_record("projects", title="Detection in Kenya", countries=["KE"],
                              thematic_areas=["detection-identification", "risk-assessment"],
                              status="ongoing"),
        "african": make_record("opportunities", title="African course", type="training",
                               regions=["africa"], thematic_areas=["risk-assessment"],
                               deadline=f"{year + 1}-01-15"),
        "worldwide": make_record("opportunities", title="Worldwide grant", type="funding",
                                 thematic_areas=["detection-identification"]),
        "ghana": make_record("projects", title="Ghana awareness", countries=["GH"],
                             thematic_areas=["risk-assessment"], status="completed"),
        # Not matches:
        "asian": make_record("opportunities", title="Asian course", type="training",
                             regions=["asia_pacific"], thematic_areas=["risk-assessment"]),
        "other_theme": make_record("opportunities", title="Liability course",
                                   type="training", countries=["KE"],
                                   thematic_areas=["liability-redress"]),
        "closed": make_record("opportunities", title="Closed call", type="funding",
                              thematic_areas=["risk-assessment"], deadline="2001-01-01"),
        "draft": make_record("opportunities", state="draft", title="Draft call",
                             type="funding", thematic_areas=["risk-assessment"]),
        "today": today,
    }


def test_matches_are_ranked_and_explained(client, kenya, offers):
    response = client.get(f"/api/v1/registry/needs/{kenya.id}/matches")
    assert response.status_code == 200
    data = response.get_json()
    assert data["next"] is None
    titles = [m["record"]["title"] for m in data["items"]]
    assert titles == ["Detection in Kenya", "African course", "Worldwide grant",
                      "Ghana awareness"]
    scores = [m["score"] for m in data["items"]]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 100 for s in scores)
    why = {m["record"]["title"]: {(r["code"], r["value"]) for r in m["reasons"]}
           for m in data["items"]}
    assert why["Detection in Kenya"] >= {("theme", "risk-assessment"),
                                         ("theme", "detection-identification"),
                                         ("country", "KE")}
    assert ("region", "africa") in why["African course"]
    assert ("global", "") in why["Worldwide grant"]
    assert ("region", "africa") in why["Ghana awareness"]  # a neighbour's project
    assert all(r["label"] for m in data["items"] for r in m["reasons"])
    assert data["items"][0]["kind"] == "projects"


def test_the_need_page_shows_the_matches(client, kenya, offers):
    html = client.get(f"/registry/needs/{kenya.id}").data.decode()
    section = html.split("Opportunities and projects that fit")[1]
    assert section.index("Detection in Kenya") < section.index("African course")
    assert "Region: African Group" in section
    assert "Asian course" not in section and "Closed call" not in section
    assert "Draft call" not in section and "Liability course" not in section


def test_a_need_without_matches_says_so(client, make_record):
    need = make_record("needs", country="UA", thematic_areas=["liability-redress"])
    assert client.get(f"/api/v1/registry/needs/{need.id}/matches").get_json()["items"] == []
    assert b"Nothing fits yet" in client.get(f"/registry/needs/{need.id}").data


def test_matches_of_a_hidden_need_are_not_found(client, make_record, owner):
    need = make_record("needs", owner=owner, state="draft")
    response = client.get(f"/api/v1/registry/needs/{need.id}/matches")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_new_opportunity_joins_the_matches_when_published(client, kenya, make_record,
                                                             secretariat, token_for):
    made = client.post("/api/v1/registry/opportunities", json={
        "title": "Scholarship for Kenyan regulators", "type": "scholarship",
        "countries": ["KE"], "thematic_areas": ["risk-assessment"]},
        headers=token_for(secretariat)).get_json()
    titles = lambda: [m["record"]["title"] for m in client.get(  # noqa: E731
        f"/api/v1/registry/needs/{kenya.id}/matches").get_json()["items"]]
    assert titles() == []  # submitted, not yet published
    client.post(f"/api/v1/registry/opportunities/{made['id']}/publish",
                headers=token_for(secretariat))
    assert titles() == ["Scholarship for Kenyan regulators"]


def test_an_opportunity_for_one_country_is_not_offered_to_its_neighbours(client, kenya,
                                                                         make_record):
    make_record("opportunities", title="Only for Ghana", type="funding", countries=["GH"],
                thematic_areas=["risk-assessment"])
    make_record("projects", title="A Ugandan project", countries=["UG"],
                thematic_areas=["risk-assessment"])
    titles = [m["record"]["title"] for m in client.get(
        f"/api/v1/registry/needs/{kenya.id}/matches").get_json()["items"]]
    assert titles == ["A Ugandan project"]  # a neighbour's project teaches; a grant does not
