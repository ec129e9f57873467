"""The access policy on board-shaped places, and the hub's pages for every kind of visitor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from hub import access
from hub.models import MemberStatus, Role


@dataclass
class Place:
    visibility: str = "public"
    group_id: int | None = None
    posting: str = "all"
    moderator_group_id: int | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    locked: bool = False
    id: int = 1


@pytest.fixture
def people(make_member, make_group):
    p = {
        "anonymous": None,
        "applicant": make_member(status=MemberStatus.PENDING),
        "member": make_member(),
        "group member": make_member(),
        "moderator": make_member(role=Role.MODERATOR),
        "group moderator": make_member(),
        "secretariat": make_member(role=Role.SECRETARIAT),
    }
    p["group"] = make_group("closed", members=(p["group member"],))
    p["mods"] = make_group("mods", members=(p["group moderator"],))
    return p


READ = {
    # who: (public, members, group)
    "anonymous": (True, False, False),
    "applicant": (True, False, False),
    "member": (True, True, False),
    "group member": (True, True, True),
    "moderator": (True, True, False),
    "group moderator": (True, True, True),
    "secretariat": (True, True, True),
}


@pytest.mark.parametrize("who", READ)
def test_read_matrix(people, who):
    group, mods = people["group"], people["mods"]
    places = (Place("public"), Place("members"),
              Place("group", group_id=group.id, moderator_group_id=mods.id))
    assert tuple(access.can_read(people[who], p) for p in places) == READ[who]


@pytest.mark.parametrize("who,expected", [
    ("anonymous", False), ("member", False), ("group member", False),
    ("moderator", False), ("group moderator", True), ("secretariat", True)])
def test_moderation_of_a_closed_place(people, who, expected):
    place = Place("group", group_id=people["group"].id, moderator_group_id=people["mods"].id)
    assert access.can_moderate(people[who], place) is expected


def test_network_moderators_moderate_open_boards(people):
    assert access.can_moderate(people["moderator"], Place("members"))
    assert not access.can_moderate(people["member"], Place("members"))


def test_posting_window_and_its_messages(people, app):
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    place = Place("members", opens_at=start, closes_at=start + timedelta(days=14))
    member = people["member"]
    early = access.check_post(member, place, now=start - timedelta(minutes=1))
    assert not early and early.code == "not_open" and "2026" in early.message
    assert access.check_post(member, place, now=start)
    late = access.check_post(member, place, now=start + timedelta(days=14))
    assert not late and late.code == "closed"
    # Not even the Secretariat posts outside the window.
    assert not access.check_post(people["secretariat"], place, now=start - timedelta(days=1))


def test_posting_policies(people):
    announcements = Place("public", posting="moderators")
    assert access.check_post(people["member"], announcements).code == "moderators_only"
    assert access.check_post(people["moderator"], announcements)
    assert access.check_post(None, Place("public")).code == "login_required"
    assert access.check_post(people["applicant"], Place("public")).code == "login_required"
    locked = Place("members", locked=True)
    assert access.check_post(people["member"], locked).code == "locked"
    assert access.check_post(people["moderator"], locked)


PAGES = {
    # path: who may see it (others are sent to sign in, or refused)
    "/": "anonymous",
    "/rules": "anonymous",
    "/members/": "member",
    "/groups/": "member",
    "/account/": "member",
    "/account/tokens": "member",
    "/secretariat/": "secretariat",
    "/secretariat/applications": "secretariat",
    "/secretariat/members": "secretariat",
    "/secretariat/mailbox": "secretariat",
    "/secretariat/audit": "secretariat",
    "/secretariat/jobs": "secretariat",
    "/secretariat/areas": "secretariat",
    "/secretariat/invite": "secretariat",
}
RANK = {"anonymous": 0, "applicant": 0, "member": 1, "moderator": 1, "secretariat": 2}


@pytest.mark.parametrize("who", list(RANK))
@pytest.mark.parametrize("path", list(PAGES))
def test_page_matrix(app, people, who, path):
    client = app.test_client()
    if people[who] is not None:
        client.post("/login", data={"email": people[who].email,
                                    "password": "correct horse battery"})
    response = client.get(path)
    if RANK[who] >= RANK[PAGES[path]]:
        assert response.status_code == 200
    elif RANK[who] == 0:
        assert response.status_code == 302 and "/login" in response.location
    else:
        assert response.status_code == 403
