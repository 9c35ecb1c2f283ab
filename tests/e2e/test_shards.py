"""Two Hearth processes on two gateway shards (issue 17, ``HEARTH_SHARDS``), end to end.

The emulator runs 2 shards; two real HearthBots in this test process, one per shard
(``HEARTH_SHARDS=0/2`` and ``1/2``), share one database (a SQLite file, or a PostgreSQL
schema: the module runs on both engines), each through its own connections, as two
processes would. Each sees only the guild on its shard, answers only the
slash commands of that guild, and arms and runs only the scheduled jobs of that guild's
community: a weekly story prompt is posted exactly once per community, by its own process,
when the shared fake clock reaches it. A restart re-arms only the owned community's jobs, and
the global retention job runs in one process at a time (its lease in the database). Two
processes started on the same range by mistake both arm a community's prompt, and the
claims in the database still let exactly one prompt out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import HearthBot
from bot.clock import FakeClock
from bot.db import migrations
from bot.db.database import Database
from bot.scheduling import Scheduler
from bot.settings import Settings, load_config
from bot.sharding import ShardRange, parse_shards
from tests.e2e.hearth import make_settings
from tests.emulator.harness import run_client
from tests.emulator.server import DiscordEmulator
from tests.emulator.state import GuildState, UserState
from tests.engines import database_target

pytestmark = [pytest.mark.e2e, pytest.mark.both_engines]

START = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # a Monday
FIRST_DUE = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)  # Wednesday 10:00 London (GMT)
#: The capabilities these tests exercise (communities, prompts, the retention job, welcomes).
EXTENSIONS = ["cogs.communities", "cogs.stories", "cogs.privacy", "cogs.guide"]


@dataclass
class Process:
    """One Hearth process: its shard range, its database connections, its bot."""

    shards: ShardRange
    bot: HearthBot
    db: Database
    interactions: list[int] = field(default_factory=list)
    stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)


@dataclass
class Cluster:
    emu: DiscordEmulator
    clock: FakeClock
    target: str  # HEARTH_DB: a SQLite file or a PostgreSQL URL
    key_file: Path
    guilds: dict[int, GuildState]
    owners: dict[int, UserState]
    procs: dict[int, Process] = field(default_factory=dict)

    async def start(self, n: int, spec: str | None = None) -> Process:
        """Start process ``n`` on shards ``spec`` (default: shard ``n`` of 2)."""
        shards = parse_shards(spec or f"{n}/2")
        settings: Settings = make_settings(
            self.target, HEARTH_SHARDS=str(shards), HEARTH_KEY_FILE=str(self.key_file)
        )
        stack = contextlib.AsyncExitStack()
        db = settings.open_database()
        await db.connect()
        stack.push_async_callback(db.close)
        await migrations.upgrade(db)
        made: list[HearthBot] = []

        async def claim(job_id: str, until: datetime) -> bool:  # the bot's own, as in production
            return await made[0].claim_global_job(job_id, until)

        bot = HearthBot(
            settings=settings,
            config=load_config(settings.hearth_config),
            db=db,
            clock=self.clock,
            scheduler=Scheduler(
                self.clock, run_in_real_time=False, owns=shards.owns, claim=claim
            ),
            guild_ready_timeout=0.05,
            extensions=EXTENSIONS,
        )
        made.append(bot)
        proc = Process(shards, bot, db, stack=stack)

        async def seen(interaction: discord.Interaction[Any]) -> None:
            proc.interactions.append(interaction.guild_id or 0)

        bot.add_listener(seen, "on_interaction")
        await stack.enter_async_context(run_client(self.emu, bot))
        guide = bot.get_cog("GuideCog")
        if guide is not None:
            await asyncio.wait_for(guide.caught_up.wait(), 10)  # type: ignore[attr-defined]
        self.procs[n] = proc
        return proc

    async def stop(self, n: int) -> None:
        await self.procs.pop(n).stack.aclose()

    async def advance_to(self, when: datetime) -> dict[int, list[str]]:
        """Move the shared clock; the processes run their own due jobs at the same time."""
        self.clock.set(when)
        names = list(self.procs)
        ran = await asyncio.gather(*(self.procs[n].bot.scheduler.run_due() for n in names))
        return dict(zip(names, ran, strict=True))


@pytest.fixture
async def cluster(tmp_path: Path, engine: str) -> AsyncIterator[Cluster]:
    async with database_target(engine, tmp_path) as target, DiscordEmulator(
        shard_count=2
    ) as emu:
        owners = {n: emu.create_user(f"owner {n}") for n in (0, 1)}
        guilds = {
            n: emu.create_guild(f"Charity {n}", owner=owners[n], shard=n) for n in (0, 1)
        }
        world = Cluster(emu, FakeClock(START), target, tmp_path / "hearth.key", guilds, owners)
        try:
            await world.start(0)
            await world.start(1)
            yield world
        finally:
            for shard in sorted(world.procs, reverse=True):
                await world.stop(shard)


def prompts_in(cluster: Cluster, shard: int, slug: str) -> list[Any]:
    lounge = cluster.emu.channel_by_name(cluster.guilds[shard], f"{slug}-lounge")
    assert lounge is not None
    return [
        m for m in cluster.emu.messages_in(lounge)
        if m.author.bot and m.content.startswith("**Story prompt**")
    ]  # fmt: skip


async def create_and_schedule(cluster: Cluster, shard: int, name: str) -> int:
    guild, owner = cluster.guilds[shard], cluster.owners[shard]
    created = await cluster.emu.slash(guild, owner, "community create", name=name,
                                      kind="practice")  # fmt: skip
    assert "Created" in created.content, created.content
    scheduled = await cluster.emu.slash(guild, owner, "story schedule", community=name,
                                        cadence="weekly")  # fmt: skip
    assert "weekly" in scheduled.content, scheduled.content
    comm = await cluster.procs[shard].bot.communities.by_name(guild.id, name)
    assert comm is not None
    return comm.id


async def test_each_process_sees_its_guild_answers_it_and_runs_its_jobs_once(
    cluster: Cluster,
) -> None:
    p0, p1 = cluster.procs[0], cluster.procs[1]
    g0, g1 = cluster.guilds[0], cluster.guilds[1]
    assert p0.bot.shard_ids == [0] and p1.bot.shard_ids == [1]
    assert p0.bot.shard_count == p1.bot.shard_count == 2
    assert [g.id for g in p0.bot.guilds] == [g0.id]
    assert [g.id for g in p1.bot.guilds] == [g1.id]

    # A slash command in each guild is answered by the process of its shard.
    c0 = await create_and_schedule(cluster, 0, "Carers Voice")
    c1 = await create_and_schedule(cluster, 1, "Nurses Circle")
    assert set(p0.interactions) == {g0.id} and set(p1.interactions) == {g1.id}

    # Each community's prompt job is armed in its own process only.
    assert p0.bot.scheduler.next_run(f"prompt:{c0}") == FIRST_DUE
    assert p1.bot.scheduler.next_run(f"prompt:{c1}") == FIRST_DUE
    assert p0.bot.scheduler.next_run(f"prompt:{c1}") is None
    assert p1.bot.scheduler.next_run(f"prompt:{c0}") is None

    ran = await cluster.advance_to(FIRST_DUE)
    assert f"prompt:{c0}" in ran[0] and f"prompt:{c1}" not in ran[0]
    assert f"prompt:{c1}" in ran[1] and f"prompt:{c0}" not in ran[1]
    assert len(prompts_in(cluster, 0, "carers-voice")) == 1
    assert len(prompts_in(cluster, 1, "nurses-circle")) == 1

    # A restart of process 0 re-arms its own community's prompt, never the other's.
    await cluster.stop(0)
    p0 = await cluster.start(0)
    week = FIRST_DUE + timedelta(weeks=1)
    assert p0.bot.scheduler.next_run(f"prompt:{c0}") == week
    assert p0.bot.scheduler.next_run(f"prompt:{c1}") is None
    await cluster.advance_to(week)
    assert len(prompts_in(cluster, 0, "carers-voice")) == 2
    assert len(prompts_in(cluster, 1, "nurses-circle")) == 2


async def test_a_global_job_runs_in_one_process_at_a_time(cluster: Cluster) -> None:
    from cogs.privacy._tidy import RETENTION_JOB

    runs: dict[int, int] = {0: 0, 1: 0}
    for n, proc in cluster.procs.items():
        sched = proc.bot.scheduler

        async def sweep(n: int = n, sched: Scheduler = sched) -> None:
            runs[n] += 1
            nxt = cluster.clock.now() + timedelta(days=1)
            sched.schedule(RETENTION_JOB, nxt, sweep, guild_id=None)

        # The retention job's work replaced by a daily counter: the lease decides who runs it.
        sched.schedule(RETENTION_JOB, cluster.clock.now(), sweep, guild_id=None)
    await cluster.advance_to(cluster.clock.now())
    assert sorted(runs.values()) == [0, 1]
    winner = next(n for n, count in runs.items() if count)
    loser = 1 - winner
    # The other process asks again every half hour and stays out while the holder runs...
    for _ in range(6):
        retry = cluster.procs[loser].bot.scheduler.next_run(RETENTION_JOB)
        assert retry is not None
        await cluster.advance_to(retry)
    assert runs[loser] == 0
    # ...and takes the job over once the holder stops (a clean stop gives the lease up).
    await cluster.stop(winner)
    retry = cluster.procs[loser].bot.scheduler.next_run(RETENTION_JOB)
    assert retry is not None
    await cluster.advance_to(retry)
    assert runs[loser] == 1


async def test_two_processes_on_the_same_shard_by_mistake_post_a_prompt_once(
    cluster: Cluster,
) -> None:
    c0 = await create_and_schedule(cluster, 0, "Carers Voice")
    # A second process on shard 0 (a rolling deploy overlapping, or a wrong HEARTH_SHARDS):
    # its start re-arms the community's prompt from the database, as process 0 has it armed.
    twin = await cluster.start(2, "0/2")
    assert twin.bot.scheduler.next_run(f"prompt:{c0}") == FIRST_DUE
    assert cluster.procs[0].bot.scheduler.next_run(f"prompt:{c0}") == FIRST_DUE
    ran = await cluster.advance_to(FIRST_DUE)
    assert f"prompt:{c0}" in ran[0] and f"prompt:{c0}" in ran[2]
    assert len(prompts_in(cluster, 0, "carers-voice")) == 1
