"""Languages and time zones: the member's choice, else the browser's, else English / UTC.

Every user-facing string goes through Flask-Babel; catalogs live in `translations/`.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import format_date, get_locale, get_timezone, get_translations
from flask_login import current_user

from hub import clock, countries, dates

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


@cache
def _zones() -> frozenset[str]:
    return frozenset(z for z in available_timezones() if "/" in z or z == "UTC")


@cache
def _sorted_zones() -> tuple[str, ...]:
    return tuple(sorted(_zones()))


def timezones() -> list[str]:
    return list(_sorted_zones())


def is_timezone(name: str | None) -> bool:
    """Asked on every signed-in request (the member's zone): a set lookup, not a sort."""
    return bool(name) and name in _zones()


def localtime(value: datetime | None, fmt: str = "medium") -> str:
    """A stored UTC time in the reader's zone and language."""
    if value is None:
        return ""
    return dates.dates().absolute(value, fmt)


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


def catalog() -> Any:
    """The current catalog, looked up once per locale in a request or job.

    Flask-Babel finds the catalog anew for every string (several context look-ups each);
    a topic page translates some 150 strings. The catalog is kept beside the locale it
    belongs to, so `force_locale` (mail in the recipient's language) still switches it.
    """
    locale = getattr(g.get("_flask_babel"), "babel_locale", None)
    if locale is None:  # not chosen yet in this context: Flask-Babel chooses it
        return get_translations()
    kept = g.get("_hub_catalog")
    if kept is not None and kept[0] is locale:
        return kept[1]
    found = get_translations()
    g._hub_catalog = (locale, found)
    return found


def init_app(app: Flask) -> None:
    # Templates translate through `catalog()`; Jinja's i18n extension still does the
    # escaping and the %(name)s formatting (newstyle), as Flask-Babel set it up.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: catalog().ugettext(s),
        ngettext=lambda s, p, n: catalog().ungettext(s, p, n),
        pgettext=lambda c, s: catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalog().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["localdate"] = localdate
    app.jinja_env.filters["isotime"] = isotime
    app.jinja_env.globals["time_tag"] = dates.time_tag
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["tz_name"] = tz_name
    app.jinja_env.globals["ZoneInfo"] = ZoneInfo
    app.jinja_env.globals["country_name"] = lambda code: countries.country_name(
        code, str(get_locale() or "en"))

    @app.context_processor
    def locale_context() -> dict[str, str]:
        return {"current_locale": str(get_locale() or "en")}
