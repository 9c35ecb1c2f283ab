"""The Bot subclass: resources are passed in; ``setup_hook`` loads every cog package.

``AutoShardedBot`` because it asks ``GET /gateway/bot`` for the gateway URL (so a REST
proxy set by ``DISCORD_API_BASE`` also decides the gateway), and because sharding is
the shape a bot takes as it grows. Behind such a proxy every later gateway connection
goes there too (:class:`ProxiedGatewayHTTPClient`).

With ``HEARTH_SHARDS`` (bot/sharding.py) the process connects only those shards, of that
count, and its scheduler arms only the jobs of guilds on them; global jobs go to whichever
process holds their lease in the database (bot/db/leases.py).
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import json
import logging
import pkgutil
import secrets
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
import yarl
from discord.ext import commands
from discord.http import HTTPClient

import cogs
from bot.clock import Clock, SystemClock
from bot.components import ClickRoutes, ServiceRegistry
from bot.db.app_state import AppState
from bot.db.database import Database
from bot.db.leases import JobLeases
from bot.errors_handler import NO_MENTIONS, handle_interaction_error
from bot.interactions import remember_commands
from bot.scheduling import Scheduler
from bot.services.communities import CommunityService
from bot.settings import HearthConfig, Settings
from bot.sharding import owns_every_guild

if TYPE_CHECKING:
    from discord.types.gateway import SessionStartLimit

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


class ProxiedGatewayHTTPClient(HTTPClient):
    """Every gateway connection goes to the gateway that ``GET /gateway/bot`` named.

    discord.py dials that gateway only for the first connection. After op 9 Invalid Session
    (``d: false``) it identifies at ``wss://gateway.discord.gg`` (its ``DEFAULT_GATEWAY``), and
    it resumes (after a drop, or a 4009 session timeout) at READY's ``resume_gateway_url``,
    which Discord sets to a regional ``discord.gg`` host whatever gateway the bot dialled.
    Behind a proxy those hosts may be unreachable, or reachable only by bypassing the proxy,
    so the bot would never come back. All of those connections pass through
    :meth:`ws_connect`, so this is where they are kept on the discovered gateway; the query
    discord.py builds (API version, encoding, compression) is kept as it is.

    Used only when ``DISCORD_API_BASE`` is set: talking to Discord directly, Discord's own
    hosts are the right ones (and resuming at ``resume_gateway_url`` is what it asks for).
    """

    discovered_gateway: yarl.URL | None = None

    async def get_bot_gateway(self) -> tuple[int, str, SessionStartLimit]:
        shards, url, limits = await super().get_bot_gateway()
        self.discovered_gateway = yarl.URL(url)
        return shards, url, limits

    async def ws_connect(self, url: str, *, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
        # The main gateway connects with compress=0; voice (unused by Hearth, and at a media
        # host Discord names per call) with per-message deflate, compress=15.
        if compress == 0:
            url = await self._via_discovered_gateway(url)
        return await super().ws_connect(url, compress=compress)

    async def _via_discovered_gateway(self, url: str) -> str:
        if self.discovered_gateway is None:  # a fixed shard_count skips the discovery
            await self.get_bot_gateway()
        assert self.discovered_gateway is not None
        asked = yarl.URL(url)
        target = self.discovered_gateway.with_query(asked.query)
        if target != asked:
            log.info(
                "gateway: connecting to %s (from DISCORD_API_BASE) instead of %s",
                self.discovered_gateway,
                asked.with_query(None),
            )
        return str(target)


#: The collector's thresholds for a long-running bot (CPython's defaults: 700, 10, 10).
#: A young collection runs every ``GC_THRESHOLDS[0]`` net new container objects and scans
#: every young object still alive. In a burst, thousands of clicks are in flight at once,
#: each holding containers (the interaction, its message, its aiohttp request), so at 700 a
#: collection comes every few clicks and rescans the same live requests. At 100,000 the
#: event loop spends ~15 % less CPU per vote (benchmarks/votes.py; RESULTS.md, "Vote burst,
#: fourth pass"). The cost: garbage in reference cycles waits longer to be freed (until
#: that many new objects have accumulated); Hearth's peak memory in those bursts is 125 MB.
GC_THRESHOLDS = (100_000, 10, 10)


def tune_garbage_collector() -> None:
    """After start-up: everything alive now lives for the whole run (modules, cogs,
    discord.py's state), so it is moved out of the collector's sight (``gc.freeze``, which
    CPython documents for this), and young collections are made rarer (GC_THRESHOLDS)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


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
        freeze_gc: bool = False,
        **options: Any,
    ) -> None:
        options.setdefault("intents", hearth_intents())
        options.setdefault("allowed_mentions", NO_MENTIONS)
        shards = settings.hearth_shards
        if shards is not None:
            options.setdefault("shard_ids", shards.ids)
            options.setdefault("shard_count", shards.count)
        super().__init__(command_prefix=commands.when_mentioned, help_command=None, **options)
        if settings.discord_api_base:
            # discord.py builds its HTTPClient inside Client.__init__ and takes no factory;
            # the connection state and the command tree already hold that instance, so the
            # instance itself becomes the subclass (its one attribute defaults on the class).
            self.http.__class__ = ProxiedGatewayHTTPClient
        self.settings = settings
        self.config = config
        self.db = db
        self.clock: Clock = clock or SystemClock()
        #: Does this process act for that guild (its shards'), and so schedule its jobs?
        self.owns = shards.owns if shards is not None else owns_every_guild
        #: This process among others sharing the database (the holder of its job leases).
        self.process_id = secrets.token_hex(8)
        self.job_leases = JobLeases(db)
        self.scheduler = scheduler or Scheduler(
            self.clock,
            owns=self.owns,
            claim=self.claim_global_job if shards is not None else None,
        )
        if shards is not None and self.scheduler.owns is owns_every_guild:
            raise ValueError(f"HEARTH_SHARDS={shards}: the scheduler given must own those only")
        #: Communities and memberships, which every capability resolves the same way.
        self.communities = CommunityService(db, self.clock)
        #: Each capability's domain service, registered by its cog at load; persistent
        #: components resolve theirs from here once per click (bot/components.py).
        self.services = ServiceRegistry()
        #: Button clicks answered before discord.py's component dispatch (a poll's vote
        #: buttons, added by their cog): the one documented exception, bot/components.py.
        self.click_routes = ClickRoutes()
        self.click_routes.install(self)
        #: Small facts about the bot itself (command sync, welcomes sent, installation id).
        self.app_state = AppState(db)
        self._extensions = extensions
        self.auto_sync = auto_sync
        self.freeze_gc = freeze_gc
        #: Per-message work (the digest's counter). Hooks run inside the task discord.py
        #: already creates for ``on_message``: a ``Cog.listener`` would cost a task of its
        #: own per message, which on the gateway hot path was most of Hearth's added cost
        #: (benchmarks/ingest.py). A hook must be quick and must not raise.
        self.message_hooks: list[MessageHook] = []
        self.tree.error(self._on_tree_error)

    async def claim_global_job(self, job_id: str, until: datetime) -> bool:
        """Only one process runs a global job at a time: the holder of its lease."""
        return await self.job_leases.claim(job_id, self.process_id, self.clock.now(), until)

    async def setup_hook(self) -> None:
        self.scheduler.start()
        # Before the cogs re-arm their jobs: each job's guild decides whether it is ours.
        await self.communities.load_guilds()
        for ext in self._extensions if self._extensions is not None else walk_extensions():
            await self.load_extension(ext)
            log.info("loaded %s", ext)
        synced = await self.sync_commands_if_changed() if self.auto_sync else False
        if not synced:
            await self.learn_command_ids()
        if self.freeze_gc:
            tune_garbage_collector()

    async def learn_command_ids(self) -> None:
        """Fetch the registered commands once, so replies can mention them as links
        (``</community create:ID>``); a sync records them itself."""
        if self.application_id is None:
            return
        try:
            remember_commands(await self.tree.fetch_commands())
        except discord.HTTPException as exc:
            log.warning("could not fetch the slash commands (%s); replies name them as text", exc)

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
        remember_commands(synced)
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
        if self.settings.hearth_shards is not None and not self.is_closed():
            try:
                # Another process takes the global jobs over at once, not when leases expire.
                await self.job_leases.release(self.process_id)
            except Exception:
                log.exception("could not release the global job leases")
        await super().close()

    async def _on_tree_error(
        self, interaction: discord.Interaction[Any], error: discord.app_commands.AppCommandError
    ) -> None:
        await handle_interaction_error(interaction, error)

    async def on_ready(self) -> None:
        shards = self.settings.hearth_shards
        log.info(
            "connected as %s to %d guild(s)%s", self.user, len(self.guilds),
            f" on shards {shards} (HEARTH_SHARDS)" if shards is not None else "",
        )  # fmt: skip
