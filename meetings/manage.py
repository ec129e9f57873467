"""The organizers' pages, on the meetings' blueprint: creating and editing a meeting, its
co-organizers, agenda and documents, invitations, the participants and their
registrations, recommendations and the proceedings. Everything here asks
`meetings.services.can_manage` (hub.access: organizers, the Secretariat, the chair of the
meeting's group). Imports `hub`, `forums`, `meetings`.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from hub import access
from hub.errors import HubError
from meetings import followup, registration, services, submissions
from meetings.forms import (
    AgendaForm,
    DocumentForm,
    InviteForm,
    MeetingForm,
    OrganizerForm,
    ProceedingsForm,
    RecommendationForm,
    in_zone,
    to_zone,
)
from meetings.models import Meeting
from meetings.views import bp, form_error, me, meeting_or_404, upload


def _managed(slug: str) -> Meeting:
    meeting = meeting_or_404(slug)
    if not services.can_manage(me(), meeting):
        abort(403)
    return meeting


def _data(form: MeetingForm, creating: bool) -> services.MeetingData:
    zone = form.timezone.data or "UTC"
    organizers = [e.strip() for e in (form.organizers.data or "").splitlines() if e.strip()]
    return services.MeetingData(
        slug=form.slug.data if creating else None, title=form.title.data,
        kind=form.kind.data, level=form.level.data, region=form.region.data or "",
        country=form.country.data or "", theme=form.theme.data or "",
        description=form.description.data or "", timezone=zone,
        starts_at=in_zone(form.starts_at.data, zone), ends_at=in_zone(form.ends_at.data, zone),
        venue=form.venue.data or "", online_url=form.online_url.data or "",
        visibility=form.visibility.data, group=form.group.data or "",
        capacity=form.capacity.data, clear_capacity=form.capacity.data is None,
        requires_approval=form.requires_approval.data,
        registration_open=form.registration_open.data,
        submission_deadline=in_zone(form.submission_deadline.data, zone),
        clear_submission_deadline=form.submission_deadline.data is None,
        discussion=form.discussion.data, announce=form.announce.data,
        organizers=organizers if (creating or organizers) else None)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create() -> Any:
    viewer = me()
    if not (access.is_secretariat(viewer) or access.chaired_group_ids(viewer)):
        abort(403)
    form = MeetingForm()
    form.fill_choices()
    if request.method == "GET":
        form.organizers.data = viewer.email
        form.timezone.data = viewer.timezone
    if form.validate_on_submit():
        try:
            meeting = services.create_meeting(viewer, _data(form, True))
        except HubError as exc:
            form_error(form, exc)
        else:
            flash(_("The meeting is created."), "success")
            return redirect(url_for("meetings.edit", slug=meeting.slug))
    return render_template("meetings/form.html", form=form, meeting=None)


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str) -> Any:
    meeting = _managed(slug)
    form = MeetingForm(obj=meeting) if request.method == "GET" else MeetingForm()
    form.fill_choices()
    if request.method == "GET":
        form.theme.data = meeting.thematic_area.slug if meeting.thematic_area else ""
        form.group.data = meeting.group.slug if meeting.group else ""
        form.country.data = meeting.country or ""
        form.region.data = meeting.region or ""
        for name in ("starts_at", "ends_at", "submission_deadline"):
            getattr(form, name).data = to_zone(getattr(meeting, name), meeting.timezone)
        form.discussion.data = meeting.board is not None and not meeting.board.locked
        form.announce.data = meeting.announced_at is not None
        form.organizers.data = "\n".join(m.email for m in services.organizers(meeting))
    form.slug.data = meeting.slug
    if form.validate_on_submit():
        try:
            services.update_meeting(me(), meeting, _data(form, False))
        except HubError as exc:
            form_error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("meetings.edit", slug=slug))
    return render_template("meetings/form.html", form=form, meeting=meeting,
                           organizer_form=OrganizerForm(), agenda_form=AgendaForm(),
                           document_form=DocumentForm(), invite_form=InviteForm())


@bp.post("/<slug>/organizers")
@login_required
def add_organizer(slug: str) -> Any:
    meeting = _managed(slug)
    form = OrganizerForm()
    if form.validate_on_submit():
        try:
            services.add_organizer(me(), meeting, form.name.data, form.url.data or "",
                                   upload("logo"))
        except HubError as exc:
            flash(exc.message, "error")
    else:
        flash(_("The partner organization's name is required."), "error")
    return redirect(url_for("meetings.edit", slug=slug) + "#organizers")


@bp.post("/<slug>/agenda")
@login_required
def add_agenda(slug: str) -> Any:
    meeting = _managed(slug)
    form = AgendaForm()
    if form.validate_on_submit():
        try:
            services.add_agenda_item(me(), meeting, form.title.data, form.description.data or "",
                                     in_zone(form.starts_at.data, meeting.timezone))
        except HubError as exc:
            flash(exc.message, "error")
    else:
        flash(_("An agenda item needs a title."), "error")
    return redirect(url_for("meetings.edit", slug=slug) + "#agenda")


@bp.post("/<slug>/documents")
@login_required
def add_document(slug: str) -> Any:
    meeting = _managed(slug)
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            services.add_document(me(), meeting, form.title.data, form.language.data,
                                  form.url.data or "", upload("upload"))
        except HubError as exc:
            flash(exc.message, "error")
    else:
        flash(_("A document needs a title."), "error")
    return redirect(url_for("meetings.edit", slug=slug) + "#documents")


@bp.post("/<slug>/<any(organizer, agenda, document):what>/<int:item_id>/remove")
@login_required
def remove(slug: str, what: str, item_id: int) -> Any:
    meeting = _managed(slug)
    services.remove_item(me(), meeting, what, item_id)
    flash(_("Removed."), "info")
    return redirect(url_for("meetings.edit", slug=slug))


@bp.post("/<slug>/invite")
@login_required
def invite(slug: str) -> Any:
    meeting = _managed(slug)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            people = registration.invite(me(), meeting, form.emails.data or "",
                                         form.whole_group.data)
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Invitations sent to %(n)d people.", n=len(people)), "success")
    return redirect(url_for("meetings.edit", slug=slug) + "#invite")


@bp.get("/<slug>/participants")
@login_required
def participants(slug: str) -> str:
    meeting = _managed(slug)
    return render_template("meetings/participants.html", meeting=meeting,
                           rows=registration.registrations(meeting),
                           missing={m.id for m in submissions.missing(meeting)},
                           places_left=registration.places_left(meeting))


@bp.post("/<slug>/registrations/<int:registration_id>/<any(approve, decline):action>")
@login_required
def decide(slug: str, registration_id: int, action: str) -> Any:
    meeting = _managed(slug)
    row = registration.get_registration(me(), meeting, registration_id)
    try:
        if action == "approve":
            registration.approve(me(), row)
        else:
            registration.decline(me(), row, request.form.get("reason", ""))
    except HubError as exc:
        flash(exc.message, "error")
    return redirect(url_for("meetings.participants", slug=slug))


def _rec_data(form: RecommendationForm) -> followup.RecommendationData:
    return followup.RecommendationData(
        text=form.text.data, owner_email=form.owner_email.data or "",
        owner_organization=form.owner_organization.data or "", due_on=form.due_on.data,
        clear_due_on=form.due_on.data is None, status=form.status.data)


@bp.post("/<slug>/recommendations")
@login_required
def add_recommendation(slug: str) -> Any:
    meeting = _managed(slug)
    form = RecommendationForm()
    if form.validate_on_submit():
        try:
            followup.add_recommendation(me(), meeting, _rec_data(form))
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Recommendation added."), "success")
    else:
        flash(_("A recommendation needs its text."), "error")
    return redirect(url_for("meetings.followup", slug=slug))


@bp.post("/<slug>/recommendations/<int:rec_id>")
@login_required
def edit_recommendation(slug: str, rec_id: int) -> Any:
    meeting = _managed(slug)
    rec = followup.get_recommendation(me(), meeting, rec_id)
    form = RecommendationForm()
    if form.validate_on_submit():
        try:
            followup.update_recommendation(me(), rec, _rec_data(form))
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Saved."), "success")
    return redirect(url_for("meetings.followup", slug=slug) + f"#rec-{rec.id}")


@bp.post("/<slug>/proceedings")
@login_required
def proceedings(slug: str) -> Any:
    meeting = _managed(slug)
    form = ProceedingsForm()
    if form.validate_on_submit():
        try:
            followup.save_proceedings(me(), meeting, form.proceedings.data or "")
            if request.form.get("publish"):
                followup.publish(me(), meeting)
                flash(_("The proceedings are published and filed in the registry's "
                        "reports."), "success")
            else:
                flash(_("Saved."), "success")
        except HubError as exc:
            flash(exc.message, "error")
    return redirect(url_for("meetings.followup", slug=slug) + "#proceedings")


@bp.post("/<slug>/cancel")
@login_required
def cancel_meeting(slug: str) -> Any:
    meeting = _managed(slug)
    try:
        registration.cancel_meeting(me(), meeting, request.form.get("reason", ""))
    except HubError as exc:
        flash(exc.message, "error")
    else:
        flash(_("The meeting is cancelled; everyone registered has been told."), "info")
    return redirect(url_for("meetings.detail", slug=slug))
