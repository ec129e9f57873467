"""Running an e-conference: its rounds (opening, closing, summaries), the moderators'
queue and statistics, and the proceedings (compiled, edited, published; as a page, a PDF
and plain text). Routes of the `conferences` blueprint (`conferences.views`)."""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required

from conferences import agenda, services
from conferences import proceedings as proc
from conferences.forms import (
    CompileForm,
    HeldEditForm,
    ProceedingsForm,
    ReasonForm,
    RoundForm,
    SummaryForm,
    to_local,
    to_utc,
)
from conferences.views import (
    bp,
    current_member,
    find_conference,
    form_error,
    managed_conference,
    page_context,
    secretariat_conference,
)
from forums import services as forums
from hub import access, content_forms, markup
from hub.errors import HubError, NotFound
from hub.extensions import db
from hub.forms import options
from hub.i18n import LANGUAGE_NAMES
from hub.security import safe_next

# -- rounds ------------------------------------------------------------------------------------

def _round_data(form: RoundForm) -> agenda.RoundData:
    return agenda.RoundData(title=form.title.data, question=form.question.data,
                            opens_at=to_utc(form.opens_at.data),
                            closes_at=to_utc(form.closes_at.data),
                            translations=content_forms.read(form),
                            source_lang=content_forms.source(form))


@bp.route("/<slug>/rounds/new", methods=["GET", "POST"])
@login_required
def new_round(slug: str) -> Any:
    conference = managed_conference(slug)
    form = RoundForm()
    if form.validate_on_submit():
        try:
            agenda.add_round(current_member(), conference, _round_data(form))
        except HubError as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The round is added to the agenda."), "success")
            return redirect(url_for("conferences.detail", slug=slug) + "#agenda")
    status = 422 if request.method == "POST" else 200
    return render_template("conferences/round_form.html", form=form, item=None,
                           **page_context(conference)), status


