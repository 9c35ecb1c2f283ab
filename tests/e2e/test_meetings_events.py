"""Meetings' Discord events stay in step with the meetings across crashes and refusals.

No Discord event is left without a meeting: every event Hearth makes carries a marker line
("Hearth meeting #<id>"), and at start-up a reconcile re-links an event whose id was never
stored (the process died right after creating it), deletes Hearth's events no meeting
points to, and makes meetings stop pointing at events that are gone. Events Hearth did not
create are never touched. A Discord refusal to move an event is recorded and retried until
the event shows the meeting's time; the facilitator is told once, in the command's reply.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db.meetings import MeetingRepo
from bot.services.meetings import MeetingService
from cogs.meetings._events import (
    EVENT_DESCRIPTION_MAX,
    EVENT_RETRY,
    event_description,
    event_marker,
    marked_meeting_id,
)
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.emulator.server import RequestLog
from tests.emulator.state import ScheduledEventState, snowflake

COMMUNITY = "Carers Voice"
MISSING_PERMISSIONS = {"message": "Missing Permissions", "code": 50013}
EVENT_PATH = r"^/guilds/\d+/scheduled-events/\d+$"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now
        yield w


def repo(world: HearthWorld) -> MeetingRepo:
    assert world.db is not None
    return MeetingRepo(world.db)


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def event_writes(world: HearthWorld, since: int) -> list[RequestLog]:
    """PATCH/DELETE calls on scheduled events after request number ``since``."""
    return [
        r for r in world.emu.requests[since:]
        if r.method in ("PATCH", "DELETE") and "/scheduled-events/" in r.path
    ]


async def schedule(world: HearthWorld, title: str, when: str) -> int:
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title=title, when=when)  # fmt: skip
    assert "Scheduled" in rec.content, rec.content
    assert world.db is not None
    mid = await world.db.fetchval("SELECT id FROM meetings WHERE title = :title", {"title": title})
    assert isinstance(mid, int)
    return mid


def foreign_event(world: HearthWorld, description: str) -> ScheduledEventState:
    """An event a person made in Discord (even one whose text looks like Hearth's)."""
    ev = ScheduledEventState(
        id=snowflake(), guild_id=world.guild.id, name="Bake sale",
        scheduled_start_time="2027-04-01T10:00:00+00:00",
        scheduled_end_time="2027-04-01T12:00:00+00:00",
        entity_type=3, creator_id=world.owner.id, description=description, location="Hall",
    )
    world.guild.events[ev.id] = ev
    return ev


def test_marker_round_trips_and_fits_discords_description_limit() -> None:
    text = event_description("x" * 100, 123456)
    assert len(text) <= EVENT_DESCRIPTION_MAX
    assert text.endswith("\n\nHearth meeting #123456")
    assert marked_meeting_id(text) == 123456
    long = event_description("y" * 2000, 7)  # whatever the name, the marker survives
    assert len(long) <= EVENT_DESCRIPTION_MAX and marked_meeting_id(long) == 7
    assert marked_meeting_id(None) is None
    assert marked_meeting_id("Bring a cake. Hearth meeting #5 is elsewhere") is None
    assert event_marker(9) == "Hearth meeting #9"


@pytest.mark.sqlite_only("edits the SQLite file while the bot is stopped")
async def test_restart_relinks_an_event_whose_id_was_never_stored(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await world.create_community(COMMUNITY, members={world.person("alice"): "carer"})
    crashed = await schedule(world, "Spring gathering", "2027-03-10 18:30")
    intact = await schedule(world, "Autumn gathering", "2027-09-08 18:30")
    orphan_id = (await repo(world).get(crashed)).event_id  # type: ignore[union-attr]
    intact_event = (await repo(world).get(intact)).event_id  # type: ignore[union-attr]
    assert orphan_id is not None and intact_event is not None
    assert marked_meeting_id(world.guild.events[orphan_id].description) == crashed
    theirs = foreign_event(world, f"Not ours.\n\n{event_marker(crashed)}")

    # The crash: the event was created, then the process died before its id was stored.
    await world.stop_bot()
    conn = sqlite3.connect(world.db_path)
    conn.execute("UPDATE meetings SET event_id = NULL WHERE id = :id", {"id": crashed})
    conn.commit()
    conn.close()
    await world.start_bot()
    mark = len(world.emu.requests)
    await world.advance(timedelta(seconds=1))

    relinked = await repo(world).get(crashed)
    assert relinked is not None and relinked.event_id == orphan_id
    assert relinked.event_problem is None
    kept = await repo(world).get(intact)
    assert kept is not None and kept.event_id == intact_event
    assert {e.id for e in world.emu.scheduled_events(world.guild)} == {
        orphan_id, intact_event, theirs.id
    }
    assert event_writes(world, mark) == [], "nothing was edited or deleted"
    assert any(r.method == "GET" and r.path.endswith("/scheduled-events")
               for r in world.emu.requests[mark:])  # fmt: skip
    # The re-linked event is the meeting's again: cancelling the meeting cancels it.
    rec = await world.slash(world.owner, "meeting cancel", meeting=str(crashed))
    assert "Cancelled **Spring gathering**" in rec.content, rec.content
    assert world.guild.events[orphan_id].status == 4
    assert not errors(caplog), errors(caplog)


async def test_restart_deletes_hearths_event_whose_meeting_was_rolled_back(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await world.create_community(COMMUNITY, members={world.person("alice"): "carer"})
    other = await schedule(world, "Autumn gathering", "2027-09-08 18:30")
    other_event = (await repo(world).get(other)).event_id  # type: ignore[union-attr]
    theirs = foreign_event(world, "Cakes for the charity.")
    lookalike = foreign_event(world, event_marker(99))
    assert world.bot is not None
    service = world.bot.services.get(MeetingService)
    real = service.repo.set_event

    async def failing(meeting_id: int, event_id: int | None, problem: str | None) -> None:
        if event_id is not None:
            raise sqlite3.OperationalError("disk I/O error (injected)")
        await real(meeting_id, event_id, problem)

    # Storing the event id fails and so does deleting the event again: it is left behind.
    service.repo.set_event = failing  # type: ignore[method-assign]
    delete = world.emu.fail_route("DELETE", EVENT_PATH, 403, json=MISSING_PERMISSIONS)
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Spring gathering", when="2027-03-10 18:30")  # fmt: skip
    assert rec.ephemeral and "Nothing was half-saved" in rec.all_text, rec.all_text
    assert delete.times == 0, "the fault must really bite"
    assert world.db is not None
    assert await world.db.fetchval(
        "SELECT COUNT(*) FROM meetings WHERE title = 'Spring gathering'") == 0
    [orphan] = [e for e in world.emu.scheduled_events(world.guild)
                if e.name == "Spring gathering"]  # fmt: skip
    caplog.clear()  # the failed rollback was logged; what follows must be clean

    await world.restart()
    mark = len(world.emu.requests)
    await world.advance(timedelta(seconds=1))
    assert orphan.deleted, "no Discord event left without a meeting"
    assert [(r.method, r.path) for r in event_writes(world, mark)] == [
        ("DELETE", f"/guilds/{world.guild.id}/scheduled-events/{orphan.id}")
    ]
    assert {e.id for e in world.emu.scheduled_events(world.guild)} == {
        other_event, theirs.id, lookalike.id
    }
    kept = await repo(world).get(other)
    assert kept is not None and kept.event_id == other_event
    # A second start-up finds nothing left to do.
    await world.restart()
    mark = len(world.emu.requests)
    await world.advance(timedelta(seconds=1))
    assert event_writes(world, mark) == []
    assert not errors(caplog), errors(caplog)


async def test_restart_forgets_an_event_deleted_while_offline(world: HearthWorld) -> None:
    await world.create_community(COMMUNITY, members={world.person("alice"): "carer"})
    mid = await schedule(world, "Spring gathering", "2027-03-10 18:30")
    event_id = (await repo(world).get(mid)).event_id  # type: ignore[union-attr]
    assert event_id is not None
    await world.stop_bot()
    world.guild.events[event_id].deleted = True  # the bot never sees the gateway event
    await world.start_bot()
    await world.advance(timedelta(seconds=1))
    meeting = await repo(world).get(mid)
    assert meeting is not None and not meeting.cancelled
    assert meeting.event_id is None, "no meeting left pointing at a deleted event"
    assert meeting.event_problem == "The Discord event was deleted."


async def series_with_refused_edits(world: HearthWorld, refusals: int) -> tuple[int, int]:
    await world.create_community(COMMUNITY, members={world.person("alice"): "carer"})
    await world.slash(world.owner, "meeting series", community=COMMUNITY)
    [march, september] = await repo(world).series_meetings(1)
    assert march.event_id is not None and september.event_id is not None
    rule = world.emu.fail_route("PATCH", EVENT_PATH, 403, json=MISSING_PERMISSIONS,
                                times=refusals)  # fmt: skip
    rec = await world.slash(world.owner, "meeting series", community=COMMUNITY, time="19:00")
    assert "Moved 2 meeting(s)" in rec.content, rec.content
    assert rec.content.count("could not update the Discord event") == 2, rec.content
    assert "still shows the old time" in rec.content and "keep trying" in rec.content
    assert "Missing Permissions" in rec.content
    assert rule.times == max(0, refusals - 2)
    for m in (march, september):
        assert await repo(world).event_stale_since(m.id) is not None
    # Hearth has moved; the events still show 18:30 local.
    assert world.guild.events[march.event_id].scheduled_start_time.startswith(
        "2027-03-10T18:30")
    return march.id, september.id


async def assert_events_moved(world: HearthWorld, march: int, september: int) -> None:
    for mid, start in ((march, datetime(2027, 3, 10, 19, tzinfo=UTC)),
                       (september, datetime(2027, 9, 8, 18, tzinfo=UTC))):  # fmt: skip
        meeting = await repo(world).get(mid)
        assert meeting is not None and meeting.start_utc == start
        assert meeting.event_id is not None
        event = world.guild.events[meeting.event_id]
        assert datetime.fromisoformat(event.scheduled_start_time) == start
        assert datetime.fromisoformat(event.scheduled_end_time or "") == meeting.end_utc
        assert await repo(world).event_stale_since(mid) is None


async def test_a_refused_event_edit_is_retried_until_it_goes_through(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    march, september = await series_with_refused_edits(world, refusals=3)
    told = len(world.emu.dms_to(world.owner))
    # The first retry is refused too (the third refusal); the next one goes through.
    await world.advance(EVENT_RETRY)
    stale = [m for m in (march, september) if await repo(world).event_stale_since(m)]
    assert len(stale) == 1
    await world.advance(EVENT_RETRY)
    await assert_events_moved(world, march, september)
    mark = len(world.emu.requests)
    await world.advance(EVENT_RETRY * 3)
    assert event_writes(world, mark) == [], "no retries once the events are right"
    assert len(world.emu.dms_to(world.owner)) == told, "the facilitator was told once"
    assert not errors(caplog), errors(caplog)


async def test_a_refused_event_edit_is_retried_after_a_restart(world: HearthWorld) -> None:
    march, september = await series_with_refused_edits(world, refusals=2)
    await world.restart()
    await world.advance(timedelta(seconds=1))
    await assert_events_moved(world, march, september)


async def test_no_retry_for_a_cancelled_meeting(world: HearthWorld) -> None:
    march, _ = await series_with_refused_edits(world, refusals=2)
    rec = await world.slash(world.owner, "meeting cancel", meeting=str(march))
    assert "Cancelled" in rec.content, rec.content
    assert await repo(world).event_stale_since(march) is None
    assert world.bot is not None
    assert f"meeting:{march}:event" not in world.bot.scheduler.jobs()
