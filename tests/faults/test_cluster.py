"""Two real ``python -m bot`` processes on two shard ranges, one database (issue 17).

The emulator runs 2 gateway shards with one guild on each; process 0 runs
``HEARTH_SHARDS=0/2`` and process 1 ``1/2``, both on the same PostgreSQL database (the
cluster's engine; skipped without ``HEARTH_TEST_POSTGRES``, always run in CI; the same
processes on one SQLite file are shown in tests/e2e/test_shards.py). What an operator of a
cluster must be able to count on:

* killing one process in the middle of a burst of votes loses no vote it acknowledged and
  counts none twice, and while it is down the other process's community votes untouched;
* a rolling restart (a new process started on the same range while the old one is still
  delivering, then the old one stopped) sends no meeting reminder twice: the delivery is
  claimed in the database, and a resend carries the first send's nonce.

(In-process tests with a shared fake clock, tests/e2e/test_shards.py, show that each
community's jobs run in exactly one process; these use the real processes and real time.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.emulator.server import DiscordEmulator
from tests.emulator.state import UserState
from tests.engines import SKIP_NO_POSTGRES, database_target
from tests.faults._proc import BotProcess
from tests.faults.test_crash import (
    COMMUNITY,
    CrashWorld,
    acknowledged,
    ballot_count,
    check_crash_outcome,
    choice,
    close_and_check,
    crash_cycle,
    poll_message,
    start_poll,
    stored_voters,
    vote_again,
)

MESSAGES = r"^/channels/\d+/messages$"

pytestmark = SKIP_NO_POSTGRES


@dataclass
class Cluster:
    emu: DiscordEmulator
    worlds: dict[int, CrashWorld]  # one per shard: its guild, owner and process


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with (
        database_target("postgresql", tmp_path) as target,
        DiscordEmulator(shard_count=2) as emu,
    ):
        key_file = tmp_path / "hearth.key"
        worlds = {}
        for n in (0, 1):
            owner = emu.create_user(f"owner {n}")
            guild = emu.create_guild(
                f"Charity {n}", owner=owner, features=("COMMUNITY",), shard=n
            )
            bot = BotProcess(
                emu, target, tmp_path / f"bot{n}.log",
                {"HEARTH_KEY_FILE": str(key_file), "HEARTH_SHARDS": f"{n}/2"},
            )  # fmt: skip
            worlds[n] = CrashWorld(emu, guild, owner, bot, target, key_file)
        assert await worlds[0].bot.run_once("sync") == 0, worlds[0].bot.log_text()
        for w in worlds.values():
            await w.bot.start()
        try:
            yield Cluster(emu, worlds)
        finally:
            for w in worlds.values():
                if w.bot.proc is not None and w.bot.proc.returncode is None:
                    await w.bot.stop()


async def test_killing_one_process_mid_burst_loses_no_acknowledged_vote(
    cluster: Cluster,
) -> None:
    w0, w1 = cluster.worlds[0], cluster.worlds[1]
    n = 60
    people0, poll0 = await start_poll(w0, n)
    people1, poll1 = await start_poll(w1, n)
    assert poll0 != poll1

    sent = await crash_cycle(w0, people0, poll0, cycle=0, kill_after=n // 3)
    acked = [i for i, r in sent.items() if acknowledged(r)]
    assert n // 3 <= len(acked) < n, "the kill must land in the middle of the burst"
    again = await check_crash_outcome(w0, people0, poll0, 0, sent, [None] * n)

    # while process 0 is down, process 1's community votes as if nothing happened
    msg1 = poll_message(w1)
    others = [
        await w1.emu.click(p, msg1, f"poll:{poll1}:v:{choice(i, 0)}", wait=False)
        for i, p in enumerate(people1)
    ]
    for rec in others:
        await rec.wait_final(30)
        assert "recorded" in rec.content, rec.content
    assert await stored_voters(w1, poll1) == {p.id for p in people1}
    assert w1.bot.proc is not None and w1.bot.proc.returncode is None

    await w0.bot.start()
    await vote_again(w0, people0, poll0, 0, again)
    assert await ballot_count(w0, poll0) == n
    await close_and_check(w0, people0, poll0, 0)
    await close_and_check(w1, people1, poll1, 0)
    for w in (w0, w1):
        await w.bot.stop()
        assert not w.bot.error_lines(), w.bot.error_lines()


def reminders_to(cluster: Cluster, user: UserState) -> list[str]:
    return [m.content for m in cluster.emu.dms_to(user) if m.content.startswith("Reminder:")]


async def add_people(w: CrashWorld, names: list[str]) -> list[UserState]:
    people = []
    for name in names:
        user = w.emu.create_user(name)
        w.emu.add_member(w.guild, user)
        rec = await w.emu.slash(w.guild, w.owner, "community add", community=COMMUNITY,
                                member=user, discipline="carer", timeout=30)  # fmt: skip
        assert "Added" in rec.content, rec.content
        people.append(user)
    return people


async def test_rolling_restart_sends_no_reminder_twice(
    cluster: Cluster, tmp_path: Path
) -> None:
    w0, w1 = cluster.worlds[0], cluster.worlds[1]
    everyone: list[UserState] = []
    for n, w in cluster.worlds.items():
        rec = await w.emu.slash(w.guild, w.owner, "community create", name=COMMUNITY,
                                kind="practice", timeout=30)  # fmt: skip
        assert "Created" in rec.content, rec.content
        everyone += [w.owner, *await add_people(w, [f"alice{n}", f"bob{n}", f"carol{n}"])]

    # The old process 0 is in the middle of delivering reminders when the new one starts.
    pause = cluster.emu.pause_route(
        "POST", MESSAGES,
        when=lambda body: str((body or {}).get("content", "")).startswith("Reminder:"),
    )  # fmt: skip
    # Three days ahead: the 7-day reminder is due the moment the meeting is scheduled.
    when = (datetime.now(UTC) + timedelta(days=3)).astimezone(ZoneInfo("Europe/London"))
    for w in (w0, w1):
        rec = await w.emu.slash(w.guild, w.owner, "meeting schedule", community=COMMUNITY,
                                title="Spring gathering", when=f"{when:%Y-%m-%d %H:%M}",
                                timeout=30)  # fmt: skip
        assert "Scheduled" in rec.content, rec.content
        if w is w0:
            await cluster.emu.wait_for(pause.reached.is_set, 60, "process 0's held send")

    new0 = BotProcess(w0.emu, w0.db_path, tmp_path / "bot0-new.log", dict(w0.bot.env))
    await new0.start()  # overlap: both processes own shard 0 now
    old0, w0.bot = w0.bot, new0
    stopping = asyncio.ensure_future(old0.stop())
    pause.release(land=True)  # the old process's held reminder reaches its member
    await stopping

    async def all_sent() -> bool:
        rows = await w0.query("SELECT state FROM meeting_reminders")
        return len(rows) == 2 and all(r[0] == "sent" for r in rows)

    for _ in range(600):  # the new process and process 1 finish every delivery
        if await all_sent():
            break
        await asyncio.sleep(0.1)
    assert await all_sent()
    counts = {u.name: len(reminders_to(cluster, u)) for u in everyone}
    assert counts == dict.fromkeys(counts, 1), counts
    for bot in (old0, new0, w1.bot):
        await bot.stop()
        assert not bot.error_lines(), bot.error_lines()
