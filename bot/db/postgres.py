"""PostgreSQL access with the same shape and promises as the SQLite :class:`Database`.

``HEARTH_DB=postgresql://user@host/db`` selects it (``Database(url)`` returns one); SQLite
stays the default. Repositories are written once for both engines (the rules are on
:class:`bot.db.database.Conn`): named parameters, ``ON CONFLICT``, ``RETURNING``.

* **Parameters.** SQL keeps SQLite's and SQLAlchemy's ``:name`` style. SQLAlchemy Core's
  compiler (``text(sql).compile(dialect=asyncpg)``), not a hand-made translator, turns it into
  PostgreSQL's ``$1, $2`` and gives the order of the names; the result is cached per
  statement, so compiling costs once per distinct statement. asyncpg then runs it as a
  prepared statement from its own per-connection cache.
* **Writes** go through one writer connection behind a lock, as on SQLite: every
  :meth:`transaction` in this process is serialised, so code written for SQLite's single
  writer keeps its meaning. Across processes (several shard ranges, a rolling deploy) the
  exactly-once claims are unique keys written with ``INSERT ... ON CONFLICT DO NOTHING``, so
  two processes racing for one effect see one winner. A transaction commits before anything
  is acknowledged (``synchronous_commit`` stays ``on``): an acknowledged vote is durable.
* **Reads** use a small pool and see committed data, like SQLite's reader connection.
* **Ballot secrecy at rest** differs: PostgreSQL's files (its data directory and WAL) are the
  database operator's, not Hearth's, and a deleted row's bytes stay there until VACUUM and WAL
  recycling. :meth:`scrub` therefore vacuums the tables that held a closed poll's ballot key;
  the README's threat model says what that does and does not cover.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from bot.db.database import Database, Params, Row
from bot.db.sealing import KEY_FILE_NAME, Sealer, load_or_create_secret

log = logging.getLogger(__name__)

_DIALECT = PGDialect_asyncpg()
_RETURNS_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES|SHOW|TABLE)\b|\bRETURNING\b", re.IGNORECASE)
_STATUS_COUNT = re.compile(r"(\d+)\s*$")
#: The key file's default place when the database is not a file: the data directory.
DEFAULT_KEY_FILE = Path("data") / KEY_FILE_NAME
POOL_SIZE = 8
#: Tables whose rows hold a sealed key or a sealed ballot (vacuumed by :meth:`scrub`).
SEALED_TABLES = (
    "polls",
    "poll_sealed_ballots",
    "poll_final_ballots",
    "statement_rounds",
    "statement_sealed_votes",
    "document_proposals",
    "document_choices",
    "papers",
    "paper_answers",
)


def asyncpg_url(url: str) -> str:
    """asyncpg's form of a PostgreSQL URL (SQLAlchemy-style ``+asyncpg`` accepted)."""
    return re.sub(r"^postgres(ql)?(\+asyncpg)?://", "postgresql://", url.strip())


def redact_url(url: str) -> str:
    """A database URL fit for a message or a log: the password replaced by ``***``."""
    return re.sub(r"://([^:@/]*):[^@/]*@", r"://\1:***@", url)


@lru_cache(maxsize=4096)
def compile_sql(sql: str) -> tuple[str, tuple[str, ...]]:
    """``:name`` SQL -> (``$n`` SQL, the names in parameter order), by SQLAlchemy's compiler."""
    compiled = text(sql).compile(dialect=_DIALECT)
    return compiled.string, tuple(compiled.positiontup or ())


def bind(sql: str, params: Params | None) -> tuple[str, list[Any]]:
    pg_sql, names = compile_sql(sql)
    if not params:
        if names:
            raise ValueError(f"statement needs parameters {names}: {sql[:80]}")
        return pg_sql, []
    if not isinstance(params, dict):
        raise TypeError(
            "PostgreSQL statements take named parameters (:name with a dict), "
            f"not positional ones: {sql[:80]}"
        )
    try:
        return pg_sql, [params[name] for name in names]
    except KeyError as exc:
        raise ValueError(f"missing parameter {exc} for: {sql[:80]}") from None


class PgCursor:
    """The rows and row count of one statement (what aiosqlite's cursor gives)."""

    def __init__(self, rows: list[Row], rowcount: int) -> None:
        self._rows = rows
        self._at = 0
        self.rowcount = rowcount

    @property
    def lastrowid(self) -> int:
        raise AttributeError("PostgreSQL has no lastrowid: write INSERT ... RETURNING id")

    async def fetchone(self) -> Row | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    async def fetchall(self) -> list[Row]:
        rest, self._at = self._rows[self._at :], len(self._rows)
        return rest

    async def close(self) -> None:
        return None


