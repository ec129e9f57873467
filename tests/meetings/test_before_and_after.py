"""Before the meeting: submissions, the deadline, the pre-meeting document and its
reminders; after it: recommendations, progress, owners' reminders, the trackers and
the proceedings filed in the registry. Reminders run as the worker runs them, twice,
to show they are sent once."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest

from hub import clock, events, links
from hub.errors import Conflict, Forbidden
from meetings import followup, registration, reminders, submissions
from meetings.models import Reminder
from tests.meetings.conftest import STARTS, T0


def _rec(people, meeting, **kw):
    data = {"text": "Compile the national guidelines.", "owner_email": people.bob.email,
            "due_on": T0.date() + timedelta(days=30), **kw}
    return followup.add_recommendation(people.organizer, meeting,
                                       followup.RecommendationData(**data))


def test_participants_submit_until_the_deadline(client, auth, people, workshop):
    registration.register(people.alice, workshop)
    with pytest.raises(Forbidden):
        submissions.submit(people.bob, workshop, "work_plan", "Our plan.")
    auth.login(people.alice)
    client.post(f"/meetings/{workshop.slug}/submit", data={
        "kind": "work_plan", "body": "Two trainings in **2030**."})
    page = client.get(f"/meetings/{workshop.slug}/pre-meeting").get_data(as_text=True)
    assert "<strong>2030</strong>" in page and "Alicia Ruiz" in page
    pdf = client.get(f"/meetings/{workshop.slug}/pre-meeting.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    auth.logout()
    auth.login(people.outsider)
    assert client.get(f"/meetings/{workshop.slug}/pre-meeting").status_code == 404
    clock.freeze(workshop.submission_deadline)
    with pytest.raises(Conflict):
        submissions.submit(people.alice, workshop, "activities", "Late.")


def test_submission_reminders_go_once_to_those_who_have_not_submitted(
        people, workshop, smtp, run_jobs):
    registration.register(people.alice, workshop)
    registration.register(people.bob, workshop)
    submissions.submit(people.alice, workshop, "activities", "Done.")
    run_jobs()
    smtp.clear()
    clock.freeze(workshop.submission_deadline - timedelta(days=2))
    reminders.periodic()
    reminders.periodic()  # a second worker round, or a second worker
    run_jobs()
    assert smtp.to(people.alice.email) == []
    [mail] = smtp.to(people.bob.email)
    assert "soumission" in mail["Subject"].lower() or "contribution" in mail["Subject"].lower()


def test_start_reminders_once_per_participant_in_their_language(people, workshop, smtp,
                                                                run_jobs):
    registration.register(people.alice, workshop)
    registration.register(people.bob, workshop)
    run_jobs()
    smtp.clear()
    clock.freeze(STARTS - timedelta(hours=20))
    assert reminders.remind_start() == 1
    assert reminders.remind_start() == 0
    run_jobs()
    assert len(smtp.to(people.alice.email)) == 1 and len(smtp.to(people.bob.email)) == 1
    assert "Recordatorio" in smtp.to(people.alice.email)[0]["Subject"]
    assert "Rappel" in smtp.to(people.bob.email)[0]["Subject"]


def test_a_claimed_reminder_is_not_sent_by_another_worker(people, workshop, smtp, run_jobs):
    """The other worker committed its claim first: this one sends nothing."""
    from hub.extensions import db

    registration.register(people.alice, workshop)
    run_jobs()
    smtp.clear()
    db.session.add(Reminder(meeting_id=workshop.id, key="start"))
    db.session.commit()
    clock.freeze(STARTS - timedelta(hours=2))
    assert reminders._send_once(workshop, "start", [people.alice], lambda m: None) is False
    reminders.periodic()
    run_jobs()
    assert smtp.to(people.alice.email) == []


def test_recommendations_progress_and_the_trackers(client, auth, people, workshop):
    rec = _rec(people, workshop)
    org = _rec(people, workshop, owner_email="", owner_organization="ABNE",
               due_on=T0.date() - timedelta(days=1))
    assert followup.overdue(org) and not followup.overdue(rec)
    with pytest.raises(Forbidden):
        followup.add_progress(people.carol, rec, "Not mine.")
    auth.login(people.bob)
    client.post(f"/meetings/{workshop.slug}/recommendations/{rec.id}/progress",
                data={"body": "Eight countries sent theirs.", "status": "in_progress"})
    client.post(f"/meetings/{workshop.slug}/recommendations/{rec.id}/progress",
                data={"body": "", "status": "done"})
    auth.logout()
    from hub.extensions import db

    db.session.expire_all()
    assert rec.status == "done" and len(rec.notes) == 2
    page = client.get(f"/meetings/{workshop.slug}/followup").get_data(as_text=True)
    assert "Eight countries sent theirs." in page and "Bob Martin" in page
    across = client.get("/meetings/followup?status=done").get_data(as_text=True)
    assert "Compile the national guidelines." in across and "ABNE" not in across
    api = client.get("/api/v1/meetings/recommendations?owner=abne").get_json()["items"]
    assert [r["owner_organization"] for r in api] == ["ABNE"] and api[0]["overdue"]


def test_owners_are_reminded_before_the_due_date_and_when_overdue(people, workshop, smtp,
                                                                  run_jobs):
    rec = _rec(people, workshop, due_on=T0.date() + timedelta(days=5))
    assert reminders.remind_owners() == 1
    assert reminders.remind_owners() == 0
    clock.freeze(T0 + timedelta(days=6))
    assert reminders.remind_owners() == 1
    followup.add_progress(people.bob, rec, "Done at last.", "done")
    clock.freeze(T0 + timedelta(days=8))
    assert reminders.remind_owners() == 0
    run_jobs()
    subjects = [m["Subject"] for m in smtp.to(people.bob.email)]
    assert len(subjects) == 2 and any("retard" in s.lower() for s in subjects)


def test_publishing_the_proceedings_files_a_meeting_report(app, people, workshop):
    received = []

    def listener(sender, event, **_kw):
        received.append(event)

    events.proceedings_published.connect(listener)
    try:
        followup.save_proceedings(people.organizer, workshop, "We agreed on three things.")
        with pytest.raises(Conflict):
            followup.publish(people.organizer, workshop)  # not over yet
        clock.freeze(workshop.ends_at + timedelta(hours=1))
        followup.publish(people.organizer, workshop)
    finally:
        events.proceedings_published.disconnect(listener)
    [event] = received
    assert event.report_type == "meeting_report" and event.countries == ("KE",)
    assert event.key == f"meeting:{workshop.slug}" and "risk-assessment" in event.thematic_areas
    from hub.extensions import db
    from hub.registry.models import Record

    report = db.session.scalar(db.select(Record).where(Record.external_id == event.key))
    assert report is not None and report.state == "published"


def test_meeting_and_feeds_are_valid_icalendar(client, auth, people, workshop, make_meeting):
    private = make_meeting(visibility="members", title="Members; only, meeting")
    public = icalendar.Calendar.from_ical(client.get("/meetings/calendar.ics").data)
    assert [str(e["SUMMARY"]) for e in public.walk("VEVENT")] == [workshop.title]
    one = client.get(f"/meetings/{workshop.slug}/meeting.ics")
    assert one.mimetype == "text/calendar"
    [event] = icalendar.Calendar.from_ical(one.data).walk("VEVENT")
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(days=2)
    registration.register(people.bob, private)
    token = links.make("meetings-feed", people.bob)
    mine = icalendar.Calendar.from_ical(client.get(f"/meetings/feeds/{token}.ics").data)
    assert [str(e["SUMMARY"]) for e in mine.walk("VEVENT")] == ["Members; only, meeting"]
    assert client.get("/meetings/feeds/forged.ics").status_code == 404
    people.bob.set_password("another long password")
    from hub.extensions import db

    db.session.commit()
    assert client.get(f"/meetings/feeds/{token}.ics").status_code == 404
