"""The vote benchmark's reference: a bot that only acknowledges each interaction.

Why a separate script: the vote burst (benchmarks/votes.py) runs each bot under test in a
process of its own, as ``python -m bot`` runs Hearth, so that the bot and the emulator do not
share one core. This is the same client stack as Hearth (``AutoShardedBot``, Hearth's
intents, the same ``DISCORD_API_BASE`` / ``DISCORD_TOKEN`` environment) with no cogs and no
database: ``on_interaction`` answers every interaction with an ephemeral "Thanks, noted."
It logs ``connected as`` on READY like Hearth, so the harness waits for both the same way,
and stops cleanly on SIGTERM.

With ``--hearth-gc`` it tunes its garbage collector after start-up exactly as Hearth does
(``bot.app.tune_garbage_collector``): the harness runs it as a second reference, so the
part of Hearth's lead or lag that comes from that setting alone can be read off.

Run by the harness: ``python -m benchmarks._ackbot [--hearth-gc]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/_ackbot.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import discord
from discord.ext import commands

from bot.app import hearth_intents, tune_garbage_collector

log = logging.getLogger("benchmarks.ackbot")

ACK_TEXT = "Thanks, noted."


class AckOnlyBot(commands.AutoShardedBot):
    #: ``--hearth-gc``: the collector tuned as Hearth tunes its own after start-up
    tune_gc = False

    async def setup_hook(self) -> None:
        if self.tune_gc:
            tune_garbage_collector()

    async def on_ready(self) -> None:
        log.info("connected as %s to %d guild(s)", self.user, len(self.guilds))

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(ACK_TEXT, ephemeral=True)


async def _run() -> int:
    bot = AckOnlyBot(command_prefix=commands.when_mentioned, help_command=None,
                     intents=hearth_intents())
    bot.tune_gc = "--hearth-gc" in sys.argv[1:]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, lambda: loop.create_task(bot.close()))
    async with bot:
        await bot.start(os.environ["DISCORD_TOKEN"])
    log.info("stopped cleanly")
    return 0


def main() -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    base = os.environ.get("DISCORD_API_BASE")
    if base:
        discord.http.Route.BASE = base
    return asyncio.run(_run())


if __name__ == "__main__":
    sys.exit(main())
