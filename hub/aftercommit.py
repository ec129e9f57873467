"""Writes that follow a commit (a search index, a page-cache revision), on the request's
own connection. Imports `hub` only.

A request's session holds one pooled connection while it works. Work that took a second
connection (`db.engine.begin()`) while the session held its first made every busy
request wait for a connection another busy request held: with more requests than the
pool has connections, none could finish and all waited for the pool's timeout. Here the
work runs in a short transaction of its own on the session, which the caller's commit has
just ended, so no code path holds one connection while it waits for another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Connection

from hub.extensions import db

T = TypeVar("T")


def write(work: Callable[[Connection], T]) -> T:
    """Run `work(connection)` and commit it; rolled back (and raised) when it fails."""
    session = db.session
    try:
        result = work(session.connection())
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result
