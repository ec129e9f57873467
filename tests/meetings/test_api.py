"""The meetings' API: creating (Secretariat, a group's chair), reading, refusals as JSON
errors, recommendations and the OpenAPI listing; invitations by the organizers."""

from __future__ import annotations

import icalendar

from forums.models import Board
from hub import access
from hub import groups as hub_groups
from hub.extensions import db
from tests.meetings.conftest import ENDS, STARTS


def _body(**kw):
    return {"slug": "liaison-call", "title": "Liaison group call", "kind": "liaison",
            "level": "global", "timezone": "Europe/Paris", "starts_at": STARTS.isoformat(),
            "ends_at": ENDS.isoformat(), "visibility": "group", "group": "liaison", **kw}


def test_chairs_create_meetings_for_their_group(client, people, token_for):
    headers = token_for(people.chair)
    assert client.post("/api/v1/meetings", json=_body(), headers=headers).status_code == 403
    hub_groups.elect_chair(people.secretariat, people.liaison, people.chair)
    created = client.post("/api/v1/meetings", json=_body(), headers=headers)
    assert created.status_code == 201
    data = created.get_json()
    assert data["starts_at_local"].endswith("+01:00") and data["board"] == "liaison-call"
    other = client.post("/api/v1/meetings", json=_body(slug="x-call", group=""),
                        headers=headers)
    assert other.status_code == 403


def test_chairs_moderate_their_groups_board(people):
    board = Board(slug="liaison-forum", name="Liaison forum", visibility="group",
                  group_id=people.liaison.id)
    db.session.add(board)
    db.session.commit()
    assert not access.can_moderate(people.chair, board)
    hub_groups.elect_chair(people.secretariat, people.liaison, people.chair)
    assert access.can_moderate(people.chair, board)


def test_bad_input_gets_json_errors(client, people, token_for, workshop):
    headers = token_for(people.secretariat)
    naive = client.post("/api/v1/meetings", json=_body(starts_at="2030-03-11T09:00"),
                        headers=headers)
    assert naive.status_code == 422 and naive.get_json()["error"]["code"] == "invalid"
    backwards = client.post("/api/v1/meetings", json=_body(slug="b-call",
                                                          ends_at=STARTS.isoformat()),
                            headers=headers)
    assert backwards.status_code == 422
    taken = client.post("/api/v1/meetings", json=_body(slug=workshop.slug), headers=headers)
    assert taken.status_code == 409
    assert client.post("/api/v1/meetings", data="x", headers=headers).status_code == 422
    bad_date = client.post(f"/api/v1/meetings/{workshop.slug}/recommendations",
                           json={"text": "x", "owner_organization": "A", "due_on": "soon"},
                           headers=headers)
    assert bad_date.status_code == 422
    outsider = client.post(f"/api/v1/meetings/{workshop.slug}/recommendations",
                           json={"text": "x", "owner_organization": "A"},
                           headers=token_for(people.outsider))
    assert outsider.status_code == 403


def test_recommendations_by_api(client, people, token_for, workshop):
    headers = token_for(people.organizer)
    rec = client.post(f"/api/v1/meetings/{workshop.slug}/recommendations", json={
        "text": "Train inspectors.", "owner_email": people.bob.email, "due_on": "2030-06-01"},
        headers=headers).get_json()
    done = client.post(f"/api/v1/meetings/{workshop.slug}/recommendations/{rec['id']}/progress",
                       json={"body": "Forty trained.", "status": "done"},
                       headers=token_for(people.bob))
    assert done.status_code == 201 and done.get_json()["status"] == "done"
    listed = client.get(f"/api/v1/meetings/{workshop.slug}/recommendations").get_json()
    assert listed["items"][0]["notes"][0]["body"] == "Forty trained."


def test_the_openapi_document_lists_the_meetings(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/meetings" in paths and "post" in paths["/meetings"]
    assert "/meetings/{slug}/registrations" in paths
    assert "/meetings/{slug}/recommendations/{rec_id}/progress" in paths


def test_invitations_carry_the_event(client, auth, people, make_meeting, smtp, run_jobs):
    meeting = make_meeting(visibility="group", group="liaison")
    auth.login(people.organizer)
    refused = client.post(f"/meetings/{meeting.slug}/invite",
                          data={"emails": people.bob.email}, follow_redirects=True)
    assert "may not see this meeting" in refused.get_data(as_text=True)
    client.post(f"/meetings/{meeting.slug}/invite", data={"whole_group": "y"})
    run_jobs()
    [mail] = smtp.to(people.alice.email)
    assert mail["Subject"].startswith("Invitación")
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    [event] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    assert str(event["UID"]).startswith(f"meeting-{meeting.id}@")
    assert smtp.to(people.bob.email) == []


def test_organizers_edit_a_recommendation_on_the_page(client, auth, people, workshop):
    from meetings import followup

    rec = followup.add_recommendation(people.organizer, workshop, followup.RecommendationData(
        text="Old text.", owner_organization="ABNE"))
    auth.login(people.organizer)
    client.post(f"/meetings/{workshop.slug}/recommendations/{rec.id}", data={
        "text": "New text.", "owner_email": people.carol.email, "owner_organization": "",
        "due_on": "2030-07-01", "status": "open"})
    page = client.get(f"/meetings/{workshop.slug}/followup").get_data(as_text=True)
    assert "New text." in page and "Carol Mwangi" in page and "2030-07-01" in page
    auth.logout()
    auth.login(people.carol)  # the new owner records progress, but does not edit
    page = client.get(f"/meetings/{workshop.slug}/followup").get_data(as_text=True)
    assert "Record progress" in page and "Edit the recommendation" not in page
