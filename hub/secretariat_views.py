"""The Secretariat's desk (`secretariat`): applications, members and roles, invitations,
thematic areas, site texts, the dev mailbox, the audit log and background jobs."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func

from hub import content_forms, services
from hub.errors import HubError
from hub.extensions import db
from hub.forms import (
    ORG_TYPE_LABELS,
    ROLE_LABELS,
    AreaForm,
    InviteForm,
    RejectForm,
    RoleForm,
    SiteTextForm,
)
from hub.markup import linked_text
from hub.models import (
    AuditEntry,
    DevMail,
    Job,
    Member,
    MemberStatus,
    ThematicArea,
)
from hub.security import safe_next
from hub.views import PER_PAGE, form_errors, secretariat_required

secretariat = Blueprint("secretariat", __name__, url_prefix="/secretariat")


# -- the Secretariat's desk ---------------------------------------------------------------------

@secretariat.get("/")
@secretariat_required
def desk() -> str:
    counts = {
        "pending": db.session.scalar(db.select(func.count()).where(
            Member.status == MemberStatus.PENDING)),
        "failed_jobs": db.session.scalar(db.select(func.count()).where(Job.status == "failed")),
    }
    return render_template("hub/secretariat/desk.html", counts=counts,
                           links=current_app.extensions["hub_desk"])


@secretariat.get("/applications")
@secretariat_required
def applications() -> str:
    return render_template("hub/secretariat/applications.html",
                           applicants=services.pending_applications(),
                           reject=RejectForm(), org_types=ORG_TYPE_LABELS)


@secretariat.post("/applications/<int:member_id>/approve")
@secretariat_required
def approve(member_id: int) -> Any:
    member = db.get_or_404(Member, member_id)
    try:
        services.approve(current_user, member)
    except HubError as exc:
        flash(str(exc), "error")
    else:
        flash(_("%(name)s is approved and has been told.", name=member.name), "success")
    return redirect(safe_next(request.form.get("next"), url_for("secretariat.applications")))


@secretariat.post("/applications/<int:member_id>/reject")
@secretariat_required
def reject(member_id: int) -> Any:
    form = RejectForm()
    member = db.get_or_404(Member, member_id)
    if not form.validate_on_submit():
        flash(_("Please give the applicant a reason."), "error")
        return redirect(url_for("secretariat.applications"))
    services.reject(current_user, member, form.reason.data)
    flash(_("The application of %(name)s is rejected; the reason was emailed.",
            name=member.name), "info")
    return redirect(url_for("secretariat.applications"))


@secretariat.get("/members")
@secretariat_required
def member_list() -> str:
    status = request.args.get("status", "")
    query = db.select(Member).order_by(Member.created_at.desc())
    if status in {s.value for s in MemberStatus}:
        query = query.where(Member.status == status)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    found = db.paginate(query, page=page, per_page=50, error_out=False)
    return render_template("hub/secretariat/members.html", page=found, status=status,
                           statuses=[s.value for s in MemberStatus], roles=ROLE_LABELS)


@secretariat.post("/members/<int:member_id>/deactivate")
@secretariat_required
def deactivate(member_id: int) -> Any:
    member = db.get_or_404(Member, member_id)
    services.deactivate(current_user, member)
    flash(_("%(name)s is deactivated.", name=member.name), "info")
    return redirect(url_for("members.profile", member_id=member.id))


@secretariat.post("/members/<int:member_id>/reactivate")
@secretariat_required
def reactivate(member_id: int) -> Any:
    member = db.get_or_404(Member, member_id)
    services.reactivate(current_user, member)
    flash(_("%(name)s is active again.", name=member.name), "success")
    return redirect(url_for("members.profile", member_id=member.id))


@secretariat.post("/members/<int:member_id>/role")
@secretariat_required
def role(member_id: int) -> Any:
    form = RoleForm()
    member = db.get_or_404(Member, member_id)
    if form.validate_on_submit():
        services.set_role(current_user, member, form.role.data)
        flash(_("The role is saved."), "success")
    return redirect(url_for("members.profile", member_id=member.id))


@secretariat.route("/invite", methods=["GET", "POST"])
@secretariat_required
def invite() -> Any:
    form = InviteForm()
    report = None
    if form.validate_on_submit():
        raw = form.file.data.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
        try:
            report = services.invite_csv(current_user, text)
        except HubError as exc:
            form_errors(form, exc)
    return render_template("hub/secretariat/invite.html", form=form, report=report)


@secretariat.route("/areas", methods=["GET", "POST"])
@secretariat_required
def areas() -> Any:
    form = AreaForm()
    if form.validate_on_submit():
        area_id = request.form.get("area_id", type=int)
        area = db.session.get(ThematicArea, area_id) if area_id else None
        try:
            services.save_area(current_user, form.name.data, area, form.position.data,
                               form.active.data, translations=content_forms.read(form))
        except HubError as exc:
            form_errors(form, exc)
        else:
            flash(_("The thematic area is saved."), "success")
            return redirect(url_for("secretariat.areas"))
    return render_template("hub/secretariat/areas.html", form=form,
                           areas=services.thematic_areas(include_inactive=True))


@secretariat.route("/texts/<key>", methods=["GET", "POST"])
@secretariat_required
def site_text(key: str) -> Any:
    """The network's rules and welcome text, with their translations side by side."""
    if key not in services.SITE_TEXTS:
        abort(404)
    row = services.site_text(key)
    form = SiteTextForm(obj=row if request.method == "GET" else None)
    if request.method == "GET":
        content_forms.fill(form, row)
    if form.validate_on_submit():
        services.save_site_text(current_user, key, form.body.data or "",
                                translations=content_forms.read(form),
                                source_lang=content_forms.source(form))
        flash(_("The text is saved."), "success")
        return redirect(url_for("secretariat.site_text", key=key))
    return render_template("hub/secretariat/text.html", form=form, key=key, row=row)


