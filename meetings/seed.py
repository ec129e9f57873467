"""Demo meetings for `hub seed-demo` (registered in `app.extensions["hub_seeders"]`): a
regional workshop in Nairobi that has taken place, with participants' submissions,
published proceedings and recommendations being followed up; an upcoming liaison group
meeting chaired by the group's elected chair; and an upcoming global webinar.

Everything goes through the services; the workshop is prepared while the clock is "now"
and then moved into the past, as a finished meeting would be. Imports `hub`, `forums`,
`meetings`.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta

from forums import attachments
from hub import clock
from hub import groups as hub_groups
from hub.errors import HubError
from hub.extensions import db
from hub.models import Group, Member
from meetings import followup, registration, services, submissions
from meetings.models import Meeting, Reminder

log = logging.getLogger(__name__)


def _logo(color: tuple[int, int, int]) -> bytes:
    """A small generated logo (a disc and two bars), so the demo shows one."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 64), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((6, 6, 58, 58), fill=color)
    draw.rectangle((70, 20, 150, 28), fill=color)
    draw.rectangle((70, 36, 130, 44), fill=(150, 150, 150))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def seed_demo(members: list[Member]) -> None:
    if db.session.scalar(db.select(Meeting.id).limit(1)) is not None:
        return
    people = {m.email.split("@")[0]: m for m in members}
    now = clock.now().replace(minute=0, second=0, microsecond=0)
    try:
        _workshop(people, now)
        _liaison(people, now)
        _webinar(people, now)
    except HubError as exc:  # demo content must never stop a hub from starting
        db.session.rollback()
        log.warning("demo meetings incomplete: %s", exc.message)


def _workshop(people: dict[str, Member], now: datetime) -> None:
    sec = people["secretariat"]
    meeting = services.create_meeting(sec, services.MeetingData(
        slug="africa-risk-workshop-2026",
        title="Regional workshop on risk assessment for Africa",
        kind="workshop", level="regional", country="KE", theme="risk-assessment",
        description=("National biosafety authorities of the African region compare their "
                     "**risk assessment** practice and plan joint training, on the margins of "
                     "the regional biosafety week."),
        timezone="Africa/Nairobi", starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=12), venue="UN Gigiri complex, Nairobi",
        visibility="public", capacity=30, submission_deadline=now + timedelta(days=5),
        organizers=[sec.email, people["wanjiru"].email]))
    services.add_organizer(sec, meeting, "African Biosafety Network of Expertise",
                           "https://example.org/abne",
                           attachments.Upload("abne.png", "image/png", _logo((180, 90, 20))))
    for title in ("Opening and national updates", "Risk assessment case studies",
                  "Training needs and a joint work plan", "Recommendations"):
        services.add_agenda_item(sec, meeting, title)
    services.add_document(sec, meeting, "Concept note", "en",
                          "https://example.org/workshop-concept-note")
    services.add_document(sec, meeting, "Note conceptuelle", "fr",
                          "https://example.org/note-conceptuelle")
    texts = {
        "wanjiru": ("activities", "Kenya reviewed 14 applications this year and trained 20 "
                    "inspectors in post-release monitoring."),
        "kofi": ("work_plan", "Ghana plans two national trainings on LMO detection in 2027 "
                 "and a regional exchange of risk assessors."),
        "raj": ("collaboration", "ICAR offers places in its detection laboratory course for "
                "two African regulators a year."),
    }
    for name, (kind, body) in texts.items():
        registration.register(people[name], meeting, "I lead our national risk assessments.")
        submissions.submit(people[name], meeting, kind, body)
    registration.register(people["jean"], meeting)
    # The workshop has taken place: move it into the past, its reminders long sent.
    shift = timedelta(days=40)
    meeting.starts_at -= shift
    meeting.ends_at -= shift
    meeting.submission_deadline -= shift
    for key in ("start", "submissions"):
        db.session.add(Reminder(meeting_id=meeting.id, key=key))
    db.session.commit()
    followup.save_proceedings(sec, meeting, (
        "Twenty-four regulators from twelve countries met in Nairobi.\n\n"
        "- Practice differs most in **problem formulation**.\n"
        "- Several authorities lack staff trained in molecular detection."))
    followup.publish(sec, meeting)
    recs = [
        ("Compile national risk assessment guidelines into a shared regional library.",
         people["wanjiru"].email, "", now.date() + timedelta(days=30), "in_progress"),
        ("Organize a regional training of trainers on LMO detection.", "",
         "African Biosafety Network of Expertise", now.date() + timedelta(days=120), "open"),
        ("Nominate a focal point for the regional exchange of risk assessors.",
         people["kofi"].email, "", now.date() - timedelta(days=5), "done"),
    ]
    for text, owner, org, due, status in recs:
        rec = followup.add_recommendation(sec, meeting, followup.RecommendationData(
            text=text, owner_email=owner, owner_organization=org, due_on=due))
        if status != "open":
            author = rec.owner or sec
            followup.add_progress(author, rec, {
                "in_progress": "Eight countries have sent their guidelines so far.",
                "done": "Ghana EPA nominated its focal point on 2 November."}[status], status)


def _liaison(people: dict[str, Member], now: datetime) -> None:
    sec = people["secretariat"]
    liaison = db.session.scalar(db.select(Group).where(Group.slug == "liaison"))
    if liaison is None:
        return
    hub_groups.elect_chair(sec, liaison, people["wanjiru"])
    meeting = services.create_meeting(sec, services.MeetingData(
        slug="liaison-group-2027-1", title="Liaison group: first meeting of 2027",
        kind="liaison", level="global", timezone="Europe/Paris",
        description=("The liaison group reviews the follow-up of the regional workshops and "
                     "prepares its report. Chaired by the group's elected chairperson."),
        starts_at=now + timedelta(days=21), ends_at=now + timedelta(days=21, hours=3),
        online_url="https://meet.example.org/liaison", visibility="group", group="liaison",
        organizers=[sec.email]))
    services.add_agenda_item(sec, meeting, "Follow-up of recommendations")
    services.add_agenda_item(sec, meeting, "Work plan and report to the Parties")
    for name in ("wanjiru", "raj", "olena"):
        registration.register(people[name], meeting)


def _webinar(people: dict[str, Member], now: datetime) -> None:
    sec = people["secretariat"]
    services.create_meeting(sec, services.MeetingData(
        slug="webinar-socio-economic", title="Webinar: socio-economic considerations",
        kind="webinar", level="global", theme="socio-economic", timezone="America/Toronto",
        starts_at=now + timedelta(days=6, hours=2), ends_at=now + timedelta(days=6, hours=4),
        online_url="https://meet.example.org/sec-webinar", visibility="public", capacity=100,
        discussion=False, organizers=[sec.email]))
