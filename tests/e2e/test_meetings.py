"""Meetings end to end: scheduling, events, announcements, RSVPs, .ics, list, cancel, notes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.db.meetings import MeetingRepo, held_for_digest, upcoming_for_digest
from bot.domain.meetings import RSVP
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.emulator.state import ChannelType, MessageState, UserState

LONDON = ZoneInfo("Europe/London")


def only_our_cogs(package: Any = None) -> Iterator[str]:
    """Load just the capabilities meetings depend on, so other cogs' work in progress in the
    same tree cannot break (or slow) these tests."""
    yield "cogs.communities"
    yield "cogs.meetings"


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[HearthWorld]:
    monkeypatch.setattr("bot.app.walk_extensions", only_our_cogs)
    async with hearth_world(tmp_path) as w:
        yield w


async def setup_community(world: HearthWorld, **members: str) -> dict[str, UserState]:
    people = {name: world.person(name) for name in members}
    await world.create_community(
        "Carers Voice", members={people[n]: d for n, d in members.items()}
    )
    return people


def announcements(world: HearthWorld) -> list[MessageState]:
    return [
        m for m in world.emu.messages_in(world.channel("carers-voice-meetings")) if m.embeds
    ]


def repo(world: HearthWorld) -> MeetingRepo:
    assert world.db is not None
    return MeetingRepo(world.db)


def parse_ics(message: MessageState) -> Any:
    [att] = [a for a in message.attachments if a.filename.endswith(".ics")]
    return icalendar.Calendar.from_ical(att.data)


async def test_schedule_creates_event_announcement_and_ics(world: HearthWorld) -> None:
    await setup_community(world, alice="carer")
    rec = await world.slash(
        world.owner, "meeting schedule", community="Carers Voice",
        title="Spring gathering", when="2027-03-10 18:30", location="Town Hall, Leeds",
    )
    assert rec.ephemeral
    assert "Scheduled **Spring gathering**" in rec.content, rec.content
    start = datetime(2027, 3, 10, 18, 30, tzinfo=UTC)  # GMT in March before the change
    assert f"<t:{int(start.timestamp())}:F>" in rec.content

    [meeting] = await repo(world).upcoming((await world.community_row("Carers Voice")).id,
                                           world.clock.now())
    assert meeting.start_utc == start
    assert meeting.end_utc == start + timedelta(minutes=120)  # default from config
    assert meeting.timezone == "Europe/London"

    [event] = world.emu.scheduled_events(world.guild)
    assert event.id == meeting.event_id
    assert event.entity_type == 3 and event.location == "Town Hall, Leeds"
    assert event.name == "Spring gathering"
    assert datetime.fromisoformat(event.scheduled_start_time) == start
    assert datetime.fromisoformat(event.scheduled_end_time or "") == start + timedelta(hours=2)

    [msg] = announcements(world)
    assert msg.id == meeting.announcement_id
    ids = [c["custom_id"] for row in msg.components for c in row["components"]]
    assert ids == [f"rsvp:{meeting.id}:going", f"rsvp:{meeting.id}:maybe",
                   f"rsvp:{meeting.id}:cant"]
    cal = parse_ics(msg)
    [vevent] = cal.walk("VEVENT")
    local_start = vevent.decoded("DTSTART")
    assert local_start.replace(tzinfo=None) == datetime(2027, 3, 10, 18, 30)
    assert str(vevent["DTSTART"].params["TZID"]) == "Europe/London"
    assert local_start.astimezone(UTC) == start
    assert vevent.decoded("DTEND").astimezone(UTC) == start + timedelta(hours=2)
    assert str(vevent["SUMMARY"]) == "Spring gathering"
    assert str(vevent["LOCATION"]) == "Town Hall, Leeds"
