"""The Secretariat cancels a conference that has not closed (everyone concerned is told
why, in their language; registration, posting and the schedule's announcements stop; the
page, the list and the API say so), and deletes one made by mistake (never opened, or
nobody posted) with everything that belongs to it. Both are in the audit log."""

from __future__ import annotations

import threading

import pytest

from conferences import cancellation, editing, schedule
from conferences.models import Announcement, Conference, Registration, Round
from forums import services as forums
from forums.models import Board, Post, Topic
from hub.extensions import db
from hub.models import AuditEntry, Group, Job, Member

from .conftest import CLOSES, day, make, round_topic

REASON = "The co-sponsor withdrew its funding.\nWe hope to hold it next year."


def _audit(action: str) -> list[tuple[int | None, str]]:
    return list(db.session.execute(db.select(AuditEntry.actor_id, AuditEntry.detail)
                                   .where(AuditEntry.action == action)).all())


# Subjects in each participant's language (the cast reads English, French and Spanish).
SUBJECTS = {"is open": ("is open", "est ouverte", "está abierta"),
            "has closed": ("has closed", "est clôturée", "se ha clausurado"),
            "is cancelled": ("is cancelled", "est annulée", "está cancelada")}


def _mail_jobs(subject: str) -> list[dict]:
    return [j.payload for j in db.session.scalars(db.select(Job).order_by(Job.id))
            if j.kind == "mail.send"
            and any(part in j.payload["subject"] for part in SUBJECTS[subject])]


def test_cancelling_tells_everyone_concerned_and_stops_everything(client, auth, in_session,
                                                                 people, token_for, smtp,
                                                                 run_jobs):
    run_jobs()
    smtp.clear()
    auth.login(people.secretariat)
    page = client.get("/conferences/risk/cancel").get_data(as_text=True)
    assert "Cancelling cannot be undone" in page and 'name="csrf_token"' in page
    assert client.post("/conferences/risk/cancel", data={"reason": " "}).status_code == 422
    response = client.post("/conferences/risk/cancel", data={"reason": REASON})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/conferences/risk")

    # The registrants (also the one still waiting), participants and moderator, once each,
    # in their own language: the dates are spelled in French for Raj, Spanish for Olena.
    run_jobs()
    mail = {m["To"].addresses[0].addr_spec: m for m in smtp.messages if m["List-Id"] is None}
    assert sorted(mail) == ["app@example.org", "mod@example.org", "pat@example.org",
                            "raj@example.org"]
    assert mail["pat@example.org"]["Subject"] == (
        'The e-conference "Risk assessment in practice" is cancelled')
    bodies = {to: m.get_body(("plain",)).get_content() for to, m in mail.items()}
    assert all("The co-sponsor withdrew its funding." in b for b in bodies.values())
    assert "mars 2030" in bodies["raj@example.org"]
    assert "marzo de 2030" in bodies["app@example.org"]
    assert "March 8, 2030" in bodies["pat@example.org"]

    # The page says so and why, to anyone; the list puts it among the past ones.
    auth.logout()
    page = client.get("/conferences/risk").get_data(as_text=True)
    assert "This e-conference was cancelled" in page and "hope to hold it next year" in page
    assert "Register to take part" not in page and "Sign in to register" not in page
    listing = client.get("/conferences/").get_data(as_text=True)
    past = listing[listing.index("<h2>Past</h2>"):]
    assert "Risk assessment in practice" in past and "state-cancelled" in past
    data = client.get("/api/v1/conferences/risk").get_json()
    assert data["status"] == "cancelled" and data["cancel_reason"] == REASON
    assert data["registration_open"] is False and data["cancelled_at"]
    assert [c["slug"] for c in client.get(
        "/api/v1/conferences?status=cancelled").get_json()["items"]] == ["risk"]

    # Registration is closed, nobody posts (the moderators neither), the board is locked.
    refused = client.post("/api/v1/conferences/risk/registrations",
                          json={"motivation": "Me too"}, headers=token_for(people.outsider))
    assert refused.status_code == 409
    assert refused.get_json()["error"]["message"] == "This e-conference was cancelled."
    topic = round_topic(in_session, 1)
    assert topic.locked and db.session.get(Board, in_session.board_id).locked
    for who in (people.participant, people.moderator):
        reply = client.post(f"/api/v1/topics/{topic.id}/posts", json={"body": "Still here?"},
                            headers=token_for(who))
        assert reply.status_code == 403, reply.get_json()
    item = next(r for r in in_session.rounds if r.number == 1)
    summary = client.post(f"/api/v1/conferences/risk/rounds/{item.id}/summary",
                          json={"body": "A summary."}, headers=token_for(people.moderator))
    assert summary.status_code == 403
    changed = client.patch(f"/api/v1/conferences/risk/rounds/{item.id}",
                           json={"closes_at": day(20).isoformat()},
                           headers=token_for(people.moderator))
    assert changed.status_code == 409 and changed.get_json()["error"]["code"] == "cancelled"
    assert _audit("conference.cancel") == [(people.secretariat.id, REASON)]
    again = client.post("/api/v1/conferences/risk/cancel", json={"reason": "Twice"},
                        headers=token_for(people.secretariat))
    assert again.status_code == 409


def test_a_cancelled_conference_announces_nothing_more(client, conference, people, at,
                                                       token_for):
    response = client.post("/api/v1/conferences/risk/cancel", json={"reason": "No funds."},
                           headers=token_for(people.secretariat))
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    for when in (day(8), day(15), day(22)):
        at(when)
        assert schedule.run() == {}
    db.session.expire_all()
    assert db.session.scalars(db.select(Announcement)).all() == []
    assert all(r.topic_id is None for r in db.session.scalars(db.select(Round)))
    assert _mail_jobs("is open") == [] and _mail_jobs("has closed") == []


