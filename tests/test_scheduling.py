"""The Scheduler: paused under a FakeClock (tests run due jobs), real time in production."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FakeClock, SystemClock
from bot.scheduling import JobFunc, Scheduler

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def sched(clock: FakeClock) -> AsyncIterator[Scheduler]:
    s = Scheduler(clock, run_in_real_time=False)
    s.start()
    yield s
    await s.shutdown()


def recorder(log: list[str], name: str) -> JobFunc:
    async def job() -> None:
        log.append(name)

    return job


async def test_schedule_runs_only_when_due(sched: Scheduler, clock: FakeClock) -> None:
    ran: list[str] = []
    sched.schedule("a", T0 + timedelta(hours=1), recorder(ran, "a"), guild_id=None)
    sched.schedule("b", T0 + timedelta(hours=2), recorder(ran, "b"), guild_id=None)
    assert await sched.run_due() == []
    assert sched.jobs() == {"a": T0 + timedelta(hours=1), "b": T0 + timedelta(hours=2)}
    assert sched.next_run("a") == T0 + timedelta(hours=1)
    clock.advance(timedelta(minutes=90))
    assert await sched.run_due() == ["a"]
    assert ran == ["a"]
    assert sched.next_run("a") is None and set(sched.jobs()) == {"b"}
    clock.advance(timedelta(hours=1))
    assert await sched.run_due() == ["b"]
    assert await sched.run_due() == []  # one-shot: never twice
    assert ran == ["a", "b"] and sched.jobs() == {}


async def test_run_due_runs_earliest_first(sched: Scheduler, clock: FakeClock) -> None:
    ran: list[str] = []
    for name, minutes in (("late", 30), ("early", 10), ("middle", 20)):
        sched.schedule(name, T0 + timedelta(minutes=minutes), recorder(ran, name), guild_id=None)
    clock.advance(timedelta(hours=1))
    assert await sched.run_due() == ["early", "middle", "late"]
    assert ran == ["early", "middle", "late"]


async def test_replace_keeps_only_the_latest(sched: Scheduler, clock: FakeClock) -> None:
    ran: list[str] = []
    sched.schedule("x", T0 + timedelta(hours=1), recorder(ran, "old"), guild_id=None)
    sched.schedule("x", T0 + timedelta(hours=3), recorder(ran, "new"), guild_id=None)
    assert sched.jobs() == {"x": T0 + timedelta(hours=3)}
    clock.advance(timedelta(hours=2))
    assert await sched.run_due() == []
    clock.advance(timedelta(hours=1))
    assert await sched.run_due() == ["x"]
    assert ran == ["new"]


async def test_cancel_and_cancel_prefix(sched: Scheduler, clock: FakeClock) -> None:
    ran: list[str] = []
    for name in ("prompt:1", "prompt:2", "poll:1", "promptx"):
        sched.schedule(name, T0 + timedelta(minutes=5), recorder(ran, name), guild_id=None)
    sched.cancel("prompt:2")
    sched.cancel("does-not-exist")  # harmless
    sched.cancel_prefix("prompt:")
    assert set(sched.jobs()) == {"poll:1", "promptx"}
    clock.advance(timedelta(hours=1))
    assert sorted(await sched.run_due()) == ["poll:1", "promptx"]
    assert sorted(ran) == ["poll:1", "promptx"]


async def test_rearming_catches_up_and_keeps_going(sched: Scheduler, clock: FakeClock) -> None:
    runs: list[datetime] = []
    due = [T0 + timedelta(days=1)]

    async def daily() -> None:
        runs.append(due[0])
        due[0] += timedelta(days=1)
        sched.schedule("daily", due[0], daily, guild_id=None)

    sched.schedule("daily", due[0], daily, guild_id=None)
    clock.advance(timedelta(days=3, hours=1))  # down for three days: each missed run, in order
    assert await sched.run_due() == ["daily"] * 3
    assert runs == [T0 + timedelta(days=d) for d in (1, 2, 3)]
    assert sched.next_run("daily") == T0 + timedelta(days=4)
    clock.advance(timedelta(days=1))
    assert await sched.run_due() == ["daily"]


async def test_a_job_that_never_advances_is_caught(sched: Scheduler, clock: FakeClock) -> None:
    async def stuck() -> None:
        sched.schedule("stuck", clock.now(), stuck, guild_id=None)

    sched.schedule("stuck", T0, stuck, guild_id=None)
    with pytest.raises(RuntimeError, match="without settling"):
        await sched.run_due(limit=20)


async def test_failing_job_is_logged_and_others_survive(
    sched: Scheduler, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    async def boom() -> None:
        raise ValueError("kaboom")

    sched.schedule("boom", T0 + timedelta(minutes=1), boom, guild_id=None)
    sched.schedule("fine", T0 + timedelta(minutes=2), recorder(ran, "fine"), guild_id=None)
    sched.schedule("later", T0 + timedelta(days=1), recorder(ran, "later"), guild_id=None)
    clock.advance(timedelta(minutes=5))
    assert await sched.run_due() == ["boom", "fine"]
    assert ran == ["fine"]
    assert "scheduled job boom failed" in caplog.text and "kaboom" in caplog.text
    assert set(sched.jobs()) == {"later"}


async def test_long_overdue_job_still_runs(sched: Scheduler, clock: FakeClock) -> None:
    ran: list[str] = []
    sched.schedule("old", T0 - timedelta(days=30), recorder(ran, "old"), guild_id=None)
    assert await sched.run_due() == ["old"]
    assert ran == ["old"]


async def test_naive_datetime_refused(sched: Scheduler) -> None:
    with pytest.raises(ValueError, match="aware"):
        sched.schedule("n", datetime(2027, 1, 1, 9, 0), recorder([], "n"), guild_id=None)


async def test_jobs_scheduled_before_start_survive_start(clock: FakeClock) -> None:
    s = Scheduler(clock, run_in_real_time=False)
    ran: list[str] = []
    s.schedule("early-bird", T0 + timedelta(minutes=1), recorder(ran, "early-bird"), guild_id=None)
    s.start()
    try:
        assert set(s.jobs()) == {"early-bird"}
        clock.advance(timedelta(minutes=1))
        assert await s.run_due() == ["early-bird"]
    finally:
        await s.shutdown()
    assert ran == ["early-bird"]


async def test_non_utc_times_are_compared_as_instants(sched: Scheduler, clock: FakeClock) -> None:
    from zoneinfo import ZoneInfo

    ran: list[str] = []
    # 10:30 in Paris (UTC+1 in January) is 09:30 UTC.
    sched.schedule("paris", datetime(2027, 1, 11, 10, 30, tzinfo=ZoneInfo("Europe/Paris")),
                   recorder(ran, "paris"), guild_id=None)
    assert sched.next_run("paris") == T0 + timedelta(minutes=30)
    clock.advance(timedelta(minutes=29))
    assert await sched.run_due() == []
    clock.advance(timedelta(minutes=1))
    assert await sched.run_due() == ["paris"]


# ---------------------------------------------------------------------------- real time


async def test_real_time_mode_runs_a_job_due_now() -> None:
    s = Scheduler(SystemClock())
    s.start()
    fired = asyncio.Event()

    async def job() -> None:
        fired.set()

    try:
        s.schedule("now", SystemClock().now(), job, guild_id=None)
        await asyncio.wait_for(fired.wait(), timeout=5)
        assert s.jobs() == {}  # one-shot: gone once run
    finally:
        await s.shutdown()


async def test_shutdown_lets_a_running_job_finish() -> None:
    s = Scheduler(SystemClock())
    s.start()
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[bool] = []

    async def job() -> None:
        started.set()
        await release.wait()
        finished.append(True)

    s.schedule("slow", SystemClock().now(), job, guild_id=None)
    await asyncio.wait_for(started.wait(), timeout=5)
    stopping = asyncio.create_task(s.shutdown())
    await asyncio.sleep(0)
    assert not stopping.done()  # waits for the job in flight
    release.set()
    await asyncio.wait_for(stopping, timeout=5)
    assert finished == [True]


# ---------------------------------------------------------------------------- horizon


async def test_far_jobs_wait_outside_apscheduler_until_refill(
    sched: Scheduler, clock: FakeClock
) -> None:
    """Jobs beyond the horizon are held by the wrapper (cheap start-up), yet they are
    listed, replaced and cancelled like any other; the refill hands them over in time."""
    from bot.scheduling import ARM_HORIZON

    ran: list[str] = []
    near, far = T0 + ARM_HORIZON / 2, T0 + ARM_HORIZON * 3
    sched.schedule("near", near, recorder(ran, "near"), guild_id=None)
    sched.schedule("far", far, recorder(ran, "far"), guild_id=None)
    sched.schedule("gone", far, recorder(ran, "gone"), guild_id=None)
    sched.schedule("moved", far, recorder(ran, "moved-old"), guild_id=None)
    sched.schedule("moved", near, recorder(ran, "moved"), guild_id=None)
    sched.schedule("back", near, recorder(ran, "back-old"), guild_id=None)
    sched.schedule("back", far + timedelta(minutes=1), recorder(ran, "back"), guild_id=None)
    sched.cancel("gone")
    aps = {j.id for j in sched._aps.get_jobs()}
    assert {"near", "moved"} <= aps and not {"far", "gone", "back"} & aps
    assert sched.jobs() == {"near": near, "far": far, "moved": near,
                            "back": far + timedelta(minutes=1)}
    assert sched.next_run("far") == far and sched.next_run("gone") is None

    clock.advance(ARM_HORIZON * 2 + timedelta(minutes=1))
    await sched._refill()
    armed = {j.id: j.next_run_time for j in sched._aps.get_jobs()}
    assert armed["far"] == far and armed["back"] == far + timedelta(minutes=1)
    assert "gone" not in armed
    clock.advance(ARM_HORIZON)
    # Same time: ties go by id, as before.
    assert await sched.run_due() == ["moved", "near", "far", "back"]
    assert ran == ["moved", "near", "far", "back"]
    assert sched.jobs() == {} and sched._aps.get_job("far") is None


async def test_real_time_job_beyond_the_horizon_runs_once_refilled() -> None:
    """End to end in real time: a job first held back (the injected clock says it is
    hours away) is armed by the refill and then fired by APScheduler itself."""
    from bot.scheduling import ARM_HORIZON

    real_now = SystemClock().now()
    clock = FakeClock(real_now - ARM_HORIZON * 2)
    s = Scheduler(clock)
    s.start()
    fired = asyncio.Event()

    async def job() -> None:
        fired.set()

    try:
        s.schedule("later", real_now, job, guild_id=None)
        assert s._aps.get_job("later") is None and s.next_run("later") == real_now
        clock.advance(ARM_HORIZON * 2)
        await s._refill()
        await asyncio.wait_for(fired.wait(), timeout=5)
        assert s.jobs() == {}
    finally:
        await s.shutdown()


async def test_a_run_taken_before_a_rearm_does_not_steal_the_new_job(
    clock: FakeClock,
) -> None:
    """APScheduler removes a one-shot job before its coroutine starts; if the job is
    re-armed in between, the stale run must neither run the new function early nor
    forget the new time."""
    s = Scheduler(clock, run_in_real_time=False)
    ran: list[str] = []
    s.schedule("x", T0, recorder(ran, "old"), guild_id=None)
    stale_token = s._armed["x"]
    s.schedule("x", T0 + timedelta(minutes=5), recorder(ran, "new"), guild_id=None)
    await s._run("x", stale_token)
    assert ran == [] and s.jobs() == {"x": T0 + timedelta(minutes=5)}
    clock.advance(timedelta(minutes=5))
    assert await s.run_due() == ["x"] and ran == ["new"]


async def test_shutdown_is_bounded_and_says_which_job_it_stopped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A job that would run for ever (a nudge DMing a huge community) cannot hang SIGTERM."""
    s = Scheduler(SystemClock())
    s.start()
    started = asyncio.Event()
    stopped: list[str] = []

    async def endless() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopped.append("cancelled")
            raise

    s.schedule("nudge:7", SystemClock().now(), endless, guild_id=None)
    await asyncio.wait_for(started.wait(), timeout=5)
    with caplog.at_level(logging.WARNING, logger="bot.scheduling"):
        await asyncio.wait_for(s.shutdown(grace=0.01), timeout=5)
    assert stopped == ["cancelled"]
    assert "nudge:7" in caplog.text and "resumes" in caplog.text
