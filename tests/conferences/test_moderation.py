"""Moderation on the web: held posts wait in the conference's queue; moderators approve,
edit then approve (the thread says a moderator edited it) or reject with a reason. Round
summaries, pinning and locking. (The held-post mail and decisions by email are the
listserv's, for every pre-moderated board: tests/listserv/test_moderation.py.)"""

from __future__ import annotations

import pytest

from conferences import agenda, participation, schedule
from forums import services as forums
from forums.models import Post
from hub.extensions import db

from .conftest import day, make, round_topic


@pytest.fixture
def held_world(app, people, at, run_jobs, smtp):
    conference = make(people, premoderated=True)
    at(day(1))
    for member in (people.participant, people.participant2):
        participation.approve(people.moderator, participation.apply(member, conference, "Yes"))
    at(day(8))
    schedule.run()
    run_jobs()
    smtp.clear()
    db.session.expire_all()
    return conference


def _held(conference, people, body="An opinion that waits"):
    return forums.create_reply(people.participant, round_topic(conference, 1), body)


def test_approve_by_web(client, auth, held_world, people):
    post = _held(held_world, people)
    auth.login(people.participant2)
    topic_url = f"/forums/topics/{post.topic_id}"
    assert "An opinion that waits" not in client.get(topic_url).get_data(as_text=True)
    auth.logout()
    auth.login(people.moderator)
    queue = client.get("/conferences/risk/moderation").get_data(as_text=True)
    assert "An opinion that waits" in queue and "Posts waiting for approval (1)" in queue
    response = client.post(f"/forums/posts/{post.id}/approve",
                           data={"next": "/conferences/risk/moderation"})
    assert response.headers["Location"] == "/conferences/risk/moderation"
    assert "Nothing is waiting" in client.get("/conferences/risk/moderation").get_data(
        as_text=True)
    auth.logout()
    auth.login(people.participant2)
    assert "An opinion that waits" in client.get(topic_url).get_data(as_text=True)


def test_reject_by_web_tells_the_author_why(client, auth, held_world, people, smtp, run_jobs):
    post = _held(held_world, people)
    run_jobs()
    smtp.clear()
    auth.login(people.moderator)
    client.post(f"/forums/posts/{post.id}/reject",
                data={"reason": "Please stay on the round's question.",
                      "next": "/conferences/risk/moderation"})
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == "rejected"
    run_jobs()
    text = smtp.to("pat@example.org")[0].get_body(("plain",)).get_content()
    assert "Please stay on the round's question." in text


def test_edit_then_approve_marks_the_post_as_edited_by_a_moderator(client, auth, held_world,
                                                                   people):
    post = _held(held_world, people, "Teh evidence is clear")
    auth.login(people.moderator)
    form = client.get(f"/conferences/risk/moderation/{post.id}/edit").get_data(as_text=True)
    assert "Teh evidence is clear" in form
    response = client.post(f"/conferences/risk/moderation/{post.id}/edit",
                           data={"body": "The evidence is clear"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == "published"
    auth.logout()
    auth.login(people.participant2)
    page = client.get(f"/forums/topics/{post.topic_id}").get_data(as_text=True)
    assert "The evidence is clear" in page and "Teh evidence" not in page
    assert "modifié par un modérateur" in page  # participant2 reads French


def test_the_held_queue_through_the_api(client, held_world, people, token_for):
    post = _held(held_world, people)
    headers = token_for(people.moderator)
    items = client.get("/api/v1/conferences/risk/held", headers=headers).get_json()["items"]
    assert [(i["id"], i["status"], i["body"]) for i in items] == [
        (post.id, "held", "An opinion that waits")]
    response = client.post(f"/api/v1/posts/{post.id}/reject", json={"reason": "Off topic"},
                           headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "rejected"
    assert client.get("/api/v1/conferences/risk/held", headers=headers).get_json()[
        "items"] == []


def test_round_summaries_pins_and_locks_on_the_web(client, auth, in_session, people):
    item = next(r for r in in_session.rounds if r.number == 1)
    auth.login(people.moderator)
    response = client.post(f"/conferences/risk/rounds/{item.id}/summary",
                           data={"body": "Participants agreed on **three** points."})
    assert response.status_code == 302
    summary = agenda.summaries(item)
    assert [p.kind for p in summary] == ["summary"]
    page = client.get(f"/forums/topics/{item.topic_id}").get_data(as_text=True)
    assert '<span class="badge">summary</span>' in page
    assert "<strong>three</strong>" in page
    client.post(f"/conferences/risk/rounds/{item.id}/pin")
    client.post(f"/conferences/risk/rounds/{item.id}/lock")
    db.session.expire_all()
    topic = round_topic(in_session, 1)
    assert topic.pinned and topic.locked
    auth.logout()
    auth.login(people.participant)
    page = client.get("/conferences/risk/discussion").get_data(as_text=True)
    assert "locked" in page and "pinned" in page
    # Participants cannot post summaries or lock rounds.
    assert client.post(f"/conferences/risk/rounds/{item.id}/summary",
                       data={"body": "Mine"}).status_code == 403
    assert client.post(f"/conferences/risk/rounds/{item.id}/unlock").status_code == 403


def test_moderators_extend_and_shorten_rounds_on_the_web(client, auth, in_session, people):
    item = next(r for r in in_session.rounds if r.number == 2)
    auth.login(people.participant)
    assert client.get(f"/conferences/risk/rounds/{item.id}/edit").status_code == 403
    auth.logout()
    people.moderator.timezone = "America/Mexico_City"  # UTC-6: forms are in local time
    db.session.commit()
    auth.login(people.moderator)
    form = client.get(f"/conferences/risk/rounds/{item.id}/edit").get_data(as_text=True)
    assert 'value="2030-03-22T06:00"' in form and "America/Mexico_City" in form
    response = client.post(f"/conferences/risk/rounds/{item.id}/edit", data={
        "title": "Uncertainty", "question": "How do you handle uncertainty?",
        "opens_at": "2030-03-15T06:00", "closes_at": "2030-03-20T06:00"})
    assert response.status_code == 302
    db.session.expire_all()
    assert item.closes_at.isoformat() == "2030-03-20T12:00:00+00:00"
    response = client.post(f"/conferences/risk/rounds/{item.id}/edit", data={
        "title": "Uncertainty", "question": "How do you handle uncertainty?",
        "opens_at": "2030-03-15T06:00", "closes_at": "2030-03-25T06:00"})
    assert response.status_code == 422
    assert "A round must fall within the conference" in response.get_data(as_text=True)


def test_rewording_a_started_round_edits_its_opening_post(in_session, people):
    from forums.models import PostRevision

    item = next(r for r in in_session.rounds if r.number == 1)
    agenda.update_round(people.moderator, item, agenda.RoundData(
        title="Framing the problem", question="How do you *frame* the problem?"))
    db.session.expire_all()
    topic = round_topic(in_session, 1)
    first = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id,
                                                    Post.position == 1))
    assert topic.title == "Round 1: Framing the problem"
    assert first.body == "How do you *frame* the problem?" and first.edited_at is not None
    assert db.session.scalar(db.select(PostRevision.body).where(
        PostRevision.post_id == first.id)) == "How do you **formulate** the problem?"
