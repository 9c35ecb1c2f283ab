# ruff: noqa: ASYNC109  (timeouts are the point of these waits)
"""Run a real discord.py client against the emulator, failing fast if it cannot connect."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TypeVar

import discord
import discord.gateway
import discord.http
import yarl

from tests.emulator.server import DiscordEmulator

log = logging.getLogger(__name__)
ClientT = TypeVar("ClientT", bound=discord.Client)


def point_discord_at(emu: DiscordEmulator) -> None:
    """Point discord.py at the emulator.

    `Route.BASE` is what the bot itself sets (DISCORD_API_BASE). The gateway default is a
    test-only addition: after INVALID_SESSION discord.py re-identifies against
    `DiscordWebSocket.DEFAULT_GATEWAY` (wss://gateway.discord.gg) rather than the URL from
    /gateway/bot, which would leave the loopback world.
    """
    discord.http.Route.BASE = emu.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)


async def wait_ready(
    client: discord.Client, task: asyncio.Task[None], timeout: float = 10.0
) -> None:
    """Wait until `client` is ready, re-raising at once whatever kills its connect task."""
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait({ready, task}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not ready.done():
            ready.cancel()
    if task in done:
        exc = task.exception()
        if exc is not None:
            raise exc
        raise AssertionError("discord client stopped before becoming ready")
    if ready not in done:
        raise AssertionError(f"discord client not ready within {timeout}s")


@contextlib.asynccontextmanager
async def run_client(
    emu: DiscordEmulator,
    client: ClientT,
    token: str = "emulator-token",
    timeout: float = 10.0,
) -> AsyncIterator[ClientT]:
    """Start `client` against `emu`, yield it once ready, then close it cleanly."""
    point_discord_at(emu)
    task = asyncio.create_task(client.start(token), name="discord-client")
    try:
        await wait_ready(client, task, timeout)
        yield client
        if task.done() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    finally:
        await client.close()
        try:
            await asyncio.wait_for(task, 5.0)
        except (asyncio.CancelledError, TimeoutError):
            pass
        except Exception:  # the client already failed; the body re-raised it
            log.debug("client task ended with an error", exc_info=True)
        await emu.gateway.close_all()
