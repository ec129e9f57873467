"""Times as readers see them, one style across the hub, cheaply.

The style: a time in the past week reads relative ("3 hours ago", "just now"); older and
future times read absolute in the reader's zone and language. Every `<time>` carries the
machine-readable instant (`datetime`) and, on hover, the exact time in the reader's zone
(`title`). The text is worked out when the page is rendered, with no script: a page kept
for many readers (`forums.cache`) is at most HUB_FORUM_PAGE_CACHE seconds old (60), so
its relative texts are at most that far behind, which their own rounding ("3 hours")
already allows; the cache needs no time in its keys, and pages read the same without
JavaScript.

Absolute times are to the minute: "medium" is the language's medium date and short time
("Dec 3, 2026, 2:05 PM"), as Babel joins them; seconds are noise on a page (the instant
is in `datetime`). Babel formats a time in about 0.1 ms; a board page shows some sixty.
A page's times fall on few dates and few minutes, so the date part is formatted once
per (language, date) and the time part once per (language, hour, minute), then joined by
the language's own pattern: what Babel prints, at the cost of a dictionary look-up.
Relative texts are few (a count per unit) and kept the same way.
One `Dates` per request holds the reader's language and zone (`dates()`).

Imports Flask, Flask-Babel and `hub.clock`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, format_timedelta
from flask import g, has_request_context
from flask_babel import get_locale, get_timezone, gettext
from markupsafe import Markup, escape

from hub import clock

RELATIVE_FOR = timedelta(days=7)
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60))


@lru_cache(maxsize=16)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@lru_cache(maxsize=8192)
def _date_part(locale: str, fmt: str, day: date) -> str:
    return format_date(day, fmt, locale=_locale(locale))


@lru_cache(maxsize=8192)
def _time_part(locale: str, fmt: str, hour: int, minute: int) -> str:
    return format_time(time(hour, minute), fmt, locale=_locale(locale))


@lru_cache(maxsize=1024)
def _relative(locale: str, unit: str, count: int) -> str:
    return format_timedelta(timedelta(seconds=-count * dict(_UNITS)[unit]), threshold=1,
                            add_direction=True, granularity=unit, locale=_locale(locale))


def _join(pattern: str, time_part: str, date_part: str) -> str:
    # As Babel joins them (babel.dates.format_datetime).
    return str(pattern).replace("'", "").replace("{0}", time_part).replace("{1}", date_part)


@lru_cache(maxsize=16)
def _zone(name: str) -> tzinfo:
    return ZoneInfo(name)


class Dates:
    """Formats times for one reader (language, zone); one per request, which also fixes
    "now" for the request, so a page's times agree with each other."""

    def __init__(self, locale: str, zone: str) -> None:
        self.locale, self.zone_name = locale, zone
        self.zone = _zone(zone)
        self.patterns = _locale(locale).datetime_formats
        self.now = clock.now()
        self._just_now: str | None = None

    def local(self, value: datetime) -> datetime:
        return _aware(value).astimezone(self.zone)

    def absolute(self, value: datetime, fmt: str = "medium") -> str:
        """The time in the reader's zone: for "short" what `babel.dates.format_datetime`
        prints, for "medium" the medium date with the short time, for "long" and "full"
        Babel's own (with the zone)."""
        return self._absolute(self.local(value), fmt)

    def _absolute(self, here: datetime, fmt: str) -> str:
        if fmt not in ("short", "medium"):  # long and full times name the zone: Babel does
            return format_datetime(here, fmt, tzinfo=self.zone, locale=_locale(self.locale))
        return _join(self.patterns[fmt],
                     _time_part(self.locale, "short", here.hour, here.minute),
                     _date_part(self.locale, fmt, here.date()))

    def exact(self, value: datetime) -> str:
        """The hover text: date and time to the minute, and the zone."""
        return self._exact(self.local(value))

    def _exact(self, here: datetime) -> str:
        return _join(self.patterns["medium"],
                     _time_part(self.locale, "short", here.hour, here.minute),
                     _date_part(self.locale, "medium", here.date())) + f" ({self.zone_name})"

    def relative(self, value: datetime, now: datetime | None = None) -> str | None:
        """"3 hours ago" for a time in the past week, "just now" in its first minute,
        else None."""
        age = (now or self.now) - _aware(value)
        if age < _ZERO or age >= RELATIVE_FOR:
            return None
        seconds = int(age.total_seconds())
        for unit, size in _UNITS:
            if seconds >= size:
                return _relative(self.locale, unit, seconds // size)
        if self._just_now is None:
            self._just_now = gettext("just now")
        return self._just_now

    def text(self, value: datetime, fmt: str = "medium") -> str:
        """The hub's style: relative in the past week, else absolute."""
        return self.relative(value) or self.absolute(value, fmt)

    def tag(self, value: datetime | None, fmt: str = "medium") -> Markup:
        """`<time>` with the instant, the exact local time on hover and the text."""
        if value is None:
            return Markup("")
        aware = _aware(value)
        here = aware.astimezone(self.zone)
        text = self.relative(aware) or self._absolute(here, fmt)
        return Markup(f'<time datetime="{aware.isoformat()}" '
                      f'title="{escape(self._exact(here))}">{escape(text)}</time>')


_ZERO = timedelta(0)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def dates() -> Dates:
    """This request's formatter (the reader's language and zone)."""
    locale, zone = get_locale(), get_timezone()
    if not has_request_context():
        return Dates(str(locale or "en"), str(zone or "UTC"))
    kept = g.get("_hub_dates")
    # Flask-Babel keeps its choice on the request; force_locale (mail) switches it.
    if kept is None or kept[0] is not locale or kept[1] is not zone:
        kept = g._hub_dates = (locale, zone, Dates(str(locale or "en"), str(zone or "UTC")))
    return kept[2]


def time_tag(value: datetime | None, fmt: str = "medium") -> Markup:
    return dates().tag(value, fmt)
