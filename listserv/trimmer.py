"""Reply trimming for inbound list mail.

This module owns one decision: which lines of a plain-text email reply are the
author's own words, and which are history carried along by the mail client --
quoted lines, "On <date>, <name> wrote:" attributions, forwarded/Outlook header
blocks, signatures and separator lines, and everything below our own
"## Reply above this line ##" marker.  It is pure standard library and keeps no
state, so it is safe to call from any worker.

The approach: normalise the text, re-join attribution lines that mail clients
wrapped, give every line a one-letter kind, then reason about the sequence of
kinds (top-posted, bottom-posted, interleaved or forwarded) to pick the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Trimmed", "trim_reply"]


@dataclass(frozen=True)
class Trimmed:
    """The author's part of a reply and the part that was cut from it."""

    body: str  # what the author wrote (stripped of surrounding whitespace)
    elided: str  # what was cut (stripped of surrounding whitespace)


# One character per kind so that a message's "shape" is a plain string that
# can be inspected with ordinary regexes.
_EMPTY = "E"
_TEXT = "T"
_QUOTE = "Q"
_ATTRIB = "B"  # attribution line or forwarded-message marker
_HEADER = "H"  # From:/Sent:/To:/Subject: style line
_SIG_DASHES = "S"  # the RFC 3676 "-- " signature delimiter
_SEPARATOR = "D"  # ____ / ----- / ***** style line
_MOBILE = "M"  # "Sent from my iPhone" and friends

# A separator followed by at most this many lines is treated as a signature
# block; a longer tail is more likely a markdown rule inside the reply.
_SIGNATURE_MAX_LINES = 6
# Mail clients wrap an attribution over at most a few lines; looking further
# only risks gluing unrelated sentences together.
_ATTRIB_MAX_CONTINUATIONS = 3
_ATTRIB_MAX_LEN = 300

_NEWLINES = re.compile(r"\r\n?")
_REPLY_MARKER = re.compile(r"##\s*reply\s+above\s+this\s+line\s*##", re.IGNORECASE)

# --- attribution lines ------------------------------------------------------

# Verbs that end an "On <date>, <someone> wrote:" line, lower-cased.
_END_VERBS: tuple[str, ...] = (
    "wrote",
    "writes",
    "a écrit",
    "nous a dit",
    "schrieb",
    "schrieben sie",
    "geschrieben",
    "geschreven",
    "schreef",
    "ha scritto",
    "scrisse",
    "napisał(a)",
    "napisał",
    "napisała",
    "napsal",
    "napísal",
    "escreveu",
    "escribió",
    "va escriure",
    "skrev",
    "kirjoitti",
    "írta",
    "yazdı",
    "написал(а)",
    "написал",
    "написала",
    "пише",
    "написав",
    "写道",
    "寫道",
)
# Characters that may trail an attribution after its verb ("wrote: ", "wrote ----").
_ATTRIB_TRAIL = " \t\u00a0:：.>-*"

