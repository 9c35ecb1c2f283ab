"""Meetings end to end: scheduling, events, announcements, RSVPs, .ics, list, cancel, notes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now  # Discord refuses events "in the past" by the test's time
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
    ids = [c["custom_id"] for row in msg.components for c in row["components"]
           if "custom_id" in c]
    assert ids == [f"rsvp:{meeting.id}:going", f"rsvp:{meeting.id}:maybe",
                   f"rsvp:{meeting.id}:cant", f"rsvp:{meeting.id}:who"]
    cal = parse_ics(msg)
    [vevent] = cal.walk("VEVENT")
    local_start = vevent.decoded("DTSTART")
    assert local_start.replace(tzinfo=None) == datetime(2027, 3, 10, 18, 30)
    assert str(vevent["DTSTART"].params["TZID"]) == "Europe/London"
    assert local_start.astimezone(UTC) == start
    assert vevent.decoded("DTEND").astimezone(UTC) == start + timedelta(hours=2)
    assert str(vevent["SUMMARY"]) == "Spring gathering"
    assert str(vevent["LOCATION"]) == "Town Hall, Leeds"


async def schedule(world: HearthWorld, who: UserState | None = None, **options: Any) -> Any:
    opts = {"community": "Carers Voice", "title": "Spring gathering",
            "when": "2027-03-10 18:30", **options}
    return await world.slash(who or world.owner, "meeting schedule", **opts)


def counts_field(message: MessageState) -> str:
    [field] = [f for f in message.embeds[0]["fields"] if f["name"] == "RSVPs"]
    return str(field["value"])


async def test_rsvp_buttons_update_counts_and_survive_restart(world: HearthWorld) -> None:
    people = await setup_community(world, alice="carer", bob="gp", cara="nurse")
    await schedule(world)
    [msg] = announcements(world)
    mid = (await repo(world).upcoming(1, world.clock.now()))[0].id

    click = await world.emu.click(people["alice"], msg, f"rsvp:{mid}:going")
    [answer] = await click.wait_followups(1)
    assert "you answered *Going*" in answer.content and answer.ephemeral
    await world.emu.click(people["bob"], msg, f"rsvp:{mid}:maybe")
    msg = world.emu.get_message(world.channel("carers-voice-meetings"), msg.id)
    assert counts_field(msg) == "Going: **1** · Maybe: **1** · Can't: **0**"

    await world.restart()  # persistent buttons: the DynamicItem still answers
    msg = world.emu.get_message(world.channel("carers-voice-meetings"), msg.id)
    await world.emu.click(people["cara"], msg, f"rsvp:{mid}:cant")
    await world.emu.click(people["alice"], msg, f"rsvp:{mid}:maybe")  # change of mind
    msg = world.emu.get_message(world.channel("carers-voice-meetings"), msg.id)
    assert counts_field(msg) == "Going: **0** · Maybe: **2** · Can't: **1**"
    assert msg.attachments, "the .ics file stays on the edited announcement"
    assert await repo(world).rsvps(mid) == {
        people["alice"].id: RSVP.MAYBE, people["bob"].id: RSVP.MAYBE,
        people["cara"].id: RSVP.CANT,
    }

    outsider = world.person("dave")
    refused = await world.emu.click(outsider, msg, f"rsvp:{mid}:going")
    assert refused.ephemeral and "Only members" in refused.content
    assert outsider.id not in await repo(world).rsvps(mid)


async def test_list_shows_upcoming_with_counts_and_timestamps(world: HearthWorld) -> None:
    people = await setup_community(world, alice="carer")
    await schedule(world, title="Later one", when="2027-06-09 18:30")
    await schedule(world, title="Sooner one", when="2027-02-10 10:00")
    [_, sooner] = announcements(world)
    mid = int(sooner.components[0]["components"][0]["custom_id"].split(":")[1])
    await world.emu.click(people["alice"], sooner, f"rsvp:{mid}:going")

    rec = await world.slash(people["alice"], "meeting list", community="Carers Voice")
    assert rec.ephemeral
    fields = rec.embeds[0]["fields"]
    assert [f["name"] for f in fields] == ["Sooner one", "Later one"]
    feb = datetime(2027, 2, 10, 10, 0, tzinfo=UTC)
    june = datetime(2027, 6, 9, 17, 30, tzinfo=UTC)  # 18:30 BST
    assert f"<t:{int(feb.timestamp())}:F>" in fields[0]["value"]
    assert "Going: **1**" in fields[0]["value"]
    assert f"<t:{int(june.timestamp())}:F>" in fields[1]["value"]

    stranger = world.person("stranger")
    refused = await world.slash(stranger, "meeting list", community="Carers Voice")
    assert refused.ephemeral and "Only members" in refused.content


async def test_bad_input_is_refused_and_nothing_is_stored(world: HearthWorld) -> None:
    await setup_community(world, alice="carer")
    cases: dict[str, dict[str, Any]] = {
        "is in the past": dict(when="2027-01-01 18:30"),
        "couldn't read": dict(when="the day after the fair"),
        "at least 1 minute": dict(duration=0),
        "at most 24 hours": dict(duration=24 * 60 + 1),
        "don't know the timezone": dict(timezone="Mars/Olympus"),
        "either a location or a voice": dict(
            location="Hall", channel=world.emu.create_channel(world.guild, "talk", 2)),
    }
    for expected, options in cases.items():
        rec = await schedule(world, **options)
        assert rec.ephemeral and expected in rec.content, (expected, rec.content)
    series_cases: dict[str, dict[str, Any]] = {
        "not a month": dict(months="3 and 13"),
        "at least two different months": dict(months="3"),
        "day of the month": dict(weekday="fifth wednesday"),
        "don't know the timezone": dict(timezone="Europe/Atlantis"),
    }
    for expected, options in series_cases.items():
        rec = await world.slash(world.owner, "meeting series", community="Carers Voice",
                                **options)
        assert rec.ephemeral and expected in rec.content, (expected, rec.content)

    alice = world.people["alice"]
    refused = await schedule(world, who=alice)
    assert refused.ephemeral and "Only a facilitator" in refused.content

    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM meetings") == 0
    assert await world.db.fetchval("SELECT COUNT(*) FROM meeting_series") == 0
    assert world.emu.scheduled_events(world.guild) == []
    assert announcements(world) == []


async def test_cancel_updates_event_announcement_and_tells_going_and_maybe(
    world: HearthWorld,
) -> None:
    people = await setup_community(world, alice="carer", bob="gp", cara="nurse")
    await schedule(world)
    [msg] = announcements(world)
    mid = (await repo(world).upcoming(1, world.clock.now()))[0].id
    await world.emu.click(people["alice"], msg, f"rsvp:{mid}:going")
    await world.emu.click(people["bob"], msg, f"rsvp:{mid}:maybe")
    await world.emu.click(people["cara"], msg, f"rsvp:{mid}:cant")

    # Autocomplete offers the meeting (value = its id).
    choices = await world.emu.autocomplete(world.guild, world.owner, "meeting cancel",
                                           focused="meeting", value="spring")
    assert [c["value"] for c in choices] == [str(mid)]
    assert "Spring gathering" in choices[0]["name"]

    rec = await world.slash(world.owner, "meeting cancel", meeting=str(mid))
    assert "Cancelled **Spring gathering**" in rec.content and "told 2 people" in rec.content

    [event] = world.guild.events.values()
    assert event.status == 4  # canceled on Discord too
    msg = world.emu.get_message(world.channel("carers-voice-meetings"), msg.id)
    assert msg.embeds[0]["title"] == "Cancelled: Spring gathering"
    assert msg.components == []
    [vevent] = parse_ics(msg).walk("VEVENT")
    assert str(vevent["STATUS"]) == "CANCELLED" and int(vevent["SEQUENCE"]) == 1
    for name in ("alice", "bob"):
        assert any("has been cancelled" in m.content for m in world.emu.dms_to(people[name]))
    assert not any("has been cancelled" in m.content for m in world.emu.dms_to(people["cara"]))
    meeting = await repo(world).get(mid)
    assert meeting is not None and meeting.cancelled
    assert not [j for j in world.bot.scheduler.jobs() if j.startswith(f"meeting:{mid}:")]  # type: ignore[union-attr]

    again = await world.slash(world.owner, "meeting cancel", meeting=str(mid))
    assert again.ephemeral and "already cancelled" in again.content


async def test_cancelling_another_communitys_meeting_is_refused(world: HearthWorld) -> None:
    people = await setup_community(world, alice="carer")
    await schedule(world)
    mid = (await repo(world).upcoming(1, world.clock.now()))[0].id
    # alice facilitates her own community, not Carers Voice.
    rec = await world.slash(world.owner, "community create", name="GP Forum", kind="practice")
    assert "Created" in rec.content
    await world.slash(world.owner, "community add", community="GP Forum",
                      member=people["alice"], discipline="gp", facilitator=True)
    refused = await world.slash(people["alice"], "meeting cancel", meeting=str(mid))
    assert refused.ephemeral and "Only a facilitator of **Carers Voice**" in refused.content
    meeting = await repo(world).get(mid)
    assert meeting is not None and not meeting.cancelled
    assert world.emu.scheduled_events(world.guild)[0].status == 1
    # Her autocomplete does not even offer it: she is a member there, so it is listed,
    # but the cancel itself is checked against the meeting's own community.


async def test_event_refused_missing_permission_meeting_still_exists(world: HearthWorld) -> None:
    from tests.emulator.permissions import DEFAULT_BOT, P

    await setup_community(world, alice="carer")
    world.emu.set_bot_permissions(world.guild, DEFAULT_BOT & ~P.MANAGE_EVENTS)
    rec = await schedule(world)
    assert "Scheduled **Spring gathering**" in rec.content
    assert "Manage Events" in rec.content
    assert world.emu.scheduled_events(world.guild) == []
    [meeting] = await repo(world).upcoming(1, world.clock.now())
    assert meeting.event_id is None and meeting.event_problem
    assert len(announcements(world)) == 1


async def test_event_limit_of_100_meeting_still_exists(world: HearthWorld) -> None:
    await setup_community(world, alice="carer")
    world.guild.max_scheduled_events = 1
    await schedule(world, title="First")
    rec = await schedule(world, title="Second", when="2027-03-11 18:30")
    assert "maximum of 100 upcoming events" in rec.content
    assert [e.name for e in world.emu.scheduled_events(world.guild)] == ["First"]
    meetings = await repo(world).upcoming(1, world.clock.now())
    assert [m.title for m in meetings] == ["First", "Second"]
    assert meetings[1].event_id is None


async def test_event_deleted_in_discord_is_forgotten(world: HearthWorld) -> None:
    await setup_community(world, alice="carer")
    await schedule(world)
    [meeting] = await repo(world).upcoming(1, world.clock.now())
    assert world.bot is not None
    guild = world.bot.get_guild(world.guild.id)
    assert guild is not None and meeting.event_id is not None
    event = await guild.fetch_scheduled_event(meeting.event_id)
    await event.delete()  # as a server manager would, in Discord's UI

    async def forgotten() -> bool:
        m = await repo(world).get(meeting.id)
        return m is not None and m.event_id is None

    # A condition wait with a deadline (the gateway event reaches the bot asynchronously).
    deadline = asyncio.get_running_loop().time() + 5
    while not await forgotten():
        assert asyncio.get_running_loop().time() < deadline, "meeting still points at it"
        await asyncio.sleep(0.01)
    stored = await repo(world).get(meeting.id)
    assert stored is not None and not stored.cancelled, "the meeting itself stands"


async def test_voice_channel_meeting_and_regional_announcement(world: HearthWorld) -> None:
    people = await setup_community(world, alice="carer", bob="gp")
    await world.slash(world.owner, "community add", community="Carers Voice",
                      member=people["alice"], discipline="carer", region="North")
    stage = world.emu.create_channel(world.guild, "town-hall", ChannelType.STAGE)
    rec = await schedule(world, title="North meet-up", channel=stage, region="north")
    assert "Regional meeting for **north**: 1 member of that region was" in rec.content, (
        rec.content
    )
    [event] = world.emu.scheduled_events(world.guild)
    assert event.entity_type == 1 and event.channel_id == stage.id
    [msg] = announcements(world)
    assert f"<@{people['alice'].id}>" in msg.content
    assert f"<@{people['bob'].id}>" not in msg.content
    assert msg.allowed_mentions is not None
    assert [int(u) for u in msg.allowed_mentions.get("users", [])] == [people["alice"].id]
    assert f"<#{stage.id}>" in msg.embeds[0]["description"]


async def test_notes_modal_and_attendance_feed_the_digest(world: HearthWorld) -> None:
    people = await setup_community(world, alice="carer", bob="gp")
    await schedule(world, when="2027-01-20 18:30")
    [meeting] = await repo(world).upcoming(1, world.clock.now())
    [msg] = announcements(world)
    await world.emu.click(people["alice"], msg, f"rsvp:{meeting.id}:going")

    early = await world.slash(world.owner, "meeting notes", meeting=str(meeting.id))
    assert early.ephemeral and "has not started yet" in early.content

    start_period = world.clock.now()
    upcoming = await upcoming_for_digest(world.db, 1, world.clock.now())  # type: ignore[arg-type]
    assert [(u.title, u.going, u.maybe, u.cant) for u in upcoming] == [
        ("Spring gathering", 1, 0, 0)]

    await world.advance_to(meeting.end_utc)
    prompt = [m for m in world.emu.dms_to(world.owner) if "/meeting notes" in m.content]
    assert len(prompt) == 1, "the facilitator is prompted once the meeting ends"
    await world.advance(timedelta(days=1))
    assert len([m for m in world.emu.dms_to(world.owner) if "/meeting notes" in m.content]) == 1

    rec = await world.slash(world.owner, "meeting notes", meeting=str(meeting.id))
    assert rec.modal is not None
    [field_id] = [c["components"][0]["custom_id"] for c in rec.modal["components"]
                  if c.get("type") == 1] or [rec.modal["components"][0]["component"]["custom_id"]]
    saved = await world.emu.submit_modal(world.owner, rec, {field_id: "We agreed on X." * 10})
    assert saved.ephemeral and "Saved the notes" in saved.content
    pick = await world.emu.select(world.owner, saved.reply, f"attend:{meeting.id}",  # type: ignore[arg-type]
                                  [people["alice"], people["bob"]])
    assert "Marked 2 people present" in pick.content

    stored = await repo(world).get(meeting.id)
    assert stored is not None and stored.notes == "We agreed on X." * 10
    assert await repo(world).attendance(meeting.id) == sorted(
        [people["alice"].id, people["bob"].id])
    held = await held_for_digest(world.db, 1, start_period, world.clock.now())  # type: ignore[arg-type]
    assert [(h.title, h.attended, h.rsvp_going) for h in held] == [("Spring gathering", 2, 1)]
    assert held[0].notes == "We agreed on X." * 10


async def test_notes_prompt_goes_to_current_facilitators_when_scheduler_left(
    world: HearthWorld,
) -> None:
    await setup_community(world, alice="carer")
    carol = world.person("carol")
    added = await world.slash(
        world.owner, "community add", community="Carers Voice", member=carol,
        discipline="nurse", facilitator=True,
    )
    assert "facilitator" in added.content
    await schedule(world, when="2027-01-20 18:30")
    [meeting] = await repo(world).upcoming(1, world.clock.now())
    removed = await world.slash(
        carol, "community remove", community="Carers Voice", member=world.owner
    )
    assert "Removed" in removed.content, removed.content

    await world.advance_to(meeting.end_utc)
    def prompts(user: UserState) -> list[MessageState]:
        return [m for m in world.emu.dms_to(user) if "/meeting notes" in m.content]

    assert len(prompts(carol)) == 1, "a current facilitator is asked for the notes"
    assert prompts(world.owner) == [], "someone who no longer facilitates is not"


async def test_regional_meeting_with_no_one_in_the_region_says_so_and_rsvps_get_reminders(
    world: HearthWorld,
) -> None:
    # Regressions: "0 member(s) of that region were mentioned…", a "maybe" from outside the
    # region promised reminders that never came, "I told 0 people…", and "Wednesday 03 February".
    people = await setup_community(world, alice="carer", bob="gp")
    rec = await schedule(world, title="North meet-up", when="2027-02-03 18:30", region="North")
    assert "no member has that region yet" in rec.content, rec.content
    assert "member(s)" not in rec.content
    assert "Wednesday 3 February 2027" in rec.content and " 03 " not in rec.content
    [msg] = announcements(world)
    meeting_id = int(msg.embeds[0]["footer"]["text"].rsplit("#", 1)[1])
    await world.emu.click(people["bob"], msg, f"rsvp:{meeting_id}:maybe")
    await world.advance_to(datetime(2027, 2, 3, 18, 0, tzinfo=UTC))
    assert any("North meet-up" in m.content for m in world.emu.dms_to(people["bob"]))
    assert not any("North meet-up" in m.content for m in world.emu.dms_to(people["alice"]))

    await world.emu.click(people["bob"], msg, f"rsvp:{meeting_id}:cant")
    cancelled = await world.slash(world.owner, "meeting cancel", meeting=str(meeting_id))
    assert "no one had said going or maybe" in cancelled.content, cancelled.content
    assert "told 0" not in cancelled.content
