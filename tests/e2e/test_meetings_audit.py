"""Meetings promises not covered elsewhere: reminder offsets come from config, and a meeting
whose Discord event id cannot be stored leaves no event behind (nothing half-stored)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.db.meetings import MeetingRepo
from bot.services.meetings import MeetingService
from tests.e2e.hearth import HearthWorld, hearth_world

COMMUNITY = "Carers Voice"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now
        yield w


def reminders_to(world: HearthWorld, user: Any) -> list[str]:
    return [m.content for m in world.emu.dms_to(user) if m.content.startswith("Reminder:")]


async def test_reminder_offsets_come_from_config(world: HearthWorld) -> None:
    await world.stop_bot()
    meetings = world.config.meetings.model_copy(update={"reminders": ["2d", "30m"]})
    world.config = world.config.model_copy(update={"meetings": meetings})
    await world.start_bot()
    alice = world.person("alice")
    await world.create_community(COMMUNITY, members={alice: "carer"})
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Spring gathering", when="2027-03-10 18:30")  # fmt: skip
    assert "Scheduled" in rec.content, rec.content
    assert world.db is not None
    [meeting] = await MeetingRepo(world.db).upcoming(1, world.clock.now())
    start = meeting.start_utc
    await world.advance_to(start - timedelta(days=7))  # a default offset: nothing now
    await world.advance_to(start - timedelta(days=2, minutes=1))
    assert reminders_to(world, alice) == []
    await world.advance_to(start - timedelta(days=2))
    assert len(reminders_to(world, alice)) == 1
    await world.advance_to(start - timedelta(hours=1))
    assert len(reminders_to(world, alice)) == 1, "1 hour is not configured"
    await world.advance_to(start - timedelta(minutes=30))
    assert len(reminders_to(world, alice)) == 2
    await world.advance_to(start + timedelta(hours=1))
    assert len(reminders_to(world, alice)) == 2


async def test_event_is_deleted_again_when_its_id_cannot_be_stored(world: HearthWorld) -> None:
    await world.create_community(COMMUNITY, members={world.person("alice"): "carer"})
    assert world.bot is not None
    service = world.bot.services.get(MeetingService)
    real = service.repo.set_event

    async def failing(meeting_id: int, event_id: int | None, problem: str | None) -> None:
        if event_id is not None:
            raise sqlite3.OperationalError("disk I/O error (injected)")
        await real(meeting_id, event_id, problem)

    service.repo.set_event = failing  # type: ignore[method-assign]
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Spring gathering", when="2027-03-10 18:30")  # fmt: skip
    assert rec.ephemeral and "Nothing was half-saved" in rec.all_text, rec.all_text
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM meetings") == 0
    assert world.emu.scheduled_events(world.guild) == [], "no Discord event without a meeting"
    assert [m for m in world.emu.messages_in(world.channel("carers-voice-meetings"))
            if m.embeds] == []  # fmt: skip

    service.repo.set_event = real  # type: ignore[method-assign] # the same command then works
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Spring gathering", when="2027-03-10 18:30")  # fmt: skip
    assert "Scheduled" in rec.content, rec.content
    assert len(world.emu.scheduled_events(world.guild)) == 1
