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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiosqlite

from bot.db.database import Database

log = logging.getLogger(__name__)

T = TypeVar("T")
Op = Callable[[aiosqlite.Connection], Awaitable[T]]

DEFAULT_MAX_BATCH = 256


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
        #: Committed batches and their sizes (tests and metrics; no vote content).
        self.batches: list[int] = []

    async def submit(self, op: Op[T]) -> T:
        """Run ``op(conn)`` in the next batch; return its result once the batch is committed."""
        if self._closed:
            raise CommitterClosed("the database writer is shutting down; try again shortly")
        loop = asyncio.get_running_loop()
        pending = _Pending(op, loop.create_future())
        self._queue.put_nowait(pending)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="group-commit")
        result: T = await asyncio.shield(pending.future)
        return result

    async def close(self) -> None:
        """Finish everything already submitted, then stop."""
        self._closed = True
        if self._worker is not None and not self._worker.done():
            self._queue.put_nowait(None)
            await self._worker
        self._worker = None

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
        outcomes: list[tuple[bool, Any]] = []
        try:
            async with self.db.transaction() as conn:
                for i, pending in enumerate(batch):
                    name = f"op{i}"
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
        for pending, (ok, value) in zip(batch, outcomes, strict=True):
            if pending.future.done():  # the caller was cancelled; its op is committed anyway
                continue
            if ok:
                pending.future.set_result(value)
            else:
                pending.future.set_exception(value)
