"""Held posts by email, for every pre-moderated board (forum boards and conference boards
alike): the notification that tells each moderator a post waits for them, and reading
the decision a moderator's reply carries.

1. `on_post_pending` (inside the held post's transaction): a `listserv.held_post` job,
   so the notification commits with the post and is sent by the worker, never in a
   request.
2. The job mails each moderator of the board (`moderators_of`), in their language: the
   author, board and topic, the text, a link to the web queue, and how to answer. Its
   Reply-To is `SLUG+m-POST-MEMBER-MAC@` (`listserv.addresses.moderation_address`),
   bound to the post and that moderator.
3. A reply reaches the inbound pipeline; `listserv.rules.check_moderation` reads it with
   `read_decision` and `listserv.inbound` carries it out through the forums' own
   `approve_post` / `reject_post` (access, audit log, the author's mail, list fan-out).

Edits of published posts that wait for approval (`forums.services.edit_needs_approval`)
go the same way: `on_post_edit_pending` queues `listserv.held_edit`, whose message shows
the published and the proposed text and answers to `SLUG+e-EDIT-MEMBER-MAC@`.

Imports `hub`, `forums` and `listserv` (addresses, links).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from forums import editing
from forums.models import Board, Post, PostEdit, Topic
from hub import access, events, jobs
from hub.extensions import db
from hub.mailer import send_mail
from hub.models import AuditEntry, GroupMembership, Member, MemberStatus, Role
from hub.services import secretariat_members
from listserv import addresses, links

APPROVE = "approve"
REJECT = "reject"
_PUNCTUATION = ".,;:!"


# -- who is told ---------------------------------------------------------------------------------

def moderators_of(board: Board) -> list[Member]:
    """Who hears of a held post on `board`: its moderator group's members when it names
    one, else the Secretariat and the network's moderators; only those who may moderate
    it (`hub.access.can_moderate`). An empty moderator group falls back to the
    Secretariat, so that no held post waits unseen."""
    query = db.select(Member).where(Member.status == MemberStatus.ACTIVE)
    if board.moderator_group_id is not None:
        query = query.join(GroupMembership, GroupMembership.member_id == Member.id).where(
            GroupMembership.group_id == board.moderator_group_id)
    else:
        query = query.where(Member.role.in_([Role.SECRETARIAT, Role.MODERATOR]))
    people = [m for m in db.session.scalars(query.order_by(Member.id))
              if access.can_moderate(m, board)]
    if people:
        return people
    return [m for m in secretariat_members() if access.can_moderate(m, board)]


# -- the notification ----------------------------------------------------------------------------

def on_post_pending(_sender: Any, event: events.PostEvent, **_kw: Any) -> None:
    """Listener, inside the posting transaction: a held post gets its notification job,
    committed with it (or not at all)."""
    if event.status == "held":
        jobs.enqueue("listserv.held_post", {"post_id": event.post_id})


@jobs.handler("listserv.held_post")
def notify_moderators(payload: dict[str, Any]) -> None:
    """One message to each moderator of the board, if the post still waits."""
    post = db.session.get(Post, int(payload["post_id"]))
    if post is None or post.status != "held" or post.deleted_at is not None:
        return
    topic = db.session.get(Topic, post.topic_id)
    board = db.session.get(Board, topic.board_id)
    author = post.author
    files = [(a.filename, links.absolute("forums.attachment", attachment_id=a.id,
                                         filename=a.filename)) for a in post.attachments]
    queue_url = links.absolute("forums.moderation") + f"#q{post.id}"
    for moderator in moderators_of(board):
        send_mail(
            moderator.email, "listserv_held_post", language=moderator.language or "en",
            name=moderator.name,
            headers={"Reply-To": addresses.moderation_address(board.slug, post.id,
                                                              moderator.id),
                     "X-Hub-Held-Post": str(post.id),
                     "X-Auto-Response-Suppress": "All"},
            member=moderator, board=board, topic=topic.title, post=post,
            author=author.name if author is not None else "", body=post.body,
            files=files, is_topic=post.position == 1, queue_url=queue_url,
            list_address=addresses.list_address(board.slug))
    db.session.commit()


def on_post_edit_pending(_sender: Any, event: events.PostEditEvent, **_kw: Any) -> None:
    """Listener, inside the edit's transaction: the notification job commits with it."""
    jobs.enqueue("listserv.held_edit", {"edit_id": event.edit_id})


