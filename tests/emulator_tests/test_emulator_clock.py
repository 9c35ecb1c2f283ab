"""The emulator's clock: Discord's "now" can follow a test's fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.emulator_tests.bot_under_test import TestBot
from tests.emulator_tests.conftest import World

pytestmark = pytest.mark.e2e


async def test_scheduled_event_past_check_uses_the_emulator_clock(
    world: World, bot: TestBot
) -> None:
    emu, guild = world.emu, world.guild
    emu.clock = lambda: datetime.now(UTC) + timedelta(days=30)
    rec = await emu.slash(guild, world.owner, "community event", title="Too soon", days=7)
    assert rec.content == "failed 400 50035", "7 days ahead of real time is past for Discord"
    rec = await emu.slash(guild, world.owner, "community event", title="Later", days=60)
    assert rec.content.startswith("event ")
    assert [e.name for e in emu.scheduled_events(guild)] == ["Later"]
