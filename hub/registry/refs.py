"""Short references to registry records in posts: `[[project:12]]` (or opportunity, need,
resource, report) becomes a small card with the record's title, kind and countries, linked
to its page. Registered as a `hub.markup` preprocessor, so every path that renders
Markdown (web, API, email) gets the same card, stored with the post's HTML.

Only published records become cards; anything else stays as written, so a reference
never reveals a draft. References inside code stay as written too. Imports only `hub`.
"""

from __future__ import annotations

import html
import re

from flask import has_app_context
from sqlalchemy import select

from hub import access, countries
from hub.extensions import db
from hub.registry import actions
from hub.registry.kinds import BY_KEY, KINDS
from hub.registry.models import Record

REFERENCE = re.compile(r"\[\[(project|opportunity|need|resource|report):(\d{1,9})\]\]",
                       re.IGNORECASE)
# Fenced blocks and inline code spans: references there are examples, not links.
_CODE = re.compile(r"(^(?:```|~~~)[^\n]*\n.*?^(?:```|~~~)[ \t]*$|`[^`\n]*`)",
                   re.MULTILINE | re.DOTALL)
# Characters Markdown or HTML would read inside the card's text, as character references.
_SPECIAL = frozenset("\\`*_[]~<>&\"'")


def _text(value: str) -> str:
    return "".join(f"&#{ord(c)};" if c in _SPECIAL else c for c in value)


def card(record: Record) -> str:
    kind = KINDS[record.kind]
    names = [countries.country_name(c, "en") for c in (record.countries or [])[:5]]
    meta = str(kind.label) + (" · " + ", ".join(names) if names else "")
    return (f'<span class="record-card"><a class="record-card-title" '
            f'href="{html.escape(actions.record_url(record), quote=True)}">'
            f"{_text(actions.display_title(record))}</a> "
            f'<span class="record-card-meta">{_text(meta)}</span></span>')


def expand_references(source: str) -> str:
    """The `hub.markup` preprocessor: Markdown source in, Markdown with cards out."""
    if "[[" not in (source or "") or not has_app_context():
        return source
    wanted: dict[str, set[int]] = {}
    for m in REFERENCE.finditer(source):
        wanted.setdefault(BY_KEY[m.group(1).lower()].name, set()).add(int(m.group(2)))
    if not wanted:
        return source
    found: dict[tuple[str, int], Record] = {}
    for kind_name, ids in wanted.items():
        # Posts are read by anyone who can read the board: only what anyone may read.
        for record in db.session.scalars(select(Record).where(
                Record.kind == kind_name, Record.id.in_(sorted(ids)),
                access.readable_records(None, Record))):
            found[(kind_name, record.id)] = record

    def replace(m: re.Match[str]) -> str:
        record = found.get((BY_KEY[m.group(1).lower()].name, int(m.group(2))))
        return card(record) if record is not None else m.group(0)

    parts = _CODE.split(source)
    # re.split with one group: even items are prose, odd items are the code we skip.
    return "".join(REFERENCE.sub(replace, part) if i % 2 == 0 else part
                   for i, part in enumerate(parts))
