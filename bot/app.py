"""The Bot subclass: resources are passed in; ``setup_hook`` loads every cog package.

``AutoShardedBot`` because it asks ``GET /gateway/bot`` for the gateway URL (so a REST
proxy set by ``DISCORD_API_BASE`` also decides the gateway), and because sharding is
the shape a bot takes as it grows.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import discord
from discord.ext import commands

import cogs
from bot.clock import Clock, SystemClock
from bot.db.communities import CommunityRepo
from bot.db.database import Database
from bot.errors_handler import NO_MENTIONS, handle_interaction_error
from bot.scheduling import Scheduler
from bot.settings import HearthConfig, Settings

log = logging.getLogger(__name__)

MessageHook = Callable[[discord.Message], Awaitable[None]]


def hearth_intents() -> discord.Intents:
    """No privileged intents: Hearth reads no chat content and needs no member list."""
    intents = discord.Intents.default()
    intents.members = False
    intents.presences = False
    intents.message_content = False
    return intents


def walk_extensions(package: Any = cogs) -> Iterator[str]:
    """Each sub-package of ``cogs`` is one capability; modules starting with ``_`` are helpers."""
    for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        short = module.name.rsplit(".", 1)[-1]
        if short.startswith("_"):
            continue
        imported = importlib.import_module(module.name)
        if hasattr(imported, "setup"):
            yield module.name


class HearthBot(commands.AutoShardedBot):
    def __init__(
        self,
        *,
        settings: Settings,
        config: HearthConfig,
        db: Database,
        clock: Clock | None = None,
        scheduler: Scheduler | None = None,
        extensions: list[str] | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("intents", hearth_intents())
        options.setdefault("allowed_mentions", NO_MENTIONS)
        super().__init__(command_prefix=commands.when_mentioned, help_command=None, **options)
        self.settings = settings
        self.config = config
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.scheduler = scheduler or Scheduler(self.clock)
        self.communities = CommunityRepo(db)
        self._extensions = extensions
        #: Per-message work (the digest's counter). Hooks run inside the task discord.py
        #: already creates for ``on_message``: a ``Cog.listener`` would cost a task of its
        #: own per message, which on the gateway hot path was most of Hearth's added cost
        #: (benchmarks/ingest.py). A hook must be quick and must not raise.
        self.message_hooks: list[MessageHook] = []
        self.tree.error(self._on_tree_error)

    async def setup_hook(self) -> None:
        self.scheduler.start()
        for ext in self._extensions if self._extensions is not None else walk_extensions():
            await self.load_extension(ext)
            log.info("loaded %s", ext)

    async def on_message(self, message: discord.Message) -> None:
        for hook in self.message_hooks:
            try:
                await hook(message)
            except Exception:
                log.exception("message hook %r failed", hook)
        await self.process_commands(message)

    async def close(self) -> None:
        # Stop scheduling first so no new work starts; running jobs finish.
        await self.scheduler.shutdown()
        await super().close()

    async def _on_tree_error(
        self, interaction: discord.Interaction[Any], error: discord.app_commands.AppCommandError
    ) -> None:
        await handle_interaction_error(interaction, error)

    async def on_ready(self) -> None:
        log.info("connected as %s to %d guild(s)", self.user, len(self.guilds))
