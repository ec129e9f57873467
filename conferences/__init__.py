"""E-conferences: schedule, rounds, participants, moderation and proceedings.
Imports `hub` and `forums`.

A conference's discussion is a forums board (kind "conference", visibility "group")
whose group is the conference's participants and whose moderator group is its
moderators; its opening and closing times are the board's window. Every channel that
asks `hub.access` about the board (pages, API, files, list mail, digests) therefore
follows the conference's rules without knowing about conferences.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the conferences' blueprints, listeners, periodic task and demo seeder."""
    from conferences import (
        api,
        country,
        models,  # noqa: F401  (the tables, for migrations)
        participation,
        receivers,
        schedule,
        seed,
        views,
    )
    from hub import events, pdf

    # Where the proceedings PDF finds DejaVu Sans (Debian's fonts-dejavu-core).
    if not app.config.get("HUB_PDF_FONT_DIR"):
        app.config["HUB_PDF_FONT_DIR"] = pdf.DEFAULT_FONT_DIR
    views.init_app(app)
    api.init_app(app)
    app.extensions["hub_periodic"].append(schedule.periodic)
    app.extensions["hub_seeders"].append(seed.seed_demo)
    events.member_approved.connect(participation.on_member_approved)
    events.registration_requested.connect(receivers.on_registration_requested)
    events.country_page_requested.connect(country.country_section)
    events.group_membership_changed.connect(participation.on_group_membership_changed)
