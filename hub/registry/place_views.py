"""The registry's pages by place: the countries, a country, a region, the gaps and
overlaps matrix, and the Secretariat's list of national focal points. Imports only `hub`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub import access, countries
from hub.errors import HubError
from hub.forms import options
from hub.registry import actions, fields, places
from hub.registry.forms import FocalPointForm
from hub.registry.kinds import KINDS
from hub.registry.views import summary

bp = Blueprint("places", __name__)


def _locale() -> str:
    return actions.current_locale()


@bp.get("/countries/")
def countries_index() -> str:
    counts = places.country_counts()
    by_region = []
    for region in countries.REGIONS:
        codes = sorted(countries.countries_in_region(region),
                       key=lambda c: fields.fold(countries.country_name(c, _locale())))
        by_region.append((region, [(c, counts.get(c, 0)) for c in codes]))
    return render_template("registry/countries.html", by_region=by_region,
                           region_name=actions.region_name)


@bp.get("/countries/<code>")
def country(code: str) -> Any:
    if code != code.upper() and countries.is_country(code.upper()):
        return redirect(url_for("places.country", code=code.upper()), 301)
    page = places.country_page(current_user, code)
    return render_template(
        "registry/country.html", page=page, kinds=KINDS, summary=summary,
        display_title=actions.display_title, region_name=actions.region_name,
        can_name=access.can_name_focal_points(current_user),
        is_focal_point=access.is_focal_point(current_user, page.code))


def _matrix_page(template: str, area: str | None, **context: Any) -> Any:
    matrix = places.gaps(area)
    if request.args.get("format") == "csv":
        name = f"registry-gaps-{area or 'regions'}.csv"
        return Response(places.gaps_csv(matrix), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    if request.args.get("format"):
        abort(404)
    return render_template(template, matrix=matrix,
                           place_label=lambda p: places.place_label(matrix, p),
                           links=lambda t, p: places.cell_links(matrix, t, p),
                           place_url=lambda p: url_for("places.region", region=p)
                           if area is None else url_for("places.country", code=p),
                           region_name=actions.region_name, **context)


@bp.get("/regions/<region>")
def region(region: str) -> Any:
    places.region_code(region)
    counts = places.country_counts()
    codes = sorted((c for c in countries.countries_in_region(region) if counts.get(c)),
                   key=lambda c: fields.fold(countries.country_name(c, _locale())))
    return _matrix_page("registry/region.html", region,
                        region=region, listed=[(c, counts[c]) for c in codes])


@bp.get("/registry/gaps")
def gaps() -> Any:
    region = request.args.get("region") or None
    if region is not None:
        places.region_code(region)
    return _matrix_page("registry/gaps.html", region, region=region,
                        regions=list(countries.REGIONS))


@bp.route("/registry/focal-points", methods=["GET", "POST"])
@login_required
def focal_points() -> Any:
    if not access.can_name_focal_points(current_user):
        abort(403)
    form = FocalPointForm()
    form.country.choices = options([("", _("Choose a country")),
                                    *countries.country_choices(_locale())])
    if form.validate_on_submit():
        try:
            member = places.add_focal_point(current_user, form.country.data, form.email.data)
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(_("%(name)s is now a national focal point of %(country)s.", name=member.name,
                    country=countries.country_name(form.country.data, _locale())), "success")
            return redirect(url_for("places.focal_points"))
    return render_template("registry/focal_points.html", form=form,
                           rows=places.all_focal_points()), (
        422 if request.method == "POST" else 200)


@bp.post("/registry/focal-points/<code>/<int:member_id>/remove")
@login_required
def remove_focal_point(code: str, member_id: int) -> Any:
    try:
        places.remove_focal_point(current_user, code, member_id)
    except HubError as exc:
        flash(exc.message, "error")
    else:
        flash(_("The focal point is removed."), "info")
    nxt = request.form.get("next", "")
    return redirect(nxt if nxt.startswith("/countries/") else url_for("places.focal_points"))
