"""Value-creation stories on Discord (in progress)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.errors import Conflict

if TYPE_CHECKING:
    from bot.app import HearthBot

INVITATION_CADENCES = [
    app_commands.Choice(name="Every quarter", value="quarterly"),
    app_commands.Choice(name="Every month", value="monthly"),
    app_commands.Choice(name="Stop the invitations", value="off"),
]

_NOT_YET = "Value stories are not ready yet; try again after the next update."


class ValueStories:
    """The value-story half of the /value cog."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    async def load(self) -> None:
        return None

    async def unload(self) -> None:
        return None

    async def tell(
        self, interaction: discord.Interaction[HearthBot], community: str, consent: str
    ) -> None:
        raise Conflict(_NOT_YET)

    async def own_autocomplete(
        self, interaction: discord.Interaction[HearthBot], current: str
    ) -> list[app_commands.Choice[int]]:
        return []

    async def change_consent(
        self, interaction: discord.Interaction[HearthBot], story: int, level: str
    ) -> None:
        raise Conflict(_NOT_YET)

    async def set_prompt(
        self, interaction: discord.Interaction[HearthBot], community: str, cadence: str
    ) -> None:
        raise Conflict(_NOT_YET)
