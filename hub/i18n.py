"""Languages and time zones: the member's choice, else the browser's, else English / UTC.

Every user-facing string goes through Flask-Babel; catalogs live in `translations/`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from flask import Flask, current_app, has_request_context, request
from flask_babel import format_date, format_datetime, get_locale, get_timezone
from flask_login import current_user

from hub import clock, countries

LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français"}
LANGUAGE_COOKIE = "hub_lang"


def select_locale() -> str | None:
    if not has_request_context():  # the worker and gateway use force_locale instead
        return None
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or "en"


def select_timezone() -> str | None:
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated and is_timezone(current_user.timezone):
        return current_user.timezone
    return "UTC"


_zones: frozenset[str] | None = None


def timezones() -> list[str]:
    global _zones
    if _zones is None:
        _zones = frozenset(z for z in available_timezones() if "/" in z or z == "UTC")
    return sorted(_zones)


def is_timezone(name: str | None) -> bool:
    return bool(name) and name in set(timezones())


def localtime(value: datetime | None, fmt: str = "medium") -> str:
    """A stored UTC time in the reader's zone and language."""
    if value is None:
        return ""
    return format_datetime(clock.aware(value), fmt)


def localdate(value: datetime | None, fmt: str = "full") -> str:
    if value is None:
        return ""
    aware = clock.aware(value)
    return format_date(aware.astimezone(get_timezone()) if aware else aware, fmt)


def isotime(value: datetime | None) -> str | None:
    """ISO 8601 with offset, for the API and <time datetime>."""
    aware = clock.aware(value)
    return aware.isoformat() if aware else None


def tz_name() -> str:
    return str(get_timezone())


def init_app(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["localdate"] = localdate
    app.jinja_env.filters["isotime"] = isotime
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["tz_name"] = tz_name
    app.jinja_env.globals["ZoneInfo"] = ZoneInfo
    app.jinja_env.globals["country_name"] = lambda code: countries.country_name(
        code, str(get_locale() or "en"))

    @app.context_processor
    def locale_context() -> dict[str, str]:
        return {"current_locale": str(get_locale() or "en")}
