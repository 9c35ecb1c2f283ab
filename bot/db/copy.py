"""``python -m bot db copy SQLITE_FILE POSTGRES_URL``: move a Hearth database to PostgreSQL.

What it does, in order (stop the bot first; it is a one-off move, not a sync):

1. Checks the source: a SQLite file with every migration this Hearth ships applied (else: run
   ``db upgrade`` first), no table this version does not know.
2. Checks the target: no Hearth table may hold a row (``app_state`` excepted: it holds only
   facts about the installation, written by ``db upgrade`` or a start, and the source's
   replace them). Refused with nothing written.
3. Migrates the target to the source's version (``schema_migrations`` is never copied as
   rows; it ends with the same versions because the same migrations ran).
4. Copies every table in foreign-key order in **one transaction**: a failure anywhere leaves
   the target as step 3 left it (migrated, empty), so the cause can be fixed and the command
   run again, instead of a half-copied database that step 2 would then refuse. Hearth's
   databases are small (megabytes), so one transaction costs PostgreSQL nothing notable.
   User triggers are disabled inside it (``story_offers`` is copied as it is, not re-derived
   by the trigger on ``stories``) and enabled again before it commits; a row pointing at
   another row of its own table (``communities.serves_id``) gets that column after all rows
   are in. Identity sequences are then set past the largest copied id.
5. Verifies, after the commit, each table on both sides: row count and a SHA-256 over its
   rows in primary-key order, every value normalised (int, str, bytes, None), so a value
   that changed type or bytes on the way shows up.

The installation secret (``hearth.key`` or ``HEARTH_SECRET``) is not in the database and is
not copied: the bot on PostgreSQL must be given the same one, or the sealed keys of open polls
and other open votes cannot be opened. The copy itself never reads it.

This module is longer than 400 lines: the checks, the copy, the verification and the
operator's report of one command read best in one place.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bot.db import migrations
from bot.db.database import Database, is_postgres_url

#: Tables holding only facts about the installation (secret check value, command-tree
#: fingerprint, installation id): a migrated target may already have rows there, and the
#: source's replace them.
INSTALLATION_TABLES = frozenset({"app_state"})
#: Tables whose rows hold a sealed per-vote key while the vote is open.
SEALED_KEY_TABLES = ("polls", "statement_rounds", "document_proposals", "papers")
_BATCH = 5000


class CopyError(Exception):
    """The copy was refused or failed; the message says why and what to do."""


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_sha: str
    target_sha: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sha == self.target_sha


@dataclass
class CopyReport:
    source: str
    target: str
    checks: list[TableCheck] = field(default_factory=list)
    source_versions: list[int] = field(default_factory=list)
    target_versions: list[int] = field(default_factory=list)
    #: Open votes whose sealed key needs the installation secret.
    open_sealed: int = 0

    @property
    def ok(self) -> bool:
        return (
            bool(self.checks)
            and all(c.ok for c in self.checks)
            and self.source_versions == self.target_versions
        )


@dataclass(frozen=True)
class _Shape:
    """One table as the source describes it."""

    name: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]
    #: Columns referencing this same table (filled in after every row is in).
    self_refs: tuple[str, ...]
    #: Tables this one references (copied before it).
    parents: frozenset[str]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _norm(value: Any) -> tuple[int, Any]:
    """A value as the checksum and the sort see it: the same on both engines."""
    if value is None:
        return (0, None)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return (3, bytes(value))
    if isinstance(value, float) and value.is_integer():
        return (1, int(value))
    return (4, repr(value))


def checksum(rows: Iterable[Sequence[Any]], key: Sequence[int]) -> tuple[int, str]:
    """(row count, SHA-256) of ``rows`` sorted by the columns at positions ``key``."""
    normed = [tuple(_norm(v) for v in row) for row in rows]
    order = list(key) or list(range(len(normed[0]) if normed else 0))
    normed.sort(
        key=lambda r: tuple((t, v if v is not None else 0) for t, v in (r[i] for i in order))
    )
    h = hashlib.sha256()
    for row in normed:
        for tag, value in row:
            if tag == 0:
                data = b""
            elif tag in {1, 4}:
                data = str(value).encode()
            elif tag == 2:
                data = value.encode("utf-8", "surrogatepass")
            else:
                data = value
            h.update(b"NISBX"[tag : tag + 1] + len(data).to_bytes(8, "big") + data)
        h.update(b";")
    return len(normed), h.hexdigest()


async def _shapes(src: Database) -> list[_Shape]:
    """The source's tables (schema_migrations aside), parents before children."""
    names = sorted(n for n in await src.table_names() if n != "schema_migrations")
    shapes: dict[str, _Shape] = {}
    for name in names:
        info = await src.fetchall(
            "SELECT name, pk FROM pragma_table_info(:t) ORDER BY cid", {"t": name}
        )
        pk = [r["name"] for r in sorted((r for r in info if r["pk"]), key=lambda r: r["pk"])]
        fks = await src.fetchall(
            'SELECT "table", "from" FROM pragma_foreign_key_list(:t)', {"t": name}
        )
        shapes[name] = _Shape(
            name=name,
            columns=tuple(r["name"] for r in info),
            primary_key=tuple(pk),
            self_refs=tuple(sorted({r["from"] for r in fks if r["table"] == name})),
            parents=frozenset(r["table"] for r in fks if r["table"] != name),
        )
    ordered: list[_Shape] = []
    done: set[str] = set()
    while len(ordered) < len(shapes):
        ready = [s for n, s in sorted(shapes.items()) if n not in done and s.parents <= done | {n}]
        if not ready:
            stuck = sorted(set(shapes) - done)
            raise CopyError(f"foreign keys form a cycle between tables {stuck}")
        for s in ready:
            ordered.append(s)
            done.add(s.name)
    return ordered


