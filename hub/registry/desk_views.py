"""The registry's pages for paper and for the Secretariat's desk: the common formats as
blank forms (PDF) and fillable templates (CSV, ODS), and the synthesis report builder
with its PDF. Routes on the registry blueprint of `hub.registry.views`. Imports only
`hub`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub import access, countries
from hub.errors import HubError
from hub.registry import actions, fields, offline, pdf, synthesis
from hub.registry.forms import SynthesisForm
from hub.registry.kinds import KINDS, REPORT_TYPES
from hub.registry.views import KIND, _known, bp, summary

FORM_LANGUAGES = ("en", "es", "fr")


def _form_language() -> str:
    lang = request.args.get("lang") or actions.current_locale()
    if lang not in FORM_LANGUAGES:
        abort(404)
    return lang


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/offline")
def offline_page() -> str:
    return render_template("registry/offline.html", kinds=KINDS, languages=FORM_LANGUAGES,
                           language_label=lambda c: fields.language_name(c, c).capitalize())


@bp.get(f"/{KIND}/form.pdf")
def blank_form(kind: str) -> Response:
    spec = _known(kind)
    lang = _form_language()
    where = current_app.config.get("HUB_BASE_URL", "")
    body = pdf.blank_form(spec, lang, fields.Vocabulary.load(), where)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="registry-{kind}-form-{lang}.pdf"'})


@bp.get(f"/{KIND}/template.csv")
def csv_template(kind: str) -> Response:
    return _download(offline.csv_template(_known(kind)), "text/csv",
                     f"registry-{kind}-template.csv")


@bp.get(f"/{KIND}/template.ods")
def ods_template(kind: str) -> Response:
    lang = _form_language()
    body = offline.ods_template(_known(kind), lang, fields.Vocabulary.load())
    return _download(body, "application/vnd.oasis.opendocument.spreadsheet",
                     f"registry-{kind}-template-{lang}.ods")


# -- synthesis reports ---------------------------------------------------------------------

@bp.route("/synthesis", methods=["GET", "POST"])
@login_required
def synthesis_builder() -> Any:
    if not access.is_secretariat(current_user):
        abort(403)
    form = SynthesisForm()
    vocab = fields.Vocabulary.load()
    error = None
    args = request.args if request.method == "GET" else request.form
    try:
        choice = synthesis.choice_from(args)
    except HubError as exc:
        error, choice = exc.message, synthesis.Choice()
    found = synthesis.candidates(current_user, choice) if error is None else []
    if request.method == "POST" and form.validate_on_submit():
        try:
            draft = synthesis.compile_draft(
                current_user, [int(i) for i in request.form.getlist("report") if i.isdigit()],
                form.title.data)
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(_("The draft synthesis is ready: read it, edit it, then publish it."),
                  "success")
            return redirect(url_for("registry.record", kind="reports", record_id=draft.id))
    return render_template(
        "registry/synthesis.html", form=form, choice=choice, found=found, error=error,
        report_types=[(c, label) for c, label in REPORT_TYPES if c != "synthesis"],
        themes=[(a.slug, a.name) for a in sorted(vocab.by_slug.values(),
                                                 key=lambda a: (a.position, a.name))
                if a.active],
        country_choices=countries.country_choices(actions.current_locale()),
        summary=summary, display_title=actions.display_title, kinds=KINDS,
    ), (422 if error or request.method == "POST" else 200)


@bp.get("/reports/<int:record_id>/synthesis.pdf")
def synthesis_pdf(record_id: int) -> Response:
    record = actions.get_record(current_user, "reports", record_id)
    if record.type != "synthesis" or not record.abstract:
        abort(404)
    subtitle = " · ".join(p for p in (record.organization, summary(record)) if p)
    body = pdf.synthesis_pdf(actions.display_title(record), record.abstract, subtitle)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="synthesis-{record.id}.pdf"'})
