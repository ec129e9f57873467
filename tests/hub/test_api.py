"""The hub's JSON API: tokens, the caller, the directory, applications, groups, errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub import api, clock
from hub.extensions import db
from hub.models import ApiToken, MemberStatus, Role


def test_me_with_a_token(client, make_member, token_for):
    member = make_member("me@example.org", name="Me Myself", role=Role.MODERATOR)
    response = client.get("/api/v1/me", headers=token_for(member))
    assert response.status_code == 200
    data = response.get_json()
    assert {k: data[k] for k in ("id", "email", "name", "roles")} == {
        "id": member.id, "email": "me@example.org", "name": "Me Myself",
        "roles": ["moderator"]}


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_me_refuses_without_a_valid_token(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_tokens_expire_and_can_be_revoked(client, make_member):
    member = make_member()
    secret = api.create_token(member, "short", days=1)
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.freeze(clock.now() + timedelta(days=2))
    try:
        assert client.get("/api/v1/me", headers=headers).status_code == 401
    finally:
        clock.freeze(None)
    token = db.session.scalar(db.select(ApiToken))
    token.expires_at = None
    token.revoked_at = clock.now()
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_revoking_in_the_browser(client, make_member, auth, token_for):
    member = make_member()
    headers = token_for(member)
    auth.login(member)
    token = db.session.scalar(db.select(ApiToken))
    client.post(f"/account/tokens/{token.id}/revoke")
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_deactivated_members_token_stops_working(client, make_member, token_for):
    member = make_member()
    headers = token_for(member)
    member.status = MemberStatus.DEACTIVATED
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_token_created_in_the_browser_is_shown_once(client, make_member, auth):
    auth.login(make_member())
    page = client.post("/account/tokens", data={"name": "my script"}).get_data(as_text=True)
    secret = page.split('<code class="token">')[1].split("</code>")[0]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 200
    assert secret not in client.get("/account/tokens").get_data(as_text=True)


def test_directory_filters_and_pages(client, make_member, token_for):
    viewer = make_member(country="FR", region="weog")
    for i in range(3):
        make_member(name=f"Kenyan {i}", country="KE", region="africa")
    make_member(name="Peruvian", country="PE", region="grulac")
    headers = token_for(viewer)
    data = client.get("/api/v1/members?country=KE&limit=2", headers=headers).get_json()
    assert [m["name"] for m in data["items"]] == ["Kenyan 0", "Kenyan 1"]
    assert "email" not in data["items"][0]
    rest = client.get(data["next"], headers=headers).get_json()
    assert [m["name"] for m in rest["items"]] == ["Kenyan 2"] and rest["next"] is None
    assert client.get("/api/v1/members?limit=zero", headers=headers).status_code == 422
    assert client.get("/api/v1/members").status_code == 401


def test_applications_through_the_api(client, smtp, run_jobs, make_member, token_for):
    secretariat = make_member(role=Role.SECRETARIAT)
    member = make_member()
    applicant = make_member("app@example.org", status=MemberStatus.PENDING)
    other = make_member("other@example.org", status=MemberStatus.PENDING)
    assert client.get("/api/v1/applications", headers=token_for(member)).status_code == 403
    headers = token_for(secretariat)
    listed = client.get("/api/v1/applications", headers=headers).get_json()["items"]
    assert {a["id"] for a in listed} == {applicant.id, other.id}
    response = client.post(f"/api/v1/applications/{applicant.id}/approve", headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "active"
    assert client.post(f"/api/v1/applications/{applicant.id}/approve",
                       headers=headers).status_code == 409
    assert client.post(f"/api/v1/applications/{other.id}/reject", headers=headers,
                       json={}).status_code == 422
    assert client.post(f"/api/v1/applications/{other.id}/reject", headers=headers,
                       json={"reason": "Incomplete"}).status_code == 200
    assert client.post("/api/v1/applications/9999/approve", headers=headers).status_code == 404
    run_jobs()
    # The approved member also gets the lists' welcome (what they receive by email).
    assert [m["Subject"] for m in smtp.to("app@example.org")][1:] == [
        "Your email from the network"]
    assert len(smtp.to("other@example.org")) == 1


def test_groups_through_the_api(client, make_member, make_group, token_for):
    secretariat, manager, member, outsider = (make_member(role=Role.SECRETARIAT),
                                              make_member(), make_member(), make_member())
    sec = token_for(secretariat)
    response = client.post("/api/v1/groups", headers=sec,
                           json={"slug": "donors", "name": "Donors' circle"})
    assert response.status_code == 201 and response.get_json()["slug"] == "donors"
    assert client.post("/api/v1/groups", headers=sec,
                       json={"slug": "donors", "name": "Again"}).status_code == 409
    assert client.post("/api/v1/groups", headers=sec,
                       json={"slug": "Bad Slug!", "name": "x"}).status_code == 422
    assert client.post("/api/v1/groups", headers=token_for(member),
                       json={"slug": "mine", "name": "Mine"}).status_code == 403
    response = client.post("/api/v1/groups/donors/members", headers=sec,
                           json={"email": manager.email, "manager": True})
    assert response.status_code == 201
    mgr = token_for(manager)
    assert client.post("/api/v1/groups/donors/members", headers=mgr,
                       json={"email": member.email}).status_code == 201
    names = [m["name"] for m in client.get("/api/v1/groups/donors", headers=mgr)
             .get_json()["members"]]
    assert member.name in names
    # Closed: invisible to outsiders, and members who are not managers cannot add people.
    assert client.get("/api/v1/groups/donors", headers=token_for(outsider)).status_code == 404
    assert client.get("/api/v1/groups", headers=token_for(outsider)).get_json()["items"] == []
    assert client.post("/api/v1/groups/donors/members", headers=token_for(member),
                       json={"email": outsider.email}).status_code == 403
    assert client.post("/api/v1/groups/donors/members", headers=mgr,
                       json={"email": "nobody@example.org"}).status_code == 404


@pytest.mark.parametrize("payload,content_type", [
    ("not json", "application/json"),
    ("[1, 2]", "application/json"),
    ("slug=x", "application/x-www-form-urlencoded"),
])
def test_bad_bodies_get_422_json_never_500(client, make_member, token_for, payload,
                                           content_type):
    headers = token_for(make_member(role=Role.SECRETARIAT))
    response = client.post("/api/v1/groups", headers=headers, data=payload,
                           content_type=content_type)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_wrong_types_are_422(client, make_member, token_for):
    headers = token_for(make_member(role=Role.SECRETARIAT))
    response = client.post("/api/v1/groups", headers=headers, json={"slug": 5, "name": "x"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"slug": "type"}


def test_unknown_endpoints_and_methods_answer_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    response = client.delete("/api/v1/me")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_openapi_lists_every_endpoint(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = rule.rule[len("/api/v1"):]
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", f"{{{arg}}}").replace(f"<{arg}>", f"{{{arg}}}")
        assert path in doc["paths"], path
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            op = doc["paths"][path][method.lower()]
            assert op["summary"], f"{method} {path} has no summary"
            headers = [p["name"] for p in op.get("parameters", []) if p["in"] == "header"]
            assert ("Idempotency-Key" in headers) == (method == "POST"), f"{method} {path}"
