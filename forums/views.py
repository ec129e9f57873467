"""The forums' pages: the board list, boards, topics (threaded and flat), posting,
editing, subscriptions, read markers and attachments (moderators' and the Secretariat's
pages are in `forums.moderation_views`, on the same blueprint). Views parse the request,
call one service, render or redirect.

No GET handler writes to the database: read markers move through POST (the page's
beacon, "mark as read", or posting).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    get_template_attribute,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from markupsafe import escape
from sqlalchemy import func

from forums import (
    attachments,
    cache,
    editing,
    feeds,
    queries,
    read_markers,
    search,
    services,
    sockets,
    subscriptions,
)
from forums import moderation as forum_moderation
from forums.forms import (
    MODE_LABELS,
    EditForm,
    ReasonForm,
    ReplyForm,
    SubscriptionForm,
    TopicForm,
)
from forums.mentions import handle
from forums.models import Attachment, Board, Post, Topic
from hub import access, api, content, inputs, markup, personal
from hub.errors import HubError, NotAuthenticated, NotFound
from hub.extensions import db, limiter
from hub.models import Member
from hub.security import safe_next
from hub.urls import fast_url

bp = Blueprint("forums", __name__, url_prefix="/forums", static_folder="static",
               static_url_path="/static")

RESERVED = frozenset({"topics", "posts", "files", "moderation", "manage", "static", "new",
                      "search"})


def post_limit() -> str:
    return current_app.config["HUB_RATELIMIT_POST"]


def poster_key() -> str:
    """Flood limits count per member, not per address (offices share one address)."""
    if api.is_api_request():
        member = api.caller()
        return f"member:{member.id}" if member is not None else get_remote_address()
    if current_user.is_authenticated:
        return f"member:{current_user.id}"
    return get_remote_address()


def current_member() -> Member | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.errorhandler(NotAuthenticated)
def _sign_in(exc: NotAuthenticated) -> Any:
    flash(exc.message, "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def form_error(form: Any, exc: HubError) -> None:
    placed = False
    for name in exc.fields:
        fld = getattr(form, name, None) or (form.files if name == "attachments"
                                            and hasattr(form, "files") else None)
        if fld is not None:
            fld.errors = [*list(fld.errors), exc.message]
            placed = True
    if not placed:
        flash(exc.message, "error")


def _uploads() -> list[attachments.Upload]:
    return [attachments.Upload(f.filename or "", f.mimetype or "", f.read())
            for f in request.files.getlist("files") if f and f.filename]


def find_board(slug: str) -> Board:
    return services.get_board(current_member(), slug)


def find_topic(topic_id: int) -> Topic:
    return services.get_topic(current_member(), topic_id)


def find_post(post_id: int) -> Post:
    return services.get_post(current_member(), post_id)


def post_url(post: Post, size: int | None = None, view: str = "flat") -> str:
    """The page that holds a post, with its anchor: in the flat view (the default: a
    stable page number), or in the threaded view (the topic's first page when the post
    is on it, else the page that starts at the post)."""
    size = size or current_app.config["HUB_FORUM_PAGE_SIZE"]
    if view == "threaded":
        before = db.session.scalar(db.select(func.count()).select_from(Post).where(
            Post.topic_id == post.topic_id, Post.thread_key < post.thread_key))
        at = {} if (before or 0) < size else {"at": post.thread_key}
        return fast_url("forums.topic", topic_id=post.topic_id, **at) + f"#p{post.id}"
    return fast_url("forums.topic", topic_id=post.topic_id, view="flat",
                   page=queries.page_of(post.position, size)) + f"#p{post.id}"


def return_view() -> str:
    """The view a member came from (reply, quote, edit forms carry it): threaded unless
    they were reading the flat view."""
    return "flat" if request.values.get("view") == "flat" else "threaded"


# -- the board list ------------------------------------------------------------------------

@bp.get("/")
def index() -> Any:
    me = current_member()
    boards = services.readable_boards(me)
    key = cache.index_key(boards)
    if key is not None and (copy := cache.pages().get(key)) is not None:
        return Response(copy, mimetype="text/html")
    overview = queries.index_overview(me, boards)
    categories: dict[str, list[Board]] = {}
    for board in sorted(boards, key=lambda b: (b.position, b.name)):
        heading = content.shown(board, "category") or _("Other boards")
        categories.setdefault(heading, []).append(board)
    # Categories come in the order of their first board: the Secretariat orders both.
    html = render_template("forums/index.html", categories=categories, overview=overview)
    if key is not None:
        cache.pages().put(key, html.encode())
    return html


# -- feeds ---------------------------------------------------------------------------------

@bp.get("/<slug>/feed.atom")
def board_feed(slug: str) -> Response:
    """A public board's newest topics (Atom); other boards have no feed (404)."""
    place = db.session.scalar(db.select(Board).where(Board.slug == slug))
    if place is None:
        abort(404)
    return feeds.board_feed(place)


