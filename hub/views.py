"""The hub's pages: home, applying and signing in, the member's account, the directory,
groups and the Secretariat's desk. Views parse, call one service, render or redirect."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, func

from hub import access, content_forms, countries, credentials, health, inputs, links, services
from hub import directory as name_search
from hub import groups as hub_groups
from hub.content import shown
from hub.errors import HubError
from hub.extensions import db, limiter, login_manager
from hub.forms import (
    ORG_TYPE_LABELS,
    REGION_LABELS,
    ROLE_LABELS,
    ApplyForm,
    AreaForm,
    ChangeEmailForm,
    ChangePasswordForm,
    DirectoryForm,
    EmailOnlyForm,
    GroupAddForm,
    GroupForm,
    InvitationForm,
    InviteForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
    RejectForm,
    RoleForm,
    SiteTextForm,
    TokenForm,
    options,
)
from hub.i18n import LANGUAGE_COOKIE
from hub.markup import linked_text, render_plain
from hub.models import (
    ApiToken,
    AuditEntry,
    DevMail,
    Group,
    Job,
    Member,
    MemberStatus,
    ThematicArea,
)
from hub.security import safe_next

main = Blueprint("main", __name__)
auth = Blueprint("auth", __name__)
account = Blueprint("account", __name__, url_prefix="/account")
members = Blueprint("members", __name__, url_prefix="/members")
groups = Blueprint("groups", __name__, url_prefix="/groups")
secretariat = Blueprint("secretariat", __name__, url_prefix="/secretariat")

PER_PAGE = 30


def _limit(key: str) -> Callable[[], str]:
    return lambda: current_app.config[key]


def secretariat_required(fn: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(fn)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not access.is_secretariat(current_user):
            abort(403)
        return fn(*args, **kwargs)

    return wrapper


def _form_errors(form: Any, exc: HubError) -> None:
    """Show a service refusal on the form: next to the field when it names one."""
    placed = False
    for name in exc.fields:
        fld = getattr(form, name, None)
        if fld is not None:
            fld.errors = [*fld.errors, exc.message] if isinstance(fld.errors, list) else [
                exc.message]
            placed = True
    if not placed:
        flash(exc.message, "error")


def _profile_data(form: Any) -> services.ProfileData:
    return services.ProfileData(
        name=form.name.data or "",
        organization=form.organization.data or "",
        org_type=form.org_type.data or "other",
        country=form.country.data or "",
        expertise=tuple(form.expertise.data or ()),
        bio=form.bio.data or "",
        language=form.language.data or "en",
        timezone=form.timezone.data or "UTC",
        show_email=bool(getattr(form, "show_email", None) and form.show_email.data),
    )


@login_manager.user_loader
def load_member(session_id: str) -> Member | None:
    member_id, _, version = session_id.partition(":")
    if not inputs.is_id(member_id) or not inputs.is_id(version):
        return None
    member = db.session.execute(_member_by_id(), {"id": int(member_id)}).scalar_one_or_none()
    if member is None or member.session_version != int(version):
        return None  # the password changed or the account was deactivated
    return member


@cache
def _member_by_id() -> Any:
    """Built once: each request's member load binds only the id (cheaper than
    `session.get`, which builds its statement anew)."""
    return db.select(Member).where(Member.id == bindparam("id"))


login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"


# -- main ------------------------------------------------------------------------------------

@main.get("/")
def home() -> str:
    return render_template("hub/home.html", sections=current_app.extensions["hub_home"],
                           welcome=services.site_text("welcome"))


@main.get("/language/<code>")
def set_language(code: str) -> Any:
    response = redirect(safe_next(request.args.get("next"), url_for("main.home")))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"])
        if current_user.is_authenticated:
            current_user.language = code
            db.session.commit()
    return response


@main.get("/rules")
def rules() -> str:
    return render_template("hub/rules.html", text=services.site_text("rules"))


@main.get("/healthz")
@limiter.exempt
def healthz() -> Any:
    """JSON for load balancers and monitors: 200 when everything answers, else 503
    naming what is down (`hub.health`: checked at most every HUB_HEALTH_SECONDS).
    Pages, sign-in and posting keep working without Redis."""
    return health.report()


# -- auth ------------------------------------------------------------------------------------

@auth.route("/apply", methods=["GET", "POST"])
@limiter.limit(_limit("HUB_RATELIMIT_REGISTER"), methods=["POST"])
def apply() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = ApplyForm()
    form.fill_choices(services.thematic_areas())
    if request.method == "GET":
        form.language.data = str(request.accept_languages.best_match(
            current_app.config["LANGUAGES"]) or "en")
        form.timezone.data = "UTC"
    if form.validate_on_submit():
        try:
            services.apply(services.Application(
                name=form.name.data, email=form.email.data, password=form.password.data,
                organization=form.organization.data, org_type=form.org_type.data,
                country=form.country.data, expertise=tuple(form.expertise.data or ()),
                bio=form.bio.data or "", language=form.language.data,
                timezone=form.timezone.data, accept_rules=form.accept_rules.data,
            ))
        except HubError as exc:
            _form_errors(form, exc)
        else:
            session["applied_email"] = form.email.data.strip()
            return redirect(url_for("auth.applied"))
    return render_template("hub/apply.html", form=form), 422 if form.errors else 200


@auth.get("/apply/sent")
def applied() -> str:
    return render_template("hub/applied.html", email=session.get("applied_email", ""),
                           form=EmailOnlyForm())


@auth.post("/apply/resend")
@limiter.limit(_limit("HUB_RATELIMIT_RESET"))
def resend() -> Any:
    form = EmailOnlyForm()
    if form.validate_on_submit():
        try:
            services.resend_verification(form.email.data)
        except HubError:
            pass
        flash(_("If that address is waiting for confirmation, we have sent a new link."), "info")
    return redirect(url_for("auth.applied"))


@auth.get("/verify/<token>")
def verify(token: str) -> Any:
    try:
        member = services.verify_email(token)
    except links.LinkError as exc:
        return render_template("hub/link_error.html", reason=exc.reason), 400
    return render_template("hub/verified.html", member=member)


@auth.get("/status")
def status() -> Any:
    """Where an applicant stands; reached after signing in with a pending account."""
    member_id = session.get("status_member")
    member = db.session.get(Member, member_id) if member_id else None
    if member is None:
        return redirect(url_for("auth.login"))
    return render_template("hub/status.html", member=member)


@auth.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("HUB_RATELIMIT_LOGIN"), methods=["POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        member = credentials.authenticate(form.email.data, form.password.data)
        if member is None:
            flash(_("That email address and password do not match an account."), "error")
        elif member.status == MemberStatus.ACTIVE:
            login_user(member, remember=form.remember.data)
            session.pop("status_member", None)
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
        else:
            # The password was right, so telling the owner where they stand leaks nothing.
            session["status_member"] = member.id
            return redirect(url_for("auth.status"))
    return render_template("hub/login.html", form=form)


@auth.post("/logout")
def logout() -> Any:
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.home"))


@auth.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_limit("HUB_RATELIMIT_RESET"), methods=["POST"])
def forgot() -> Any:
    form = EmailOnlyForm()
    if form.validate_on_submit():
        credentials.request_password_reset(form.email.data)
        flash(_("If an account uses that address, we have emailed it a link to choose a new "
                "password. The link works once, for 48 hours."), "info")
        return redirect(url_for("auth.login"))
    return render_template("hub/forgot.html", form=form)


@auth.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("HUB_RATELIMIT_RESET"), methods=["POST"])
def reset(token: str) -> Any:
    try:
        links.load("reset", token)
    except links.LinkError as exc:
        return render_template("hub/link_error.html", reason=exc.reason), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            credentials.reset_password(token, form.password.data)
        except links.LinkError as exc:
            return render_template("hub/link_error.html", reason=exc.reason), 400
        except HubError as exc:
            _form_errors(form, exc)
        else:
            flash(_("Your password is changed. Please sign in."), "success")
            return redirect(url_for("auth.login"))
    return render_template("hub/reset.html", form=form)


@auth.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Any:
    try:
        member = services.invitation_member(token)
    except links.LinkError as exc:
        return render_template("hub/link_error.html", reason=exc.reason), 400
    form = InvitationForm(obj=member if request.method == "GET" else None)
    form.fill_choices(services.thematic_areas())
    if request.method == "GET":
        form.expertise.data = [a.id for a in member.expertise]
        form.language.data = member.language
        form.timezone.data = member.timezone
    if form.validate_on_submit():
        try:
            member = services.accept_invitation(token, form.password.data, _profile_data(form))
        except links.LinkError as exc:
            return render_template("hub/link_error.html", reason=exc.reason), 400
        except HubError as exc:
            _form_errors(form, exc)
        else:
            login_user(member)
            flash(_("Welcome to the network!"), "success")
            # An invitation to something (an e-conference) brings the person back to it.
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
    return render_template("hub/invitation.html", form=form, member=member)


@auth.get("/confirm-email/<token>")
def confirm_email(token: str) -> Any:
    try:
        member = credentials.confirm_email_change(token)
    except links.LinkError as exc:
        return render_template("hub/link_error.html", reason=exc.reason), 400
    except HubError as exc:
        return render_template("error.html", status=exc.status, message=exc.message), exc.status
    flash(_("Your email address is now %(email)s.", email=member.email), "success")
    return redirect(url_for("account.settings") if current_user.is_authenticated
                    else url_for("auth.login"))


# -- the member's account ------------------------------------------------------------------------

@account.route("/", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    member: Member = current_user
    form = ProfileForm(obj=member if request.method == "GET" else None)
    form.fill_choices(services.thematic_areas())
    if request.method == "GET":
        form.expertise.data = [a.id for a in member.expertise]
    if form.validate_on_submit():
        try:
            services.update_profile(member, _profile_data(form))
        except HubError as exc:
            _form_errors(form, exc)
        else:
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("account.settings"))
    return render_template("hub/settings.html", form=form)


@account.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            credentials.change_password(current_user, form.current_password.data,
                                        form.password.data)
        except HubError as exc:
            _form_errors(form, exc)
        else:
            # Keep this session (its id carries the new version); every other one has ended.
            login_user(current_user._get_current_object())
            flash(_("Your password is changed. You are signed out everywhere else."), "success")
            return redirect(url_for("account.settings"))
    return render_template("hub/password.html", form=form)


@account.route("/email", methods=["GET", "POST"])
@login_required
def email() -> Any:
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            credentials.request_email_change(current_user, form.email.data, form.password.data)
        except HubError as exc:
            _form_errors(form, exc)
        else:
            flash(_("We have sent a confirmation link to the new address. Your address "
                    "changes when you follow it."), "info")
            return redirect(url_for("account.settings"))
    return render_template("hub/email.html", form=form)


@account.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> Any:
    from hub import api

    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        secret = api.create_token(current_user, form.name.data or "")
        db.session.commit()
    rows = db.session.scalars(
        db.select(ApiToken).where(ApiToken.member_id == current_user.id)
        .order_by(ApiToken.created_at.desc())
    ).all()
    return render_template("hub/tokens.html", form=form, tokens=rows, secret=secret)


@account.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Any:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.member_id != current_user.id:
        abort(404)
    from hub import clock

    token.revoked_at = clock.now()
    db.session.commit()
    flash(_("The token is revoked."), "info")
    return redirect(url_for("account.tokens"))


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
            _form_errors(form, exc)
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
            _form_errors(form, exc)
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
            _form_errors(form, exc)
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


def _worker_service(app: Flask, stop: Any) -> None:
    from hub import jobs

    jobs.work_forever(app, stop)


# -- wiring ------------------------------------------------------------------------------------

def nav_item(app: Flask, endpoint: str, label: Any, visible: Callable[[Any], bool],
             order: int = 50) -> None:
    """Packages add their entries to the main navigation without hub knowing them."""
    app.extensions["hub_nav"].append((order, endpoint, label, visible))
    app.extensions["hub_nav"].sort(key=lambda item: item[0])


def nav(who: Any) -> list[tuple[str, Any]]:
    """The main navigation `who` sees: (endpoint, label)."""
    return [(endpoint, label) for _, endpoint, label, visible
            in current_app.extensions["hub_nav"] if visible(who)]


def init_app(app: Flask) -> None:
    from hub import api_views, cli, registry

    app.extensions.setdefault("hub_nav", [])
    app.extensions.setdefault("hub_home", [])  # (template, order) blocks on the home page
    app.extensions.setdefault("hub_desk", [])  # (endpoint, label) on the Secretariat's desk
    app.extensions.setdefault("hub_periodic", [])  # callables the worker runs each round
    app.extensions.setdefault("hub_seeders", [])  # demo content, called with the members
    app.extensions.setdefault("hub_services", {"worker": _worker_service})  # for `hub dev`
    for bp in (main, auth, account, members, groups, secretariat):
        app.register_blueprint(bp)
    api_views.init_app(app)
    cli.init_app(app)
    nav_item(app, "members.directory", _l("Members"), access.is_active_member, order=80)
    nav_item(app, "groups.index", _l("Groups"), access.is_active_member, order=85)
    nav_item(app, "secretariat.desk", _l("Secretariat"), access.is_secretariat, order=95)
    registry.init_app(app)

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"nav": nav(current_user), "hub_name": app.config["HUB_NAME"]}

    @app.template_global()
    def reply_link_next() -> str:
        return request.full_path.rstrip("?")
