"""The registry's pages: browse and search with facets, a record, the submit and edit forms,
the review desk, my records, import, follows. Views parse, call one service, render or
redirect. Imports only `hub`."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub import access, clock, countries
from hub.errors import HubError, Invalid
from hub.forms import options
from hub.markup import render, render_plain, stored
from hub.registry import actions, exchange, fields, follows, forms, listing, matching, search
from hub.registry.kinds import (
    DRAFT,
    KINDS,
    PROJECT_STATUS,
    PUBLISHED,
    STATE_LABELS,
    SUBMITTED,
    Kind,
    type_label,
)
from hub.registry.models import Record

bp = Blueprint("registry", __name__, url_prefix="/registry", static_folder="static",
               static_url_path="/static")

# Plain converters, checked in the views: unknown kinds and actions are 404s.
KIND = "<kind>"
PER_PAGE = 20


def _locale() -> str:
    return str(get_locale() or "en")


def _facet_titles() -> dict[str, str]:
    return {"type": _("Type"), "status": _("Project status"), "theme": _("Thematic area"),
            "country": _("Country"), "region": _("Region"), "organization": _("Organization"),
            "year": _("Year"), "language": _("Language")}


def facet_label(name: str, value: str, vocab: fields.Vocabulary, kind: Kind | None) -> str:
    if name == "country":
        return countries.country_name(value, _locale())
    if name == "region":
        return actions.region_name(value)
    if name == "theme":
        return vocab.theme_name(value)
    if name == "type":
        for k in ([kind] if kind else KINDS.values()):
            label = type_label(k, value)
            if label != value:
                return str(label)
        return value
    if name == "status":
        return str(dict(PROJECT_STATUS).get(value, value))
    if name == "language":
        return fields.language_name(value, _locale())
    return value


# -- presenting a record -------------------------------------------------------------------

def present(record: Record, vocab: fields.Vocabulary) -> list[dict[str, Any]]:
    """The record's fields ready for the page: (name, label, type, value) in kind order."""
    kind = KINDS[record.kind]
    rows = []
    for spec in kind.fields:
        value = fields.get(record, spec)
        if fields.is_empty(value) or spec.name == "title":
            continue
        shown: Any = value
        if spec.type == "longtext":
            shown = render_plain(value)
        elif spec.type == "date":
            shown = format_date(value, "long")
        elif spec.type == "period":
            start, end = value
            shown = " – ".join(format_date(d, "long") if d else "…" for d in (start, end))
        elif spec.type == "choice":
            shown = dict(spec.choices).get(value, value)
        elif spec.type == "country":
            shown = countries.country_name(value, _locale())
        elif spec.type == "countries":
            shown = ", ".join(countries.country_name(c, _locale()) for c in value)
        elif spec.type == "regions":
            shown = ", ".join(actions.region_name(r) for r in value)
        elif spec.type == "themes":
            shown = value  # links, built in the template
        elif spec.type == "language":
            shown = fields.language_name(value, _locale())
        elif spec.type == "strings":
            shown = ", ".join(value) if spec.name == "keywords" else "; ".join(value)
        rows.append({"name": spec.name, "label": spec.label, "type": spec.type,
                     "value": shown})
    return rows


def _vocabulary() -> fields.Vocabulary:
    """The thematic areas, loaded once per request."""
    if "registry_vocab" not in g:
        g.registry_vocab = fields.Vocabulary.load()
    return g.registry_vocab


def summary(record: Record) -> str:
    """One line under a title in lists: type, place, dates."""
    parts: list[str] = []
    kind = KINDS[record.kind]
    if getattr(record, "type", None):
        parts.append(str(type_label(kind, record.type)))
    if record.kind == "projects":
        parts.append(str(dict(PROJECT_STATUS).get(record.status, record.status)))
    if record.kind == "needs":
        vocab = _vocabulary()
        parts.append(ngettext("%(num)d need", "%(num)d needs", len(record.needs or [])))
        parts.append(", ".join(vocab.theme_name(t) for t in record.thematic_areas or []))
        return " · ".join(p for p in parts if p)
    names = [countries.country_name(c, _locale()) for c in (record.countries or [])[:4]]
    if len(record.countries or []) > 4:
        names.append(_("and %(n)d more", n=len(record.countries) - 4))
    regions = [actions.region_name(r) for r in getattr(record, "regions", None) or []]
    if names or regions:
        parts.append(", ".join(names + regions))
    elif record.kind == "opportunities":
        parts.append(_("Open to every country"))
    if record.kind == "opportunities" and record.deadline:
        parts.append(_("Deadline %(date)s", date=format_date(record.deadline, "medium")))
    elif record.kind != "needs" and (record.starts_on or record.ends_on):
        start, end = record.starts_on, record.ends_on
        if start and end and start != end:
            parts.append(f"{start.year}–{end.year}" if start.year != end.year
                         else str(start.year))
        else:
            parts.append(str((start or end).year))
    return " · ".join(p for p in parts if p)


