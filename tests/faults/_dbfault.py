"""Inject a database error between the statements of a real write transaction.

:class:`FaultyWriter` stands in for the writer connection of :class:`bot.db.database.Database`
and raises ``sqlite3.OperationalError`` (what SQLite raises for a full disk or an I/O
error) instead of running the Nth statement. Transaction control (``BEGIN``, ``ROLLBACK``,
``SAVEPOINT``, ``RELEASE``) is passed through uncounted; ``COMMIT`` is counted, so a failing
commit is one of the injected faults too. ``PRAGMA`` statements (the WAL truncation after a
commit, which never raises and is retried) are not part of any write and pass uncounted.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from bot.db.database import Database

CONTROL = ("BEGIN", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


class InjectedFault(sqlite3.OperationalError):
    """The error a test injected (a subclass, so production code sees a real sqlite error)."""


class FaultyWriter:
    def __init__(self, conn: Any, fail_at: int | None) -> None:
        self._conn = conn
        self.fail_at = fail_at
        self.count = 0
        self.statements: list[str] = []

    def _tick(self, sql: str) -> None:
        head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if head in CONTROL:
            return
        self.count += 1
        self.statements.append(" ".join(sql.split())[:60])
        if self.count == self.fail_at:
            raise InjectedFault(f"injected fault at statement {self.count}: {sql.strip()[:40]}")

    def execute(self, sql: str, parameters: Any = None) -> Any:
        self._tick(sql)
        return self._conn.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any) -> Any:
        self._tick(sql)
        return self._conn.executemany(sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Any = None) -> Any:
        self._tick(sql)
        return await self._conn.execute_fetchall(sql, parameters)

    async def execute_insert(self, sql: str, parameters: Any = None) -> Any:
        self._tick(sql)
        return await self._conn.execute_insert(sql, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@contextlib.contextmanager
def faulty_writer(db: Database, fail_at: int | None) -> Iterator[FaultyWriter]:
    """Route ``db``'s writes through a :class:`FaultyWriter` for the duration."""
    real = db._writer
    proxy = FaultyWriter(real, fail_at)
    db._writer = proxy  # type: ignore[assignment]
    try:
        yield proxy
    finally:
        db._writer = real


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (committed state, through the reader connection)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in sorted(await db.table_names()):
        rows = await db.fetchall(f'SELECT * FROM "{table}"')
        out[table] = sorted((tuple(r) for r in rows), key=repr)
    return out


async def fail_at_every_statement(
    db: Database, write: Callable[[], Awaitable[Any]], *, limit: int = 200
) -> tuple[int, Any]:
    """Run ``write`` with a fault injected at statement 1, 2, ... until it runs clean.

    After each injected fault: the error reached the caller, the database is byte-for-byte
    as before (every row of every table), and no transaction was left open. Returns the
    number of statements of the clean run and its result.
    """
    for n in range(1, limit + 1):
        before = await snapshot(db)
        with faulty_writer(db, n) as proxy:
            try:
                result = await write()
            except InjectedFault:
                pass
            else:
                assert proxy.count < n, "the fault was swallowed"
                return proxy.count, result
        assert not db.writer.in_transaction, f"fault at statement {n} left a transaction open"
        after = await snapshot(db)
        changed = {t for t in before if before[t] != after.get(t)}
        assert not changed, (
            f"fault at statement {n} ({proxy.statements[-1]!r}) left partial state in {changed}"
        )
    raise AssertionError(f"write still failing after {limit} injected faults")
