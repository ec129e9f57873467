"""The conferences' pages: the list, creating and editing, the public page,
registration, participants and invitations, and the participants' discussion (round by
round); the rounds, moderation, statistics and proceedings are in
`conferences.running_views`, on the same blueprint. Views parse the request, call one
service, render or redirect; no GET handler writes to the database.

Anything of a closed conference's discussion answers 404 to outsiders, never 403.
Imports `hub`, `forums`, `conferences`.
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

from conferences import cancellation, editing, participation, services, times
from conferences import proceedings as proc
from conferences.forms import (
    AnonymityForm,
    ApplyForm,
    ArchiveForm,
    CancelForm,
    ConferenceForm,
    DeleteForm,
    DocumentForm,
    InviteForm,
    PartnerForm,
    ReasonForm,
    SummaryForm,
    to_local,
    to_utc,
)
from conferences.models import (
    APPROVED,
    INVITED,
    PENDING,
    Conference,
    Document,
    Partner,
)
from forums import attachments, queries
from hub import access, content, content_forms, countries
from hub import services as hub_services
from hub.errors import HubError, NotAuthenticated
from hub.extensions import db
from hub.forms import ORG_TYPE_LABELS, REGION_LABELS, options
from hub.models import Group, Member

bp = Blueprint("conferences", __name__, url_prefix="/conferences", static_folder="static",
               static_url_path="/static")


def current_member() -> Member | None:
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


def find_conference(slug: str) -> Conference:
    return services.get_conference(current_member(), slug)


def managed_conference(slug: str) -> Conference:
    conference = find_conference(slug)
    services.require_manager(current_member(), conference)
    return conference


def secretariat_conference(slug: str) -> Conference:
    conference = find_conference(slug)
    if not access.is_secretariat(current_member()):
        services.require_manager(current_member(), conference)  # 404 for outsiders
        abort(403)
    return conference


def _participant(slug: str) -> Conference:
    conference = find_conference(slug)
    services.require_participant(current_member(), conference)
    return conference


def _upload(name: str) -> attachments.Upload | None:
    item = request.files.get(name)
    if item is None or not item.filename:
        return None
    return attachments.Upload(item.filename, item.mimetype or "", item.read())


def page_context(conference: Conference) -> dict[str, Any]:
    """What every conference page's header needs."""
    me = current_member()
    state = services.status(conference)
    return {
        "conference": conference, "state": state,
        "state_label": services.STATUS_LABELS[state],
        "manager": services.can_manage(me, conference),
        "participant": services.can_take_part(me, conference),
        "secretariat": access.is_secretariat(me),
    }


# -- the list ----------------------------------------------------------------------------------

@bp.get("/")
def index() -> str:
    me = current_member()
    return render_template("conferences/index.html", listing=services.listing(me),
                           labels=services.STATUS_LABELS, secretariat=access.is_secretariat(me))


# -- creating and editing ------------------------------------------------------------------------

def _fill_form(form: ConferenceForm) -> None:
    form.thematic_area.choices = options(
        [("", _l("None")), *((a.slug, content.shown(a, "name"))
                             for a in hub_services.thematic_areas())])
    form.countries.choices = options(countries.country_choices(str(get_locale() or "en")))


