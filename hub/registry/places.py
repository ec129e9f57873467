"""The registry by place: a country's page (its needs, the projects in it, the
opportunities open to it, the reports and resources about it, its national focal points
and members, and what other packages hold about it through
`hub.events.country_page_requested`), a region's page, the national focal points, and
the gaps and overlaps matrix (thematic area x region, or x country within a region).

Views and the API call these; access goes through `hub.access`. Imports only `hub`.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from hub import access, clock, countries, events
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.extensions import db
from hub.models import Member, MemberStatus
from hub.registry import actions, exchange, fields, search
from hub.registry.kinds import PUBLISHED
from hub.registry.models import MODELS, Facet, FocalPoint, Record
from hub.services import audit

log = logging.getLogger(__name__)

SECTION_SIZE = 10
MAX_MEMBERS = 100
# What a country's page lists, in order, and how each list is found (kind, extra filter).
COUNTRY_LISTS = ("needs", "projects", "opportunities", "reports", "resources")


def country_code(raw: str) -> str:
    code = (raw or "").strip().upper()
    if not countries.is_country(code):
        raise NotFound(_("There is no country with the code %(code)s (use ISO 3166 codes "
                         "such as KE).", code=(raw or "")[:10]))
    return code


def region_code(raw: str) -> str:
    if raw not in countries.REGIONS:
        raise NotFound(_("There is no UN regional group %(code)s (one of: %(all)s).",
                         code=(raw or "")[:40], all=", ".join(countries.REGIONS)))
    return raw


# -- focal points -----------------------------------------------------------------------------

def focal_points(country: str) -> list[Member]:
    return list(db.session.scalars(
        select(Member).join(FocalPoint, FocalPoint.member_id == Member.id)
        .where(FocalPoint.country == country, Member.status == MemberStatus.ACTIVE)
        .order_by(Member.name)))


def all_focal_points() -> list[FocalPoint]:
    return list(db.session.scalars(
        select(FocalPoint).join(Member, FocalPoint.member_id == Member.id)
        .order_by(FocalPoint.country, Member.name)))


def _member_by_email(email: str) -> Member:
    member = db.session.scalar(select(Member).where(
        func.lower(Member.email) == (email or "").strip().lower()))
    if member is None or member.status != MemberStatus.ACTIVE:
        raise Invalid(_("No active member has the address %(email)s.", email=email[:100]),
                      fields={"email": "unknown"})
    return member


def add_focal_point(actor: Member, country: str, email: str) -> Member:
    """Name a member national focal point of a country (the Secretariat)."""
    if not access.can_name_focal_points(actor):
        raise Forbidden(_("National focal points are named by the Secretariat."))
    country = country_code(country)
    member = _member_by_email(email)
    if db.session.get(FocalPoint, (country, member.id)) is not None:
        raise Conflict(_("%(name)s is already a focal point of %(country)s.",
                         name=member.name, country=countries.country_name(country, "en")))
    db.session.add(FocalPoint(country=country, member_id=member.id, created_by_id=actor.id))
    audit(actor, "registry.focal_point.add", member, country)
    db.session.commit()
    access.forget_focal_points()
    return member


def remove_focal_point(actor: Member, country: str, member_id: int) -> None:
    if not access.can_name_focal_points(actor):
        raise Forbidden(_("National focal points are named by the Secretariat."))
    row = db.session.get(FocalPoint, (country_code(country), member_id))
    if row is None:
        raise NotFound(_("That member is not a focal point of this country."))
    db.session.delete(row)
    audit(actor, "registry.focal_point.remove", row.member, row.country)
    db.session.commit()
    access.forget_focal_points()


def member_json(member: Member, viewer: Any) -> dict[str, Any]:
    data = {"id": member.id, "name": member.name, "organization": member.organization or ""}
    if access.can_see_email(viewer, member):
        data["email"] = member.email
    return data


# -- a country's page -----------------------------------------------------------------------

@dataclass
class Listing:
    kind: str
    items: list[Record]
    total: int
    url_args: dict[str, Any]


@dataclass
class CountryPage:
    code: str
    region: str | None
    lists: list[Listing]
    focal_points: list[Member]
    members: list[Member] | None  # None: the viewer may not see the directory
    sections: list[events.CountrySection] = field(default_factory=list)


def _filters(kind: str, country: str) -> search.Filters:
    f = search.Filters(kind=kind, facets={"country": (country,)})
    if kind == "opportunities":
        f.open_only = True
    return f


def country_page(viewer: Any, raw_code: str) -> CountryPage:
    code = country_code(raw_code)
    lists = []
    for kind in COUNTRY_LISTS:
        f = _filters(kind, code)
        f.state = PUBLISHED
        items = search.results(viewer, f, "deadline" if kind == "opportunities" else "",
                               limit=SECTION_SIZE)
        args = {"country": code, **({"open": "1"} if kind == "opportunities" else {})}
        lists.append(Listing(kind, items, search.count(viewer, f), args))
    members = None
    if access.is_active_member(viewer):
        rows = db.session.scalars(select(Member).where(
            Member.country == code, Member.status == MemberStatus.ACTIVE)
            .order_by(Member.name).limit(MAX_MEMBERS))
        members = [m for m in rows if access.can_view_member(viewer, m)]
    query = events.CountryQuery(country=code, viewer_id=getattr(viewer, "id", None)
                                if access.is_active_member(viewer) else None)
    sections = _sections(query)
    return CountryPage(code=code, region=countries.region_of(code), lists=lists,
                       focal_points=focal_points(code), members=members, sections=sections)


def _sections(query: events.CountryQuery) -> list[events.CountrySection]:
    """What the other packages hold about the country. One failing receiver costs its own
    section, not the page (it is logged as a fault)."""
    app = current_app._get_current_object()
    found = []
    for receiver in events.country_page_requested.receivers_for(app):
        try:
            result = receiver(app, event=query)
        except Exception:  # noqa: BLE001 - another package's fault must not break the page
            log.exception("country page section %r failed for %s", receiver, query.country)
            db.session.rollback()
            continue
        if result is not None:
            found.append(result)
    return sorted(found, key=lambda s: s.key)


def country_json(page: CountryPage, viewer: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": page.code, "name": countries.country_name(page.code, actions.current_locale()),
        "region": page.region,
        "url": actions.link("places.country", code=page.code),
    }
    for listing in page.lists:
        data[listing.kind] = {
            "total": listing.total,
            "items": [exchange.record_json(r, viewer) for r in listing.items],
            "more": actions.link("registry_api.records", kind=listing.kind,
                                  **listing.url_args),
        }
    data["focal_points"] = [member_json(m, viewer) for m in page.focal_points]
    data["members"] = ([member_json(m, viewer) for m in page.members]
                       if page.members is not None else None)
    data["sections"] = [
        {"key": s.key, "title": s.title,
         "items": [{"title": i.title, "url": i.url, "detail": i.detail,
                    "when": clock.aware(i.when).isoformat() if i.when else None}
                   for i in s.items]}
        for s in page.sections]
    return data


def country_counts() -> dict[str, int]:
    """How many published records name each country (the index of country pages)."""
    rows = db.session.execute(
        select(Facet.value, func.count()).join(Record, Record.id == Facet.record_id)
        .where(Facet.name == "country", Record.state == PUBLISHED).group_by(Facet.value))
    return {code: n for code, n in rows}


# -- gaps and overlaps ---------------------------------------------------------------------

@dataclass
class Cell:
    needs: int = 0
    projects: int = 0
    opportunities: int = 0

    @property
    def gap(self) -> bool:
        """Needs that nothing supports: no project and no open opportunity."""
        return self.needs > 0 and self.projects == 0 and self.opportunities == 0

    @property
    def overlap(self) -> bool:
        """Several projects on one theme in one place: worth coordinating."""
        return self.projects >= 2


@dataclass
class Matrix:
    region: str | None  # None: the columns are the regions; else that region's countries
    themes: list[tuple[str, str]]  # (slug, name)
    places: list[str]  # region codes or country codes
    cells: dict[tuple[str, str], Cell]

    def cell(self, theme: str, place: str) -> Cell:
        return self.cells.get((theme, place)) or Cell()

    @property
    def place_facet(self) -> str:
        return "region" if self.region is None else "country"


def _grouped(kind: str, place_facet: str, places: list[str]) -> dict[tuple[str, str], int]:
    theme, place = aliased(Facet), aliased(Facet)
    rows = db.session.execute(
        select(theme.value, place.value, func.count())
        .select_from(Record)
        .join(theme, (theme.record_id == Record.id) & (theme.name == "theme"))
        .join(place, (place.record_id == Record.id) & (place.name == place_facet))
        .where(Record.kind == kind, Record.state == PUBLISHED, place.value.in_(places))
        .group_by(theme.value, place.value))
    return {(t, p): n for t, p, n in rows}


def _open_opportunities(place_facet: str, places: list[str]) -> dict[tuple[str, str], int]:
    """Open opportunities per (theme, place): named for the place, for its whole region
    (declared), or for every country."""
    model = MODELS["opportunities"]
    today = clock.now().date()
    ids = select(model.id).where(Record.state == PUBLISHED, (model.deadline.is_(None))
                                 | (model.deadline >= today))
    facets: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for record_id, name, value in db.session.execute(
            select(Facet.record_id, Facet.name, Facet.value).where(
                Facet.record_id.in_(ids),
                Facet.name.in_(["theme", "country", "region", "open_region", "open"]))):
        facets[record_id][name].add(value)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for found in facets.values():
        worldwide = bool(found["open"])
        for place in places:
            if place_facet == "region":
                fits = worldwide or place in found["region"]
            else:
                fits = (worldwide or place in found["country"]
                        or countries.region_of(place) in found["open_region"])
            if fits:
                for slug in found["theme"]:
                    counts[(slug, place)] += 1
    return counts


def gaps(region: str | None = None) -> Matrix:
    """Needs against projects and open opportunities, per thematic area and place: every
    region, or (with `region`) that region's countries that have any of the three."""
    vocab = fields.Vocabulary.load()
    themes = [(a.slug, a.name) for a in sorted(vocab.by_slug.values(),
                                               key=lambda a: (a.position, a.name))
              if a.active]
    if region is None:
        places, facet = list(countries.REGIONS), "region"
    else:
        places, facet = countries.countries_in_region(region_code(region)), "country"
    needs = _grouped("needs", facet, places)
    projects = _grouped("projects", facet, places)
    opportunities = _open_opportunities(facet, places)
    cells: dict[tuple[str, str], Cell] = {}
    for key in set(needs) | set(projects) | set(opportunities):
        cells[key] = Cell(needs.get(key, 0), projects.get(key, 0), opportunities.get(key, 0))
    if region is not None:  # only the countries with something to show, by name
        used = {p for _t, p in cells if cells[(_t, p)].needs or cells[(_t, p)].projects}
        places = sorted(used, key=lambda c: fields.fold(
            countries.country_name(c, actions.current_locale())))
    return Matrix(region=region, themes=themes, places=places, cells=cells)