# Words that open an attribution in the languages we see ("On", "Le", "Am", ...).
_OPENER = re.compile(
    r"(?:on|at|op|le|am|il|dnia|dňa|em|el|den|dne|w\s+dniu|på|в|in\s+message)\b|在",
)
# Where a wrapped attribution may begin: an opener, a date, or a line with an address.
_ATTRIB_START = re.compile(
    r"(?:on|at|op|le|am|il|dnia|dňa|em|el|den|dne|w\s+dniu|på|в)\b|在|\d",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# A wrapped attribution's later lines never open a new sentence with these.
_CONTINUATION_STOP = re.compile(r"(?:On|At|Op|Le|Am|Il|Dnia|Em|El|Den)\s")
_BRACKETED_EMAIL = re.compile(r"(?:<|\(|\[|&lt;)\s*(?:mailto:)?[^\s<>()\[\]@]+@[\w-]+(?:\.[\w-]+)+")
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# "2014 г." / "2016 р." -- the year suffix of Russian and Ukrainian dates.
_SLAVIC_YEAR = re.compile(r"\d{4}\s*[гр]\.")
# "... schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:" (someone wrote on date).
_WROTE_ON_DATE = re.compile(
    r"\b(?:wrote|schrieb|a\s+écrit|escribió|skrev|schreef)\s+(?:on|am|le|el|den|op)\s"
    r".{0,80}\d.{0,80}[:：]$",
)
# "... schrieb codinghorror <info@discourse.org>:" -- ends in an address and a colon.
_EMAIL_COLON_END = re.compile(
    r"(?:<|\(|\[)\s*(?:mailto:)?[^\s<>()@]+@[^\s<>()@]+(?:<mailto:[^>]*>)?\s*[>)\]]+\s*[:：]$",
)
# "2013/7/20 sam via Discourse Meta <info@discourse.org>"
_DATE_THEN_EMAIL = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b.{1,120}(?:<|&lt;)[^\s<>@]+@[^\s<>]+(?:>|&gt;)$",
)
# "2016-03-03 17:21 GMT+01:00 Some One" (Gmail, no address, no verb).
_ISO_GMT_NAME = re.compile(r"\d{4}-\d\d-\d\d \d{1,2}:\d\d GMT[+-]\d\d:?\d\d(?: [\w \t.'\"-]*)?$")
# Outlook occasionally flattens its header block onto one line.
_OUTLOOK_ONE_LINE = re.compile(r"from:.{1,200}\bsent:.{1,100}\bto:")
_FORWARD_DASHED = re.compile(
    r"-{2,}\s*(?:forwarded\s+message|original\s+message|reply\s+message"
    r"|ursprüngliche\s+nachricht|weitergeleitete\s+nachricht"
    r"|mensaje\s+original|mensaje\s+reenviado|message\s+d'origine|message\s+transféré"
    r"|messaggio\s+originale|messaggio\s+inoltrato|mensagem\s+original|mensagem\s+encaminhada"
    r"|oorspronkelijk\s+bericht|doorgestuurd\s+bericht|ursprungligt\s+meddelande"
    r"|vidarebefordrat\s+meddelande|opprinnelig\s+melding|videresendt\s+melding"
    r"|oprindelig\s+meddelelse|videresendt\s+meddelelse|oryginalna\s+wiadomość"
    r"|przekazana\s+wiadomość|původní\s+zpráva|alkuperäinen\s+viesti"
    r"|исходное\s+сообщение|пересылаемое\s+сообщение|вихідне\s+повідомлення"
    r"|原始邮件|原始郵件|转发邮件|轉寄郵件)\s*-{2,}$",
)
_FORWARD_INTRO = re.compile(
    r"(?:begin\s+forwarded\s+message|début\s+du\s+message\s+(?:transféré|réexpédié)"
    r"|anfang\s+der\s+weitergeleiteten\s+nachricht|inicio\s+del\s+mensaje\s+reenviado)\s*:",
)

# --- other line kinds -------------------------------------------------------

# A bare letter or short name before ">" is Supercite-style quoting ("Richard> ...").
_QUOTE_LINE = re.compile(r"[ \t]*(?:>|[A-Za-z][\w.-]{0,14}>(?=[ \t]|$))")
# Supercite and "|" quotes are rewritten to ">" so that whatever we show renders
# as one kind of markdown blockquote.
_ALT_QUOTE_PREFIX = re.compile(r"[ \t]*(?:[A-Za-z][\w.-]{0,14}>|\|)")
_SEPARATOR_LINE = re.compile(r"(?:[-_=+~#*,ᐧ—–][ \t]*){2,}|[ᐧ—–]")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")

