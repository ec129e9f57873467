"""Registration by web, API and email: confirmation mail with the iCalendar REQUEST (on
a real SMTP socket), approval, the capacity limit and the waiting list's promotion."""

from __future__ import annotations

import icalendar
import pytest

from hub import events
from meetings import registration


def _status(meeting, member):
    return registration.registration_of(member, meeting).status


def test_web_registration_mails_the_event_to_add_to_a_calendar(client, auth, people, workshop,
                                                               smtp, run_jobs):
    auth.login(people.alice)
    client.post(f"/meetings/{workshop.slug}/register", data={"note": ""})
    assert _status(workshop, people.alice) == "confirmed"
    run_jobs()
    [message] = smtp.to(people.alice.email)
    assert "Nairobi risk assessment workshop" in message["Subject"]
    parts = {p.get_content_type(): p for p in message.walk()}
    calendar_part = parts["text/calendar"]
    assert calendar_part.get_param("method") == "REQUEST"
    parsed = icalendar.Calendar.from_ical(calendar_part.get_content())
    assert parsed["METHOD"] == "REQUEST"
    [event] = parsed.walk("VEVENT")
    assert event["SUMMARY"] == "Nairobi risk assessment workshop"
    assert event.decoded("DTSTART").isoformat() == "2030-03-11T12:00:00+00:00"
    assert "alice@example.org" in str(event["ATTENDEE"])
    # In Alicia's language and zone (Buenos Aires, UTC-3), and the meeting's own (UTC+3).
    text = parts["text/plain"].get_content()
    assert "Su plaza" in text and "11 de marzo de 2030, 9:00" in text
    assert "15:00 (Africa/Nairobi)" in text


def test_full_meetings_keep_a_waiting_list_and_promote_in_order(people, workshop, smtp,
                                                                run_jobs):
    for m in (people.alice, people.bob, people.carol, people.outsider):
        registration.register(m, workshop)
    assert [_status(workshop, m) for m in (people.alice, people.bob, people.carol,
                                          people.outsider)] == [
        "confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert registration.places_left(workshop) == 0
    run_jobs()
    smtp.clear()
    registration.cancel(people.bob, workshop)
    assert _status(workshop, people.carol) == "confirmed"
    assert _status(workshop, people.outsider) == "waitlisted"
    assert registration.is_participant(people.carol, workshop)
    assert not registration.is_participant(people.bob, workshop)
    run_jobs()
    [promoted] = smtp.to(people.carol.email)
    assert "text/calendar" in {p.get_content_type() for p in promoted.walk()}


def test_approval_waits_for_the_organizers(people, make_meeting, smtp, run_jobs):
    meeting = make_meeting(requires_approval=True, capacity=1)
    registration.register(people.alice, meeting, "I lead our team.")
    registration.register(people.bob, meeting)
    run_jobs()
    assert smtp.to(people.organizer.email)  # told there is someone to approve
    rows = registration.registrations(meeting)
    registration.approve(people.organizer, rows[0])
    registration.approve(people.organizer, rows[1])
    assert [r.status for r in registration.registrations(meeting)] == ["confirmed",
                                                                        "waitlisted"]
    with pytest.raises(Exception) as refused:
        registration.approve(people.outsider, rows[0])
    assert getattr(refused.value, "status", None) == 403


def test_group_meetings_refuse_outsiders(people, make_meeting):
    from hub.errors import Conflict

    meeting = make_meeting(visibility="group", group="liaison")
    with pytest.raises(Conflict):
        registration.register(people.bob, meeting)
    assert registration.register(people.alice, meeting).status == "confirmed"


def test_api_registration_and_errors(client, people, workshop, token_for):
    headers = token_for(people.bob)
    response = client.post(f"/api/v1/meetings/{workshop.slug}/registrations", json={},
                           headers=headers)
    assert response.status_code == 201 and response.get_json()["status"] == "confirmed"
    again = client.post(f"/api/v1/meetings/{workshop.slug}/registrations", json={},
                        headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "registered"
    anonymous = client.post(f"/api/v1/meetings/{workshop.slug}/registrations", json={})
    assert anonymous.status_code == 401
    assert client.get("/api/v1/meetings/nope").status_code == 404
    cancelled = client.delete(f"/api/v1/meetings/{workshop.slug}/registrations/mine",
                              headers=headers)
    assert cancelled.get_json()["status"] == "cancelled"


def test_email_registration_through_the_event(app, people, workshop):
    """listserv sends `registration_requested` for `register` to SLUG-request@."""
    request = events.RegistrationRequest(board_id=workshop.board_id,
                                         member_id=people.bob.id, source="email")
    replies = [r for _, r in events.registration_requested.send(app, event=request)
               if r is not None]
    assert [r.status for r in replies] == ["registered"]
    assert "enregistr" in replies[0].message.lower() or "inscri" in replies[0].message.lower()
    assert _status(workshop, people.bob) == "confirmed"
    assert registration.registration_of(people.bob, workshop).source == "email"
    again = [r for _, r in events.registration_requested.send(app, event=request) if r]
    assert again[0].status == "already"
    other = events.RegistrationRequest(board_id=999_999, member_id=people.bob.id)
    assert [r for _, r in events.registration_requested.send(app, event=other) if r] == []


def test_email_registration_for_a_full_meeting_is_waitlisted(app, people, workshop):
    for m in (people.alice, people.carol):
        registration.register(m, workshop)
    request = events.RegistrationRequest(board_id=workshop.board_id, member_id=people.bob.id)
    [reply] = [r for _, r in events.registration_requested.send(app, event=request) if r]
    assert reply.status == "waitlisted"


def test_cancelling_a_meeting_tells_everyone_and_removes_the_event(
        client, auth, people, workshop, smtp, run_jobs):
    from datetime import timedelta

    from hub import clock
    from meetings import reminders

    registration.register(people.alice, workshop)
    registration.register(people.bob, workshop)
    registration.register(people.carol, workshop)  # on the waiting list
    run_jobs()
    smtp.clear()
    auth.login(people.organizer)
    client.post(f"/meetings/{workshop.slug}/cancel", data={"reason": ""})
    assert workshop.cancelled_at is None
    client.post(f"/meetings/{workshop.slug}/cancel", data={"reason": "The venue closed."})
    run_jobs()
    for member in (people.alice, people.bob, people.carol):
        [mail] = smtp.to(member.email)
        assert "The venue closed." in mail.get_body(("plain",)).get_content()
        [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
        assert part.get_param("method") == "CANCEL"
        parsed = icalendar.Calendar.from_ical(part.get_content())
        assert str(parsed.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    with pytest.raises(Exception) as refused:
        registration.register(people.outsider, workshop)
    assert getattr(refused.value, "status", None) == 409
    smtp.clear()
    clock.freeze(workshop.starts_at - timedelta(hours=2))
    reminders.periodic()
    run_jobs()
    assert smtp.messages == []
