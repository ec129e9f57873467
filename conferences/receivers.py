"""Answers to other packages' requests through `hub.events`: a member's registration
by email (`registration_requested`, sent by listserv for `register` to SLUG-request@).
The registration runs through the same service as the web form, so the moderators are
told, the rules on dates apply and the decision reaches the member by mail. Imports
`hub` and `conferences`.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from conferences import participation, services
from conferences.models import APPROVED, PENDING, Conference
from hub import events
from hub.errors import HubError
from hub.extensions import db
from hub.models import Member


def on_registration_requested(_sender: Any, event: events.RegistrationRequest,
                              **_kw: Any) -> events.RegistrationOutcome | None:
    """Register the member for the conference whose board this is; None for any other
    board (another receiver, or nobody, owns it)."""
    conference = db.session.scalar(db.select(Conference).where(
        Conference.board_id == event.board_id))
    member = db.session.get(Member, event.member_id)
    if conference is None or member is None:
        return None
    url = services.conference_url(conference)
    with force_locale(member.language or "en"):
        before = services.registration_of(member, conference)
        if before is not None and before.status in {PENDING, APPROVED}:
            return events.RegistrationOutcome(
                "already", _("You have registered already."), conference.title, url)
        if not event.motivation.strip():
            return events.RegistrationOutcome(
                "refused", _("Please write, below the word “register”, why you want to "
                             "take part; the moderators read it. You were not registered."),
                conference.title, url)
        try:
            registration = participation.apply(member, conference, event.motivation)
        except HubError as exc:
            db.session.rollback()
            status = "closed" if exc.code == "registration_closed" else "refused"
            return events.RegistrationOutcome(status, exc.message, conference.title, url)
        registration.source = "email"
        db.session.commit()
        if registration.status == APPROVED:
            return events.RegistrationOutcome(
                "registered", _("You are registered for “%(title)s”.",
                                title=conference.title), conference.title, url)
        return events.RegistrationOutcome(
            "pending", _("Your registration for “%(title)s” waits for the moderators; "
                         "we will email you their decision.", title=conference.title),
            conference.title, url)
