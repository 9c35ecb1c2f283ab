"""Polls: single, multiple, ranked, agreement and survey polls with anonymous ballots."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import HearthBot


async def setup(bot: HearthBot) -> None:
    from cogs.polls._cog import PollsCog

    await bot.add_cog(PollsCog(bot))
