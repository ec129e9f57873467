"""Edits of published posts on pre-moderated boards: a member's edit waits for a
moderator (the published text stays), the queue shows what it changes (web and API),
approving applies it as a normal edit would (revision, stored HTML, search, live pages,
page cache), rejecting keeps the published text and tells the author why. Held posts are
simply edited; moderators' own edits are not held."""

from __future__ import annotations

import pytest

from forums import editing, moderation, search, services
from forums.models import Post, PostEdit, PostRevision
from hub.extensions import db, socketio
from hub.models import AuditEntry

PUBLISHED = "Bt cotton trials in **Burkina Faso**."
PROPOSED = "Bt cotton trials in **Burkina Faso** and Ghana."


@pytest.fixture
def published(cast):
    """A member's reply, approved by a moderator, on a pre-moderated public board."""
    cast.public.premoderated = True
    db.session.commit()
    first = services.create_topic(cast.moderator, cast.public, "Cotton", "What trials?")
    post = services.create_reply(cast.member, first.topic, PUBLISHED)
    moderation.approve_post(cast.moderator, post)
    return post


def _actions() -> list[str]:
    return list(db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_a_members_edit_waits_and_the_published_text_stays(client, auth, cast, published):
    topic_url = f"/forums/topics/{published.topic_id}"
    auth.login(cast.member)
    response = client.post(f"/forums/posts/{published.id}/edit",
                           data={"body": PROPOSED}, follow_redirects=True)
    assert "A moderator will look at your changes" in response.get_data(as_text=True)
    db.session.expire_all()
    post = db.session.get(Post, published.id)
    assert post.body == PUBLISHED and post.edited_at is None
    mine = client.get(topic_url).get_data(as_text=True)
    assert "Your edit of this post is waiting for a moderator" in mine
    assert "and Ghana" not in mine
    # The edit form goes on from the text that waits.
    assert "and Ghana" in client.get(f"/forums/posts/{post.id}/edit").get_data(as_text=True)
    auth.logout()
    theirs = client.get(topic_url).get_data(as_text=True)
    assert "<strong>Burkina Faso</strong>" in theirs
    assert "and Ghana" not in theirs and "waiting for a moderator" not in theirs


def test_the_queue_shows_the_changes_and_approving_applies_them(client, auth, cast,
                                                                published, sio_reader):
    editing.edit_post(cast.member, published, PROPOSED)
    edit = editing.pending_edit(published)
    anonymous = client.get(f"/forums/topics/{published.topic_id}")  # now in the page cache
    assert "and Ghana" not in anonymous.get_data(as_text=True)
    sock = sio_reader(published.topic_id)
    auth.login(cast.moderator)
    queue = client.get("/forums/moderation").get_data(as_text=True)
    assert "edit awaiting approval" in queue
    assert "<del>- Bt cotton trials in **Burkina Faso**.</del>" in queue
    assert "<ins>+ Bt cotton trials in **Burkina Faso** and Ghana.</ins>" in queue
    assert client.post(f"/forums/edits/{edit.id}/approve").status_code == 302
    db.session.expire_all()
    post = db.session.get(Post, published.id)
    assert post.body == PROPOSED and "and Ghana" in post.html and post.edited_at
    assert post.edited_by_id == cast.member.id  # the author's edit, not a moderator's
    [revision] = db.session.scalars(db.select(PostRevision).where(
        PostRevision.post_id == post.id))
    assert revision.body == PUBLISHED
    assert _actions()[-1] == "post.edit_approve"
    assert "edit awaiting approval" not in client.get("/forums/moderation").get_data(
        as_text=True)
    # What a normal edit does: live readers, the search index, the cached page.
    [live] = [e["args"][0] for e in sock.get_received() if e["name"] == "post"]
    assert live["change"] == "edit" and "and Ghana" in live["html"]
    hits, _ = search.search(None, search.parse_filters(None, {"q": "Ghana"})[0])
    assert [h.post.id for h in hits] == [post.id]
    auth.logout()
    assert "and Ghana" in client.get(f"/forums/topics/{post.topic_id}").get_data(
        as_text=True)


def test_rejecting_by_api_keeps_the_text_and_tells_the_author(client, cast, published,
                                                              token_for, smtp, run_jobs):
    author, moderator = token_for(cast.member), token_for(cast.moderator)
    response = client.patch(f"/api/v1/posts/{published.id}", headers=author,
                            json={"body": PROPOSED})
    assert response.status_code == 202
    data = response.get_json()
    assert data["body"] == PUBLISHED and data["pending_edit"]["body"] == PROPOSED
    edit_id = data["pending_edit"]["id"]
    assert client.get(f"/api/v1/posts/{published.id}").get_json().get("pending_edit") \
        is None  # anonymous readers do not learn of it
    [item] = client.get("/api/v1/moderation", headers=moderator).get_json()["items"]
    assert item["id"] == published.id and item["pending_edit"]["id"] == edit_id
    assert "+Bt cotton trials in **Burkina Faso** and Ghana." in item["pending_edit"]["diff"]
    assert client.post(f"/api/v1/edits/{edit_id}/reject", headers=author,
                       json={"reason": "x"}).status_code == 404  # not a moderator
    assert client.post(f"/api/v1/edits/{edit_id}/reject", headers=moderator,
                       json={}).status_code == 422
    smtp.clear()
    response = client.post(f"/api/v1/edits/{edit_id}/reject", headers=moderator,
                           json={"reason": "Ghana has no trials yet."})
    assert response.status_code == 200 and response.get_json()["body"] == PUBLISHED
    assert client.post(f"/api/v1/edits/{edit_id}/approve",
                       headers=moderator).status_code == 409
    run_jobs()
    [mail] = smtp.to(cast.member.email)
    text = mail.get_body(("plain",)).get_content()
    assert "Ghana has no trials yet." in text and "and Ghana." in text
    assert client.get("/api/v1/moderation", headers=moderator).get_json()["items"] == []
    assert db.session.get(PostEdit, edit_id).state == "rejected"
    assert _actions()[-1] == "post.edit_reject"


def test_a_newer_edit_replaces_the_one_waiting(client, cast, published, token_for):
    editing.edit_post(cast.member, published, PROPOSED)
    first = editing.pending_edit(published)
    editing.edit_post(cast.member, published, PROPOSED + " And Kenya.")
    second = editing.pending_edit(published)
    assert second.id != first.id and first.state == "replaced"
    moderator = token_for(cast.moderator)
    # A decision names the text the moderator read.
    assert client.post(f"/api/v1/edits/{first.id}/approve",
                       headers=moderator).status_code == 409
    [item] = client.get("/api/v1/moderation", headers=moderator).get_json()["items"]
    assert item["pending_edit"]["id"] == second.id
    # Going back to the published text withdraws the edit.
    editing.edit_post(cast.member, published, PUBLISHED)
    assert editing.pending_edit(published) is None and second.state == "withdrawn"


def test_held_posts_are_edited_in_place_and_moderators_are_not_held(cast, published):
    held = services.create_reply(cast.member, published.topic, "Held text.")
    editing.edit_post(cast.member, held, "Held text, corrected.")
    assert held.status == "held" and held.body == "Held text, corrected."
    assert editing.pending_edit(held) is None
    editing.edit_post(cast.moderator, published, "Corrected by a moderator.")
    assert published.body == "Corrected by a moderator."
    assert editing.pending_edit(published) is None
    # Outside pre-moderated boards, members edit freely as before.
    cast.public.premoderated = False
    db.session.commit()
    editing.edit_post(cast.member, published, PROPOSED)
    assert published.body == PROPOSED and editing.pending_edit(published) is None


@pytest.fixture
def sio_reader(app, client):
    made = []

    def join(topic_id):
        sock = socketio.test_client(app, flask_test_client=client)
        assert sock.emit("join", {"topic": topic_id}, callback=True)["ok"]
        sock.get_received()
        made.append(sock)
        return sock

    yield join
    for sock in made:
        if sock.is_connected():
            sock.disconnect()


@pytest.fixture
def app_config(app_config):
    return {**app_config, "HUB_REDIS_URL": None}  # Socket.IO's test client needs no queue
