"""The hub's one style for times (hub/dates.py): relative within a week, absolute to the
minute beyond it, in the reader's zone and language, with the exact time on hover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_date, format_time

from hub import clock
from hub.dates import Dates

NOW = datetime(2026, 12, 3, 14, 5, 37, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.mark.parametrize("locale", ["en", "es", "fr"])
def test_absolute_times_are_to_the_minute_in_the_readers_zone(locale):
    d = Dates(locale, "Africa/Nairobi")  # UTC+3
    when = datetime(2026, 10, 1, 9, 41, 52, tzinfo=UTC)
    text = d.absolute(when)
    assert format_time(datetime(2026, 10, 1, 12, 41).time(), "short", locale=locale) in text
    assert format_date(when.date(), "medium", locale=locale) in text
    assert ":52" not in text and "41:52" not in text


def test_a_naive_stored_time_is_utc():
    d = Dates("en", "America/Lima")  # UTC-5
    assert d.absolute(datetime(2026, 10, 1, 9, 41)) == "Oct 1, 2026, 4:41\u202fAM"


def test_the_past_week_reads_relative_and_older_absolute():
    d = Dates("en", "UTC")
    assert d.text(NOW - timedelta(seconds=20)) == "just now"
    assert d.text(NOW - timedelta(hours=3, minutes=5)) == "3 hours ago"
    assert d.text(NOW - timedelta(days=6, hours=23)) == "6 days ago"
    assert d.text(NOW - timedelta(days=8)) == "Nov 25, 2026, 2:05\u202fPM"
    # Future times are absolute, whatever their distance.
    assert d.text(NOW + timedelta(hours=1)) == "Dec 3, 2026, 3:05\u202fPM"


def test_the_tag_carries_the_instant_and_the_exact_time_in_the_zone():
    d = Dates("fr", "Europe/Paris")
    tag = d.tag(datetime(2026, 1, 15, 8, 30, 12, tzinfo=UTC))
    assert 'datetime="2026-01-15T08:30:12+00:00"' in tag
    assert 'title="15 janv. 2026, 09:30 (Europe/Paris)"' in tag
    assert ">15 janv. 2026, 09:30</time>" in tag
    assert d.tag(None) == ""


def test_long_formats_name_the_zone_as_babel_does():
    text = Dates("en", "Asia/Manila").absolute(datetime(2026, 1, 15, 8, 30, tzinfo=UTC), "full")
    assert text.startswith("Thursday, January 15, 2026") and "4:30:00" in text
