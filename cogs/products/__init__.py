"""Products: the impact log of what a group made, where it came from and where it went."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import HearthBot


async def setup(bot: HearthBot) -> None:
    from cogs.products._cog import ProductsCog

    await bot.add_cog(ProductsCog(bot))
