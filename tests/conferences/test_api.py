"""The conference API as DESIGN.md §4 states it, and its refusals: JSON errors with the
right status, never a 500."""

from __future__ import annotations

import pytest

from conferences import schedule
from hub.extensions import db

from .conftest import CLOSES, OPENS, T0, day

CREATE = {
    "slug": "biosafety-2030", "title": "Biosafety 2030", "description": "A *conference*.",
    "registration_opens_at": "2030-03-01T12:00:00+00:00",
    "opens_at": "2030-03-08T12:00:00Z", "closes_at": "2030-03-22T12:00:00+01:00",
    "premoderated": True, "moderators": ["mod@example.org"],
}


def test_create_returns_the_contract_shape(client, people, token_for, at):
    at(T0)
    response = client.post("/api/v1/conferences", json=CREATE,
                           headers=token_for(people.secretariat))
    assert response.status_code == 201
    data = response.get_json()
    assert data["slug"] == "biosafety-2030" and data["board"] == "biosafety-2030"
    assert data["status"] == "registration_open"
    assert data["opens_at"] == OPENS.isoformat()
    assert data["closes_at"] == "2030-03-22T11:00:00+00:00"
    assert data["premoderated"] is True
    assert [m["name"] for m in data["moderators"]] == ["Carla Moderator"]
    assert data["moderators"][0]["lead"] is True
    assert data["list_address"] == "biosafety-2030@lists.hub.test"
    # Its discussion is the board: a closed, premoderated conference board with the window.
    board = client.get("/api/v1/boards/biosafety-2030",
                       headers=token_for(people.secretariat)).get_json()
    assert (board["kind"], board["visibility"], board["premoderated"]) == (
        "conference", "group", True)
    assert board["opens_at"] == OPENS.isoformat()
    assert client.get("/api/v1/boards/biosafety-2030",
                      headers=token_for(people.outsider)).status_code == 404


@pytest.mark.parametrize("change,status,code", [
    ({"slug": "Not A Slug"}, 422, "invalid"),
    ({"slug": "risk"}, 409, "conflict"),
    ({"slug": "manage"}, 422, "invalid"),
    ({"opens_at": "2030-03-08T12:00:00"}, 422, "invalid"),
    ({"opens_at": "next tuesday"}, 422, "invalid"),
    ({"opens_at": 5}, 422, "invalid"),
    ({"closes_at": "2030-03-01T00:00:00Z"}, 422, "invalid"),
    ({"moderators": ["nobody@example.org"]}, 422, "invalid"),
    ({"moderators": "mod@example.org"}, 422, "invalid"),
    ({"premoderated": "yes"}, 422, "invalid"),
    ({"title": None}, 422, "invalid"),
])
def test_create_refusals(client, conference, people, token_for, change, status, code):
    response = client.post("/api/v1/conferences", json={**CREATE, **change},
                           headers=token_for(people.secretariat))
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code


def test_only_the_secretariat_creates(client, people, token_for):
    assert client.post("/api/v1/conferences", json=CREATE).status_code == 401
    response = client.post("/api/v1/conferences", json=CREATE,
                           headers=token_for(people.moderator))
    assert response.status_code == 403
    response = client.post("/api/v1/conferences", data="not json",
                           headers=token_for(people.secretariat))
    assert response.status_code == 422


def test_patch_moves_the_board_window_too(client, conference, people, token_for):
    headers = token_for(people.secretariat)
    response = client.patch("/api/v1/conferences/risk", headers=headers, json={
        "closes_at": "2030-03-25T12:00:00+00:00", "auto_approve": True,
        "theme": "A new theme"})
    assert response.status_code == 200
    data = response.get_json()
    assert data["closes_at"] == "2030-03-25T12:00:00+00:00" and data["auto_approve"]
    assert client.get("/api/v1/boards/risk", headers=headers).get_json()["closes_at"] == \
        "2030-03-25T12:00:00+00:00"
    # Moderators change dates and content, not who moderates.
    mod = token_for(people.moderator)
    assert client.patch("/api/v1/conferences/risk", headers=mod,
                        json={"theme": "Theirs"}).status_code == 200
    assert client.patch("/api/v1/conferences/risk", headers=mod,
                        json={"moderators": []}).status_code == 403
    assert client.patch("/api/v1/conferences/risk", headers=token_for(people.participant),
                        json={"theme": "Mine"}).status_code == 403
    assert client.patch("/api/v1/conferences/risk", headers=token_for(people.outsider),
                        json={"theme": "Mine"}).status_code == 404
    # A round would fall outside: refused, nothing changed.
    response = client.patch("/api/v1/conferences/risk", headers=headers,
                            json={"closes_at": "2030-03-20T12:00:00+00:00"})
    assert response.status_code == 422
    db.session.expire_all()
    assert client.get("/api/v1/conferences/risk").get_json()["closes_at"] == \
        "2030-03-25T12:00:00+00:00"


