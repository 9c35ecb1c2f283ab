"""Significant-change rounds (Most Significant Change): collect, select with reasons, feed back."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import HearthBot


async def setup(bot: HearthBot) -> None:
    from cogs.change._cog import ChangeCog

    await bot.add_cog(ChangeCog(bot))
