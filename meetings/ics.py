"""iCalendar (RFC 5545) for meetings: one event per meeting, a feed of many, and the
METHOD:REQUEST invitation mail carries. Times are written in UTC (a "Z" form needs no
VTIMEZONE, and every client shows them in its own zone); the meeting's own zone is named
in X-WR-TIMEZONE and in the description. Lines are escaped and folded at 75 octets as
the RFC asks. Imports `hub`, `forums`, `meetings`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import current_app

from hub import clock, markup
from meetings import services
from meetings.models import Meeting

PRODID = "-//Biosafety Capacity-Building Network//Meetings//EN"


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _fold(line: str) -> str:
    """Fold a content line at 75 octets without cutting a UTF-8 character."""
    out, current, size = [], "", 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)


def _utc(value: datetime) -> str:
    return clock.aware(value).strftime("%Y%m%dT%H%M%SZ")


def uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.id}@{current_app.config['HUB_MAIL_DOMAIN']}"


def _event(meeting: Meeting, method: str | None) -> list[str]:
    url = services.meeting_url(meeting)
    where = ", ".join(x for x in (meeting.venue, meeting.online_url) if x)
    about = markup.to_text(meeting.description_html) if meeting.description_html else ""
    description = "\n\n".join(x for x in (about, url, meeting.online_url) if x)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid(meeting)}",
        f"DTSTAMP:{_utc(clock.now())}",
        f"DTSTART:{_utc(meeting.starts_at)}",
        f"DTEND:{_utc(meeting.ends_at)}",
        f"SEQUENCE:{meeting.sequence or 0}",
        f"SUMMARY:{_escape(meeting.title)}",
        f"URL:{url}",
        f"STATUS:{'CANCELLED' if meeting.cancelled_at else 'CONFIRMED'}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{_escape(description)}")
    if where:
        lines.append(f"LOCATION:{_escape(where)}")
    if method in {"REQUEST", "CANCEL"}:
        organizer = current_app.config["MAIL_DEFAULT_SENDER"]
        address = organizer.rsplit("<", 1)[-1].rstrip(">").strip()
        lines.append(f"ORGANIZER;CN={_escape(current_app.config.get('HUB_NAME', 'Hub'))}"
                     f":mailto:{address}")
    lines.append("END:VEVENT")
    return lines


def calendar(meetings: Iterable[Meeting], name: str = "", method: str | None = None,
             attendee: str | None = None) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    if method:
        lines.append(f"METHOD:{method}")
    if name:
        lines.append(f"X-WR-CALNAME:{_escape(name)}")
    items = list(meetings)
    if len(items) == 1:
        lines.append(f"X-WR-TIMEZONE:{items[0].timezone}")
    for meeting in items:
        event = _event(meeting, method)
        if attendee:
            event.insert(-1, f"ATTENDEE;RSVP=FALSE;PARTSTAT=ACCEPTED:mailto:{attendee}")
        lines.extend(event)
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def invitation(meeting: Meeting, email: str) -> str:
    """The object an invitation or confirmation mail carries: METHOD:REQUEST, or
    METHOD:CANCEL once the meeting is called off (calendars then remove the event)."""
    method = "CANCEL" if meeting.cancelled_at is not None else "REQUEST"
    return calendar([meeting], method=method, attendee=email)
