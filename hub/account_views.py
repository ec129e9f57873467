"""Applying, verifying, signing in and out, password resets and invitations (`auth`), and
the member's own account (`account`): settings, password, email, API tokens."""

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
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from hub import credentials, links, services
from hub.errors import HubError
from hub.extensions import db, limiter
from hub.forms import (
    ApplyForm,
    ChangeEmailForm,
    ChangePasswordForm,
    EmailOnlyForm,
    InvitationForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
    TokenForm,
)
from hub.models import (
    ApiToken,
    Member,
    MemberStatus,
)
from hub.security import safe_next
from hub.views import config_limit, form_errors, profile_data

auth = Blueprint("auth", __name__)
account = Blueprint("account", __name__, url_prefix="/account")


# -- auth ------------------------------------------------------------------------------------

@auth.route("/apply", methods=["GET", "POST"])
@limiter.limit(config_limit("HUB_RATELIMIT_REGISTER"), methods=["POST"])
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
            form_errors(form, exc)
        else:
            session["applied_email"] = form.email.data.strip()
            return redirect(url_for("auth.applied"))
    return render_template("hub/apply.html", form=form), 422 if form.errors else 200


@auth.get("/apply/sent")
def applied() -> str:
    return render_template("hub/applied.html", email=session.get("applied_email", ""),
                           form=EmailOnlyForm())


@auth.post("/apply/resend")
@limiter.limit(config_limit("HUB_RATELIMIT_RESET"))
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
@limiter.limit(config_limit("HUB_RATELIMIT_LOGIN"), methods=["POST"])
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
@limiter.limit(config_limit("HUB_RATELIMIT_RESET"), methods=["POST"])
def forgot() -> Any:
    form = EmailOnlyForm()
    if form.validate_on_submit():
        credentials.request_password_reset(form.email.data)
        flash(_("If an account uses that address, we have emailed it a link to choose a new "
                "password. The link works once, for 48 hours."), "info")
        return redirect(url_for("auth.login"))
    return render_template("hub/forgot.html", form=form)


@auth.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(config_limit("HUB_RATELIMIT_RESET"), methods=["POST"])
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
            form_errors(form, exc)
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
            member = services.accept_invitation(token, form.password.data, profile_data(form))
        except links.LinkError as exc:
            return render_template("hub/link_error.html", reason=exc.reason), 400
        except HubError as exc:
            form_errors(form, exc)
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
            services.update_profile(member, profile_data(form))
        except HubError as exc:
            form_errors(form, exc)
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
            form_errors(form, exc)
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
            form_errors(form, exc)
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
