"""Participation: members apply with a motivation; moderators approve or decline with a
reason the applicant reads in their own language; invitations of members, of whole
groups and of new people, who make an account on the way in; automatic approval; the
participants group always equals the approved registrations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from conferences import participation, services
from conferences.models import Registration
from forums import subscriptions
from hub import access
from hub import groups as hub_groups
from hub.errors import Conflict
from hub.extensions import db
from hub.models import GroupMembership, Member

from .conftest import T0, day, make


def _group(conference) -> set[str]:
    rows = db.session.scalars(db.select(Member.email).join(
        GroupMembership, GroupMembership.member_id == Member.id).where(
        GroupMembership.group_id == conference.participants_group_id))
    return set(rows)


def _approved(conference) -> set[str]:
    return {r.member.email for r in services.registrations(conference, ["approved"])}


def test_apply_then_approve_by_web(client, auth, conference, people, smtp, run_jobs):
    run_jobs()
    smtp.clear()
    applicant = people.outsider
    auth.login(applicant)
    response = client.post("/conferences/risk/register",
                           data={"motivation": "I assess maize dossiers."})
    assert response.status_code == 302
    page = client.get("/conferences/risk").get_data(as_text=True)
    assert "Your registration is waiting for the moderators" in page
    assert client.get("/conferences/risk/discussion").status_code == 404
    run_jobs()
    # The moderators hear about it.
    note = smtp.to("mod@example.org")[0]
    assert "Otto Outsider" in note["Subject"]
    assert "I assess maize dossiers." in note.get_body(("plain",)).get_content()
    auth.logout()
    auth.login(people.moderator)
    queue = client.get("/conferences/risk/participants").get_data(as_text=True)
    assert "I assess maize dossiers." in queue
    registration = services.registration_of(applicant, conference)
    response = client.post(f"/conferences/risk/registrations/{registration.id}/approve")
    assert response.status_code == 302
    assert applicant.email in _group(conference)
    run_jobs()
    welcome = smtp.to(applicant.email)[-1]
    assert welcome["Subject"] == ('You are registered for the e-conference "Risk assessment in '
                                  'practice"')
    assert "risk@lists.hub.test" in welcome.get_body(("plain",)).get_content()
    auth.logout()
    auth.login(applicant)
    assert client.get("/conferences/risk/discussion").status_code == 200


def test_decline_tells_the_applicant_why_in_their_language(client, auth, conference, people,
                                                          smtp, run_jobs):
    run_jobs()
    smtp.clear()
    auth.login(people.moderator)
    registration = services.registration_of(people.applicant, conference)
    response = client.post(f"/conferences/risk/registrations/{registration.id}/decline",
                           data={"reason": "This conference is for regulators."})
    assert response.status_code == 302
    run_jobs()
    mail = smtp.to("app@example.org")[0]
    text = mail.get_body(("plain",)).get_content()
    assert "This conference is for regulators." in text
    assert text.startswith("Estimado/a Olena Applicant")  # she reads Spanish
    db.session.expire_all()
    assert services.registration_of(people.applicant, conference).status == "declined"
    auth.logout()
    auth.login(people.applicant)
    page = client.get("/conferences/risk").get_data(as_text=True)
    assert "This conference is for regulators." in page


def test_declining_needs_a_reason(client, auth, conference, people):
    auth.login(people.moderator)
    registration = services.registration_of(people.applicant, conference)
    client.post(f"/conferences/risk/registrations/{registration.id}/decline",
                data={"reason": ""})
    db.session.expire_all()
    assert services.registration_of(people.applicant, conference).status == "pending"


def test_registration_window(client, app, people, at, token_for):
    conference = make(people)
    at(T0 - timedelta(hours=2))
    response = client.post("/api/v1/conferences/risk/registrations",
                           json={"motivation": "Early bird"},
                           headers=token_for(people.outsider))
    assert response.status_code == 409
    assert response.get_json()["error"]["message"].startswith(
        "Registration opens on Friday, March 1, 2030")
    at(day(30))
    response = client.post("/api/v1/conferences/risk/registrations",
                           json={"motivation": "Latecomer"},
                           headers=token_for(people.outsider))
    assert response.get_json()["error"]["message"] == "This e-conference has closed."
    assert services.registration_of(people.outsider, conference) is None


def test_automatic_approval(app, people, at, client, token_for):
    conference = make(people, slug="auto", auto_approve=True)
    at(day(2))
    response = client.post("/api/v1/conferences/auto/registrations",
                           json={"motivation": "Count me in", "anonymous": True},
                           headers=token_for(people.outsider))
    assert response.status_code == 201
    assert response.get_json()["status"] == "approved"
    assert people.outsider.email in _group(conference)
    assert services.registration_of(people.outsider, conference).anonymous


def test_applying_twice_is_refused(conference, people):
    with pytest.raises(Conflict, match="registered already"):
        participation.apply(people.applicant, conference, "Again")


def test_invite_members_groups_and_new_people(client, auth, conference, people, smtp,
                                              run_jobs, make_group, make_member):
    run_jobs()
    smtp.clear()
    liaison_member = make_member("liaison@example.org", name="Lia Liaison")
    make_group("liaison-group", name="Liaison Group",
               members=(liaison_member, people.participant, people.moderator))
    auth.login(people.moderator)
    response = client.post("/conferences/risk/invite", data={
        "people": "out@example.org\nNew Person <new.person@example.net>\nnot-an-address",
        "group": "liaison-group"})
    page = response.get_data(as_text=True)
    assert "Invited 2 members and 1 new people." in page
    assert "not-an-address: not a valid email address" in page
    assert "pat@example.org: already a participant" in page
    assert "mod@example.org: runs this e-conference" in page
    # Already a participant (from the group): not invited again.
    invited = {r.member.email: r for r in services.registrations(conference, ["invited"])}
    assert set(invited) == {"out@example.org", "liaison@example.org", "new.person@example.net"}
    run_jobs()
    assert smtp.to("out@example.org")[0]["Subject"] == (
        'You are invited to the e-conference "Risk assessment in practice"')
    # A member accepts on the conference page.
    auth.logout()
    auth.login(people.outsider)
    assert "Accept the invitation" in client.get("/conferences/risk").get_data(as_text=True)
    client.post("/conferences/risk/registration/accept")
    assert "out@example.org" in _group(conference)
    # The new person makes an account through the hub's invitation page and comes back to
    # the conference as a participant.
    auth.logout()
    text = smtp.to("new.person@example.net")[0].get_body(("plain",)).get_content()
    link = re.search(r"http://hub\.test(/invitation/\S+)", text).group(1)
    form = client.get(link)
    assert form.status_code == 200
    response = client.post(link, data={
        "name": "New Person", "organization": "Ministry", "org_type": "government",
        "country": "GH", "language": "en", "timezone": "UTC",
        "password": "a long enough password", "confirm": "a long enough password",
        "accept_rules": "y"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/conferences/risk"
    db.session.expire_all()
    assert "new.person@example.net" in _approved(conference)
    assert "new.person@example.net" in _group(conference)
    assert client.get("/conferences/risk/discussion").status_code == 200


def test_plain_members_cannot_invite_from_a_group_they_are_not_in(conference, people,
                                                                  make_group):
    make_group("private-group", members=(people.outsider,))
    with pytest.raises(Exception, match="No group has that short name"):
        participation.invite(people.moderator, conference, "", "private-group")


def test_the_group_stays_equal_to_the_registrations(conference, people):
    group = conference.participants_group
    assert _group(conference) == _approved(conference) == {"pat@example.org",
                                                           "raj@example.org"}
    # The Secretariat edits the group directly (the groups page or API).
    hub_groups.add_to_group(people.secretariat, group, people.outsider)
    assert _approved(conference) == _group(conference)
    assert people.outsider in subscriptions.board_subscribers(conference.board, "each")
    hub_groups.remove_from_group(people.secretariat, group, people.participant)
    db.session.expire_all()
    assert _approved(conference) == _group(conference) == {"raj@example.org",
                                                           "out@example.org"}
    assert not access.can_read(people.participant, conference.board)
    participation.withdraw(people.participant2, conference)
    assert _group(conference) == _approved(conference) == {"out@example.org"}


def test_participants_choose_whether_they_are_named(client, auth, conference, people):
    auth.login(people.participant)
    client.post("/conferences/risk/registration/anonymity", data={"anonymous": "y"})
    assert db.session.scalar(db.select(Registration.anonymous).where(
        Registration.member_id == people.participant.id))
    client.post("/conferences/risk/registration/anonymity", data={})
    db.session.expire_all()
    assert not services.registration_of(people.participant, conference).anonymous
