"""Coordination meetings and workshops: roundtables, workshops, consultations,
liaison-group meetings and webinars at national, regional and global level, with their
calendar, registration, participants' submissions before and recommendations after.
Imports `hub` and `forums`.

A meeting is a place for `hub.access` (visibility, group, organizers as moderator
group); its optional discussion is a forums board (kind "meeting") closed to its
participants, so it is a mailing list like every board. Email registration
(`SLUG-request@` with `register`) arrives through `hub.events.registration_requested`,
the country page asks through `hub.events.country_page_requested`, and published
proceedings reach the registry through `hub.events.proceedings_published`.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the meetings' blueprints, listeners, periodic reminders and demo seeder."""
    from hub import events
    from meetings import (
        api,
        models,  # noqa: F401  (the tables, for migrations)
        receivers,
        reminders,
        seed,
        services,
        views,
    )

    views.init_app(app)
    api.init_app(app)
    app.extensions["hub_periodic"].append(reminders.periodic)
    app.extensions["hub_seeders"].append(seed.seed_demo)
    events.registration_requested.connect(receivers.on_registration_requested)
    events.country_page_requested.connect(receivers.on_country_page_requested)
    events.group_chair_changed.connect(services.on_group_chair_changed)
