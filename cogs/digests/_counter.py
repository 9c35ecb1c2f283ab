"""Counting messages on the gateway hot path, from metadata only.

Why it is shaped like this: every message in every channel the bot can see passes through
``on_message``, so the common case must be a few dictionary operations. The channel →
community answer is cached in memory (one indexed lookup per channel, ever), counts go to
an in-memory buffer, and a periodic flush writes them in one batched UPSERT. Content is
never touched (Hearth has no message-content intent anyway).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import discord

from bot.services.digests import ActivityBuffer

if TYPE_CHECKING:
    from bot.app import HearthBot
    from bot.services.digests import DigestService

log = logging.getLogger(__name__)

_UNKNOWN = -1
#: Forget cached channel answers past this many (a huge server's many non-community channels).
CACHE_LIMIT = 50_000
#: Flush early when this many (member, hour) keys are waiting.
FLUSH_AT = 5_000
#: Display names remembered: the most recent authors only (an LRU), so a bot that runs for
#: months on a busy server keeps a bounded cache, and the digest asks Discord for the rest.
NAMES_LIMIT = 10_000


class MessageCounter:
    def __init__(self, bot: HearthBot, repo: DigestService) -> None:
        self.bot = bot
        #: Where counts go and channels are looked up (the digest service, never SQL here).
        self.repo = repo
        self.buffer = ActivityBuffer()
        #: channel id -> community id, or None for "not a community channel".
        self.channels: dict[int, int | None] = {}
        #: Display names of recent authors (least recently seen first), so the digest rarely
        #: needs to ask Discord; bounded by ``names_limit`` and cleared of a forgotten member.
        self.names: OrderedDict[int, str] = OrderedDict()
        self.names_limit = NAMES_LIMIT
        self._lock = asyncio.Lock()
        #: Messages counted since start (a metric; tests wait on it instead of sleeping).
        self.total_seen = 0

    async def on_message(self, message: discord.Message) -> None:
        """Count one message. Bots, webhooks and DMs are ignored."""
        author = message.author
        if author.bot or message.guild is None:
            return
        channel = message.channel
        community_id = self.channels.get(channel.id, _UNKNOWN)
        if community_id == _UNKNOWN:
            community_id = await self._resolve(channel)
        if community_id is None:
            return
        self.buffer.add(community_id, author.id, int(self.bot.clock.now().timestamp()) // 3600)
        self.remember_name(author.id, author.display_name)
        self.total_seen += 1
        if len(self.buffer) >= FLUSH_AT and not self._lock.locked():
            await self.flush()

    def remember_name(self, user_id: int, name: str) -> None:
        names = self.names
        names[user_id] = name
        names.move_to_end(user_id)
        while len(names) > self.names_limit:
            names.popitem(last=False)

    def forget_member(self, user_id: int) -> None:
        """``/privacy forget``: drop the member's name and their counts not yet written."""
        self.names.pop(user_id, None)
        counts = self.buffer.counts
        for key in [k for k in counts if k[1] == user_id]:
            del counts[key]

    async def _resolve(self, channel: Any) -> int | None:
        """The community of a channel, or of a thread's parent channel (then cached)."""
        if len(self.channels) >= CACHE_LIMIT:
            self.channels.clear()
        parent_id = getattr(channel, "parent_id", None)
        if isinstance(channel, discord.Thread) and parent_id is not None:
            found = await self.repo.community_for_channel(parent_id)
        else:
            found = await self.repo.community_for_channel(channel.id)
            if found is None and isinstance(channel, discord.PartialMessageable):
                # A thread the cache does not know yet: ask once which channel it is in.
                try:
                    full = await self.bot.fetch_channel(channel.id)
                except Exception:  # never let counting break message handling
                    log.warning("could not identify channel %s", channel.id, exc_info=True)
                    full = None
                if isinstance(full, discord.Thread) and full.parent_id is not None:
                    found = await self.repo.community_for_channel(full.parent_id)
        self.channels[channel.id] = found
        return found

    def forget_channels(self) -> None:
        """Drop cached answers (e.g. after a community is archived or re-created)."""
        self.channels.clear()

    async def flush(self) -> None:
        """Write the buffered counts in one transaction; on failure keep them for next time."""
        async with self._lock:  # a reader that flushes first sees every earlier count
            if not len(self.buffer):
                return
            batch = self.buffer.drain()
            try:
                await self.repo.add_counts(batch)
            except Exception:
                self.buffer.restore(batch)
                log.exception("could not write %d activity counts; will retry", len(batch))
                raise
