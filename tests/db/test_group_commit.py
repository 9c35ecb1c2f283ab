"""GroupCommitter on a real SQLite file: batching, failure isolation, durability."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiosqlite
import pytest

from bot.db.database import Database
from bot.db.group_commit import CommitterClosed, GroupCommitter


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "g.db") as database:
        await database.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        yield database


def insert(k: int, v: str = "x") -> Callable[[aiosqlite.Connection], Awaitable[int]]:
    async def op(conn: aiosqlite.Connection) -> int:
        await conn.execute("INSERT INTO t (k, v) VALUES (?, ?)", (k, v))
        return k

    return op


async def test_concurrent_writes_share_few_transactions(db: Database) -> None:
    gc = GroupCommitter(db, max_batch=256)
    results = await asyncio.gather(*(gc.submit(insert(k)) for k in range(600)))
    assert results == list(range(600))
    assert await db.fetchval("SELECT COUNT(*) FROM t") == 600
    assert sum(gc.batches) == 600
    assert max(gc.batches) <= 256
    assert len(gc.batches) <= 4, gc.batches  # 600 / 256 -> 3 full-ish batches, not 600
    await gc.close()


async def test_one_failing_op_fails_only_its_caller(db: Database) -> None:
    gc = GroupCommitter(db)

    async def bad(conn: aiosqlite.Connection) -> None:
        await conn.execute("INSERT INTO t (k, v) VALUES (?, ?)", (1000, "partial"))
        raise ValueError("nope")

    async def dup(conn: aiosqlite.Connection) -> None:
        await conn.execute("INSERT INTO t (k, v) VALUES (?, ?)", (1, "again"))

    ops = [insert(1), bad, insert(2), dup, insert(3)]
    out = await asyncio.gather(*(gc.submit(op) for op in ops), return_exceptions=True)
    assert out[0] == 1 and out[2] == 2 and out[4] == 3
    assert isinstance(out[1], ValueError)
    assert isinstance(out[3], sqlite3.IntegrityError)
    rows = await db.fetchall("SELECT k, v FROM t ORDER BY k")
    # the failing op's own write (k=1000) was rolled back to its savepoint; others kept
    assert [(r[0], r[1]) for r in rows] == [(1, "x"), (2, "x"), (3, "x")]
    assert list(gc.batches) == [5]
    await gc.close()


def snapshot(db_file: Path, into: Path) -> Path:
    """The database files exactly as they are on disk now (what a crash would leave)."""
    into.mkdir()
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(db_file) + suffix)
        if src.exists():
            shutil.copy(src, into / (db_file.name + suffix))
    return into / db_file.name


async def test_acknowledged_writes_are_on_disk(db: Database, tmp_path: Path) -> None:
    """Copy the files the moment every caller has its answer, as a crash would leave them."""
    gc = GroupCommitter(db)
    await asyncio.gather(*(gc.submit(insert(k, f"v{k}")) for k in range(300)))
    crash = snapshot(db.path, tmp_path / "crash")
    with sqlite3.connect(crash) as conn:
        assert conn.execute("SELECT COUNT(*), MIN(k), MAX(k) FROM t").fetchone() == (300, 0, 299)
    await gc.close()
    await db.close()
    # and reopening the real file after a clean close
    with sqlite3.connect(db.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (300,)


async def test_commit_failure_fails_the_whole_batch(db: Database) -> None:
    gc = GroupCommitter(db)

    async def defer_fk(conn: aiosqlite.Connection) -> None:
        # A deferred constraint fails at COMMIT, not at the statement: the whole batch fails.
        await conn.execute("PRAGMA defer_foreign_keys = ON")
        await conn.execute("INSERT INTO child (p) VALUES (42)")

    await db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    await db.execute("CREATE TABLE child (p INTEGER REFERENCES parent(id))")
    out = await asyncio.gather(gc.submit(insert(1)), gc.submit(defer_fk), return_exceptions=True)
    assert all(isinstance(o, sqlite3.IntegrityError) for o in out), out
    assert await db.fetchval("SELECT COUNT(*) FROM t") == 0
    # the committer keeps working afterwards
    assert await gc.submit(insert(7)) == 7
    await gc.close()


async def test_close_finishes_queued_work_then_refuses(db: Database) -> None:
    gc = GroupCommitter(db)
    pending = [asyncio.ensure_future(gc.submit(insert(k))) for k in range(10)]
    await asyncio.sleep(0)
    await gc.close()
    assert [await p for p in pending] == list(range(10))
    with pytest.raises(CommitterClosed):
        await gc.submit(insert(99))


async def test_batch_history_is_bounded(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bot that runs for months keeps a bounded history of batch sizes, and a count."""
    import bot.db.group_commit as gcmod

    monkeypatch.setattr(gcmod, "BATCH_HISTORY", 5)
    gc = GroupCommitter(db)
    for k in range(12):  # one at a time: twelve batches
        await gc.submit(insert(k))
    assert list(gc.batches) == [1] * 5 and gc.committed == 12
    await gc.close()


async def test_a_dead_worker_fails_waiting_ops_instead_of_leaving_them_forever(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the worker task dies outside its own error handling, no caller waits forever."""
    gc = GroupCommitter(db)
    real = gc._commit_batch

    async def bug(batch: list[object]) -> None:
        raise RuntimeError("a bug outside the transaction's error handling")

    monkeypatch.setattr(gc, "_commit_batch", bug)
    first = asyncio.ensure_future(gc.submit(insert(1)))
    second = asyncio.ensure_future(gc.submit(insert(2)))
    for fut in (first, second):
        with pytest.raises(RuntimeError, match="a bug"):
            await asyncio.wait_for(fut, timeout=5)
    # a later vote starts a new worker and is committed
    monkeypatch.setattr(gc, "_commit_batch", real)
    assert await gc.submit(insert(3)) == 3
    await gc.close()