def test_registrations_through_the_api(client, conference, people, token_for):
    response = client.post("/api/v1/conferences/risk/registrations",
                           json={"motivation": "I teach biosafety."},
                           headers=token_for(people.outsider))
    assert response.status_code == 201
    reg = response.get_json()
    assert reg["status"] == "pending" and set(reg) >= {"id", "status"}
    listing = client.get("/api/v1/conferences/risk/registrations?status=pending",
                         headers=token_for(people.moderator)).get_json()["items"]
    assert {r["member"]["email"] for r in listing} == {"app@example.org", "out@example.org"}
    assert client.get("/api/v1/conferences/risk/registrations",
                      headers=token_for(people.participant)).status_code == 403
    response = client.post(f"/api/v1/conferences/risk/registrations/{reg['id']}/approve",
                           headers=token_for(people.participant))
    assert response.status_code == 403
    response = client.post(f"/api/v1/conferences/risk/registrations/{reg['id']}/approve",
                           headers=token_for(people.moderator))
    assert response.status_code == 200 and response.get_json()["status"] == "approved"
    again = client.post(f"/api/v1/conferences/risk/registrations/{reg['id']}/approve",
                        headers=token_for(people.moderator))
    assert again.status_code == 409
    mine = client.get("/api/v1/conferences/risk/registration",
                      headers=token_for(people.outsider)).get_json()
    assert mine["status"] == "approved" and "motivation" not in mine
    response = client.patch("/api/v1/conferences/risk/registration", json={"anonymous": True},
                            headers=token_for(people.outsider))
    assert response.get_json()["anonymous"] is True
    missing = client.post("/api/v1/conferences/risk/registrations/99999/approve",
                          headers=token_for(people.moderator))
    assert missing.status_code == 404
    assert client.post("/api/v1/conferences/risk/registrations", json={},
                       headers=token_for(people.network_moderator)).status_code == 422


def test_rounds_invitations_statistics_and_summaries(client, in_session, people, token_for):
    mod = token_for(people.moderator)
    rounds = client.get("/api/v1/conferences/risk/rounds", headers=mod).get_json()["items"]
    assert [(r["number"], r["topic_id"] is not None) for r in rounds] == [(1, True),
                                                                          (2, False)]
    response = client.patch(f"/api/v1/conferences/risk/rounds/{rounds[0]['id']}",
                            json={"closes_at": day(15).isoformat(), "pinned": True},
                            headers=mod)
    assert response.status_code == 200
    assert response.get_json()["pinned"] is True
    response = client.post(f"/api/v1/conferences/risk/rounds/{rounds[0]['id']}/summary",
                           json={"body": "So far, so good."}, headers=mod)
    assert response.status_code == 201 and response.get_json()["kind"] == "summary"
    response = client.post("/api/v1/conferences/risk/rounds", headers=mod, json={
        "title": "Extra", "question": "Anything else?", "opens_at": day(20).isoformat(),
        "closes_at": CLOSES.isoformat()})
    assert response.status_code == 201 and response.get_json()["number"] == 3
    response = client.post("/api/v1/conferences/risk/invitations", headers=mod,
                           json={"emails": ["out@example.org", "fresh@example.net"]})
    assert response.status_code == 201
    assert response.get_json() == {"invited": ["out@example.org"],
                                   "new": ["fresh@example.net"], "skipped": []}
    stats = client.get("/api/v1/conferences/risk/statistics", headers=mod).get_json()
    assert stats["participants"] == 2 and stats["summaries"] == 1
    assert client.get("/api/v1/conferences/risk/statistics",
                      headers=token_for(people.participant)).status_code == 403


def test_the_conference_list_and_filters(client, conference, people, token_for, at):
    at(day(8))
    schedule.run()
    items = client.get("/api/v1/conferences?status=in_session").get_json()["items"]
    assert [c["slug"] for c in items] == ["risk"]
    assert client.get("/api/v1/conferences?status=closed").get_json()["items"] == []
    assert client.get("/api/v1/conferences?status=nonsense").status_code == 422
    assert client.get("/api/v1/conferences/nope").status_code == 404


def test_every_endpoint_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/conferences", "/conferences/{slug}", "/conferences/{slug}/registrations",
                 "/conferences/{slug}/registrations/{registration_id}/approve",
                 "/conferences/{slug}/held", "/conferences/{slug}/proceedings",
                 "/conferences/{slug}/proceedings/publish", "/conferences/{slug}/rounds",
                 "/conferences/{slug}/invitations", "/conferences/{slug}/statistics"):
        assert path in paths, path


@pytest.mark.parametrize("method,url,body", [
    ("post", "/api/v1/conferences/risk/registrations", {"motivation": 5}),
    ("post", "/api/v1/conferences/risk/registrations", ["a list"]),
    ("patch", "/api/v1/conferences/risk", {"registration_opens_at": "2031-01-01T00:00Z"}),
    ("post", "/api/v1/conferences/risk/rounds", {"title": "x", "question": "y",
                                                 "opens_at": "2020-01-01T00:00:00Z",
                                                 "closes_at": "2020-01-02T00:00:00Z"}),
    ("patch", "/api/v1/conferences/risk/rounds/99999", {"title": "x"}),
    ("post", "/api/v1/conferences/risk/invitations", {"emails": [1, 2]}),
    ("post", "/api/v1/conferences/risk/invitations", {"group": "nope"}),
    ("patch", "/api/v1/conferences/risk/proceedings", {"title": "x"}),
    ("post", "/api/v1/conferences/risk/proceedings/publish", {}),
    ("post", "/api/v1/conferences/risk/registrations/abc/approve", {}),
    ("delete", "/api/v1/conferences/risk/registration", None),
])
def test_refusals_are_json_never_500(client, conference, people, token_for, method, url, body):
    response = getattr(client, method)(url, json=body, headers=token_for(people.secretariat))
    assert 400 <= response.status_code < 500, (url, response.status_code)
    assert response.get_json()["error"]["code"]
