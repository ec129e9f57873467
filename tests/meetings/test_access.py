"""Who sees which meeting (hub.access on the meeting), the calendar's filters, the chair's
moderation and the country page's section."""

from __future__ import annotations

import pytest

from hub import access, events
from hub import groups as hub_groups
from meetings import services


@pytest.mark.parametrize("visibility, who, sees", [
    ("public", None, True), ("public", "outsider", True),
    ("members", None, False), ("members", "outsider", True),
    ("group", None, False), ("group", "outsider", False), ("group", "alice", True),
    ("group", "secretariat", True),
])
def test_who_sees_a_meeting(client, people, make_meeting, visibility, who, sees, auth):
    extra = {"group": "liaison"} if visibility == "group" else {}
    meeting = make_meeting(visibility=visibility, **extra)
    if who:
        auth.login(getattr(people, who))
    page = client.get(f"/meetings/{meeting.slug}")
    assert page.status_code == (200 if sees else 404)
    listed = meeting.title.encode() in client.get("/meetings/").data
    assert listed is sees
    api = client.get("/api/v1/meetings").get_json()["items"]
    assert (meeting.slug in [m["slug"] for m in api]) is (visibility == "public")  # anonymous
    assert (meeting.slug in [m.slug for m in services.calendar(
        getattr(people, who) if who else None)]) is sees


def test_drafts_are_for_those_who_run_them(client, people, make_meeting, auth):
    meeting = make_meeting(announce=False)
    auth.login(people.outsider)
    assert client.get(f"/meetings/{meeting.slug}").status_code == 404
    auth.logout()
    auth.login(people.organizer)
    assert client.get(f"/meetings/{meeting.slug}").status_code == 200


def test_calendar_filters(people, make_meeting):
    nat = make_meeting(level="national", country="AR", theme="risk-assessment")
    glob = make_meeting(level="global", country="FR")
    ids = lambda f: [m.slug for m in services.calendar(None, f)]  # noqa: E731
    assert ids(services.Filters(level="national")) == [nat.slug]
    assert ids(services.Filters(country="fr")) == [glob.slug]
    assert ids(services.Filters(region="grulac")) == [nat.slug]
    assert ids(services.Filters(theme="risk-assessment")) == [nat.slug]


def test_the_elected_chair_moderates_the_groups_meetings_and_board(people, make_meeting):
    meeting = make_meeting(visibility="group", group="liaison", kind="liaison")
    assert not services.can_manage(people.chair, meeting)
    hub_groups.elect_chair(people.secretariat, people.liaison, people.chair)
    assert services.can_manage(people.chair, meeting)
    assert access.can_moderate(people.chair, meeting.board)  # the meeting's discussion
    assert not services.can_manage(people.alice, meeting)


def test_the_group_page_shows_its_chair(client, people, auth):
    auth.login(people.secretariat)
    client.post("/groups/liaison/chair", data={"email": people.chair.email})
    auth.logout()
    auth.login(people.alice)
    page = client.get("/groups/liaison").get_data(as_text=True)
    assert "Chidi Chair" in page and "chair" in page


def test_a_chair_must_belong_to_the_group(people):
    from hub.errors import Invalid

    with pytest.raises(Invalid):
        hub_groups.elect_chair(people.secretariat, people.liaison, people.bob)


def test_country_page_section_lists_what_the_viewer_may_see(app, people, make_meeting):
    public = make_meeting(country="KE")
    closed = make_meeting(country="KE", visibility="group", group="liaison")
    make_meeting(country="FR")

    def titles(viewer):
        replies = events.country_page_requested.send(
            app, event=events.CountryQuery(country="KE", viewer_id=viewer.id if viewer
                                           else None))
        sections = [r for _, r in replies if r is not None and r.key == "meetings"]
        return {i.title for s in sections for i in s.items}

    assert titles(None) == {public.title}
    assert titles(people.alice) == {public.title, closed.title}
