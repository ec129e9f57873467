"""The forums' JSON API (DESIGN.md §4): boards, topics, posts, moderation,
subscriptions, read markers and attachments, under /api/v1 with the pages' access rules.

Group boards a caller may not read answer 404 everywhere, as if they did not exist.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Flask, Response, jsonify, request

from forums import (
    attachments,
    editing,
    queries,
    read_markers,
    search,
    services,
    subscriptions,
    urls,
)
from forums import moderation as forum_moderation
from forums.models import Attachment, Board, Post, PostEdit, Topic
from forums.views import post_limit, poster_key, serve_attachment
from hub import access, api, content
from hub.errors import Invalid, NotFound
from hub.extensions import db, limiter
from hub.i18n import isotime

bp = api.blueprint("forums_api", __name__)

_BOARD_SCHEMA = {
    "type": "object",
    "properties": {
        "slug": {"type": "string"}, "name": {"type": "string"},
        "description": {"type": "string"},
        "visibility": {"type": "string", "enum": ["public", "members", "group"]},
        "group": {"type": "string", "nullable": True},
        "premoderated": {"type": "boolean"},
        "posting": {"type": "string", "enum": ["all", "moderators"]},
        "moderator_group": {"type": "string", "nullable": True},
        "thematic_area": {"type": "string", "nullable": True},
        "category": {"type": "string"}, "position": {"type": "integer"},
        "locked": {"type": "boolean"},
    },
}
_FILES = {"type": "array", "items": {
    "type": "object", "required": ["filename", "data"],
    "properties": {"filename": {"type": "string"}, "content_type": {"type": "string"},
                   "data": {"type": "string", "description": "base64"}}}}


# -- JSON shapes -----------------------------------------------------------------------------

def board_json(board: Board) -> dict[str, Any]:
    return {
        "slug": board.slug,
        **content.payload(board),
        "visibility": board.visibility,
        "group": board.group.slug if board.group else None,
        "premoderated": board.premoderated,
        "posting": board.posting,
        "moderator_group": board.moderator_group.slug if board.moderator_group else None,
        "thematic_area": board.thematic_area.slug if board.thematic_area else None,
        "position": board.position,
        "locked": board.locked,
        "kind": board.kind,
        "opens_at": isotime(board.opens_at),
        "closes_at": isotime(board.closes_at),
        "topic_count": board.topic_count,
        "post_count": board.post_count,
        "last_post_at": isotime(board.last_post_at),
        "url": urls.absolute("forums.board", slug=board.slug),
    }


def attachment_json(row: Attachment) -> dict[str, Any]:
    return {"id": row.id, "filename": row.filename, "content_type": row.content_type,
            "size": row.size,
            "url": urls.absolute("forums_api.attachment", attachment_id=row.id)}


def post_json(post: Post, moderator: bool = False) -> dict[str, Any]:
    hidden = post.deleted_at is not None and not moderator
    return {
        "id": post.id,
        "topic_id": post.topic_id,
        "parent_id": post.parent_id,
        "author": {"id": post.author.id, "name": post.author.name} if post.author else None,
        "body": "" if hidden else post.body,
        "html": "" if hidden else post.html,
        # What the gateway cut from an emailed reply (quotes, signature), as plain text.
        "elided": "" if hidden else (post.elided or ""),
        "status": post.status,
        "source": post.source,
        "kind": post.kind,
        "created_at": isotime(post.created_at),
        "edited_at": isotime(post.edited_at),
        "deleted": post.deleted_at is not None,
        "position": post.position,
        "depth": post.depth,
        "url": urls.absolute("forums.post_link", post_id=post.id),
        "attachments": [] if hidden else [attachment_json(a) for a in post.attachments],
    }


def edit_json(edit: PostEdit, post: Post) -> dict[str, Any]:
    """An edit waiting for a moderator, with what it changes in the published text."""
    return {"id": edit.id, "post_id": edit.post_id, "body": edit.body, "title": edit.title,
            "editor": {"id": edit.editor.id, "name": edit.editor.name} if edit.editor
            else None, "state": edit.state, "created_at": isotime(edit.created_at),
            "diff": editing.unified_diff(post.body, edit.body)}


def _with_pending_edit(viewer: Any, post: Post, moderator: bool) -> dict[str, Any]:
    """A post, with `pending_edit` for its author and the board's moderators."""
    data = post_json(post, moderator)
    edit = editing.pending_edit(post)
    if edit is not None and (moderator or access.is_active_member(viewer)
                             and edit.editor_id == viewer.id):
        data["pending_edit"] = edit_json(edit, post)
    elif moderator or access.is_active_member(viewer) and post.author_id == viewer.id:
        data["pending_edit"] = None
    return data


