"""Times for people: the schedule in a reader's time zone, with dates spelled out.

Pages use the viewer's zone (Flask-Babel's selector); mail is rendered in the worker or
at enqueue time for many recipients, so it names each recipient's zone and language
explicitly. Imports `hub` only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from flask_babel import get_locale, get_timezone

from hub import clock
from hub.i18n import is_timezone


def _zone(name: str | None) -> Any:
    return ZoneInfo(name) if name and is_timezone(name) else UTC


def spelled(value: datetime | None, zone: Any = None, locale: str | None = None) -> str:
    """"Friday, 14 March 2025, 17:00" in the viewer's zone and language."""
    if value is None:
        return ""
    tz = zone or get_timezone()
    loc = locale or str(get_locale() or "en")
    local = clock.aware(value).astimezone(tz)
    return f"{format_date(local, 'full', locale=loc)}, {format_time(local, 'short', locale=loc)}"


def spelled_date(value: datetime | None, zone: Any = None, locale: str | None = None) -> str:
    if value is None:
        return ""
    tz = zone or get_timezone()
    loc = locale or str(get_locale() or "en")
    return format_date(clock.aware(value).astimezone(tz), "full", locale=loc)


def for_member(value: datetime | None, member: Any) -> str:
    """A time in one member's own zone and language, with the zone named (for mail)."""
    if value is None:
        return ""
    zone = _zone(getattr(member, "timezone", None))
    loc = getattr(member, "language", None) or "en"
    return f"{spelled(value, zone, loc)} ({zone})"


def short(value: datetime | None, zone: Any = None, locale: str | None = None) -> str:
    if value is None:
        return ""
    tz = zone or get_timezone()
    loc = locale or str(get_locale() or "en")
    return format_datetime(clock.aware(value).astimezone(tz), "medium", locale=loc)