@bp.get("/topics/<int:topic_id>/feed.atom")
def topic_feed(topic_id: int) -> Response:
    """A topic's newest posts (Atom), for topics on public boards."""
    item = db.session.get(Topic, topic_id)
    if item is None:
        abort(404)
    return feeds.topic_feed(item)


# -- search --------------------------------------------------------------------------------

@bp.get("/search")
def search_page() -> Any:
    """Full-text search, newest first, in the boards the reader may read."""
    me = current_member()
    filters, errors = search.parse_filters(me, request.args)
    hits, before = [], None
    if filters.q and not errors:
        try:
            hits, before = search.search(me, filters)
        except HubError as exc:
            errors["q"] = exc.message
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    return render_template("forums/search.html", filters=filters, errors=errors, hits=hits,
                           next_args={**args, "before": before} if before else None,
                           boards=services.readable_boards(me, kind=None),
                           searched=bool(filters.q)), 422 if errors else 200


# -- a board -------------------------------------------------------------------------------

@bp.get("/<slug>")
def board(slug: str) -> Any:
    place = find_board(slug)  # access first, always
    key = cache.board_key(place)
    if key is not None and (copy := cache.pages().get(key)) is not None:
        return Response(copy, mimetype="text/html")
    page = queries.board_page(current_member(), place, request.args.get("before"))
    html = render_template("forums/board.html", page=page, board=place,
                           sub_form=SubscriptionForm(mode=page.subscription),
                           modes=MODE_LABELS)
    if key is not None:
        cache.pages().put(key, html.encode())
    return html


@bp.get("/<slug>/live")
def board_live(slug: str) -> Any:
    """The first page of a board's topic rows for this reader (JSON for live.js, after
    it reconnects)."""
    return jsonify(sockets.board_rows(current_member(), find_board(slug)))


@bp.route("/<slug>/new", methods=["GET", "POST"])
@login_required
@limiter.limit(post_limit, key_func=poster_key, methods=["POST"])
def new_topic(slug: str) -> Any:
    place = find_board(slug)
    decision = access.check_post(current_member(), place)
    if not decision:
        flash(decision.message, "error")
        return redirect(url_for("forums.board", slug=slug))
    form = TopicForm()
    if form.validate_on_submit():
        try:
            post = services.create_topic(current_member(), place, form.title.data, form.body.data,
                                         attachments=_uploads())
        except HubError as exc:
            form_error(form, exc)
        else:
            if post.status == "held":
                flash(_("Thank you. A moderator will look at your topic before it is "
                        "published."), "info")
            return redirect(url_for("forums.topic", topic_id=post.topic_id))
    status = 422 if request.method == "POST" else 200
    return render_template("forums/new_topic.html", board=place, form=form), status


@bp.post("/<slug>/subscription")
@login_required
def board_subscription(slug: str) -> Any:
    place = find_board(slug)
    form = SubscriptionForm()
    if form.validate_on_submit():
        subscriptions.set_subscription(current_member(), place, form.mode.data)
        flash(_("Your email setting for this board is saved: %(mode)s.",
                mode=MODE_LABELS[form.mode.data]), "success")
    return redirect(url_for("forums.board", slug=slug))


@bp.post("/<slug>/read")
@login_required
def board_read(slug: str) -> Any:
    place = find_board(slug)
    read_markers.mark_board_read(current_member(), place)
    flash(_("All topics on this board are marked as read."), "info")
    return redirect(url_for("forums.board", slug=slug))


# -- a topic -------------------------------------------------------------------------------

@bp.get("/topics/<int:topic_id>")
def topic(topic_id: int) -> Any:
    me = current_member()
    if access.is_active_member(me):  # the topic and what they have read: one statement
        item, member = queries.member_topic(me, topic_id)  # access first, always
        return _member_topic(item, me, member)
    item = find_topic(topic_id)  # access first, always
    key = cache.topic_key(item)
    if key is not None and (copy := cache.pages().get(key)) is not None:
        return Response(copy, mimetype="text/html")
    html, _page = _render_topic(item)
    if key is not None:
        cache.pages().put(key, html.encode())
    return html


