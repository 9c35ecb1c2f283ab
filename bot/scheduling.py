"""APScheduler wiring with an injectable clock.

Every schedule lives in the database; this module only holds the *next* run of each
thing as a one-shot APScheduler date job, keyed by a stable id such as
``prompt:42``. Capabilities rebuild their jobs from the database in ``cog_load`` and
re-arm the next run at the end of each run, so a restart loses nothing.

Tests start the scheduler paused and move a :class:`~bot.clock.FakeClock` forward, then
call :meth:`Scheduler.run_due`: the very same jobs run, in time order, without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock

log = logging.getLogger(__name__)

JobFunc = Callable[[], Awaitable[None]]


class Scheduler:
    def __init__(self, clock: Clock, *, run_in_real_time: bool = True) -> None:
        self.clock = clock
        self._real_time = run_in_real_time
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._funcs: dict[str, JobFunc] = {}
        self._running: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if not self._aps.running:
            # Paused in tests: jobs only run when the test calls run_due().
            self._aps.start(paused=not self._real_time)

    async def shutdown(self) -> None:
        """Start no new job, let running ones finish, then stop.

        APScheduler's asyncio executor *cancels* running jobs on shutdown, which would cut
        a job off mid-write; so pause first and wait for the jobs in flight ourselves.
        """
        if self._aps.running:
            self._aps.pause()
        if self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
        if self._aps.running:
            self._aps.shutdown(wait=False)

    def schedule(self, job_id: str, when: datetime, func: JobFunc) -> None:
        """(Re)arm ``job_id`` to run ``func`` once at ``when`` (aware). Replaces any earlier."""
        if when.tzinfo is None:
            raise ValueError("schedule() needs an aware datetime")
        self._funcs[job_id] = func
        self._aps.add_job(
            self._run,
            trigger=DateTrigger(run_date=when.astimezone(UTC), timezone=UTC),
            args=(job_id,),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,  # late is better than never: the handler decides
            coalesce=True,
        )

    def cancel(self, job_id: str) -> None:
        self._funcs.pop(job_id, None)
        if self._aps.get_job(job_id) is not None:
            self._aps.remove_job(job_id)

    def cancel_prefix(self, prefix: str) -> None:
        for job in list(self._aps.get_jobs()):
            if job.id.startswith(prefix):
                self.cancel(job.id)

    def next_run(self, job_id: str) -> datetime | None:
        job = self._aps.get_job(job_id)
        return None if job is None else job.next_run_time

    def jobs(self) -> dict[str, datetime]:
        return {
            job.id: job.next_run_time
            for job in self._aps.get_jobs()
            if job.next_run_time is not None
        }

    async def _run(self, job_id: str) -> None:
        func = self._funcs.pop(job_id, None)
        if func is None:
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await func()
        except Exception:
            log.exception("scheduled job %s failed", job_id)
        finally:
            if task is not None:
                self._running.discard(task)

    async def run_due(self, *, limit: int = 10_000) -> list[str]:
        """Run every job due at the injected clock's now, earliest first (test hook).

        Jobs may re-arm themselves; a re-armed job that is still due runs again, up to
        ``limit`` runs, so a loop that never advances is caught rather than hanging.
        """
        ran: list[str] = []
        now = self.clock.now()
        while len(ran) < limit:
            due = sorted(
                (t, jid) for jid, t in self.jobs().items() if t <= now
            )
            if not due:
                return ran
            _, job_id = due[0]
            self._aps.remove_job(job_id)
            ran.append(job_id)
            await self._run(job_id)
        raise RuntimeError(f"run_due ran {limit} jobs without settling: {ran[-5:]}")
