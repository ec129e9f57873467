"""Editing and deleting posts: authors' edits, edits that wait for a moderator on
pre-moderated boards, revisions and diffs.

Every function owns its transaction, decides access through `hub.access` and emits
`hub.events` signals after commit.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l

from forums import mentions, urls
from forums.models import (
    Board,
    Post,
    PostEdit,
    PostRevision,
    Topic,
)
from forums.moderation import resolve_flags
from forums.services import (
    can_see_post,
    check_text,
    check_title,
    ensure_visible,
    get_topic,
    lock_topic,
    next_change,
    notify_mentions,
    post_event,
    render_body,
    require_moderator,
    signal_sender,
)
from hub import access, clock, events
from hub.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
)
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import Member, MemberStatus
from hub.services import audit


def can_edit(who: Any, post: Post, board: Board) -> bool:
    if post.deleted_at is not None or not access.is_active_member(who):
        return False
    if access.can_moderate(who, board):
        return True
    if post.author_id != who.id or post.status == "rejected":
        return False
    return access.can_post(who, board) and not post.topic.locked


def edit_needs_approval(editor: Any, post: Post, board: Board) -> bool:
    """Whether `editor`'s edit of `post` waits for a moderator: a published post on a
    pre-moderated board, edited by someone who does not moderate it. (A held post's
    text is simply replaced: the moderators have not published it yet.)"""
    return (board.premoderated and post.status == "published"
            and not access.can_moderate(editor, board))


def pending_edit(post: Post) -> PostEdit | None:
    return db.session.scalar(db.select(PostEdit).where(
        PostEdit.post_id == post.id, PostEdit.state == "pending").limit(1))


def pending_edit_ids(viewer: Any, posts: Sequence[Post], moderator: bool) -> set[int]:
    """Which of `posts` have an edit waiting that `viewer` may know of: their own, or
    any for a moderator (one query; none off pre-moderated boards)."""
    if not posts or not access.is_active_member(viewer):
        return set()
    query = db.select(PostEdit.post_id).where(
        PostEdit.state == "pending", PostEdit.post_id.in_([p.id for p in posts]))
    if not moderator:
        query = query.where(PostEdit.editor_id == viewer.id)
    return set(db.session.scalars(query))


def _apply_edit(editor: Member, post: Post, body: str, new_title: str | None) -> None:
    """Replace a post's text (in the caller's transaction): the old text becomes a
    revision, the HTML is rendered once, mentioned members new to the text are told."""
    topic = post.topic
    before = set(mentions.resolve(post.body).keys())
    db.session.add(PostRevision(post_id=post.id, body=post.body, html=post.html,
                                title=topic.title if post.position == 1 else None,
                                editor_id=editor.id))
    html, found = render_body(body)
    post.body, post.html = body, html
    post.edited_at = clock.now()
    post.edited_by_id = editor.id
    if new_title is not None:
        topic.title = new_title
    post.change_seq = next_change(topic)
    old_ids = [m.id for t, m in found.items() if t in before]
    notify_mentions(post, topic, topic.board, found, already=old_ids)


def edit_post(editor: Member, post: Post, body: str, *, title: str | None = None) -> Post:
    """Change a post's text (and the topic's title, for a first post); the old text is
    kept as a revision and the post shows an "edited" mark. On a pre-moderated board a
    member's edit of a published post waits for a moderator instead
    (`edit_needs_approval`); `pending_edit(post)` then returns it."""
    topic = post.topic
    board = topic.board
    ensure_visible(editor, board)
    if not can_see_post(editor, post, board):
        raise NotFound(str(_l("No such post.")))
    if not can_edit(editor, post, board):
        raise Forbidden(str(_l("You cannot edit this post.")), code="cannot_edit")
    body = check_text(body)
    new_title = check_title(title) if title is not None and post.position == 1 else None
    if edit_needs_approval(editor, post, board):
        _propose_edit(editor, post, body, new_title)
        return post
    if body == post.body and (new_title is None or new_title == topic.title):
        return post
    _apply_edit(editor, post, body, new_title)
    if editor.id != post.author_id:
        audit(editor, "post.edit", post, f"topic {topic.id}")
    db.session.commit()
    events.post_edited.send(signal_sender(), event=post_event(post, board.id))
    return post


def _propose_edit(editor: Member, post: Post, body: str, new_title: str | None) -> None:
    """Keep an edit for the moderators; a newer one replaces the one waiting, and going
    back to the published text withdraws it."""
    topic = post.topic
    lock_topic(topic)
    waiting = pending_edit(post)
    if waiting is not None and waiting.body == body and waiting.title == new_title:
        return
    now = clock.now()
    unchanged = body == post.body and (new_title is None or new_title == topic.title)
    if waiting is not None:
        waiting.state = "withdrawn" if unchanged else "replaced"
        waiting.decided_at, waiting.decided_by_id = now, editor.id
    if unchanged:
        db.session.commit()
        return
    edit = PostEdit(post_id=post.id, editor_id=editor.id, body=body, title=new_title,
                    created_at=now)
    db.session.add(edit)
    db.session.flush()
    events.post_edit_pending.send(signal_sender(), event=events.PostEditEvent(
        edit_id=edit.id, post_id=post.id, topic_id=topic.id, board_id=topic.board_id,
        editor_id=editor.id))
    db.session.commit()


def get_edit(who: Any, edit_id: int) -> PostEdit:
    """A proposed edit, for the board's moderators (404 for everyone else)."""
    edit = db.session.get(PostEdit, edit_id)
    if edit is None:
        raise NotFound(str(_l("No such edit.")))
    board = get_topic(who, edit.post.topic_id).board
    if not access.can_moderate(who, board):
        raise NotFound(str(_l("No such edit.")))
    return edit


