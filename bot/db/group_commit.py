"""Group commit: many concurrent small writes, one durable transaction per batch.

Why: a poll opened at a meeting may get several hundred votes within a minute, and every
acknowledged vote must already be on disk (``PRAGMA synchronous=FULL``). One transaction per
vote costs one fsync per vote (~600/s on a small machine); committing whatever has queued up
in one transaction costs one fsync per *batch* (tens of thousands of rows/s).

How: callers :meth:`GroupCommitter.submit` an operation, a coroutine function taking the
writer connection. A single worker takes everything queued (at most ``max_batch`` ops) when
the previous commit has finished, runs the ops in order inside one ``BEGIN IMMEDIATE`` ..
``COMMIT`` (through :meth:`Database.transaction`, so it is serialised with every other
writer), each op inside its own ``SAVEPOINT``: an op that raises is rolled back to its
savepoint alone and only its caller sees the exception. Each caller's future is resolved
only after its batch's ``COMMIT`` returned, so "acknowledged" always means "on disk". If the
``COMMIT`` itself fails, every op of that batch fails with that error (nothing of it was
stored).

Fast path (SQLite): an op built as a :class:`PlannedOp` (a generator of SQL statements) is run
statement by statement through the connection's async API when the writer is anything
but aiosqlite's own connection (PostgreSQL's, or a test's fault-injecting wrapper), and
otherwise all the planned ops of a batch run together in ONE call on the database thread.
Each await on aiosqlite is a round trip between the event loop and the database thread;
with ~7 per vote (savepoint, three reads, two writes, release) those round trips, not
SQLite, limited a burst of votes (benchmarks/votes.py): under load each one waits for
the event loop and for the GIL. Savepoints, rollback of a failed op and the
COMMIT-before-ack rule are the same on both paths.

Batched path (PostgreSQL): there is no database thread to hand a function to, and every
statement is a network round trip (~150 us of event-loop CPU each through asyncpg). So
consecutive planned ops of one :class:`Batch` key whose batch has a ``run_async`` run
together through it (a few statements for the whole run, e.g. all the votes on one poll),
inside one savepoint; if it raises, that savepoint is rolled back and the ops run one plan
at a time, as on SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aiosqlite

from bot.db.database import Conn, Database, Params, Row
from bot.db.postgres import PgConn
from bot.tasks import spawn

log = logging.getLogger(__name__)

T = TypeVar("T")
Op = Callable[[Conn], Awaitable[T]]

DEFAULT_MAX_BATCH = 256
BATCH_HISTORY = 1000

#: A planned op: yields ``(sql, params)``, is sent back that statement's rows, returns T.
Plan = Generator[tuple[str, Params], list[Row], T]


@dataclass(frozen=True)
class Batch:
    """How planned ops of one kind may run *together* on the database thread.

    Consecutive ops of a batch whose ``key`` is equal are handed to ``run`` at once, with
    their ``item`` s in submission order; ``run`` returns one ``(ok, value or exception)``
    per item and must apply the same rules as the ops' plans, writing nothing for an item it
    refuses. If ``run`` raises, everything it did is rolled back (it runs in its own
    savepoint) and the ops run one plan at a time instead, so a failure is never wider than
    on the per-op path. (The vote path's batch: :mod:`bot.db.poll_votes`.)
    """

    key: Hashable
    item: Any
    run: Callable[[sqlite3.Connection, list[Any]], list[tuple[bool, Any]]]
    #: The same through the async connection, on PostgreSQL (see :func:`_batches_async`):
    #: one round trip per statement of the batch instead of per statement of every op.
    run_async: Callable[[Conn, list[Any]], Awaitable[list[tuple[bool, Any]]]] | None = None


class PlannedOp(Generic[T]):
    """An op written as a plan of statements, so it can run without an await per statement.

    Calling it (``await op(conn)``) runs the plan through ``conn.execute_fetchall``, one
    statement per await, so it is an ordinary :data:`Op`; :meth:`run_sync` runs the same
    plan on a ``sqlite3.Connection`` in the calling (database) thread. With a ``batch``,
    the ops of one kind in a group-commit batch may run together (see :class:`Batch`).
    """

    def __init__(self, plan: Callable[[], Plan[T]], *, batch: Batch | None = None) -> None:
        self.plan = plan
        self.batch = batch

    async def __call__(self, conn: Conn) -> T:
        gen = self.plan()
        try:
            sql, params = next(gen)
            while True:
                rows = list(await conn.execute_fetchall(sql, params))
                sql, params = gen.send(rows)
        except StopIteration as stop:
            result: T = stop.value
            return result

    def run_sync(self, conn: sqlite3.Connection) -> T:
        gen = self.plan()
        try:
            sql, params = next(gen)
            while True:
                sql, params = gen.send(conn.execute(sql, params).fetchall())
        except StopIteration as stop:
            result: T = stop.value
            return result


def _on_writer_thread(conn: Any) -> bool:
    """Whether ``conn`` is aiosqlite's own connection, whose thread we can hand a function.

    ``Connection._execute`` and ``._conn`` are aiosqlite internals (aiosqlite's public methods
    are built on them); anything else standing in for the writer gets the per-statement path.
    """
    return type(conn) is aiosqlite.Connection and hasattr(conn, "_execute")


def _run_one(raw: sqlite3.Connection, i: int, op: PlannedOp[Any]) -> tuple[bool, Any]:
    """One planned op inside its own savepoint, as _commit does for an async op."""
    name = f"op{i}"
    raw.execute(f"SAVEPOINT {name}")
    try:
        value = op.run_sync(raw)
    except Exception as exc:
        raw.execute(f"ROLLBACK TO {name}")
        raw.execute(f"RELEASE {name}")
        return False, exc
    raw.execute(f"RELEASE {name}")
    return True, value


def _run_together(
    raw: sqlite3.Connection, i: int, run: list[tuple[int, PlannedOp[Any]]]
) -> list[tuple[bool, Any]] | None:
    """Ops of one :class:`Batch` key through its ``run``, in a savepoint; None if it raised
    (rolled back: the caller runs the ops one by one)."""
    batch = run[0][1].batch
    assert batch is not None
    name = f"batch{i}"
    raw.execute(f"SAVEPOINT {name}")
    try:
        outcomes = batch.run(raw, [op.batch.item for _, op in run if op.batch is not None])
        if len(outcomes) != len(run):
            raise RuntimeError(f"a batch of {len(run)} returned {len(outcomes)} outcomes")
    except Exception as exc:
        raw.execute(f"ROLLBACK TO {name}")
        raw.execute(f"RELEASE {name}")
        # no op content in the log: what kind, how many, which error type
        log.warning(
            "batched run of %d ops failed (%s); running them one by one",
            len(run),
            type(exc).__name__,
        )
        return None
    raw.execute(f"RELEASE {name}")
    return outcomes


def _run_planned(
    raw: sqlite3.Connection, ops: list[tuple[int, PlannedOp[Any]]]
) -> list[tuple[bool, Any]]:
    """On the database thread: each planned op inside its own savepoint, as _commit does;
    consecutive ops of the same :class:`Batch` key together, when there are several."""
    outcomes: list[tuple[bool, Any]] = []
    at = 0
    while at < len(ops):
        i, op = ops[at]
        end = at + 1
        if op.batch is not None:
            key = op.batch.key
            while end < len(ops) and (b := ops[end][1].batch) is not None and b.key == key:
                end += 1
        together = _run_together(raw, i, ops[at:end]) if end - at > 1 else None
        if together is None:
            together = [_run_one(raw, j, each) for j, each in ops[at:end]]
        outcomes += together
        at = end
    return outcomes


def _batches_async(conn: Any) -> bool:
    """Whether ``conn`` is PostgreSQL's own connection, on which a :class:`Batch`'s
    ``run_async`` runs. Exactly that type, as :func:`_on_writer_thread` for SQLite: anything
    standing in for it (a test's fault-injecting wrapper) gets the per-statement path."""
    return type(conn) is PgConn


def _async_run_end(batch: list[_Pending], at: int) -> int:
    """Where the run of planned ops sharing ``batch[at]``'s async batch key ends."""
    first = batch[at].op
    if not isinstance(first, PlannedOp) or first.batch is None or first.batch.run_async is None:
        return at + 1
    key = first.batch.key
    end = at + 1
    while end < len(batch):
        op = batch[end].op
        if not isinstance(op, PlannedOp) or op.batch is None or op.batch.key != key:
            break
        end += 1
    return end


async def _run_together_async(
    conn: Conn, i: int, ops: list[PlannedOp[Any]]
) -> list[tuple[bool, Any]] | None:
    """:func:`_run_together` through the async connection: the ops of one :class:`Batch` key
    through its ``run_async``, in a savepoint; None if it raised (rolled back: the caller runs
    the ops one by one)."""
    batch = ops[0].batch
    assert batch is not None and batch.run_async is not None
    name = f"batch{i}"
    await conn.execute(f"SAVEPOINT {name}")
    try:
        outcomes = await batch.run_async(conn, [op.batch.item for op in ops if op.batch])
        if len(outcomes) != len(ops):
            raise RuntimeError(f"a batch of {len(ops)} returned {len(outcomes)} outcomes")
    except Exception as exc:
        await conn.execute(f"ROLLBACK TO {name}")
        await conn.execute(f"RELEASE {name}")
        log.warning(
            "batched run of %d ops failed (%s); running them one by one",
            len(ops),
            type(exc).__name__,
        )
        return None
    await conn.execute(f"RELEASE {name}")
    return outcomes


class CommitterClosed(RuntimeError):
    """Raised for writes submitted after :meth:`GroupCommitter.close`."""


@dataclass
class _Pending:
    op: Op[Any]
    future: asyncio.Future[Any]


class GroupCommitter:
    def __init__(self, db: Database, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.db = db
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._closed = False
        self._in_flight: list[_Pending] = []
        #: Sizes of the most recent committed batches (tests and metrics; no vote content).
        #: Bounded: a bot that runs for months must not keep one entry per batch forever.
        self.batches: deque[int] = deque(maxlen=BATCH_HISTORY)
        #: Operations committed since start (a number, not a list).
        self.committed = 0

    async def submit(self, op: Op[T]) -> T:
        """Run ``op(conn)`` in the next batch; return its result once the batch is committed."""
        if self._closed:
            raise CommitterClosed("the database writer is shutting down; try again shortly")
        loop = asyncio.get_running_loop()
        pending = _Pending(op, loop.create_future())
        self._queue.put_nowait(pending)
        if self._worker is None or self._worker.done():
            self._worker = spawn(self._run(), name="group-commit")
            self._worker.add_done_callback(self._worker_ended)
        # Awaited directly (no shield: one future less per vote). If the caller is cancelled
        # the future is cancelled, the op still runs in its batch, and its result is dropped.
        result: T = await pending.future
        return result

    async def close(self) -> None:
        """Finish everything already submitted, then stop."""
        self._closed = True
        if self._worker is not None and not self._worker.done():
            self._queue.put_nowait(None)
            await self._worker
        self._worker = None

    def _worker_ended(self, task: asyncio.Task[None]) -> None:
        """If the worker died (a bug, or cancelled), no submitted vote may wait forever."""
        if not task.cancelled() and task.exception() is None:
            return
        error: BaseException = (
            CommitterClosed("the database writer stopped; try again shortly")
            if task.cancelled()
            else task.exception() or RuntimeError("group-commit worker stopped")
        )
        failed = 0
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None and not item.future.done():
                item.future.set_exception(error)
                failed += 1
        for pending in self._in_flight:
            if not pending.future.done():
                pending.future.set_exception(error)
                failed += 1
        self._in_flight = []
        if failed:
            log.error("group-commit worker stopped; %d waiting operation(s) failed", failed)

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            await self._commit(batch)
            if stop:
                # Anything queued after the sentinel was refused by submit(); drain defensively.
                while not self._queue.empty():
                    item = self._queue.get_nowait()
                    if item is not None:
                        await self._commit([item])
                return

    async def _commit(self, batch: list[_Pending]) -> None:
        # Kept until the batch is settled: if the worker dies inside, _worker_ended fails it.
        self._in_flight = batch
        await self._commit_batch(batch)
        self._in_flight = []

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            async with self.db.transaction() as conn:
                fast = _on_writer_thread(conn)
                together_async = not fast and _batches_async(conn)
                i = 0
                together: list[tuple[bool, Any]] | None = None
                async_end = 0  # ops before it were tried together (or could not be)
                while i < len(batch):
                    if together_async and i >= async_end:
                        # a run of ops sharing an async batch key: one batched write for all
                        async_end = _async_run_end(batch, i)
                        if async_end - i > 1:
                            ops = [batch[j].op for j in range(i, async_end)]
                            together = await _run_together_async(conn, i, ops)  # type: ignore[arg-type]
                            if together is not None:
                                outcomes += together
                                i = async_end
                                continue
                            # rolled back: these ops now run one by one below
                    if fast and isinstance(batch[i].op, PlannedOp):
                        # a run of planned ops: one trip to the database thread for all
                        run: list[tuple[int, PlannedOp[Any]]] = []
                        while i < len(batch) and isinstance(batch[i].op, PlannedOp):
                            run.append((i, batch[i].op))  # type: ignore[arg-type]
                            i += 1
                        outcomes += await conn._execute(_run_planned, conn._conn, run)
                        continue
                    pending = batch[i]
                    name = f"op{i}"
                    i += 1
                    await conn.execute(f"SAVEPOINT {name}")
                    try:
                        value = await pending.op(conn)
                    except Exception as exc:
                        await conn.execute(f"ROLLBACK TO {name}")
                        await conn.execute(f"RELEASE {name}")
                        outcomes.append((False, exc))
                    else:
                        await conn.execute(f"RELEASE {name}")
                        outcomes.append((True, value))
        except Exception as exc:  # the COMMIT (or BEGIN) failed: nothing in this batch stored
            log.error("group commit of %d operation(s) failed", len(batch), exc_info=exc)
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            return
        self.batches.append(len(batch))
        self.committed += len(batch)
        for pending, (ok, value) in zip(batch, outcomes, strict=True):
            if pending.future.done():  # the caller was cancelled; its op is committed anyway
                continue
            if ok:
                pending.future.set_result(value)
            else:
                pending.future.set_exception(value)
