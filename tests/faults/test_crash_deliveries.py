
"""SIGKILL between sending a scheduled message and recording it as sent (issue 11).

The real ``python -m bot`` sends a meeting reminder DM, or the sponsor's digest; the
emulator holds that very request (``pause_route``) while the test kills the process, then
lets the request take effect (``land=True``: the member has the message, the bot never
heard back) or drops it (``land=False``: nothing arrived). After a restart on the same
database every member has exactly one copy: the pending message is sent again with the
nonce it was first sent with, and Discord (here the emulator) answers a nonce it has seen
with the message it already created.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.test_digest import digests_in
from tests.emulator.server import DiscordEmulator, PausedRoute
from tests.emulator.state import ChannelType, GuildState, UserState
from tests.faults._proc import BotProcess

COMMUNITY = "Carers Voice"
MESSAGES = r"^/channels/\d+/messages$"


@dataclass
class World:
    emu: DiscordEmulator
    guild: GuildState
    owner: UserState
    bot: BotProcess
    db_path: Path

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return list(conn.execute(sql, params).fetchall())
        finally:
            conn.close()

    def person(self, name: str) -> UserState:
        user = self.emu.create_user(name)
        self.emu.add_member(self.guild, user)
        return user

    async def slash(self, user: UserState, command: str, **options: Any) -> str:
        rec = await self.emu.slash(self.guild, user, command, timeout=30, options=options)
        return rec.content

    async def wait_until(self, sql: str, expected: list[tuple[Any, ...]], what: str) -> None:
        """Wait (on every emulator state change) until the database shows ``expected``."""
        await self.emu.wait_for(lambda: self.query(sql) == expected, 60, what)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with DiscordEmulator() as emu:
        owner = emu.create_user("owner")
        guild = emu.create_guild("Health Charity", owner=owner, features=("COMMUNITY",))
        db_path = tmp_path / "hearth.db"
        bot = BotProcess(emu, db_path, tmp_path / "bot.log")
        assert await bot.run_once("sync") == 0, bot.log_text()
        await bot.start()
        try:
            yield World(emu, guild, owner, bot, db_path)
        finally:
            if bot.proc is not None and bot.proc.returncode is None:
                await bot.stop()


def recipient(world: World, pause: PausedRoute) -> UserState:
    """Whose DM the held request was."""
    assert pause.entry is not None
    channel = world.emu.get_channel(pause.entry.path.split("/")[2])
    assert channel.type == ChannelType.DM
    return channel.recipients[0]


async def kill_while_held(world: World, pause: PausedRoute, *, land: bool) -> None:
    await world.emu.wait_for(pause.reached.is_set, 60, "the held send")
    world.bot.kill()
    await world.bot.wait_dead()
    pause.release(land=land)
    await world.emu.wait_for(lambda: pause.entry is not None and pause.entry.status > 0, 10)


def reminders_to(world: World, user: UserState) -> list[str]:
    return [m.content for m in world.emu.dms_to(user) if m.content.startswith("Reminder:")]


@pytest.mark.parametrize("land", [True, False], ids=["landed", "lost"])
async def test_sigkill_mid_reminder_dm_each_member_gets_exactly_one(
    world: World, land: bool
) -> None:
    people = [world.person(name) for name in ("alice", "bob", "carol")]
    assert "Created" in await world.slash(world.owner, "community create", name=COMMUNITY,
                                          kind="practice")
    for p in people:
        assert "Added" in await world.slash(world.owner, "community add", community=COMMUNITY,
                                            member=p, discipline="carer")
    # Three days ahead: the 7-day reminder is due the moment the meeting is scheduled.
    when = (datetime.now(UTC) + timedelta(days=3)).astimezone(ZoneInfo("Europe/London"))
    pause = world.emu.pause_route(
        "POST", MESSAGES, when=lambda body: str((body or {}).get("content", "")).startswith(
            "Reminder:"))
    assert "Scheduled" in await world.slash(world.owner, "meeting schedule",
                                            community=COMMUNITY, title="Spring gathering",
                                            when=f"{when:%Y-%m-%d %H:%M}")
    await kill_while_held(world, pause, land=land)
    victim = recipient(world, pause)
    assert len(reminders_to(world, victim)) == (1 if land else 0)

    await world.bot.start()
    await world.wait_until("SELECT offset_seconds, state FROM meeting_reminders",
                           [(7 * 86400, "sent")], "the reminder to finish")
    everyone = [world.owner, *people]
    assert {u.name: len(reminders_to(world, u)) for u in everyone} == dict.fromkeys(
        (u.name for u in everyone), 1)
    assert world.query("SELECT DISTINCT outcome FROM meeting_reminder_deliveries") == [("dm",)]
    assert world.query("SELECT COUNT(*) FROM meeting_reminder_deliveries") == [(len(everyone),)]
    await world.bot.stop()
    assert not world.bot.error_lines(), world.bot.error_lines()


async def test_sigkill_after_the_digest_dm_landed_sends_it_once(world: World) -> None:
    sponsor = world.person("sponsor")
    alice = world.person("alice")
    assert "Created" in await world.slash(world.owner, "community create", name=COMMUNITY,
                                          kind="practice")
    assert "Added" in await world.slash(world.owner, "community add", community=COMMUNITY,
                                        member=alice, discipline="carer")
    assert "now the sponsor" in await world.slash(world.owner, "community sponsor",
                                                  community=COMMUNITY, member=sponsor)
    pause = world.emu.pause_route("POST", MESSAGES, when=lambda body: bool((body or {}).get(
        "embeds")))
    await world.emu.slash(world.guild, world.owner, "digest send", wait=False,
                          options={"community": COMMUNITY})
    await kill_while_held(world, pause, land=True)
    assert recipient(world, pause).id == sponsor.id
    assert len(digests_in(world.emu.dms_to(sponsor))) == 1

    await world.bot.start()
    await world.wait_until("SELECT state, dm_done FROM digests", [("sent", 1)],
                           "the digest to be finished")
    [digest] = digests_in(world.emu.dms_to(sponsor))
    assert sum(1 for m in world.emu.dms_to(sponsor) if m.embeds) == len(digest)
    await world.bot.stop()
    assert not world.bot.error_lines(), world.bot.error_lines()


@pytest.mark.parametrize("land", [True, False], ids=["landed", "lost"])
async def test_sigkill_mid_story_prompt_posts_it_once(world: World, land: bool) -> None:
    assert "Created" in await world.slash(world.owner, "community create", name=COMMUNITY,
                                          kind="practice")
    lounge = world.emu.channel_by_name(world.guild, "carers-voice-lounge")
    assert lounge is not None
    pause = world.emu.pause_route("POST", rf"^/channels/{lounge.id}/messages$")
    await world.emu.slash(world.guild, world.owner, "story prompt", wait=False,
                          options={"community": COMMUNITY})
    await kill_while_held(world, pause, land=land)

    def prompts() -> list[int]:
        return [m.id for m in world.emu.messages_in(lounge)
                if m.content.startswith("**Story prompt**")]

    assert len(prompts()) == (1 if land else 0)
    await world.bot.start()
    await world.wait_until("SELECT COUNT(*) FROM story_prompts_posted WHERE message_id IS NULL",
                           [(0,)], "the prompt to be recorded as posted")
    [posted] = prompts()
    assert world.query("SELECT message_id FROM story_prompts_posted") == [(posted,)]
    await world.bot.stop()
    assert not world.bot.error_lines(), world.bot.error_lines()
