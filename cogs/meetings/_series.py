"""The twice-yearly series on Discord: a job per community keeps the next two occurrences
scheduled, and a (re)set rule moves or cancels the future ones.

Which occurrences are missing, move or go is the service's decision
(:meth:`bot.services.meetings.MeetingService.missing_occurrences` and
:meth:`~bot.services.meetings.MeetingService.series_changes`, on ``rrule``); this module
carries it out through the lifecycle. Job id: ``series:<community id>``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.domain.communities import Community
from bot.domain.meeting_series import Series
from bot.domain.meetings import Meeting
from bot.text import escape_inline

if TYPE_CHECKING:
    from cogs.meetings._lifecycle import Lifecycle, Outcome

log = logging.getLogger(__name__)


class SeriesKeeper:
    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self.bot = lifecycle.bot
        self.service = lifecycle.service

    def arm(self, community_id: int, when: datetime) -> None:
        self.bot.scheduler.schedule(
            f"series:{community_id}", when, lambda: self.run(community_id),
            guild_id=self.bot.communities.guild_of(community_id),
        )

    async def run(self, community_id: int) -> None:
        # Jobs re-armed in cog_load may fire before the guilds are cached.
        if self.lifecycle.events.not_ready_yet(
            f"series:{community_id}", lambda: self.run(community_id)
        ):
            return
        try:
            await self.keep(community_id)
        finally:
            await self._rearm(community_id)

    async def _rearm(self, community_id: int) -> None:
        when = await self.service.next_series_wake(community_id)
        if when is not None:
            self.arm(community_id, when)

    async def keep(self, community_id: int) -> list[Outcome]:
        """Add whatever occurrences are missing so the next two are always scheduled."""
        missing = await self.service.missing_occurrences(community_id)
        if missing is None:
            return []
        community, series, drafts = missing
        return [
            await self.lifecycle.create(
                community,
                draft,
                series.rule.tz.key,
                region=None,
                channel=None,
                in_series=True,
                by=series.created_by,
            )
            for draft in drafts
        ]

    async def apply(
        self, community: Community, series: Series
    ) -> tuple[list[Meeting], list[Meeting], list[Outcome], list[str]]:
        """A (re)set series: move future occurrences to the new rule, cancel those in months
        no longer chosen, then add what is missing. Returns (moved, cancelled, added, problems).
        """
        moved: list[Meeting] = []
        cancelled: list[Meeting] = []
        problems: list[str] = []
        for change in await self.service.series_changes(community, series):
            meeting = change.meeting
            if change.cancel:
                try:
                    done, _ = await self.lifecycle.cancel(meeting, series.created_by)
                except discord.HTTPException as exc:
                    problems.append(
                        f"I could not cancel **{escape_inline(meeting.title)}**'s Discord "
                        "event, so the "
                        f"meeting stays (Discord said: {exc.text or exc.status})."
                    )
                    continue
                cancelled.append(done)
                continue
            assert change.start is not None and change.end is not None
            problems += await self.lifecycle.move(
                meeting, change.title, change.start, change.end, series.rule.tz.key
            )
            moved.append(await self.service.reload(meeting.id))
        added = await self.keep(community.id)
        await self._rearm(community.id)
        return moved, cancelled, added, problems

