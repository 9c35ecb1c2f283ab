"""Meetings over time: reminders, DMs closed, restart catch-up, the series rolling forward,
scheduled events kept in step, and daylight-saving changes. The clock only moves through
world.advance / advance_to (the scheduler's due jobs run; nothing sleeps)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.db.meetings import MeetingRepo
from bot.domain.meetings import Meeting
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.test_meetings import announcements
from tests.emulator.state import UserState

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now  # Discord refuses events "in the past" by the test's time
        yield w


def repo(world: HearthWorld) -> MeetingRepo:
    assert world.db is not None
    return MeetingRepo(world.db)


def reminders_to(world: HearthWorld, user: UserState) -> list[str]:
    return [m.content for m in world.emu.dms_to(user) if m.content.startswith("Reminder:")]


def fallbacks(world: HearthWorld) -> list[str]:
    return [m.content for m in world.emu.messages_in(world.channel("carers-voice-meetings"))
            if "I could not send you a direct message" in m.content]


async def community_with(world: HearthWorld, **people: bool) -> dict[str, UserState]:
    """people: name -> dms_open."""
    users = {name: world.person(name, dms_open=open_) for name, open_ in people.items()}
    await world.create_community("Carers Voice", members={u: "carer" for u in users.values()})
    return users


async def one_meeting(world: HearthWorld, when: str = "2027-03-10 18:30", **opts: str) -> Meeting:
    rec = await world.slash(world.owner, "meeting schedule", community="Carers Voice",
                            title="Spring gathering", when=when, **opts)
    assert "Scheduled" in rec.content, rec.content
    meetings = await repo(world).upcoming(1, world.clock.now())
    return meetings[-1]


async def test_reminders_7d_1d_1h_skip_cant_and_fall_back_when_dms_closed(
    world: HearthWorld,
) -> None:
    users = await community_with(world, alice=True, bob=True, closed=False)
    meeting = await one_meeting(world)
    [msg] = announcements(world)
    await world.emu.click(users["bob"], msg, f"rsvp:{meeting.id}:cant")
    start = meeting.start_utc

    await world.advance_to(start - timedelta(days=7, seconds=1))
    assert reminders_to(world, users["alice"]) == []
    await world.advance_to(start - timedelta(days=7))
    assert len(reminders_to(world, users["alice"])) == 1
    assert f"<t:{int(start.timestamp())}:F>" in reminders_to(world, users["alice"])[0]
    assert reminders_to(world, users["bob"]) == [], "said can't: no reminders"
    assert len(reminders_to(world, world.owner)) == 1, "the facilitator is a member too"
    [fallback] = fallbacks(world)
    assert f"<@{users['closed'].id}>" in fallback
    assert f"<@{users['alice'].id}>" not in fallback

    await world.advance_to(start - timedelta(days=1))
    await world.advance_to(start - timedelta(hours=1))
    assert len(reminders_to(world, users["alice"])) == 3
    assert len(fallbacks(world)) == 3
    await world.advance_to(start + timedelta(days=1))
    assert len(reminders_to(world, users["alice"])) == 3
    deliveries = await repo(world).deliveries(meeting.id)
    assert {(o, u) for o, u, _ in deliveries if u == users["closed"].id} == {
        (timedelta(days=7), users["closed"].id), (timedelta(days=1), users["closed"].id),
        (timedelta(hours=1), users["closed"].id)}
    assert {outcome for _, u, outcome in deliveries if u == users["closed"].id} == {"fallback"}


async def test_regional_meeting_reminds_only_that_region(world: HearthWorld) -> None:
    users = await community_with(world, north=True, south=True)
    await world.slash(world.owner, "community add", community="Carers Voice",
                      member=users["north"], discipline="carer", region="North")
    await world.slash(world.owner, "community add", community="Carers Voice",
                      member=users["south"], discipline="carer", region="South")
    meeting = await one_meeting(world, region="North")
    await world.advance_to(meeting.start_utc - timedelta(days=1))
    assert len(reminders_to(world, users["north"])) == 1
    assert reminders_to(world, users["south"]) == []
    assert reminders_to(world, world.owner) == []


async def test_restart_catch_up_sends_once_and_never_twice(world: HearthWorld) -> None:
    users = await community_with(world, alice=True)
    meeting = await one_meeting(world)
    start = meeting.start_utc
    await world.advance_to(start - timedelta(days=7))
    assert len(reminders_to(world, users["alice"])) == 1

    # Down from 6 days before until 20 hours before: the 1-day reminder fell due meanwhile.
    await world.stop_bot()
    world.clock.set(start - timedelta(hours=20))
    await world.start_bot()
    await world.advance(timedelta(0))
    assert len(reminders_to(world, users["alice"])) == 2
    assert "Reminder" in reminders_to(world, users["alice"])[1]

    await world.restart()  # nothing pending any more for the 1-day reminder
    await world.advance(timedelta(minutes=5))
    assert len(reminders_to(world, users["alice"])) == 2

    # Down across the 1-hour mark and past the start: the 1-hour reminder is no use now.
    await world.stop_bot()
    world.clock.set(start + timedelta(minutes=10))
    await world.start_bot()
    await world.advance(timedelta(0))
    assert len(reminders_to(world, users["alice"])) == 2
    await world.restart()
    await world.advance(timedelta(hours=3))
    assert len(reminders_to(world, users["alice"])) == 2
    # ...but the notes prompt (meeting over) is still useful and comes once.
    prompts = [m for m in world.emu.dms_to(world.owner) if "/meeting notes" in m.content]
    assert len(prompts) == 1
    await world.restart()
    await world.advance(timedelta(hours=1))
    assert len([m for m in world.emu.dms_to(world.owner) if "/meeting notes" in m.content]) == 1


async def test_interrupted_reminder_resumes_for_the_rest_only(world: HearthWorld) -> None:
    users = await community_with(world, alice=True, bob=True)
    meeting = await one_meeting(world)
    offset = timedelta(days=7)
    # As if the bot crashed mid-way: the reminder was claimed and alice was recorded.
    assert await repo(world).claim_reminder(meeting.id, offset, world.clock.now())
    await repo(world).record_delivery(meeting.id, offset, users["alice"].id, "dm")
    await world.stop_bot()
    world.clock.set(meeting.start_utc - timedelta(days=6))
    await world.start_bot()
    await world.advance(timedelta(0))
    assert reminders_to(world, users["alice"]) == []
    assert len(reminders_to(world, users["bob"])) == 1
    assert (await repo(world).reminder_states(meeting.id))[offset] == "sent"


async def test_series_keeps_two_scheduled_and_rolls_forward(world: HearthWorld) -> None:
    await community_with(world, alice=True)
    rec = await world.slash(world.owner, "meeting series", community="Carers Voice")
    assert "second Wednesday of March and September, 18:30" in rec.content, rec.content
    series = await repo(world).series_meetings(1)
    march = datetime(2027, 3, 10, 18, 30, tzinfo=UTC)            # GMT
    september = datetime(2027, 9, 8, 17, 30, tzinfo=UTC)         # 18:30 BST
    assert [m.start_utc for m in series] == [march, september]
    assert all(m.start_utc.astimezone(LONDON).strftime("%H:%M") == "18:30" for m in series)
    assert [e.name for e in world.emu.scheduled_events(world.guild)] == [
        "Carers Voice meeting, March 2027", "Carers Voice meeting, September 2027"]
    assert len(announcements(world)) == 2
    assert world.bot is not None and "series:1" in world.bot.scheduler.jobs()

    await world.advance_to(march + timedelta(minutes=1))
    series = await repo(world).series_meetings(1)
    march_2028 = datetime(2028, 3, 8, 18, 30, tzinfo=UTC)
    assert [m.start_utc for m in series] == [march, september, march_2028]
    upcoming = [m for m in series if m.start_utc > world.clock.now()]
    assert len(upcoming) == 2

    # Survives a restart: the series job is rebuilt and keeps rolling.
    await world.restart()
    await world.advance_to(september + timedelta(minutes=1))
    starts = [m.start_utc for m in await repo(world).series_meetings(1)]
    assert starts[-1] == datetime(2028, 9, 13, 17, 30, tzinfo=UTC)
    assert len([s for s in starts if s > world.clock.now()]) == 2
    assert world.bot is not None and "series:1" in world.bot.scheduler.jobs()


async def test_changing_the_series_updates_events_and_cancels_dropped_months(
    world: HearthWorld,
) -> None:
    await community_with(world, alice=True)
    await world.slash(world.owner, "meeting series", community="Carers Voice")
    [march, september] = await repo(world).series_meetings(1)
    rec = await world.slash(world.owner, "meeting series", community="Carers Voice",
                            months="March, October", weekday="last thursday", time="19:00")
    assert "Moved 1 meeting" in rec.content and "Cancelled 1 meeting" in rec.content, rec.content
    moved = await repo(world).get(march.id)
    assert moved is not None
    assert moved.start_utc == datetime(2027, 3, 25, 19, 0, tzinfo=UTC)  # before the 28th
    assert moved.sequence == 1
    events = {e.id: e for e in world.guild.events.values()}
    assert datetime.fromisoformat(events[march.event_id].scheduled_start_time) == (  # type: ignore[index]
        moved.start_utc)
    assert events[september.event_id].status == 4  # type: ignore[index]
    october = [m for m in await repo(world).series_meetings(1)
               if m.start_utc.astimezone(LONDON).month == 10]
    # Still BST on the 28th: the clocks go back on Sunday 31 October 2027.
    assert [m.start_utc for m in october] == [datetime(2027, 10, 28, 18, 0, tzinfo=UTC)]
    msg = world.emu.get_message(world.channel("carers-voice-meetings"), moved.announcement_id)  # type: ignore[arg-type]
    [att] = msg.attachments
    [vevent] = icalendar.Calendar.from_ical(att.data).walk("VEVENT")
    assert vevent.decoded("DTSTART").replace(tzinfo=None) == datetime(2027, 3, 25, 19, 0)
    assert vevent.decoded("SEQUENCE") == 1


async def test_dst_march_and_october_are_both_1830_local(world: HearthWorld) -> None:
    await community_with(world, alice=True)
    for when in ("2027-03-24 18:30", "2027-04-07 18:30", "2027-10-27 18:30",
                 "2027-11-03 18:30"):
        await world.slash(world.owner, "meeting schedule", community="Carers Voice",
                          title=f"Meeting {when[:10]}", when=when)
    meetings = await repo(world).upcoming(1, world.clock.now())
    utc_hours = [m.start_utc.hour for m in meetings]
    assert utc_hours == [18, 17, 17, 18]  # GMT, BST, BST, GMT
    for m, msg in zip(meetings, announcements(world), strict=True):
        [vevent] = icalendar.Calendar.from_ical(msg.attachments[0].data).walk("VEVENT")
        start = vevent.decoded("DTSTART")
        assert start.replace(tzinfo=None).time().strftime("%H:%M") == "18:30"
        assert start.astimezone(UTC) == m.start_utc
        # A real parser with the file's own VTIMEZONE gives the same instant.
        assert vevent.decoded("DTEND").astimezone(UTC) == m.end_utc


async def test_dst_gap_and_fold_are_resolved_and_surfaced(world: HearthWorld) -> None:
    await community_with(world, alice=True)
    gap = await world.slash(world.owner, "meeting schedule", community="Carers Voice",
                            title="Early birds", when="2027-03-28 01:30")
    assert "does not exist" in gap.content and "02:30" in gap.content, gap.content
    fold = await world.slash(world.owner, "meeting schedule", community="Carers Voice",
                             title="Night owls", when="2027-10-31 01:30")
    assert "happens twice" in fold.content and "first one" in fold.content, fold.content
    [early, night] = await repo(world).upcoming(1, world.clock.now())
    assert early.start_utc == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)   # = 02:30 BST
    assert night.start_utc == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 01:30 BST, first
    [e1, e2] = world.emu.scheduled_events(world.guild)
    assert datetime.fromisoformat(e1.scheduled_start_time) == early.start_utc
    assert datetime.fromisoformat(e2.scheduled_start_time) == night.start_utc


async def test_series_in_another_timezone_and_its_dst(world: HearthWorld) -> None:
    await community_with(world, alice=True)
    rec = await world.slash(world.owner, "meeting series", community="Carers Voice",
                            months="3 and 11", weekday="second sunday", time="02:30",
                            timezone="America/New_York")
    # Second Sunday of March 2027 is the US spring-forward day: 02:30 does not exist.
    assert "does not exist" in rec.content, rec.content
    [march, november] = await repo(world).series_meetings(1)
    ny = ZoneInfo("America/New_York")
    assert march.timezone == "America/New_York"
    assert march.start_utc.astimezone(ny).strftime("%Y-%m-%d %H:%M") == "2027-03-14 03:30"
    assert november.start_utc.astimezone(ny).strftime("%Y-%m-%d %H:%M") == "2027-11-14 02:30"


async def test_notes_prompt_falls_back_to_channel_when_facilitator_dms_closed(
    world: HearthWorld,
) -> None:
    users = await community_with(world, alice=True)
    fac = world.person("fac", dms_open=False)
    await world.slash(world.owner, "community add", community="Carers Voice", member=fac,
                      discipline="gp", facilitator=True)
    rec = await world.slash(fac, "meeting schedule", community="Carers Voice",
                            title="Short one", when="2027-01-12 10:00", duration=30)
    assert "Scheduled" in rec.content, rec.content
    [meeting] = await repo(world).upcoming(1, world.clock.now())
    await world.advance(timedelta(0))  # 25 hours ahead: the 7-day reminder is due at once
    assert len(reminders_to(world, users["alice"])) == 1
    await world.advance_to(meeting.end_utc)  # straight past the 1-day and 1-hour marks
    channel_msgs = [m for m in world.emu.messages_in(world.channel("carers-voice-meetings"))
                    if "/meeting notes" in m.content]
    assert len(channel_msgs) == 1 and f"<@{fac.id}>" in channel_msgs[0].content
    assert len(reminders_to(world, users["alice"])) == 1, "no reminder after the start"
    await world.advance(timedelta(days=2))
    assert len([m for m in world.emu.messages_in(world.channel("carers-voice-meetings"))
                if "/meeting notes" in m.content]) == 1


async def test_archived_community_series_stops(world: HearthWorld) -> None:
    await community_with(world, alice=True)
    await world.slash(world.owner, "meeting series", community="Carers Voice")
    assert world.bot is not None and "series:1" in world.bot.scheduler.jobs()
    await world.slash(world.owner, "community archive", community="Carers Voice")
    assert "series:1" not in world.bot.scheduler.jobs()
    await world.advance_to(datetime(2027, 9, 9, tzinfo=UTC))
    assert len(await repo(world).series_meetings(1)) == 2
