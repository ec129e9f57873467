"""Changes asked for by email wait for the member's confirmation (after GNU Mailman 3).

Anyone can forge From, so a command to `SLUG-request@` that changes something is not
carried out: `listserv.commands` records a `CommandRequest` here and mails a
confirmation request to the member's registered address. The member confirms by replying
to it (the token is in its Reply-To address and, as "confirm TOKEN", in its subject), or
on the page its link opens, with a button: a GET never acts, since mail scanners follow
links. A token is signed (`listserv.addresses`) and bound to one member and one request;
the row makes it work once and only for HUB_LIST_CONFIRM_HOURS. The confirmed changes
run through the forums' `set_subscription`, as on the web.

Imports `hub`, `forums` and `listserv`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, update

from forums import subscriptions
from forums.models import Board
from hub import clock
from hub.errors import Conflict, HubError, NotFound
from hub.extensions import db
from hub.models import Member
from listserv import addresses, links
from listserv.models import CommandRequest

PER_HOUR = 3  # confirmation requests to one member an hour: nobody can flood a member

# Why a token does not work (also the stable codes of refusals).
INVALID, EXPIRED, USED = "invalid", "expired", "used"


@dataclass(frozen=True)
class Change:
    command: str  # as the member wrote it: "digest weekly"
    mode: str  # each | daily | weekly | none


@dataclass(frozen=True)
class Outcome:
    command: str
    result: str


@dataclass(frozen=True)
class Lookup:
    request: CommandRequest | None
    problem: str = ""  # "" when the request may be confirmed; else INVALID, EXPIRED, USED


def token(request: CommandRequest) -> str:
    return addresses.confirm_token(request.id, request.member_id)


def reply_address(request: CommandRequest) -> str:
    return addresses.confirm_address(request.board.slug, request.id, request.member_id)


def url(request: CommandRequest) -> str:
    return links.absolute("listserv.confirm", token=token(request))


def lifetime_hours() -> int:
    return int(current_app.config.get("HUB_LIST_CONFIRM_HOURS", 72))


def may_ask(member: Member) -> bool:
    """Whether another confirmation request may go to `member` this hour."""
    since = clock.now() - timedelta(hours=1)
    sent = db.session.scalar(db.select(func.count(CommandRequest.id)).where(
        CommandRequest.member_id == member.id, CommandRequest.created_at > since))
    return sent < PER_HOUR


def create(member: Member, board: Board, changes: list[Change],
           inbound_id: int | None) -> CommandRequest:
    """Record what was asked (in the current transaction; the caller commits)."""
    now = clock.now()
    request = CommandRequest(
        member_id=member.id, board_id=board.id, inbound_id=inbound_id,
        changes=[{"command": c.command, "mode": c.mode} for c in changes],
        created_at=now, expires_at=now + timedelta(hours=lifetime_hours()))
    db.session.add(request)
    db.session.flush()
    return request


def forget(request: CommandRequest) -> None:
    """Drop a request whose confirmation request could not be sent."""
    db.session.delete(request)
    db.session.flush()


def changes_of(request: CommandRequest) -> list[Change]:
    return [Change(c["command"], c["mode"]) for c in request.changes]


def find(token_text: str) -> Lookup:
    """The request a token names, and whether it may still be confirmed."""
    ids = addresses.parse_confirm_token(token_text)
    request = db.session.get(CommandRequest, ids[0]) if ids else None
    if ids is None or request is None or request.member_id != ids[1]:
        return Lookup(None, INVALID)
    if request.confirmed_at is not None:
        return Lookup(request, USED)
    if clock.aware(request.expires_at) <= clock.now():
        return Lookup(request, EXPIRED)
    return Lookup(request)


def problem_text(lookup: Lookup) -> str:
    """Why a confirmation changed nothing, for the member (in the current locale)."""
    if lookup.problem == USED:
        return _("This request was confirmed already, so nothing more was changed.")
    if lookup.problem == EXPIRED:
        assert lookup.request is not None
        return _("This request has expired, so nothing was changed. If you still want the "
                 "change, send your command to %(address)s again, or change your email "
                 "settings on the web.",
                 address=addresses.request_address(lookup.request.board.slug))
    return _("This confirmation code is not valid (your mail program may have cut or "
             "changed it), so nothing was changed. Please reply to the confirmation "
             "request again, or use the link in it.")


def _modes(board: Board) -> dict[str, tuple[str, str]]:
    """For each mode: what confirming will do, and what was done (in the current locale)."""
    name = board.name
    return {
        "each": (_("Receive every post of %(board)s by email.", board=name),
                 _("You now receive every post of %(board)s by email.", board=name)),
        "daily": (_("Receive one digest of %(board)s a day.", board=name),
                  _("You now receive one digest of %(board)s a day.", board=name)),
        "weekly": (_("Receive one digest of %(board)s a week.", board=name),
                   _("You now receive one digest of %(board)s a week.", board=name)),
        "none": (_("Receive no more mail from %(board)s.", board=name),
                 _("You no longer receive mail from %(board)s.", board=name)),
    }


def effect(board: Board, mode: str) -> str:
    """What confirming a change will do."""
    return _modes(board)[mode][0]


def result(board: Board, mode: str) -> str:
    """What a carried-out change did."""
    return _modes(board)[mode][1]


def confirm(request: CommandRequest, via: str, inbound_id: int | None = None
            ) -> list[Outcome]:
    """Carry out a request, once. The claim commits before the changes run, so two
    confirmations at once (a reply and a click) change things once; Conflict says why a
    request that was fine a moment ago no longer is."""
    now = clock.now()
    claimed = db.session.execute(
        update(CommandRequest)
        .where(CommandRequest.id == request.id, CommandRequest.confirmed_at.is_(None),
               CommandRequest.expires_at > now)
        .values(confirmed_at=now, confirmed_via=via, confirmed_by_id=inbound_id)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    db.session.refresh(request)
    if not claimed:
        lookup = find(token(request))
        raise Conflict(problem_text(lookup), code=lookup.problem or USED)
    member, board = request.member, request.board
    outcomes: list[Outcome] = []
    for change in changes_of(request):
        try:
            subscriptions.set_subscription(member, board, change.mode)
        except HubError as exc:  # no longer active, or no longer allowed to read the board
            outcomes.append(Outcome(change.command, exc.message))
        else:
            outcomes.append(Outcome(change.command, result(board, change.mode)))
    return outcomes


def confirm_token(token_text: str) -> tuple[CommandRequest, list[Outcome]]:
    """The web page's button: confirm by token, or NotFound / Conflict saying why not."""
    lookup = find(token_text)
    if lookup.problem == INVALID or lookup.request is None:
        raise NotFound(problem_text(lookup), code=INVALID)
    if lookup.problem:
        raise Conflict(problem_text(lookup), code=lookup.problem)
    return lookup.request, confirm(lookup.request, "web")