@bp.route("/<slug>/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@login_required
def edit_round(slug: str, round_id: int) -> Any:
    conference = managed_conference(slug)
    item = agenda.get_round(current_member(), conference, round_id)
    form = RoundForm(obj=item if request.method == "GET" else None)
    if request.method == "GET":
        form.opens_at.data, form.closes_at.data = to_local(item.opens_at), to_local(
            item.closes_at)
        content_forms.fill(form, item)
    if form.validate_on_submit():
        try:
            agenda.update_round(current_member(), item, _round_data(form))
        except HubError as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The round is saved."), "success")
            return redirect(url_for("conferences.detail", slug=slug) + "#agenda")
    status = 422 if request.method == "POST" else 200
    return render_template("conferences/round_form.html", form=form, item=item,
                           **page_context(conference)), status


@bp.post("/<slug>/rounds/<int:round_id>/<action>")
@login_required
def round_action(slug: str, round_id: int, action: str) -> Any:
    if action not in {"lock", "unlock", "pin", "unpin", "delete"}:
        abort(404)
    conference = managed_conference(slug)
    item = agenda.get_round(current_member(), conference, round_id)
    if action in {"lock", "unlock"}:
        agenda.set_round_locked(current_member(), item, action == "lock")
        flash(_("The round is locked.") if action == "lock" else _("The round is unlocked."),
              "success")
    elif action in {"pin", "unpin"}:
        agenda.set_round_pinned(current_member(), item, action == "pin")
        flash(_("The round is pinned.") if action == "pin" else _("The round is unpinned."),
              "success")
    else:
        agenda.delete_round(current_member(), item)
        flash(_("The round is removed from the agenda."), "info")
    return redirect(safe_next(request.form.get("next"),
                              url_for("conferences.detail", slug=slug) + "#agenda"))


@bp.route("/<slug>/rounds/<int:round_id>/summary", methods=["GET", "POST"])
@login_required
def summary(slug: str, round_id: int) -> Any:
    conference = managed_conference(slug)
    item = agenda.get_round(current_member(), conference, round_id)
    form = SummaryForm()
    if form.validate_on_submit():
        try:
            post = agenda.post_summary(current_member(), item, form.body.data)
        except HubError as exc:
            form_error(form, exc)
        else:
            flash(_("The summary is posted in the round's thread."), "success")
            return redirect(url_for("forums.post_link", post_id=post.id, view="threaded"))
    status = 422 if request.method == "POST" else 200
    return render_template("conferences/summary.html", form=form, item=item,
                           decision=access.check_post(current_member(), conference.board,
                                                      kind="summary"),
                           **page_context(conference)), status


# -- moderation --------------------------------------------------------------------------------

@bp.get("/<slug>/moderation")
@login_required
def moderation(slug: str) -> str:
    conference = managed_conference(slug)
    return render_template("conferences/moderation.html",
                           posts=services.held_posts(current_member(), conference),
                           reason_form=ReasonForm(), **page_context(conference))


@bp.route("/<slug>/moderation/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_held(slug: str, post_id: int) -> Any:
    conference = managed_conference(slug)
    post = forums.get_post(current_member(), post_id)
    if post.topic.board_id != conference.board_id:
        raise NotFound(_("No such post."))
    form = HeldEditForm()
    if request.method == "GET":
        form.body.data = post.body
    if form.validate_on_submit():
        try:
            services.edit_and_approve(current_member(), post, form.body.data)
        except HubError as exc:
            form_error(form, exc)
        else:
            flash(_("The post is edited and published; it is marked as edited by a "
                    "moderator."), "success")
            return redirect(url_for("conferences.moderation", slug=slug))
    status = 422 if request.method == "POST" else 200
    return render_template("conferences/edit_held.html", form=form, post=post,
                           **page_context(conference)), status


@bp.get("/<slug>/statistics")
@login_required
def statistics(slug: str) -> str:
    conference = managed_conference(slug)

    return render_template("conferences/statistics.html",
                           stats=services.statistics(conference, str(get_locale() or "en")),
                           **page_context(conference))


# -- proceedings --------------------------------------------------------------------------------

@bp.get("/<slug>/proceedings/edit")
@login_required
def proceedings_editor(slug: str) -> str:
    conference = secretariat_conference(slug)
    row = proc.get(conference)
    compile_form = CompileForm(language=row.language if row else "en")
    compile_form.language.choices = options(LANGUAGE_NAMES.items())
    form = ProceedingsForm(obj=row)
    return render_template("conferences/proceedings_edit.html", row=row, form=form,
                           compile_form=compile_form,
                           can_compile=services.status(conference) in {services.CLOSED,
                                                                       services.PUBLISHED},
                           **page_context(conference))


@bp.post("/<slug>/proceedings/compile")
@login_required
def proceedings_compile(slug: str) -> Any:
    conference = secretariat_conference(slug)
    form = CompileForm()
    form.language.choices = options(LANGUAGE_NAMES.items())
    if form.validate_on_submit():
        proc.compile_draft(current_member(), conference, form.language.data)
        flash(_("The draft is compiled from the conference. Your edited texts are kept."),
              "success")
    return redirect(url_for("conferences.proceedings_editor", slug=slug))


@bp.post("/<slug>/proceedings/edit")
@login_required
def proceedings_save(slug: str) -> Any:
    conference = secretariat_conference(slug)
    form = ProceedingsForm()
    if form.validate_on_submit():
        summaries = {key.removeprefix("summary-"): value for key, value in request.form.items()
                     if key.startswith("summary-")}
        try:
            proc.update_draft(current_member(), conference, title=form.title.data,
                              introduction=form.introduction.data or "",
                              conclusions=form.conclusions.data or "", summaries=summaries)
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(_("The draft is saved."), "success")
    else:
        flash(_("The proceedings need a title."), "error")
    return redirect(url_for("conferences.proceedings_editor", slug=slug))


@bp.post("/<slug>/proceedings/publish")
@login_required
def proceedings_publish(slug: str) -> Any:
    conference = secretariat_conference(slug)
    proc.publish(current_member(), conference)
    flash(_("The proceedings are published: a public page, a PDF and a text version. The "
            "participants have been emailed."), "success")
    return redirect(url_for("conferences.proceedings", slug=slug))


@bp.get("/<slug>/proceedings")
def proceedings(slug: str) -> str:
    conference = find_conference(slug)
    draft = request.args.get("draft") == "1" and access.is_secretariat(current_member())
    if draft:
        row = proc.get(conference)
        if row is None or not row.content:
            raise NotFound(_("Compile the proceedings first."))
        data = proc.edition(row)
    else:
        row = proc.published(conference)
        data = row.edition
    return render_template("conferences/proceedings.html", data=data, row=row, draft=draft,
                           stored=markup.stored, links=proc.public_urls(conference),
                           **page_context(conference))


@bp.get("/<slug>/proceedings.pdf")
def proceedings_pdf(slug: str) -> Response:
    row = proc.published(find_conference(slug))
    response = current_app.response_class(row.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{slug}-proceedings.pdf"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<slug>/proceedings.txt")
def proceedings_text(slug: str) -> Response:
    row = proc.published(find_conference(slug))
    return current_app.response_class(row.text, mimetype="text/plain; charset=utf-8")
