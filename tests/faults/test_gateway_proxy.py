"""Behind a proxy (DISCORD_API_BASE) every gateway connection goes to the gateway that
base's ``GET /gateway/bot`` named, also after Discord ends the session.

discord.py on its own reconnects to ``wss://gateway.discord.gg`` after op 9 Invalid Session
(``d: false``) and RESUMEs at READY's ``resume_gateway_url``, which real Discord sets to a
regional ``discord.gg`` host whatever gateway the client dialled. Behind a proxy (or an
egress firewall that only lets the proxy through) the bot would never come back.

The emulator here behaves like Discord: READY names a ``discord.gg`` resume host, op 9 is
sent on the live socket, 4009 closes it. The bot gets an aiohttp resolver that records and
refuses every host name: the emulator is dialled by IP address, so any name looked up is an
attempt to leave the proxy. Unlike the other e2e tests this one does not point
``DiscordWebSocket.DEFAULT_GATEWAY`` at the emulator (the harness does, for plain
discord.py clients): it is reset to Discord's, so the bot alone must stay on the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.app import HearthBot
from bot.clock import FakeClock
from bot.db import migrations
from bot.db.database import Database
from bot.scheduling import Scheduler
from bot.settings import load_config
from tests.e2e.hearth import START, make_settings
from tests.emulator.harness import wait_ready
from tests.emulator.server import DiscordEmulator
from tests.emulator.state import GuildState, UserState

pytestmark = pytest.mark.e2e

#: What real Discord puts in READY (one of its regional gateways).
DISCORD_RESUME_URL = "wss://gateway-us-east1-b.discord.gg"


class RefusingResolver(AbstractResolver):
    """Records every host name the bot tries to reach and refuses it (no real network)."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.hosts.append(host)
        raise OSError(f"test resolver: {host} is outside the proxy")

    async def close(self) -> None:
        return None


class Proxied:
    def __init__(
        self,
        emu: DiscordEmulator,
        guild: GuildState,
        owner: UserState,
        bot: HearthBot,
        resolver: RefusingResolver,
    ) -> None:
        self.emu, self.guild, self.owner, self.bot, self.resolver = (
            emu,
            guild,
            owner,
            bot,
            resolver,
        )

    async def answers_a_command(self) -> None:
        rec = await self.emu.slash(self.guild, self.owner, "community list")
        await rec.wait_final(10)
        assert rec.ephemeral and rec.embeds, (rec.content, rec.embeds)

    async def reconnected(self, done: Callable[[], bool], what: str) -> None:
        """Wait until `done()` or until the bot has tried a host other than the proxy."""
        await self.emu.wait_for(lambda: done() or self.resolver.hosts, 20, what)
        assert not self.resolver.hosts, f"the bot tried to leave the proxy: {self.resolver.hosts}"
        assert done()


@pytest.fixture
async def proxied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Proxied]:
    async with DiscordEmulator() as emu:
        emu.gateway.resume_gateway_url = DISCORD_RESUME_URL
        owner = emu.create_user("owner")
        guild = emu.create_guild("Health Charity", owner=owner, features=("COMMUNITY",))
        settings = make_settings(tmp_path / "hearth.db", DISCORD_API_BASE=emu.api_base)
        # What `python -m bot` does with DISCORD_API_BASE; Discord's own gateway default
        # (an earlier test's harness may have pointed it at another emulator).
        monkeypatch.setattr(discord.http.Route, "BASE", settings.discord_api_base)
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket,
            "DEFAULT_GATEWAY",
            yarl.URL("wss://gateway.discord.gg/"),
        )
        resolver = RefusingResolver()
        async with Database(settings.hearth_db) as db:
            await migrations.upgrade(db)
            clock = FakeClock(START)
            bot = HearthBot(
                settings=settings,
                config=load_config(settings.hearth_config),
                db=db,
                clock=clock,
                scheduler=Scheduler(clock, run_in_real_time=False),
                guild_ready_timeout=0.05,
                connector=aiohttp.TCPConnector(resolver=resolver),
            )
            # discord.py waits 5 s before a non-initial IDENTIFY (Discord's identify rate
            # limit); the emulator has none (see the emulator README).
            bot.before_identify_hook = _no_wait  # type: ignore[method-assign]
            task = asyncio.create_task(bot.start("emulator-token"), name="hearth")
            try:
                await wait_ready(bot, task)
                yield Proxied(emu, guild, owner, bot, resolver)
            finally:
                await bot.close()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(task, 5.0)
                await emu.gateway.close_all()


async def _no_wait(shard_id: int | None, *, initial: bool = False) -> None:
    return None


Fault = Callable[[DiscordEmulator], Awaitable[Any]]
FAULTS: dict[str, tuple[Fault, str]] = {
    "op 9 invalid session": (lambda emu: emu.gateway.send_invalid_session(), "identify"),
    "close 4009 session timed out": (lambda emu: emu.gateway.time_out_sessions(), "identify"),
    "dropped socket (resume)": (lambda emu: emu.gateway.drop(4000), "resume"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_reconnects_through_the_proxy_gateway_only(proxied: Proxied, fault: str) -> None:
    emu, gw = proxied.emu, proxied.emu.gateway
    await emu.wait_for(lambda: emu.command("community"), 10, "the command tree to sync")
    await proxied.answers_a_command()
    assert gw.identify_count == 1

    cause, expect = FAULTS[fault]
    for round_ in range(1, 3):  # twice: the second reconnect starts from the first's state
        identified, resumed = gw.identify_count, gw.resume_count
        await cause(emu)
        if expect == "identify":
            await proxied.reconnected(
                lambda: gw.identify_count > identified,  # noqa: B023
                f"a new session after {fault} (round {round_})",
            )
        else:
            await proxied.reconnected(
                lambda: gw.resume_count > resumed,  # noqa: B023
                f"a resumed session after {fault} (round {round_})",
            )
        await proxied.answers_a_command()

    assert not proxied.resolver.hosts
    proxy = yarl.URL(emu.gateway_url)
    dialled = [yarl.URL(url) for url in gw.connections]
    assert len(dialled) >= 3 and all(  # 4009: a RESUME refused, then an IDENTIFY
        (u.host, u.port, u.path) == (proxy.host, proxy.port, proxy.path) for u in dialled
    ), gw.connections
