"""Stories: prompts, capture (modal and context menu), consent and withdrawal."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import HearthBot


async def setup(bot: HearthBot) -> None:
    from cogs.stories._cog import StoriesCog

    await bot.add_cog(StoriesCog(bot))
