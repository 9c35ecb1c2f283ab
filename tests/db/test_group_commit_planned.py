"""PlannedOp: the vote path's one-trip-per-batch mode keeps the group committer's promises.

The same plan must behave identically on both paths: all of a batch's planned ops run in one
call on aiosqlite's thread (the real writer), or statement by statement (any wrapped writer,
e.g. the fault-injection tests' proxy). A failing op is rolled back to its own savepoint on
both, mixed batches keep submission order, and results arrive only after COMMIT.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.db.database import Database
from bot.db.group_commit import GroupCommitter, Plan, PlannedOp, _on_writer_thread


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "p.db") as database:
        await database.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        yield database


def planned_insert(k: int, v: str = "x", *, fail_after_write: bool = False) -> PlannedOp[int]:
    def plan() -> Plan[int]:
        rows = yield ("SELECT COUNT(*) FROM t WHERE k = ?", (k,))
        if rows[0][0]:
            raise ValueError(f"{k} exists")
        yield ("INSERT INTO t (k, v) VALUES (?, ?)", (k, v))
        if fail_after_write:
            raise ValueError("after the write")
        return k

    return PlannedOp(plan)


class Wrapped:
    """A stand-in writer (like tests/faults' proxy): forces the per-statement path."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._inner = conn
        self.statements = 0

    async def execute_fetchall(self, sql: str, params: Any = None) -> Any:
        self.statements += 1
        return await self._inner.execute_fetchall(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.mark.parametrize("wrapped", [False, True], ids=["one-trip", "per-statement"])
async def test_planned_batch_isolates_failures_on_both_paths(db: Database, wrapped: bool) -> None:
    real = db._writer
    proxy = Wrapped(db.writer) if wrapped else None
    if proxy is not None:
        db._writer = proxy  # type: ignore[assignment]
    assert _on_writer_thread(db.writer) is (not wrapped)
    try:
        gc = GroupCommitter(db)

        async def plain(conn: aiosqlite.Connection) -> str:  # an ordinary async op in between
            await conn.execute("INSERT INTO t (k, v) VALUES (?, ?)", (50, "plain"))
            return "plain"

        ops: list[Any] = [planned_insert(1), planned_insert(2, fail_after_write=True),
                          planned_insert(1), plain, planned_insert(3)]
        out = await asyncio.gather(*(gc.submit(op) for op in ops), return_exceptions=True)
        await gc.close()
    finally:
        db._writer = real
    assert out[0] == 1 and out[3] == "plain" and out[4] == 3
    assert isinstance(out[1], ValueError) and isinstance(out[2], ValueError)
    assert list(gc.batches) == [5], "every op shares one batch (one COMMIT)"
    rows = [tuple(r) for r in await db.fetchall("SELECT k, v FROM t ORDER BY k")]
    # op 2's own write was rolled back to its savepoint; op 3 saw op 1's row (same batch)
    assert rows == [(1, "x"), (3, "x"), (50, "plain")]
    if proxy is not None:
        assert proxy.statements == 2 + 2 + 1 + 2  # every planned statement went through it


async def test_planned_results_arrive_only_after_commit(tmp_path: Path, db: Database) -> None:
    gc = GroupCommitter(db)
    assert await gc.submit(planned_insert(7)) == 7
    # a separate connection sees it: committed before the caller got its result
    with sqlite3.connect(db.path) as other:
        assert other.execute("SELECT v FROM t WHERE k = 7").fetchone() == ("x",)
    other.close()
    await gc.close()
