"""A meeting's announcement in the community's meetings channel: the card with the RSVP
buttons, the calendar links and the .ics file, the regional mentions, and its refresh when
the counts, the time or the status change."""

from __future__ import annotations

import io
import logging

import discord

from bot.domain.calendar_ics import meeting_ics, meeting_uid
from bot.domain.calendar_links import discord_event_url
from bot.domain.communities import Community
from bot.domain.meetings import Meeting
from bot.text import escape_inline
from cogs.meetings import _render
from cogs.meetings._discord import MENTIONS_PER_MESSAGE, DiscordSide
from cogs.meetings._views import announcement_view, calendar_details

log = logging.getLogger(__name__)


class Announcements(DiscordSide):
    async def ics_file(self, meeting: Meeting, community: Community) -> discord.File:
        """The meeting's .ics (a fresh file each time: a sent File is used up). Discord
        labels it ``text/calendar`` from its ``.ics`` name."""
        url = None
        if meeting.event_id is not None:
            url = discord_event_url(community.guild_id, meeting.event_id)
        data = meeting_ics(
            meeting_uid(meeting.id, await self.service.installation()),
            meeting.title,
            meeting.start_utc,
            meeting.end_utc,
            meeting.timezone,
            meeting.location,
            calendar_details(meeting, community),
            url,
            sequence=meeting.sequence,
            status="CANCELLED" if meeting.cancelled else "CONFIRMED",
            stamp=self.now(),
        )
        return discord.File(io.BytesIO(data), filename=f"meeting-{meeting.id}.ics")

    async def announce(self, community: Community, meeting: Meeting, problems: list[str]) -> None:
        """Post the card (mentioning a regional meeting's members) and store where it is."""
        channel = self.channel(community.meetings_id)
        if channel is None:
            problems.append("I could not find the community's meetings channel.")
            return
        meeting = await self.service.reload(meeting.id)  # with the event made just before
        counts = await self.service.counts(meeting.id)
        mentions = await self.service.region_members(community.id, meeting.region)
        content = None
        if meeting.region:
            content = f"A regional meeting for members in **{escape_inline(meeting.region)}**."
            if mentions:
                content += " " + " ".join(f"<@{u}>" for u in mentions[:MENTIONS_PER_MESSAGE])
        try:
            message = await channel.send(
                content=content,
                embed=_render.announcement_embed(meeting, community, counts),
                file=await self.ics_file(meeting, community),
                view=announcement_view(meeting, community),
                allowed_mentions=discord.AllowedMentions(
                    users=[discord.Object(u) for u in mentions[:MENTIONS_PER_MESSAGE]],
                    everyone=False,
                    roles=False,
                ),
            )
            for start in range(MENTIONS_PER_MESSAGE, len(mentions), MENTIONS_PER_MESSAGE):
                chunk = mentions[start : start + MENTIONS_PER_MESSAGE]
                await channel.send(
                    " ".join(f"<@{u}>" for u in chunk)
                    + f" (regional meeting: {escape_inline(meeting.title)})",
                    allowed_mentions=discord.AllowedMentions(
                        users=[discord.Object(u) for u in chunk], everyone=False, roles=False
                    ),
                )
        except discord.HTTPException as exc:
            log.warning("could not announce meeting %s: %s", meeting.id, exc)
            problems.append(
                "I could not post the announcement in the meetings channel "
                f"(Discord said: {exc.text or exc.status}). Check my permissions there."
            )
            return
        await self.service.set_announcement(meeting.id, message.channel.id, message.id)

    async def refresh(self, meeting: Meeting, *, with_file: bool = False) -> None:
        """Re-render the announcement (counts, a new time, or cancelled)."""
        channel = self.channel(meeting.announcement_channel_id)
        if channel is None or meeting.announcement_id is None:
            return
        community = await self.service.community(meeting)
        embed = _render.announcement_embed(
            meeting, community, await self.service.counts(meeting.id)
        )
        partial = discord.PartialMessage(channel=channel, id=meeting.announcement_id)  # type: ignore[arg-type]
        view = None if meeting.cancelled else announcement_view(meeting, community)
        try:
            if with_file:
                await partial.edit(
                    embed=embed, attachments=[await self.ics_file(meeting, community)], view=view
                )
            else:
                await partial.edit(embed=embed, view=view)
        except discord.HTTPException as exc:
            log.warning("could not update the announcement of meeting %s: %s", meeting.id, exc)
