"""The registry's API: the shapes of DESIGN.md §4 and the issue's field names, and refused
actions as JSON errors (401/403/404/409/422), never 500."""

from __future__ import annotations

import pytest

from hub.registry.kinds import KINDS

# The field names of issue 6 (part of the API contract).
CONTRACT = {
    "projects": ["title", "countries", "thematic_areas", "funding", "objectives",
                 "activities", "outcomes", "lessons_learned", "background", "start_date",
                 "end_date", "contacts", "links", "status"],
    "opportunities": ["title", "type", "scope", "regions", "countries", "thematic_areas",
                      "timeframe", "eligibility", "application_process", "deadline",
                      "contacts", "links"],
    "needs": ["country", "thematic_areas", "needs", "desired_means", "measures_taken",
              "contacts"],
    "resources": ["title", "type", "thematic_areas", "authors", "published_on", "publisher",
                  "language", "keywords", "abstract", "links"],
    "reports": ["title", "type", "timeframe", "organization", "thematic_areas", "keywords",
                "links"],
}
MINIMAL = {
    "projects": {"title": "P", "thematic_areas": ["risk-assessment"], "status": "planned"},
    "opportunities": {"title": "O", "type": "internship",
                      "thematic_areas": ["risk-assessment"]},
    "needs": {"country": "KE", "thematic_areas": ["risk-assessment"], "needs": ["N"]},
    "resources": {"title": "R", "type": "toolkit"},
    "reports": {"title": "Rep", "type": "mission"},
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_has_the_issues_fields(client, owner, token_for, kind):
    response = client.post(f"/api/v1/registry/{kind}", json=MINIMAL[kind],
                           headers=token_for(owner))
    assert response.status_code == 201
    record = response.get_json()
    assert set(CONTRACT[kind]) <= set(record)
    assert {"id", "kind", "key", "state", "owner", "created_at", "updated_at", "url",
            "external_id"} <= set(record)
    assert record["kind"] == kind and record["state"] == "submitted"
    assert record["owner"] == {"id": owner.id, "name": owner.name,
                               "organization": owner.organization}
    assert record["updated_at"].endswith("+00:00")
    assert record["key"] == f"{KINDS[kind].key}:{record['id']}"
    assert response.headers["Location"].endswith(f"/api/v1/registry/{kind}/{record['id']}")


def test_list_shape(client, make_record):
    make_record("reports", title="One")
    data = client.get("/api/v1/registry/reports").get_json()
    assert set(data) == {"items", "next", "total", "facets"}
    assert data["next"] is None and data["total"] == 1
    assert data["facets"]["type"] == [{"value": "progress", "count": 1}]
    assert "facets" not in client.get("/api/v1/registry/reports?facets=0").get_json()


def test_values_come_back_in_their_api_form(client, owner, token_for):
    response = client.post("/api/v1/registry/opportunities", json={
        "title": "  Course   on   detection ", "type": "Training course", "scope": "Regional",
        "regions": ["African"], "countries": "Kenya; gh", "thematic_areas": [
            "Risk assessment"], "timeframe": "2025-03", "deadline": "2025-02-01T12:00:00Z",
        "contacts": ["Ana <ana@example.org>"], "links": ["https://example.org | Details"]},
        headers=token_for(owner))
    assert response.status_code == 201, response.get_json()
    r = response.get_json()
    assert r["title"] == "Course on detection"
    assert (r["type"], r["scope"], r["regions"]) == ("training", "regional", ["africa"])
    assert r["countries"] == ["KE", "GH"] and r["thematic_areas"] == ["risk-assessment"]
    assert r["timeframe"] == {"start": "2025-03-01", "end": "2025-03-31"}
    assert r["deadline"] == "2025-02-01"
    assert r["contacts"] == [{"name": "Ana", "email": "ana@example.org"}]
    assert r["links"] == [{"url": "https://example.org", "title": "Details"}]


def test_patch_changes_only_what_it_sends(client, owner, token_for, make_record):
    record = make_record("projects", owner=owner, title="Old", funding="GEF",
                         countries=["KE"])
    response = client.patch(f"/api/v1/registry/projects/{record.id}",
                            json={"countries": ["KE", "TZ"]}, headers=token_for(owner))
    assert response.status_code == 200
    r = response.get_json()
    assert (r["title"], r["funding"], r["countries"]) == ("Old", "GEF", ["KE", "TZ"])


def test_the_workflow_through_the_api(client, owner, secretariat, token_for, smtp, run_jobs):
    mine, sec = token_for(owner), token_for(secretariat)
    draft = client.post("/api/v1/registry/needs", json={**MINIMAL["needs"], "state": "draft"},
                        headers=mine).get_json()
    assert draft["state"] == "draft"
    submitted = client.post(f"/api/v1/registry/needs/{draft['id']}/submit", headers=mine)
    assert submitted.get_json()["state"] == "submitted"
    again = client.post(f"/api/v1/registry/needs/{draft['id']}/submit", headers=mine)
    assert again.status_code == 409
    returned = client.post(f"/api/v1/registry/needs/{draft['id']}/return",
                           json={"note": "Please add the measures taken."}, headers=sec)
    assert returned.get_json()["state"] == "draft"
    assert client.get(f"/api/v1/registry/needs/{draft['id']}",
                      headers=mine).get_json()["review_note"] == "Please add the measures taken."
    client.post(f"/api/v1/registry/needs/{draft['id']}/submit", headers=mine)
    published = client.post(f"/api/v1/registry/needs/{draft['id']}/publish", headers=sec)
    assert published.get_json()["state"] == "published"
    assert published.get_json()["published_at"]
    run_jobs()
    subjects = [m["Subject"] for m in smtp.to(owner.email)]
    assert any("needs changes" in s for s in subjects)
    assert any(s.startswith("Published in the registry") for s in subjects)
    assert any("waits for review" in m["Subject"] for m in smtp.to(secretariat.email))


@pytest.mark.parametrize("method,url,body,status,code", [
    ("get", "/api/v1/registry/widgets", None, 404, "not_found"),
    ("get", "/api/v1/registry/projects/999", None, 404, "not_found"),
    ("post", "/api/v1/registry/projects", {"title": "No theme", "status": "ongoing"}, 422,
     "invalid"),
    ("post", "/api/v1/registry/projects", {**MINIMAL["projects"], "colour": "red"}, 422,
     "invalid"),
    ("post", "/api/v1/registry/projects", ["not", "an", "object"], 422, "invalid_json"),
    ("post", "/api/v1/registry/needs", {**MINIMAL["needs"], "state": "archived"}, 422,
     "invalid"),
    ("post", "/api/v1/registry/needs", {**MINIMAL["needs"], "country": ["KE", "GH"]}, 422,
     "invalid"),
    ("post", "/api/v1/registry/projects", {**MINIMAL["projects"], "start_date": "2025-01-01",
                                           "end_date": "2024-01-01"}, 422, "invalid"),
    ("post", "/api/v1/registry/projects/import", None, 422, "invalid"),
    ("put", "/api/v1/registry/follows", {"themes": ["astrology"]}, 422, "invalid"),
    ("get", "/api/v1/registry/needs/999/matches", None, 404, "not_found"),
    ("post", "/api/v1/registry/projects/999/publish", None, 404, "not_found"),
])
def test_refusals_are_json(client, owner, token_for, method, url, body, status, code):
    kwargs = {"headers": token_for(owner)}
    if body is not None:
        kwargs["json"] = body
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]