_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_ANGLE_URL = re.compile(r"<(?:https?|mailto):[^>]*>")
_DEVICE = (
    r"(?:iphone|ipad|ipod|android|mobile|phone|cell|device|tablet|blackberry|galaxy|samsung"
    r"|outlook|mail|mailbox|airmail|windows|yahoo|gmail|spark|protonmail|superhuman)"
)
_MOBILE_SIGNATURE = re.compile(
    r"[(<\s]*(?:"
    rf"sent\s(?:(?:from|via|using)\smy\s.{{1,60}}"
    rf"|(?:from|via|with|by|using)\s.{{0,40}}\b{_DEVICE}\b.{{0,60}})"
    r"|\S+\sfrom\s(?:my\s)?(?:mobile|phone|iphone|ipad|android)\b.{0,30}"
    r"|from\smy\s(?:iphone|ipad|ipod|android|mobile|phone|samsung|galaxy|blackberry|cell)\b.{0,30}"
    r"|get\s(?:the\s)?outlook\sfor\s(?:ios|android).{0,80}"
    r"|envoy[ée]\s(?:de|depuis|à\spartir\sde|avec)\s(?:mon|ma|yahoo|outlook|l'application)\b.{0,60}"
    r"|enviado\s(?:desde|con)\s(?:outlook|yahoo|gmail|correo)\b.{0,60}"
    r"|(?:obtener|obtenez|télécharger)\s(?:outlook|l'application\soutlook)\s(?:para|pour)\s.{1,40}"
    r"|von\smeine[mr]\s.{1,60}\sgesendet\.?"
    r"|gesendet\s(?:von|mit)\s(?:meinem|meiner|der|dem)\s.{1,60}"
    r"|diese\snachricht\swurde\svon\s.{1,80}\sgesendet\.?"
    r"|inviato\sda\s(?:il\smio\s|iphone|ipad|android|smartphone|outlook|yahoo|libero|mail).{0,60}"
    r"|sendt\sfra\smin\s.{1,60}"
    r"|skickat\sfrån\s(?:min|mitt)\s.{1,60}"
    r"|från\smin\s(?:iphone|ipad|android|mobil)\b.{0,30}"
    r"|enviado\s(?:do|desde|a\spartir\sdo|de)\s(?:meu|mi|o|el)\s.{1,60}"
    r"|verzonden\s(?:met|vanaf|van)\s.{1,60}"
    r"|verstuurd\s(?:vanaf|met|via|van)\s.{1,60}"
    r"|wysłane\sz\s(?:mojego|iphone|ipada|aplikacji|telefonu)\b.{0,60}"
    r"|отправлено\sс\s(?:моего|iphone|ipad|android|мобильного)\b.{0,60}"
    r"|從我的\s?.{1,30}傳送"
    r"|[发發]自我的.{1,30}"
    r"|.{1,30}から送信"
    r")[)>\s.]*",
    re.IGNORECASE,
)

# Header names mapped to the role they play, so that a block can be judged by
# what it contains rather than by how many lines it has.
_HEADER_NAMES_BY_ROLE = {
    "from": "from|von|de|da|van|från|fra|od|от|发件人|寄件者|expéditeur|feladó|lähettäjä",
    "date": "sent|date|datum|data|fecha|gesendet|envoyé|enviado|enviada em|inviato|verzonden"
    "|verstuurd|skickat|sendt|wysłano|отправлено|发送时间|日期|päivämäärä",
    "to": "to|an|a|à|para|aan|till|til|do|кому|收件人|destinataire|vastaanottaja",
    "subject": "subject|betreff|objet|asunto|assunto|oggetto|onderwerp|ämne|emne|temat|тема"
    "|主题|主旨|aihe",
    "cc": "cc|bcc|kopie|cci",
    "reply": "reply-to|risposta|répondre à|antwort an|beantwoorden - aan|responder a",
}
_HEADER_ROLES = {
    name: role for role, names in _HEADER_NAMES_BY_ROLE.items() for name in names.split("|")
}
_HEADER_LINE = re.compile(
    r"[ \t*]*("
    + "|".join(re.escape(n) for n in sorted(_HEADER_ROLES, key=len, reverse=True))
    + r")[ \t*]*[:：][ \t*]*\S",
    re.IGNORECASE,
)
_HEADER_NAME_SPAN = 24  # a header's colon sits within the first few characters