def _conference_data(form: ConferenceForm, creating: bool, secretariat: bool
                     ) -> editing.ConferenceData:
    data = editing.ConferenceData(
        title=form.title.data, theme=form.theme.data or "",
        description=form.description.data or "",
        registration_opens_at=to_utc(form.registration_opens_at.data),
        registration_closes_at=to_utc(form.registration_closes_at.data),
        clear_registration_closes_at=form.registration_closes_at.data is None,
        opens_at=to_utc(form.opens_at.data), closes_at=to_utc(form.closes_at.data),
        premoderated=bool(form.premoderated.data), auto_approve=bool(form.auto_approve.data),
        contact_name=form.contact_name.data or "", contact_email=form.contact_email.data or "",
        thematic_area=form.thematic_area.data or "", keywords=form.keywords.data or "",
        translations=content_forms.read(form), source_lang=content_forms.source(form),
        countries=list(form.countries.data or []),
    )
    if creating:
        data.slug = form.slug.data
    if secretariat:
        data.moderators = [line.strip() for line in (form.moderators.data or "").split()
                           if line.strip()]
        data.lead_moderator = form.lead_moderator.data or None
        data.announce = bool(form.announce.data)
    return data


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    if not access.is_secretariat(current_member()):
        abort(403)
    form = ConferenceForm()
    _fill_form(form)
    if form.validate_on_submit():
        try:
            conference = editing.create_conference(current_member(),
                                                   _conference_data(form, True, True))
        except HubError as exc:
            form_error(form, exc)
        else:
            flash(_("The e-conference is created. Add its rounds next."), "success")
            return redirect(url_for("conferences.detail", slug=conference.slug))
    status = 422 if request.method == "POST" else 200
    return render_template("conferences/form.html", form=form, conference=None), status


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str) -> Any:
    conference = managed_conference(slug)
    secretariat = access.is_secretariat(current_member())
    form = ConferenceForm(obj=conference if request.method == "GET" else None)
    _fill_form(form)
    if request.method == "GET":
        board = conference.board
        for name in ("registration_opens_at", "registration_closes_at", "opens_at",
                     "closes_at"):
            getattr(form, name).data = to_local(getattr(conference, name))
        form.premoderated.data = board.premoderated
        form.thematic_area.data = board.thematic_area.slug if board.thematic_area else ""
        form.moderators.data = "\n".join(m.email for m in services.moderators(conference))
        form.lead_moderator.data = (conference.lead_moderator.email
                                    if conference.lead_moderator else "")
        form.announce.data = conference.announced_at is not None
        content_forms.fill(form, conference)
    form.slug.data = conference.slug
    if form.validate_on_submit():
        try:
            editing.update_conference(current_member(), conference,
                                      _conference_data(form, False, secretariat))
        except HubError as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The e-conference is saved."), "success")
            return redirect(url_for("conferences.detail", slug=slug))
    status = 422 if request.method == "POST" else 200
    return render_template("conferences/form.html", form=form, partner_form=PartnerForm(),
                           document_form=DocumentForm(),
                           archive_form=ArchiveForm(archive=editing.archive_state(conference)),
                           **page_context(conference)), status


@bp.post("/<slug>/partners")
@login_required
def add_partner(slug: str) -> Any:
    conference = managed_conference(slug)
    form = PartnerForm()
    if form.validate_on_submit():
        try:
            editing.add_partner(current_member(), conference, form.name.data, form.url.data or "",
                                _upload("logo"))
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(_("The partner is added."), "success")
    else:
        flash(_("Please give the partner's name (and a PNG or JPEG logo)."), "error")
    return redirect(url_for("conferences.edit", slug=slug) + "#partners")


@bp.post("/<slug>/partners/<int:partner_id>/delete")
@login_required
def remove_partner(slug: str, partner_id: int) -> Any:
    editing.remove_partner(current_member(), managed_conference(slug), partner_id)
    flash(_("The partner is removed."), "info")
    return redirect(url_for("conferences.edit", slug=slug) + "#partners")


@bp.get("/<slug>/partners/<int:partner_id>/logo")
def partner_logo(slug: str, partner_id: int) -> Response:
    conference = find_conference(slug)
    partner = db.session.get(Partner, partner_id)
    if partner is None or partner.conference_id != conference.id or not partner.logo_sha256:
        abort(404)
    return _blob(partner.logo_sha256, partner.logo_type, f"logo-{partner.id}", inline=True)


@bp.post("/<slug>/documents")
@login_required
def add_document(slug: str) -> Any:
    conference = managed_conference(slug)
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            editing.add_document(current_member(), conference, form.title.data, form.url.data or "",
                                 _upload("file"))
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(_("The document is added."), "success")
    else:
        flash(_("Please give the document a title."), "error")
    return redirect(url_for("conferences.edit", slug=slug) + "#documents")


@bp.post("/<slug>/documents/<int:document_id>/delete")
@login_required
def remove_document(slug: str, document_id: int) -> Any:
    editing.remove_document(current_member(), managed_conference(slug), document_id)
    flash(_("The document is removed."), "info")
    return redirect(url_for("conferences.edit", slug=slug) + "#documents")


