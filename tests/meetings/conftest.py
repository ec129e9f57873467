"""Fixtures for the meetings' tests: a frozen clock (T0 = 1 March 2030, 12:00 UTC), a
cast of people, the liaison group with its chair, and a workshop made through the
services that starts ten days after T0 in Nairobi time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from hub import clock
from hub.extensions import db
from hub.models import Group, GroupMembership, Member, Role
from meetings import services
from meetings.models import Meeting

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
STARTS = T0 + timedelta(days=10)
ENDS = T0 + timedelta(days=12)


@pytest.fixture
def at() -> Iterator[Callable[[datetime], None]]:
    clock.freeze(T0)
    yield clock.freeze
    clock.freeze(None)


@dataclass
class People:
    secretariat: Member
    organizer: Member
    alice: Member  # Spanish-speaking member in Buenos Aires
    bob: Member  # French-speaking member in Paris
    carol: Member
    outsider: Member
    chair: Member  # the liaison group's elected chair
    liaison: Group


@pytest.fixture
def people(app: Flask, at: Callable, make_member: Callable[..., Member]) -> People:
    sec = make_member("sec@example.org", name="Sec Retariat", role=Role.SECRETARIAT)
    organizer = make_member("org@example.org", name="Olga Organizer")
    alice = make_member("alice@example.org", name="Alicia Ruiz", language="es",
                        timezone="America/Argentina/Buenos_Aires", country="AR",
                        region="grulac")
    bob = make_member("bob@example.org", name="Bob Martin", language="fr",
                      timezone="Europe/Paris", country="FR", region="weog")
    carol = make_member("carol@example.org", name="Carol Mwangi", country="KE")
    outsider = make_member("out@example.org", name="Otto Outsider")
    chair = make_member("chair@example.org", name="Chidi Chair", country="NG")
    liaison = db.session.scalar(db.select(Group).where(Group.slug == "liaison"))
    if liaison is None:
        liaison = Group(slug="liaison", name="Liaison Group")
        db.session.add(liaison)
        db.session.flush()
    for m in (chair, alice):
        db.session.add(GroupMembership(group_id=liaison.id, member_id=m.id))
    db.session.commit()
    return People(sec, organizer, alice, bob, carol, outsider, chair, liaison)


@pytest.fixture
def make_meeting(people: People) -> Callable[..., Meeting]:
    counter = iter(range(1, 1000))

    def make(**fields) -> Meeting:  # noqa: ANN003
        n = next(counter)
        data = {"slug": f"workshop-{n}", "title": f"Regional workshop {n}", "kind": "workshop",
                "level": "regional", "country": "KE", "timezone": "Africa/Nairobi",
                "starts_at": STARTS, "ends_at": ENDS, "venue": "Nairobi",
                "visibility": "public", "organizers": [people.organizer.email], **fields}
        return services.create_meeting(people.secretariat, services.MeetingData(**data))

    return make


@pytest.fixture
def workshop(make_meeting: Callable[..., Meeting]) -> Meeting:
    return make_meeting(slug="nairobi-workshop", title="Nairobi risk assessment workshop",
                        theme="risk-assessment", capacity=2,
                        submission_deadline=STARTS - timedelta(days=2))
