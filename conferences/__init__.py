"""E-conferences: schedule, rounds, participants, moderation and proceedings.
Imports `hub` and `forums`.

A conference's discussion is a forums board (kind "conference", visibility "group")
whose group is the conference's participants and whose moderator group is its
moderators; its opening and closing times are the board's window. Every channel that
asks `hub.access` about the board (pages, API, files, list mail, digests) therefore
follows the conference's rules without knowing about conferences.
"""

from __future__ import annotations

import os

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the conferences' blueprints, listeners, periodic task and demo seeder."""
    from conferences import (
        api,
        models,  # noqa: F401  (the tables, for migrations)
        schedule,
        seed,
        services,
        views,
    )
    from hub import events, pdf

    # Where the proceedings PDF finds DejaVu Sans (Debian's fonts-dejavu-core).
    app.config.setdefault("HUB_PDF_FONT_DIR", os.environ.get("HUB_PDF_FONT_DIR")
                          or pdf.DEFAULT_FONT_DIR)
    views.init_app(app)
    api.init_app(app)
    app.extensions["hub_periodic"].append(schedule.periodic)
    app.extensions["hub_seeders"].append(seed.seed_demo)
    events.member_approved.connect(services.on_member_approved)
    events.group_membership_changed.connect(services.on_group_membership_changed)
