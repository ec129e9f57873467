"""Who may submit, edit, publish and see drafts: on the pages and through the API."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hub.extensions import db
from hub.models import MemberStatus
from hub.registry.models import Record

WHO = ("anonymous", "owner", "other", "secretariat")


def _login(client, auth, who, people):
    if who != "anonymous":
        auth.login(people[who])


@pytest.fixture
def people(owner, other, secretariat):
    return {"owner": owner, "other": other, "secretariat": secretariat}


@pytest.mark.parametrize("state", ["draft", "submitted", "published"])
@pytest.mark.parametrize("who", WHO)
def test_who_sees_a_record_on_its_page_and_in_lists(client, auth, people, make_record,
                                                    owner, state, who):
    record = make_record("projects", owner=owner, state=state, title="Seed banks project")
    _login(client, auth, who, people)
    visible = state == "published" or who in {"owner", "secretariat"}
    page = client.get(f"/registry/projects/{record.id}")
    assert page.status_code == (200 if visible else 404)
    listing = client.get("/registry/projects/?q=seed")
    assert (b"Seed banks project" in listing.data) == visible


@pytest.mark.parametrize("state", ["draft", "submitted", "published"])
@pytest.mark.parametrize("who", WHO)
def test_who_sees_a_record_through_the_api(client, people, make_record, token_for, owner,
                                           state, who):
    record = make_record("needs", owner=owner, state=state)
    headers = token_for(people[who]) if who != "anonymous" else {}
    visible = state == "published" or who in {"owner", "secretariat"}
    one = client.get(f"/api/v1/registry/needs/{record.id}", headers=headers)
    assert one.status_code == (200 if visible else 404)
    if not visible:
        assert one.get_json()["error"]["code"] == "not_found"
    listed = client.get("/api/v1/registry/needs", headers=headers).get_json()
    assert [i["id"] for i in listed["items"]] == ([record.id] if visible else [])
    assert listed["total"] == (1 if visible else 0)


@pytest.mark.parametrize("who,status", [("anonymous", 401), ("owner", 200), ("other", 403),
                                        ("secretariat", 200)])
def test_who_may_edit_a_published_record(client, people, make_record, token_for, owner,
                                         who, status):
    record = make_record("projects", owner=owner, title="Old title")
    headers = token_for(people[who]) if who != "anonymous" else {}
    response = client.patch(f"/api/v1/registry/projects/{record.id}", json={
        "title": "New title"}, headers=headers)
    assert response.status_code == status
    if status == 200:
        assert response.get_json()["title"] == "New title"
        assert response.get_json()["state"] == "published"
    else:
        assert "error" in response.get_json()


# Someone who may not even see a record waiting for review gets "not found" (a country's
# focal points, who may publish its needs, reach the same route: tests of issue 12).
@pytest.mark.parametrize("who,status", [("owner", 403), ("other", 404),
                                        ("secretariat", 200)])
def test_only_the_secretariat_publishes(client, people, make_record, token_for, owner, who,
                                        status):
    record = make_record("opportunities", owner=owner, state="submitted")
    response = client.post(f"/api/v1/registry/opportunities/{record.id}/publish",
                           headers=token_for(people[who]))
    assert response.status_code == status
    assert client.get(f"/api/v1/registry/opportunities/{record.id}").status_code == (
        200 if status == 200 else 404)


def test_members_submit_and_anonymous_visitors_do_not(client, auth, owner, token_for):
    assert client.post("/api/v1/registry/needs", json={"country": "KE"}).status_code == 401
    page = client.get("/registry/needs/new")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    auth.login(owner)
    assert client.get("/registry/needs/new").status_code == 200


def test_a_pending_member_cannot_submit(client, make_member, token_for):
    pending = make_member(status=MemberStatus.PENDING)
    from hub.registry import actions

    with pytest.raises(Exception) as refused:
        actions.create_record(pending, "needs", {"country": "KE"})
    assert getattr(refused.value, "status", None) == 403


def test_a_member_cannot_publish_their_own_record_at_once(client, owner, token_for):
    response = client.post("/api/v1/registry/reports", json={
        "title": "Evaluation", "type": "evaluation", "state": "published"},
        headers=token_for(owner))
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Record)) == 0


def test_the_secretariat_may_publish_at_once(client, secretariat, token_for):
    response = client.post("/api/v1/registry/reports", json={
        "title": "Evaluation", "type": "evaluation", "state": "published"},
        headers=token_for(secretariat))
    assert response.status_code == 201
    assert client.get(response.headers["Location"]).get_json()["state"] == "published"


def test_the_owner_edits_and_submits_a_draft_in_the_browser(client, auth, owner,
                                                              make_record):
    record = make_record("needs", owner=owner, state="draft")
    auth.login(owner)
    form = client.get(f"/registry/needs/{record.id}/edit")
    assert form.status_code == 200 and b"Save and submit for review" in form.data
    response = client.post(f"/registry/needs/{record.id}/edit", data={
        "country": "KE", "thematic_areas": ["risk-assessment", "public-awareness"],
        "needs": "Train regulators\nEquip a laboratory", "action": "submit"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert b"Waiting for review" in page.data
    assert b"Equip a laboratory" in page.data


def test_another_member_cannot_open_the_edit_form(client, auth, other, owner, make_record):
    record = make_record("needs", owner=owner)
    auth.login(other)
    assert client.get(f"/registry/needs/{record.id}/edit").status_code == 403
    assert client.post(f"/registry/needs/{record.id}/delete").status_code == 302
    assert client.get(f"/registry/needs/{record.id}").status_code == 200  # still there


def test_drafts_do_not_show_in_facet_counts_for_others(client, make_record, owner):
    make_record("projects", owner=owner, state="draft", countries=["UA"])
    make_record("projects", owner=owner, countries=["KE"])
    facets = client.get("/api/v1/registry/projects").get_json()["facets"]
    assert [f["value"] for f in facets["country"]] == ["KE"]
