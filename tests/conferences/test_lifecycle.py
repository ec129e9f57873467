"""The lifecycle by time alone: the status follows the clock, round topics start when
rounds open and lock when they end, and the opening, each new round and the closing
are announced by email exactly once, even with several workers."""

from __future__ import annotations

import threading
from datetime import timedelta

from conferences import agenda, editing, schedule, services
from conferences.models import Announcement, Conference
from hub import clock
from hub.extensions import db
from hub.models import Job

from .conftest import CLOSES, OPENS, ROUND2, T0, day, make, round_topic


def _mail_subjects(smtp, run_jobs) -> list[tuple[str, str]]:
    """The conference's announcements; list mail (the round's opening post reaching the
    conference's mailing list) carries a List-Id and is not counted here."""
    run_jobs()
    return [(m["To"].addresses[0].addr_spec, m["Subject"]) for m in smtp.messages
            if m["List-Id"] is None]


def test_the_status_follows_the_clock(app, people, at):
    conference = make(people)
    expected = [
        (T0 - timedelta(hours=1), services.ANNOUNCED),
        (T0, services.REGISTRATION_OPEN),
        (OPENS - timedelta(seconds=1), services.REGISTRATION_OPEN),
        (OPENS, services.IN_SESSION),
        (CLOSES - timedelta(seconds=1), services.IN_SESSION),
        (CLOSES, services.CLOSED),
    ]
    for when, state in expected:
        at(when)
        assert services.status(conference) == state, when
    at(T0 + timedelta(days=10))
    assert [r.number for r in services.current_rounds(conference)] == [1]
    at(ROUND2)
    assert [r.number for r in services.current_rounds(conference)] == [2]


def test_a_draft_is_seen_only_by_those_who_run_it(client, auth, people, at):
    at(T0)
    editing.create_conference(people.secretariat, editing.ConferenceData(
        slug="secret-plan", title="Secret plan", registration_opens_at=T0,
        opens_at=OPENS, closes_at=CLOSES, moderators=[people.moderator.email],
        announce=False))
    assert client.get("/conferences/secret-plan").status_code == 404
    assert "Secret plan" not in client.get("/conferences/").get_data(as_text=True)
    auth.login(people.outsider)
    assert client.get("/conferences/secret-plan").status_code == 404
    auth.logout()
    auth.login(people.moderator)
    page = client.get("/conferences/secret-plan").get_data(as_text=True)
    assert "Draft (not announced)" in page


def test_round_topics_start_when_rounds_open_and_lock_when_they_end(conference, at,
                                                                      people):
    at(day(6))
    schedule.run()
    assert round_topic(conference, 1) is None
    at(day(8))
    schedule.run()
    first = round_topic(conference, 1)
    assert first is not None and first.title == "Round 1: Problem formulation"
    assert not first.locked
    assert round_topic(conference, 2) is None
    at(day(14.5))
    schedule.run()
    assert round_topic(conference, 1).locked
    assert round_topic(conference, 2) is not None and not round_topic(conference, 2).locked
    at(day(22))
    schedule.run()
    assert round_topic(conference, 2).locked
    assert db.session.get(Conference, conference.id).schedule_done


