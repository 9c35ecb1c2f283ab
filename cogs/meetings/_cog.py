"""/meeting commands: thin handlers that validate with the domain and call the service."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import timezone_autocomplete
from bot.domain.communities import clean_region
from bot.domain.meeting_series import (
    occurrence_resolution,
    parse_months,
    parse_weekday_spec,
    validate_series,
)
from bot.domain.meetings import ONLINE, validate_meeting
from bot.domain.timeparse import (
    WEEKDAY_NAMES,
    discord_timestamp,
    parse_time_of_day,
    resolve_future,
    validate_timezone,
)
from bot.errors import InvalidInput, MissingPermission
from bot.interactions import (
    NO_MENTIONS,
    actor_of,
    community_autocomplete,
    facilitated_community,
    member_community,
    mention,
)
from bot.services.meetings import MeetingService
from bot.text import escape_inline, plain
from cogs.meetings import _render
from cogs.meetings._events import relay_interest
from cogs.meetings._lifecycle import Lifecycle
from cogs.meetings._views import NotesModal

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

#: Autocomplete and /meeting notes reach back this far, so recent meetings can get notes.
RECENT = timedelta(days=30)


class MeetingsCog(commands.GroupCog, group_name="meeting"):
    """Meetings: schedule, series, list, notes, cancel."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        offsets = tuple(timedelta(seconds=s) for s in bot.config.meetings.reminder_seconds())
        self.service = MeetingService(bot.db, bot.communities, bot.clock, offsets)
        self.meetings = Lifecycle(bot, self.service)

    async def cog_load(self) -> None:
        self.bot.services.register(self.service)
        relay_interest(self.bot)
        await self.meetings.rebuild()

    async def cog_unload(self) -> None:
        self.bot.services.unregister(self.service)
        self.bot.scheduler.cancel_prefix("meeting:")
        self.bot.scheduler.cancel_prefix("series:")

    @commands.Cog.listener()
    async def on_scheduled_event_delete(self, event: discord.ScheduledEvent) -> None:
        """Someone deleted a meeting's event in Discord: the meeting must stop pointing at it."""
        ids = await self.service.forget_event(event.id)
        if ids:
            log.info("scheduled event %s deleted outside Hearth (meetings %s)", event.id, ids)

    @commands.Cog.listener()
    async def on_scheduled_event_interest(
        self, guild_id: int, event_id: int, user_id: int, added: bool
    ) -> None:
        """A member gave or took back "Interested" on a meeting's Discord event: the RSVP follows
        (rules in :meth:`MeetingService.discord_interest`) and the card's counts with it."""
        meeting = await self.service.discord_interest(guild_id, event_id, user_id, added)
        if meeting is not None:
            await self.meetings.refresh_announcement(meeting)

    @commands.Cog.listener()
    async def on_community_archived(self, community_id: int) -> None:
        """An archived community gets no new series meetings (its data is kept)."""
        self.bot.scheduler.cancel(f"series:{community_id}")

    # ------------------------------------------------------------------ helpers
    async def meeting_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        found = await self.service.autocomplete(
            interaction.guild_id, actor_of(interaction), current.strip(),
            self.service.now() - RECENT,
        )
        choices = []
        for meeting, community_name in found[:25]:
            local = meeting.start_utc.astimezone(meeting.tz)
            # the title is cut first so the date and community always show
            label = (f"{plain(meeting.title, 50, empty='Meeting')} · "
                     f"{local:%d %b %Y %H:%M} · {community_name}")
            choices.append(app_commands.Choice(name=plain(label, 100), value=str(meeting.id)))
        return choices

    def _tz(self, name: str | None, fallback: str) -> ZoneInfo:
        return validate_timezone(name) if name and name.strip() else ZoneInfo(fallback)

    # ------------------------------------------------------------------ schedule
    @app_commands.command(name="schedule", description="Schedule a meeting (facilitators)")
    @app_commands.describe(
        community="The community",
        title="e.g. Spring community meeting",
        when="Date and time in the community's timezone, e.g. 2027-03-10 18:30",
        duration="Length in minutes (default from config, usually 120)",
        location='An address, or "online" (the default)',
        channel="Or hold it in a voice or stage channel",
        region="Only for members of this region (they are mentioned in the announcement)",
        timezone="Timezone of 'when', e.g. Europe/London (default: the community's)",
    )
    @app_commands.autocomplete(community=community_autocomplete, timezone=timezone_autocomplete)
    @app_commands.guild_only()
    async def schedule(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        title: str,
        when: str,
        duration: int | None = None,
        location: str | None = None,
        channel: discord.VoiceChannel | discord.StageChannel | None = None,
        region: str | None = None,
        timezone: str | None = None,
    ) -> None:
        comm, actor = await facilitated_community(interaction, community)
        if channel is not None and location and location.strip():
            raise InvalidInput(
                "Give either a location or a voice/stage channel, not both."
            )
        tz = self._tz(timezone, comm.timezone)
        now = self.service.now()
        resolution = resolve_future(when, tz, now)
        default = self.bot.config.meetings.default_duration_minutes
        minutes = default if duration is None else duration
        draft = validate_meeting(
            title, resolution.utc, minutes, None if channel is not None else location, now
        )
        clean_reg = clean_region(region)
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.meetings.create(
            comm,
            draft,
            tz.key,
            region=clean_reg,
            channel=channel,
            in_series=False,
            by=actor.user_id,
        )
        meeting = outcome.meeting
        lines = [
            f"Scheduled **{escape_inline(meeting.title)}** for "
            f"{discord_timestamp(meeting.start_utc, 'F')} "
            f"({_render.local_time(meeting)}), {minutes} minutes, {_render.where(meeting)}."
        ]
        if resolution.note:
            lines.append(f"Note: {resolution.note}")
        if clean_reg:
            n = await self.service.count_in_region(comm.id, clean_reg)
            region_md = escape_inline(clean_reg)
            if n == 0:
                lines.append(
                    f"Regional meeting for **{region_md}**: no member has that region yet, so "
                    f"no one was mentioned. Set regions with {mention('community add')}; "
                    "anyone who "
                    "answers going or maybe gets the reminders."
                )
            else:
                who = (
                    "1 member of that region was"
                    if n == 1
                    else f"{n} members of that region were"
                )
                lines.append(
                    f"Regional meeting for **{region_md}**: {who} mentioned in the "
                    "announcement and will get the reminders."
                )
        lines += outcome.problems
        if meeting.event_id is not None:
            lines.append("It is also on the server's Events list.")
        await interaction.followup.send(
            "\n".join(lines)[:2000], ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    # ------------------------------------------------------------------ series
    @app_commands.command(
        name="series", description="Set the twice-yearly meeting series (facilitators)"
    )
    @app_commands.describe(
        community="The community",
        months='Months, e.g. "3 and 9" or "March, September" (default from config)',
        weekday='Which day of the month, e.g. "second wednesday" or "last friday"',
        time="Local time, e.g. 18:30",
        duration="Length in minutes (default from config)",
        location='An address, or "online" (the default)',
        timezone="Timezone, e.g. Europe/London (default: the community's)",
    )
    @app_commands.autocomplete(community=community_autocomplete, timezone=timezone_autocomplete)
    @app_commands.guild_only()
    async def series(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        months: str | None = None,
        weekday: str | None = None,
        time: str | None = None,
        duration: int | None = None,
        location: str | None = None,
        timezone: str | None = None,
    ) -> None:
        comm, actor = await facilitated_community(interaction, community)
        cfg = self.bot.config.meetings
        tz = self._tz(timezone, comm.timezone)
        month_list = parse_months(months) if months is not None else tuple(cfg.months)
        if weekday is not None:
            nth, day = parse_weekday_spec(weekday)
        else:
            nth, day = cfg.nth, WEEKDAY_NAMES.index(cfg.weekday.capitalize())
        at = parse_time_of_day(time) if time is not None else cfg.time
        rule = validate_series(month_list, day, nth, at, tz)
        minutes = cfg.default_duration_minutes if duration is None else duration
        now = self.service.now()
        # Validate the meeting shape once (title placeholder, the next occurrence's start).
        probe = validate_meeting(
            "series", now + timedelta(days=1), minutes, location, now
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        stored = await self.service.save_series(
            comm.id, rule, minutes, probe.location, actor.user_id
        )
        moved, cancelled, added, problems = await self.meetings.series.apply(comm, stored)
        upcoming = await self.service.upcoming_series(comm.id)
        lines = [f"Series for **{escape_inline(comm.name)}**: {rule.describe()}, {minutes} "
                 f"minutes, {escape_inline(probe.location)}. "
                 "The next two meetings are always on the calendar:"]
        for m in upcoming[:2]:
            lines.append(f"• **{escape_inline(m.title)}**: {discord_timestamp(m.start_utc, 'F')} "
                         f"({_render.local_time(m)})")
            res = occurrence_resolution(rule, m.start_utc)
            if res.note:
                lines.append(f"  Note: {res.note}")
        if moved:
            lines.append(f"Moved {len(moved)} meeting(s) to the new rule (events and "
                         "announcements updated).")
        if cancelled:
            lines.append(f"Cancelled {len(cancelled)} meeting(s) in months no longer chosen.")
        for outcome in added:
            problems += outcome.problems
        lines += list(dict.fromkeys(problems))
        await interaction.followup.send(
            "\n".join(lines)[:2000], ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    # ------------------------------------------------------------------ list
    @app_commands.command(name="list", description="Upcoming meetings of a community")
    @app_commands.describe(community="The community")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def list_(self, interaction: discord.Interaction[HearthBot], community: str) -> None:
        comm, _, _ = await member_community(interaction, community, allow_archived=True)
        now = self.service.now()
        rows = await self.service.upcoming_with_counts(comm.id, limit=26)
        await interaction.response.send_message(
            embed=_render.list_embed(comm, rows, now), ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    # ------------------------------------------------------------------ notes
    @app_commands.command(name="notes", description="Record a meeting's notes and attendance")
    @app_commands.describe(meeting="The meeting (start typing its title)")
    @app_commands.guild_only()
    async def notes(self, interaction: discord.Interaction[HearthBot], meeting: str) -> None:
        found = await self.service.notes_target(
            meeting, interaction.guild_id, actor_of(interaction)
        )
        await interaction.response.send_modal(NotesModal(found, self.service))

    # ------------------------------------------------------------------ cancel
    @app_commands.command(name="cancel", description="Cancel a meeting (facilitators)")
    @app_commands.describe(meeting="The meeting (start typing its title)")
    @app_commands.guild_only()
    async def cancel(self, interaction: discord.Interaction[HearthBot], meeting: str) -> None:
        found = await self.service.cancel_target(
            meeting, interaction.guild_id, actor_of(interaction)
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            cancelled, told = await self.meetings.cancel(found, interaction.user.id)
        except discord.Forbidden as exc:
            raise MissingPermission(
                "Manage Events", "cancel the meeting's Discord event (nothing was changed)"
            ) from exc
        await interaction.followup.send(
            f"Cancelled **{escape_inline(cancelled.title)}** "
            f"({discord_timestamp(cancelled.start_utc, 'F')}). "
            "The Discord event and the announcement are updated; "
            + (
                "no one had said going or maybe, so there was no one to tell."
                if told == 0
                else f"I told {told} {'person' if told == 1 else 'people'} who had "
                "said going or maybe."
            ),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    notes.autocomplete("meeting")(meeting_autocomplete)
    cancel.autocomplete("meeting")(meeting_autocomplete)


__all__ = ["ONLINE", "MeetingsCog"]
