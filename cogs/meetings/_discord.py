"""What every Discord-side part of meetings shares: the bot, the meetings service, the
exactly-once deliveries, and the small Discord chores (find a channel, DM someone, mention
in the meetings channel those a DM could not reach, wait for the guild cache)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot.delivery import Deliveries, Destination
from bot.domain.communities import Community
from bot.domain.meetings import Meeting
from bot.interactions import NO_MENTIONS
from bot.services.meetings import MeetingService

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

MENTIONS_PER_MESSAGE = 60
"""A user mention is at most ~22 characters; 60 of them stay well inside 2000."""

NOT_READY_RETRY = timedelta(seconds=5)
"""How soon a job that fell due before the guild cache was ready tries again."""


class DiscordSide:
    """Base of the meetings' Discord-side parts (events, announcements, reminders, series)."""

    def __init__(self, bot: HearthBot, service: MeetingService, deliveries: Deliveries) -> None:
        self.bot = bot
        self.service = service
        self.deliveries = deliveries

    def now(self) -> datetime:
        return self.service.now()

    def guild(self, community: Community) -> discord.Guild | None:
        return self.bot.get_guild(community.guild_id)

    def channel(self, channel_id: int | None) -> discord.abc.Messageable | None:
        if channel_id is None:
            return None
        ch = self.bot.get_channel(channel_id)
        return ch if isinstance(ch, discord.abc.Messageable) else None

    def not_ready_yet(self, job_id: str, func: Callable[[], Awaitable[None]]) -> bool:
        """Jobs armed in cog_load may fall due before the guild cache is ready: try again
        shortly instead of awaiting ``wait_until_ready``. A job blocked on that wait would
        never finish in a run that never gets ready (``python -m bot sync``, a stop before
        READY), and the scheduler's shutdown waits for running jobs, so it would hang.
        """
        if self.bot.is_ready():
            return False
        self.bot.scheduler.again(job_id, self.now() + NOT_READY_RETRY, func)
        return True

    @staticmethod
    def jump(meeting: Meeting, community: Community) -> str | None:
        """A link to the meeting's announcement (where people answer)."""
        if meeting.announcement_id is None or meeting.announcement_channel_id is None:
            return None
        return (
            f"https://discord.com/channels/{community.guild_id}/"
            f"{meeting.announcement_channel_id}/{meeting.announcement_id}"
        )

    async def dm(self, user_id: int, text: str, *, file: discord.File | None = None) -> bool:
        """Send a DM (with ``file`` attached, if given); False when the person's DMs are
        closed (or the send failed)."""
        try:
            channel = await self.bot.create_dm(discord.Object(user_id))
            if file is not None:
                await channel.send(text, file=file, allowed_mentions=NO_MENTIONS)
            else:
                await channel.send(text, allowed_mentions=NO_MENTIONS)
        except discord.Forbidden:
            return False
        except discord.HTTPException as exc:
            log.warning("DM to %s failed: %s", user_id, exc)
            return False
        return True

    async def dm_once(self, run: str, user_id: int, text: str) -> bool:
        """One scheduled DM of ``run``, sent exactly once (:mod:`bot.delivery`); False when
        the person's DMs are closed (or Discord refused it)."""
        try:
            await self.deliveries.send(
                run, Destination.member(user_id), content=text, allowed_mentions=NO_MENTIONS
            )
        except discord.Forbidden:
            return False
        except discord.HTTPException as exc:
            log.warning("DM to %s failed: %s", user_id, exc)
            return False
        return True

    async def post_mentions(
        self,
        run: str,
        community: Community,
        users: list[int],
        text_for: Callable[[list[int]], str],
    ) -> None:
        """Mention, in the meetings channel, those a DM of ``run`` could not reach. Each
        chunk is one delivery of the run, so a resumed run posts only what is missing."""
        channel = self.channel(community.meetings_id)
        if channel is None or community.meetings_id is None or not users:
            return
        users = sorted(users)  # the same chunks (and keys) when a run resumes
        for start in range(0, len(users), MENTIONS_PER_MESSAGE):
            chunk = users[start : start + MENTIONS_PER_MESSAGE]
            try:
                await self.deliveries.send(
                    run,
                    Destination.channel(community.meetings_id),
                    part=f"mention:{start}",
                    content=text_for(chunk)[:2000],
                    allowed_mentions=discord.AllowedMentions(
                        users=[discord.Object(u) for u in chunk], everyone=False, roles=False
                    ),
                )
            except discord.HTTPException as exc:
                log.warning("could not post a fallback mention in %s: %s", channel, exc)
