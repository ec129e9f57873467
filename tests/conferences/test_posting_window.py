"""No one posts before the conference opens or after it closes, by any channel, and the
refusal says when it opens or that it has closed. (Email goes through the same
`hub.access.check_post`; its channel belongs to the listserv.)"""

from __future__ import annotations

import pytest

from conferences import agenda, schedule
from forums import services as forums
from hub.errors import Forbidden

from .conftest import day, round_topic

WHO = ("participant", "moderator", "secretariat")


@pytest.mark.parametrize("role", WHO)
def test_before_the_opening_the_api_says_when_it_opens(client, conference, people, token_for,
                                                       role):
    response = client.post("/api/v1/boards/risk/topics", json={"title": "Early",
                                                              "body": "Too early"},
                           headers=token_for(people.who(role)))
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "not_open"
    assert error["message"].startswith("This discussion opens on Friday, March 8, 2030")
    assert "12:00:00" in error["message"] and "Coordinated Universal Time" in error["message"]


def test_before_the_opening_the_web_says_when_it_opens(client, auth, conference, people):
    auth.login(people.participant)  # in Nairobi: the time is given in her zone
    response = client.get("/forums/risk/new", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "This discussion opens on Friday, March 8, 2030, 3:00:00" in text
    assert "East Africa Time" in text
    response = client.post("/forums/risk/new", data={"title": "Early", "body": "Too early"},
                           follow_redirects=True)
    assert "This discussion opens on Friday, March 8, 2030" in response.get_data(as_text=True)
    page = client.get("/conferences/risk/discussion").get_data(as_text=True)
    assert "This discussion opens on Friday, March 8, 2030" in page
    assert "Start a new topic" not in page


@pytest.mark.parametrize("role", WHO)
def test_after_the_closing_every_channel_says_it_has_closed(client, auth, in_session, people,
                                                            token_for, at, role):
    topic = round_topic(in_session, 1)
    at(day(21.5))
    schedule.run()
    member = people.who(role)
    response = client.post(f"/api/v1/topics/{topic.id}/posts", json={"body": "Late"},
                           headers=token_for(member))
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "closed"
    assert error["message"].startswith("This discussion closed on Friday, March 22, 2030")
    response = client.post("/api/v1/boards/risk/topics", json={"title": "Late", "body": "x"},
                           headers=token_for(member))
    assert response.get_json()["error"]["code"] == "closed"
    auth.login(member)
    response = client.post(f"/forums/topics/{topic.id}/reply", data={"body": "Late"},
                           follow_redirects=True)
    assert "This discussion closed on Friday, March 22, 2030" in response.get_data(
        as_text=True)
    page = client.get(f"/forums/topics/{topic.id}").get_data(as_text=True)
    assert "This discussion closed on" in page and 'id="reply-form"' not in page
    # The service (which the email gateway calls) refuses the same way.
    with pytest.raises(Forbidden, match="This discussion closed on"):
        forums.create_reply(member, topic, "By email, late")


def test_in_session_posting_works_on_every_channel(client, auth, in_session, people, token_for):
    topic = round_topic(in_session, 1)
    response = client.post(f"/api/v1/topics/{topic.id}/posts", json={"body": "From the API"},
                           headers=token_for(people.participant))
    assert response.status_code == 201 and response.get_json()["source"] == "api"
    auth.login(people.participant2)
    response = client.post(f"/forums/topics/{topic.id}/reply", data={"body": "From the web"})
    assert response.status_code == 302
    assert forums.create_reply(people.participant, topic, "From email",
                               source="email").status == "published"


def test_a_locked_round_refuses_replies_from_participants_but_not_moderators(in_session,
                                                                             people):
    item = next(r for r in in_session.rounds if r.number == 1)
    agenda.set_round_locked(people.moderator, item, True)
    with pytest.raises(Forbidden, match="locked"):
        forums.create_reply(people.participant, item.topic, "Can I?")
    assert forums.create_reply(people.moderator, item.topic, "Closing remark").status == \
        "published"
