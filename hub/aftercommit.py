"""Writes that follow a commit (a search index, a page-cache revision), on the request's
own connection. Imports `hub` only.

A request's session holds one pooled connection while it works. Work that took a second
connection (`db.engine.begin()`) while the session held its first made every busy
request wait for a connection another busy request held: with more requests than the
pool has connections, none could finish and all waited for the pool's timeout. Here the
work runs in a short transaction of its own on the session, which the caller's commit has
just ended, so no code path holds one connection while it waits for another.

Where the work can join the change's own transaction (a new post: `post_pending` is sent
inside it), it does, and is marked done (`mark`), so the listener after commit skips it
(`done`): one write transaction per post, which is what SQLite's single writer needs with
many writers at once, and the post is never committed without its index.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

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


_DONE = "hub_done_in_transaction"


def mark(kind: str, key: object) -> None:
    """`kind` of work for `key` was done inside the current transaction."""
    db.session.info.setdefault(_DONE, set()).add((kind, key))


def done(kind: str, key: object) -> bool:
    """Whether the committed transaction did it already (asked once, after commit)."""
    marks = db.session.info.get(_DONE)
    if not marks or (kind, key) not in marks:
        return False
    marks.discard((kind, key))
    return True


@event.listens_for(Session, "after_rollback")
def _forget_marks(session: Session) -> None:
    session.info.pop(_DONE, None)