class _Statement:
    """``conn.execute(...)``'s result: awaited for a cursor, or used with ``async with``."""

    def __init__(self, conn: PgConn, sql: str, params: Params | None) -> None:
        self._conn, self._sql, self._params = conn, sql, params

    def __await__(self) -> Generator[Any, None, PgCursor]:
        return self._conn._run(self._sql, self._params).__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._conn._run(self._sql, self._params)

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgConn:
    """An asyncpg connection behind the :class:`~bot.db.database.Conn` interface."""

    def __init__(self, raw: asyncpg.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, parameters: Params | None = None) -> _Statement:
        return _Statement(self, sql, parameters)

    async def _run(self, sql: str, params: Params | None) -> PgCursor:
        pg_sql, args = bind(sql, params)
        if _RETURNS_ROWS.search(pg_sql):
            rows = await self.raw.fetch(pg_sql, *args)
            return PgCursor(list(rows), len(rows))
        if not args:
            # Transaction control and DDL: the simple-query protocol, no prepared statement.
            status = await self.raw.execute(pg_sql)
        else:
            status = await self.raw.execute(pg_sql, *args)
        m = _STATUS_COUNT.search(status or "")
        return PgCursor([], int(m.group(1)) if m else -1)

    async def execute_fetchall(self, sql: str, parameters: Params | None = None) -> list[Row]:
        pg_sql, args = bind(sql, parameters)
        return list(await self.raw.fetch(pg_sql, *args))

    async def executemany(self, sql: str, parameters: Iterable[Params]) -> None:
        rows = list(parameters)
        if not rows:
            return
        pg_sql, _ = compile_sql(sql)
        await self.raw.executemany(pg_sql, [bind(sql, row)[1] for row in rows])

    async def execute_script(self, sql: str) -> None:
        """Several statements without parameters (a migration file), as one simple query."""
        await self.raw.execute(sql)


class PostgresDatabase(Database):
    """:class:`Database` on PostgreSQL (see the module docstring)."""

    dialect = "postgresql"

    def __init__(
        self,
        path: Path | str,
        *,
        secret: bytes | None = None,
        key_file: Path | str | None = None,
    ) -> None:
        self.url = asyncpg_url(str(path))
        self.path = Path("postgresql")  # not a file; kept for messages that name the target
        self.key_file = Path(key_file) if key_file is not None else DEFAULT_KEY_FILE
        self._secret = secret
        self._sealer: Sealer | None = None
        self.created_key_file = False
        self._lock = asyncio.Lock()
        self._pg_writer: PgConn | None = None
        self._pool: asyncpg.Pool | None = None
        self._scrub_pending = False

    def describe(self) -> str:
        """The target without its password, for messages."""
        return redact_url(self.url)

    async def connect(self) -> None:
        self.created_key_file = self._secret is None and not self.key_file.exists()
        if self._secret is None:
            self.key_file.parent.mkdir(parents=True, exist_ok=True)
        secret = self._secret if self._secret is not None else load_or_create_secret(
            self.key_file
        )
        self._sealer = Sealer(secret)
        self._pg_writer = PgConn(await asyncpg.connect(self.url))
        self._pool = await asyncpg.create_pool(self.url, min_size=1, max_size=POOL_SIZE)

    async def close(self) -> None:
        async with self._lock:
            if self._pg_writer is not None:
                await self._pg_writer.raw.close()
            if self._pool is not None:
                await self._pool.close()
            self._pg_writer = None
            self._pool = None

    @property
    def writer(self) -> PgConn:  # type: ignore[override]
        if self._pg_writer is None:
            raise RuntimeError("database is not connected")
        return self._pg_writer

    @property
    def reader(self) -> Any:
        raise RuntimeError("PostgreSQL reads go through fetchone/fetchall (a pool)")

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("database is not connected")
        return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgConn]:  # type: ignore[override]
        """Serialised write transaction; commits on success, rolls back on any error."""
        async with self._lock:
            conn = self.writer
            tx = conn.raw.transaction()
            await tx.start()
            try:
                yield conn
            except BaseException:
                await tx.rollback()
                raise
            else:
                await tx.commit()

    async def scrub(self, *, attempts: int = 20) -> bool:
        """VACUUM the tables that hold sealed keys and ballots after a close or an erasure.

        Hearth's SQLite scrub truncates its WAL; PostgreSQL's WAL and data files are the
        server's. VACUUM makes the dead versions of a destroyed key unreachable and their
        space reusable; it does not zero the bytes (see the README's threat model). Never
        raises: the close it follows has committed.
        """
        present = set(await self.table_names())
        try:
            async with self.pool.acquire() as conn:
                for table in SEALED_TABLES:
                    if table in present:
                        await conn.execute(f"VACUUM {table}")
        except Exception:
            log.exception("could not vacuum the sealed tables; the next close retries")
            return False
        return True

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        pg_sql, args = bind(sql, params)
        async with self.pool.acquire() as conn:
            return await conn.fetchrow(pg_sql, *args)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        pg_sql, args = bind(sql, params)
        async with self.pool.acquire() as conn:
            return list(await conn.fetch(pg_sql, *args))

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement in its own transaction; returns the first value it RETURNs, else 0."""
        async with self.transaction() as conn:
            cur = await conn.execute(sql, params)
            row = await cur.fetchone()
            return int(row[0]) if row is not None and isinstance(row[0], int) else 0

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def table_names(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " ORDER BY table_name"
        )
        return [r[0] for r in rows]


__all__: Sequence[str] = ["PgConn", "PgCursor", "PostgresDatabase", "asyncpg_url", "compile_sql"]
