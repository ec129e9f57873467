"""Commands by email to `SLUG-request@`: subscribe, unsubscribe, digest mode, help, and
the confirmation of a change.

Commands are read from the Subject and the first lines of the body (up to the first
line that is not a command, so quoted text and signatures are ignored). "help" is
answered at once, to From. A change is not carried out when it is asked for, since
anyone can forge From: the member whose registered address From names gets a
confirmation request at that address, naming what was asked, in their language, and
nothing changes until they confirm it (`listserv.confirmations`). At most
`confirmations.PER_HOUR` requests go to a member an hour, within the per-address limits
of `listserv.notices`. A sender we do not know changes nothing. A confirmed change runs
through the forums' service (which checks access) and the answer says what was done.
Answers are `Auto-Submitted: auto-replied`. Imports `hub`, `forums` and `listserv`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from forums import services as forums
from hub import access, events
from hub.errors import HubError
from listserv import addresses, confirmations, links, notices
from listserv.confirmations import Change, Outcome
from listserv.models import InboundMessage
from listserv.rules import COMMAND_WORDS, Mail, Verdict
from listserv.trimmer import trim_reply

MAX_COMMANDS = 10
COMMANDS_PER_HOUR = 10  # replies to one address, so forged requests cannot flood anyone

_MODES = {"daily": "daily", "weekly": "weekly", "each": "each", "nodigest": "each",
          "off": "each", "none": "none", "nomail": "none"}


def parse(mail: Mail) -> list[list[str]]:
    """The command lines: the Subject, then body lines until one is not a command."""
    lines = [mail.subject]
    body = mail.body.text if mail.body else ""
    lines += body.splitlines()
    found: list[list[str]] = []
    for number, line in enumerate(lines):
        words = line.strip().lower().split()
        if not words:
            continue
        if words[0] in {"end", "stop", "--", "thanks"}:
            break
        if words[0].rstrip(":") in {"re", "fwd", "fw"} and number == 0:
            words = words[1:]
        if not words or words[0] not in COMMAND_WORDS:
            if number == 0:
                continue  # a subject that is not a command: read the body
            break
        if words in found:  # the same command in the subject and the body counts once
            continue
        found.append(words)
        if len(found) >= MAX_COMMANDS:
            break
    return found


def mode_of(words: list[str]) -> str | None:
    """The subscription mode a command asks for; None for "help" (and unknown words)."""
    verb = words[0]
    if verb in {"subscribe", "join"}:
        return _MODES.get(words[1], "each") if len(words) > 1 else "each"
    if verb in {"unsubscribe", "remove", "leave", "nomail"}:
        return "none"
    if verb == "digest":
        return _MODES.get(words[1], "daily") if len(words) > 1 else "daily"
    return _MODES.get(verb)


def _context(mail: Mail) -> dict[str, Any]:
    assert mail.board is not None
    return {"request_address": addresses.request_address(mail.board.slug),
            "settings_url": links.absolute("listserv.settings"),
            "apply_url": links.absolute("auth.apply")}


def run(inbound: InboundMessage, mail: Mail) -> list[Outcome]:
    """Answer the commands (in the current transaction): "help" at once; changes with a
    confirmation request to the member's registered address, which answers the help too."""
    board, member = mail.board, mail.member
    assert board is not None
    outcomes: list[Outcome] = []
    changes: list[Change] = []
    with force_locale(mail.language):
        found = parse(mail)
        if not found:  # nothing to quote back: the member wrote no command
            outcomes.append(Outcome("", _("We found no command in your message, so "
                                          "nothing was changed. The commands are below.")))
        for words in found:
            command, mode = " ".join(words), mode_of(words)
            if words[0] == "register":
                outcomes.append(register(mail, words))
            elif mode is None:
                outcomes.append(Outcome(command, _("Help is below.") if words[0] == "help"
                                        else _("Unknown command.")))
            elif member is None:
                outcomes.append(Outcome(command, _(
                    "We do not know %(address)s as a member of the network, so nothing was "
                    "changed.", address=mail.from_address)))
            else:
                changes.append(Change(command, mode))
        if changes:
            assert member is not None
            try:
                forums.ensure_visible(member, board)
            except HubError as exc:  # nothing to confirm: it could not be done
                outcomes += [Outcome(c.command, exc.message) for c in changes]
            else:
                return outcomes + _ask(inbound, mail, changes, outcomes)
    notices.send(inbound, mail, "listserv_command", rule="command",
                 per_rule=COMMANDS_PER_HOUR, outcomes=outcomes, **_context(mail))
    return outcomes


