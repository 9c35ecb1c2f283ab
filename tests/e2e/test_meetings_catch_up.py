"""Meeting reminders after downtime (issue 11): one reminder, the latest that still applies,
worded for the real time left; the ones passed over are recorded as skipped, not sent.

The clock only moves through world.advance / advance_to / clock.set; nothing sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.db.meetings import MeetingRepo
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.test_meetings_time import community_with, one_meeting, reminders_to

WEEK, DAY, HOUR = timedelta(days=7), timedelta(days=1), timedelta(hours=1)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now
        yield w


def repo(world: HearthWorld) -> MeetingRepo:
    assert world.db is not None
    return MeetingRepo(world.db)


async def test_back_after_8_days_down_sends_one_reminder_worded_for_the_time_left(
    world: HearthWorld,
) -> None:
    users = await community_with(world, alice=True, closed=False)
    meeting = await one_meeting(world)  # Wednesday 10 March 2027, 18:30 GMT
    start = meeting.start_utc
    await world.advance_to(start - timedelta(days=9))
    assert reminders_to(world, users["alice"]) == []

    # Down for 8 days, across the 7-day and the 1-day marks; back 20 hours before.
    await world.stop_bot()
    world.clock.set(start - timedelta(hours=20))
    await world.start_bot()
    await world.advance(timedelta(0))
    [reminder] = reminders_to(world, users["alice"])
    assert "starts tomorrow at 18:30 GMT, in 20 hours" in reminder, reminder
    assert f"<t:{int(start.timestamp())}:F>" in reminder
    assert "week" not in reminder and "about" not in reminder
    assert await repo(world).reminder_states(meeting.id) == {WEEK: "skipped", DAY: "sent"}
    assert {(o, outcome) for o, _, outcome in await repo(world).deliveries(meeting.id)} == {
        (DAY, "dm"), (DAY, "fallback")}, "nothing recorded as sent for the skipped one"
    [fallback] = [m.content for m in world.emu.messages_in(world.channel("carers-voice-meetings"))
                  if "I could not send you a direct message" in m.content]
    assert f"<@{users['closed'].id}>" in fallback

    # Restarts change nothing; the 1-hour reminder still comes, once, on time.
    await world.restart()
    await world.advance(timedelta(minutes=5))
    assert len(reminders_to(world, users["alice"])) == 1
    await world.advance_to(start - HOUR)
    await world.restart()
    await world.advance(timedelta(minutes=5))
    texts = reminders_to(world, users["alice"])
    assert len(texts) == 2 and "starts today at 18:30 GMT, in 1 hour" in texts[1], texts
    assert await repo(world).reminder_states(meeting.id) == {
        WEEK: "skipped", DAY: "sent", HOUR: "sent"}


async def test_interrupted_7_day_reminder_is_not_finished_days_later_beside_the_1_day_one(
    world: HearthWorld,
) -> None:
    """The pair the issue saw: a crash in the middle of the 7-day reminder, back one day
    before. Only the 1-day reminder goes out, to everyone, alice included."""
    users = await community_with(world, alice=True, bob=True)
    meeting = await one_meeting(world)
    start = meeting.start_utc
    assert world.db is not None
    # As the crash left it: the 7-day reminder claimed, alice told, bob not yet.
    world.clock.set(start - WEEK)
    assert await repo(world).claim_reminder(meeting.id, WEEK, world.clock.now())
    await repo(world).record_delivery(meeting.id, WEEK, users["alice"].id, "dm")

    await world.stop_bot()
    world.clock.set(start - timedelta(hours=20))
    await world.start_bot()
    await world.advance(timedelta(0))
    for name in ("bob", "alice"):
        [reminder] = reminders_to(world, users[name])
        assert "tomorrow at 18:30 GMT, in 20 hours" in reminder, (name, reminder)
    assert await repo(world).reminder_states(meeting.id) == {WEEK: "skipped", DAY: "sent"}
    week = {u for o, u, _ in await repo(world).deliveries(meeting.id) if o == WEEK}
    assert week == {users["alice"].id}, "who the 7-day reminder reached stays recorded"
    await world.restart()
    await world.advance(timedelta(hours=1))
    assert len(reminders_to(world, users["bob"])) == 1
