"""The Bot subclass: resources are passed in; ``setup_hook`` loads every cog package.

``AutoShardedBot`` because it asks ``GET /gateway/bot`` for the gateway URL (so a REST
proxy set by ``DISCORD_API_BASE`` also decides the gateway), and because sharding is
the shape a bot takes as it grows.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import pkgutil
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import discord
from discord.ext import commands

import cogs
from bot.clock import Clock, SystemClock
from bot.db.app_state import AppState
from bot.db.communities import CommunityRepo
from bot.db.database import Database
from bot.errors_handler import NO_MENTIONS, handle_interaction_error
from bot.scheduling import Scheduler
from bot.settings import HearthConfig, Settings

log = logging.getLogger(__name__)

MessageHook = Callable[[discord.Message], Awaitable[None]]
COMMAND_TREE_KEY = "command_tree"


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
        auto_sync: bool = True,
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
        self.auto_sync = auto_sync
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
        if self.auto_sync:
            await self.sync_commands_if_changed()

    def command_fingerprint(self) -> str:
        """What Discord would be told by a global sync, for this application, as a hash."""
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands()]
        digest = hashlib.sha256(
            json.dumps(payload, sort_keys=True, default=str).encode("utf-8")
        ).hexdigest()
        return f"{self.application_id}:{digest}"

    async def record_synced_commands(self) -> None:
        await AppState(self.db).set(COMMAND_TREE_KEY, self.command_fingerprint())

    async def sync_commands_if_changed(self) -> bool:
        """Sync the global slash commands when they differ from the last sync, else nothing.

        Syncing on every start would spend Discord's command rate limit for nothing (the
        reason RoboDanny and Red sync on demand); never syncing would leave a fresh install
        with no commands at all. The fingerprint of the last synced tree decides.
        ``python -m bot sync`` remains for guild syncs and forcing one.
        """
        if self.application_id is None:  # not logged in (benchmarks call setup_hook bare)
            return False
        if await AppState(self.db).get(COMMAND_TREE_KEY) == self.command_fingerprint():
            return False
        try:
            synced = await self.tree.sync()
        except discord.HTTPException as exc:
            log.warning("could not sync slash commands (%s); run `python -m bot sync`", exc)
            return False
        await self.record_synced_commands()
        log.info("slash commands changed since the last sync: synced %d globally", len(synced))
        return True

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
