"""Numbered ``.sql`` migrations, each applied in one transaction.

Files live in ``bot/db/migrations/`` named ``NNNN_description.sql``. The applied version
is recorded in ``schema_migrations``; re-running is a no-op. A migration that fails is
rolled back whole and stops start-up with the file's name in the error.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from bot.db.database import Database

log = logging.getLogger(__name__)
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


class MigrationError(Exception):
    pass


def available_migrations() -> list[Migration]:
    found = []
    for entry in resources.files("bot.db").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text("utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration numbers in {versions}")
    return found


async def _ensure_table(db: Database) -> None:
    await db.writer.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )


async def applied_versions(db: Database) -> list[int]:
    await _ensure_table(db)
    rows = await db.fetchall("SELECT version FROM schema_migrations ORDER BY version")
    return [r[0] for r in rows]


async def upgrade(db: Database) -> list[Migration]:
    """Apply every pending migration in order; returns those applied."""
    done = set(await applied_versions(db))
    applied = []
    for mig in available_migrations():
        if mig.version in done:
            continue
        log.info("applying migration %04d_%s", mig.version, mig.name)
        try:
            async with db.transaction() as conn:
                for statement in _split(mig.sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    (mig.version, mig.name, datetime.now(UTC).isoformat()),
                )
        except Exception as exc:
            raise MigrationError(f"migration {mig.version:04d}_{mig.name} failed: {exc}") from exc
        applied.append(mig)
    # What needs code rather than SQL: sealing an older version's ballots, the secret check.
    from bot.db.ballot_upgrade import after_migrations

    await after_migrations(db)
    return applied


async def status(db: Database) -> tuple[list[int], list[Migration]]:
    """(applied versions, pending migrations)."""
    done = await applied_versions(db)
    pending = [m for m in available_migrations() if m.version not in set(done)]
    return done, pending


def _split(sql: str) -> list[str]:
    """Split a script into statements with sqlite3.complete_statement (handles triggers)."""
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
