"""APScheduler wiring with an injectable clock.

Every schedule lives in the database; this module only holds the *next* run of each
thing as a one-shot APScheduler date job, keyed by a stable id such as
``prompt:42``. Capabilities rebuild their jobs from the database in ``cog_load`` and
re-arm the next run at the end of each run, so a restart loses nothing.

Tests start the scheduler paused and move a :class:`~bot.clock.FakeClock` forward, then
call :meth:`Scheduler.run_due`: the very same jobs run, in time order, without sleeping.

Only jobs due within :data:`ARM_HORIZON` are handed to APScheduler; later ones wait in a
heap, and an internal refill job arms them as they come within the horizon. Why: a start
re-arms one job per community and thing (8,000 with 1,000 communities) and APScheduler's
``add_job`` (signature inspection, trigger and job validation, store lookup) was most of
the start-up time (benchmarks/startup.py), while nearly all of those jobs are days away.
The wrapper keeps every job's time itself, so :meth:`Scheduler.jobs`,
:meth:`Scheduler.next_run`, cancelling and :meth:`Scheduler.run_due` see all of them alike.

Several processes (``HEARTH_SHARDS``, bot/sharding.py): every job names the guild it acts
for (``guild_id=``, a required keyword, so no call site can forget), and a job of a guild
this process does not own is never armed. A job of no guild is *global*: by default one
process at a time runs it, the one holding its lease in the database (``claim``, injected).
The holder keeps the lease until :data:`GLOBAL_RETRY` after the job's next run, so while it
runs on time no other process takes the job; one that does not hold it asks again every
:data:`GLOBAL_RETRY`, and takes the job over once a stopped holder's lease has run out.
``per_process=True`` marks the few housekeeping jobs every process runs for its own guilds
(re-arming, resuming what a crash interrupted).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock
from bot.sharding import Ownership, owns_every_guild

log = logging.getLogger(__name__)

JobFunc = Callable[[], Awaitable[None]]
#: ``claim(job_id, until)``: take or keep this global job's lease until ``until``; True if
#: this process holds it (a lease in the database, bot/db/leases.py).
GlobalClaim = Callable[[str, datetime], Awaitable[bool]]

#: How soon a process that did not get a global job's lease asks again; also how long past
#: the job's next run its holder keeps the lease (so a stopped holder is replaced by then).
GLOBAL_RETRY = timedelta(minutes=30)

#: How long a shutdown waits for running jobs before stopping them (seconds).
SHUTDOWN_GRACE = 8.0

#: Jobs due within this of now are armed in APScheduler; later ones wait in the heap.
ARM_HORIZON = timedelta(hours=1)
#: How often the refill job arms waiting jobs: each is armed at least
#: ``ARM_HORIZON - REFILL_EVERY`` before it is due (later only if the loop was stalled,
#: and then it runs at once, as an overdue APScheduler job would).
REFILL_EVERY = timedelta(minutes=10)
#: The refill job's APScheduler id; it is not one of :meth:`Scheduler.jobs`.
_REFILL_ID = "\x00scheduler:refill"


class Scheduler:
    def __init__(
        self,
        clock: Clock,
        *,
        run_in_real_time: bool = True,
        owns: Ownership = owns_every_guild,
        claim: GlobalClaim | None = None,
    ) -> None:
        self.clock = clock
        #: Does this process act for that guild? (bot/sharding.py; default: every guild.)
        self.owns = owns
        #: None: one process only, so every global job is this process's to run.
        self._claim = claim
        self._real_time = run_in_real_time
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._funcs: dict[str, JobFunc] = {}
        #: Each job's guild (None: global) and whether every process runs it, kept while
        #: the job is scheduled or running, so :meth:`again` re-arms it the same way.
        self._scope: dict[str, tuple[int | None, bool]] = {}
        #: Every scheduled job's next run (UTC), armed in APScheduler or waiting.
        self._when: dict[str, datetime] = {}
        #: Jobs currently held by APScheduler, with the token their run carries.
        self._armed: dict[str, int] = {}
        #: Jobs beyond the horizon, as (when, job id); entries made stale by a later
        #: schedule() or cancel() are skipped when popped (checked against ``_when``).
        self._later: list[tuple[datetime, str]] = []
        self._tokens = 0
        self._running: set[asyncio.Task[None]] = set()
        self._job_of: dict[asyncio.Task[None], str] = {}

    def start(self) -> None:
        if not self._aps.running:
            self._aps.add_job(
                self._refill,
                trigger=IntervalTrigger(seconds=REFILL_EVERY.total_seconds(), timezone=UTC),
                id=_REFILL_ID,
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=True,
            )
            # Paused in tests: jobs only run when the test calls run_due().
            self._aps.start(paused=not self._real_time)

    async def shutdown(self, *, grace: float = SHUTDOWN_GRACE) -> None:
        """Start no new job, let running ones finish for up to ``grace`` seconds, then stop.

        APScheduler's asyncio executor *cancels* running jobs on shutdown, which would cut
        a job off mid-write; so pause first and wait for the jobs in flight ourselves, but
        not forever: a nudge DMing a large community one member at a time must not keep a
        SIGTERM waiting past the container's stop timeout (Docker's default is 10 s). A job
        still running then is cancelled and logged; every scheduled effect records what it
        has done (bot/delivery.py), so the next start finishes it without repeating it.
        """
        if self._aps.running:
            self._aps.pause()
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=grace)
            if late:
                names = sorted(self._job_of.get(t, t.get_name()) for t in late)
                log.warning(
                    "shutdown: %d job(s) still running after %.0f s, stopped (the next start "
                    "resumes them): %s", len(late), grace, ", ".join(names),
                )
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
        if self._aps.running:
            self._aps.shutdown(wait=False)

    def schedule(
        self,
        job_id: str,
        when: datetime,
        func: JobFunc,
        *,
        guild_id: int | None,
        per_process: bool = False,
    ) -> bool:
        """(Re)arm ``job_id`` to run ``func`` once at ``when`` (aware). Replaces any earlier.

        ``guild_id``: the guild the job acts for; a guild this process does not own
        (:attr:`owns`) arms nothing and returns False. None: a global job, run by the one
        process holding its lease, unless ``per_process`` (every process runs it, and the
        job itself touches only the guilds its process owns).
        """
        if when.tzinfo is None:
            raise ValueError("schedule() needs an aware datetime")
        if guild_id is not None:
            if per_process:
                raise ValueError("per_process is for jobs of no guild (guild_id=None)")
            if not self.owns(guild_id):
                return False
        self._scope[job_id] = (guild_id, per_process)
        if guild_id is None and not per_process and self._claim is not None:
            func = self._claimed(job_id, func)
        when = when.astimezone(UTC)
        self._funcs[job_id] = func
        self._when[job_id] = when
        if when <= self.clock.now() + ARM_HORIZON:
            self._arm(job_id, when)
            return True
        self._disarm(job_id)
        heapq.heappush(self._later, (when, job_id))
        if len(self._later) > 2 * len(self._when) + 64:
            self._compact()
        return True

    def again(self, job_id: str, when: datetime, func: JobFunc) -> bool:
        """Re-arm a job that is running (or scheduled) for the guild it was armed for: a
        job putting itself off (the guild cache not ready yet) need not know its guild."""
        guild_id, per_process = self._scope[job_id]
        return self.schedule(job_id, when, func, guild_id=guild_id, per_process=per_process)

    def _claimed(self, job_id: str, func: JobFunc) -> JobFunc:
        """``func``, run only while this process holds the job's lease; else asked again
        later (the holder may stop, and then this process takes the job over)."""
        claim = self._claim
        assert claim is not None

        async def run() -> None:
            if not await claim(job_id, self.clock.now() + GLOBAL_RETRY):
                if self.next_run(job_id) is None:
                    self.schedule(job_id, self.clock.now() + GLOBAL_RETRY, func, guild_id=None)
                return
            await func()
            following = self.next_run(job_id)  # the job re-armed itself: keep it ours
            if following is not None:
                await claim(job_id, max(following, self.clock.now()) + GLOBAL_RETRY)

        return run

    def cancel(self, job_id: str) -> None:
        self._scope.pop(job_id, None)
        self._funcs.pop(job_id, None)
        self._when.pop(job_id, None)
        self._disarm(job_id)

    def cancel_prefix(self, prefix: str) -> None:
        for job_id in [j for j in self._when if j.startswith(prefix)]:
            self.cancel(job_id)

    def next_run(self, job_id: str) -> datetime | None:
        return self._when.get(job_id)

    def jobs(self) -> dict[str, datetime]:
        return dict(self._when)

    def _arm(self, job_id: str, when: datetime) -> None:
        self._tokens += 1
        token = self._armed[job_id] = self._tokens
        self._aps.add_job(
            self._run,
            trigger=DateTrigger(run_date=when, timezone=UTC),
            args=(job_id, token),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,  # late is better than never: the handler decides
            coalesce=True,
        )

    def _disarm(self, job_id: str) -> None:
        if self._armed.pop(job_id, None) is not None:
            # Not found: APScheduler already took it to run (and _run will see the token).
            with contextlib.suppress(JobLookupError):
                self._aps.remove_job(job_id)

    async def _refill(self) -> None:
        """Arm the waiting jobs now within the horizon (a coroutine, so APScheduler runs
        it on the event loop, not in a worker thread)."""
        horizon = self.clock.now() + ARM_HORIZON
        while self._later and self._later[0][0] <= horizon:
            when, job_id = heapq.heappop(self._later)
            if self._when.get(job_id) == when and job_id not in self._armed:
                self._arm(job_id, when)

    def _compact(self) -> None:
        """Drop stale heap entries (jobs re-armed or cancelled since they were pushed)."""
        self._later = [
            (when, job_id) for when, job_id in set(self._later)
            if self._when.get(job_id) == when and job_id not in self._armed
        ]
        heapq.heapify(self._later)

    async def _run(self, job_id: str, token: int | None = None) -> None:
        if token is not None and self._armed.get(job_id) != token:
            return  # re-armed or cancelled after APScheduler took this run: not ours
        self._armed.pop(job_id, None)
        self._when.pop(job_id, None)
        func = self._funcs.pop(job_id, None)
        if func is None:
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
            self._job_of[task] = job_id
        try:
            await func()
        except Exception:
            log.exception("scheduled job %s failed", job_id)
        finally:
            if job_id not in self._when:  # not re-armed by its run
                self._scope.pop(job_id, None)
            if task is not None:
                self._running.discard(task)
                self._job_of.pop(task, None)

    async def run_due(self, *, limit: int = 10_000) -> list[str]:
        """Run every job due at the injected clock's now, earliest first (test hook).

        Jobs may re-arm themselves; a re-armed job that is still due runs again, up to
        ``limit`` runs, so a loop that never advances is caught rather than hanging.
        """
        ran: list[str] = []
        now = self.clock.now()
        while len(ran) < limit:
            due = sorted(
                (t, jid) for jid, t in self._when.items() if t <= now
            )
            if not due:
                return ran
            _, job_id = due[0]
            self._disarm(job_id)
            ran.append(job_id)
            await self._run(job_id)
        raise RuntimeError(f"run_due ran {limit} jobs without settling: {ran[-5:]}")
