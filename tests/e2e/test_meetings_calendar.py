"""Meetings, Discord-native: calendar link buttons, the .ics as text/calendar with a UID of
this installation, the cancelled .ics in the cancellation DM, fold times in UTC (read back
by vobject, a parser independent of the icalendar library that writes the file), "Who's
coming" for facilitators, and Discord's "Interested" in step with the RSVP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import vobject

from bot.db.meetings import MeetingRepo
from bot.domain.meetings import RSVP
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.emulator.state import AttachmentState, MessageState, UserState


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now
        yield w


async def setup_community(world: HearthWorld, **members: str) -> dict[str, UserState]:
    people = {name: world.person(name) for name in members}
    await world.create_community("Carers Voice", members={people[n]: d for n, d in members.items()})
    return people


def announcement(world: HearthWorld) -> MessageState:
    [msg] = [m for m in world.emu.messages_in(world.channel("carers-voice-meetings")) if m.embeds]
    return world.emu.get_message(world.channel("carers-voice-meetings"), msg.id)


def ics_of(message: MessageState) -> AttachmentState:
    [att] = [a for a in message.attachments if a.filename.endswith(".ics")]
    return att


def link_buttons(message: MessageState) -> dict[str, str]:
    return {
        c["label"]: c["url"]
        for row in message.components
        for c in row["components"]
        if c.get("style") == 5
    }


async def schedule(world: HearthWorld, **options: Any) -> Any:
    opts = {
        "community": "Carers Voice",
        "title": "Spring gathering & tea",
        "when": "2027-03-10 18:30",
        "location": "Town Hall, Leeds",
        **options,
    }
    opts = {k: v for k, v in opts.items() if v is not None}
    rec = await world.slash(world.owner, "meeting schedule", **opts)
    assert "Scheduled" in rec.content, rec.content
    return rec


async def only_meeting(world: HearthWorld) -> Any:
    assert world.db is not None
    [meeting] = await MeetingRepo(world.db).upcoming(1, world.clock.now())
    return meeting


async def test_announcement_has_calendar_links_and_the_discord_event(world: HearthWorld) -> None:
    await setup_community(world, alice="carer")
    await schedule(world)
    meeting = await only_meeting(world)
    msg = announcement(world)
    links = link_buttons(msg)
    assert set(links) == {"Add to Google Calendar", "Outlook", "Discord event"}
    assert all(len(url) <= 512 for url in links.values())
    assert links["Discord event"] == (
        f"https://discord.com/events/{world.guild.id}/{meeting.event_id}"
    )

    google = urlsplit(links["Add to Google Calendar"])
    assert f"{google.scheme}://{google.netloc}{google.path}" == (
        "https://calendar.google.com/calendar/render"
    )
    assert "+" not in google.query and "%20" in google.query  # spaces encoded one way
    q = {k: v[0] for k, v in parse_qs(google.query).items()}
    assert q["action"] == "TEMPLATE"
    assert q["text"] == "Spring gathering & tea"
    assert q["dates"] == "20270310T183000Z/20270310T203000Z"  # UTC (GMT in March)
    assert q["location"] == "Town Hall, Leeds"
    assert "Carers Voice" in q["details"] and str(meeting.event_id) in q["details"]

    outlook = urlsplit(links["Outlook"])
    assert f"{outlook.scheme}://{outlook.netloc}{outlook.path}" == (
        "https://outlook.live.com/calendar/0/action/compose"
    )
    q = {k: v[0] for k, v in parse_qs(outlook.query).items()}
    assert q["subject"] == "Spring gathering & tea"
    assert q["startdt"] == "2027-03-10T18:30:00Z" and q["enddt"] == "2027-03-10T20:30:00Z"
    assert q["location"] == "Town Hall, Leeds" and "Carers Voice" in q["body"]

    # A summer meeting: the link's times are UTC (17:30Z for 18:30 BST).
    await schedule(world, title="Summer", when="2027-07-07 18:30")
    [summer] = [
        m
        for m in world.emu.messages_in(world.channel("carers-voice-meetings"))
        if m.embeds and "Summer" in m.embeds[0]["title"]
    ]
    summer_q = parse_qs(urlsplit(link_buttons(summer)["Add to Google Calendar"]).query)
    assert summer_q["dates"] == ["20270707T173000Z/20270707T193000Z"]

    # The links survive an RSVP click (the card is re-rendered with its view).
    alice = world.people["alice"]
    await world.emu.click(alice, msg, f"rsvp:{meeting.id}:going")
    clicked = world.emu.get_message(world.channel("carers-voice-meetings"), msg.id)
    assert "Going: **1**" in str(clicked.embeds[0]["fields"])
    assert link_buttons(clicked) == links


async def test_a_long_title_and_place_still_fit_discords_512(world: HearthWorld) -> None:
    await setup_community(world, alice="carer")
    await schedule(world, title="Ω" * 100, location="Ünïcödé place " * 7)
    for url in link_buttons(announcement(world)).values():
        assert len(url) <= 512, url


async def test_ics_is_text_calendar_with_a_uid_of_this_installation(
    world: HearthWorld,
) -> None:
    await setup_community(world, alice="carer")
    await schedule(world)
    meeting = await only_meeting(world)
    att = ics_of(announcement(world))
    assert att.content_type is not None and att.content_type.startswith("text/calendar")
    assert world.db is not None
    installation = await world.db.fetchval(
        "SELECT value FROM app_state WHERE key = 'installation_id'"
    )
    assert installation and re.fullmatch(r"[0-9a-f]{16}", installation)
    event = vobject.readOne(att.text).vevent
    assert event.uid.value == f"meeting-{meeting.id}-{installation}@hearth"
    assert event.url.value == f"https://discord.com/events/{world.guild.id}/{meeting.event_id}"
    # Kept across restarts: the same meeting keeps its UID.
    await world.restart()
    await world.emu.click(world.people["alice"], announcement(world), f"rsvp:{meeting.id}:going")
    assert (
        await world.db.fetchval("SELECT value FROM app_state WHERE key = 'installation_id'")
        == installation
    )


async def test_cancellation_dm_carries_the_cancelled_ics(world: HearthWorld) -> None:
    people = await setup_community(world, alice="carer", bob="gp", cara="nurse")
    await schedule(world)
    meeting = await only_meeting(world)
    msg = announcement(world)
    await world.emu.click(people["alice"], msg, f"rsvp:{meeting.id}:going")
    await world.emu.click(people["bob"], msg, f"rsvp:{meeting.id}:maybe")
    await world.emu.click(people["cara"], msg, f"rsvp:{meeting.id}:cant")
    first = vobject.readOne(ics_of(msg).text)

    rec = await world.slash(world.owner, "meeting cancel", meeting=str(meeting.id))
    assert "told 2 people" in rec.content, rec.content
    for name in ("alice", "bob"):
        [dm] = [m for m in world.emu.dms_to(people[name]) if "has been cancelled" in m.content]
        att = ics_of(dm)
        assert att.content_type is not None and att.content_type.startswith("text/calendar")
        cal = vobject.readOne(att.text)
        assert cal.method.value == "CANCEL"
        assert cal.vevent.status.value == "CANCELLED"
        assert cal.vevent.uid.value == first.vevent.uid.value
        assert int(cal.vevent.sequence.value) == int(first.vevent.sequence.value) + 1
    assert not any(m.attachments for m in world.emu.dms_to(people["cara"]))


async def test_fold_and_gap_times_read_alike_by_an_independent_parser(
    world: HearthWorld,
) -> None:
    await setup_community(world, alice="carer")
    await schedule(world, title="Early birds", when="2027-03-28 01:30", location=None)
    await schedule(world, title="Night owls", when="2027-10-31 01:30", location=None)
    files = {
        m.embeds[0]["title"]: ics_of(m).text
        for m in world.emu.messages_in(world.channel("carers-voice-meetings"))
        if m.embeds
    }
    # The gap: 01:30 does not exist on 28 March, so the meeting is at 02:30 BST (01:30Z).
    early = vobject.readOne(files["Early birds"]).vevent
    assert early.dtstart.value.astimezone(UTC) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert "TZID=Europe/London:20270328T023000" in files["Early birds"]
    # The fold: 01:30 happens twice on 31 October; the first (BST) is 00:30Z, written in UTC.
    night = vobject.readOne(files["Night owls"]).vevent
    assert night.dtstart.value == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert night.dtend.value == datetime(2027, 10, 31, 2, 30, tzinfo=UTC)
    assert "DTSTART:20271031T003000Z" in files["Night owls"]
    assert "TZID" not in files["Night owls"]


async def test_whos_coming_is_for_facilitators_only(world: HearthWorld) -> None:
    people = await setup_community(world, alice="carer", bob="gp", cara="nurse")
    await schedule(world)
    meeting = await only_meeting(world)
    msg = announcement(world)
    await world.emu.click(people["alice"], msg, f"rsvp:{meeting.id}:going")
    await world.emu.click(people["bob"], msg, f"rsvp:{meeting.id}:maybe")

    seen = await world.emu.click(world.owner, msg, f"rsvp:{meeting.id}:who")
    assert seen.ephemeral, seen.content
    lines = seen.content.splitlines()
    assert f"<@{people['alice'].id}>" in lines[1] and lines[1].startswith("**Going** (1)")
    assert f"<@{people['bob'].id}>" in lines[2] and lines[2].startswith("**Maybe** (1)")
    assert "nobody yet" in lines[3]
    assert f"<@{people['cara'].id}>" not in seen.content

    refused = await world.emu.click(people["cara"], msg, f"rsvp:{meeting.id}:who")
    assert refused.ephemeral and "Only" in refused.content, refused.content
    assert f"<@{people['alice'].id}>" not in refused.content


async def test_interested_on_the_discord_event_follows_the_rsvp(world: HearthWorld) -> None:
    people = await setup_community(world, alice="carer", bob="gp", cara="nurse")
    outsider = world.person("dave")  # in the server, not in the community
    await schedule(world)
    meeting = await only_meeting(world)
    [event] = world.emu.scheduled_events(world.guild)
    assert world.db is not None
    repo = MeetingRepo(world.db)

    def counts() -> str:
        [field] = [f for f in announcement(world).embeds[0]["fields"] if f["name"] == "RSVPs"]
        return str(field["value"])

    await world.emu.click(people["cara"], announcement(world), f"rsvp:{meeting.id}:cant")
    world.emu.mark_interested(outsider, event)  # not a member: ignored
    world.emu.mark_interested(people["cara"], event)  # answered "can't": her answer stands
    world.emu.mark_interested(people["alice"], event)  # no answer yet: going
    await world.emu.wait_for(lambda: "Going: **1**" in counts(), message="alice going")
    assert await repo.rsvps(meeting.id) == {
        people["alice"].id: RSVP.GOING,
        people["cara"].id: RSVP.CANT,
    }

    await world.emu.click(people["bob"], announcement(world), f"rsvp:{meeting.id}:going")
    world.emu.mark_interested(people["bob"], event)  # already going: nothing to change
    world.emu.mark_interested(people["alice"], event, interested=False)  # going -> maybe
    await world.emu.wait_for(lambda: "Maybe: **1**" in counts(), message="alice maybe")
    assert await repo.rsvps(meeting.id) == {
        people["alice"].id: RSVP.MAYBE,
        people["bob"].id: RSVP.GOING,
        people["cara"].id: RSVP.CANT,
    }
    assert counts() == "Going: **1** · Maybe: **1** · Can't: **1**"


async def test_the_emulator_sends_interest_only_with_the_intent(world: HearthWorld) -> None:
    await setup_community(world, alice="carer")
    await schedule(world)
    [event] = world.emu.scheduled_events(world.guild)
    [session] = world.emu.gateway.sessions.values()
    before = len(session.sent)
    session.intents &= ~(1 << 16)  # as if the bot had identified without the intent
    world.emu.mark_interested(world.people["alice"], event)
    assert len(session.sent) == before
    session.intents |= 1 << 16
    world.emu.mark_interested(world.people["alice"], event, interested=False)
    assert session.sent[-1]["t"] == "GUILD_SCHEDULED_EVENT_USER_REMOVE"
    assert event.payload()["user_count"] == 0
