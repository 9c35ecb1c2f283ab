"""Small conversions shared by repositories (timestamps are stored as ISO-8601 UTC text)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")


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


#: Values bound in one ``IN (...)`` list: far below both engines' parameter limits
#: (SQLite 32766, PostgreSQL 32767), so a long list is read in a few statements.
IN_CHUNK = 500


def in_list(values: Sequence[object], prefix: str = "p") -> tuple[str, dict[str, object]]:
    """``":p0, :p1, ..."`` and its parameters, for ``x IN (...)`` over a Python list.

    Both engines take the same named parameters (no engine-specific array or ``json_each``);
    ``values`` must not be empty (``IN ()`` is SQLite-only) and at most :data:`IN_CHUNK` long.
    """
    if not values:
        raise ValueError("an IN list needs at least one value")
    names = [f"{prefix}{i}" for i in range(len(values))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in slices of at most ``size`` (none when it is empty)."""
    for i in range(0, len(values), size):
        yield values[i : i + size]