def test_validation_errors_name_the_fields(client, owner, token_for):
    response = client.post("/api/v1/registry/projects", json={
        "title": "", "countries": ["XX"], "thematic_areas": ["risk-assessment"],
        "status": "ongoing", "links": [{"url": "ftp://example.org"}]},
        headers=token_for(owner))
    error = response.get_json()["error"]
    assert set(error["fields"]) == {"title", "countries", "links"}
    assert "XX is not a country" in error["message"]


def test_state_cannot_be_patched(client, owner, token_for, make_record):
    record = make_record("reports", owner=owner, state="draft")
    response = client.patch(f"/api/v1/registry/reports/{record.id}",
                            json={"state": "published"}, headers=token_for(owner))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"state": "read_only"}


def test_external_ids_are_unique_per_kind(client, secretariat, token_for):
    headers = token_for(secretariat)
    first = client.post("/api/v1/registry/reports", json={**MINIMAL["reports"],
                                                         "external_id": "BCH-1"},
                        headers=headers)
    assert first.status_code == 201
    second = client.post("/api/v1/registry/reports", json={**MINIMAL["reports"],
                                                          "external_id": "BCH-1"},
                         headers=headers)
    assert second.status_code == 409
    other_kind = client.post("/api/v1/registry/resources", json={**MINIMAL["resources"],
                                                                "external_id": "BCH-1"},
                             headers=headers)
    assert other_kind.status_code == 201


def test_delete(client, owner, other, token_for, make_record):
    url = f"/api/v1/registry/reports/{make_record('reports', owner=owner).id}"
    assert client.delete(url, headers=token_for(other)).status_code == 403
    assert client.delete(url, headers=token_for(owner)).status_code == 204
    assert client.get(url).status_code == 404


def test_the_openapi_document_lists_the_registry(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/registry/{kind}"])
    assert {"get", "patch", "delete"} <= set(paths["/registry/{kind}/{record_id}"])
    assert "get" in paths["/registry/needs/{record_id}/matches"]
    assert "post" in paths["/registry/{kind}/import"]
