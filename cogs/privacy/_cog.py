"""/privacy export and /privacy forget (anyone, in a server or in DMs), and retention."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions import NO_MENTIONS, linkify
from bot.services.privacy import PrivacyService
from cogs.privacy._tidy import DM_CLOSED, JOB_PREFIX, DigestCounts, PrivacyDiscord
from cogs.privacy._views import CONFIRM_TEXT, DYNAMIC_ITEMS, confirm_view

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

EXPORT_SENT = (
    "I have sent your data to your DMs: a summary in plain words, and the complete copy as "
    "a JSON file."
)
DMS_CLOSED = (
    "I could not send you a DM, so nothing was sent. Your data is only ever sent to your "
    "DMs: allow direct messages from this server's members (Server menu › Privacy Settings › "
    "Direct Messages), then run `/privacy export` again."
)


class PrivacyCog(commands.GroupCog, group_name="privacy"):
    """A member's own data: export it, or erase it."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.service = PrivacyService(
            bot.db, bot.clock, bot.config.privacy.retention_days, DigestCounts(bot)
        )
        self.discord = PrivacyDiscord(bot, self.service)

    async def cog_load(self) -> None:
        self.bot.services.register(self.service)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        # Nothing to rebuild but the daily job; the first run catches up after downtime.
        self.discord.arm_retention(first=True)

    async def cog_unload(self) -> None:
        self.bot.scheduler.cancel_prefix(JOB_PREFIX)
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.services.unregister(self.service)

    @app_commands.command(name="export", description="Get everything Hearth holds about you")
    async def export(self, interaction: discord.Interaction[HearthBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        files = await self.discord.export_file(interaction.user.id)
        try:
            await interaction.user.send(
                "Here is everything Hearth holds about you: the summary file reads in plain "
                "words; the JSON file is the complete copy for computers.", files=files,
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            if isinstance(exc, discord.Forbidden) or exc.code == DM_CLOSED:
                await interaction.followup.send(linkify(DMS_CLOSED), ephemeral=True)
                return
            raise
        await interaction.followup.send(EXPORT_SENT, ephemeral=True)

    @app_commands.command(name="forget", description="Erase everything Hearth holds about you")
    async def forget(self, interaction: discord.Interaction[HearthBot]) -> None:
        await interaction.response.send_message(
            linkify(CONFIRM_TEXT), view=confirm_view(interaction.user.id), ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
