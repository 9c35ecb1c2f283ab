"""Collective documents: sections built from consented quotes and members' proposals."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import HearthBot


async def setup(bot: HearthBot) -> None:
    from cogs.documents._cog import DocumentsCog

    await bot.add_cog(DocumentsCog(bot))
