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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, current_app, g, session
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


TOKEN_SECONDS = 300
_tokens: dict[tuple[str, str], tuple[float, str]] = {}


def form_token() -> str:
    """This request's form token (Flask-WTF's `generate_csrf`), signed at most once every
    TOKEN_SECONDS for a session rather than once a page: signing costs a filled-in page
    a tenth of its time. A kept token is as valid as a new one (it signs the same
    session secret, and `WTF_CSRF_TIME_LIMIT` is off; were it on, a token at most five
    minutes old keeps nearly all of its time)."""
    raw = session.get("csrf_token")
    if raw is None or "csrf_token" in g:
        return generate_csrf()
    key, now = (str(current_app.secret_key), raw), time.monotonic()
    kept = _tokens.get(key)
    if kept is not None and now - kept[0] < TOKEN_SECONDS:
        g.csrf_token = kept[1]
        return kept[1]
    if len(_tokens) >= 10_000:  # bounded: sessions come and go
        _tokens.clear()
    token = generate_csrf()
    _tokens[key] = (now, token)
    return token


@dataclass(frozen=True)
class Marked:
    """A page cut at its marks once, when it is kept: `texts` around `marks` (name,
    number), so each request joins strings instead of searching the page. The texts are
    UTF-8: a filled page is sent as it is joined, never encoded again."""
    texts: tuple[bytes, ...]
    marks: tuple[tuple[str, str], ...]


def cut(html: str) -> Marked:
    pieces = _MARK.split(html)  # text, name, number, text, name, number, ..., text
    return Marked(tuple(text.encode() for text in pieces[0::3]),
                  tuple(zip(pieces[1::3], pieces[2::3], strict=True)))


def settle(page: Marked, values: dict[tuple[str, str], bytes]) -> Marked:
    """The page with the marks in `values` filled in for good and the others kept: what
    many readers share (which posts are theirs or new to them) settled once, so that each
    request fills only what is its own."""
    texts: list[list[bytes]] = [[page.texts[0]]]
    marks = []
    for found, text in zip(page.marks, page.texts[1:], strict=True):
        if found in values:
            texts[-1] += (values[found], text)
        else:
            marks.append(found)
            texts.append([text])
    return Marked(tuple(b"".join(parts) for parts in texts), tuple(marks))


def fill(page: Marked, values: dict[tuple[str, str], bytes]) -> bytes:
    """Each mark replaced by its value (UTF-8) in `values` (the form token is filled in
    here, in the page and in the values: kept fragments with forms). No call per mark:
    values are looked up, the pieces joined once."""
    token = form_token().encode()
    values = {**values, (CSRF, ""): token}
    filled = [values[found] for found in page.marks]
    pieces: list[bytes] = [b""] * (len(page.texts) + len(filled))
    pieces[0::2] = page.texts
    pieces[1::2] = filled
    return b"".join(pieces).replace(_CSRF_MARK, token)


_CSRF_MARK = str(mark(CSRF)).encode()


def init_app(app: Flask) -> None:
    app.jinja_env.globals["marking"] = active
    app.jinja_env.globals["mark"] = mark
