"""Carrying out meeting decisions on Discord: a meeting made, cancelled or moved, in step
across its stored row, its Discord event, its announcement and its jobs.

The service (:mod:`bot.services.meetings`) decides and stores; the parts here do the
Discord side: :mod:`._events` (scheduled events), :mod:`._announce` (the card and .ics),
:mod:`._reminders` (reminder and notes jobs), :mod:`._series` (the twice-yearly series).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.delivery import Deliveries
from bot.domain.communities import Community
from bot.domain.meetings import Meeting, MeetingDraft
from bot.services.meetings import MeetingService
from cogs.meetings import _render
from cogs.meetings._announce import Announcements
from cogs.meetings._events import EVENT_RETRY, Events
from cogs.meetings._reminders import Reminders

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What happened on Discord, so the facilitator can be told plainly."""

    meeting: Meeting
    problems: list[str] = field(default_factory=list)


class Lifecycle:
    """The Discord side of meetings, for one bot."""

    def __init__(self, bot: HearthBot, service: MeetingService) -> None:
        from cogs.meetings._series import SeriesKeeper

        self.bot = bot
        self.service = service
        deliveries = Deliveries(bot)
        self.events = Events(bot, service, deliveries)
        self.announcements = Announcements(bot, service, deliveries)
        self.reminders = Reminders(bot, service, deliveries)
        self.series = SeriesKeeper(self)

    async def rebuild(self) -> None:
        """Re-arm every pending job from the database (start-up, after a restart)."""
        await self.reminders.rebuild()
        now = self.service.now()
        for series in await self.service.all_series():
            self.series.arm(series.community_id, now)
        for meeting_id in await self.service.stale_events():
            stale = await self.service.get(meeting_id)
            if stale is not None:
                self.events.arm_retry(stale, now)
        self.events.arm_reconcile()

    async def create(
        self,
        community: Community,
        draft: MeetingDraft,
        tz_name: str,
        *,
        region: str | None,
        channel: discord.VoiceChannel | discord.StageChannel | None,
        in_series: bool,
        by: int,
    ) -> Outcome:
        """Store the meeting, mirror it as a Discord event, announce it and arm its jobs.

        The meeting row exists first; the event id is stored right after the event is made,
        and if that store fails the event is deleted again, so no Discord event is left
        without a meeting. Discord refusing the event (permission, 100-event limit) is not an
        error: the meeting stands and the facilitator is told.
        """
        meeting = await self.service.store(
            community,
            draft,
            tz_name,
            region=region,
            channel=(channel.id, channel.name) if channel is not None else None,
            in_series=in_series,
            by=by,
        )
        outcome = Outcome(meeting)
        try:
            await self.events.create(community, meeting, channel, outcome.problems)
        except BaseException:
            await self.service.discard(meeting.id)
            raise
        await self.announcements.announce(community, meeting, outcome.problems)
        outcome.meeting = await self.service.reload(meeting.id)
        self.reminders.arm(outcome.meeting)
        return outcome

    async def cancel(self, meeting: Meeting, by: int) -> tuple[Meeting, int]:
        """Cancel: Discord event, stored state, announcement, and a DM with the cancelled
        .ics to going/maybe people.

        Returns the cancelled meeting and how many people were told.
        """
        await self.events.cancel(meeting)
        cancelled = await self.service.mark_cancelled(meeting, by)
        if cancelled is None:
            return await self.service.reload(meeting.id), 0
        self.bot.scheduler.cancel_prefix(f"meeting:{meeting.id}:")
        await self.announcements.refresh(cancelled, with_file=True)
        community = await self.service.community(cancelled)
        told = 0
        for user_id in await self.service.cancellation_recipients(meeting.id):
            # the updated .ics (METHOD:CANCEL, same UID, higher SEQUENCE): opening it makes
            # a calendar that imported the meeting drop it
            ics = await self.announcements.ics_file(cancelled, community)
            text = _render.cancel_text(cancelled, community)
            if await self.reminders.dm(user_id, text, file=ics):
                told += 1
        return cancelled, told

    async def move(
        self, meeting: Meeting, title: str, start: datetime, end: datetime, tz_name: str
    ) -> list[str]:
        """Move a meeting (a changed series rule): stored, event, announcement, jobs."""
        moved = await self.service.reschedule(meeting, title, start, end, tz_name)
        problems = [p for p in [await self.events.move(moved)] if p]
        await self.announcements.refresh(moved, with_file=True)
        self.bot.scheduler.cancel_prefix(f"meeting:{meeting.id}:")
        self.reminders.arm(moved)
        if await self.service.event_is_stale(meeting.id):
            self.events.arm_retry(meeting, self.service.now() + EVENT_RETRY)
        return problems

    async def refresh_announcement(self, meeting: Meeting, *, with_file: bool = False) -> None:
        await self.announcements.refresh(meeting, with_file=with_file)
