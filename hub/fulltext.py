"""The search box's language and its translation to the two full-text engines, shared by
every index (the registry's records, the forums' posts).

Text is folded (lower case, accents removed) before it is indexed and before it is
searched, so SQLite FTS5 (porter, unicode61) and PostgreSQL (`english` configuration)
agree. Queries: words are ANDed, "quoted phrases" stay together, `OR` between two terms
offers a choice, a leading `-` excludes a term.

Imports nothing from the hub but SQLAlchemy.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal_column

PG_CONFIG = "english"
MAX_GROUPS = 20
MAX_EXCLUDED = 10


def fold(text: str) -> str:
    """Lower case without accents: "Évaluation" and "evaluation" compare equal."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class TextQuery:
    groups: tuple[tuple[str, ...], ...] = ()  # AND of groups; each group is an OR of terms
    excluded: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.groups or self.excluded)

    @property
    def terms(self) -> tuple[str, ...]:
        """Every wanted term (phrases as they are), for highlighting."""
        return tuple(t for g in self.groups for t in g)


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def parse_query(q: str) -> TextQuery:
    groups: list[list[str]] = []
    excluded: list[str] = []
    join_next = False
    for m in _TOKEN.finditer(q or ""):
        negate, phrase, word = m.group(1), m.group(2), m.group(3)
        if word is not None:
            if word == "OR" and groups:
                join_next = True
                continue
            negate = "-" if word.startswith("-") and len(word) > 1 else ""
            word = word[1:] if negate else word
        term = " ".join(re.findall(r"\w+", fold(phrase if word is None else word)))
        if not term:
            continue
        if negate:
            excluded.append(term)
            join_next = False
        elif join_next:
            groups[-1].append(term)
            join_next = False
        else:
            groups.append([term])
    return TextQuery(tuple(tuple(g) for g in groups[:MAX_GROUPS]),
                     tuple(excluded[:MAX_EXCLUDED]))


# -- SQLite FTS5 ---------------------------------------------------------------------------

def fts5_term(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts5_match(groups: Iterable[Iterable[str]]) -> str:
    """The MATCH expression for groups of terms (AND of ORs)."""
    return " AND ".join("(" + " OR ".join(fts5_term(t) for t in g) + ")" for g in groups)


def fts5_expression(query: TextQuery) -> str:
    """The whole query as one MATCH expression, exclusions included (NOT)."""
    expr = fts5_match(query.groups)
    for term in query.excluded:
        expr = f"{expr} NOT {fts5_term(term)}"
    return expr


# -- PostgreSQL ------------------------------------------------------------------------------

def pg_term(term: str) -> Any:
    fn = func.phraseto_tsquery if " " in term else func.plainto_tsquery
    return fn(literal_column(f"'{PG_CONFIG}'"), term)


def pg_match(groups: Iterable[Iterable[str]]) -> Any:
    """A tsquery for groups of terms (AND of ORs)."""
    expr = None
    for group in groups:
        alt = None
        for term in group:
            alt = pg_term(term) if alt is None else alt.op("||")(pg_term(term))
        expr = alt if expr is None else expr.op("&&")(alt)
    return expr


def pg_expression(query: TextQuery) -> Any:
    """The whole query as one tsquery, exclusions included (`&& !!term`)."""
    expr = pg_match(query.groups)
    for term in query.excluded:
        expr = expr.op("&&")(func.tsquery_not(pg_term(term)))  # the function behind `!!`
    return expr


def pg_vector(title: str, body: str) -> Any:
    """The tsvector of an indexed text: the title weighs A, the rest B."""
    config = literal_column(f"'{PG_CONFIG}'")
    return func.setweight(func.to_tsvector(config, title), literal_column("'A'")).op("||")(
        func.setweight(func.to_tsvector(config, body), literal_column("'B'")))
