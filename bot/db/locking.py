"""Row locks for the read that decides a write, on the engine that needs them.

On SQLite a write transaction holds the database's single write lock from ``BEGIN
IMMEDIATE`` on, so a vote that reads its poll as open and then stores a ballot can never
interleave with a close, in this process or any other. PostgreSQL runs transactions side by
side (READ COMMITTED): with several processes on one database (shard ranges, a rolling
deploy), a vote could read the poll as open while a close elsewhere had already read and
deleted the ballots, and be acknowledged yet never counted. So on PostgreSQL the read of the
poll (or statement round) row that both a vote and the close start with locks that row
(``FOR NO KEY UPDATE``: it does not block inserts whose foreign keys point at the row): the
close and the votes on one poll take turns, and a vote that waited for a close sees it closed.

This is the one place where repository SQL differs by engine: a suffix, nothing else.
"""

from __future__ import annotations

from bot.db.database import Database


def lock_row(db: Database) -> str:
    """The clause that ends a ``SELECT`` of the one row a transaction then decides on."""
    return " FOR NO KEY UPDATE" if getattr(db, "dialect", "sqlite") == "postgresql" else ""
