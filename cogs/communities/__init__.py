"""Communities: create, populate, link and archive community spaces."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import HearthBot


async def setup(bot: HearthBot) -> None:
    from cogs.communities._cog import CommunitiesCog

    await bot.add_cog(CommunitiesCog(bot))
