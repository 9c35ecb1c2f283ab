"""Small conversions shared by repositories (timestamps are stored as ISO-8601 UTC text)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("refusing to store a naive datetime")
    return dt.astimezone(UTC).isoformat()


def from_db(value: str | None) -> datetime | None:
    if value is None:
        return None
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def from_db_req(value: str) -> datetime:
    dt = from_db(value)
    assert dt is not None
    return dt
