"""What meetings answer to other packages' events: email registration (`register` to
SLUG-request@, sent by listserv, which may not import meetings) and the country page.
Imports `hub`, `forums`, `meetings`.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from hub import events
from hub.errors import HubError
from hub.extensions import db
from hub.models import Member
from meetings import registration, services
from meetings.models import CONFIRMED, PENDING, WAITLISTED


def on_registration_requested(sender: Any, event: events.RegistrationRequest, **_kw: Any
                              ) -> events.RegistrationOutcome | None:
    """Boards that belong to a meeting: register the member as the web form would."""
    meeting = services.meeting_for_board(event.board_id)
    if meeting is None:
        return None
    member = db.session.get(Member, event.member_id)
    title, url = meeting.title, services.meeting_url(meeting)
    language = member.language if member is not None else "en"
    with force_locale(language):
        if member is None or not services.can_see(member, meeting):
            return events.RegistrationOutcome(
                "refused", _("You cannot register for this meeting."), title, url)
        existing = registration.registration_of(member, meeting)
        if existing is not None and existing.status in {PENDING, CONFIRMED, WAITLISTED}:
            return events.RegistrationOutcome(
                "already", _("You have registered already."), title, url)
        source = event.source if event.source in registration.SOURCES else "email"
        try:
            row = registration.register(member, meeting, event.motivation, source=source)
        except HubError as exc:
            db.session.rollback()
            closed = exc.code in {"closed", "declined"}
            return events.RegistrationOutcome("closed" if closed else "refused",
                                              exc.message, title, url)
        messages = {
            CONFIRMED: ("registered", _("You are registered; the invitation with the "
                                        "calendar entry is on its way.")),
            WAITLISTED: ("waitlisted", _("The meeting is full: you are on the waiting "
                                         "list and will be told when a place frees.")),
            PENDING: ("pending", _("Your registration waits for the organizers' "
                                   "approval.")),
        }
        status, message = messages[row.status]
        return events.RegistrationOutcome(status, message, title, url)


def on_country_page_requested(sender: Any, event: events.CountryQuery, **_kw: Any
                              ) -> events.CountrySection | None:
    """Meetings held in the country that the viewer may see."""
    query = event
    viewer = db.session.get(Member, query.viewer_id) if query.viewer_id else None
    rows = services.in_country(viewer, query.country.upper())
    if not rows:
        return None
    items = tuple(
        events.CountryItem(
            title=m.title, url=services.meeting_url(m), when=m.starts_at,
            detail=f"{services.KIND_LABELS[m.kind]} · {services.LEVEL_LABELS[m.level]}"
            + (f" · {m.venue}" if m.venue else ""))
        for m in rows)
    return events.CountrySection(key="meetings", title=_("Meetings"), items=items)
