"""After the closing and until the proceedings are published, the lead moderator, the
moderators and the Secretariat may still post summaries in the rounds' threads, on the
web and through the API; nobody may post anything else, and participants nothing at
all. The proceedings take those summaries in like the others."""

from __future__ import annotations

import pytest

from conferences import agenda, proceedings, schedule, services
from forums.models import Post
from hub.extensions import db

from .conftest import day, round_topic


@pytest.fixture
def closed(in_session, people, at):
    """Day 22: both rounds ran and are locked by the schedule; one summary from the
    session in round 1."""
    agenda.post_summary(people.moderator, in_session.rounds[0], "In session: goals first.")
    at(day(15))
    schedule.run()
    at(day(22))
    schedule.run()
    db.session.expire_all()
    assert services.status(in_session) == services.CLOSED
    assert round_topic(in_session, 1).locked and round_topic(in_session, 2).locked
    return in_session


def _round(conference, number):
    return next(r for r in conference.rounds if r.number == number)


def _summary_texts(item) -> list[str]:
    db.session.expire_all()
    return [p.body for p in agenda.summaries(item)]


@pytest.mark.parametrize("role", ["moderator", "secretariat"])
def test_summaries_after_the_closing_on_the_web(client, auth, closed, people, role):
    item = _round(closed, 2)
    auth.login(people.who(role))
    url = f"/conferences/risk/rounds/{item.id}/summary"
    form = client.get(url).get_data(as_text=True)
    assert "Post the summary" in form and "closed on" not in form
    response = client.post(url, data={"body": f"Late words from the {role}."})
    assert response.status_code == 302
    assert _summary_texts(item) == [f"Late words from the {role}."]
    thread = client.get(f"/forums/topics/{item.topic_id}").get_data(as_text=True)
    assert f"Late words from the {role}." in thread
    # An ordinary reply is still refused, to them too: only summaries are taken.
    reply = client.post(f"/forums/topics/{item.topic_id}/reply", data={"body": "A reply."})
    assert reply.status_code == 422 and "This discussion closed on" in reply.get_data(
        as_text=True)
    assert db.session.scalar(db.select(Post.id).where(Post.body == "A reply.")) is None


def test_participants_still_cannot_post_after_the_closing_on_the_web(client, auth, closed,
                                                                     people):
    item = _round(closed, 2)
    auth.login(people.participant)
    assert client.post(f"/conferences/risk/rounds/{item.id}/summary",
                       data={"body": "My summary."}).status_code == 403
    client.post(f"/forums/topics/{item.topic_id}/reply", data={"body": "Too late."})
    assert _summary_texts(item) == []
    assert db.session.scalar(db.select(Post.id).where(Post.body.in_(
        ["My summary.", "Too late."]))) is None


def test_summaries_after_the_closing_through_the_api(client, closed, people, token_for):
    item = _round(closed, 1)
    url = f"/api/v1/conferences/risk/rounds/{item.id}/summary"
    response = client.post(url, json={"body": "Late API summary."},
                           headers=token_for(people.moderator))
    assert response.status_code == 201
    assert response.get_json()["kind"] == "summary"
    assert response.get_json()["status"] == "published"
    refused = client.post(url, json={"body": "Mine."}, headers=token_for(people.participant))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "not_moderator"
    for who in (people.participant, people.moderator):
        reply = client.post(f"/api/v1/topics/{item.topic_id}/posts", json={"body": "Reply."},
                            headers=token_for(who))
        assert reply.status_code == 403 and reply.get_json()["error"]["code"] == "closed"
    assert _summary_texts(item) == ["In session: goals first.", "Late API summary."]


def test_the_proceedings_take_late_summaries_in_and_publishing_ends_them(client, closed,
                                                                         people, token_for):
    first, second = _round(closed, 1), _round(closed, 2)
    row = proceedings.compile_draft(people.secretariat, closed)
    assert row.summaries == {str(first.id): "In session: goals first.", str(second.id): ""}
    # Summaries posted after the draft was compiled come in when it is compiled again;
    # a text the Secretariat edited is kept, with the new summary added below it.
    proceedings.update_draft(people.secretariat, closed,
                             summaries={str(first.id): "Goals first (edited)."})
    agenda.post_summary(people.moderator, first, "Late: then the data.")
    agenda.post_summary(people.moderator, second, "Late: uncertainty is normal.")
    row = proceedings.compile_draft(people.secretariat, closed)
    assert row.summaries == {str(first.id): "Goals first (edited).\n\nLate: then the data.",
                             str(second.id): "Late: uncertainty is normal."}
    row = proceedings.compile_draft(people.secretariat, closed)  # nothing new: unchanged
    assert row.summaries[str(first.id)] == "Goals first (edited).\n\nLate: then the data."
    agenda.post_summary(people.moderator, second, "Late: and a second thought.")
    row = proceedings.compile_draft(people.secretariat, closed)
    assert row.summaries[str(second.id)] == (
        "Late: uncertainty is normal.\n\nLate: and a second thought.")
    draft = client.get("/api/v1/conferences/risk/proceedings?draft=1",
                       headers=token_for(people.secretariat)).get_json()
    assert [r["summary"] for r in draft["rounds"]] == [
        "Goals first (edited).\n\nLate: then the data.",
        "Late: uncertainty is normal.\n\nLate: and a second thought."]
    assert "compiled_summaries" not in draft

    proceedings.publish(people.secretariat, closed)
    response = client.post(f"/api/v1/conferences/risk/rounds/{second.id}/summary",
                           json={"body": "After publication."},
                           headers=token_for(people.moderator))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "closed"
