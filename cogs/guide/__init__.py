"""The way in: /help, and the welcome a server gets once when Hearth joins it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import HearthBot


async def setup(bot: HearthBot) -> None:
    from cogs.guide._cog import GuideCog

    await bot.add_cog(GuideCog(bot))
