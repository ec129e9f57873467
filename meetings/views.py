"""The meetings' public and participants' pages: the calendar with its filters, the
iCalendar feeds (public, and per member behind a secret link), a meeting's page and
`.ics`, registration, submissions, the pre-meeting document and the follow-up trackers.
The organizers' pages are in `meetings.manage` on the same blueprint. Views parse the
request, call one service, render or redirect; no GET handler writes to the database.
Imports `hub`, `forums`, `meetings`.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from forums import attachments
from hub import access, countries, links
from hub.errors import HubError, NotAuthenticated
from hub.extensions import db
from hub.models import Member
from meetings import followup, ics, registration, services, submissions
from meetings.forms import FiltersForm, ProgressForm, RegisterForm, SubmissionForm
from meetings.models import CoOrganizer, Meeting, MeetingDocument

bp = Blueprint("meetings", __name__, url_prefix="/meetings", static_folder="static",
               static_url_path="/static")
FEED_PURPOSE = "meetings-feed"
FEED_MAX_AGE = 10 * 365 * 86400  # the link lives until the member changes password


def me() -> Member | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.errorhandler(NotAuthenticated)
def _sign_in(exc: NotAuthenticated) -> Any:
    flash(exc.message, "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def form_error(form: Any, exc: HubError) -> None:
    placed = False
    for name in exc.fields:
        fld = getattr(form, name, None)
        if fld is not None and hasattr(fld, "errors"):
            fld.errors = [*list(fld.errors), exc.message]
            placed = True
    if not placed:
        flash(exc.message, "error")


def upload(name: str) -> attachments.Upload | None:
    item = request.files.get(name)
    if item is None or not item.filename:
        return None
    return attachments.Upload(item.filename, item.mimetype or "", item.read())


def meeting_or_404(slug: str) -> Meeting:
    return services.get_meeting(me(), slug)


def _ics_response(text: str, name: str) -> Response:
    response = Response(text, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def blob(sha: str, content_type: str, name: str, inline: bool = False) -> Response:
    path = attachments.blob_path(sha)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=content_type, as_attachment=not inline,
                         download_name=name, conditional=True, etag=sha, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# -- the calendar ---------------------------------------------------------------------------

def _filters() -> services.Filters:
    args = request.args
    return services.Filters(level=args.get("level", ""), region=args.get("region", ""),
                            country=args.get("country", "").upper()[:2],
                            theme=args.get("theme", ""), kind=args.get("kind", ""))


@bp.get("/")
def index() -> str:
    form = FiltersForm(request.args)
    form.fill_choices()
    filters = _filters()
    viewer = me()
    feed = (url_for("meetings.member_feed", token=links.make(FEED_PURPOSE, viewer),
                    _external=True) if viewer else None)
    return render_template(
        "meetings/index.html", form=form, upcoming=services.calendar(viewer, filters),
        past=services.calendar(viewer, filters, past=True, limit=50), feed=feed,
        can_create=access.is_secretariat(viewer) or bool(access.chaired_group_ids(viewer)),
        labels=services.KIND_LABELS, levels=services.LEVEL_LABELS)


@bp.get("/calendar.ics")
def public_feed() -> Response:
    """Upcoming and recent public meetings."""
    rows = services.calendar(None) + services.calendar(None, past=True, limit=50)
    return _ics_response(ics.calendar(rows, name=_("Network meetings")), "meetings")


@bp.get("/feeds/<token>.ics")
def member_feed(token: str) -> Response:
    """A member's own meetings (registered or organizing), behind a secret link."""
    try:
        member, _payload = links.load(FEED_PURPOSE, token, max_age=FEED_MAX_AGE)
    except links.LinkError:
        abort(404)
    if not access.is_active_member(member):
        abort(404)
    rows = registration.member_meetings(member)
    return _ics_response(ics.calendar(rows, name=_("My meetings")), "my-meetings")


# -- one meeting ------------------------------------------------------------------------------

@bp.get("/<slug>")
def detail(slug: str) -> str:
    meeting = meeting_or_404(slug)
    viewer = me()
    mine = registration.registration_of(viewer, meeting)
    manager = services.can_manage(viewer, meeting)
    participant = mine is not None and mine.status == "confirmed"
    locale = str(get_locale() or "en")
    return render_template(
        "meetings/detail.html", meeting=meeting, mine=mine, manager=manager,
        participant=participant, refusal=registration.refusal(viewer, meeting),
        places_left=registration.places_left(meeting), form=RegisterForm(),
        local_start=services.local(meeting, meeting.starts_at),
        local_end=services.local(meeting, meeting.ends_at),
        country=countries.country_name(meeting.country, locale) if meeting.country else "",
        region=_(countries.REGIONS[meeting.region]) if meeting.region in countries.REGIONS
        else "",
        labels=services.KIND_LABELS, levels=services.LEVEL_LABELS,
        recommendations=meeting.recommendations, statuses=followup.STATUS_LABELS,
        past=services.is_past(meeting), can_submit=participant or manager)


@bp.get("/<slug>/meeting.ics")
def meeting_ics(slug: str) -> Response:
    meeting = meeting_or_404(slug)
    return _ics_response(ics.calendar([meeting]), meeting.slug)


@bp.get("/<slug>/organizers/<int:item_id>/logo")
def organizer_logo(slug: str, item_id: int) -> Response:
    meeting = meeting_or_404(slug)
    item = db.session.get(CoOrganizer, item_id)
    if item is None or item.meeting_id != meeting.id or not item.logo_sha256:
        abort(404)
    return blob(item.logo_sha256, item.logo_type, f"logo-{item.id}", inline=True)


