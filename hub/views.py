"""The hub's core pages (home, language, rules, health), what every page module shares
(the member loader, the Secretariat-only decorator, form errors, rate-limit settings) and
the wiring: `init_app` registers the blueprints of `account_views`, `member_views` and
`secretariat_views` and the main navigation. Views parse, call one service, render or
redirect."""

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
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import bindparam

from hub import access, health, inputs, services
from hub.errors import HubError
from hub.extensions import db, limiter, login_manager
from hub.i18n import LANGUAGE_COOKIE
from hub.models import (
    Member,
)
from hub.security import safe_next

main = Blueprint("main", __name__)


PER_PAGE = 30


def config_limit(key: str) -> Callable[[], str]:
    return lambda: current_app.config[key]


def secretariat_required(fn: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(fn)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not access.is_secretariat(current_user):
            abort(403)
        return fn(*args, **kwargs)

    return wrapper


def form_errors(form: Any, exc: HubError) -> None:
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


def profile_data(form: Any) -> services.ProfileData:
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
    params = {"id": int(member_id)}
    ask = _page_load()
    if ask is None:
        member = db.session.execute(_member_by_id(), params).scalar_one_or_none()
    else:
        statement, more = ask
        row = db.session.execute(statement, {**more, **params}).one_or_none()
        member = row[0] if row is not None else None
    if member is None or member.session_version != int(version):
        return None  # the password changed or the account was deactivated
    if ask is not None:
        g.hub_member_load = (request.endpoint, more, tuple(row)[1:])
    return member


def load_with_member(app: Flask, endpoint: str,
                     build: Callable[[dict[str, Any]], tuple[Any, dict[str, Any]] | None]
                     ) -> None:
    """Let a page's first statement come with the signed-in member's load: `build` gets
    the request's view arguments and returns (statement, parameters) or None. The
    statement selects `Member` first, filtered by `Member.id == bindparam("id")`, one
    row; the page reads the rest with `loaded_with_member`. Access is still decided by
    the page, after the load, with the member it gets."""
    app.extensions["hub_member_loads"][endpoint] = build


def loaded_with_member(endpoint: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """The rest of the member's load if this request's page asked for it with these
    parameters (taken once), else None (the page runs its own statement)."""
    kept = g.pop("hub_member_load", None)
    if kept is None or kept[0] != endpoint or kept[1] != params:
        return None
    return kept[2]


def _page_load() -> tuple[Any, dict[str, Any]] | None:
    if not has_request_context() or request.endpoint is None:
        return None
    build = current_app.extensions["hub_member_loads"].get(request.endpoint)
    return build(request.view_args or {}) if build is not None else None


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
    from hub import account_views, api_views, cli, member_views, registry, secretariat_views

    app.extensions.setdefault("hub_nav", [])
    app.extensions.setdefault("hub_home", [])  # (template, order) blocks on the home page
    app.extensions.setdefault("hub_desk", [])  # (endpoint, label) on the Secretariat's desk
    app.extensions.setdefault("hub_periodic", [])  # callables the worker runs each round
    app.extensions.setdefault("hub_seeders", [])  # demo content, called with the members
    app.extensions.setdefault("hub_services", {"worker": _worker_service})  # for `hub dev`
    app.extensions.setdefault("hub_member_loads", {})  # endpoint -> load_with_member's build
    for bp in (main, account_views.auth, account_views.account, member_views.members,
               member_views.groups, secretariat_views.secretariat):
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
