"""Privacy: a member's own data export and erasure, and the retention job."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import HearthBot


async def setup(bot: HearthBot) -> None:
    from cogs.privacy._cog import PrivacyCog

    await bot.add_cog(PrivacyCog(bot))
