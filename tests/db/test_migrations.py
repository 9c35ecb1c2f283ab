"""Numbered migrations: applied in order, once, each in one transaction; WAL and FKs on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.db import migrations
from bot.db.database import Database
from bot.db.migrations import Migration, MigrationError


async def test_apply_all_then_rerun_is_a_noop(tmp_path: Path) -> None:
    shipped = migrations.available_migrations()
    assert shipped and shipped[0].version == 1
    assert [m.version for m in shipped] == sorted({m.version for m in shipped})
    async with Database(tmp_path / "h.db") as db:
        applied = await migrations.upgrade(db)
        assert [m.version for m in applied] == [m.version for m in shipped]
        tables = set(await db.table_names())
        assert {"communities", "memberships", "community_channels", "schema_migrations"} <= tables
        assert await migrations.upgrade(db) == []
        done, pending = await migrations.status(db)
        assert done == [m.version for m in shipped] and pending == []
        assert await db.fetchval("SELECT COUNT(*) FROM schema_migrations") == len(shipped)
    # And again from a fresh connection, as on the next start.
    async with Database(tmp_path / "h.db") as db:
        assert await migrations.upgrade(db) == []


async def test_wal_mode_and_foreign_keys_on_both_connections(tmp_path: Path) -> None:
    async with Database(tmp_path / "h.db") as db:
        await migrations.upgrade(db)
        assert (await db.fetchval("PRAGMA journal_mode")).lower() == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        async with db.writer.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1  # type: ignore[index]
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            await db.execute(
                "INSERT INTO memberships (community_id, user_id, discipline, joined_at)"
                " VALUES (999, 1, 'gp', '2027-01-01T00:00:00+00:00')"
            )
    # WAL is a property of the file: a plain connection sees it too.
    with sqlite3.connect(tmp_path / "h.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"


def _fake(monkeypatch: pytest.MonkeyPatch, *migs: Migration) -> None:
    monkeypatch.setattr(migrations, "available_migrations", lambda dialect="sqlite": list(migs))


GOOD = Migration(
    1, "good", "-- a comment\nCREATE TABLE good (x INTEGER);\nINSERT INTO good VALUES (1);\n"
)
BAD = Migration(
    2,
    "bad",
    "CREATE TABLE half (x INTEGER);\n"
    "INSERT INTO good VALUES (2);\n"
    "CREATE INDEX half_x ON half(x);\n"
    "INSERT INTO no_such_table VALUES (1);\n",
)
LATER = Migration(3, "later", "CREATE TABLE later (x INTEGER);")


async def test_failing_migration_is_rolled_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake(monkeypatch, GOOD, BAD, LATER)
    async with Database(tmp_path / "h.db") as db:
        with pytest.raises(MigrationError, match="0002_bad") as err:
            await migrations.upgrade(db)
        assert "no_such_table" in str(err.value)
        tables = set(await db.table_names())
        assert "good" in tables
        assert "half" not in tables and "later" not in tables
        assert await db.fetchval(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_x'"
        ) == 0
        assert [r[0] for r in await db.fetchall("SELECT x FROM good")] == [1]
        done, pending = await migrations.status(db)
        assert done == [1] and [m.version for m in pending] == [2, 3]
        # The database is still usable after the failure (no transaction left open).
        await db.execute("INSERT INTO good VALUES (5)")

        # Once the migration is fixed, the next run applies it and the later ones.
        fixed = Migration(2, "bad", "CREATE TABLE half (x INTEGER);")
        _fake(monkeypatch, GOOD, fixed, LATER)
        applied = await migrations.upgrade(db)
        assert [m.version for m in applied] == [2, 3]
        assert {"half", "later"} <= set(await db.table_names())


async def test_syntax_error_and_incomplete_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake(monkeypatch, Migration(1, "syntax", "CREATE TABLE ok (x);\nCREATE TABLE (;\n"))
    async with Database(tmp_path / "h.db") as db:
        with pytest.raises(MigrationError, match="0001_syntax"):
            await migrations.upgrade(db)
        assert "ok" not in await db.table_names()
    _fake(monkeypatch, Migration(1, "trailing", "CREATE TABLE ok (x);\nCREATE TABLE t (x"))
    async with Database(tmp_path / "h2.db") as db:
        with pytest.raises(MigrationError, match="incomplete"):
            await migrations.upgrade(db)
        assert "ok" not in await db.table_names()


def test_split_handles_triggers_strings_and_comments() -> None:
    sql = (
        "-- header\n"
        "CREATE TABLE t (x TEXT DEFAULT ';');\n"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
        "  UPDATE t SET x = 'a;b';\n"
        "END;\n"
        "-- trailing comment\n"
    )
    parts = migrations._split(sql)
    assert len(parts) == 2
    assert parts[1].startswith("CREATE TRIGGER") and parts[1].endswith("END;")


def test_shipped_files_are_named_and_numbered_uniquely() -> None:
    from importlib import resources

    names = [
        e.name for e in resources.files("bot.db").joinpath("migrations").iterdir()
        if e.name.endswith(".sql")
    ]
    assert all(migrations._NAME.match(n) for n in names), names
    assert len(migrations.available_migrations()) == len(names)
