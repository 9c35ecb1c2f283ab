"""Numbered ``.sql`` migrations, each applied in one transaction, on either engine.

SQLite's files live in ``bot/db/migrations/`` named ``NNNN_description.sql``; PostgreSQL's
twins, with the same numbers and names, in ``bot/db/migrations/postgresql/`` (the
schema-parity test holds them to the same tables, columns, keys and indexes). The engine's
``Database.dialect`` picks the directory. The applied version is recorded in
``schema_migrations``; re-running is a no-op. A migration that fails is rolled back whole and
stops start-up with the file's name in the error.

On SQLite a file is split into statements (``sqlite3.complete_statement`` keeps a trigger
whole); on PostgreSQL it runs as one script (the simple-query protocol), so ``$$`` function
bodies need no splitting. Either way every statement of a migration and its
``schema_migrations`` row commit together. Each transaction first checks again that its
version is still pending (two processes starting at once, e.g. a rolling deploy, apply it
once; on PostgreSQL an advisory lock makes the second wait for the first).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from bot.db.database import Conn, Database

log = logging.getLogger(__name__)
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
DIALECTS = ("sqlite", "postgresql")
#: pg_advisory_xact_lock key held while a migration runs ("HEARTHMG" in ASCII).
_PG_LOCK = 0x48454152_54484D47


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


class MigrationError(Exception):
    pass


def _dialect(db: Database) -> str:
    return getattr(db, "dialect", "sqlite")


def available_migrations(dialect: str = "sqlite") -> list[Migration]:
    """The shipped migrations for ``dialect`` ("sqlite" or "postgresql"), in order."""
    if dialect not in DIALECTS:
        raise MigrationError(f"no migrations for database engine {dialect!r}")
    folder = resources.files("bot.db").joinpath("migrations")
    if dialect == "postgresql":
        folder = folder.joinpath("postgresql")
    found = []
    for entry in folder.iterdir():
        m = _NAME.match(entry.name)
        if m and entry.is_file():
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration numbers in {versions}")
    return found


async def _ensure_table(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )


async def applied_versions(db: Database) -> list[int]:
    await _ensure_table(db)
    rows = await db.fetchall("SELECT version FROM schema_migrations ORDER BY version")
    return [int(r[0]) for r in rows]


async def _apply(conn: Conn, dialect: str, mig: Migration) -> bool:
    """Run one migration in the caller's transaction; False if another process applied it."""
    if dialect == "postgresql":
        await conn.execute("SELECT pg_advisory_xact_lock(:key)", {"key": _PG_LOCK})
    rows = list(
        await conn.execute_fetchall(
            "SELECT 1 FROM schema_migrations WHERE version = :version", {"version": mig.version}
        )
    )
    if rows:
        return False
    if dialect == "postgresql":
        await conn.execute_script(mig.sql)  # type: ignore[attr-defined]
    else:
        for statement in _split(mig.sql):
            await conn.execute(statement)
    await conn.execute(
        "INSERT INTO schema_migrations (version, name, applied_at)"
        " VALUES (:version, :name, :applied_at)",
        {
            "version": mig.version,
            "name": mig.name,
            "applied_at": datetime.now(UTC).isoformat(),
        },
    )
    return True


async def upgrade(db: Database, *, after: bool = True) -> list[Migration]:
    """Apply every pending migration in order; returns those applied.

    ``after`` runs what needs code rather than SQL once the schema is current (sealing an
    older version's ballots, the installation secret's check); ``db copy`` leaves it out,
    because the copied rows bring the source's own.
    """
    dialect = _dialect(db)
    done = set(await applied_versions(db))
    applied = []
    for mig in available_migrations(dialect):
        if mig.version in done:
            continue
        log.info("applying migration %04d_%s (%s)", mig.version, mig.name, dialect)
        try:
            async with db.transaction() as conn:
                ran = await _apply(conn, dialect, mig)
        except Exception as exc:
            raise MigrationError(f"migration {mig.version:04d}_{mig.name} failed: {exc}") from exc
        if ran:
            applied.append(mig)
    if after:
        from bot.db.ballot_upgrade import after_migrations

        await after_migrations(db)
    return applied


async def status(db: Database) -> tuple[list[int], list[Migration]]:
    """(applied versions, pending migrations)."""
    done = await applied_versions(db)
    pending = [m for m in available_migrations(_dialect(db)) if m.version not in set(done)]
    return done, pending


def _split(sql: str) -> list[str]:
    """Split a SQLite script into statements with sqlite3.complete_statement (handles triggers)."""
    import sqlite3

    statements: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        if not buf and line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip():
        raise MigrationError(f"incomplete SQL statement at end of migration: {buf.strip()[:80]}")
    return statements
