"""The hub's API endpoints: the caller, the member directory, applications, groups,
thematic areas and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, request

from hub import access, api, content, services
from hub import groups as hub_groups
from hub.errors import Invalid, NotFound
from hub.extensions import db
from hub.i18n import isotime
from hub.models import Group, Member, MemberStatus

bp = api.blueprint("hub_api", __name__)


def member_json(member: Member, viewer: Member | None = None, full: bool = False) -> dict:
    data: dict[str, Any] = {
        "id": member.id,
        "name": member.name,
        "organization": member.organization,
        "org_type": member.org_type,
        "country": member.country,
        "region": member.region,
        "expertise": [a.slug for a in member.expertise],
    }
    if viewer is not None and access.can_see_email(viewer, member):
        data["email"] = member.email
    if full:
        data.update(bio=member.bio, language=member.language, timezone=member.timezone,
                    status=member.status, roles=member.roles,
                    created_at=isotime(member.created_at))
    return data


@bp.get("/me")
@api.api_view
def me() -> Any:
    """The member behind the token."""
    member = api.require_member()
    return jsonify({"id": member.id, "email": member.email, "name": member.name,
                    "roles": member.roles, "language": member.language,
                    "timezone": member.timezone, "country": member.country,
                    "organization": member.organization})


@bp.get("/members")
@api.api_view
def directory() -> Any:
    """The member directory: filters q, country, region, org_type, area (slug); `after` pages."""
    from hub.member_views import directory_query

    viewer = api.require_member()
    area_id = None
    if request.args.get("area"):
        area = next((a for a in services.thematic_areas() if a.slug == request.args["area"]),
                    None)
        if area is None:
            raise Invalid("Unknown thematic area.", fields={"area": "choice"})
        area_id = area.id
    query = directory_query(viewer, request.args.get("q", "").strip(),
                            request.args.get("country", ""), request.args.get("region", ""),
                            request.args.get("org_type", ""), area_id)
    limit = api.limit_arg()
    offset = api.int_arg("offset") or 0
    rows = list(db.session.scalars(query.offset(offset).limit(limit + 1)))
    nxt = {"offset": offset + limit} if len(rows) > limit else None
    return api.page([member_json(m, viewer) for m in rows[:limit]], nxt)


@bp.get("/members/<int:member_id>")
@api.api_view
def member_detail(member_id: int) -> Any:
    """One member's profile."""
    viewer = api.require_member()
    member = db.session.get(Member, member_id)
    if member is None or not access.can_view_member(viewer, member):
        raise NotFound("No such member.")
    return jsonify(member_json(member, viewer, full=viewer.is_secretariat
                               or viewer.id == member.id))


@bp.get("/applications")
@api.api_view
def applications() -> Any:
    """Applications waiting for the Secretariat (Secretariat only)."""
    api.require_secretariat()
    rows = services.pending_applications()
    return api.page([member_json(m, api.caller(), full=True) for m in rows], None)


def _applicant(member_id: int) -> Member:
    member = db.session.get(Member, member_id)
    if member is None:
        raise NotFound("No such application.")
    return member


@bp.post("/applications/<int:member_id>/approve")
@api.api_view
def approve(member_id: int) -> Any:
    """Approve an application (Secretariat)."""
    actor = api.require_secretariat()
    member = services.approve(actor, _applicant(member_id))
    return jsonify(member_json(member, actor, full=True))


@bp.post("/applications/<int:member_id>/reject")
@api.schema({"type": "object", "required": ["reason"],
             "properties": {"reason": {"type": "string"}}})
@api.api_view
def reject(member_id: int) -> Any:
    """Reject an application with a reason that is emailed to the applicant (Secretariat)."""
    actor = api.require_secretariat()
    data = api.body()
    member = services.reject(actor, _applicant(member_id), api.field(data, "reason"))
    return jsonify(member_json(member, actor, full=True))


def group_json(group: Group, with_members: bool = False) -> dict:
    data: dict[str, Any] = {"slug": group.slug, **content.payload(group), "kind": group.kind}
    if with_members:
        data["members"] = [
            {"id": link.member.id, "name": link.member.name, "manager": link.is_manager}
            for link in hub_groups.group_members(group)
        ]
    return data


@bp.get("/groups")
@api.api_view
def groups() -> Any:
    """Groups the caller belongs to (all groups for the Secretariat)."""
    member = api.require_member()
    return api.page([group_json(g) for g in hub_groups.visible_groups(member)], None)


@bp.post("/groups")
@api.schema({"type": "object", "required": ["slug", "name"],
             "properties": {"slug": {"type": "string"}, "name": {"type": "string"},
                            "description": {"type": "string"},
                            "source_lang": {"type": "string", "enum": ["en", "es", "fr"]},
                            "translations": {"type": "object"}}})
@api.api_view
def create_group() -> Any:
    """Create a group (Secretariat)."""
    actor = api.require_secretariat()
    data = api.body()
    group = hub_groups.create_group(actor, api.field(data, "slug"), api.field(data, "name"),
                                    api.field(data, "description", required=False, default=""),
                                    translations=content.from_json(data, Group),
                                    source_lang=data.get("source_lang")
                                    if data.get("source_lang") in content.LANGUAGES else None)
    return jsonify(group_json(group, True)), 201


def _group_for(member: Member, slug: str) -> Group:
    group = db.session.scalar(db.select(Group).where(Group.slug == slug))
    if group is None or not (member.is_secretariat or group.id in access.group_ids(member)):
        raise NotFound("No such group.")
    return group


@bp.get("/groups/<slug>")
@api.api_view
def group_detail(slug: str) -> Any:
    """A group and its members (members of the group and the Secretariat)."""
    member = api.require_member()
    return jsonify(group_json(_group_for(member, slug), True))


@bp.post("/groups/<slug>/members")
@api.schema({"type": "object", "required": ["email"],
             "properties": {"email": {"type": "string"}, "manager": {"type": "boolean"}}})
@api.api_view
def add_group_member(slug: str) -> Any:
    """Add a member to a group by email (group managers and the Secretariat)."""
    actor = api.require_member()
    group = _group_for(actor, slug)
    data = api.body()
    email = services.normalize_email(api.field(data, "email"))
    target = services.member_by_email(email)
    if target is None or target.status in {MemberStatus.DEACTIVATED, MemberStatus.REJECTED}:
        raise NotFound("No active member uses that address.")
    hub_groups.add_to_group(actor, group, target,
                            manager=api.field(data, "manager", bool, required=False, default=False))
    return jsonify(group_json(group, True)), 201


@bp.delete("/groups/<slug>/members/<int:member_id>")
@api.api_view
def remove_group_member(slug: str, member_id: int) -> Any:
    """Remove a member from a group (group managers and the Secretariat)."""
    actor = api.require_member()
    group = _group_for(actor, slug)
    target = db.session.get(Member, member_id)
    if target is None:
        raise NotFound("No such member.")
    hub_groups.remove_from_group(actor, group, target)
    return "", 204


@bp.get("/areas")
@api.api_view
def areas() -> Any:
    """The thematic areas of the capacity-building Action Plan."""
    return api.page([{"slug": a.slug, **content.payload(a)}
                     for a in services.thematic_areas()], None)


@bp.get("/openapi.json")
def openapi() -> Any:
    """This document."""
    return jsonify(api.openapi_document(current_app._get_current_object()))


def init_app(app: Flask) -> None:
    api.register(app, bp)
