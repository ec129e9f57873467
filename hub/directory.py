"""The member directory's name search: accent- and case-insensitive, indexed.

Members' names and organizations are folded (`hub.fulltext.fold`) into a full-text
index kept in the transaction that writes the member: SQLite FTS5 table `member_fts`
(rowid = member id), PostgreSQL column `member.search_vector` (`simple` configuration,
no stemming of names, GIN index). Each word typed is a prefix: "luc fern" finds Lucía
Fernández. Never a `LIKE` scan. Imports only `hub`.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import Connection, event, literal_column, select, text

from hub import fulltext
from hub.models import Member

MAX_WORDS = 8


def _words(q: str) -> list[str]:
    return re.findall(r"\w+", fulltext.fold(q))[:MAX_WORDS]


def index_text(name: str | None, organization: str | None) -> str:
    return " ".join(_words(f"{name or ''} {organization or ''}"))


def write_index(conn: Connection, rows: list[tuple[int, str]]) -> None:
    """(member id, folded text) into the index, replacing what was there."""
    if not rows:
        return
    params = [{"id": i, "text": t} for i, t in rows]
    if conn.dialect.name == "postgresql":
        conn.execute(text("UPDATE member SET search_vector = to_tsvector('simple', :text) "
                          "WHERE id = :id"), params)
    else:
        conn.execute(text("DELETE FROM member_fts WHERE rowid = :id"), params)
        conn.execute(text("INSERT INTO member_fts (rowid, body) VALUES (:id, :text)"), params)


def matching(q: str, dialect: str) -> Any:
    """A WHERE clause on `Member.id` for the words of `q`, each a prefix; None when
    `q` has no words."""
    words = _words(q)
    if not words:
        return None
    if dialect == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in words)  # \w+ only: nothing to quote
        return literal_column("member.search_vector").op("@@")(
            text("to_tsquery('simple', :member_q)").bindparams(member_q=tsquery))
    expr = " AND ".join(f'"{w}"*' for w in words)
    ids = select(literal_column("rowid")).select_from(text("member_fts")).where(
        text("member_fts MATCH :member_q").bindparams(member_q=expr))
    return Member.id.in_(ids)


def _reindex(_mapper: Any, conn: Connection, member: Member) -> None:
    write_index(conn, [(member.id, index_text(member.name, member.organization))])


def _on_update(mapper: Any, conn: Connection, member: Member) -> None:
    from sqlalchemy import inspect

    state = inspect(member)
    if state.attrs.name.history.has_changes() or \
            state.attrs.organization.history.has_changes():
        _reindex(mapper, conn, member)


def _on_delete(_mapper: Any, conn: Connection, member: Member) -> None:
    if conn.dialect.name != "postgresql":
        conn.execute(text("DELETE FROM member_fts WHERE rowid = :id"), {"id": member.id})


_listening = False


def init_app(app: Flask) -> None:
    global _listening
    if _listening:  # mapper events are global: register them once for every app
        return
    event.listen(Member, "after_insert", _reindex)
    event.listen(Member, "after_update", _on_update)
    event.listen(Member, "after_delete", _on_delete)
    _listening = True
