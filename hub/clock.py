"""The hub's clock: every "now" comes from here so tests can move time.

Times are timezone-aware UTC everywhere in Python; the database stores them as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

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
