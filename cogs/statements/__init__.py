"""Statements: members add short statements, vote agree / disagree / pass in rounds."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import HearthBot


async def setup(bot: HearthBot) -> None:
    from cogs.statements._cog import StatementsCog

    await bot.add_cog(StatementsCog(bot))
