"""The closed-access matrix: a conference's discussion is invisible to everyone but its
participants, moderators and the Secretariat on every channel this branch has (pages,
API, attachments, board lists, list subscribers), while its public page is open to all.
Outsiders get 404, never 403, for closed things."""

from __future__ import annotations

import pytest

from conferences import editing, participation, proceedings, services
from forums import attachments, subscriptions
from forums import services as forums
from forums.models import Subscription
from hub.extensions import db

from .conftest import day, round_topic

ROLES = ("anonymous", "outsider", "network_moderator", "applicant", "participant",
         "moderator", "secretariat")
READERS = {"participant", "moderator", "secretariat"}
MANAGERS = {"moderator", "secretariat"}
SECRET = "Only participants may read this insight"
QUESTION = "How do you **formulate** the problem?"


@pytest.fixture
def world(in_session, people):
    topic = round_topic(in_session, 1)
    reply = forums.create_reply(people.participant, topic, SECRET, attachments=[
        attachments.Upload("notes.txt", "text/plain", b"private notes")])
    own = forums.create_topic(people.participant2, in_session.board, "A side topic",
                              "Side discussion text")
    return {"topic": topic, "reply": reply, "own": own,
            "attachment": reply.attachments[0]}


def _get(client, url, **kwargs):
    response = client.get(url, **kwargs)
    text = response.get_data(as_text=True)
    response.close()
    return response.status_code, text


def _login(auth, people, role):
    if role != "anonymous":
        auth.login(people.who(role))


@pytest.mark.parametrize("role", ROLES)
def test_pages(client, auth, people, world, role):
    _login(auth, people, role)
    reader = role in READERS
    topic, reply, attachment = world["topic"], world["reply"], world["attachment"]
    closed = [
        "/conferences/risk/discussion", "/forums/risk", f"/forums/topics/{topic.id}",
        f"/forums/topics/{topic.id}?view=flat", f"/forums/topics/{world['own'].topic_id}",
        f"/forums/files/{attachment.id}/{attachment.filename}",
    ]
    for url in closed:
        status, text = _get(client, url)
        assert status == (200 if reader else 404), (role, url)
        if not reader:
            assert SECRET not in text
    status, _ = _get(client, f"/forums/posts/{reply.id}")
    assert status == (302 if reader else 404)
    # The public page: everyone, but the round questions only for participants.
    status, text = _get(client, "/conferences/risk")
    assert status == 200 and "Risk assessment in practice" in text
    assert ("formulate</strong> the problem" in text) == reader
    for url in ("/conferences/", "/", "/forums/"):
        status, text = _get(client, url)
        assert status == 200 and SECRET not in text and "A side topic" not in text


@pytest.mark.parametrize("role", ROLES)
def test_management_pages(client, auth, people, world, role):
    _login(auth, people, role)
    for url in ("/conferences/risk/moderation", "/conferences/risk/participants",
                "/conferences/risk/statistics", "/conferences/risk/invite",
                "/conferences/risk/edit"):
        status, _ = _get(client, url)
        if role == "anonymous":
            assert status == 302, url  # sign in first
        elif role in MANAGERS:
            assert status == 200, url
        else:
            assert status == (403 if role in READERS else 404), (role, url)


@pytest.mark.parametrize("role", ROLES)
def test_api(client, people, world, token_for, role):
    headers = {} if role == "anonymous" else token_for(people.who(role))
    reader = role in READERS
    topic, reply, attachment = world["topic"], world["reply"], world["attachment"]
    for url in ("/api/v1/boards/risk", "/api/v1/boards/risk/topics",
                f"/api/v1/topics/{topic.id}", f"/api/v1/topics/{topic.id}/posts",
                f"/api/v1/posts/{reply.id}", f"/api/v1/attachments/{attachment.id}"):
        status, text = _get(client, url, headers=headers)
        assert status == (200 if reader else 404), (role, url)
        if not reader:
            assert SECRET not in text and '"error"' in text
    status, text = _get(client, "/api/v1/boards?kind=conference", headers=headers)
    assert status == 200 and ('"risk"' in text) == reader
    response = client.get("/api/v1/conferences/risk", headers=headers)
    assert response.status_code == 200
    rounds = response.get_json()["rounds"]
    assert [r["title"] for r in rounds] == ["Problem formulation", "Uncertainty"]
    assert ("question" in rounds[0]) == reader
    status, _ = _get(client, "/api/v1/conferences/risk/held", headers=headers)
    expected = {"anonymous": 401}.get(role, 200 if role in MANAGERS
                                      else 403 if reader else 404)
    assert status == expected, role
    # Posting through the API: outsiders do not learn the board exists.
    response = client.post(f"/api/v1/topics/{topic.id}/posts", json={"body": "Hi"},
                           headers=headers)
    assert response.status_code == {"anonymous": 401}.get(
        role, 201 if reader else 404), role


def test_list_mail_and_digests_reach_only_those_who_may_read(world, people, in_session):
    """The listserv and digests send to `board_subscribers`, which asks hub.access."""
    board = in_session.board
    for member in (people.outsider, people.network_moderator, people.applicant):
        db.session.add(Subscription(member_id=member.id, board_id=board.id, mode="each"))
    db.session.commit()
    each = {m.email for m in subscriptions.board_subscribers(board, "each")}
    # Approved participants follow the list from the moment they are approved.
    assert each == {people.participant.email, people.participant2.email}
    registration = services.registration_of(people.participant2, in_session)
    participation.decline(people.moderator, registration, "Removed at their request.")
    assert {m.email for m in subscriptions.board_subscribers(board, "each")} == {
        people.participant.email}


def test_published_proceedings_do_not_open_the_discussion(client, auth, world, people, at,
                                                         in_session):
    at(day(22))
    proceedings.compile_draft(people.secretariat, in_session)
    proceedings.publish(people.secretariat, in_session)
    assert client.get("/conferences/risk/proceedings").status_code == 200
    assert SECRET in client.get("/conferences/risk/proceedings").get_data(as_text=True)
    assert client.get("/forums/risk").status_code == 404
    assert client.get(f"/forums/topics/{world['topic'].id}").status_code == 404
    auth.login(people.outsider)
    assert client.get("/conferences/risk/discussion").status_code == 404


def test_the_secretariat_can_open_the_archive_read_only(client, auth, world, people, at,
                                                       in_session, token_for):
    assert client.get("/forums/risk").status_code == 404
    with pytest.raises(Exception, match="once the conference has closed"):
        editing.set_archive(people.secretariat, in_session, "public")
    at(day(22))
    editing.set_archive(people.secretariat, in_session, "public")
    assert client.get("/forums/risk").status_code == 200
    assert SECRET in client.get(f"/forums/topics/{world['topic'].id}").get_data(as_text=True)
    response = client.post(f"/api/v1/topics/{world['topic'].id}/posts", json={"body": "Late"},
                           headers=token_for(people.outsider))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "closed"
    editing.set_archive(people.secretariat, in_session, "closed")
    assert client.get("/forums/risk").status_code == 404