_MAY_CUT_AFTER = re.compile(r"[EQBH]*[TE]*")


def trim_reply(text: str) -> Trimmed:
    """Split an email reply into the author's words and the material that was cut."""
    if not text or text.isspace():
        return Trimmed("", "")
    text = _NEWLINES.sub("\n", text)

    tail: list[str] = []
    marker = _REPLY_MARKER.search(text)
    if marker is not None:
        start = text.rfind("\n", 0, marker.start()) + 1
        tail.append(text[start:])
        text = text[: max(start - 1, 0)]

    lines = _join_wrapped_attributions(text.split("\n"))
    forwarded = _forward_start(lines)
    if forwarded is not None:
        return _keep_forward(lines, forwarded, tail)
    kinds = _classify(lines)

    cut = _hard_cut(lines, kinds)
    if cut < len(lines):
        tail.insert(0, "\n".join(lines[cut:]))
        lines, kinds = lines[:cut], kinds[:cut]

    keep = _select_body(lines, kinds)

    body_lines: list[str] = []
    previous = _EMPTY
    for i in range(len(lines)):
        if not keep[i]:
            continue
        if previous == _QUOTE and kinds[i] == _TEXT and body_lines[-1].strip(" >"):
            # An answer right under the line it answers: without a blank line Markdown
            # would read it as part of the quote ("lazy continuation").
            body_lines.append("")
        body_lines.append(_render(lines[i], kinds[i]))
        previous = kinds[i]
    elided_lines = [_render(lines[i], kinds[i]) for i in range(len(lines)) if not keep[i]]
    elided_lines.extend(tail)
    return Trimmed("\n".join(body_lines).strip(), "\n".join(elided_lines).strip())


# --- forwards -----------------------------------------------------------------

_FORWARD_WORDS = re.compile(
    r"forwarded|reenviado|transf[ée]r[ée]|r[ée]exp[ée]di[ée]|weitergeleitet|inoltrato"
    r"|encaminhada|doorgestuurd|vidarebefordrat|videresendt|przekazana|пересылаемое"
    r"|转发|轉寄|begin\s+forwarded", re.IGNORECASE)


