"""/document commands: collective documents built from consented quotes and proposals.

Thin on purpose: this class only declares the slash commands and hands each interaction to
:mod:`cogs.documents._flows` (which calls :class:`bot.services.documents.DocumentService`).
Other capabilities may add their own commands to this group (e.g. `/document comment`) with a
small edit here; keep their substance in their own modules too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions import community_autocomplete

if TYPE_CHECKING:
    from bot.app import HearthBot


class DocumentsCog(commands.GroupCog, group_name="document"):
    """Collective documents: create, quote, propose, export."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        pass

    async def cog_unload(self) -> None:
        pass

    @app_commands.command(name="create", description="Start a collective document (facilitators)")
    @app_commands.describe(community="The community", title="The document's title")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def create(
        self, interaction: discord.Interaction[HearthBot], community: str, title: str
    ) -> None:
        raise NotImplementedError
