"""Domain events: blinker signals with small frozen payloads, never ORM objects.

Signals named `*_pending` fire inside the transaction that caused them, so listeners can
add rows atomically (an outbox, say); the others fire after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from blinker import Namespace

signals = Namespace()

member_applied = signals.signal("member-applied")
member_approved = signals.signal("member-approved")
member_deactivated = signals.signal("member-deactivated")
group_membership_changed = signals.signal("group-membership-changed")
post_pending = signals.signal("post-pending")  # inside the post's transaction
post_published = signals.signal("post-published")  # after commit
post_held = signals.signal("post-held")  # after commit
post_edited = signals.signal("post-edited")  # after commit
post_rejected = signals.signal("post-rejected")  # after commit
post_deleted = signals.signal("post-deleted")  # after commit (soft delete)
# A member's edit of a published post waits for a moderator (pre-moderated boards).
post_edit_pending = signals.signal("post-edit-pending")  # inside the edit's transaction
topic_changed = signals.signal("topic-changed")  # after commit: pin, lock, move, delete
# Conference proceedings were published (after commit); the registry files them as a report.
proceedings_published = signals.signal("proceedings-published")


@dataclass(frozen=True)
class MemberEvent:
    member_id: int


@dataclass(frozen=True)
class GroupMembershipEvent:
    group_id: int
    member_id: int
    added: bool


@dataclass(frozen=True)
class PostEvent:
    post_id: int
    topic_id: int
    board_id: int
    author_id: int | None
    status: str
    source: str


@dataclass(frozen=True)
class PostEditEvent:
    edit_id: int
    post_id: int
    topic_id: int
    board_id: int
    editor_id: int | None


@dataclass(frozen=True)
class ProceedingsEvent:
    """Published proceedings. `key` names the source for good ("conference:<slug>"): the
    registry keeps one report per key and updates it when the proceedings are published
    again. Dates may be datetimes (their date is used); thematic areas are slugs."""

    key: str
    title: str
    url: str
    pdf_url: str | None = None
    timeframe_start: date | None = None
    timeframe_end: date | None = None
    organization: str = ""
    thematic_areas: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    actor_id: int | None = None  # who published them: the report's owner


@dataclass(frozen=True)
class TopicEvent:
    topic_id: int
    board_id: int
    action: str  # "pin" | "unpin" | "lock" | "unlock" | "move" | "delete" | "rename"
    from_board_id: int | None = None  # set when action == "move"
