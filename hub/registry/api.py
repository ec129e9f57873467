"""The registry's JSON API under /api/v1/registry (DESIGN.md §4): list, search, facets and
export of every kind; create, read, update, delete; submit, publish, return, confirm;
matches for a country's needs; import; follows; a record's discussion.

Anonymous callers read published records; writing needs a member's token. Imports only
`hub`."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, jsonify, request

from hub import api, countries
from hub.errors import Invalid
from hub.registry import actions, exchange, follows, listing, matching, places, search
from hub.registry.kinds import KINDS
from hub.registry.models import Need

bp = api.blueprint("registry_api", __name__)

_RECORD_BODY = {"type": "object", "description": "The kind's fields (see README, 'The "
                "registry'), plus optional external_id; on POST optionally state: "
                "draft | submitted | published (Secretariat)."}


def _facets_json(viewer: Any, f: search.Filters) -> dict[str, Any]:
    counts = search.facet_counts(viewer, f)
    return {name: [{"value": v, "count": n} for v, n in values]
            for name, values in counts.items() if values}


@bp.get("/registry/<kind>")
@api.api_view
def records(kind: str) -> Any:
    """Search a kind: q (full text), country, theme, region, type, status, organization,
    year, language, from, to, state, mine=1, sort (relevance|updated|title|date|deadline),
    limit, offset; format=csv or format=json exports every match."""
    actions.kind_named(kind)
    viewer = api.caller()
    f, sort = listing.parse_filters(request.args, kind, viewer)
    fmt = request.args.get("format", "")
    if fmt == "csv":
        rows = exchange.csv_rows(viewer, KINDS[kind], exchange.export_records(viewer, f, sort))
        return Response("".join(rows), mimetype="text/csv",
                        headers={"Content-Disposition":
                                 f'attachment; filename="registry-{kind}.csv"'})
    if fmt == "json":
        def generate() -> Any:
            yield '{"items": ['
            for n, record in enumerate(exchange.export_records(viewer, f, sort)):
                yield ("," if n else "") + json.dumps(exchange.record_json(record, viewer),
                                                      ensure_ascii=False)
            yield '], "next": null}\n'

        return Response("".join(generate()), mimetype="application/json")
    if fmt:
        raise Invalid("format is csv or json.", fields={"format": "choice"})
    limit = api.limit_arg()
    offset = max(0, api.int_arg("offset") or 0)
    found = search.results(viewer, f, sort, offset=offset, limit=limit + 1)
    total = search.count(viewer, f)
    response = api.page([exchange.record_json(r, viewer) for r in found[:limit]],
                        {"offset": offset + limit} if len(found) > limit else None)
    payload = response.get_json()
    payload["total"] = total
    if request.args.get("facets", "1") not in {"0", "false", "no"}:
        payload["facets"] = _facets_json(viewer, f)
    return jsonify(payload)


@bp.post("/registry/<kind>")
@api.schema(_RECORD_BODY)
@api.api_view
def create(kind: str) -> Any:
    """Submit a record (members); the Secretariat may publish at once with state."""
    actions.kind_named(kind)
    actor = api.require_member()
    data = api.body()
    state = data.pop("state", None)
    record = actions.create_record(actor, kind, data, state=state)
    response = jsonify(exchange.record_json(record, actor))
    response.status_code = 201
    response.headers["Location"] = actions.link("registry_api.record", kind=kind,
                                                 record_id=record.id)
    return response


@bp.get("/registry/<kind>/<int:record_id>")
@api.api_view
def record(kind: str, record_id: int) -> Any:
    """One record (drafts only for their owner and the Secretariat)."""
    viewer = api.caller()
    return jsonify(exchange.record_json(actions.get_record(viewer, kind, record_id), viewer))


@bp.patch("/registry/<kind>/<int:record_id>")
@api.schema(_RECORD_BODY)
@api.api_view
def update(kind: str, record_id: int) -> Any:
    """Change some fields of a record (its owner or the Secretariat)."""
    actor = api.require_member()
    item = actions.get_record(actor, kind, record_id)
    item = actions.update_record(actor, item, api.body())
    return jsonify(exchange.record_json(item, actor))


@bp.delete("/registry/<kind>/<int:record_id>")
@api.api_view
def delete(kind: str, record_id: int) -> Any:
    """Delete a record (its owner or the Secretariat)."""
    actor = api.require_member()
    actions.delete_record(actor, actions.get_record(actor, kind, record_id))
    return "", 204


@bp.post("/registry/<kind>/<int:record_id>/submit")
@api.api_view
def submit(kind: str, record_id: int) -> Any:
    """Submit a draft for review (its owner)."""
    actor = api.require_member()
    item = actions.submit_record(actor, actions.get_record(actor, kind, record_id))
    return jsonify(exchange.record_json(item, actor))


@bp.post("/registry/<kind>/<int:record_id>/publish")
@api.api_view
def publish(kind: str, record_id: int) -> Any:
    """Publish a record (the Secretariat; a country's focal points its needs)."""
    actor = api.require_member()
    item = actions.publish_record(actor, actions.get_record(actor, kind, record_id))
    return jsonify(exchange.record_json(item, actor))


@bp.post("/registry/<kind>/<int:record_id>/return")
@api.schema({"type": "object", "required": ["note"],
             "properties": {"note": {"type": "string"}}})
@api.api_view
def return_(kind: str, record_id: int) -> Any:
    """Send a record back to its owner as a draft, with a note (the Secretariat; a
    country's focal points its needs)."""
    actor = api.require_member()
    item = actions.get_record(actor, kind, record_id)
    item = actions.return_record(actor, item, api.field(api.body(), "note"))
    return jsonify(exchange.record_json(item, actor))


@bp.post("/registry/<kind>/<int:record_id>/confirm")
@api.api_view
def confirm(kind: str, record_id: int) -> Any:
    """Say a record is still up to date (its owner or the Secretariat)."""
    actor = api.require_member()
    item = actions.confirm_record(actor, actions.get_record(actor, kind, record_id))
    return jsonify(exchange.record_json(item, actor))


@bp.post("/registry/<kind>/<int:record_id>/discussion")
@api.api_view
def discussion(kind: str, record_id: int) -> Any:
    """The forum topic about a record, made on first use: {"url"}."""
    actor = api.require_member()
    item = actions.get_record(actor, kind, record_id)
    return jsonify({"url": actions.discussion_url(actor, item)})


@bp.get("/registry/needs/<int:record_id>/matches")
@api.api_view
def matches(record_id: int) -> Any:
    """Opportunities and projects that fit a country's need, best first, each with its
    score (0-100) and the reasons it matched."""
    viewer = api.caller()
    need = actions.get_record(viewer, "needs", record_id)
    assert isinstance(need, Need)
    found = matching.matches_for(viewer, need, limit=api.limit_arg(default=50, maximum=200))
    return api.page([matching.match_json(m, viewer) for m in found], None)


@bp.post("/registry/<kind>/import")
@api.api_view
def import_(kind: str) -> Any:
    """Import a CSV or JSON file (the request body, or a multipart field "file").
    publish=1 (Secretariat) publishes at once; dry_run=1 checks and changes nothing.
    Answers {created, updated, refused: [{row, label, reason}], ignored_columns}."""
    actions.kind_named(kind)
    actor = api.require_member()
    upload = request.files.get("file")
    if upload is not None:
        raw, name, ctype = upload.read(), upload.filename or "", upload.mimetype or ""
    else:
        raw, name, ctype = request.get_data(), "", request.mimetype or ""
    if not raw.strip():
        raise Invalid("Send the CSV or JSON file as the request body or as 'file'.",
                      fields={"file": "required"})
    rows, first = exchange.read_file(raw, name, ctype)
    flag = {"1", "true", "yes"}
    report = exchange.import_records(actor, kind, rows, first_row=first,
                                     publish=request.args.get("publish", "") in flag,
                                     dry_run=request.args.get("dry_run", "") in flag)
    return jsonify(report.as_json())


@bp.get("/registry/follows")
@api.api_view
def get_follows() -> Any:
    """The thematic areas and countries the caller follows: {themes, countries}."""
    return jsonify(follows.follows(api.require_member()))


@bp.put("/registry/follows")
@api.schema({"type": "object", "properties": {
    "themes": {"type": "array", "items": {"type": "string"}},
    "countries": {"type": "array", "items": {"type": "string"}}}})
@api.api_view
def put_follows() -> Any:
    """Replace what the caller follows; new matching opportunities are emailed."""
    member = api.require_member()
    data = api.body()
    unknown = set(data) - {"themes", "countries"}
    if unknown:
        raise Invalid("Send {themes: [slug], countries: [ISO code]}.",
                      fields={k: "unknown" for k in unknown})
    return jsonify(follows.set_follows(member, data.get("themes") or [],
                                        data.get("countries") or []))


# -- by place ------------------------------------------------------------------------------

@bp.get("/countries/<code>")
@api.api_view
def country(code: str) -> Any:
    """A country's page: {code, name, region, needs, projects, opportunities (open to it),
    reports, resources (each {total, items, more}), focal_points, members (null for
    anonymous callers), sections (from other packages: conferences, meetings...)}."""
    listing.check_names(request.args, ())
    viewer = api.caller()
    return jsonify(places.country_json(places.country_page(viewer, code), viewer))


@bp.get("/countries/<code>/focal-points")
@api.api_view
def get_focal_points(code: str) -> Any:
    """The country's national focal points: {items: [{id, name, organization}]}."""
    viewer = api.caller()
    found = places.focal_points(places.country_code(code))
    return api.page([places.member_json(m, viewer) for m in found], None)


@bp.post("/countries/<code>/focal-points")
@api.schema({"type": "object", "required": ["email"],
             "properties": {"email": {"type": "string", "format": "email"}}})
@api.api_view
def add_focal_point(code: str) -> Any:
    """Name a member national focal point of the country (the Secretariat)."""
    actor = api.require_secretariat()
    member = places.add_focal_point(actor, code, api.field(api.body(), "email"))
    response = jsonify(places.member_json(member, actor))
    response.status_code = 201
    return response


@bp.delete("/countries/<code>/focal-points/<int:member_id>")
@api.api_view
def remove_focal_point(code: str, member_id: int) -> Any:
    """Remove a national focal point (the Secretariat)."""
    places.remove_focal_point(api.require_secretariat(), code, member_id)
    return "", 204


@bp.get("/registry/gaps")
@api.api_view
def gaps() -> Any:
    """Gaps and overlaps: published needs against projects and open opportunities per
    thematic area and UN region, or with region=CODE per country of that region.
    format=csv gives the same as a table."""
    listing.check_names(request.args, ("region", "format"))
    region = request.args.get("region") or None
    if region is not None and region not in countries.REGIONS:
        raise Invalid(f"region is one of: {', '.join(countries.REGIONS)}.",
                      fields={"region": "choice"})
    matrix = places.gaps(region)
    fmt = request.args.get("format", "")
    if fmt == "csv":
        return Response(places.gaps_csv(matrix), mimetype="text/csv")
    if fmt:
        raise Invalid("format is csv (or leave it out for JSON).", fields={"format": "choice"})
    return jsonify(places.gaps_json(matrix))