@secretariat.get("/mailbox")
@secretariat_required
def mailbox() -> str:
    page = max(1, request.args.get("page", 1, type=int) or 1)
    to = (request.args.get("to") or "").strip()[:254]
    query = db.select(DevMail).order_by(DevMail.id.desc())
    if to:  # the Secretariat's local mailbox, never large: a scan is fine here
        query = query.where(func.lower(DevMail.recipients).contains(to.lower(),
                                                                    autoescape=True))
    found = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    return render_template("hub/secretariat/mailbox.html", page=found, to=to,
                           smtp=current_app.config.get("HUB_SMTP_HOST"))


@secretariat.get("/mailbox/<int:mail_id>")
@secretariat_required
def mail_message(mail_id: int) -> str:
    from email import policy
    from email.parser import BytesParser

    row = db.get_or_404(DevMail, mail_id)
    message = BytesParser(policy=policy.default).parsebytes(row.raw)
    part = message.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else ""
    return render_template("hub/secretariat/mail.html", row=row, message=message,
                           text=linked_text(text),
                           raw=row.raw.decode("utf-8", errors="replace"))


@secretariat.get("/audit")
@secretariat_required
def audit_log() -> str:
    page = max(1, request.args.get("page", 1, type=int) or 1)
    found = db.paginate(db.select(AuditEntry).order_by(AuditEntry.id.desc()), page=page,
                        per_page=50, error_out=False)
    return render_template("hub/secretariat/audit.html", page=found)


@secretariat.get("/jobs")
@secretariat_required
def job_list() -> str:
    rows = db.session.scalars(
        db.select(Job).where(Job.status.in_(["failed", "queued", "running"]))
        .order_by(Job.id.desc()).limit(200)
    ).all()
    return render_template("hub/secretariat/jobs.html", jobs=rows)


@secretariat.post("/jobs/<int:job_id>/<any(retry, drop):what>")
@secretariat_required
def job_action(job_id: int, what: str) -> Any:
    from hub import jobs

    if what == "retry":
        jobs.retry(job_id)
        flash(_("The job is queued again."), "info")
    else:
        job = db.get_or_404(Job, job_id)
        job.status = "dropped"
        db.session.commit()
        flash(_("The job is dropped."), "info")
    return redirect(url_for("secretariat.job_list"))
