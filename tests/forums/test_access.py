"""The access matrix: public / members / group boards x anonymous, member, group
member, moderator, Secretariat, across pages, the API and attachments. A group board is
invisible (404) to everyone outside the group, everywhere."""

from __future__ import annotations

import base64

import pytest

from forums import attachments, editing, services
from forums.models import Attachment
from hub.extensions import db

ROLES = ("anonymous", "member", "group_member", "moderator", "secretariat")
BOARDS = ("public", "members", "closed")
READERS = {
    "public": set(ROLES),
    "members": {"member", "group_member", "moderator", "secretariat"},
    "closed": {"group_member", "secretariat"},
}
MODERATORS = {
    "public": {"moderator", "secretariat"},
    "members": {"moderator", "secretariat"},
    "closed": {"secretariat"},
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def world(cast):
    """A topic with an attachment on every board, started by the Secretariat."""
    made = {}
    for name in BOARDS:
        post = services.create_topic(
            cast.secretariat, getattr(cast, name), f"Topic on {name}", f"Body on {name}",
            attachments=[attachments.Upload("notes.txt", "text/plain", f"notes {name}".encode()),
                         attachments.Upload("chart.png", "image/png", PNG)])
        made[name] = post
    return made


def _get(client, url, **kwargs):
    """GET and close (file responses stream from disk and must be closed)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def _login(auth, cast, role):
    if role != "anonymous":
        auth.login(cast.who(role))


def _refusal(role: str, board: str) -> int:
    """How a page refuses: group boards do not exist; members boards ask to sign in."""
    if board == "closed":
        return 404
    return 302 if role == "anonymous" else 403


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("role", ROLES)
def test_pages(client, auth, cast, world, role, board):
    _login(auth, cast, role)
    post = world[board]
    readable = role in READERS[board]
    slug = getattr(cast, board).slug
    attachment = post.attachments[0]
    urls = [f"/forums/{slug}", f"/forums/topics/{post.topic_id}",
            f"/forums/topics/{post.topic_id}?view=flat", f"/forums/posts/{post.id}",
            f"/forums/files/{attachment.id}/{attachment.filename}"]
    for url in urls:
        status = _get(client, url).status_code
        if readable:
            assert status in (200, 302 if "/posts/" in url else 200), url
        else:
            assert status == _refusal(role, board), url
    listing = client.get("/forums/").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    name = getattr(cast, board).name
    assert (name in listing) == readable
    assert (f"Topic on {board}" in home) == readable


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("role", ROLES)
def test_api(client, cast, world, token_for, role, board):
    headers = token_for(cast.who(role)) if role != "anonymous" else {}
    post = world[board]
    slug = getattr(cast, board).slug
    readable = role in READERS[board]
    refusal = 404 if board == "closed" else 401
    reads = [f"/api/v1/boards/{slug}", f"/api/v1/boards/{slug}/topics",
             f"/api/v1/topics/{post.topic_id}", f"/api/v1/topics/{post.topic_id}/posts",
             f"/api/v1/posts/{post.id}", f"/api/v1/attachments/{post.attachments[0].id}"]
    for url in reads:
        response = _get(client, url, headers=headers)
        assert response.status_code == (200 if readable else refusal), url
        if not readable:
            assert response.get_json()["error"]["code"] in {"not_found", "unauthorized"}
    listed = {b["slug"] for b in client.get("/api/v1/boards", headers=headers)
              .get_json()["items"]}
    assert (slug in listed) == readable

    created = client.post(f"/api/v1/boards/{slug}/topics", headers=headers,
                          json={"title": "Via the API", "body": "Hello"})
    replied = client.post(f"/api/v1/topics/{post.topic_id}/posts", headers=headers,
                          json={"body": "A reply", "parent_id": post.id})
    if role == "anonymous":
        assert created.status_code == replied.status_code == 401
    elif readable:
        assert created.status_code == replied.status_code == 201
        assert created.get_json()["first_post"]["source"] == "api"
        assert replied.get_json()["parent_id"] == post.id
    else:
        assert created.status_code == replied.status_code == 404


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("role", ROLES[1:])
def test_moderation_api(client, cast, token_for, role, board):
    place = getattr(cast, board)
    place.premoderated = True
    db.session.commit()
    author = cast.group_member if board == "closed" else cast.member
    first = services.create_topic(author, place, "Held topic", "please approve")
    assert first.status == "held"
    response = client.post(f"/api/v1/posts/{first.id}/approve", headers=token_for(
        cast.who(role)))
    if role in MODERATORS[board]:
        assert response.status_code == 200 and response.get_json()["status"] == "published"
    elif cast.who(role) == author:  # sees their own held post, may not approve it
        assert response.status_code == 403
    else:  # a held post is invisible to other readers, the board to outsiders
        assert response.status_code == 404


def test_attachments_are_downloads_except_safe_images(client, cast, world):
    post = world["public"]
    text, image = post.attachments
    response = _get(client, f"/forums/files/{text.id}/{text.filename}")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.data == b"notes public"
    response = _get(client, f"/forums/files/{image.id}/{image.filename}")
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("filename, data, accepted", [
    ("drawing.svg", b"<svg onload=alert(1)></svg>", False),
    ("page.html", b"<script>alert(1)</script>", False),
    ("fake.png", b"<script>alert(1)</script>", False),  # not really a PNG
    ("report.pdf", b"%PDF-1.7 minimal", True),
    ("tool.exe", b"MZ\x90\x00", False),
])
def test_attachment_types_are_checked_by_content_not_by_claim(cast, filename, data,
                                                               accepted):
    upload = attachments.Upload(filename, "image/png", data)
    if accepted:
        post = services.create_topic(cast.member, cast.public, "T", "B", attachments=[upload])
        assert post.attachments[0].content_type == "application/pdf"
    else:
        with pytest.raises(services.Invalid):
            services.create_topic(cast.member, cast.public, "T", "B", attachments=[upload])


@pytest.mark.config(HUB_ATTACHMENT_MAX_BYTES=1000)
def test_attachments_over_the_size_limit_are_refused_through_the_api(client, cast,
                                                                      token_for):
    big = base64.b64encode(b"x" * 1001).decode()
    response = client.post("/api/v1/boards/open-board/topics", headers=token_for(cast.member),
                           json={"title": "T", "body": "B", "attachments": [
                               {"filename": "big.txt", "data": big}]})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"attachments": "too_large"}


def test_identical_files_are_stored_once_by_content_hash(app, cast):
    one = services.create_topic(cast.member, cast.public, "A", "B", attachments=[
        attachments.Upload("a.txt", "text/plain", b"same bytes")])
    two = services.create_topic(cast.member, cast.public, "C", "D", attachments=[
        attachments.Upload("b.txt", "text/plain", b"same bytes")])
    first, second = one.attachments[0], two.attachments[0]
    assert first.sha256 == second.sha256
    assert attachments.blob_path(first.sha256).read_bytes() == b"same bytes"
    assert str(attachments.blob_path(first.sha256)).startswith(app.config["HUB_UPLOAD_DIR"])


def test_a_deleted_posts_files_are_gone_for_readers(client, cast, world):
    post = world["public"]
    editing.delete_post(cast.secretariat, post)
    attachment = db.session.get(Attachment, post.attachments[0].id)
    assert _get(client, f"/forums/files/{attachment.id}/x").status_code == 404
