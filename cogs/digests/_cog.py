"""/digest commands and the message counter: a thin layer over the digest service."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.choices import WEEKDAYS, timezone_autocomplete
from bot.domain.digest import DigestRecord, Period
from bot.domain.digest_render import local_time, period_label
from bot.interactions import NO_MENTIONS, community_autocomplete, facilitated_community
from bot.services.digests import DigestService
from bot.text import escape_inline
from cogs.digests._counter import MessageCounter
from cogs.digests._delivery import (
    JOB_PREFIX,
    SWEEP_JOB,
    DigestDelivery,
    ManualSend,
    Outcome,
    job_id,
)
from cogs.digests._views import DYNAMIC_ITEMS

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

#: How often buffered message counts are written (they are also written before any digest).
FLUSH_SECONDS = 30.0


class DigestsCog(commands.GroupCog, group_name="digest"):
    """The weekly sponsor digest: preview, send now, and schedule."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.service = DigestService(bot.db, bot.communities, bot.config, bot.clock)
        self.counter = MessageCounter(bot, self.service)
        self.service.flush = self.counter.flush  # a digest reads every count written first
        self.delivery = DigestDelivery(bot, self.service, self.counter)

    async def cog_load(self) -> None:
        self.bot.services.register(self.service)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)  # the sponsor's stop/start e-mails button
        # The database is the truth: every community's next digest (or retry) is re-armed.
        await self.delivery.arm_all()
        self.bot.scheduler.schedule(
            SWEEP_JOB, self.bot.clock.now(), self.delivery.sweep, guild_id=None, per_process=True
        )
        self._flush_loop.start()
        # A hook, not a Cog.listener: no task of its own per message (see HearthBot).
        self.bot.message_hooks.append(self.counter.on_message)

    async def cog_unload(self) -> None:
        self.bot.services.unregister(self.service)
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        if self.counter.on_message in self.bot.message_hooks:
            self.bot.message_hooks.remove(self.counter.on_message)
        self._flush_loop.cancel()
        self.bot.scheduler.cancel_prefix(JOB_PREFIX)
        await self.counter.flush()

    @tasks.loop(seconds=FLUSH_SECONDS)
    async def _flush_loop(self) -> None:
        try:
            await self.counter.flush()
        except Exception:
            log.exception("periodic flush of message counts failed")

    # ------------------------------------------------------------------ counting
    @commands.Cog.listener()
    async def on_community_archived(self, community_id: int) -> None:
        self.bot.scheduler.cancel(job_id(community_id))

    # ------------------------------------------------------------------ commands
    @app_commands.command(name="preview", description="See exactly what the sponsor would get")
    @app_commands.describe(community="The community")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def preview(self, interaction: discord.Interaction[HearthBot], community: str) -> None:
        comm, _ = await facilitated_community(interaction, community)
        period, late = await self.service.next_period(comm)
        await interaction.response.defer(ephemeral=True, thinking=True)
        package = await self.delivery.build(comm, period, late=late)
        for embeds, files in package.discord_messages():
            await interaction.followup.send(
                embeds=embeds, files=files, ephemeral=True, allowed_mentions=NO_MENTIONS
            )

    @app_commands.command(name="send", description="Send the digest to the sponsor now")
    @app_commands.describe(community="The community")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def send(self, interaction: discord.Interaction[HearthBot], community: str) -> None:
        comm, _ = await facilitated_community(interaction, community)
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.delivery.send_now(comm)
        tz = (await self.service.schedule_for(comm.id)).timezone
        await interaction.followup.send(
            self._manual_reply(comm.name, result, tz),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await self.delivery.arm(comm)

    @staticmethod
    def _span(period: Period, tz: str) -> str:
        """A digest's label and its exact local start and end, as facilitators read it."""
        span = f"{local_time(period.start, tz)} → {local_time(period.end, tz)}"
        return f"{period_label(period, tz)} ({span})"

    @classmethod
    def _describe(cls, o: Outcome, tz: str) -> str:
        what = cls._span(o.record.period, tz)
        if o.state == "sent":
            how = "by direct message" + (" and e-mail" if o.email_sent else "")
            late = " (late)" if o.record.late else ""
            return f"Sent the digest for {what}{late} to the sponsor {how}."
        if o.state == "retrying" and o.retry_at is not None:
            return (
                f"Could not deliver the digest for {what}: {'; '.join(o.errors)}. "
                f"I will retry {discord.utils.format_dt(o.retry_at, 'R')}."
            )
        return f"The digest for {what} was not delivered: {'; '.join(o.errors)}."

    @classmethod
    def _already(cls, rec: DigestRecord | None, tz: str) -> str:
        """What the sponsor already has (or was meant to get): the last digest before."""
        if rec is None:
            return "No digest was sent before this one."
        what = cls._span(rec.period, tz)
        if rec.state == "sent" and rec.sent_at is not None:
            return f"Already sent: the digest for {what}, delivered {local_time(rec.sent_at, tz)}."
        if rec.state == "pending":
            return f"Already on its way: the digest for {what} (delivery is being retried)."
        if rec.state == "skipped":
            return f"The digest for {what} was not sent: there was no sponsor then."
        return f"The digest for {what} could not be delivered."

    @classmethod
    def _manual_reply(cls, name: str, result: ManualSend, tz: str) -> str:
        lines = [cls._describe(o, tz) for o in result.outcomes]
        if result.nothing_since is not None:
            lines.append(
                f"Nothing has happened in **{escape_inline(name)}** since "
                f"{local_time(result.nothing_since, tz)} (no messages, stories, poll or "
                "statement results, meetings, or members joining or leaving), so I sent "
                "nothing rather than an empty digest."
            )
        lines.append(cls._already(result.previous, tz))
        if result.outcomes and result.nothing_since is None:
            lines.append(
                "Nothing is sent twice: each digest starts where the one before it ended, "
                "and the next scheduled digest starts where this one ends."
            )
        return "\n".join(lines)

    @app_commands.command(name="schedule", description="Set when the weekly digest is sent")
    @app_commands.describe(
        community="The community",
        weekday="The day the digest is sent",
        time="Local time of day, HH:MM (24-hour), e.g. 09:00",
        timezone="Timezone, e.g. Europe/London (start typing a city; default from config)",
    )
    @app_commands.choices(weekday=WEEKDAYS)
    @app_commands.autocomplete(community=community_autocomplete, timezone=timezone_autocomplete)
    @app_commands.guild_only()
    async def schedule(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        weekday: str,
        time: str,
        timezone: str | None = None,
    ) -> None:
        comm, actor = await facilitated_community(interaction, community)
        sched = await self.service.set_schedule(comm.id, weekday, time, timezone, actor.user_id)
        when = await self.delivery.arm(comm)
        nxt = f" Next digest {discord.utils.format_dt(when, 'F')}." if when else ""
        await interaction.response.send_message(
            f"The digest of **{escape_inline(comm.name)}** now goes out {sched.describe()}.{nxt}",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