def topic_json(topic: Topic, first_post: Post | None = None,
               moderator: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": topic.id,
        "title": topic.title,
        "board": topic.board.slug,
        "url": urls.absolute("forums.topic", topic_id=topic.id),
        "author": {"id": topic.author.id, "name": topic.author.name} if topic.author else None,
        "created_at": isotime(topic.created_at),
        "last_post_at": isotime(topic.last_post_at),
        "post_count": topic.post_count,
        "pinned": topic.pinned,
        "locked": topic.locked,
        "status": topic.status,
        "deleted": topic.deleted_at is not None,
    }
    if first_post is not None:
        data["first_post"] = post_json(first_post, moderator)
    return data


# -- helpers ---------------------------------------------------------------------------------

def _uploads(data: dict[str, Any]) -> list[attachments.Upload]:
    files = api.field(data, "attachments", list, required=False, default=[])
    uploads = []
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str) \
                or not isinstance(item.get("data"), str):
            raise Invalid("Each attachment is {filename, content_type, data (base64)}.",
                          fields={"attachments": "format"})
        try:
            raw = base64.b64decode(item["data"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Invalid("An attachment's data is not valid base64.",
                          fields={"attachments": "base64"}) from exc
        uploads.append(attachments.Upload(item["filename"], str(item.get("content_type", "")),
                                       raw))
    return uploads


def _first_post(topic: Topic) -> Post:
    return db.session.scalar(db.select(Post).where(Post.topic_id == topic.id,
                                                   Post.position == 1))


def _board_data(data: dict[str, Any]) -> services.BoardData:
    def text(name: str) -> str | None:
        value = data.get(name)
        if name in data and value is None:
            return ""
        if value is not None and not isinstance(value, str):
            raise Invalid(f"'{name}' must be a string.", fields={name: "type"})
        return value

    position = data.get("position")
    if position is not None and (isinstance(position, bool) or not isinstance(position, int)):
        raise Invalid("'position' must be an integer.", fields={"position": "type"})
    for name in ("premoderated", "locked"):
        if name in data and not isinstance(data[name], bool):
            raise Invalid(f"'{name}' must be true or false.", fields={name: "type"})
    return services.BoardData(
        slug=text("slug"), name=text("name"), description=text("description"),
        visibility=text("visibility"), group=text("group"), posting=text("posting"),
        moderator_group=text("moderator_group"), premoderated=data.get("premoderated"),
        locked=data.get("locked"), thematic_area=text("thematic_area"),
        category=text("category"), position=position,
        translations=content.from_json(data, Board) if "translations" in data else None,
        source_lang=content.source_lang_from_json(data))


def _post(post_id: int) -> Post:
    return services.get_post(api.caller(), post_id)


# -- boards ----------------------------------------------------------------------------------

@bp.get("/boards")
@api.api_view
def boards() -> Any:
    """Boards the caller may read (forums and conference boards)."""
    kind = request.args.get("kind") or None
    rows = services.readable_boards(api.caller(), kind=kind)
    return api.page([board_json(b) for b in rows], None)


@bp.post("/boards")
@api.schema(_BOARD_SCHEMA)
@api.api_view
def create_board() -> Any:
    """Create a board (Secretariat)."""
    actor = api.require_secretariat()
    data = api.body()
    api.field(data, "slug")
    api.field(data, "name")
    from forums.views import RESERVED

    if str(data["slug"]).strip().lower() in RESERVED:
        raise Invalid("That slug is reserved; choose another.", fields={"slug": "reserved"})
    board = services.create_board(actor, _board_data(data))
    return jsonify(board_json(board)), 201


@bp.get("/boards/<slug>")
@api.api_view
def board(slug: str) -> Any:
    """One board."""
    return jsonify(board_json(services.get_board(api.caller(), slug)))


@bp.patch("/boards/<slug>")
@api.schema(_BOARD_SCHEMA)
@api.api_view
def update_board(slug: str) -> Any:
    """Change a board (Secretariat); fields left out stay as they are."""
    actor = api.require_secretariat()
    place = services.get_board(actor, slug)
    data = api.body()
    data.pop("slug", None)
    return jsonify(board_json(services.update_board(actor, place, _board_data(data))))


@bp.get("/boards/<slug>/topics")
@api.api_view
def topics(slug: str) -> Any:
    """Topics of a board, most recent activity first; `before` (from `next`) pages on.
    Pinned topics come first on the first page."""
    viewer = api.caller()
    place = services.get_board(viewer, slug)
    pinned, rows, nxt = queries.board_topics(viewer, place, request.args.get("before"),
                                             size=api.limit_arg(default=30))
    return api.page([topic_json(t) for t in pinned + rows], nxt)


@bp.post("/boards/<slug>/topics")
@api.schema({"type": "object", "required": ["title", "body"],
             "properties": {"title": {"type": "string"}, "body": {"type": "string"},
                            "attachments": _FILES}})
@limiter.limit(post_limit, key_func=poster_key)
@api.api_view
def create_topic(slug: str) -> Any:
    """Start a topic: {title, body (Markdown)}; 201 with the topic and its first post."""
    author = api.require_member()
    place = services.get_board(author, slug)
    data = api.body()
    post = services.create_topic(author, place, api.field(data, "title"),
                                 api.field(data, "body"), source="api",
                                 attachments=_uploads(data))
    moderator = access.can_moderate(author, place)
    return jsonify(topic_json(post.topic, post, moderator)), 201


@bp.put("/boards/<slug>/subscription")
@api.schema({"type": "object", "required": ["mode"], "properties": {
    "mode": {"type": "string", "enum": ["each", "daily", "weekly", "none"]}}})
@api.api_view
def board_subscription(slug: str) -> Any:
    """How the caller follows a board by email: each, daily, weekly or none."""
    member = api.require_member()
    place = services.get_board(member, slug)
    sub = subscriptions.set_subscription(member, place, api.field(api.body(), "mode"))
    return jsonify({"board": place.slug, "mode": sub.mode})


@bp.get("/boards/<slug>/subscription")
@api.api_view
def get_board_subscription(slug: str) -> Any:
    """The caller's email setting for a board."""
    member = api.require_member()
    place = services.get_board(member, slug)
    return jsonify({"board": place.slug,
                    "mode": subscriptions.subscription_mode(member, board=place)})


@bp.post("/boards/<slug>/read")
@api.api_view
def board_read(slug: str) -> Any:
    """Mark every topic of a board as read."""
    member = api.require_member()
    read_markers.mark_board_read(member, services.get_board(member, slug))
    return "", 204


# -- topics ----------------------------------------------------------------------------------

@bp.get("/topics/<int:topic_id>")
@api.api_view
def topic(topic_id: int) -> Any:
    """A topic with its first post."""
    viewer = api.caller()
    item = services.get_topic(viewer, topic_id)
    moderator = access.can_moderate(viewer, item.board)
    first = _first_post(item)
    if first is not None and not services.can_see_post(viewer, first, item.board):
        first = None
    return jsonify(topic_json(item, first, moderator))


@bp.patch("/topics/<int:topic_id>")
@api.schema({"type": "object", "properties": {
    "title": {"type": "string"}, "pinned": {"type": "boolean"},
    "locked": {"type": "boolean"}, "board": {"type": "string"}}})
@api.api_view
def update_topic(topic_id: int) -> Any:
    """Moderators: pin, lock, move (`board`: slug); the title through its first post's
    author or a moderator."""
    member = api.require_member()
    item = services.get_topic(member, topic_id)
    data = api.body()
    if "title" in data:
        first = _first_post(item)
        editing.edit_post(member, first, first.body, title=api.field(data, "title"))
    if "pinned" in data:
        forum_moderation.set_pinned(member, item, api.field(data, "pinned", bool))
    if "locked" in data:
        forum_moderation.set_locked(member, item, api.field(data, "locked", bool))
    if "board" in data:
        target = services.get_board(member, api.field(data, "board"))
        forum_moderation.move_topic(member, item, target)
    db.session.refresh(item)
    return jsonify(topic_json(item, None, access.can_moderate(member, item.board)))


@bp.delete("/topics/<int:topic_id>")
@api.api_view
def delete_topic(topic_id: int) -> Any:
    """Delete a topic (moderators)."""
    member = api.require_member()
    forum_moderation.delete_topic(member, services.get_topic(member, topic_id))
    return "", 204


@bp.get("/topics/<int:topic_id>/posts")
@api.api_view
def posts(topic_id: int) -> Any:
    """Posts in arrival order; `after` (a position, from `next`) pages on. Held posts
    appear to their author and the moderators only."""
    viewer = api.caller()
    item = services.get_topic(viewer, topic_id)
    limit = api.limit_arg()
    after = api.int_arg("after") or 0
    rows = queries.posts_after(viewer, item, after, limit + 1)
    nxt = {"after": rows[limit - 1].position} if len(rows) > limit else None
    moderator = access.can_moderate(viewer, item.board)
    return api.page([post_json(p, moderator) for p in rows[:limit]], nxt)


@bp.post("/topics/<int:topic_id>/posts")
@api.schema({"type": "object", "required": ["body"],
             "properties": {"body": {"type": "string"},
                            "parent_id": {"type": "integer", "nullable": True},
                            "attachments": _FILES}})
@limiter.limit(post_limit, key_func=poster_key)
@api.api_view
def create_post(topic_id: int) -> Any:
    """Reply: {body, parent_id (null: to the topic)}; 201 with the post."""
    author = api.require_member()
    item = services.get_topic(author, topic_id)
    data = api.body()
    parent = None
    parent_id = api.field(data, "parent_id", int, required=False)
    if parent_id is not None:
        parent = db.session.get(Post, parent_id)
        if parent is None or parent.topic_id != item.id or not services.can_see_post(
                author, parent, item.board):
            raise Invalid("'parent_id' is not a post of this topic.",
                          fields={"parent_id": "unknown"})
    post = services.create_reply(author, item, api.field(data, "body"), parent=parent,
                                 source="api", attachments=_uploads(data))
    return jsonify(post_json(post, access.can_moderate(author, item.board))), 201


@bp.put("/topics/<int:topic_id>/subscription")
@api.schema({"type": "object", "required": ["mode"], "properties": {
    "mode": {"type": "string", "enum": ["each", "daily", "weekly", "none"]}}})
@api.api_view
def topic_subscription(topic_id: int) -> Any:
    """Watch a topic (each) or mute it (none)."""
    member = api.require_member()
    item = services.get_topic(member, topic_id)
    sub = subscriptions.set_topic_subscription(member, item, api.field(api.body(), "mode"))
    return jsonify({"topic_id": item.id, "mode": sub.mode})


@bp.post("/topics/<int:topic_id>/read")
@api.schema({"type": "object", "properties": {"up_to": {"type": "integer"}}})
@api.api_view
def topic_read(topic_id: int) -> Any:
    """Mark a topic read, up to a post id (default: all of it)."""
    member = api.require_member()
    item = services.get_topic(member, topic_id)
    data = request.get_json(silent=True) or {}
    up_to = api.field(data, "up_to", int, required=False) if isinstance(data, dict) else None
    read_markers.mark_topic_read(member, item, up_to)
    return "", 204


# -- posts -----------------------------------------------------------------------------------

@bp.get("/posts/<int:post_id>")
@api.api_view
def post(post_id: int) -> Any:
    """One post."""
    viewer = api.caller()
    item = _post(post_id)
    return jsonify(_with_pending_edit(viewer, item,
                                      access.can_moderate(viewer, item.topic.board)))


@bp.patch("/posts/<int:post_id>")
@api.schema({"type": "object", "required": ["body"],
             "properties": {"body": {"type": "string"}}})
@api.api_view
def edit_post(post_id: int) -> Any:
    """Edit a post (its author or a moderator); the old text is kept as a revision.

    On a pre-moderated board a member's edit of a published post waits for a moderator:
    202, the post as published, and the edit as `pending_edit`."""
    member = api.require_member()
    item = services.get_post(member, post_id)
    board = item.topic.board
    held = editing.edit_needs_approval(member, item, board)
    editing.edit_post(member, item, api.field(api.body(), "body"))
    data = _with_pending_edit(member, item, access.can_moderate(member, board))
    return jsonify(data), 202 if held and data.get("pending_edit") else 200


@bp.delete("/posts/<int:post_id>")
@api.api_view
def delete_post(post_id: int) -> Any:
    """Delete a post (its author or a moderator); it stays in the thread as deleted."""
    member = api.require_member()
    editing.delete_post(member, services.get_post(member, post_id))
    return "", 204


@bp.get("/posts/<int:post_id>/revisions")
@api.api_view
def post_revisions(post_id: int) -> Any:
    """Earlier versions of a post, newest first (moderators)."""
    member = api.require_member()
    item = services.get_post(member, post_id)
    rows = editing.revisions(member, item)
    return api.page([{"id": r.id, "body": r.body, "html": r.html, "title": r.title,
                      "editor": {"id": r.editor.id, "name": r.editor.name} if r.editor
                      else None, "replaced_at": isotime(r.created_at)} for r in rows], None)


@bp.post("/posts/<int:post_id>/approve")
@api.api_view
def approve(post_id: int) -> Any:
    """Publish a held post (the board's moderators)."""
    member = api.require_member()
    item = forum_moderation.approve_post(member, services.get_post(member, post_id))
    return jsonify(post_json(item, True))


@bp.post("/posts/<int:post_id>/reject")
@api.schema({"type": "object", "required": ["reason"],
             "properties": {"reason": {"type": "string"}}})
@api.api_view
def reject(post_id: int) -> Any:
    """Refuse a held post with a reason that is emailed to its author (moderators)."""
    member = api.require_member()
    item = services.get_post(member, post_id)
    forum_moderation.reject_post(member, item, api.field(api.body(), "reason"))
    return jsonify(post_json(item, True))


@bp.post("/edits/<int:edit_id>/approve")
@api.api_view
def approve_edit(edit_id: int) -> Any:
    """Publish an edit waiting for approval (the board's moderators)."""
    member = api.require_member()
    item = editing.approve_edit(member, editing.get_edit(member, edit_id))
    return jsonify(post_json(item, True))


@bp.post("/edits/<int:edit_id>/reject")
@api.schema({"type": "object", "required": ["reason"],
             "properties": {"reason": {"type": "string"}}})
@api.api_view
def reject_edit(edit_id: int) -> Any:
    """Refuse an edit with a reason emailed to its author; the published text stays."""
    member = api.require_member()
    item = editing.reject_edit(member, editing.get_edit(member, edit_id),
                                api.field(api.body(), "reason"))
    return jsonify(post_json(item, True))


@bp.post("/posts/<int:post_id>/flags")
@api.schema({"type": "object", "required": ["reason"],
             "properties": {"reason": {"type": "string"}}})
@api.api_view
def flag(post_id: int) -> Any:
    """Report a post to the moderators, with a reason."""
    member = api.require_member()
    row = forum_moderation.flag_post(member, services.get_post(member, post_id),
                             api.field(api.body(), "reason"))
    return jsonify({"id": row.id, "post_id": row.post_id, "reason": row.reason}), 201


@bp.get("/moderation")
@api.api_view
def moderation() -> Any:
    """The caller's moderation queue, oldest first: held posts, reported posts and
    published posts with an edit waiting (`pending_edit`, with a unified `diff`)."""
    member = api.require_member()
    items = forum_moderation.moderation_queue(member)
    return api.page([{**post_json(i.post, True), "board": i.post.topic.board.slug,
                      "pending_edit": edit_json(i.edit, i.post) if i.edit else None,
                      "flags": [{"id": f.id, "reason": f.reason,
                                 "member": {"id": f.member.id, "name": f.member.name}
                                 if f.member else None, "created_at": isotime(f.created_at)}
                                for f in i.flags]} for i in items], None)


@bp.get("/search")
@api.api_view
def search_posts() -> Any:
    """Posts the caller may read that match `q`, newest first.

    Filters: `board` (slug), `author` (member id), `from` and `to` (YYYY-MM-DD, UTC),
    `limit`; `before` (from `next`) pages on. `q` reads like a search box: words, "a
    phrase", `OR`, `-word`. Each item is a post with its `topic`, `board` and a `snippet`
    (HTML: the text escaped, the matches in <mark>)."""
    viewer = api.caller()
    filters, errors = search.parse_filters(viewer, request.args)
    if "board" in errors:
        raise NotFound(errors["board"])
    if errors:
        raise Invalid(next(iter(errors.values())), fields={k: "invalid" for k in errors})
    hits, before = search.search(viewer, filters, limit=api.limit_arg(default=20,
                                                                       maximum=search.MAX_LIMIT))
    items = [{**post_json(hit.post), "topic": {"id": hit.topic.id, "title": hit.topic.title,
                                               "url": urls.absolute("forums.topic",
                                                                    topic_id=hit.topic.id)},
              "board": hit.board.slug, "title_html": str(hit.title),
              "snippet": str(hit.snippet)} for hit in hits]
    return api.page(items, {"before": before} if before else None)


@bp.get("/attachments/<int:attachment_id>")
@api.api_view
def attachment(attachment_id: int) -> Response:
    """An attached file, with the same access as its post."""
    row = db.session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound("No such file.")
    return serve_attachment(row, api.caller())


def init_app(app: Flask) -> None:
    api.register(app, bp)
