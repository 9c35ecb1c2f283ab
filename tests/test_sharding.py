"""HEARTH_SHARDS: the parser, the ownership predicate, and the scheduler arming only the jobs
of owned guilds (global jobs: one process at a time, through a claim)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import FakeClock
from bot.scheduling import GLOBAL_RETRY, JobFunc, Scheduler
from bot.settings import SettingsError, load_deployment_settings
from bot.sharding import UNKNOWN_GUILD, ShardRange, owns_every_guild, parse_shards, shard_of

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
#: Discord snowflakes: 64-bit, the timestamp in the top 42 bits.
guild_ids = st.integers(min_value=1 << 22, max_value=(1 << 63) - 1)


# ------------------------------------------------------------------ the parser


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0-3/16", ShardRange(0, 3, 16)),
        ("5/16", ShardRange(5, 5, 16)),
        (" 12 - 15 / 16 ", ShardRange(12, 15, 16)),
        ("0/1", ShardRange(0, 0, 1)),
    ],
)
def test_parses_a_range_or_one_shard(text: str, expected: ShardRange) -> None:
    assert parse_shards(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "must look like"),
        ("0-3", "must look like"),  # no count
        ("0-3 of 16", "must look like"),
        ("a/16", "must look like"),
        ("-1/4", "must look like"),
        ("0-3/0", "at least 1"),
        ("3-1/4", "runs backwards"),
        ("0-4/4", "outside the shards 0-3"),
        ("4/4", "outside the shards 0-3"),
    ],
)
def test_refuses_with_a_sentence(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_shards(text)


@given(st.integers(1, 64).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(0, n - 1), st.integers(0, n - 1))
))
def test_str_round_trips(case: tuple[int, int, int]) -> None:
    count, a, b = case
    shards = ShardRange(min(a, b), max(a, b), count)
    assert parse_shards(str(shards)) == shards
    assert shards.ids == list(range(min(a, b), max(a, b) + 1))


def test_setting_is_read_from_the_environment_and_refused_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEARTH_SHARDS", "2-3/4")
    assert load_deployment_settings().hearth_shards == ShardRange(2, 3, 4)
    monkeypatch.setenv("HEARTH_SHARDS", "")
    assert load_deployment_settings().hearth_shards is None
    monkeypatch.delenv("HEARTH_SHARDS")
    assert load_deployment_settings().hearth_shards is None  # unset: one process, all guilds
    monkeypatch.setenv("HEARTH_SHARDS", "4/4")
    with pytest.raises(SettingsError, match=r"^HEARTH_SHARDS range 4-4 is outside"):
        load_deployment_settings()


# ------------------------------------------------------------------ ownership


@given(guild_ids, st.integers(1, 64), st.data())
def test_every_guild_has_exactly_one_owner_among_a_partition(
    guild_id: int, count: int, data: st.DataObject
) -> None:
    """Any split of the shards into consecutive ranges gives each guild to one process."""
    inner = data.draw(st.sets(st.integers(1, count - 1)) if count > 1 else st.just(set()))
    cuts = sorted({0, count, *inner})
    ranges = [ShardRange(a, b - 1, count) for a, b in itertools.pairwise(cuts)]
    assert sum(r.owns(guild_id) for r in ranges) == 1
    owner = next(r for r in ranges if r.owns(guild_id))
    assert owner.first <= shard_of(guild_id, count) <= owner.last


@given(guild_ids)
def test_one_shard_of_one_owns_everything(guild_id: int) -> None:
    assert ShardRange(0, 0, 1).owns(guild_id)
    assert owns_every_guild(guild_id)


def test_formula_is_discords() -> None:
    # Discord's documented example: shard_id = (guild_id >> 22) % num_shards.
    guild_id = 197038439483310086
    assert shard_of(guild_id, 2) == (guild_id >> 22) % 2
    assert ShardRange(0, 0, 2).owns(guild_id) != ShardRange(1, 1, 2).owns(guild_id)


def test_an_unknown_guild_is_owned_only_by_the_single_process() -> None:
    assert not ShardRange(0, 3, 4).owns(UNKNOWN_GUILD)
    assert owns_every_guild(UNKNOWN_GUILD)


# ------------------------------------------------------------------ the scheduler


def guild_on(shard: int, count: int) -> int:
    """A guild id on ``shard`` of ``count``."""
    guild_id = 1 << 22
    while shard_of(guild_id, count) != shard:
        guild_id += 1 << 22
    return guild_id


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def owned_by_shard_0(clock: FakeClock) -> AsyncIterator[Scheduler]:
    s = Scheduler(clock, run_in_real_time=False, owns=ShardRange(0, 0, 2).owns)
    s.start()
    yield s
    await s.shutdown()


async def test_a_job_of_a_guild_not_owned_is_never_armed(
    owned_by_shard_0: Scheduler, clock: FakeClock
) -> None:
    mine, theirs = guild_on(0, 2), guild_on(1, 2)
    assert shard_of(mine, 2) == 0 and shard_of(theirs, 2) == 1
    ran: list[str] = []

    def job(name: str) -> JobFunc:
        async def run() -> None:
            ran.append(name)

        return run

    s = owned_by_shard_0
    assert s.schedule("mine", T0 + timedelta(minutes=5), job("mine"), guild_id=mine)
    assert not s.schedule("theirs", T0 + timedelta(minutes=5), job("theirs"), guild_id=theirs)
    assert not s.schedule("far", T0 + timedelta(days=9), job("far"), guild_id=theirs)
    assert not s.schedule("unknown", T0, job("unknown"), guild_id=UNKNOWN_GUILD)
    assert s.jobs() == {"mine": T0 + timedelta(minutes=5)}
    assert s.next_run("theirs") is None
    assert s._aps.get_job("theirs") is None  # nor handed to APScheduler
    clock.advance(timedelta(days=10))
    assert await s.run_due() == ["mine"]
    assert ran == ["mine"]


async def test_guild_id_is_required_and_per_process_is_for_jobs_of_no_guild(
    owned_by_shard_0: Scheduler,
) -> None:
    async def nothing() -> None:
        return None

    with pytest.raises(TypeError):
        owned_by_shard_0.schedule("x", T0, nothing)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="per_process"):
        owned_by_shard_0.schedule("x", T0, nothing, guild_id=guild_on(0, 2), per_process=True)


async def test_again_re_arms_a_running_job_for_its_own_guild(
    owned_by_shard_0: Scheduler, clock: FakeClock
) -> None:
    s, mine = owned_by_shard_0, guild_on(0, 2)
    tries: list[datetime] = []

    async def not_ready() -> None:
        tries.append(clock.now())
        if len(tries) < 3:
            s.again("wait", clock.now() + timedelta(seconds=30), not_ready)

    s.schedule("wait", T0, not_ready, guild_id=mine)
    for _ in range(3):
        await s.run_due()
        clock.advance(timedelta(seconds=30))
    assert tries == [T0, T0 + timedelta(seconds=30), T0 + timedelta(seconds=60)]
    assert s.jobs() == {}
    with pytest.raises(KeyError):
        s.again("wait", T0, not_ready)  # finished: it has no guild any more


async def test_a_global_job_runs_in_one_process_and_moves_on_when_it_stops(
    clock: FakeClock,
) -> None:
    """A daily global job: its holder keeps the lease past each next run, the other process
    asks every GLOBAL_RETRY in vain, and takes the job over once the holder has stopped."""
    leases: dict[str, tuple[str, datetime]] = {}  # the job_leases table, in memory
    ran: list[tuple[str, datetime]] = []

    def process(name: str) -> Scheduler:
        async def claim(job_id: str, until: datetime) -> bool:
            held = leases.get(job_id)
            if held is None or held[0] == name or held[1] <= clock.now():
                leases[job_id] = (name, until)
                return True
            return False

        sched = Scheduler(clock, run_in_real_time=False, claim=claim)

        async def daily() -> None:
            ran.append((name, clock.now()))
            sched.schedule("daily", clock.now() + timedelta(days=1), daily, guild_id=None)

        sched.schedule("daily", T0, daily, guild_id=None)
        return sched

    a, b = process("a"), process("b")

    async def both_until(when: datetime) -> None:
        while clock.now() < when:
            await a.run_due()
            await b.run_due()
            clock.advance(timedelta(minutes=10))

    await both_until(T0 + timedelta(days=3))
    assert [who for who, _ in ran] == ["a"] * 3  # once a day, by a only
    assert leases["daily"] == ("a", T0 + timedelta(days=3) + GLOBAL_RETRY)
    assert b.next_run("daily") is not None  # b keeps asking
    # a stops (no clean release): b takes over once a's lease has run out.
    await a.shutdown()
    stopped = clock.now()
    while clock.now() < stopped + timedelta(days=2):
        await b.run_due()
        clock.advance(timedelta(minutes=10))
    took_over = [when for who, when in ran if who == "b"]
    assert took_over and took_over[0] <= T0 + timedelta(days=3) + 2 * GLOBAL_RETRY
    assert len(took_over) == 2  # then daily again, by b alone


async def test_per_process_jobs_run_everywhere_without_a_claim(clock: FakeClock) -> None:
    async def never(job_id: str, until: datetime) -> bool:
        raise AssertionError("a per-process job asks for no lease")

    s = Scheduler(clock, run_in_real_time=False, claim=never)
    ran: list[str] = []

    async def rearm() -> None:
        ran.append("rearm")

    s.schedule("sweep", T0, rearm, guild_id=None, per_process=True)
    await s.run_due()
    assert ran == ["rearm"]
