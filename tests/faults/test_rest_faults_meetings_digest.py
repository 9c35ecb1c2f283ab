"""REST 403/404 faults on the sponsor digest and on meetings' Discord events.

The digest DM refused (404 Unknown Channel, 403 Missing Access) is retried and reported to
the facilitator, then delivered exactly once. A meeting whose Discord event vanished while
the bot was offline (404, no gateway event) can still be cancelled or moved, and stops
pointing at the event; an event edit or cancel Discord refuses (403) is reported, and a
refused cancel changes nothing. Nothing unexpected is logged at ERROR.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db.meetings import MeetingRepo
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.test_digest import digests_in

COMMUNITY = "Carers Voice"
DUE_1 = datetime(2027, 1, 18, 9, tzinfo=UTC)  # the default digest time (Monday 09:00 GMT)
MISSING_PERMISSIONS = {"message": "Missing Permissions", "code": 50013}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now
        yield w


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def repo(world: HearthWorld) -> MeetingRepo:
    assert world.db is not None
    return MeetingRepo(world.db)


async def digest_rows(world: HearthWorld) -> list[tuple[str, int]]:
    assert world.db is not None
    rows = await world.db.fetchall("SELECT state, attempts FROM digests ORDER BY id")
    return [(r[0], r[1]) for r in rows]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, {"message": "Unknown Channel", "code": 10003}),
        (403, {"message": "Missing Access", "code": 50001}),
    ],
)
async def test_digest_dm_refused_is_retried_reported_and_sent_once(
    world: HearthWorld, caplog: pytest.LogCaptureFixture, status: int, body: dict[str, object]
) -> None:
    caplog.set_level(logging.INFO)
    sponsor = world.person("sponsor")
    await world.create_community(COMMUNITY, members={world.person("alice"): "carer"})
    rec = await world.slash(world.owner, "community sponsor", community=COMMUNITY,
                            member=sponsor)  # fmt: skip
    assert "now the sponsor" in rec.content, rec.content
    # The first message the bot sends at the due time is the sponsor's digest DM.
    rule = world.emu.fail_route("POST", r"^/channels/\d+/messages$", status, json=body)
    await world.advance_to(DUE_1)
    assert rule.times == 0, "the fault must really bite"
    assert digests_in(world.emu.dms_to(sponsor)) == []
    assert await digest_rows(world) == [("pending", 1)]
    told = [m.content for m in world.emu.dms_to(world.owner)
            if "could not be delivered" in m.content]  # fmt: skip
    assert len(told) == 1 and f"({status} {body['code']})" in told[0], told

    await world.advance(timedelta(seconds=world.config.digest.retry_backoff_seconds[0]))
    assert len(digests_in(world.emu.dms_to(sponsor))) == 1
    assert await digest_rows(world) == [("sent", 1)]
    await world.restart()
    await world.advance(timedelta(hours=1))
    assert len(digests_in(world.emu.dms_to(sponsor))) == 1, "never sent twice"
    assert not errors(caplog), errors(caplog)


async def schedule(world: HearthWorld, when: str = "2027-03-10 18:30") -> int:
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Spring gathering", when=when)  # fmt: skip
    assert "Scheduled" in rec.content and "Events list" in rec.content, rec.content
    [meeting] = await repo(world).upcoming(1, world.clock.now())
    return meeting.id


async def event_vanishes_while_offline(world: HearthWorld, event_id: int) -> None:
    """Someone deletes the event while the bot is down: it never sees the gateway event."""
    await world.stop_bot()
    world.guild.events[event_id].deleted = True
    await world.start_bot()


async def test_cancel_a_meeting_whose_event_vanished_while_offline(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await world.create_community(COMMUNITY, members={world.person("alice"): "carer"})
    mid = await schedule(world)
    meeting = await repo(world).get(mid)
    assert meeting is not None and meeting.event_id is not None
    await event_vanishes_while_offline(world, meeting.event_id)

    rec = await world.slash(world.owner, "meeting cancel", meeting=str(mid))
    assert "Cancelled **Spring gathering**" in rec.content, rec.content
    assert any(r.status == 404 and "scheduled-events" in r.path for r in world.emu.requests)
    cancelled = await repo(world).get(mid)
    assert cancelled is not None and cancelled.cancelled
    assert world.emu.scheduled_events(world.guild) == []
    assert not errors(caplog), errors(caplog)


async def test_series_move_when_the_event_vanished_or_its_edit_is_refused(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await world.create_community(COMMUNITY, members={world.person("alice"): "carer"})
    await world.slash(world.owner, "meeting series", community=COMMUNITY)
    [march, september] = await repo(world).series_meetings(1)
    assert march.event_id is not None and september.event_id is not None
    await event_vanishes_while_offline(world, march.event_id)
    # ...and Discord refuses to edit the other one (Manage Events taken away for edits).
    world.emu.fail_route("PATCH", r"^/guilds/\d+/scheduled-events/\d+$", 403,
                         json=MISSING_PERMISSIONS, times=5)  # fmt: skip

    rec = await world.slash(world.owner, "meeting series", community=COMMUNITY,
                            time="19:00")  # fmt: skip
    assert "Moved 2 meeting(s)" in rec.content, rec.content
    assert "Discord event had been deleted; the meeting itself stands" in rec.content
    assert "could not update the Discord event" in rec.content and "Missing Permissions" in (
        rec.content)
    moved_march = await repo(world).get(march.id)
    moved_sept = await repo(world).get(september.id)
    assert moved_march is not None and moved_sept is not None
    assert moved_march.event_id is None, "no meeting left pointing at a deleted event"
    assert moved_march.start_utc == datetime(2027, 3, 10, 19, tzinfo=UTC)
    assert moved_sept.start_utc == datetime(2027, 9, 8, 18, tzinfo=UTC)  # 19:00 BST
    assert moved_sept.event_id == september.event_id
    assert not errors(caplog), errors(caplog)


async def test_a_refused_event_cancel_changes_nothing(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await world.create_community(COMMUNITY, members={world.person("alice"): "carer"})
    mid = await schedule(world)
    world.emu.fail_route("PATCH", r"^/guilds/\d+/scheduled-events/\d+$", 403,
                         json=MISSING_PERMISSIONS)  # fmt: skip
    rec = await world.slash(world.owner, "meeting cancel", meeting=str(mid))
    assert rec.ephemeral and "Manage Events" in rec.all_text, rec.all_text
    assert "nothing was changed" in rec.all_text
    meeting = await repo(world).get(mid)
    assert meeting is not None and not meeting.cancelled
    [event] = world.emu.scheduled_events(world.guild)
    assert event.status == 1
    assert world.bot is not None and f"meeting:{mid}:remind" in world.bot.scheduler.jobs()
    # Once Discord allows it again, the same command works.
    again = await world.slash(world.owner, "meeting cancel", meeting=str(mid))
    assert "Cancelled **Spring gathering**" in again.content, again.content
    assert not errors(caplog), errors(caplog)