# -- browse and search -----------------------------------------------------------------------

def _known(kind: str) -> Kind:
    if kind not in KINDS:
        abort(404)
    return KINDS[kind]


def _args_without(name: str | None = None, value: str | None = None) -> dict[str, Any]:
    args = {k: request.args.getlist(k) for k in request.args if k not in {"page", "format"}}
    if name is not None:
        current = [v for v in args.get(name, []) if v != value]
        if value is not None and value not in args.get(name, []):
            current.append(value)
        args[name] = current
    return {k: v for k, v in args.items() if v}


@bp.get("/")
@bp.get(f"/{KIND}/")
def browse(kind: str | None = None) -> Any:
    spec = _known(kind) if kind else None
    viewer = current_user
    error = None
    try:
        f, sort = listing.parse_filters(request.args, kind, viewer)
    except HubError as exc:
        if request.args.get("format"):
            raise
        error = exc.message
        f, sort = search.Filters(kind=kind), ""
    fmt = request.args.get("format", "")
    if fmt:
        return _export(f, spec, sort, fmt)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    total = search.count(viewer, f)
    items = search.results(viewer, f, sort, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    vocab = fields.Vocabulary.load()
    facets = search.facet_counts(viewer, f)
    selected = {name: set(values) for name, values in f.facets.items()}

    def toggle(name: str, value: str) -> str:
        return url_for("registry.browse", kind=kind, **_args_without(name, value))

    return render_template(
        "registry/browse.html", kind=spec, kinds=KINDS, filters=f, sort=sort, items=items,
        total=total, page=page, pages=max(1, -(-total // PER_PAGE)), facets=facets,
        selected=selected, facet_titles=_facet_titles(), toggle=toggle,
        label=lambda name, value: facet_label(name, value, vocab, spec),
        kind_counts=search.kind_counts(viewer, f), summary=summary, error=error,
        export_url=lambda fmt: url_for("registry.browse", kind=kind, format=fmt,
                                       **_args_without()),
        page_url=lambda n: url_for("registry.browse", kind=kind, page=n, **_args_without()),
        kind_url=lambda name: url_for("registry.browse", kind=name,
                                      **{k: v for k, v in _args_without().items()
                                         if k in {"q", "country", "theme", "region", "year",
                                                  "organization", "from", "to"}}),
        vocab=vocab, states=STATE_LABELS, display_title=actions.display_title,
    ), (422 if error else 200)


def _export(f: search.Filters, kind: Kind | None, sort: str, fmt: str) -> Response:
    viewer = current_user
    stamp = clock.now().strftime("%Y%m%d")
    name = f"registry-{kind.name if kind else 'all'}-{stamp}"
    if fmt == "csv":
        if kind is None:
            raise Invalid(_("Choose one kind of record to export as CSV (their columns "
                            "differ); JSON exports every kind."), fields={"format": "kind"})
        rows = exchange.csv_rows(viewer, kind, exchange.export_records(viewer, f, sort))
        return Response("".join(rows), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "json":
        def generate() -> Any:
            yield '{"items": ['
            for n, record in enumerate(exchange.export_records(viewer, f, sort)):
                yield ("," if n else "") + json.dumps(exchange.record_json(record, viewer),
                                                      ensure_ascii=False)
            yield '], "next": null}\n'

        return Response("".join(generate()), mimetype="application/json",
                        headers={"Content-Disposition":
                                 f'attachment; filename="{name}.json"'})
    raise Invalid(_("format is csv or json."), fields={"format": "choice"})


# -- one record --------------------------------------------------------------------------------

@bp.get(f"/{KIND}/<int:record_id>")
def record(kind: str, record_id: int) -> str:
    _known(kind)
    item = actions.get_record(current_user, kind, record_id)
    vocab = fields.Vocabulary.load()
    matches = matching.matches_for(current_user, item) if kind == "needs" else []
    # The reader's own language first: its edition above the record, the others below.
    editions = [{**e, "abstract_html": render_plain(e.get("abstract", ""))}
                for e in item.editions or []]
    own = next((e for e in editions if e["language"] == _locale()), None)
    synthesis = kind == "reports" and item.type == "synthesis"
    return render_template(
        "registry/record.html", record=item, kind=KINDS[kind], kinds=KINDS,
        rows=present(item, vocab), own_edition=own,
        other_editions=[e for e in editions if e is not own],
        region_name=actions.region_name,
        synthesis_html=stored(render(_without_title(item.abstract, item.title)))
        if synthesis and item.abstract else None,
        synthesis_pdf=url_for("registry.synthesis_pdf", record_id=item.id)
        if synthesis and item.abstract else None,
        vocab=vocab, title=actions.display_title(item), matches=matches, summary=summary,
        can_edit=access.can_edit_record(current_user, item),
        can_publish=access.can_publish_record(current_user, item),
        contact_details=access.can_see_contact_details(current_user),
        can_discuss=current_app.extensions.get("hub_discuss") is not None
        and access.is_active_member(current_user) and item.state == PUBLISHED,
        states=STATE_LABELS, return_form=forms.ReturnForm(),
        key=actions.record_key(item), display_title=actions.display_title,
    )


def _without_title(text: str, title: str) -> str:
    """A synthesis opens with its title as a heading, for paper; the page has it above."""
    first, _sep, rest = text.partition("\n")
    return rest if first.strip() == f"# {title}" else text


def _render_form(kind: Kind, form: Any, item: Record | None, apart: dict[str, str],
                 status: int = 200) -> Any:
    forms.pad(form, kind, _locale())
    # A new need may be published by the Secretariat and the focal points of its country.
    can_publish = (access.can_publish_record(current_user, item) if item is not None
                   else access.is_secretariat(current_user) or (
                       kind.name == "needs" and bool(access.focal_point_countries(current_user))))
    return render_template("registry/form.html", kind=kind, form=form, record=item,
                           apart=apart, states=STATE_LABELS, can_publish=can_publish,
                           can_publish_all=access.is_secretariat(current_user)), status


def _form_data(kind: Kind, form: Any) -> dict[str, Any]:
    data = forms.form_data(kind, form)
    if access.is_secretariat(current_user):
        data["on_behalf_of"] = forms.on_behalf_data(form)
    return data


@bp.route(f"/{KIND}/new", methods=["GET", "POST"])
@login_required
def new(kind: str) -> Any:
    spec = _known(kind)
    if not access.can_submit_record(current_user):
        abort(403)
    if request.method == "GET":
        start = forms.starting_values(spec, current_user)
        wanted = request.args.get("country", "").upper()
        if kind == "needs" and countries.is_country(wanted):  # from a country's page
            start["country"] = wanted
        form = forms.form_class(kind)(data=start)
    else:
        form = forms.form_class(kind)()
    forms.fill_choices(form, spec, fields.Vocabulary.load(), _locale())
    apart: dict[str, str] = {}
    if form.validate_on_submit():
        action = request.form.get("action", "submit")
        state = {"draft": DRAFT, "publish": PUBLISHED}.get(action, SUBMITTED)
        try:
            item = actions.create_record(current_user, kind, _form_data(spec, form),
                                          state=state)
        except HubError as exc:
            apart = forms.place_errors(form, spec, exc.fields)
            flash(exc.message if not exc.fields else _("Please correct the marked fields."),
                  "error")
        else:
            flash({DRAFT: _("Your draft is saved. Submit it for review when it is ready."),
                   SUBMITTED: _("Thank you. The Secretariat will review the record and "
                                "publish it."),
                   PUBLISHED: _("The record is published.")}[item.state], "success")
            return redirect(url_for("registry.record", kind=kind, record_id=item.id))
    status = 422 if request.method == "POST" else 200
    return _render_form(spec, form, None, apart, status)


@bp.route(f"/{KIND}/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
def edit(kind: str, record_id: int) -> Any:
    spec = _known(kind)
    item = actions.get_record(current_user, kind, record_id)
    if not access.can_edit_record(current_user, item):
        abort(403)
    vocab = fields.Vocabulary.load()
    if request.method == "GET":
        form = forms.form_class(kind)(data=forms.initial(
            spec, {**actions.current_values(item), "on_behalf_of": item.submitter}))
    else:
        form = forms.form_class(kind)()
    forms.fill_choices(form, spec, vocab, _locale())
    apart: dict[str, str] = {}
    if form.validate_on_submit():
        action = request.form.get("action", "save")
        try:
            actions.update_record(current_user, item, _form_data(spec, form),
                                   vocab=vocab)
            if action == "submit" and item.state == DRAFT:
                actions.submit_record(current_user, item)
            elif action == "publish" and item.state != PUBLISHED:
                actions.publish_record(current_user, item)
        except HubError as exc:
            apart = forms.place_errors(form, spec, exc.fields)
            flash(exc.message if not exc.fields else _("Please correct the marked fields."),
                  "error")
        else:
            flash(_("The record is saved."), "success")
            return redirect(url_for("registry.record", kind=kind, record_id=item.id))
    status = 422 if request.method == "POST" else 200
    return _render_form(spec, form, item, apart, status)


ACTIONS = frozenset({"submit", "publish", "return", "confirm", "delete", "discuss"})


@bp.post(f"/{KIND}/<int:record_id>/<action>")
@login_required
def act(kind: str, record_id: int, action: str) -> Any:
    if action not in ACTIONS:
        abort(404)
    item = actions.get_record(current_user, kind, record_id)
    here = url_for("registry.record", kind=kind, record_id=record_id)
    try:
        if action == "submit":
            actions.submit_record(current_user, item)
            flash(_("Submitted. The Secretariat will review it."), "success")
        elif action == "publish":
            actions.publish_record(current_user, item)
            flash(_("The record is published."), "success")
        elif action == "return":
            actions.return_record(current_user, item, request.form.get("note", ""))
            flash(_("The record is back with its owner, who has been told why."), "info")
        elif action == "confirm":
            actions.confirm_record(current_user, item)
            flash(_("Thank you: the record counts as up to date from today."), "success")
        elif action == "delete":
            actions.delete_record(current_user, item)
            flash(_("The record is deleted."), "info")
            return redirect(url_for("registry.mine"))
        elif action == "discuss":
            return redirect(actions.discussion_url(current_user, item))
    except HubError as exc:
        flash(exc.message, "error")
    nxt = request.form.get("next", "")
    return redirect(nxt if nxt.startswith("/registry/") else here)


# -- members' and the Secretariat's pages ------------------------------------------------

@bp.get("/mine")
@login_required
def mine() -> str:
    return render_template("registry/mine.html", records=listing.my_records(current_user),
                           kinds=KINDS, states=STATE_LABELS, summary=summary,
                           display_title=actions.display_title)


@bp.get("/review")
@login_required
def review() -> str:
    if not (access.is_secretariat(current_user) or access.focal_point_countries(current_user)):
        abort(403)
    return render_template("registry/review.html", records=listing.review_queue(current_user),
                           kinds=KINDS, summary=summary, return_form=forms.ReturnForm(),
                           display_title=actions.display_title)


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_file() -> Any:
    if not access.can_submit_record(current_user):
        abort(403)
    form = forms.ImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows, first = exchange.read_file(upload.read(), upload.filename or "",
                                             upload.mimetype or "")
            report = exchange.import_records(
                current_user, form.kind.data, rows, first_row=first,
                publish=bool(form.publish.data and access.can_publish_record(current_user)),
                dry_run=bool(form.dry_run.data))
        except HubError as exc:
            form.file.errors = [*list(form.file.errors or []), exc.message]
    return render_template("registry/import.html", form=form, report=report, kinds=KINDS,
                           can_publish=access.can_publish_record(current_user))


@bp.route("/following", methods=["GET", "POST"])
@login_required
def following() -> Any:
    form = forms.FollowForm()
    vocab = fields.Vocabulary.load()
    form.themes.choices = options((a.slug, a.name) for a in sorted(
        vocab.by_slug.values(), key=lambda a: (a.position, a.name)) if a.active)
    form.countries.choices = options(countries.country_choices(_locale()))
    if form.validate_on_submit():
        try:
            follows.set_follows(current_user, form.themes.data or [],
                                 form.countries.data or [])
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Saved. We will email you new opportunities that match."), "success")
            return redirect(url_for("registry.following"))
    elif request.method == "GET":
        current = follows.follows(current_user)
        form.themes.data, form.countries.data = current["themes"], current["countries"]
    return render_template("registry/following.html", form=form)


def home_block() -> dict[str, Any]:
    """What the home page shows of the registry (a template global)."""
    return {"opportunities": listing.open_opportunities(4), "summary": summary,
            "display_title": actions.display_title}
