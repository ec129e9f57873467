"""The member directory and profiles (`members`) and groups (`groups`)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func

from hub import access, content_forms, countries, services
from hub import directory as name_search
from hub import groups as hub_groups
from hub.content import shown
from hub.errors import HubError
from hub.extensions import db
from hub.forms import (
    ORG_TYPE_LABELS,
    REGION_LABELS,
    ROLE_LABELS,
    DirectoryForm,
    GroupAddForm,
    GroupForm,
    RoleForm,
    options,
)
from hub.markup import render_plain
from hub.models import (
    Group,
    Member,
    MemberStatus,
    ThematicArea,
)
from hub.views import PER_PAGE, form_errors

members = Blueprint("members", __name__, url_prefix="/members")
groups = Blueprint("groups", __name__, url_prefix="/groups")


# -- directory and profiles ----------------------------------------------------------------------

def directory_query(viewer: Member, q: str = "", country: str = "", region: str = "",
                    org_type: str = "", area: int | None = None) -> Any:
    query = db.select(Member).where(Member.status == MemberStatus.ACTIVE)
    found = name_search.matching(q, db.session.get_bind().dialect.name) if q else None
    if found is not None:
        query = query.where(found)
    if country:
        query = query.where(Member.country == country.upper())
    if region:
        query = query.where(Member.region == region)
    if org_type:
        query = query.where(Member.org_type == org_type)
    if area:
        query = query.where(Member.expertise.any(ThematicArea.id == area))
    return query.order_by(func.lower(Member.name), Member.id)


@members.get("/")
@login_required
def directory() -> str:
    form = DirectoryForm(request.args)
    form.country.choices = options([("", _l("Any country")),
                                    *countries.country_choices(_current_locale())])
    form.area.choices = options([("", _l("Any area")),
                                 *((a.id, shown(a, "name")) for a in services.thematic_areas())])
    page = max(1, request.args.get("page", 1, type=int) or 1)
    query = directory_query(current_user, (form.q.data or "").strip(), form.country.data or "",
                            form.region.data or "", form.org_type.data or "",
                            int(form.area.data) if (form.area.data or "").isdigit() else None)
    found = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    return render_template("hub/directory.html", form=form, page=found,
                           org_types=ORG_TYPE_LABELS, regions=REGION_LABELS)


def _current_locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "en")


@members.get("/<int:member_id>")
@login_required
def profile(member_id: int) -> str:
    member = db.get_or_404(Member, member_id)
    if not access.can_view_member(current_user, member):
        abort(404)
    return render_template(
        "hub/profile.html", member=member, bio_html=render_plain(member.bio),
        show_email=access.can_see_email(current_user, member),
        org_types=ORG_TYPE_LABELS, regions=REGION_LABELS, roles=ROLE_LABELS,
        member_groups=hub_groups.visible_groups(member) if access.is_secretariat(current_user)
        or current_user.id == member.id else [],
        role_form=RoleForm(role=member.role),
    )


# -- groups --------------------------------------------------------------------------------------

@groups.route("/", methods=["GET", "POST"])
@login_required
def index() -> Any:
    form = GroupForm()
    if access.is_secretariat(current_user) and form.validate_on_submit():
        try:
            group = hub_groups.create_group(current_user, form.slug.data, form.name.data,
                                            form.description.data or "",
                                            translations=content_forms.read(form),
                                            source_lang=content_forms.source(form))
        except HubError as exc:
            form_errors(form, exc)
        else:
            return redirect(url_for("groups.detail", slug=group.slug))
    return render_template("hub/groups.html", groups=hub_groups.visible_groups(current_user),
                           form=form)


def _visible_group(slug: str) -> Group:
    group = db.session.scalar(db.select(Group).where(Group.slug == slug))
    if group is None or not (access.is_secretariat(current_user)
                             or group.id in access.group_ids(current_user)):
        abort(404)  # closed groups are invisible to others
    return group


@groups.route("/<slug>", methods=["GET", "POST"])
@login_required
def detail(slug: str) -> Any:
    group = _visible_group(slug)
    form = GroupAddForm()
    can_manage = access.can_manage_group(current_user, group.id)
    if can_manage and form.validate_on_submit():
        member = services.member_by_email(form.email.data.strip())
        if member is None:
            flash(_("No member uses that address."), "error")
        else:
            try:
                hub_groups.add_to_group(current_user, group, member, manager=form.manager.data)
            except HubError as exc:
                flash(exc.message, "error")
            else:
                flash(_("%(name)s is now in the group.", name=member.name), "success")
                return redirect(url_for("groups.detail", slug=slug))
    return render_template("hub/group.html", group=group, rows=hub_groups.group_members(group),
                           form=form, can_manage=can_manage, chair=hub_groups.chair_of(group))


@groups.post("/<slug>/chair")
@login_required
def chair(slug: str) -> Any:
    """Record the chairperson the group elected (managers and the Secretariat)."""
    group = _visible_group(slug)
    email = (request.form.get("email") or "").strip()
    member = services.member_by_email(email) if email else None
    if email and member is None:
        flash(_("No member uses that address."), "error")
        return redirect(url_for("groups.detail", slug=slug))
    try:
        hub_groups.elect_chair(current_user, group, member)
    except HubError as exc:
        flash(exc.message, "error")
    else:
        flash(_("%(name)s is the group's chair.", name=member.name) if member
              else _("The group has no chair now."), "success")
    return redirect(url_for("groups.detail", slug=slug))


@groups.post("/<slug>/remove/<int:member_id>")
@login_required
def remove(slug: str, member_id: int) -> Any:
    group = _visible_group(slug)
    member = db.get_or_404(Member, member_id)
    hub_groups.remove_from_group(current_user, group, member)
    flash(_("%(name)s is no longer in the group.", name=member.name), "info")
    return redirect(url_for("groups.detail", slug=slug))
