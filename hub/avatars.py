"""Members' avatars: their initials on a colour of their own, as a small inline SVG (no
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


def colour(member_id: int | None) -> str:
    return PALETTE[(member_id or 0) * 7 % len(PALETTE)]


def avatar(member: Any, size: int = 32) -> Markup:
    """The member's avatar (decorative: the name is always written beside it)."""
    if member is None:
        text, fill = "?", "#6b7280"
    else:
        text, fill = initials(member.name), colour(member.id)
    font = round(size * (0.42 if len(text) > 1 else 0.5))
    return Markup(
        '<svg class="avatar" width="{s}" height="{s}" viewBox="0 0 {s} {s}" aria-hidden="true"'
        ' focusable="false"><circle cx="{h}" cy="{h}" r="{h}" fill="{f}"/>'
        '<text x="50%" y="50%" dy=".35em" text-anchor="middle" fill="#fff" '
        'font-size="{fs}" font-family="sans-serif">{t}</text></svg>').format(
            s=size, h=size / 2, f=fill, fs=font, t=text)


def init_app(app: Any) -> None:
    app.jinja_env.globals["avatar"] = avatar
