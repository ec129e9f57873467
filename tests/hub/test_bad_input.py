"""Input the database cannot hold gets a clear 4xx, never a 500: ids out of range,
JSON nested 1,000 deep, integers beyond 64 bits, NUL characters, lone surrogates."""

from __future__ import annotations

import pytest

from forums import services


@pytest.fixture
def topic(app, make_member, make_group):
    from forums.models import Board
    from hub.extensions import db

    board = Board(slug="open", name="Open", description="", visibility="public",
                  posting="all", position=1)
    db.session.add(board)
    db.session.commit()
    author = make_member()
    return services.create_topic(author, board, "Bad input", "First.").topic, author


@pytest.mark.parametrize("path", ["/api/v1/topics/99999999999999999999999",
                                  "/api/v1/topics/99999999999999999999999/posts",
                                  "/forums/topics/99999999999999999999999"])
def test_ids_out_of_range_are_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404


def test_a_query_id_out_of_range_is_refused(client, topic, token_for):
    _topic, author = topic
    response = client.get("/api/v1/search", query_string={"q": "x", "before": "9" * 30},
                          headers=token_for(author))
    assert response.status_code in (404, 422)


@pytest.mark.parametrize("payload", [
    {"body": "Hello", "parent_id": 10**30},
    {"body": "a\u0000b"},
    {"body": "\ud800"},
])
def test_unstorable_json_values_are_refused(client, topic, token_for, payload):
    item, author = topic
    response = client.post(f"/api/v1/topics/{item.id}/posts", json=payload,
                           headers=token_for(author))
    assert response.status_code == 422, response.text
    assert response.json["error"]["code"] == "invalid_json"


def test_json_nested_a_thousand_deep_is_refused(client, topic, token_for):
    item, author = topic
    deep = '{"body": "x", "extra": ' + "[" * 1000 + "]" * 1000 + "}"
    response = client.post(f"/api/v1/topics/{item.id}/posts", data=deep,
                           content_type="application/json", headers=token_for(author))
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid_json"
    deeper = "[" * 100_000 + "]" * 100_000
    response = client.post(f"/api/v1/topics/{item.id}/posts", data=deeper,
                           content_type="application/json", headers=token_for(author))
    assert response.status_code == 422


def test_a_nul_in_a_form_is_a_helpful_page(client, auth, topic):
    item, author = topic
    auth.login(author)
    response = client.post(f"/forums/topics/{item.id}/reply", data={"body": "a\x00b"})
    assert response.status_code == 400 and b"NUL" in response.data
    response = client.get("/search", query_string={"q": "a\x00b"})
    assert response.status_code == 400


# -- Idempotency-Key ---------------------------------------------------------------------------

def test_a_retried_post_with_the_same_key_returns_the_first_answer(client, topic, token_for):
    from forums.models import Post
    from hub.extensions import db

    item, author = topic
    headers = {**token_for(author), "Idempotency-Key": "retry-1"}
    first = client.post(f"/api/v1/topics/{item.id}/posts", json={"body": "Once."},
                        headers=headers)
    assert first.status_code == 201
    again = client.post(f"/api/v1/topics/{item.id}/posts", json={"body": "Once."},
                        headers=headers)
    assert again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(Post)
                             .where(Post.body == "Once.")) == 1

    other = client.post(f"/api/v1/topics/{item.id}/posts", json={"body": "Something else."},
                        headers=headers)
    assert other.status_code == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"
    fresh = client.post(f"/api/v1/topics/{item.id}/posts", json={"body": "Once."},
                        headers={**headers, "Idempotency-Key": "retry-2"})
    assert fresh.status_code == 201 and fresh.json["id"] != first.json["id"]


def test_a_refused_post_keeps_nothing_under_its_key(client, topic, token_for):
    item, author = topic
    headers = {**token_for(author), "Idempotency-Key": "k"}
    assert client.post(f"/api/v1/topics/{item.id}/posts", json={},
                       headers=headers).status_code == 422
    second = client.post(f"/api/v1/topics/{item.id}/posts", json={"body": "Now."},
                         headers=headers)
    assert second.status_code == 201, second.json  # the refusal was not kept


# -- a full disk ---------------------------------------------------------------------------

def test_a_full_upload_disk_answers_507_with_a_clear_message(client, topic, token_for,
                                                            monkeypatch):
    import base64
    import errno
    import tempfile

    from forums.models import Post
    from hub.extensions import db

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", full)
    item, author = topic
    files = [{"filename": "notes.txt", "content_type": "text/plain",
              "data": base64.b64encode(b"Some notes.").decode()}]
    response = client.post(f"/api/v1/topics/{item.id}/posts", headers=token_for(author),
                           json={"body": "With a file.", "attachments": files})
    assert response.status_code == 507
    assert response.json["error"]["code"] == "insufficient_storage"
    assert "no room" in response.json["error"]["message"]
    db.session.rollback()
    assert db.session.scalar(db.select(Post).where(Post.body == "With a file.")) is None
