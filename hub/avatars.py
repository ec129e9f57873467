"""Members' avatars: their initials on a colour of their own, as a small styled span (no
file, no request, no third-party service). The colour comes from the member's id, so
it stays when the name changes; the palette keeps white text readable (WCAG AA).
Imports only `hub`."""

from __future__ import annotations

import unicodedata
from typing import Any

from markupsafe import Markup

# Dark enough for white text at 4.5:1 or more.
PALETTE = ("#0b5d3b", "#1d4ed8", "#7c2d12", "#6b21a8", "#9d174d", "#115e59", "#3f3f46",
           "#854d0e", "#1e3a8a", "#065f46", "#86198f", "#7f1d1d")


def initials(name: str) -> str:
    words = [w for w in (name or "").replace("-", " ").split() if w[:1].isalpha()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return unicodedata.normalize("NFC", letters.upper())


def colour(member_id: int | None) -> int:
    """The index of the member's colour in PALETTE (classes .avatar.c0 ... in hub.css)."""
    return (member_id or 0) * 7 % len(PALETTE)


def avatar(member: Any, size: int = 32) -> Markup:
    """The member's avatar (decorative: the name is always written beside it). A span
    styled by class: no inline style (the CSP allows none) and no SVG in posts."""
    if member is None:
        text, index = "?", None
    else:
        text, index = initials(member.name), colour(member.id)
    shade = "c-none" if index is None else f"c{index}"
    return Markup('<span class="avatar {0} s{1}" aria-hidden="true">{2}</span>').format(
        shade, size, text)


def stylesheet() -> str:
    """The palette as CSS (hub.css carries it; a test keeps the two equal)."""
    return "\n".join(f".avatar.c{i} {{ background: {c}; }}" for i, c in enumerate(PALETTE))


def init_app(app: Any) -> None:
    app.jinja_env.globals["avatar"] = avatar