def place_label(matrix: Matrix, place: str) -> str:
    if matrix.region is None:
        return actions.region_name(place)
    return countries.country_name(place, actions.current_locale())


def cell_links(matrix: Matrix, theme: str, place: str) -> dict[str, str]:
    """Where each number of a cell leads: the records it counts."""
    base = {"theme": theme, matrix.place_facet: place}
    return {
        "needs": actions.link("registry.browse", kind="needs", **base),
        "projects": actions.link("registry.browse", kind="projects", **base),
        "opportunities": actions.link("registry.browse", kind="opportunities", open="1",
                                       **base),
    }


def gaps_json(matrix: Matrix) -> dict[str, Any]:
    cells = []
    for slug, _name in matrix.themes:
        for place in matrix.places:
            cell = matrix.cell(slug, place)
            if not (cell.needs or cell.projects or cell.opportunities):
                continue
            cells.append({"theme": slug, "place": place, "needs": cell.needs,
                          "projects": cell.projects, "opportunities": cell.opportunities,
                          "gap": cell.gap, "overlap": cell.overlap,
                          "links": cell_links(matrix, slug, place)})
    return {
        "region": matrix.region, "place_kind": matrix.place_facet,
        "themes": [{"slug": s, "name": n} for s, n in matrix.themes],
        "places": [{"code": p, "name": place_label(matrix, p)} for p in matrix.places],
        "cells": cells,
    }


def gaps_csv(matrix: Matrix) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["theme", "theme_name", matrix.place_facet, "place_name", "needs",
                     "projects", "open_opportunities", "gap", "overlap"])
    for slug, name in matrix.themes:
        for place in matrix.places:
            cell = matrix.cell(slug, place)
            writer.writerow([slug, name, place, place_label(matrix, place), cell.needs,
                             cell.projects, cell.opportunities, int(cell.gap),
                             int(cell.overlap)])
    return buffer.getvalue()
