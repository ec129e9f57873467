"""SQLite's writers take turns in the process, not in SQLite's busy handler. Imports
nothing of the hub.

SQLite has one write lock per database. A writer that finds it taken sleeps and tries
again (PRAGMA busy_timeout), with no queue: under many concurrent writers (`hub dev` with
50 API clients) an unlucky one keeps losing until its timeout ends in "database is
locked". Here each process hands the lock out in turn: the first write statement of a
transaction waits for a process-wide lock, which the transaction's commit or rollback
gives back. Threads of one process (web, worker, gateway in `hub dev`) then wait their
turn instead of racing; other processes still meet SQLite's busy handler. Autocommit
connections (the fan-out's recorder) write one statement at a time and take no turn.
A thread that already holds the lock through another connection goes on (re-entrant), as
before: SQLite's own lock decides between its connections.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import Pool

log = logging.getLogger(__name__)

WAIT_SECONDS = 60  # then write anyway, and let SQLite's busy handler decide
_HELD = "hub_sqlite_write_turn"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_turns: dict[str, threading.RLock] = {}
_guard = threading.Lock()


def _turn(url: str) -> threading.RLock:
    with _guard:
        return _turns.setdefault(url, threading.RLock())


@event.listens_for(Engine, "before_cursor_execute")
def _take_turn(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if conn.dialect.name != "sqlite" or _HELD in conn.info:
        return
    if not statement.lstrip()[:7].upper().startswith(_WRITES):
        return
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    turn = _turn(str(conn.engine.url))
    if not turn.acquire(timeout=WAIT_SECONDS):
        log.warning("sqlite: waited %s s for a write turn; writing anyway", WAIT_SECONDS)
        return
    conn.info[_HELD] = turn


def _give_back(info: dict) -> None:
    turn = info.pop(_HELD, None)
    if turn is not None:
        try:
            turn.release()
        except RuntimeError:  # ended by another thread (a pool reset): the owner's is gone
            log.debug("sqlite: write turn released elsewhere")


@event.listens_for(Engine, "commit")
def _after_commit(conn: Connection) -> None:
    _give_back(conn.info)


@event.listens_for(Engine, "rollback")
def _after_rollback(conn: Connection) -> None:
    _give_back(conn.info)


@event.listens_for(Pool, "reset")
def _on_reset(dbapi_connection: Any, connection_record: Any, reset_state: Any) -> None:
    _give_back(connection_record.info)
