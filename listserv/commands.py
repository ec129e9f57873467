"""Commands by email to `SLUG-request@`: subscribe, unsubscribe, digest mode, help.

Commands are read from the Subject and the first lines of the body (up to the first
line that is not a command, so quoted text and signatures are ignored). The sender is
the member whose registered address is in From; subscriptions change through the
forums' service (which checks access). The answer lists what was done, in the member's
language, as an `Auto-Submitted: auto-replied` message. Imports `hub`, `forums` and
`listserv`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _

from forums import services as forums
from hub.errors import HubError
from listserv import addresses, links, notices
from listserv.models import InboundMessage
from listserv.rules import COMMAND_WORDS, Mail

MAX_COMMANDS = 10
COMMANDS_PER_HOUR = 10  # replies to one address, so forged requests cannot flood anyone

_MODES = {"daily": "daily", "weekly": "weekly", "each": "each", "nodigest": "each",
          "off": "each", "none": "none", "nomail": "none"}


@dataclass(frozen=True)
class Outcome:
    command: str
    result: str


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
        found.append(words)
        if len(found) >= MAX_COMMANDS:
            break
    return found or [["help"]]


def run(inbound: InboundMessage, mail: Mail) -> list[Outcome]:
    """Carry out the commands and queue the answer (in the current transaction)."""
    outcomes: list[Outcome] = []
    with force_locale(mail.language):
        for words in parse(mail):
            outcomes.append(_run_one(mail, words))
    notices.send(inbound, mail, "listserv_command", rule="command",
                 per_rule=COMMANDS_PER_HOUR, outcomes=outcomes,
                 request_address=addresses.request_address(mail.board.slug),
                 settings_url=links.absolute("listserv.settings"),
                 apply_url=links.absolute("auth.apply"))
    return outcomes


def _run_one(mail: Mail, words: list[str]) -> Outcome:
    board = mail.board
    assert board is not None
    command = " ".join(words)
    verb = words[0]
    if verb == "help":
        return Outcome(command, _("Help is below."))
    member = mail.member
    if member is None:
        return Outcome(command, _("We do not know %(address)s as a member of the network, "
                                  "so nothing was changed.", address=mail.from_address))
    mode: str | None = None
    if verb in {"subscribe", "join"}:
        mode = _MODES.get(words[1], "each") if len(words) > 1 else "each"
    elif verb in {"unsubscribe", "remove", "leave", "nomail"}:
        mode = "none"
    elif verb == "digest":
        mode = _MODES.get(words[1], "daily") if len(words) > 1 else "daily"
    elif verb in _MODES:
        mode = _MODES[verb]
    if mode is None:
        return Outcome(command, _("Unknown command."))
    try:
        forums.set_subscription(member, board, mode)
    except HubError as exc:
        return Outcome(command, exc.message)
    return Outcome(command, {
        "each": _("You now receive every post of %(board)s by email.", board=board.name),
        "daily": _("You now receive one digest of %(board)s a day.", board=board.name),
        "weekly": _("You now receive one digest of %(board)s a week.", board=board.name),
        "none": _("You no longer receive mail from %(board)s.", board=board.name),
    }[mode])