def _render_topic(item: Topic,
                  member: queries.Reader | None = None) -> tuple[str, queries.TopicPage]:
    view = "flat" if request.args.get("view") == "flat" else "threaded"
    page = queries.topic_page(
        current_member(), item, view=view, page=request.args.get("page", 1, type=int) or 1,
        after=request.args.get("after"), before=request.args.get("before"),
        at=request.args.get("at"), member=member)
    return render_template("forums/topic.html", page=page, topic=item, board=item.board,
                           form=ReplyForm() if page.reply else None), page


def _member_topic(item: Topic, me: Member, member: queries.Reader) -> Any:
    """A member's topic page: the copy kept for members who see it as they do, filled in
    for them (`forums.cache`), else rendered (and kept)."""
    key = cache.member_key(item, member.moderator,
                           queries.reply_decision(me, item, item.board, member.moderator),
                           member.sees_more)
    if key is None:
        return _render_topic(item, member)[0]
    kept = cache.pages().get(key)
    if kept is None:
        with personal.shared_rendering():
            html, page = _render_topic(item, member)
            kept = _member_page(html, item, page)
        cache.pages().put(key, kept)
    return _fill_member_page(kept, me, member, key)


SETTLED_PLACES = 4  # readers' places (own posts, how far read) kept settled per page


def _member_page(html: str, item: Topic, page: queries.TopicPage) -> cache.MemberPage:
    """The page just rendered with marks, with each post's closing part both ways and
    the watch button both ways (UTF-8, as the page is sent)."""
    macros = "forums/_macros.html"
    tail = get_template_attribute(macros, "post_tail")
    tails = {post.id: tuple(personal.unmark_token(str(tail(post, page, item, mine, True)))
                            .encode() for mine in (True, False))
             for post in page.posts if post.deleted_at is None}
    watch = get_template_attribute(macros, "watch_button")
    return cache.MemberPage(
        personal.cut(personal.unmark_token(html)), authors={p.id: p.author_id for p in page.posts},
        tails=tails, watch=(str(watch("none")).encode(), str(watch("each")).encode()),
        new_badge=str(get_template_attribute(macros, "new_badge")()).encode())


def _fill_member_page(kept: cache.MemberPage, me: Any, member: queries.Reader,
                      key: tuple) -> Response:
    """The kept page filled in for `me`: which posts are theirs and which are new to them
    are settled once for every reader in the same place (`cache.MemberPage.settled`),
    then the request fills in its own few marks (name, form token, watch button)."""
    seen = member.seen_post_id
    mine = tuple(post_id for post_id, author_id in kept.authors.items() if author_id == me.id)
    place = (mine, bisect_right(kept.post_ids, seen))
    settled = kept.settled.get(place)
    if settled is None:
        values: dict[tuple[str, str], bytes] = {}
        for post_id in kept.post_ids:
            number, own = str(post_id), post_id in mine
            fresh = post_id > seen and not own
            values["unread", number] = b" unread" if fresh else b""
            values["new", number] = kept.new_badge if fresh else b""
            if post_id in kept.tails:
                values["tail", number] = kept.tails[post_id][0 if own else 1]
        settled = personal.settle(kept.html, values)
        if len(kept.settled) < SETTLED_PLACES:
            kept.settled[place] = settled
            cache.pages().reweigh(key)
    own = {("name", ""): str(escape(me.name)).encode(), ("viewer", ""): str(me.id).encode(),
           ("seen", ""): str(seen).encode(),
           ("watch", ""): kept.watch[member.subscription == "each"]}
    return Response(personal.fill(settled, own), mimetype="text/html")


@bp.get("/topics/<int:topic_id>/live")
def topic_live(topic_id: int) -> Any:
    """What a live page missed (JSON for forums/static/live.js), rendered for this
    reader: every post changed since the topic's change number `seq` (new, published
    since, edited, deleted); without `seq`, posts after position `after` and those
    edited or deleted since `since`."""
    item = find_topic(topic_id)
    after = request.args.get("after", 0, type=int) or 0
    seq = request.args.get("seq", type=int)
    view = "threaded" if request.args.get("view") == "threaded" else "flat"
    return jsonify(sockets.catch_up(current_member(), item, after, _since(), view,
                                    seq=seq if seq is not None and seq >= 0 else None))