def _forward_start(lines: list[str]) -> int | None:
    """The line that opens a forwarded message ("---------- Forwarded message ----------",
    "Begin forwarded message:"), when it is the first history in the mail and not quoted."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            if stripped.startswith(">"):
                return None  # a reply's quote comes first: this is no forward
            continue
        if _is_attribution(stripped):
            return i if _FORWARD_WORDS.search(stripped) else None
    return None


def _keep_forward(lines: list[str], start: int, tail: list[str]) -> Trimmed:
    """A forward: the author's note, then the forwarded message kept as a quote (its
    header block too, which says whose words they are); only the note's own signature
    is cut."""
    note = trim_reply("\n".join(lines[:start])) if start else Trimmed("", "")
    forwarded = "\n".join(lines[start:]).strip("\n").split("\n")
    quoted = "\n".join(("> " + line).rstrip() for line in forwarded)
    body = f"{note.body}\n\n{quoted}" if note.body else quoted
    elided = "\n".join(part for part in (note.elided, *tail) if part)
    return Trimmed(body.strip(), elided.strip())


# --- attribution detection --------------------------------------------------


def _is_attribution(s: str) -> bool:
    """Whether a (quote-stripped) line introduces quoted or forwarded history."""
    if len(s) > _ATTRIB_MAX_LEN:
        return False
    low = s.lower()
    bare = low.strip(" \t\u00a0*")
    if "--" in bare and _FORWARD_DASHED.fullmatch(bare):
        return True
    if _FORWARD_INTRO.match(bare):
        return True

    core = bare.strip("-* \t\u00a0")
    if not core:
        return False
    tail = core.rstrip(_ATTRIB_TRAIL)
    if tail.endswith(_END_VERBS) and _verb_is_a_word(tail):
        if _OPENER.match(core):
            # An opener alone ("On the other hand, she wrote:") is not enough.
            if any(c.isdigit() for c in core) or "@" in core:
                return True
        elif (
            _BRACKETED_EMAIL.search(core)
            or _TIME.search(core)
            or " via " in core
            or _SLAVIC_YEAR.search(core)
        ):
            return True

    if core.endswith((":", "：")):
        if _WROTE_ON_DATE.search(core):
            return True
        if _EMAIL_COLON_END.search(core) and (_TIME.search(core) or _YEAR.search(core)):
            return True
        if core.startswith("from:") and _OUTLOOK_ONE_LINE.match(core):
            return True

    if core[0].isdigit() and (_DATE_THEN_EMAIL.match(core) or _ISO_GMT_NAME.match(s)):
        return True
    return False


def _verb_is_a_word(tail: str) -> bool:
    # "rewrote:" must not count as "wrote:"; CJK verbs need no word boundary.
    for verb in _END_VERBS:
        if tail.endswith(verb):
            if ord(verb[0]) >= 0x2E80:
                return True
            before = len(tail) - len(verb) - 1
            return before < 0 or not tail[before].isalnum()
    return False


def _unquote(line: str) -> str:
    return line.strip().lstrip("> \t").strip()


def _join_wrapped_attributions(lines: list[str]) -> list[str]:
    """Re-join "On ..., Name <addr>\\nwrote:" that a client wrapped over several lines."""
    out: list[str] = []
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        s = _unquote(line)
        joined_to = -1
        if (
            s
            and len(s) < _ATTRIB_MAX_LEN
            and (_ATTRIB_START.match(s.lstrip("-* ")) or ("@" in s and _EMAIL.search(s)))
            and not _is_attribution(s)
        ):
            acc = line.rstrip()
            j = i + 1
            blanks = 0
            for _ in range(_ATTRIB_MAX_CONTINUATIONS):
                while j < n and not lines[j].strip():
                    blanks += 1
                    j += 1
                # One blank line can sit inside a wrapped attribution; two means
                # a new paragraph.
                if j >= n or blanks > 1:
                    break
                nxt = lines[j].strip()
                unquoted = _unquote(nxt)
                if (
                    len(nxt) <= 150
                    and not _CONTINUATION_STOP.match(unquoted)
                    and unquoted[:1] in "<([&"
                    and _is_attribution(_unquote(f"{acc} {nxt}"))
                ):
                    # "On Mon, ... Ana Smith\n<ana@example.org> wrote:": the second line
                    # alone reads as an attribution; together they are one.
                    acc = f"{acc} {nxt}"
                    joined_to = j
                    break
                if (
                    len(nxt) > 150
                    or _CONTINUATION_STOP.match(unquoted)
                    or _is_attribution(unquoted)
                ):
                    break
                acc = f"{acc} {nxt}"
                if len(acc) > _ATTRIB_MAX_LEN:
                    break
                if _is_attribution(_unquote(acc)):
                    joined_to = j
                    break
                j += 1
        if joined_to >= 0:
            out.append(acc)
            i = joined_to + 1
        else:
            out.append(line)
            i += 1
    return out


# --- classification ---------------------------------------------------------


def _code_block_lines(lines: list[str]) -> list[bool]:
    """Mark lines inside closed markdown fences; their contents are never trimmed."""
    inside = [False] * len(lines)
    open_at = -1
    fence = ""
    for i, line in enumerate(lines):
        if "```" not in line and "~~~" not in line:
            continue
        m = _FENCE.match(line)
        if m is None:
            continue
        mark = m.group(1)
        if open_at < 0:
            open_at, fence = i, mark
        elif mark[0] == fence[0] and len(mark) >= len(fence) and not line[m.end() :].strip():
            for k in range(open_at, i + 1):
                inside[k] = True
            open_at = -1
    # An unclosed fence protects nothing: trusting it would keep the whole
    # quoted history whenever someone types three backticks.
    return inside


def _classify(lines: list[str]) -> list[str]:
    code = _code_block_lines(lines)
    kinds: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            kinds.append(_EMPTY)
        elif code[i]:
            kinds.append(_TEXT)
        elif _is_attribution(_unquote(stripped)):
            kinds.append(_ATTRIB)
        elif _QUOTE_LINE.match(line):
            kinds.append(_QUOTE)
        elif stripped == "--":
            kinds.append(_SIG_DASHES)
        elif _SEPARATOR_LINE.fullmatch(stripped):
            kinds.append(_SEPARATOR)
        elif len(stripped) <= 160 and _is_mobile_signature(stripped):
            kinds.append(_MOBILE)
        elif _header_role(stripped) is not None:
            kinds.append(_HEADER)
        else:
            kinds.append(_TEXT)

    # "|"-prefixed lines directly under an attribution are a quote; elsewhere
    # they are far more likely a markdown table.
    pipe_quote = False
    for i, kind in enumerate(kinds):
        if kind == _ATTRIB:
            pipe_quote = True
        elif kind == _TEXT and pipe_quote and lines[i].lstrip().startswith("|"):
            kinds[i] = _QUOTE
        elif kind != _EMPTY:
            pipe_quote = False
    return kinds


def _is_mobile_signature(stripped: str) -> bool:
    if "](" in stripped:
        stripped = _MARKDOWN_LINK.sub(r"\1", stripped)
    if "<" in stripped:
        stripped = _ANGLE_URL.sub("", stripped)
    return _MOBILE_SIGNATURE.fullmatch(stripped) is not None


def _header_role(stripped: str) -> str | None:
    head = stripped[:_HEADER_NAME_SPAN]
    if ":" not in head and "：" not in head:
        return None
    m = _HEADER_LINE.match(stripped)
    return _HEADER_ROLES[m.group(1).lower()] if m else None


# --- deciding what to keep --------------------------------------------------


def _hard_cut(lines: list[str], kinds: list[str]) -> int:
    """Index of the first signature or separator that ends the author's text."""
    ahead: tuple[list[str], list[int]] | None = None
    for i, kind in enumerate(kinds):
        if kind in (_SIG_DASHES, _MOBILE):
            return i
        if kind == _SEPARATOR:
            if ahead is None:
                ahead = _look_ahead(kinds)
            if _separator_ends_reply(lines, kinds, i, ahead):
                return i
            kinds[i] = _TEXT
    return len(lines)


