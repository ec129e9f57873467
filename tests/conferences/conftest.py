"""Fixtures for the conferences' tests: a frozen clock to move through a conference's
life, a cast of people, and a conference with two rounds made through the services.

The schedule (T0 = 1 March 2030, 12:00 UTC): announced a day before T0, registration
opens at T0, the conference opens at T0 + 7 days and closes at T0 + 21 days; round 1
runs days 7-14, round 2 days 14-21.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from conferences import agenda, editing, participation
from conferences.models import Conference
from forums import services as forums
from hub import clock
from hub.extensions import db
from hub.models import Member, Role

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
OPENS = T0 + timedelta(days=7)
ROUND2 = T0 + timedelta(days=14)
CLOSES = T0 + timedelta(days=21)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@pytest.fixture
def at() -> Iterator[Callable[[datetime], None]]:
    """Move the hub's clock (no sleeps); it runs again after the test."""

    def move(when: datetime) -> None:
        clock.freeze(when)

    yield move
    clock.freeze(None)


@dataclass
class People:
    secretariat: Member
    moderator: Member  # moderates this conference (a plain member otherwise)
    participant: Member
    participant2: Member
    applicant: Member  # registered, not yet approved
    outsider: Member  # an active member with nothing to do with the conference
    network_moderator: Member  # moderates the network's open boards, not this conference

    def who(self, role: str) -> Member | None:
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def people(app: Flask, make_member: Callable[..., Member]) -> People:
    return People(
        secretariat=make_member("sec@example.org", name="Sec Retariat", role=Role.SECRETARIAT,
                                country="CA", region="weog", org_type="intergovernmental"),
        moderator=make_member("mod@example.org", name="Carla Moderator", country="MX",
                              region="grulac", org_type="government",
                              organization="Instituto de Bioseguridad"),
        participant=make_member("pat@example.org", name="Wanjiru Participant", country="KE",
                                region="africa", org_type="government",
                                organization="National Biosafety Authority",
                                timezone="Africa/Nairobi"),
        participant2=make_member("raj@example.org", name="Raj Second", country="IN",
                                 region="asia_pacific", org_type="research",
                                 organization="ICAR", language="fr"),
        applicant=make_member("app@example.org", name="Olena Applicant", country="UA",
                              region="eastern_europe", org_type="ngo", language="es"),
        outsider=make_member("out@example.org", name="Otto Outsider", country="FR",
                             region="weog", org_type="donor"),
        network_moderator=make_member("netmod@example.org", name="Nina Netmod",
                                      role=Role.MODERATOR, country="JP", region="asia_pacific"),
    )


def make(people: People, slug: str = "risk", premoderated: bool = False,
         auto_approve: bool = False) -> Conference:
    clock.freeze(T0 - timedelta(days=1))
    conference = editing.create_conference(people.secretariat, editing.ConferenceData(
        slug=slug, title="Risk assessment in practice", theme="Learning from each other",
        description="We discuss **risk assessment**.", registration_opens_at=T0,
        opens_at=OPENS, closes_at=CLOSES, premoderated=premoderated,
        auto_approve=auto_approve, moderators=[people.moderator.email],
        contact_name="The Secretariat", contact_email="secretariat@example.org",
        keywords="risk, assessment"))
    agenda.add_round(people.moderator, conference, agenda.RoundData(
        title="Problem formulation", question="How do you **formulate** the problem?",
        opens_at=OPENS, closes_at=ROUND2))
    agenda.add_round(people.moderator, conference, agenda.RoundData(
        title="Uncertainty", question="How do you handle uncertainty?", opens_at=ROUND2,
        closes_at=CLOSES))
    return conference


@pytest.fixture
def conference(app: Flask, people: People, at: Callable[[datetime], None]) -> Conference:
    """Approved: participant, participant2; pending: applicant. Clock at T0 + 1 day."""
    conference = make(people)
    at(day(1))
    for member in (people.participant, people.participant2):
        participation.approve(people.moderator,
                              participation.apply(member, conference, "I work on it."))
    participation.apply(people.applicant, conference, "Please let me in.")
    db.session.expire_all()
    return conference


@pytest.fixture
def in_session(conference: Conference, at: Callable[[datetime], None]) -> Conference:
    """Day 8: the conference and round 1 are open; the schedule has run; one post each."""
    from conferences import schedule

    at(day(8))
    schedule.run()
    db.session.expire_all()
    return conference


def round_topic(conference: Conference, number: int):  # noqa: ANN201
    db.session.expire_all()
    item = next(r for r in conference.rounds if r.number == number)
    return item.topic


def post(member: Member, conference: Conference, number: int = 1, body: str = "My view."):
    return forums.create_reply(member, round_topic(conference, number), body)