def _ask(inbound: InboundMessage, mail: Mail, changes: list[Change],
         answered: list[Outcome]) -> list[Outcome]:
    """Record the changes and mail the confirmation request, if the limits allow."""
    member, board = mail.member, mail.board
    assert member is not None and board is not None
    if not confirmations.may_ask(member):
        return [Outcome(c.command, _("Not done: too many requests for %(address)s this "
                                     "hour, so no confirmation request was sent.",
                                     address=member.email)) for c in changes]
    request = confirmations.create(member, board, changes, inbound.id)
    sent = notices.send(
        inbound, mail, "listserv_confirm", rule="command", per_rule=COMMANDS_PER_HOUR,
        to=member.email, headers={"Reply-To": confirmations.reply_address(request)},
        token=confirmations.token(request), confirm_url=confirmations.url(request),
        hours=confirmations.lifetime_hours(), outcomes=answered,
        changes=[(c.command, confirmations.effect(board, c.mode)) for c in changes],
        **_context(mail))
    if not sent:
        confirmations.forget(request)
        return [Outcome(c.command, _("Not done: too many answers to %(address)s, so no "
                                     "confirmation request was sent.",
                                     address=member.email)) for c in changes]
    return [Outcome(c.command, _("Waiting for confirmation from %(address)s (request "
                                 "%(id)s).", address=member.email, id=request.id))
            for c in changes]


def confirm(inbound: InboundMessage, mail: Mail) -> list[Outcome]:
    """Carry out a confirmed request (checked by `rules.check_confirmation`) and say
    what was done. The answer is not held back by the limits on notices: it goes to the
    member's own address, once per request."""
    request = mail.confirmation
    assert request is not None
    with force_locale(mail.language):
        try:
            outcomes = confirmations.confirm(request, "email", inbound_id=inbound.id)
        except HubError as exc:  # confirmed on the web a moment ago
            outcomes = [Outcome("confirm", exc.message)]
    notices.send(inbound, mail, "listserv_command", rule="confirm", limited=False,
                 outcomes=outcomes, **_context(mail))
    return outcomes


def refuse_confirmation(inbound: InboundMessage, mail: Mail, verdict: Verdict) -> None:
    """A confirmation that changed nothing (forged, expired, used, wrong sender): one
    answer saying why, within the limits on notices."""
    notices.send(inbound, mail, "listserv_command", rule="confirm",
                 outcomes=[Outcome("confirm", verdict.reason)], **_context(mail))


def _motivation(mail: Mail) -> str:
    """The body after the command lines: the member's reason for registering."""
    lines = (mail.body.text if mail.body else "").splitlines()
    for index, line in enumerate(lines):
        words = line.strip().lower().split()
        if words and words[0] not in COMMAND_WORDS:
            return trim_reply("\n".join(lines[index:])).body
    return ""


def register(mail: Mail, words: list[str]) -> Outcome:
    """"register": whatever the board belongs to (a conference, a meeting) registers the
    member through its own service, answering with a RegistrationOutcome; a board that
    belongs to nothing answers None from every receiver."""
    board, member = mail.board, mail.member
    assert board is not None
    command = " ".join(words)
    if member is None:
        return Outcome(command, _("We do not know %(address)s as a member of the network, "
                                  "so you could not be registered.",
                                  address=mail.from_address))
    request = events.RegistrationRequest(board_id=board.id, member_id=member.id,
                                         motivation=_motivation(mail), source="email")
    answers = [result for _receiver, result in events.registration_requested.send(
        current_app._get_current_object(), event=request) if result is not None]
    if not answers:
        return Outcome(command, _("There is nothing to register for on %(board)s: it is "
                                  "an open list. Send “subscribe” to follow it by email.",
                                  board=board.name))
    outcome = answers[0]
    return Outcome(command, f"{outcome.message} {outcome.url}".strip())


def preview(mail: Mail) -> str:
    """What `run` would do with a command message, for `hub gateway check` (nothing is
    stored or sent)."""
    assert mail.board is not None
    parts: list[str] = []
    for words in parse(mail) or [["help"]]:
        command, mode = " ".join(words), mode_of(words)
        if words[0] == "register":
            parts.append(f"{command}: the board's owner (a conference, a meeting) would be "
                         "asked to register the member")
        elif mode is None:
            parts.append(f"{command}: answered at once")
        elif mail.member is None:
            parts.append(f"{command}: {mail.from_address} is not a member, nothing changes")
        elif not access.can_read(mail.member, mail.board):
            parts.append(f"{command}: refused, {mail.member.email} may not read the board")
        elif not confirmations.may_ask(mail.member):
            parts.append(f"{command}: nothing changes, too many confirmation requests "
                         f"to {mail.member.email} this hour")
        else:
            parts.append(f"{command}: a confirmation request would go to "
                         f"{mail.member.email}; nothing changes until it is confirmed")
    return "; ".join(parts) + "."