def _since() -> datetime | None:
    raw = request.args.get("since")
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        abort(400)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@bp.route("/topics/<int:topic_id>/reply", methods=["GET", "POST"])
@login_required
@limiter.limit(post_limit, key_func=poster_key, methods=["POST"])
def reply(topic_id: int) -> Any:
    item = find_topic(topic_id)
    form = ReplyForm()
    raw_parent = request.values.get("parent_id") or request.args.get("parent")
    parent = None
    if raw_parent and inputs.is_id(raw_parent):
        parent = services.get_post(current_member(), int(raw_parent))
        if parent.topic_id != item.id:
            abort(404)
    if request.method == "GET":
        form.parent_id.data = str(parent.id) if parent else ""
        if parent is not None and request.args.get("quote"):
            form.body.data = _quote(parent)
    if form.validate_on_submit():
        try:
            post = services.create_reply(current_member(), item, form.body.data, parent=parent,
                                         attachments=_uploads())
        except HubError as exc:
            form_error(form, exc)
        else:
            if post.status == "held":
                flash(_("Thank you. A moderator will look at your reply before it is "
                        "published."), "info")
            return redirect(post_url(post, view=return_view()))
    status = 422 if request.method == "POST" else 200
    return render_template("forums/reply.html", topic=item, board=item.board, parent=parent,
                           form=form, view=return_view()), status


def _quote(post: Post) -> str:
    name = post.author.name if post.author else _("A former member")
    quoted = "\n".join("> " + line if line else ">" for line in post.body.splitlines())
    # The attribution links back to the quoted post (site-relative: list mail makes it
    # absolute); brackets in a name would end the link text early.
    said = _("%(name)s wrote:", name=name).replace("[", "(").replace("]", ")")
    link = url_for("forums.post_link", post_id=post.id, view="threaded")
    return f"[{said}]({link})\n{quoted}\n\n"


@bp.get("/topics/<int:topic_id>/unread")
@login_required
def first_unread(topic_id: int) -> Any:
    item = find_topic(topic_id)
    post = read_markers.first_unread_post(current_member(), item)
    if post is None:
        size = current_app.config["HUB_FORUM_PAGE_SIZE"]
        return redirect(url_for("forums.topic", topic_id=item.id, view="flat",
                                page=queries.page_of(item.last_position or 1, size)))
    return redirect(post_url(post))


@bp.post("/topics/<int:topic_id>/read")
@login_required
def topic_read(topic_id: int) -> Any:
    """The read beacon (JavaScript, 204) and the "mark as read" button (redirect)."""
    item = find_topic(topic_id)
    up_to = request.form.get("up_to", type=int)
    read_markers.mark_topic_read(current_member(), item, up_to)
    if request.form.get("beacon"):
        return "", 204
    flash(_("The topic is marked as read."), "info")
    return redirect(url_for("forums.board", slug=item.board.slug))


@bp.post("/topics/<int:topic_id>/subscription")
@login_required
def topic_subscription(topic_id: int) -> Any:
    item = find_topic(topic_id)
    mode = request.form.get("mode", "")
    subscriptions.set_topic_subscription(current_member(), item, mode)
    flash(_("You are watching this topic.") if mode == "each"
          else _("You no longer watch this topic."), "success")
    return redirect(url_for("forums.topic", topic_id=topic_id))


# -- a post --------------------------------------------------------------------------------

@bp.get("/posts/<int:post_id>")
def post_link(post_id: int) -> Any:
    """A post's permanent link: its flat page, or `?view=threaded` its threaded one."""
    view = "threaded" if request.args.get("view") == "threaded" else "flat"
    return redirect(post_url(find_post(post_id), view=view))


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit(post_id: int) -> Any:
    post = find_post(post_id)
    topic_ = post.topic
    if not editing.can_edit(current_member(), post, topic_.board):
        abort(403)
    form = EditForm(obj=None)
    waiting = editing.pending_edit(post) if editing.edit_needs_approval(
        current_member(), post, topic_.board) else None
    if request.method == "GET":
        # An author goes on from the edit that waits, not from the published text.
        form.body.data = waiting.body if waiting is not None else post.body
        form.title.data = waiting.title if waiting is not None and waiting.title \
            else topic_.title
    if form.validate_on_submit():
        try:
            editing.edit_post(current_member(), post, form.body.data,
                               title=form.title.data if post.position == 1 else None)
        except HubError as exc:
            form_error(form, exc)
        else:
            if editing.pending_edit(post) is not None and not access.can_moderate(
                    current_member(), topic_.board):
                flash(_("Thank you. A moderator will look at your changes; until then the "
                        "post shows the published text."), "info")
            else:
                flash(_("Your changes are saved."), "success")
            return redirect(safe_next(request.args.get("next"),
                                      post_url(post, view=return_view())))
    status = 422 if request.method == "POST" else 200
    return render_template("forums/edit.html", post=post, topic=topic_, board=topic_.board,
                           form=form, waiting=waiting, view=return_view(),
                           held=editing.edit_needs_approval(current_member(), post, topic_.board)
                           ), status