@bp.get("/<slug>/documents/<int:document_id>/<path:filename>")
def document(slug: str, document_id: int, filename: str) -> Response:
    meeting = meeting_or_404(slug)
    row = db.session.get(MeetingDocument, document_id)
    if row is None or row.meeting_id != meeting.id or not row.sha256:
        abort(404)
    return blob(row.sha256, row.content_type, row.filename)


@bp.post("/<slug>/register")
@login_required
def register(slug: str) -> Any:
    meeting = meeting_or_404(slug)
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            row = registration.register(me(), meeting, form.note.data or "")
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash({"confirmed": _("You are registered. The invitation with the calendar "
                                  "entry is on its way."),
                   "waitlisted": _("The meeting is full: you are on the waiting list."),
                   "pending": _("Your registration waits for the organizers' approval.")
                   }[row.status], "success")
    return redirect(url_for("meetings.detail", slug=slug))


@bp.post("/<slug>/cancel-registration")
@login_required
def cancel_registration(slug: str) -> Any:
    meeting = meeting_or_404(slug)
    try:
        registration.cancel(me(), meeting)
    except HubError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Your registration is cancelled."), "info")
    return redirect(url_for("meetings.detail", slug=slug))


# -- before the meeting -------------------------------------------------------------------------

@bp.route("/<slug>/submit", methods=["GET", "POST"])
@login_required
def submit(slug: str) -> Any:
    meeting = meeting_or_404(slug)
    if not registration.is_participant(me(), meeting):
        flash(_("Only the meeting's participants submit."), "error")
        return redirect(url_for("meetings.detail", slug=slug))
    form = SubmissionForm()
    if form.validate_on_submit():
        try:
            submissions.submit(me(), meeting, form.kind.data, form.body.data or "",
                               upload("upload"))
        except HubError as exc:
            form_error(form, exc)
        else:
            flash(_("Thank you: your submission is saved and shared with the participants."),
                  "success")
            return redirect(url_for("meetings.submit", slug=slug))
    return render_template("meetings/submit.html", meeting=meeting, form=form,
                           mine=submissions.of_member(meeting, me()),
                           kinds=submissions.KIND_LABELS,
                           closed=submissions.deadline_passed(meeting))


def _premeeting(slug: str) -> tuple[Meeting, list[submissions.Section]]:
    meeting = meeting_or_404(slug)
    if not submissions.can_read(me(), meeting):
        abort(404)
    return meeting, submissions.compiled(meeting, str(get_locale() or "en"))


@bp.get("/<slug>/pre-meeting")
@login_required
def premeeting(slug: str) -> str:
    meeting, sections = _premeeting(slug)
    return render_template("meetings/premeeting.html", meeting=meeting, sections=sections,
                           missing=submissions.missing(meeting)
                           if services.can_manage(me(), meeting) else None)


@bp.get("/<slug>/pre-meeting.pdf")
@login_required
def premeeting_pdf(slug: str) -> Response:
    from flask_babel import format_datetime

    from meetings import pdf

    meeting, sections = _premeeting(slug)
    when = f"{format_datetime(meeting.starts_at, 'full')} – {format_datetime(meeting.ends_at)}"
    data = pdf.render(meeting, sections, str(get_locale() or "en"), when)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{meeting.slug}-pre.pdf"'
    return response


@bp.get("/<slug>/submissions/<int:submission_id>/file")
@login_required
def submission_file(slug: str, submission_id: int) -> Response:
    meeting = meeting_or_404(slug)
    row = submissions.get_file(me(), meeting, submission_id)
    return blob(row.sha256 or "", row.content_type, row.filename)


# -- after the meeting ----------------------------------------------------------------------------

@bp.get("/followup")
def tracker() -> str:
    status = request.args.get("status", "")
    owner = request.args.get("owner", "").strip()[:100]
    rows = followup.tracker(me(), status, owner)
    return render_template("meetings/tracker.html", rows=rows, status=status, owner_q=owner,
                           statuses=followup.STATUS_LABELS, overdue=followup.overdue)


@bp.get("/<slug>/followup", endpoint="followup")
def followup_page(slug: str) -> str:
    from meetings.forms import ProceedingsForm, RecommendationForm

    meeting = meeting_or_404(slug)
    viewer = me()
    manager = services.can_manage(viewer, meeting)
    return render_template(
        "meetings/followup.html", meeting=meeting, manager=manager,
        statuses=followup.STATUS_LABELS, overdue=followup.overdue,
        can_update=lambda rec: followup.can_update(viewer, rec),
        progress_form=ProgressForm(), rec_form=RecommendationForm(),
        proceedings_form=ProceedingsForm(proceedings=meeting.proceedings),
        past=services.is_past(meeting))


@bp.post("/<slug>/recommendations/<int:rec_id>/progress")
@login_required
def progress(slug: str, rec_id: int) -> Any:
    meeting = meeting_or_404(slug)
    rec = followup.get_recommendation(me(), meeting, rec_id)
    form = ProgressForm()
    if form.validate_on_submit():
        try:
            followup.add_progress(me(), rec, form.body.data or "", form.status.data)
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Progress recorded."), "success")
    return redirect(url_for("meetings.followup", slug=slug) + f"#rec-{rec.id}")


def init_app(app: Flask) -> None:
    from hub.views import nav_item
    from meetings import manage  # noqa: F401  (the organizers' pages, on this blueprint)

    app.register_blueprint(bp)
    nav_item(app, "meetings.index", _l("Meetings"), lambda who: True, order=35)