def test_a_worker_already_under_way_announces_nothing(app, conference, people, at,
                                                      monkeypatch):
    """The cancellation commits in another process while a worker is between reading the
    conference and claiming its opening."""
    at(day(8))
    secretariat_id, conference_id = people.secretariat.id, conference.id
    real = schedule.recipients
    errors: list[BaseException] = []
    calls: list[str] = []

    def cancelled_meanwhile(item: Conference) -> list[Member]:
        def other_process() -> None:
            with app.app_context():
                try:
                    cancellation.cancel_conference(db.session.get(Member, secretariat_id),
                                                   db.session.get(Conference, conference_id),
                                                   "Called off at the last minute.")
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        if not calls:  # the first announcement this worker prepares
            thread = threading.Thread(target=other_process)
            thread.start()
            thread.join()
        calls.append(item.slug)
        return real(item)

    monkeypatch.setattr(schedule, "recipients", cancelled_meanwhile)
    assert schedule.run() == {}
    assert errors == []
    db.session.expire_all()
    assert db.session.scalars(db.select(Announcement)).all() == []
    assert _mail_jobs("is open") == []
    assert len(_mail_jobs("is cancelled")) == 4
    assert round_topic(conference, 1).locked  # started just before; locked by cancelling


def test_who_may_cancel_and_when(client, auth, conference, people, token_for, at):
    for who in (people.moderator, people.participant):
        response = client.post("/api/v1/conferences/risk/cancel", json={"reason": "Mine"},
                               headers=token_for(who))
        assert response.status_code == 403
    auth.login(people.moderator)
    assert client.get("/conferences/risk/cancel").status_code == 403
    assert client.get("/conferences/risk/delete").status_code == 403
    auth.logout()
    for body in ({}, {"reason": 5}, {"reason": "  "}):
        response = client.post("/api/v1/conferences/risk/cancel", json=body,
                               headers=token_for(people.secretariat))
        assert response.status_code == 422 and response.get_json()["error"]["code"]
    at(CLOSES)
    response = client.post("/api/v1/conferences/risk/cancel", json={"reason": "Late"},
                           headers=token_for(people.secretariat))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "closed"


def test_deleting_a_mistake_removes_everything_that_belongs_to_it(client, auth, conference,
                                                                  people):
    editing.add_document(people.moderator, conference, "Background", "https://example.org/b")
    ids = {"board": conference.board_id, "groups": [conference.participants_group_id,
                                                    conference.moderators_group_id]}
    auth.login(people.secretariat)
    settings = client.get("/conferences/risk/edit").get_data(as_text=True)
    assert "/conferences/risk/cancel" in settings and "/conferences/risk/delete" in settings
    page = client.get("/conferences/risk/delete").get_data(as_text=True)
    assert "Delete the e-conference for good" in page
    wrong = client.post("/conferences/risk/delete", data={"confirm": "risky"})
    assert wrong.status_code == 422 and "Type the short name exactly" in wrong.get_data(
        as_text=True)
    assert db.session.scalar(db.select(Conference.id)) is not None
    response = client.post("/conferences/risk/delete", data={"confirm": "risk"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/conferences/")
    db.session.expire_all()
    assert db.session.scalars(db.select(Conference)).all() == []
    assert db.session.get(Board, ids["board"]) is None
    assert db.session.scalars(db.select(Group).where(Group.id.in_(ids["groups"]))).all() == []
    assert db.session.scalars(db.select(Registration)).all() == []
    assert db.session.scalars(db.select(Round)).all() == []
    assert [a for a, _ in _audit("conference.delete")] == [people.secretariat.id]
    assert _audit("board.delete") == [(people.secretariat.id, "risk")]
    assert client.get("/conferences/risk").status_code == 404
    make(people)  # the short name is free again


def test_deleting_after_the_opening_when_nobody_posted(client, in_session, people, token_for):
    headers = token_for(people.secretariat)
    assert client.get("/api/v1/search?q=formulate", headers=headers).get_json()["items"]
    assert client.delete("/api/v1/conferences/risk",
                         headers=token_for(people.moderator)).status_code == 403
    assert client.delete("/api/v1/conferences/risk", headers=headers).status_code == 204
    db.session.expire_all()
    assert db.session.scalars(db.select(Topic)).all() == []
    assert db.session.scalars(db.select(Post)).all() == []
    # The rounds' questions left the search index with their posts.
    assert client.get("/api/v1/search?q=formulate", headers=headers).get_json()["items"] == []
    assert client.delete("/api/v1/conferences/risk", headers=headers).status_code == 404


@pytest.mark.parametrize("kind", ["held", "published"])
def test_a_conference_where_people_posted_is_not_deleted(client, auth, in_session, people,
                                                         token_for, kind):
    if kind == "held":
        in_session.board.premoderated = True
        db.session.commit()
    post = forums.create_reply(people.participant, round_topic(in_session, 1), "My view.")
    assert post.status == kind
    response = client.delete("/api/v1/conferences/risk", headers=token_for(people.secretariat))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_deletable"
    auth.login(people.secretariat)
    page = client.get("/conferences/risk/delete").get_data(as_text=True)
    assert "People have posted in it" in page and 'name="confirm"' not in page
    assert client.post("/conferences/risk/delete", data={"confirm": "risk"}).status_code == 422
    assert db.session.scalar(db.select(Conference.id)) is not None


def test_cancel_and_delete_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/conferences/{slug}/cancel"]
    assert "delete" in paths["/conferences/{slug}"]
