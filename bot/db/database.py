"""SQLite access: one writer connection behind a lock, one reader connection.

Why this shape: SQLite allows one writer at a time; in WAL mode readers never block the
writer and see the last committed state. Every write goes through :meth:`Database.transaction`
(``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception), so nothing stored is
ever half-written. ``close()`` takes the write lock first, so an in-flight transaction
finishes before the database closes (clean shutdown on SIGTERM).

Ballot secrecy at rest (see :mod:`bot.db.sealing`): ``secure_delete`` zeroes the bytes of
every deleted or overwritten row, temporary tables stay in memory, and :meth:`scrub`
checkpoints the WAL into the database file and truncates it, so a closed poll's history
survives in no file. The installation secret that seals ballot keys is loaded here, from
``secret`` or else the key file (``hearth.key`` beside the database by default).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
import asyncpg

from bot.db.sealing import KEY_FILE_NAME, Sealer, load_or_create_secret

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]

#: A constraint (unique, foreign key, check) refused a write, on either engine.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
)

#: A result row on either engine: ``row[0]``, ``row["name"]`` and ``dict(row)`` all work
#: (sqlite3.Row and asyncpg.Record).
Row = Any


class Cursor(Protocol):
    """What a statement run in a transaction gives back, on either engine."""

    rowcount: int

    async def fetchone(self) -> Row | None: ...

    async def fetchall(self) -> list[Row]: ...


class Conn(Protocol):
    """The connection a transaction yields, on SQLite (aiosqlite's own) and PostgreSQL.

    SQL is written once for both engines: named parameters (``:name`` with a dict), ``INSERT
    ... ON CONFLICT DO NOTHING`` instead of ``INSERT OR IGNORE``, ``RETURNING id`` instead of
    ``lastrowid``. A failed statement aborts a PostgreSQL transaction, so a statement whose
    failure is expected runs inside a ``SAVEPOINT`` (or is written with ``ON CONFLICT``).
    """

    def execute(self, sql: str, parameters: Params = ...) -> Any: ...

    async def executemany(self, sql: str, parameters: Iterable[Params]) -> Any: ...

    async def execute_fetchall(self, sql: str, parameters: Params = ...) -> Iterable[Row]: ...


def is_postgres_url(target: object) -> bool:
    """Whether ``HEARTH_DB`` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.strip().lower().startswith(
        ("postgresql://", "postgres://", "postgresql+asyncpg://")
    )


class Database:
    """SQLite by default; ``Database("postgresql://...")`` gives the PostgreSQL one
    (:class:`bot.db.postgres.PostgresDatabase`, same interface and promises)."""

    #: Which engine: "sqlite" or "postgresql" (migrations pick their directory by it).
    dialect = "sqlite"

    def __new__(cls, path: Path | str, **_: Any) -> Database:
        if cls is Database and is_postgres_url(path):
            from bot.db.postgres import PostgresDatabase

            return super().__new__(PostgresDatabase)
        return super().__new__(cls)

    def __init__(
        self,
        path: Path | str,
        *,
        secret: bytes | None = None,
        key_file: Path | str | None = None,
    ) -> None:
        self.path = Path(path)
        self.key_file = Path(key_file) if key_file is not None else self.path.with_name(
            KEY_FILE_NAME
        )
        self._secret = secret
        self._sealer: Sealer | None = None
        self.created_key_file = False
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        #: A scrub failed after a close: retried after the next write transaction.
        self._scrub_pending = False
        #: Reads in flight on the reader connection, and the gate a scrub closes.
        self._reads = 0
        self._no_reads = asyncio.Event()
        self._no_reads.set()
        self._reads_allowed = asyncio.Event()
        self._reads_allowed.set()

    @property
    def sealer(self) -> Sealer:
        """Seals ballot keys with the installation secret (loaded at connect)."""
        if self._sealer is None:
            raise RuntimeError("database is not connected")
        return self._sealer

    async def connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        #: True when this start created the key file (a refused secret is then removed
        #: again, so it is not mistaken for the one to keep).
        self.created_key_file = self._secret is None and not self.key_file.exists()
        secret = self._secret if self._secret is not None else load_or_create_secret(
            self.key_file
        )
        self._sealer = Sealer(secret)
        self._writer = await self._open()
        async with self._writer.execute("PRAGMA journal_mode=WAL") as cur:
            await cur.fetchall()
        self._reader = await self._open()

    async def _open(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        for pragma in (
            "PRAGMA busy_timeout=5000",
            "PRAGMA foreign_keys=ON",
            # FULL: a committed transaction is on disk before anything is acknowledged.
            "PRAGMA synchronous=FULL",
            # Deleted rows (a closed poll's sealed ballots and key) are overwritten with
            # zeros, not left in free space; sorts and temp tables never touch the disk.
            "PRAGMA secure_delete=ON",
            "PRAGMA temp_store=MEMORY",
        ):
            async with conn.execute(pragma) as cur:
                await cur.fetchall()
        return conn

    async def scrub(self, *, attempts: int = 20) -> bool:
        """Copy the WAL into the database file and truncate it to zero bytes.

        After a poll closes, its old ballots and key live on only in WAL frames; this is
        what removes them. A reader in the middle of a query can make one attempt fail
        (``busy``); it is retried. It never raises: the close it follows has committed, so
        a failure is logged and the scrub is retried after the next write, at shutdown and
        at start. Returns whether the WAL is now empty.
        """
        for _ in range(attempts):
            try:
                # A checkpoint cannot truncate the WAL while a read holds a snapshot of it:
                # hold new reads back and let those in flight finish (milliseconds), so the
                # truncation does not depend on luck under load.
                self._reads_allowed.clear()
                try:
                    await self._no_reads.wait()
                    async with (
                        self._lock,
                        self.writer.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur,
                    ):
                        row = await cur.fetchone()
                finally:
                    self._reads_allowed.set()
            except Exception:
                log.exception("could not truncate the write-ahead log; will retry")
                self._scrub_pending = True
                return False
            if row is not None and row[0] == 0:
                self._scrub_pending = False
                return True
            await asyncio.sleep(0)
        log.warning("could not truncate the write-ahead log (readers busy); will retry")
        self._scrub_pending = True
        return False

    async def close(self) -> None:
        if self._writer is not None:
            await self.scrub(attempts=3)
        async with self._lock:
            for conn in (self._reader, self._writer):
                if conn is not None:
                    await conn.close()
            self._reader = self._writer = None

    async def __aenter__(self) -> Database:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise RuntimeError("database is not connected")
        return self._writer

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("database is not connected")
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Serialised write transaction; commits on success, rolls back on any error."""
        async with self._lock:
            conn = self.writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                try:
                    await conn.execute("COMMIT")
                except BaseException:
                    # A failed COMMIT (e.g. a deferred constraint) leaves the transaction
                    # open; roll it back so the next writer can BEGIN.
                    if conn.in_transaction:
                        await conn.execute("ROLLBACK")
                    raise
        if self._scrub_pending:
            await self.scrub(attempts=3)

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read on the reader connection; a scrub waits for reads in flight to end."""
        await self._reads_allowed.wait()
        self._reads += 1
        self._no_reads.clear()
        try:
            yield self.reader
        finally:
            self._reads -= 1
            if self._reads == 0:
                self._no_reads.set()

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self._reading() as reader, reader.execute(sql, params) as cur:
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        # One hop to the reader thread (execute, fetch and close together) instead of three:
        # the hops, not SQLite, were most of a digest's cost (benchmarks/digest.py).
        async with self._reading() as reader:
            return list(await reader.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement in its own transaction; returns lastrowid."""
        async with self.transaction() as conn:
            cur = await conn.execute(sql, params)
            return cur.lastrowid or 0

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def table_names(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
        return [r[0] for r in rows]
