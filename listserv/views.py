"""The listserv's pages: how email works (addresses and commands), the member's email
settings, one-click unsubscribe (RFC 8058, no login), the confirmation of a change asked
for by email (no login either: the mailed token is the key), and for the Secretariat
the log of received mail (verdicts, reasons, reprocessing) and failed list deliveries.
Views parse, call one service, render or redirect. Imports `hub`, `forums`, `listserv`.
"""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from forums import services as forums
from forums import subscriptions
from forums.forms import MODE_LABELS
from forums.models import Board
from hub import access, api
from hub.errors import HubError
from hub.extensions import csrf, db
from hub.views import nav_item, secretariat_required
from listserv import (
    addresses,
    announcements,
    confirmations,
    digests,
    inbound,
    membership,
    services,
)
from listserv.models import INBOUND_STATUSES, CommandRequest, Delivery, InboundMessage

bp = Blueprint("listserv", __name__, url_prefix="/lists", static_folder="static",
               static_url_path="/static")

PER_PAGE = 50


def _me() -> Any:
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.get("/", endpoint="help")
def help_page() -> str:
    boards = [b for b in db.session.scalars(db.select(Board).order_by(Board.name))
              if access.can_read(_me(), b)]
    return render_template("listserv/help.html", boards=boards, addresses=addresses,
                           domain=addresses.domain())


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    me = _me()
    if request.method == "POST":
        if "delivery" in request.form:
            services.set_delivery(me, request.form["delivery"] == "on")
            flash(_("List mail is on again.") if request.form["delivery"] == "on"
                  else _("List mail is off."), "success")
        elif "digest_format" in request.form or any(
                key.startswith("mode-") for key in request.form):
            _save_all_modes(me)  # the page's one Save: every board's mode, and the format
        else:
            board = db.session.scalar(db.select(Board).where(
                Board.slug == request.form.get("board", "")))
            if board is None:
                abort(404)
            try:
                subscriptions.set_subscription(me, board, request.form.get("mode", ""))
            except HubError as exc:
                flash(exc.message, "error")
            else:
                flash(_("Your email setting for %(board)s is saved.", board=board.name),
                      "success")
        return redirect(url_for("listserv.settings"))
    boards = forums.readable_boards(me, kind=None)
    modes = {b.id: subscriptions.subscription_mode(me, board=b) for b in boards}
    return render_template("listserv/settings.html", boards=boards, modes=modes,
                           labels=MODE_LABELS, addresses=addresses,
                           digest_format=digests.digest_format(me))


def _save_all_modes(me: Any) -> None:
    """The settings page's one Save: every board's mode (`mode-<slug>`), the changed
    ones stored, and the digest format."""
    failed = False
    if "digest_format" in request.form:
        digests.set_digest_format(me, request.form["digest_format"])
    for board in forums.readable_boards(me, kind=None):
        wanted = request.form.get(f"mode-{board.slug}")
        if wanted is None or wanted == subscriptions.subscription_mode(me, board=board):
            continue
        try:
            subscriptions.set_subscription(me, board, wanted)
        except HubError as exc:
            failed = True
            flash(exc.message, "error")
    if not failed:
        flash(_("Your email settings are saved."), "success")


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail providers POST here without a session; the token is the key
def unsubscribe(token: str) -> Any:
    if request.method == "GET":
        if addresses.parse_unsubscribe_token(token) is None:
            abort(404)
        return render_template("listserv/unsubscribe.html", token=token, done=False)
    member, board = services.unsubscribe_by_token(token)
    if request.form.get("List-Unsubscribe") == "One-Click":
        done = (_("You are unsubscribed from %(board)s.", board=board.name) if board
                else _("Your digests are stopped."))
        return done, 200, {
            "Content-Type": "text/plain; charset=utf-8"}
    return render_template("listserv/unsubscribe.html", token=token, done=True, board=board,
                           member=member)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Any:
    """A change asked for by email: the page says what will be done; only the button (a
    POST with its CSRF token) does it, since mail scanners follow links. No sign-in: the
    token, mailed to the member's registered address, is the key."""
    lookup = confirmations.find(token)
    if lookup.problem or lookup.request is None:
        return render_template("listserv/confirm.html", problem=confirmations.problem_text(
            lookup)), 404 if lookup.problem == confirmations.INVALID else 410
    if request.method == "GET":
        return render_template("listserv/confirm.html", pending=lookup.request, token=token,
                               changes=_changes(lookup.request))
    try:
        done, outcomes = confirmations.confirm_token(token)
    except HubError as exc:
        return render_template("listserv/confirm.html", problem=exc.message), exc.status
    return render_template("listserv/confirm.html", pending=done, outcomes=outcomes)


def _changes(pending: CommandRequest) -> list[tuple[str, str]]:
    return [(c.command, confirmations.effect(pending.board, c.mode))
            for c in confirmations.changes_of(pending)]


# -- the Secretariat --------------------------------------------------------------------------