def _look_ahead(kinds: list[str]) -> tuple[list[str], list[int]]:
    """For each line: the kind of the next content line from it on, and how many follow.

    Precomputed once so that a message full of separators stays linear.
    """
    n = len(kinds)
    next_kind = [""] * (n + 1)
    remaining = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        kind = kinds[i]
        if kind in (_EMPTY, _SEPARATOR, _SIG_DASHES):
            next_kind[i], remaining[i] = next_kind[i + 1], remaining[i + 1]
        else:
            next_kind[i], remaining[i] = kind, remaining[i + 1] + 1
    return next_kind, remaining


def _separator_ends_reply(
    lines: list[str], kinds: list[str], i: int, ahead: tuple[list[str], list[int]]
) -> bool:
    # "Title\n=====" is a setext heading, not a separator.
    if i > 0 and kinds[i - 1] == _TEXT and not lines[i].strip().strip("= \t"):
        return False
    next_kind, remaining = ahead
    if next_kind[i + 1] in ("", _ATTRIB, _HEADER, _QUOTE):
        return True
    return remaining[i + 1] <= _SIGNATURE_MAX_LINES


def _header_blocks(lines: list[str], kinds: list[str]) -> list[tuple[int, int]]:
    """Find From/Sent/To/Subject blocks and mark their lines (continuations included)."""
    blocks: list[tuple[int, int]] = []
    n = len(kinds)
    i = 0
    while i < n:
        if kinds[i] != _HEADER:
            i += 1
            continue
        roles: set[str] = set()
        last = i
        j = i
        while j < n:
            kind = kinds[j]
            if kind == _HEADER:
                role = _header_role(lines[j].strip())
                if role is not None:
                    roles.add(role)
                last = j
            elif kind != _TEXT or j - last > 2:
                break
            j += 1
        # A lone "Subject:" in prose is fine; a block needs a sender and two
        # other fields before it reads as an embedded message.
        if "from" in roles and len(roles) >= 3:
            for k in range(i, last + 1):
                kinds[k] = _HEADER
            blocks.append((i, last))
        else:
            for k in range(i, last + 1):
                if kinds[k] == _HEADER:
                    kinds[k] = _TEXT
        i = last + 1
    return blocks


