"""@mentions: a member's handle, finding handles in Markdown, and linking them.

A handle is the member's name, lower-cased, accents removed, words joined by dots:
"Lucía Fernández" is `@lucia.fernandez`. When two active members share a name, either
can be reached unambiguously as `@lucia.fernandez.42` (handle, dot, member id). Text in
code spans and fenced code blocks is never read as a mention, nor is an email address.
Imports only `hub`.
"""

from __future__ import annotations

import re
import unicodedata

from forums import urls
from hub.extensions import db
from hub.models import Member, MemberStatus

MENTION = re.compile(r"(?<![\w@./])@([^\W_][\w-]*(?:\.[^\W_][\w-]*)*)", re.UNICODE)
_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"`[^`\n]+`")
_MD_SPECIAL = re.compile(r"[\\`*_{}\[\]()#+!<>|~]")


def handle(name: str) -> str:
    """The handle of a name: `Wanjiru Kamau` -> `wanjiru.kamau`."""
    ascii_name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower())
    return ".".join(words)


def _outside_code(text: str) -> list[tuple[int, int]]:
    """The spans of `text` that are not code, so mentions are only found in prose."""
    blocked: list[tuple[int, int]] = [m.span() for m in _FENCE.finditer(text)]
    blocked += [m.span() for m in _CODE_SPAN.finditer(text)
                if not any(a <= m.start() < b for a, b in blocked)]
    blocked.sort()
    spans, start = [], 0
    for a, b in blocked:
        if a > start:
            spans.append((start, a))
        start = max(start, b)
    spans.append((start, len(text)))
    return spans


def _tokens(text: str) -> list[re.Match[str]]:
    found = []
    for a, b in _outside_code(text):
        found += list(MENTION.finditer(text, a, b))
    return found


def resolve(text: str) -> dict[str, Member]:
    """Mention token (as written, lower-cased) -> the active member it names."""
    tokens = {m.group(1).lower().rstrip(".") for m in _tokens(text)}
    if not tokens:
        return {}
    rows = db.session.scalars(
        db.select(Member).where(Member.status == MemberStatus.ACTIVE)
    ).all()
    by_handle: dict[str, list[Member]] = {}
    for member in rows:
        by_handle.setdefault(handle(member.name), []).append(member)
    found: dict[str, Member] = {}
    for token in tokens:
        base, _, tail = token.rpartition(".")
        if base and tail.isdigit():
            candidates = [m for m in by_handle.get(base, []) if m.id == int(tail)]
        else:
            candidates = by_handle.get(token, [])
        if len(candidates) == 1:
            found[token] = candidates[0]
    return found


def link(text: str, members: dict[str, Member]) -> str:
    """The Markdown source with resolved mentions turned into links to profiles."""
    if not members:
        return text
    out, last = [], 0
    for match in _tokens(text):
        token = match.group(1).lower().rstrip(".")
        member = members.get(token)
        if member is None:
            continue
        end = match.end(1)
        out.append(text[last:match.start()])
        label = _MD_SPECIAL.sub(r"\\\g<0>", member.name)
        out.append(f"[@{label}]({urls.path('members.profile', member_id=member.id)})")
        last = end
    out.append(text[last:])
    return "".join(out)