async def _source_versions(src: Database) -> list[int]:
    """Applied versions, without creating schema_migrations in a file that has none."""
    if "schema_migrations" not in await src.table_names():
        return []
    rows = await src.fetchall("SELECT version FROM schema_migrations ORDER BY version")
    return [int(r[0]) for r in rows]


async def _check_source(src: Database) -> list[int]:
    versions = await _source_versions(src)
    shipped = [m.version for m in migrations.available_migrations("sqlite")]
    unknown = sorted(set(versions) - set(shipped))
    if unknown:
        raise CopyError(
            f"the source database has migrations this Hearth does not know "
            f"({', '.join(f'{v:04d}' for v in unknown)}): copy it with the Hearth that made it"
        )
    pending = [v for v in shipped if v not in set(versions)]
    if pending:
        raise CopyError(
            "the source database is not fully migrated (pending: "
            + ", ".join(f"{v:04d}" for v in pending)
            + "): run `python -m bot db upgrade` against it first "
            "(HEARTH_DB=<the file>), then copy again"
        )
    leftovers = {"legacy_poll_ballots", "legacy_statement_votes"} & set(await src.table_names())
    if leftovers:
        raise CopyError(
            f"the source still holds {sorted(leftovers)} (ballots of an older version not yet "
            "sealed): run `python -m bot db upgrade` against it first, then copy again"
        )
    return versions


async def _target_rows(dst: Database, tables: Iterable[str]) -> dict[str, int]:
    present = set(await dst.table_names())
    counts = {}
    for table in sorted(set(tables) & present):
        if table in INSTALLATION_TABLES:
            continue
        n = int(await dst.fetchval(f"SELECT COUNT(*) FROM {_q(table)}"))
        if n:
            counts[table] = n
    return counts


async def _read_table(db: Database, shape: _Shape) -> list[Sequence[Any]]:
    cols = ", ".join(_q(c) for c in shape.columns)
    return [tuple(r) for r in await db.fetchall(f"SELECT {cols} FROM {_q(shape.name)}")]


