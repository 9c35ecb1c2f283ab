"""SQLite and PostgreSQL migrations build the same schema.

Each SQLite migration ``NNNN_name.sql`` has a PostgreSQL twin ``postgresql/NNNN_name.sql``.
After ``upgrade`` on both engines, every table has the same columns in the same order with
the same types (INTEGER -> bigint, TEXT -> text, BLOB -> bytea), NOT NULL-ness and defaults,
the same primary key, the same unique constraints and indexes (by column set; SQLite's
``x COLLATE NOCASE`` is PostgreSQL's ``lower(x)``), the same named indexes, foreign keys and
triggers. CHECK constraints are not compared here: the repository tests, which run on both
engines, exercise them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.db import migrations
from tests.engines import SKIP_NO_POSTGRES, open_test_database

_TYPES = {"INTEGER": "bigint", "BIGINT": "bigint", "TEXT": "text", "BLOB": "bytea"}
_PG_CAST = re.compile(r"::[a-z ]+$")
_LOWER = re.compile(r"^lower\((\w+)\)$")
_PG_FK = re.compile(
    r"FOREIGN KEY \(([^)]*)\) REFERENCES (\w+)\(([^)]*)\)(?: ON UPDATE [A-Z ]+?)?"
    r"(?: ON DELETE (CASCADE|SET NULL|SET DEFAULT|RESTRICT))?$"
)


@dataclass
class Table:
    columns: list[tuple[str, str, bool, str | None]] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    #: (column set, partial) of every unique constraint or index other than the primary key.
    uniques: set[tuple[frozenset[str], bool]] = field(default_factory=set)
    #: (columns, referenced table, referenced columns, ON DELETE action).
    foreign_keys: set[tuple[tuple[str, ...], str, tuple[str, ...], str]] = field(
        default_factory=set
    )


@dataclass
class Schema:
    tables: dict[str, Table]
    #: Indexes made by CREATE INDEX: name -> (table, columns, unique, partial).
    indexes: dict[str, tuple[str, tuple[str, ...], bool, bool]]
    triggers: dict[str, str]  # name -> table


def _column(expr: str) -> str:
    m = _LOWER.match(expr)
    return m.group(1) if m else expr.strip('"')


async def _sqlite_schema(db: Any) -> Schema:
    tables: dict[str, Table] = {}
    indexes: dict[str, tuple[str, tuple[str, ...], bool, bool]] = {}
    for name in sorted(await db.table_names()):
        table = tables[name] = Table()
        info = await db.fetchall("SELECT * FROM pragma_table_info(:t) ORDER BY cid", {"t": name})
        for col in info:
            table.columns.append(
                (
                    col["name"],
                    _TYPES.get(col["type"].upper(), col["type"]),
                    bool(col["notnull"] or col["pk"]),
                    col["dflt_value"],
                )
            )
        pk = sorted((c["pk"], c["name"]) for c in info if c["pk"])
        table.primary_key = tuple(n for _, n in pk)
        for idx in await db.fetchall("SELECT * FROM pragma_index_list(:t)", {"t": name}):
            cols = tuple(
                r["name"]
                for r in await db.fetchall(
                    "SELECT * FROM pragma_index_info(:i) ORDER BY seqno", {"i": idx["name"]}
                )
            )
            unique, partial = bool(idx["unique"]), bool(idx["partial"])
            if unique and idx["origin"] != "pk":
                table.uniques.add((frozenset(cols), partial))
            if idx["origin"] == "c":
                indexes[idx["name"]] = (name, cols, unique, partial)
        fks: dict[int, list[Any]] = {}
        for fk in await db.fetchall("SELECT * FROM pragma_foreign_key_list(:t)", {"t": name}):
            fks.setdefault(fk["id"], []).append(fk)
        for parts in fks.values():
            parts.sort(key=lambda r: r["seq"])
            on_delete = parts[0]["on_delete"]
            table.foreign_keys.add(
                (
                    tuple(p["from"] for p in parts),
                    parts[0]["table"],
                    tuple(p["to"] for p in parts),
                    "NO ACTION" if on_delete == "NO ACTION" else on_delete,
                )
            )
    triggers = {
        r["name"]: r["tbl_name"]
        for r in await db.fetchall(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'"
        )
    }
    return Schema(tables, indexes, triggers)


async def _postgres_schema(db: Any) -> Schema:
    tables: dict[str, Table] = {}
    for col in await db.fetchall(
        "SELECT table_name, column_name, data_type, is_nullable, column_default"
        " FROM information_schema.columns c"
        " WHERE table_schema = current_schema()"
        " AND table_name IN (SELECT table_name FROM information_schema.tables"
        "   WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')"
        " ORDER BY table_name, ordinal_position"
    ):
        default = col["column_default"]
        if default is not None:
            default = _PG_CAST.sub("", default)
        tables.setdefault(col["table_name"], Table()).columns.append(
            (col["column_name"], col["data_type"], col["is_nullable"] == "NO", default)
        )
    indexes: dict[str, tuple[str, tuple[str, ...], bool, bool]] = {}
    for idx in await db.fetchall(
        "SELECT t.relname AS tbl, i.relname AS idx, x.indisprimary AS is_pk,"
        " x.indisunique AS is_unique, x.indpred IS NOT NULL AS partial,"
        " ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)"
        "       FROM generate_series(1, x.indnatts) AS k ORDER BY k) AS cols,"
        " EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) AS backs"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = current_schema()"
    ):
        table = tables[idx["tbl"]]
        cols = tuple(_column(c) for c in idx["cols"])
        if idx["is_pk"]:
            table.primary_key = cols
        elif idx["is_unique"]:
            table.uniques.add((frozenset(cols), bool(idx["partial"])))
        if not idx["backs"]:
            indexes[idx["idx"]] = (idx["tbl"], cols, bool(idx["is_unique"]), bool(idx["partial"]))
    for fk in await db.fetchall(
        "SELECT t.relname AS tbl, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c"
        " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = current_schema() AND c.contype = 'f'"
    ):
        m = _PG_FK.match(fk["def"])
        assert m, fk["def"]
        tables[fk["tbl"]].foreign_keys.add(
            (
                tuple(c.strip() for c in m.group(1).split(",")),
                m.group(2),
                tuple(c.strip() for c in m.group(3).split(",")),
                m.group(4) or "NO ACTION",
            )
        )
    triggers = {
        r["tgname"]: r["relname"]
        for r in await db.fetchall(
            "SELECT g.tgname, t.relname FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid"
            " JOIN pg_namespace n ON n.oid = t.relnamespace"
            " WHERE n.nspname = current_schema() AND NOT g.tgisinternal"
        )
    }
    return Schema(tables, indexes, triggers)


def test_the_same_migration_versions_exist_for_both_engines() -> None:
    sqlite = [(m.version, m.name) for m in migrations.available_migrations("sqlite")]
    postgres = [(m.version, m.name) for m in migrations.available_migrations("postgresql")]
    assert sqlite, "no SQLite migrations found"
    assert postgres == sqlite


def test_postgres_migrations_use_no_sqlite_only_syntax() -> None:
    banned = re.compile(
        r"\b(AUTOINCREMENT|WITHOUT ROWID|NOCASE|INSERT OR|REPLACE INTO|BLOB|IFNULL|"
        r"GROUP_CONCAT|strftime|julianday)\b",
        re.IGNORECASE,
    )
    for mig in migrations.available_migrations("postgresql"):
        code = "\n".join(line.split("--", 1)[0] for line in mig.sql.splitlines())
        found = banned.findall(code)
        assert not found, f"{mig.version:04d}_{mig.name}: SQLite-only {found}"


async def _both(tmp_path: Path) -> tuple[Schema, Schema]:
    async with open_test_database("sqlite", tmp_path, secret=b"k" * 32) as db:
        sqlite = await _sqlite_schema(db)
    async with open_test_database("postgresql", tmp_path, secret=b"k" * 32) as db:
        postgres = await _postgres_schema(db)
    return sqlite, postgres


@SKIP_NO_POSTGRES
async def test_both_engines_build_the_same_schema(tmp_path: Path) -> None:
    sqlite, postgres = await _both(tmp_path)
    assert sorted(postgres.tables) == sorted(sqlite.tables)
    for name, want in sqlite.tables.items():
        got = postgres.tables[name]
        assert [c[0] for c in got.columns] == [c[0] for c in want.columns], name
        for w, g in zip(want.columns, got.columns, strict=True):
            assert g[1] == w[1], f"{name}.{w[0]}: type {g[1]} on PostgreSQL, {w[1]} on SQLite"
            assert g[2] == w[2], f"{name}.{w[0]}: NOT NULL differs (SQLite {w[2]})"
            assert g[3] == w[3], f"{name}.{w[0]}: default {g[3]!r} vs SQLite's {w[3]!r}"
        assert got.primary_key == want.primary_key, name
        assert got.uniques == want.uniques, name
        assert got.foreign_keys == want.foreign_keys, name
    assert postgres.indexes == sqlite.indexes
    assert postgres.triggers == sqlite.triggers


@SKIP_NO_POSTGRES
async def test_postgres_text_compares_as_sqlite_does(tmp_path: Path) -> None:
    """Every TEXT column is COLLATE "C": ISO timestamps and names sort by code point, as in
    SQLite, whatever locale the server was created with."""
    async with open_test_database("postgresql", tmp_path, secret=b"k" * 32) as db:
        rows = await db.fetchall(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND data_type = 'text'"
            " AND table_name <> 'schema_migrations'"
        )
    loose = [f"{r['table_name']}.{r['column_name']}" for r in rows if r["collation_name"] != "C"]
    assert not loose, f'TEXT columns without COLLATE "C": {loose}'


@SKIP_NO_POSTGRES
async def test_postgres_ids_are_identities_that_take_explicit_values(tmp_path: Path) -> None:
    """Rows copied with their ids keep them, and after the copier's sequence reset the next
    id the database makes follows the copied ones."""
    async with (
        open_test_database("postgresql", tmp_path, secret=b"k" * 32) as db,
        db.transaction() as conn,
    ):
        await conn.execute(
            "INSERT INTO communities (id, guild_id, name, slug, kind, created_by, created_at)"
            " VALUES (41, 1, 'A', 'a', 'practice', 1, '2027-01-01T00:00:00+00:00')"
        )
        await conn.execute("SELECT setval(pg_get_serial_sequence('communities', 'id'), 41)")
        cur = await conn.execute(
            "INSERT INTO communities (guild_id, name, slug, kind, created_by, created_at)"
            " VALUES (1, 'B', 'b', 'practice', 1, '2027-01-01T00:00:00+00:00') RETURNING id"
        )
        assert (await cur.fetchone())[0] == 42
