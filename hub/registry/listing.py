"""What the registry's pages list (the review queue, a member's records, the open
opportunities), and the filters read from a query string (pages and API). Imports only
`hub`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from hub import access, clock
from hub.errors import Forbidden, Invalid
from hub.extensions import db
from hub.models import Member
from hub.registry import fields, search
from hub.registry.actions import (
    kind_named,
)
from hub.registry.kinds import (
    KINDS,
    PUBLISHED,
    STATES,
    SUBMITTED,
    Field,
)
from hub.registry.models import MODELS, Need, Record

# -- what the pages show ---------------------------------------------------------------------------

def review_queue(viewer: Any = None) -> list[Record]:
    """What waits for review: everything for the Secretariat; for a national focal point,
    the needs proposed for their countries."""
    stmt = select(Record).where(Record.state == SUBMITTED).order_by(Record.submitted_at)
    if viewer is not None and not access.is_secretariat(viewer):
        stmt = stmt.where(Record.kind == "needs", Record.id.in_(
            select(Need.id).where(Need.country.in_(sorted(access.focal_point_countries(viewer))))))
    return list(db.session.scalars(stmt))


def review_count() -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).where(Record.state == SUBMITTED)) or 0


def my_records(member: Member) -> list[Record]:
    return list(db.session.scalars(
        select(Record).where(Record.owner_id == member.id)
        .order_by(Record.updated_at.desc(), Record.id.desc())))


def open_opportunities(limit: int = 5) -> list[Record]:
    """The newest published opportunities whose deadline has not passed."""
    model = MODELS["opportunities"]
    today = clock.now().date()
    return list(db.session.scalars(
        select(model).where(Record.state == PUBLISHED,
                            or_(model.deadline.is_(None), model.deadline >= today))
        .order_by(Record.published_at.desc(), Record.id.desc()).limit(limit)))


# -- filters from a query string (pages and API) ----------------------------------------------

_FILTER_SPECS = {
    "country": Field("country", "countries", "country"),
    "theme": Field("theme", "themes", "theme"),
    "region": Field("region", "regions", "region"),
    "language": Field("language", "language", "language"),
}


def _values(args: Any, name: str, split: bool = True) -> list[str]:
    found: list[str] = []
    for raw in args.getlist(name):
        parts = raw.split(",") if split else [raw]
        found += [p.strip() for p in parts if p.strip()]
    return found


FILTER_NAMES = ("q", "country", "theme", "region", "type", "status", "organization", "year",
                "language", "from", "to", "open", "state", "mine", "sort")
# Not filters, but understood beside them: pages, exports, the API's paging and facets.
PAGING_NAMES = ("page", "format", "limit", "offset", "facets")


def check_names(args: Any, allowed: Iterable[str]) -> None:
    """Invalid naming every query parameter not in `allowed`, and the allowed ones: a
    filter mistyped (`?author=Smith`) must not quietly find everything."""
    allowed = tuple(allowed)
    unknown = sorted(str(k) for k in args if k not in allowed)
    if unknown:
        raise Invalid(_("Unknown filter: %(names)s. The filters are: %(allowed)s.",
                        names=", ".join(n[:40] for n in unknown[:10]),
                        allowed=", ".join(allowed)),
                      fields={n[:40]: "unknown" for n in unknown[:10]})


def parse_filters(args: Any, kind_name: str | None, viewer: Any) -> tuple[search.Filters, str]:
    """Filters and sort order from a query string: q, country, theme, region, type,
    status, organization, year, language (each repeatable or comma-separated; values of
    one filter are alternatives), from, to (dates), open (opportunities still open),
    state, mine, sort. Any other name (but paging's) is refused."""
    kind = kind_named(kind_name) if kind_name else None
    check_names(args, FILTER_NAMES + PAGING_NAMES)
    vocab = fields.Vocabulary.load()
    errors: dict[str, str] = {}
    facets: dict[str, tuple[str, ...]] = {}
    for name, spec in _FILTER_SPECS.items():
        raw = _values(args, name)
        if not raw:
            continue
        try:
            if spec.type == "language":
                facets[name] = tuple(fields.clean(spec, v, vocab) for v in raw)
            else:
                facets[name] = tuple(fields.clean(spec, raw, vocab))
        except fields.FieldError as exc:
            errors[name] = exc.message
    types = _values(args, "type")
    if types:
        kinds = [kind] if kind else list(KINDS.values())
        codes = {c for k in kinds if k.type_field for c in k.type_field.choice_codes}
        wrong = [t for t in types if t not in codes]
        if wrong:
            errors["type"] = _("%(value)s is not one of: %(choices)s", value=", ".join(wrong),
                               choices=", ".join(sorted(codes)))
        facets["type"] = tuple(types)
    statuses = _values(args, "status")
    if statuses:
        codes = set(KINDS["projects"].field("status").choice_codes)
        if not set(statuses) <= codes:
            errors["status"] = _("is one of: %(choices)s", choices=", ".join(sorted(codes)))
        facets["status"] = tuple(statuses)
    organizations = _values(args, "organization", split=False)
    if organizations:
        facets["organization"] = tuple(o[:200] for o in organizations)
    years = _values(args, "year")
    if years:
        if not all(y.isdigit() and len(y) == 4 for y in years):
            errors["year"] = _("is a year such as 2024")
        facets["year"] = tuple(years)
    dates: dict[str, date | None] = {}
    for name, end in (("from", False), ("to", True)):
        try:
            dates[name] = fields.parse_date(args.get(name, "").strip(), end=end, partial=True)
        except fields.FieldError as exc:
            errors[name] = exc.message
    state = args.get("state", "").strip() or None
    if state and state not in STATES:
        errors["state"] = _("is one of: %(choices)s", choices=", ".join(STATES))
    owner_id = None
    if args.get("mine", "") in {"1", "true", "yes", "on"}:
        if not access.is_active_member(viewer):
            raise Forbidden(_("Sign in to see your own records."))
        owner_id = viewer.id
    sort = args.get("sort", "").strip()
    if sort and sort not in search.SORTS:
        errors["sort"] = _("%(value)s is not a sort order; the sorts are: %(choices)s",
                           value=sort[:40], choices=", ".join(search.SORTS))
    q = args.get("q", "").strip()[:500]
    open_only = args.get("open", "") in {"1", "true", "yes", "on"}
    if errors:
        raise Invalid("; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors)
    return search.Filters(kind=kind.name if kind else None, q=q, facets=facets,
                          date_from=dates.get("from"), date_to=dates.get("to"), state=state,
                          owner_id=owner_id, open_only=open_only), sort