@bp.route("/defaults", methods=["GET", "POST"])
@secretariat_required
def defaults() -> Any:
    """Which boards a newly approved member follows by email, and how."""
    if request.method == "POST":
        ids = [int(v) for v in request.form.getlist("board") if v.isdigit()]
        try:
            membership.save(_me(), ids, request.form.get("board_mode", ""),
                            request.form.get("thematic_mode", ""))
        except HubError as exc:
            flash(exc.message, "error")
            return redirect(url_for("listserv.defaults"))
        flash(_("The defaults are saved. They apply to members approved from now on."),
              "success")
        return redirect(url_for("listserv.defaults"))
    boards = list(db.session.scalars(db.select(Board).order_by(Board.position, Board.name)))
    return render_template("listserv/defaults.html", boards=boards,
                           current=membership.current(), labels=MODE_LABELS,
                           modes=membership.DIGEST_MODES)


@bp.route("/announce", methods=["GET", "POST"])
@secretariat_required
def announce() -> Any:
    """The Secretariat writes to all members, a group, a country or a region."""
    form = announcements.form_data(request.form) if request.method == "POST" else None
    if form is not None:
        try:
            post = announcements.send(_me(), form)
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(ngettext("The announcement is posted and goes to %(num)d member.",
                           "The announcement is posted and goes to %(num)d members.",
                           announcements.audience_size(form, _me())), "success")
            return redirect(url_for("forums.post_link", post_id=post.id))
    return render_template("listserv/announce.html", **announcements.choices(), form=form)



@bp.get("/mail")
@secretariat_required
def mail_log() -> str:
    status = request.args.get("status", "")
    query = db.select(InboundMessage).order_by(InboundMessage.id.desc())
    if status in INBOUND_STATUSES:
        query = query.where(InboundMessage.status == status)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    found = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    return render_template("listserv/mail_log.html", page=found, status=status,
                           statuses=INBOUND_STATUSES)


@bp.get("/mail/<int:message_id>")
@secretariat_required
def mail_detail(message_id: int) -> str:
    row = db.get_or_404(InboundMessage, message_id)
    parsed = BytesParser(policy=policy.compat32).parsebytes(row.raw, headersonly=True)
    return render_template("listserv/mail_detail.html", row=row,
                           headers=list(parsed.items()),
                           raw=row.raw[:200_000].decode("utf-8", errors="replace"))


@bp.post("/mail/<int:message_id>/<any(reprocess, drop):action>")
@secretariat_required
def mail_action(message_id: int, action: str) -> Any:
    row = db.get_or_404(InboundMessage, message_id)
    if action == "drop":
        inbound.drop(row)
        flash(_("The message is dropped."), "info")
    else:
        try:
            status = inbound.reprocess(row)
        except HubError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Processed again: %(status)s.", status=status), "info")
    return redirect(url_for("listserv.mail_detail", message_id=message_id))


@bp.get("/deliveries")
@secretariat_required
def deliveries() -> str:
    rows = db.session.scalars(
        db.select(Delivery).where(Delivery.status.in_(["failed", "pending"]))
        .order_by(Delivery.id.desc()).limit(200)).all()
    return render_template("listserv/deliveries.html", rows=rows)


@bp.post("/deliveries/<int:delivery_id>/<any(retry, drop):action>")
@secretariat_required
def delivery_action(delivery_id: int, action: str) -> Any:
    row = db.get_or_404(Delivery, delivery_id)
    if action == "retry":
        services.retry_delivery(row)
        flash(_("The delivery is queued again."), "info")
    else:
        services.drop_delivery(row)
        flash(_("The delivery is dropped."), "info")
    return redirect(url_for("listserv.deliveries"))


QUIET_ENDPOINTS = frozenset({"static", "main.home", "main.healthz", None})


def _delivery_notice() -> None:
    """Tell a member whose list mail stopped (bounces), once per session, on any page."""
    if request.endpoint in QUIET_ENDPOINTS or api.is_api_request():
        return  # the home page has its own notice (listserv/_home.html)
    # The member Flask-Login loads for the page anyway (one load a request), and only
    # when the session names one: visitors' requests load nobody here.
    if "_user_id" not in session or session.get("listserv_notice"):
        return
    me = _me()
    if me is None or not me.delivery_disabled:
        return
    session["listserv_notice"] = True
    flash(_("Mail to %(email)s kept bouncing, so the lists stopped writing to you. Check "
            "the address and turn list mail back on in your email settings.",
            email=me.email), "warning")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_delivery_notice)
    app.extensions["hub_desk"].append(("listserv.mail_log", _l("Received mail")))
    app.extensions["hub_desk"].append(("listserv.deliveries", _l("List deliveries")))
    app.extensions["hub_desk"].append(("listserv.defaults", _l("Email defaults")))
    app.extensions["hub_desk"].append(("listserv.announce", _l("Write to members")))
    app.extensions["hub_home"].append(("listserv/_home.html", 5))
    nav_item(app, "listserv.help", _l("Email"), lambda who: True, order=25)