async def _identity_columns(dst: Database) -> dict[str, list[str]]:
    rows = await dst.fetchall(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    found: dict[str, list[str]] = {}
    for r in rows:
        found.setdefault(r["table_name"], []).append(r["column_name"])
    return found


async def _trigger_tables(dst: Database) -> list[str]:
    rows = await dst.fetchall(
        "SELECT DISTINCT t.relname FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid"
        " JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = current_schema() AND NOT g.tgisinternal"
    )
    return sorted(r[0] for r in rows)


async def _copy_rows(
    dst: Database, shapes: list[_Shape], data: dict[str, list[Sequence[Any]]]
) -> None:
    identities = await _identity_columns(dst)
    triggered = [t for t in await _trigger_tables(dst) if t in data]
    async with dst.transaction() as conn:
        for table in triggered:
            await conn.execute(f"ALTER TABLE {_q(table)} DISABLE TRIGGER USER")
        for table in INSTALLATION_TABLES & set(data):
            await conn.execute(f"DELETE FROM {_q(table)}")
        for shape in shapes:
            rows = data[shape.name]
            if not rows:
                continue
            names = [f"p{i}" for i in range(len(shape.columns))]
            held = {shape.columns.index(c) for c in shape.self_refs}
            sql = (
                f"INSERT INTO {_q(shape.name)} ({', '.join(_q(c) for c in shape.columns)})"
                f" VALUES ({', '.join(':' + n for n in names)})"
            )
            try:
                for start in range(0, len(rows), _BATCH):
                    await conn.executemany(
                        sql,
                        [
                            {n: (None if i in held else row[i]) for i, n in enumerate(names)}
                            for row in rows[start : start + _BATCH]
                        ],
                    )
                if held:
                    await _fill_self_refs(conn, shape, rows)
            except Exception as exc:
                raise CopyError(f"copying {shape.name} failed (nothing was kept): {exc}") from exc
        for table, columns in sorted(identities.items()):
            for column in columns:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence(:t, :c),"
                    f" COALESCE((SELECT MAX({_q(column)}) FROM {_q(table)}), 0) + 1, false)",
                    {"t": table, "c": column},
                )
        for table in triggered:
            await conn.execute(f"ALTER TABLE {_q(table)} ENABLE TRIGGER USER")


async def _fill_self_refs(conn: Any, shape: _Shape, rows: list[Sequence[Any]]) -> None:
    if not shape.primary_key:
        raise CopyError(f"{shape.name} references itself but has no primary key")
    key_at = [shape.columns.index(c) for c in shape.primary_key]
    for column in shape.self_refs:
        at = shape.columns.index(column)
        where = " AND ".join(f"{_q(c)} = :k{i}" for i, c in enumerate(shape.primary_key))
        params = [
            {"v": row[at], **{f"k{i}": row[j] for i, j in enumerate(key_at)}}
            for row in rows
            if row[at] is not None
        ]
        if params:
            await conn.executemany(
                f"UPDATE {_q(shape.name)} SET {_q(column)} = :v WHERE {where}", params
            )


async def _verify(src: Database, dst: Database, shapes: list[_Shape]) -> list[TableCheck]:
    checks = []
    for shape in shapes:
        key = [shape.columns.index(c) for c in shape.primary_key]
        n_src, sha_src = checksum(await _read_table(src, shape), key)
        n_dst, sha_dst = checksum(await _read_table(dst, shape), key)
        checks.append(TableCheck(shape.name, n_src, n_dst, sha_src, sha_dst))
    return checks


async def _open_sealed(src: Database) -> int:
    present = set(await src.table_names())
    total = 0
    for table in SEALED_KEY_TABLES:
        if table in present:
            total += int(
                await src.fetchval(f"SELECT COUNT(*) FROM {table} WHERE ballot_key IS NOT NULL")
            )
    return total


async def copy_database(source: Path | str, target: str) -> CopyReport:
    """Copy a fully migrated SQLite database into an empty PostgreSQL one, then verify."""
    from bot.db.postgres import redact_url

    source = Path(source)
    if is_postgres_url(str(source)):
        raise CopyError("the source must be a SQLite file (the database Hearth has used so far)")
    if not is_postgres_url(target):
        raise CopyError(f"the target must be a postgresql:// URL, not {target!r}")
    if not source.is_file():
        raise CopyError(f"there is no SQLite database at {source}")
    report = CopyReport(source=str(source), target=redact_url(target))
    # The copy moves sealed bytes as they are and never opens them: a throw-away secret keeps
    # it from reading, or creating, any key file.
    secret = secrets.token_bytes(32)
    async with Database(source, secret=secret) as src:
        report.source_versions = await _check_source(src)
        shapes = await _shapes(src)
        try:
            dst_db = Database(target, secret=secret)
            await dst_db.connect()
        except (OSError, asyncpg.PostgresError) as exc:
            raise CopyError(f"could not connect to {redact_url(target)}: {exc}") from exc
        try:
            await _copy_into(src, dst_db, shapes, report)
        finally:
            await dst_db.close()
    return report


