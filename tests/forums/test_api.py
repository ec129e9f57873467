"""The API's posting, editing and reading flows beyond the access matrix."""

from __future__ import annotations

import pytest

from forums import services


def test_a_discussion_through_the_api(client, cast, token_for):
    member, other = token_for(cast.member), token_for(cast.group_member)
    created = client.post("/api/v1/boards/open-board/topics", headers=member,
                          json={"title": "Biosafety clearing-house records",
                                "body": "How do you **link** decisions?"})
    assert created.status_code == 201
    topic = created.get_json()
    assert set(topic) >= {"id", "title", "board", "url", "first_post"}
    first = topic["first_post"]
    assert set(first) >= {"id", "topic_id", "parent_id", "author", "body", "html", "status",
                          "source", "created_at"}
    assert first["author"] == {"id": cast.member.id, "name": "Plain Member"}
    assert first["html"] == "<p>How do you <strong>link</strong> decisions?</p>"
    assert first["created_at"].endswith("+00:00")
    reply = client.post(f"/api/v1/topics/{topic['id']}/posts", headers=other,
                        json={"body": "By the decision's BCH id.", "parent_id": first["id"]})
    assert reply.status_code == 201 and reply.get_json()["parent_id"] == first["id"]
    to_topic = client.post(f"/api/v1/topics/{topic['id']}/posts", headers=other,
                           json={"body": "Also by date."})
    assert to_topic.get_json()["parent_id"] is None
    listing = client.get(f"/api/v1/topics/{topic['id']}/posts?limit=2").get_json()
    assert [p["position"] for p in listing["items"]] == [1, 2]
    rest = client.get(listing["next"].replace("http://localhost", "")).get_json()
    assert [p["position"] for p in rest["items"]] == [3] and rest["next"] is None
    topics = client.get("/api/v1/boards/open-board/topics").get_json()
    assert [t["title"] for t in topics["items"]] == ["Biosafety clearing-house records"]


def test_edit_and_delete_through_the_api(client, cast, token_for):
    post = services.create_topic(cast.member, cast.public, "T", "first version")
    mine, moderator = token_for(cast.member), token_for(cast.moderator)
    edited = client.patch(f"/api/v1/posts/{post.id}", headers=mine,
                          json={"body": "second version"})
    assert edited.status_code == 200
    assert edited.get_json()["body"] == "second version" and edited.get_json()["edited_at"]
    assert client.get(f"/api/v1/posts/{post.id}/revisions", headers=mine).status_code == 403
    revisions = client.get(f"/api/v1/posts/{post.id}/revisions", headers=moderator)
    assert [r["body"] for r in revisions.get_json()["items"]] == ["first version"]
    assert client.patch(f"/api/v1/posts/{post.id}", headers=token_for(cast.group_member),
                        json={"body": "not mine"}).status_code == 403
    assert client.delete(f"/api/v1/posts/{post.id}", headers=mine).status_code == 204
    assert client.delete(f"/api/v1/posts/{post.id}", headers=mine).status_code == 409
    shown = client.get(f"/api/v1/posts/{post.id}").get_json()
    assert shown["deleted"] is True and shown["body"] == "" and shown["html"] == ""


@pytest.mark.parametrize("payload, status", [
    ({"body": ""}, 422),
    ({"body": 5}, 422),
    ({"body": "x", "parent_id": 999999}, 422),
    ({"body": "x", "parent_id": "1"}, 422),
    ({}, 422),
])
def test_bad_replies_are_422_json(client, cast, token_for, payload, status):
    post = services.create_topic(cast.member, cast.public, "T", "B")
    response = client.post(f"/api/v1/topics/{post.topic_id}/posts",
                           headers=token_for(cast.member), json=payload)
    assert response.status_code == status
    assert response.get_json()["error"]["code"]


def test_unknown_things_are_404_json(client, cast, token_for):
    headers = token_for(cast.member)
    for url in ("/api/v1/boards/nope", "/api/v1/topics/999", "/api/v1/posts/999",
                "/api/v1/attachments/999"):
        response = client.get(url, headers=headers)
        assert response.status_code == 404 and response.get_json()["error"]["code"]


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/boards", "/boards/{slug}/topics", "/topics/{topic_id}/posts",
            "/posts/{post_id}/approve", "/posts/{post_id}/reject",
            "/boards/{slug}/subscription"} <= set(paths)
    assert "put" in paths["/boards/{slug}/subscription"]


@pytest.mark.config(HUB_RATELIMIT_POST="2 per minute", HUB_FLOOD_POSTS=0)
def test_the_posting_views_are_rate_limited(client, auth, cast, token_for):
    post = services.create_topic(cast.member, cast.public, "T", "B")
    auth.login(cast.member)
    codes = [client.post(f"/forums/topics/{post.topic_id}/reply",
                         data={"body": f"reply {n}"}).status_code for n in range(3)]
    assert codes == [302, 302, 429]
    headers = token_for(cast.group_member)
    codes = [client.post(f"/api/v1/topics/{post.topic_id}/posts", headers=headers,
                         json={"body": f"api {n}"}).status_code for n in range(3)]
    assert codes == [201, 201, 429]
    # Counted per member, not per address: a colleague in the same office still posts.
    assert client.post(f"/api/v1/topics/{post.topic_id}/posts", headers=token_for(
        cast.secretariat), json={"body": "from the same address"}).status_code == 201