def _select_body(lines: list[str], kinds: list[str]) -> list[bool]:
    """Decide, line by line, what the author wrote."""
    n = len(kinds)
    block_starts = {start for start, _ in _header_blocks(lines, kinds)}
    # Attributions and header blocks are never the author's words, wherever they sit.
    keep = [kind not in (_ATTRIB, _HEADER) for kind in kinds]
    first = next((i for i, k in enumerate(kinds) if k == _ATTRIB or i in block_starts), n)

    if first < n and _TEXT in kinds[:first]:
        # Top-posting: the author wrote above the history.  Only when quotes and
        # fresh text keep alternating after the attribution is it an inline reply.
        rest = "".join(kinds[first + 1 :])
        greeting = _is_greeting([lines[i] for i in range(first) if kinds[i] == _TEXT])
        if kinds[first] == _HEADER or _QUOTE not in rest or (
                _MAY_CUT_AFTER.fullmatch(rest) and not (greeting and _TEXT in rest)):
            keep[first:] = [False] * (n - first)
    elif first < n and all(k == _EMPTY for k in kinds[:first]):
        # The message opens with the history: a bottom-post, an inline reply, or
        # a bare forward.  Drop the opening quote only if no further quote
        # follows, otherwise the quotes give the inline answers their context.
        j = first
        while j < n and kinds[j] in (_ATTRIB, _HEADER, _EMPTY):
            j += 1
        quote_start = j
        while j < n and kinds[j] in (_QUOTE, _EMPTY, _ATTRIB, _HEADER):
            j += 1
        if quote_start < n and kinds[quote_start] == _QUOTE and _QUOTE not in kinds[j:]:
            keep[first:j] = [False] * (j - first)

    _drop_trailing_quotes(kinds, keep)
    return keep


_GREETING = re.compile(
    r"(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|hola|buen[oa]s|estimad[oa]s?"
    r"|queridos?|bonjour|bonsoir|cher|chère|chers|salut|hallo|liebe[rs]?|ciao|caro|cara"
    r"|olá|prezad[oa]s?|hej|moi|hei)\b.{0,40}$", re.IGNORECASE)


def _is_greeting(text_lines: list[str]) -> bool:
    """Only "Hi Ana," above the quote: the answer is the text below it (a bottom-post),
    not a signature of the quoted mail."""
    if not text_lines or len(text_lines) > 1:
        return False
    line = text_lines[0].strip()
    return len(line) <= 60 and (line.endswith((",", ":", "!")) or
                                _GREETING.match(line) is not None)


def _drop_trailing_quotes(kinds: list[str], keep: list[bool]) -> None:
    # A quote after the author's last line is history the client appended
    # without an attribution; a message that is only a quote is kept as is.
    if not any(keep[i] and kinds[i] == _TEXT for i in range(len(kinds))):
        return
    for i in range(len(kinds) - 1, -1, -1):
        if not keep[i]:
            continue
        if kinds[i] == _TEXT:
            return
        if kinds[i] in (_EMPTY, _QUOTE):
            keep[i] = False


def _render(line: str, kind: str) -> str:
    if kind == _QUOTE and not line.lstrip().startswith(">"):
        m = _ALT_QUOTE_PREFIX.match(line)
        if m is not None:
            return ">" + line[m.end() :]
    return line