@bp.get("/<slug>/documents/<int:document_id>/<path:filename>")
def document(slug: str, document_id: int, filename: str) -> Response:
    conference = find_conference(slug)
    row = db.session.get(Document, document_id)
    if row is None or row.conference_id != conference.id or not row.sha256:
        abort(404)
    return _blob(row.sha256, row.content_type, row.filename,
                 inline=row.content_type in attachments.INLINE_IMAGE_TYPES)


def _blob(sha: str, content_type: str, name: str, inline: bool) -> Response:
    path = attachments.blob_path(sha)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=content_type, as_attachment=not inline,
                         download_name=name, conditional=True, etag=sha, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/<slug>/archive")
@login_required
def archive(slug: str) -> Any:
    conference = secretariat_conference(slug)
    form = ArchiveForm()
    if form.validate_on_submit():
        try:
            editing.set_archive(current_member(), conference, form.archive.data)
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Who can read the discussion is saved."), "success")
    return redirect(url_for("conferences.edit", slug=slug) + "#archive")


@bp.route("/<slug>/cancel", methods=["GET", "POST"])
@login_required
def cancel(slug: str) -> Any:
    conference = secretariat_conference(slug)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            cancellation.cancel_conference(current_member(), conference, form.reason.data)
        except HubError as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The e-conference is cancelled. Everyone concerned is emailed the "
                    "reason."), "success")
            return redirect(url_for("conferences.detail", slug=slug))
    status = 422 if request.method == "POST" else 200
    return render_template("conferences/cancel.html", form=form,
                           refusal=cancellation.cancellation_refusal(conference),
                           **page_context(conference)), status