def _still_pending(edit: PostEdit) -> Post:
    """Under the topic's lock, the edit as committed: one decision per edit, and none
    on a post deleted meanwhile."""
    post = edit.post
    lock_topic(post.topic)
    db.session.refresh(edit, ["state"])
    db.session.refresh(post, ["status", "deleted_at"])
    if edit.state == "replaced":
        raise Conflict(str(_l("The author has changed this edit since; the moderation queue "
                              "shows the new text.")), code="not_pending")
    if edit.state != "pending" or post.deleted_at is not None or post.status != "published":
        raise Conflict(str(_l("This edit is not waiting for approval.")), code="not_pending")
    return post


def approve_edit(moderator: Member, edit: PostEdit) -> Post:
    """Publish a waiting edit as if its author had just made it: revision history,
    stored HTML, mentions, then (after commit) the search index, live pages and the page
    cache through `post_edited`."""
    board = edit.post.topic.board
    require_moderator(moderator, board)
    post = _still_pending(edit)
    _apply_edit(edit.editor or moderator, post, edit.body, edit.title)
    edit.state = "approved"
    edit.decided_at, edit.decided_by_id = clock.now(), moderator.id
    audit(moderator, "post.edit_approve", post, f"topic {post.topic_id}")
    db.session.commit()
    events.post_edited.send(signal_sender(), event=post_event(post, board.id))
    return post


def reject_edit(moderator: Member, edit: PostEdit, reason: str) -> Post:
    """Refuse a waiting edit: the published text stays; the author is emailed the reason
    and the text they proposed, in their language."""
    topic = edit.post.topic
    board = topic.board
    require_moderator(moderator, board)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(str(_l("Please give the author a reason.")), fields={"reason": "required"})
    post = _still_pending(edit)
    edit.state = "rejected"
    edit.reason = reason[:2000]
    edit.decided_at, edit.decided_by_id = clock.now(), moderator.id
    audit(moderator, "post.edit_reject", post, reason)
    author = edit.editor
    if author is not None and author.status == MemberStatus.ACTIVE:
        send_mail(author.email, "forum_edit_rejected", language=author.language,
                  name=author.name, member=author, topic=topic.title, board=board.name,
                  reason=reason, body=edit.body,
                  url=urls.absolute("forums.post_link", post_id=post.id))
    db.session.commit()
    return post


def edit_diff(before: str, after: str) -> list[tuple[str, str]]:
    """Line by line, what an edit changes: ("same" | "removed" | "added", line)."""
    kinds = {" ": "same", "-": "removed", "+": "added"}
    return [(kinds[line[0]], line[2:]) for line in difflib.ndiff(
        before.splitlines(), after.splitlines()) if line[0] in kinds]


def unified_diff(before: str, after: str) -> str:
    return "\n".join(difflib.unified_diff(before.splitlines(), after.splitlines(),
                                          "published", "proposed", lineterm=""))


def revisions(who: Member, post: Post) -> list[PostRevision]:
    require_moderator(who, post.topic.board)
    return list(db.session.scalars(
        db.select(PostRevision).where(PostRevision.post_id == post.id)
        .order_by(PostRevision.id.desc())))


def delete_post(actor: Member, post: Post) -> Post:
    """Soft delete: the post stays in the thread as "deleted" so replies keep their
    place; authors delete their own posts, moderators any."""
    topic = post.topic
    board = topic.board
    ensure_visible(actor, board)
    moderator = access.can_moderate(actor, board)
    if not can_see_post(actor, post, board):
        raise NotFound(str(_l("No such post.")))
    if not moderator and post.author_id != actor.id:
        raise Forbidden(str(_l("You can only delete your own posts.")), code="not_author")
    if post.deleted_at is not None:
        raise Conflict(str(_l("This post is deleted already.")))
    lock_topic(topic)
    post.deleted_at = clock.now()
    post.change_seq = next_change(topic)
    if post.status == "published":
        topic.post_count = Topic.post_count - 1
        board.post_count = Board.post_count - 1
    if moderator and actor.id != post.author_id:
        audit(actor, "post.delete", post, f"topic {topic.id}")
    resolve_flags(actor, post, "deleted")
    db.session.commit()
    events.post_deleted.send(signal_sender(), event=post_event(post, board.id))
    return post

