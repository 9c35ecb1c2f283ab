"""Value made visible: value-creation stories, their prompts, the value report."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import HearthBot


async def setup(bot: HearthBot) -> None:
    from cogs.value._cog import ValueCog

    await bot.add_cog(ValueCog(bot))
