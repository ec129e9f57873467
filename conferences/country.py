"""The conferences' section of a country page: e-conferences held in or about the country
that the viewer may see. A receiver of `hub.events.country_page_requested`. Imports `hub`,
`forums`, `conferences`.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from conferences import services
from conferences.models import Conference
from hub import events
from hub.extensions import db
from hub.models import Member

MAX_ITEMS = 50


def country_section(sender: Any, event: events.CountryQuery, **_kw: Any
                    ) -> events.CountrySection | None:
    viewer = db.session.get(Member, event.viewer_id) if event.viewer_id else None
    rows = db.session.scalars(db.select(Conference).options(db.joinedload(Conference.board))
                              .order_by(Conference.opens_at.desc(), Conference.id.desc()))
    found = [c for c in rows if event.country in (c.countries or [])
             and services.can_see(viewer, c)][:MAX_ITEMS]
    if not found:
        return None
    return events.CountrySection(
        key="conferences", title=_("E-conferences"),
        items=tuple(events.CountryItem(
            title=c.title, url=services.conference_url(c), when=c.opens_at,
            detail=str(services.STATUS_LABELS.get(services.status(c), "")))
            for c in found))
