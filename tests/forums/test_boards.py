"""Boards managed by the Secretariat in the browser and through the API (contract
shape), and subscriptions through both."""

from __future__ import annotations

import pytest

from forums import services, subscriptions
from forums.models import Board, Subscription
from hub.extensions import db
from hub.models import AuditEntry


def test_the_secretariat_creates_a_group_board_through_the_api(client, cast, token_for):
    response = client.post("/api/v1/boards", headers=token_for(cast.secretariat), json={
        "slug": "liaison-forum", "name": "Liaison forum", "description": "Closed.",
        "visibility": "group", "group": "closed-group", "premoderated": False})
    assert response.status_code == 201
    data = response.get_json()
    assert {k: data[k] for k in ("slug", "name", "description", "visibility", "group",
                                 "premoderated")} == {
        "slug": "liaison-forum", "name": "Liaison forum", "description": "Closed.",
        "visibility": "group", "group": "closed-group", "premoderated": False}
    assert db.session.scalar(db.select(AuditEntry.action)) == "board.create"
    # Invisible to a member outside the group, visible to one inside.
    assert client.get("/api/v1/boards/liaison-forum",
                      headers=token_for(cast.member)).status_code == 404
    assert client.get("/api/v1/boards/liaison-forum",
                      headers=token_for(cast.group_member)).status_code == 200


@pytest.mark.parametrize("payload, status, field", [
    ({"slug": "open-board", "name": "Again"}, 409, "slug"),
    ({"slug": "Bad Slug!", "name": "X"}, 422, "slug"),
    ({"slug": "x-board", "name": "X", "visibility": "secret"}, 422, "visibility"),
    ({"slug": "x-board", "name": "X", "visibility": "group"}, 422, "group"),
    ({"slug": "x-board", "name": "X", "visibility": "group", "group": "nope"}, 422, "group"),
    ({"slug": "x-board", "name": "X", "premoderated": "yes"}, 422, "premoderated"),
    ({"slug": "moderation", "name": "X"}, 422, "slug"),
    ({"name": "X"}, 422, "slug"),
])
def test_board_creation_refusals_are_json(client, cast, token_for, payload, status, field):
    response = client.post("/api/v1/boards", headers=token_for(cast.secretariat),
                           json=payload)
    assert response.status_code == status
    assert field in response.get_json()["error"].get("fields", {})


@pytest.mark.parametrize("role, status", [("anonymous", 401), ("member", 403),
                                          ("moderator", 403)])
def test_only_the_secretariat_creates_boards(client, cast, token_for, role, status):
    headers = token_for(cast.who(role)) if role != "anonymous" else {}
    response = client.post("/api/v1/boards", headers=headers,
                           json={"slug": "new-board", "name": "New"})
    assert response.status_code == status
    assert client.patch("/api/v1/boards/open-board", headers=headers,
                        json={"name": "Renamed"}).status_code == status


def test_patch_changes_only_the_fields_sent(client, cast, token_for):
    response = client.patch("/api/v1/boards/open-board", headers=token_for(cast.secretariat),
                            json={"premoderated": True, "posting": "moderators"})
    assert response.status_code == 200
    data = response.get_json()
    assert data["premoderated"] is True and data["posting"] == "moderators"
    assert data["name"] == "Open board" and data["visibility"] == "public"


def test_the_secretariat_manages_boards_in_the_browser(client, auth, cast):
    auth.login(cast.secretariat)
    page = client.get("/forums/manage")
    assert page.status_code == 200 and "Open board" in page.get_data(as_text=True)
    response = client.post("/forums/manage", data={
        "slug": "gmo-detection", "name": "Detection of LMOs", "description": "Methods",
        "category": "Thematic areas", "thematic_area": "detection-identification",
        "visibility": "members", "group": "", "posting": "all", "moderator_group": "",
        "position": "3"})
    assert response.status_code == 302
    board = db.session.scalar(db.select(Board).where(Board.slug == "gmo-detection"))
    assert board.visibility == "members" and board.thematic_area.slug == \
        "detection-identification"
    response = client.post("/forums/manage/gmo-detection", data={
        "name": "Detection and identification", "description": "", "category": "Areas",
        "thematic_area": "", "visibility": "group", "group": "closed-group",
        "posting": "moderators", "moderator_group": "", "premoderated": "y",
        "position": "1"})
    assert response.status_code == 302
    db.session.refresh(board)
    assert (board.name, board.visibility, board.group_id, board.posting, board.premoderated) \
        == ("Detection and identification", "group", cast.group.id, "moderators", True)
    auth.logout()
    auth.login(cast.moderator)
    assert client.get("/forums/manage").status_code == 403


# -- subscriptions ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["each", "daily", "weekly", "none"])
def test_a_member_sets_the_delivery_mode_through_the_api(client, cast, token_for, mode):
    headers = token_for(cast.member)
    response = client.put("/api/v1/boards/open-board/subscription", headers=headers,
                          json={"mode": mode})
    assert response.status_code == 200
    assert response.get_json() == {"board": "open-board", "mode": mode}
    assert client.get("/api/v1/boards/open-board/subscription",
                      headers=headers).get_json()["mode"] == mode
    assert db.session.scalar(db.select(db.func.count(Subscription.id))) == 1


@pytest.mark.parametrize("role, board, body, status", [
    ("anonymous", "open-board", {"mode": "each"}, 401),
    ("member", "closed-board", {"mode": "each"}, 404),
    ("member", "no-such-board", {"mode": "each"}, 404),
    ("member", "open-board", {"mode": "hourly"}, 422),
    ("member", "open-board", {}, 422),
    ("group_member", "closed-board", {"mode": "daily"}, 200),
])
def test_subscription_refusals(client, cast, token_for, role, board, body, status):
    headers = token_for(cast.who(role)) if role != "anonymous" else {}
    response = client.put(f"/api/v1/boards/{board}/subscription", headers=headers, json=body)
    assert response.status_code == status


def test_subscribers_are_only_members_who_may_read_the_board(cast, make_group):
    for member in (cast.member, cast.group_member, cast.secretariat):
        subscriptions.set_subscription(member, cast.public, "each")
    subscriptions.set_subscription(cast.group_member, cast.closed, "daily")
    subscriptions.set_subscription(cast.secretariat, cast.closed, "daily")
    assert {m.id for m in subscriptions.board_subscribers(cast.public, "each")} == {
        cast.member.id, cast.group_member.id, cast.secretariat.id}
    assert subscriptions.board_subscribers(cast.public, "daily") == []
    # Someone who leaves the group stops receiving the closed forum's mail.
    from hub import groups as hub_groups

    hub_groups.remove_from_group(cast.secretariat, cast.group, cast.group_member)
    assert [m.id for m in subscriptions.board_subscribers(cast.closed, "daily")] == [
        cast.secretariat.id]


def test_watching_a_topic_in_the_browser(client, auth, cast):
    post = services.create_topic(cast.group_member, cast.public, "T", "B")
    auth.login(cast.member)
    page = client.get(f"/forums/topics/{post.topic_id}").get_data(as_text=True)
    assert "Watch: email me every new post" in page
    client.post(f"/forums/topics/{post.topic_id}/subscription", data={"mode": "each"})
    assert [m.id for m in subscriptions.topic_subscribers(post.topic)] == [cast.member.id]
    page = client.get(f"/forums/topics/{post.topic_id}").get_data(as_text=True)
    assert "Stop watching" in page
    client.post("/forums/open-board/subscription", data={"mode": "weekly"})
    assert subscriptions.subscription_mode(cast.member, board=cast.public) == "weekly"