async def _copy_into(
    src: Database, dst: Database, shapes: list[_Shape], report: CopyReport
) -> None:
    busy = await _target_rows(dst, [s.name for s in shapes])
    if busy:
        listed = ", ".join(f"{t} ({n})" for t, n in sorted(busy.items()))
        raise CopyError(
            f"the target already holds Hearth data: {listed}. Nothing was written; copy "
            "into an empty database (or schema)"
        )
    try:
        await migrations.upgrade(dst, after=False)
    except migrations.MigrationError as exc:
        raise CopyError(f"could not migrate the target: {exc}") from exc
    # What a fresh target's migration 0009 left for code to finish: empty legacy tables.
    from bot.db.ballot_upgrade import seal_legacy

    await seal_legacy(dst)
    missing = sorted({s.name for s in shapes} - set(await dst.table_names()))
    if missing:
        raise CopyError(f"the migrated target lacks the source's tables {missing}")
    # One snapshot of the source (BEGIN IMMEDIATE: a bot left running waits, briefly).
    data: dict[str, list[Sequence[Any]]] = {}
    async with src.transaction() as conn:
        for shape in shapes:
            cols = ", ".join(_q(c) for c in shape.columns)
            data[shape.name] = [
                tuple(r)
                for r in await conn.execute_fetchall(f"SELECT {cols} FROM {_q(shape.name)}")
            ]
    try:
        await _copy_rows(dst, shapes, data)
    except CopyError:
        raise
    except Exception as exc:
        raise CopyError(
            f"the copy failed and was rolled back (the target is migrated and empty): {exc}"
        ) from exc
    del data
    report.checks = await _verify(src, dst, shapes)
    report.target_versions = await migrations.applied_versions(dst)
    report.open_sealed = await _open_sealed(src)


def render_report(report: CopyReport) -> list[str]:
    """The operator's summary: one line per table, the versions, the secret reminder."""
    width = max([len(c.table) for c in report.checks] + [5])
    lines = [
        f"copied {report.source} -> {report.target}",
        "",
        f"{'table':<{width}}  {'source':>8}  {'target':>8}  {'sha256 (source)':<16}  result",
    ]
    for c in sorted(report.checks, key=lambda c: c.table):
        verdict = (
            "ok"
            if c.ok
            else ("ROW COUNT DIFFERS" if c.source_rows != c.target_rows else "CHECKSUM DIFFERS")
        )
        lines.append(
            f"{c.table:<{width}}  {c.source_rows:>8}  {c.target_rows:>8}  "
            f"{c.source_sha[:16]:<16}  {verdict}"
        )
    same = report.source_versions == report.target_versions
    last = f"{report.target_versions[-1]:04d}" if report.target_versions else "none"
    lines += [
        "",
        f"schema_migrations: {'same versions on both (up to ' + last + ')' if same else 'DIFFER'}",
        f"tables: {len(report.checks)}, rows: {sum(c.source_rows for c in report.checks)}, "
        + ("all verified" if report.ok else "MISMATCH: do not switch to the copy"),
        "",
        "The installation secret is not in the database and was not copied: start the bot on",
        "PostgreSQL with the same HEARTH_SECRET, or carry hearth.key along (HEARTH_KEY_FILE).",
    ]
    if report.open_sealed:
        lines.append(
            f"{report.open_sealed} open vote(s) hold keys sealed with it: without that secret "
            "their ballots can never be counted."
        )
    else:
        lines.append("Sealed ballot keys are useless without it.")
    return lines
