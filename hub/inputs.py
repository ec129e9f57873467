"""Input no endpoint may store, refused before any view runs: the same clear 4xx for the
API (422 JSON) and the pages (a page that says what to change), never a server error
from the database or the driver. Imports `hub` only.

- ids in URLs are 64-bit: `/topics/99999999999999999999999` is a 404, not an overflow;
- JSON bodies nest at most MAX_DEPTH levels, their integers fit 64 bits, their strings
  hold no NUL (PostgreSQL cannot store it) and no lone surrogate (not UTF-8);
- form fields and query arguments hold no NUL.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from hub.errors import Invalid

MAX_DEPTH = 32
INT_MAX = 2**63 - 1


class BoundedInt(IntegerConverter):
    """`<int:...>` that matches only ids a database column can hold."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def is_id(raw: str) -> bool:
    """Digits that make an id a database column can hold ("12", not "99...9" or "²")."""
    return raw.isascii() and raw.isdigit() and len(raw) <= 19 and int(raw) <= INT_MAX


def json_problem(data: Any) -> str | None:
    """Why this parsed JSON cannot be stored, or None. Walks without recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > MAX_DEPTH:
                return f"JSON nested deeper than {MAX_DEPTH} levels"
            stack.extend((k, depth) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            if depth > MAX_DEPTH:
                return f"JSON nested deeper than {MAX_DEPTH} levels"
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            continue
        elif isinstance(value, int):
            if not -INT_MAX - 1 <= value <= INT_MAX:
                return "an integer out of range (64 bits)"
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return problem
    return None


def text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "a NUL character (\\u0000) in a string"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (not valid Unicode) in a string"
    return None


def _check_request() -> Any:
    from hub import api

    if api.is_api_request():
        if request.is_json and request.content_length != 0:
            try:
                data = request.get_json(silent=True)
            except RecursionError:
                data, problem = None, f"JSON nested deeper than {MAX_DEPTH} levels"
            else:
                problem = json_problem(data)
            if problem:
                raise Invalid(f"This request cannot be stored: {problem}.", code="invalid_json")
        problem = _field_problem()
        if problem:
            raise Invalid(f"This request cannot be stored: {problem}.", code="invalid_text")
        return None
    if _field_problem():
        message = _("The form or address contains a character that cannot be stored "
                    "(a NUL character). Remove it and try again.")
        return render_template("error.html", status=400, message=message), 400
    return None


def _field_problem() -> str | None:
    for source in (request.args, request.form if request.method != "GET" else {}):
        for name, value in source.items(multi=True) if source else ():
            problem = text_problem(name) or text_problem(value)
            if problem:
                return f"{problem} in '{name}'"
    return None


def init_app(app: Flask) -> None:
    """Before any blueprint: routes compile their converters when they are added."""
    app.url_map.converters["int"] = BoundedInt
    app.before_request(_check_request)
