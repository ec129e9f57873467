"""Moderators' and the Secretariat's forum pages: pinning, locking, deleting and moving
topics, the moderation queue (held posts, edits waiting, flags) and the Secretariat's
board management. Routes of the `forums` blueprint (`forums.views`)."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from forums import (
    editing,
    services,
)
from forums import moderation as forum_moderation
from forums.forms import (
    BoardForm,
    MoveForm,
    ReasonForm,
)
from forums.models import Board, Post
from forums.views import RESERVED, bp, current_member, find_post, find_topic, form_error
from hub import access, content_forms
from hub import services as hub_services
from hub.errors import HubError
from hub.extensions import db
from hub.models import Group, Member
from hub.security import safe_next


@bp.post("/topics/<int:topic_id>/pin", defaults={"action": "pin"})
@bp.post("/topics/<int:topic_id>/unpin", defaults={"action": "unpin"})
@bp.post("/topics/<int:topic_id>/lock", defaults={"action": "lock"})
@bp.post("/topics/<int:topic_id>/unlock", defaults={"action": "unlock"})
@login_required
def topic_action(topic_id: int, action: str) -> Any:
    item = find_topic(topic_id)
    if action in {"pin", "unpin"}:
        forum_moderation.set_pinned(current_member(), item, action == "pin")
    else:
        forum_moderation.set_locked(current_member(), item, action == "lock")
    messages = {"pin": _l("The topic is pinned."), "unpin": _l("The topic is unpinned."),
                "lock": _l("The topic is locked."), "unlock": _l("The topic is unlocked.")}
    flash(str(messages[action]), "success")
    return redirect(safe_next(request.form.get("next"),
                              url_for("forums.topic", topic_id=topic_id)))


@bp.post("/topics/<int:topic_id>/delete")
@login_required
def delete_topic(topic_id: int) -> Any:
    item = find_topic(topic_id)
    forum_moderation.delete_topic(current_member(), item)
    flash(_("The topic is deleted."), "info")
    return redirect(url_for("forums.board", slug=item.board.slug))


@bp.route("/topics/<int:topic_id>/move", methods=["GET", "POST"])
@login_required
def move(topic_id: int) -> Any:
    item = find_topic(topic_id)
    if not access.can_moderate(current_member(), item.board):
        abort(403)
    targets = [b for b in services.moderated_boards(current_member()) if b.id != item.board_id]
    form = MoveForm()
    form.board.choices = [(b.slug, b.name) for b in targets]
    if form.validate_on_submit():
        target = services.get_board(current_member(), form.board.data)
        forum_moderation.move_topic(current_member(), item, target)
        flash(_("The topic is now on %(board)s.", board=target.name), "success")
        return redirect(url_for("forums.topic", topic_id=topic_id))
    return render_template("forums/move.html", topic=item, board=item.board, form=form)


# -- moderation ----------------------------------------------------------------------------

@bp.get("/moderation")
@login_required
def moderation() -> str:
    items = forum_moderation.moderation_queue(current_member())
    if not items and not services.moderated_boards(current_member()):
        abort(403)
    return render_template("forums/moderation.html", items=items, reject_form=ReasonForm(),
                           diff=editing.edit_diff)


def _back(post: Post) -> str:
    return safe_next(request.form.get("next"), url_for("forums.moderation"))


@bp.post("/posts/<int:post_id>/approve")
@login_required
def approve(post_id: int) -> Any:
    post = find_post(post_id)
    forum_moderation.approve_post(current_member(), post)
    flash(_("The post is published."), "success")
    return redirect(_back(post))


@bp.post("/posts/<int:post_id>/reject")
@login_required
def reject(post_id: int) -> Any:
    post = find_post(post_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Please give the author a reason."), "error")
        return redirect(_back(post))
    forum_moderation.reject_post(current_member(), post, form.reason.data)
    flash(_("The post is rejected; the author has been told why."), "info")
    return redirect(_back(post))


@bp.post("/edits/<int:edit_id>/approve")
@login_required
def approve_edit(edit_id: int) -> Any:
    edit = editing.get_edit(current_member(), edit_id)
    editing.approve_edit(current_member(), edit)
    flash(_("The edit is published."), "success")
    return redirect(_back(edit.post))


@bp.post("/edits/<int:edit_id>/reject")
@login_required
def reject_edit(edit_id: int) -> Any:
    edit = editing.get_edit(current_member(), edit_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Please give the author a reason."), "error")
        return redirect(_back(edit.post))
    editing.reject_edit(current_member(), edit, form.reason.data)
    flash(_("The edit is rejected; the published text stays and the author has been told "
            "why."), "info")
    return redirect(_back(edit.post))


@bp.post("/posts/<int:post_id>/dismiss")
@login_required
def dismiss(post_id: int) -> Any:
    post = find_post(post_id)
    forum_moderation.dismiss_flags(current_member(), post)
    flash(_("The reports are dismissed."), "info")
    return redirect(_back(post))


# -- the Secretariat's board management ----------------------------------------------------

def _secretariat() -> Member:
    me = current_member()
    if not access.is_secretariat(me):
        abort(403)
    return me


def _board_data(form: BoardForm, include_slug: bool) -> services.BoardData:
    return services.BoardData(
        slug=form.slug.data if include_slug else None, name=form.name.data or "",
        description=form.description.data or "", visibility=form.visibility.data,
        group=form.group.data or "", posting=form.posting.data,
        moderator_group=form.moderator_group.data or "",
        premoderated=bool(form.premoderated.data), locked=bool(form.locked.data),
        thematic_area=form.thematic_area.data or "", category=form.category.data or "",
        position=form.position.data, translations=content_forms.read(form),
        source_lang=content_forms.source(form),
    )


def _board_form(board: Board | None = None) -> BoardForm:
    form = BoardForm(obj=board if request.method == "GET" else None)
    groups = list(db.session.scalars(db.select(Group).order_by(Group.name)))
    form.fill_choices(hub_services.thematic_areas(), groups)
    if board is not None and request.method == "GET":
        form.group.data = board.group.slug if board.group else ""
        form.moderator_group.data = board.moderator_group.slug if board.moderator_group else ""
        form.thematic_area.data = board.thematic_area.slug if board.thematic_area else ""
        content_forms.fill(form, board)
    return form


@bp.route("/manage", methods=["GET", "POST"])
@login_required
def manage() -> Any:
    me = _secretariat()
    form = _board_form()
    if form.validate_on_submit():
        if (form.slug.data or "").strip().lower() in RESERVED:
            form.slug.errors = [_("That slug is reserved; choose another.")]
        else:
            try:
                created = services.create_board(me, _board_data(form, True))
            except HubError as exc:
                form_error(form, exc)
            else:
                flash(_("The board %(name)s is created.", name=created.name), "success")
                return redirect(url_for("forums.manage"))
    boards = list(db.session.scalars(
        db.select(Board).order_by(Board.kind, Board.category, Board.position, Board.name)))
    status = 422 if request.method == "POST" else 200
    return render_template("forums/manage.html", boards=boards, form=form), status


@bp.route("/manage/<slug>", methods=["GET", "POST"])
@login_required
def manage_board(slug: str) -> Any:
    me = _secretariat()
    place = db.session.scalar(db.select(Board).where(Board.slug == slug))
    if place is None:
        abort(404)
    form = _board_form(place)
    form.slug.data = place.slug
    form.slug.render_kw = {"readonly": True}
    if form.validate_on_submit():
        try:
            services.update_board(me, place, _board_data(form, False))
        except HubError as exc:
            db.session.rollback()
            form_error(form, exc)
        else:
            flash(_("The board %(name)s is saved.", name=place.name), "success")
            return redirect(url_for("forums.manage"))
    status = 422 if request.method == "POST" else 200
    return render_template("forums/board_form.html", board=place, form=form), status