@jobs.handler("listserv.held_edit")
def notify_moderators_of_edit(payload: dict[str, Any]) -> None:
    """One message to each moderator of the board, if the edit still waits."""
    edit = db.session.get(PostEdit, int(payload["edit_id"]))
    if edit is None or edit.state != "pending":
        return
    post = edit.post
    if post.deleted_at is not None:
        return
    topic = db.session.get(Topic, post.topic_id)
    board = db.session.get(Board, topic.board_id)
    queue_url = links.absolute("forums.moderation") + f"#q{post.id}"
    diff = editing.unified_diff(post.body, edit.body)
    for moderator in moderators_of(board):
        send_mail(
            moderator.email, "listserv_held_edit", language=moderator.language or "en",
            name=moderator.name,
            headers={"Reply-To": addresses.edit_moderation_address(board.slug, edit.id,
                                                                   moderator.id),
                     "X-Hub-Held-Edit": str(edit.id),
                     "X-Auto-Response-Suppress": "All"},
            member=moderator, board=board, topic=topic.title, post=post, edit=edit,
            author=edit.editor.name if edit.editor is not None else "",
            published=post.body, proposed=edit.body, diff=diff,
            new_title=edit.title if edit.title and edit.title != topic.title else "",
            queue_url=queue_url, list_address=addresses.list_address(board.slug))
    db.session.commit()


# -- reading a reply -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """What a moderator's reply asks for: `verb` is "approve", "reject" or "" (neither);
    `reason` is the text after "reject" (maybe empty)."""

    verb: str
    reason: str = ""
    line: str = ""  # the line it was read from, for the answer


def read_decision(text: str) -> Decision:
    """The first non-empty line of a trimmed reply, case-insensitively: "approve", or
    "reject" followed by the reason. A reason that the mail program wrapped onto the
    next lines is kept (up to the first empty line); "reject" alone on its line takes
    the next paragraph as the reason."""
    lines = text.strip().splitlines()
    if not lines:
        return Decision("")
    first = lines[0].strip()
    word, _space, rest = first.partition(" ")
    verb = word.lower().rstrip(_PUNCTUATION)
    if verb == APPROVE and not rest.strip(_PUNCTUATION + " "):
        return Decision(APPROVE, line=first)
    if verb != REJECT:
        return Decision("", line=first)
    following = lines[1:]
    if not rest.strip():  # "reject" alone: the reason is the next paragraph
        while following and not following[0].strip():
            following = following[1:]
    paragraph: list[str] = [rest.strip()] if rest.strip() else []
    for line in following:
        if not line.strip():
            break
        paragraph.append(line.strip())
    reason = re.sub(r"\s+", " ", " ".join(paragraph)).strip()
    reason = reason.lstrip(_PUNCTUATION + "-– ").strip()
    return Decision(REJECT, reason=reason, line=first)


def not_moderator(board: Board) -> str:
    return _("You do not moderate %(board)s (any more), so your reply changed nothing.",
             board=board.name)


def what_happened(post: Post | None) -> str:
    """For a reply about a post that no longer waits: what became of it, in the current
    language (one sentence)."""
    if post is None:
        return _("The post is no longer there, so there is nothing to approve or reject.")
    topic = db.session.get(Topic, post.topic_id)
    title = topic.title if topic is not None else ""
    if post.deleted_at is not None:
        return _("The post in “%(topic)s” has been deleted, so there is nothing to approve "
                 "or reject.", topic=title)
    entry = db.session.scalar(
        db.select(AuditEntry).where(AuditEntry.target_type == "post",
                                    AuditEntry.target_id == post.id,
                                    AuditEntry.action.in_(["post.approve", "post.reject"]))
        .order_by(AuditEntry.id.desc()).limit(1))
    who = entry.actor.name if entry is not None and entry.actor is not None else ""
    if post.status == "rejected":
        if who:
            return _("The post in “%(topic)s” was already rejected by %(moderator)s, with "
                     "the reason: %(reason)s", topic=title, moderator=who,
                     reason=post.reject_reason or "")
        return _("The post in “%(topic)s” was already rejected, with the reason: "
                 "%(reason)s", topic=title, reason=post.reject_reason or "")
    if who:
        return _("The post in “%(topic)s” was already approved by %(moderator)s and is "
                 "published.", topic=title, moderator=who)
    return _("The post in “%(topic)s” is already published.", topic=title)


def what_happened_edit(edit: PostEdit | None) -> str:
    """For a reply about an edit that no longer waits: what became of it (one sentence,
    in the current language)."""
    if edit is None or edit.post.deleted_at is not None:
        return _("The post is no longer there, so there is nothing to approve or reject.")
    who = edit.decided_by.name if edit.decided_by is not None else ""
    if edit.state in {"replaced", "withdrawn"}:
        return _("The author has changed or withdrawn this edit since; the moderation "
                 "queue shows what waits now.")
    if edit.state == "rejected":
        return _("This edit was already rejected by %(moderator)s, with the reason: "
                 "%(reason)s", moderator=who, reason=edit.reason)
    return _("This edit was already approved by %(moderator)s.", moderator=who)


def queue_url() -> str:
    return links.absolute("forums.moderation")