@bp.route("/<slug>/delete", methods=["GET", "POST"])
@login_required
def delete(slug: str) -> Any:
    conference = secretariat_conference(slug)
    form = DeleteForm()
    if form.validate_on_submit():
        if form.confirm.data.strip() != conference.slug:
            form.confirm.errors = [_("Type the short name exactly as shown.")]
        else:
            title = conference.title
            try:
                cancellation.delete_conference(current_member(), conference)
            except HubError as exc:
                db.session.rollback()
                flash(exc.message, "error")
            else:
                flash(_("The e-conference “%(title)s” is deleted.", title=title), "success")
                return redirect(url_for("conferences.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("conferences/delete.html", form=form,
                           refusal=cancellation.deletion_refusal(conference),
                           **page_context(conference)), status


# -- the public page ----------------------------------------------------------------------------

@bp.get("/<slug>")
def detail(slug: str) -> str:
    conference = find_conference(slug)
    me = current_member()
    registration = services.registration_of(me, conference) if me else None
    proceedings = proc.get(conference)
    context = page_context(conference)
    return render_template(
        "conferences/detail.html", registration=registration,
        registration_open=services.registration_is_open(conference),
        refusal=participation.registration_refusal(conference),
        moderators=services.moderators(conference),
        current_rounds=services.current_rounds(conference),
        proceedings=proceedings if proceedings and proceedings.is_published else None,
        apply_form=ApplyForm(), anonymity_form=AnonymityForm(
            anonymous=registration.anonymous if registration else False),
        zone=times.spelled, **context)


# -- registration --------------------------------------------------------------------------------

@bp.route("/<slug>/register", methods=["GET", "POST"])
@login_required
def register(slug: str) -> Any:
    conference = find_conference(slug)
    form = ApplyForm()
    if form.validate_on_submit():
        try:
            registration = participation.apply(current_member(), conference, form.motivation.data,
                                               bool(form.anonymous.data))
        except HubError as exc:
            form_error(form, exc)
        else:
            if registration.status == APPROVED:
                flash(_("You are registered. Welcome to the e-conference!"), "success")
            else:
                flash(_("Thank you. The moderators will look at your registration; we will "
                        "email you their decision."), "success")
            return redirect(url_for("conferences.detail", slug=slug))
    status = 422 if request.method == "POST" else 200
    return render_template("conferences/register.html", form=form,
                           refusal=participation.registration_refusal(conference),
                           registration=services.registration_of(current_member(), conference),
                           **page_context(conference)), status


@bp.post("/<slug>/registration/<action>")
@login_required
def registration_action(slug: str, action: str) -> Any:
    if action not in {"withdraw", "accept", "anonymity"}:
        abort(404)
    conference = find_conference(slug)
    if action == "withdraw":
        participation.withdraw(current_member(), conference)
        flash(_("You have left the e-conference."), "info")
    elif action == "accept":
        participation.accept_invitation(current_member(), conference)
        flash(_("You are registered. Welcome to the e-conference!"), "success")
    else:
        form = AnonymityForm()
        if form.validate_on_submit():
            participation.set_anonymous(current_member(), conference, bool(form.anonymous.data))
            flash(_("Your choice for the proceedings is saved."), "success")
    return redirect(url_for("conferences.detail", slug=slug))


# -- participants and invitations -----------------------------------------------------------------

@bp.get("/<slug>/participants")
@login_required
def participants(slug: str) -> str:
    conference = managed_conference(slug)
    rows = services.registrations(conference)
    return render_template(
        "conferences/participants.html", pending=[r for r in rows if r.status == PENDING],
        approved=[r for r in rows if r.status == APPROVED],
        invited=[r for r in rows if r.status == INVITED],
        others=[r for r in rows if r.status not in {PENDING, APPROVED, INVITED}],
        reason_form=ReasonForm(), org_types=ORG_TYPE_LABELS, **page_context(conference))


@bp.post("/<slug>/registrations/<int:registration_id>/<action>")
@login_required
def decide(slug: str, registration_id: int, action: str) -> Any:
    if action not in {"approve", "decline"}:
        abort(404)
    conference = managed_conference(slug)
    registration = participation.get_registration(current_member(), conference, registration_id)
    name = registration.member.name
    if action == "approve":
        participation.approve(current_member(), registration)
        flash(_("%(name)s is a participant now and has been told.", name=name), "success")
    else:
        form = ReasonForm()
        if not form.validate_on_submit():
            flash(_("Please give the applicant a reason."), "error")
        else:
            participation.decline(current_member(), registration, form.reason.data)
            flash(_("The registration of %(name)s is declined; the reason was emailed.",
                    name=name), "info")
    return redirect(url_for("conferences.participants", slug=slug))


def _invite_form(conference: Conference) -> InviteForm:
    form = InviteForm()
    me = current_member()
    groups = db.session.scalars(db.select(Group).where(Group.kind != "conference")
                                .order_by(Group.name)).all()
    if not access.is_secretariat(me):
        mine = access.group_ids(me)
        groups = [g for g in groups if g.id in mine]
    form.group.choices = options([("", _l("No group")), *((g.slug, g.name) for g in groups)])
    return form


@bp.route("/<slug>/invite", methods=["GET", "POST"])
@login_required
def invite(slug: str) -> Any:
    conference = managed_conference(slug)
    form = _invite_form(conference)
    report = None
    if form.validate_on_submit():
        try:
            report = participation.invite(current_member(), conference, form.people.data or "",
                                          form.group.data or "")
        except HubError as exc:
            form_error(form, exc)
    return render_template("conferences/invite.html", form=form, report=report,
                           **page_context(conference))


# -- the discussion ---------------------------------------------------------------------------

@bp.get("/<slug>/discussion")
def discussion(slug: str) -> str:
    conference = _participant(slug)
    me = current_member()
    board = conference.board
    pinned, topics, nxt = queries.board_topics(me, board, request.args.get("before"))
    round_topics = {r.topic_id for r in conference.rounds if r.topic_id}
    others = [t for t in pinned + topics if t.id not in round_topics]
    return render_template(
        "conferences/discussion.html", board=board, others=others, next_args=nxt,
        post=access.check_post(me, board), summary_form=SummaryForm(),
        current_rounds=services.current_rounds(conference), **page_context(conference))


# -- wiring --------------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    from conferences import running_views  # noqa: F401 - its routes join `bp` first
    from hub.views import nav_item

    app.register_blueprint(bp)
    nav_item(app, "conferences.index", _l("E-conferences"), lambda who: True, order=30)
    app.extensions["hub_home"].append(("conferences/_home.html", 25))
    app.extensions["hub_desk"].append(("conferences.index", _l("E-conferences")))

    @app.template_global()
    def conferences_home() -> services.Listing:
        return services.listing(current_member())

    app.jinja_env.globals["spelled"] = times.spelled
    app.jinja_env.globals["spelled_date"] = times.spelled_date
    app.jinja_env.globals["iso_date"] = proc._date
    app.jinja_env.globals.setdefault("region_labels", REGION_LABELS)

