"""The Hearth test world: the emulator, a server with people, and the real HearthBot.

Tests act as people would (slash commands, clicks, modal submits through the emulator)
and assert on what the bot left in the emulator and the database. Time only moves when a
test calls :meth:`HearthWorld.advance`, which runs the scheduler's due jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import HearthBot
from bot.clock import FakeClock
from bot.db import migrations
from bot.db.database import Database
from bot.scheduling import Scheduler
from bot.settings import HearthConfig, Settings, load_config
from tests.emulator.harness import run_client
from tests.emulator.interactions import InteractionRecord
from tests.emulator.server import DiscordEmulator
from tests.emulator.state import ChannelState, GuildState, UserState
from tests.engines import current_engine, database_target

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # a Monday in winter (GMT)


def make_settings(db_path: Path | str, **extra: Any) -> Settings:
    return Settings.model_validate(
        {
            "DISCORD_TOKEN": "emulator-token",
            "HEARTH_DB": str(db_path),
            "HEARTH_CONFIG": str(ROOT / "bot" / "defaults" / "hearth.toml"),
            **extra,
        }
    )


@dataclass
class HearthWorld:
    emu: DiscordEmulator
    guild: GuildState
    owner: UserState
    db_path: Path
    clock: FakeClock
    config: HearthConfig
    settings: Settings
    people: dict[str, UserState] = field(default_factory=dict)
    bot: HearthBot | None = None
    db: Database | None = None
    _stack: contextlib.AsyncExitStack | None = None

    # -- lifecycle ---------------------------------------------------------------
    async def start_bot(self) -> HearthBot:
        stack = contextlib.AsyncExitStack()
        db = self.settings.open_database()
        await db.connect()
        stack.push_async_callback(db.close)
        await migrations.upgrade(db)
        bot = HearthBot(
            settings=self.settings,
            config=self.config,
            db=db,
            clock=self.clock,
            scheduler=Scheduler(self.clock, run_in_real_time=False),
            guild_ready_timeout=0.05,
        )
        # No explicit sync: setup_hook syncs the commands when they changed since the last
        # sync recorded in this database, exactly as in production.
        await stack.enter_async_context(run_client(self.emu, bot))
        self.bot, self.db, self._stack = bot, db, stack
        await self.welcomed()
        return bot

    async def welcomed(self) -> None:
        """Wait until the bot has welcomed the servers it was already in (cogs/guide), so no
        welcome lands in the middle of a test."""
        assert self.bot is not None
        guide = self.bot.get_cog("GuideCog")
        if guide is not None:
            await asyncio.wait_for(guide.caught_up.wait(), 10)  # type: ignore[attr-defined]

    async def stop_bot(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
        self.bot = self.db = self._stack = None

    async def restart(self) -> HearthBot:
        await self.stop_bot()
        return await self.start_bot()

    async def advance(self, delta: timedelta) -> list[str]:
        """Move the clock forward and run every scheduled job now due."""
        self.clock.advance(delta)
        assert self.bot is not None
        return await self.bot.scheduler.run_due()

    async def advance_to(self, when: datetime) -> list[str]:
        self.clock.set(when)
        assert self.bot is not None
        return await self.bot.scheduler.run_due()

    # -- people --------------------------------------------------------------------
    def person(self, name: str, *, dms_open: bool = True, manager: bool = False) -> UserState:
        user = self.emu.create_user(name, dms_open=dms_open)
        from tests.emulator.permissions import P

        self.emu.add_member(self.guild, user, permissions=P.MANAGE_GUILD if manager else None)
        self.people[name] = user
        return user

    # -- shortcuts -------------------------------------------------------------------
    async def slash(self, user: UserState, command: str, **options: Any) -> InteractionRecord:
        return await self.emu.slash(self.guild, user, command, **options)

    async def create_community(
        self,
        name: str = "Carers Voice",
        kind: str = "practice",
        *,
        members: dict[UserState, str] | None = None,
        **options: Any,
    ) -> InteractionRecord:
        rec = await self.slash(self.owner, "community create", name=name, kind=kind, **options)
        assert not rec.content.startswith("Sorry"), rec.content
        assert "Created" in rec.content, rec.content
        for user, discipline in (members or {}).items():
            added = await self.slash(
                self.owner, "community add", community=name, member=user, discipline=discipline
            )
            assert "Added" in added.content, added.content
        return rec

    async def community_row(self, name: str) -> Any:
        assert self.bot is not None
        return await self.bot.communities.by_name(self.guild.id, name)

    def channel(self, name: str) -> ChannelState:
        ch = self.emu.channel_by_name(self.guild, name)
        assert ch is not None, f"no channel {name}"
        return ch


@contextlib.asynccontextmanager
async def hearth_world(
    tmp_path: Path, *, start: datetime = START, features: tuple[str, ...] = ("COMMUNITY",),
    settings_extra: dict[str, Any] | None = None, engine: str | None = None,
) -> AsyncIterator[HearthWorld]:
    """The world on ``engine``: a SQLite file in ``tmp_path``, or (``"postgresql"``) a schema
    of its own in the test server (tests/engines.py), the key file still in ``tmp_path``."""
    engine = engine or current_engine()
    async with contextlib.AsyncExitStack() as stack:
        target = await stack.enter_async_context(database_target(engine, tmp_path))
        extra = {"HEARTH_KEY_FILE": str(tmp_path / "hearth.key")} if engine != "sqlite" else {}
        world = await stack.enter_async_context(
            _world(tmp_path, start, features, {**extra, **(settings_extra or {})}, target)
        )
        yield world


@contextlib.asynccontextmanager
async def _world(
    tmp_path: Path,
    start: datetime,
    features: tuple[str, ...],
    settings_extra: dict[str, Any],
    target: str,
) -> AsyncIterator[HearthWorld]:
    async with DiscordEmulator() as emu:
        owner = emu.create_user("owner")
        guild = emu.create_guild("Health Charity", owner=owner, features=features)
        settings = make_settings(target, **settings_extra)
        world = HearthWorld(
            emu=emu,
            guild=guild,
            owner=owner,
            db_path=tmp_path / "hearth.db",
            clock=FakeClock(start),
            config=load_config(settings.hearth_config),
            settings=settings,
        )
        await world.start_bot()
        try:
            yield world
        finally:
            await world.stop_bot()
