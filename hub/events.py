"""Domain events: blinker signals with small frozen payloads, never ORM objects.

Signals named `*_pending` fire inside the transaction that caused them, so listeners can
add rows atomically (an outbox, say); the others fire after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from blinker import Namespace

signals = Namespace()

member_applied = signals.signal("member-applied")
member_approved = signals.signal("member-approved")
member_deactivated = signals.signal("member-deactivated")
group_membership_changed = signals.signal("group-membership-changed")
# A group recorded (or cleared) its elected chairperson (after commit).
group_chair_changed = signals.signal("group-chair-changed")
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
# A member asked (by email, `register` to SLUG-request@) to register for whatever a board
# belongs to: a conference, a meeting. `listserv` may not import those packages, so it
# sends this (`send(app, event=RegistrationRequest(...))`, as every signal here takes its
# payload as `event=`); the owner of the board answers with a RegistrationOutcome, every
# other receiver with None. Sent inside a request or app context; receivers commit their rows.
registration_requested = signals.signal("registration-requested")
# A country's page (`/countries/CC`) asks each package what it holds about a country;
# receivers return a CountrySection (already filtered by hub.access for the viewer) or None.
country_page_requested = signals.signal("country-page-requested")


@dataclass(frozen=True)
class MemberEvent:
    member_id: int


@dataclass(frozen=True)
class GroupMembershipEvent:
    group_id: int
    member_id: int
    added: bool


@dataclass(frozen=True)
class GroupChairEvent:
    group_id: int
    member_id: int | None  # None: the group has no chair now


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
    report_type: str = "proceedings"  # the registry report's type, e.g. "meeting_report"
    countries: tuple[str, ...] = ()  # ISO 3166-1 alpha-2 codes the report is about


@dataclass(frozen=True)
class RegistrationRequest:
    board_id: int
    member_id: int
    motivation: str = ""
    source: str = "email"


@dataclass(frozen=True)
class RegistrationOutcome:
    """What became of a registration request. `status` is one of "registered",
    "pending" (waits for a moderator), "waitlisted", "already", "closed", "refused";
    `message` is one sentence for the member, already in their language."""

    status: str
    message: str
    title: str
    url: str


@dataclass(frozen=True)
class CountryQuery:
    country: str  # ISO 3166-1 alpha-2, upper case
    viewer_id: int | None


@dataclass(frozen=True)
class CountryItem:
    title: str
    url: str
    when: datetime | None = None  # UTC
    detail: str = ""


@dataclass(frozen=True)
class CountrySection:
    key: str  # "conferences", "meetings", ...
    title: str  # in the viewer's language
    items: tuple[CountryItem, ...]


@dataclass(frozen=True)
class TopicEvent:
    topic_id: int
    board_id: int
    action: str  # "pin" | "unpin" | "lock" | "unlock" | "move" | "delete" | "rename"
    from_board_id: int | None = None  # set when action == "move"
