"""Meetings: the twice-yearly series, regional meetings, RSVPs, reminders and notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import HearthBot


async def setup(bot: HearthBot) -> None:
    from cogs.meetings._cog import MeetingsCog
    from cogs.meetings._views import AttendanceSelect, RSVPButton, WhoButton

    bot.add_dynamic_items(RSVPButton, WhoButton, AttendanceSelect)
    await bot.add_cog(MeetingsCog(bot))