def test_opening_rounds_and_closing_are_announced_once_each(conference, at, smtp, run_jobs):
    run_jobs()  # the registration mail
    smtp.clear()
    at(day(8))
    assert schedule.run() == {"risk": ["open", f"round:{conference.rounds[0].id}"]}
    assert schedule.run() == {}
    mail = _mail_subjects(smtp, run_jobs)
    # The opening carries round 1 (it opens at the same moment): one message each, to the
    # two participants and the moderator; the applicant is not a participant yet.
    assert sorted(to for to, _ in mail) == ["mod@example.org", "pat@example.org",
                                            "raj@example.org"]
    # Each in their own language: Raj reads French.
    subjects = dict(mail)
    assert subjects.pop("raj@example.org") == (
        "La conférence électronique «\xa0Risk assessment in practice\xa0» est ouverte")
    assert set(subjects.values()) == {'The e-conference "Risk assessment in practice" is open'}
    announcement = next(m for m in smtp.to("pat@example.org") if m["List-Id"] is None)
    body = announcement.get_body(("plain",)).get_content()
    # The round's question also reaches the conference's mailing list, as a list post.
    assert any(m["List-Id"] and "formulate" in m.get_body(("plain",)).get_content()
               for m in smtp.to("pat@example.org"))
    assert "Round 1: Problem formulation" in body
    assert "How do you **formulate** the problem?" in body
    # The deadline in the participant's own zone (Nairobi, UTC+3), spelled out.
    assert "Friday, March 22, 2030" in body and "Africa/Nairobi" in body
    smtp.clear()
    at(day(14.5))
    schedule.run()
    schedule.run()
    subjects = dict(_mail_subjects(smtp, run_jobs))
    assert subjects.pop("raj@example.org").startswith("Un nouveau tour commence")
    assert set(subjects.values()) == {'A new round opens in "Risk assessment in practice"'}
    assert len([m for m in smtp.messages if m["List-Id"] is None]) == 3
    smtp.clear()
    at(day(21.2))
    schedule.run()
    at(day(21.3))
    schedule.run()
    mail = _mail_subjects(smtp, run_jobs)
    subjects = dict(mail)
    assert len(mail) == 3
    assert subjects.pop("raj@example.org").endswith("est clôturée")
    assert set(subjects.values()) == {'The e-conference "Risk assessment in practice" has '
                                      'closed'}


def test_a_late_worker_skips_what_is_over_and_still_announces_the_closing(conference, at):
    at(day(21.5))
    schedule.run()
    rows = {a.key: a.sent for a in db.session.scalars(db.select(Announcement))}
    assert rows["close"] is True
    assert rows["open"] is False
    assert all(not sent for key, sent in rows.items() if key.startswith("round:"))
    closing = [j.payload["to"] for j in db.session.scalars(db.select(Job))
               if j.kind == "mail.send" and "Risk assessment in practice" in j.payload["subject"]
               and ("has closed" in j.payload["subject"] or "clôturée" in j.payload["subject"])]
    assert sorted(closing) == ["mod@example.org", "pat@example.org", "raj@example.org"]


def test_several_workers_at_once_announce_once(app, conference, at):
    at(day(8))
    errors: list[BaseException] = []

    def worker() -> None:
        with app.app_context():
            try:
                schedule.run()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    db.session.expire_all()
    keys = list(db.session.scalars(db.select(Announcement.key)))
    assert sorted(keys) == sorted(["open", f"round:{conference.rounds[0].id}"])
    opening = [j.payload["to"] for j in db.session.scalars(db.select(Job))
               if j.kind == "mail.send" and (j.payload["subject"].endswith("is open")
                                             or j.payload["subject"].endswith("est ouverte"))]
    assert sorted(opening) == ["mod@example.org", "pat@example.org", "raj@example.org"]
    assert clock.now() == day(8)


def test_extending_a_locked_round_reopens_it_and_shortening_locks_it(in_session, at,
                                                                      people, client, auth):
    from forums import services as forums

    at(day(14.5))
    schedule.run()
    item = next(r for r in in_session.rounds if r.number == 1)
    assert item.topic.locked
    agenda.update_round(people.moderator, item, agenda.RoundData(closes_at=day(16)))
    db.session.expire_all()
    assert not round_topic(in_session, 1).locked
    forums.create_reply(people.participant, round_topic(in_session, 1), "Just in time.")
    second = next(r for r in in_session.rounds if r.number == 2)
    agenda.update_round(people.moderator, second, agenda.RoundData(closes_at=day(15)))
    at(day(15.5))
    schedule.run()
    assert round_topic(in_session, 2).locked
    assert not round_topic(in_session, 1).locked
