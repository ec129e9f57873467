"""Pages rendered once for many members, then made personal on each request.

A page that differs between members only in a few places (the member's name in the menu,
the form token, which posts are theirs or new to them) is rendered once with marks in
those places and kept; each request fills the marks in with a single pass over the text,
which costs a small fraction of rendering the page. A mark carries a random key made
when the process starts and never sent to anyone (every mark is filled in before a page
leaves), so text that members write cannot forge one: a post that spelled out a mark
would otherwise have the reader's form token copied into it.

Imports Flask only.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, g
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

OPEN, CLOSE = f"\ue000{secrets.token_hex(8)}", "\ue001"
_MARK = re.compile(f"{OPEN}([A-Za-z]+)([0-9]*){CLOSE}")
CSRF = "csrf"


def mark(name: str, number: int | str = "") -> Markup:
    """The mark a template prints where something personal goes."""
    return Markup(f"{OPEN}{name}{number}{CLOSE}")


def active() -> bool:
    """True while a page is rendered to be kept for many members."""
    return bool(g.get("_hub_personal_marks"))


@contextmanager
def shared_rendering() -> Iterator[None]:
    """Render for many members: templates that ask `active()` print marks instead."""
    g._hub_personal_marks = True
    try:
        yield
    finally:
        g._hub_personal_marks = False


def unmark_token(html: str) -> str:
    """Replace this request's form token (in every form of the page) by its mark."""
    return html.replace(generate_csrf(), mark(CSRF))


@dataclass(frozen=True)
class Marked:
    """A page cut at its marks once, when it is kept: `texts` around `marks` (name,
    number), so each request joins strings instead of searching the page."""
    texts: tuple[str, ...]
    marks: tuple[tuple[str, str], ...]


def cut(html: str) -> Marked:
    pieces = _MARK.split(html)  # text, name, number, text, name, number, ..., text
    return Marked(tuple(pieces[0::3]), tuple(zip(pieces[1::3], pieces[2::3], strict=True)))


def fill(page: Marked, values: dict[tuple[str, str], str]) -> str:
    """Each mark replaced by its value in `values` (the form token is filled in here, in
    the page and in the values: kept fragments with forms). No call per mark: values are
    looked up, the pieces joined once."""
    token = generate_csrf()
    values = {**values, (CSRF, ""): token}
    filled = [values[found] for found in page.marks]
    pieces = [None] * (len(page.texts) + len(filled))
    pieces[0::2] = page.texts
    pieces[1::2] = filled
    return "".join(pieces).replace(mark(CSRF), token)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["marking"] = active
    app.jinja_env.globals["mark"] = mark
