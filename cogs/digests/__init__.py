"""Digests: the weekly picture of a community's value, for its sponsor."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import HearthBot


async def setup(bot: HearthBot) -> None:
    from cogs.digests._cog import DigestsCog

    await bot.add_cog(DigestsCog(bot))
