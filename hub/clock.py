"""The hub's clock: every "now" comes from here so tests can move time.

Times are timezone-aware UTC everywhere in Python; the database stores them as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Pin the clock (tests); `None` lets it run again."""
    global _frozen
    _frozen = at


def aware(value: datetime | None) -> datetime | None:
    """Databases such as SQLite hand back naive datetimes; they are UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def due(state: dict[str, Any], key: str, seconds: float) -> bool:
    """For a task the worker calls every round but runs only every `seconds`: True when
    `state[key]` (the next run, on this clock) has come or is unset, and then moves it
    `seconds` ahead."""
    at = now()
    if state.get(key) is not None and at < state[key]:
        return False
    state[key] = at + timedelta(seconds=seconds)
    return True