@bp.post("/posts/<int:post_id>/delete")
@login_required
def delete(post_id: int) -> Any:
    post = find_post(post_id)
    editing.delete_post(current_member(), post)
    flash(_("The post is deleted."), "info")
    return redirect(safe_next(request.form.get("next"), post_url(post)))


@bp.get("/posts/<int:post_id>/history")
@login_required
def history(post_id: int) -> str:
    post = find_post(post_id)
    rows = editing.revisions(current_member(), post)
    return render_template("forums/history.html", post=post, topic=post.topic,
                           board=post.topic.board, revisions=rows, stored=markup.stored)


@bp.route("/posts/<int:post_id>/flag", methods=["GET", "POST"])
@login_required
def flag(post_id: int) -> Any:
    post = find_post(post_id)
    form = ReasonForm()
    form.reason.label.text = _("What is wrong with this post?")
    if form.validate_on_submit():
        try:
            forum_moderation.flag_post(current_member(), post, form.reason.data)
        except HubError as exc:
            form_error(form, exc)
        else:
            flash(_("Thank you. The moderators will look at this post."), "success")
            return redirect(post_url(post))
    return render_template("forums/flag.html", post=post, topic=post.topic,
                           board=post.topic.board, form=form)


# -- attachments ---------------------------------------------------------------------------

def serve_attachment(attachment: Attachment, viewer: Any) -> Response:
    """A file, only to those who may see its post; never rendered by the browser
    except safe image types."""
    post = services.get_post(viewer, attachment.post_id)
    if post.deleted_at is not None and not access.can_moderate(viewer, post.topic.board):
        raise NotFound(_("No such file."))
    path = attachments.blob_path(attachment.sha256)
    if not path.is_file():
        raise NotFound(_("No such file."))
    inline = attachment.content_type in attachments.INLINE_IMAGE_TYPES
    response = send_file(path, mimetype=attachment.content_type, as_attachment=not inline,
                         download_name=attachment.filename, conditional=True,
                         etag=attachment.sha256, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/files/<int:attachment_id>/<path:filename>")
def attachment(attachment_id: int, filename: str) -> Response:
    row = db.session.get(Attachment, attachment_id)
    if row is None:
        abort(404)
    return serve_attachment(row, current_member())


# -- wiring --------------------------------------------------------------------------------

def _is_moderator(who: Any) -> bool:
    return access.is_active_member(who) and who.is_moderator


def init_app(app: Flask) -> None:
    from forums import moderation_views  # noqa: F401 - its routes join `bp` first
    from hub.views import load_with_member, nav_item

    app.register_blueprint(bp)
    load_with_member(app, "forums.topic", queries.member_topic_load)
    nav_item(app, "forums.index", _l("Forums"), lambda who: True, order=20)
    nav_item(app, "forums.moderation", _l("Moderation"), _is_moderator, order=90)
    app.extensions["hub_home"].append(("forums/_home.html", 20))
    app.extensions["hub_desk"].append(("forums.manage", _l("Boards")))
    app.extensions["hub_desk"].append(("forums.moderation", _l("Moderation queue")))

    @app.template_global()
    def forums_summary() -> queries.Summary:
        return queries.summary(current_member())

    @app.template_global()
    def forum_post_url(post: Post) -> str:
        return post_url(post)

    app.jinja_env.globals.setdefault("stored", markup.stored)
    app.add_template_global(feeds.has_feed, "has_feed")

    # Names repeat on a page (and across pages): each handle is worked out once.
    app.add_template_filter(lru_cache(maxsize=4096)(handle), "handle")
