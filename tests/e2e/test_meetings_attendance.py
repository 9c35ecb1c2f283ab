"""Attendance for a community of any size: more than 25 people (Discord's limit for one
select) are split into pickers of 25, and a pick in one picker changes only whom it showed.

Before, one select replaced the whole list, so a community of 40 could never be marked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.db.meetings import MeetingRepo
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.emulator.interactions import all_custom_ids
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
MEMBERS = 40


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now
        yield w


def pickers(message: MessageState) -> dict[str, dict[str, Any]]:
    """The attendance selects on a message, by custom_id."""
    return {
        c["custom_id"]: c
        for row in message.components
        for c in row.get("components", [])
        if str(c.get("custom_id", "")).startswith("attend:")
    }


def in_range(custom_id: str, user: UserState) -> bool:
    low, high = (int(x) for x in custom_id.rsplit(":", 1)[1].split("-"))
    return low <= user.id <= high


async def notes_reply(world: HearthWorld, meeting_id: int) -> MessageState:
    rec = await world.slash(world.owner, "meeting notes", meeting=str(meeting_id))
    assert rec.modal is not None, rec.all_text
    [field] = all_custom_ids(rec.modal["components"])
    saved = await world.emu.submit_modal(world.owner, rec, {field: "We met."})
    assert saved.reply is not None and "Saved the notes" in saved.content, saved.content
    return saved.reply


async def test_forty_members_are_marked_in_pages_that_change_only_what_they_show(
    world: HearthWorld,
) -> None:
    people = [world.person(f"member{i:02d}") for i in range(MEMBERS)]
    await world.create_community(COMMUNITY, members=dict.fromkeys(people, "carer"))
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Spring gathering", when="2027-01-20 18:30")  # fmt: skip
    assert "Scheduled" in rec.content, rec.content
    assert world.db is not None
    repo = MeetingRepo(world.db)
    [meeting] = await repo.upcoming(1, world.clock.now())
    await world.advance_to(meeting.end_utc)

    reply = await notes_reply(world, meeting.id)
    assert "41 people are split into 2 lists of up to 25" in reply.content, reply.content
    first, second = sorted(pickers(reply), key=lambda c: int(c.rsplit(":", 1)[1].split("-")[0]))
    assert first.startswith(f"attend:{meeting.id}:") and second.startswith(f"attend:{meeting.id}:")
    page1 = [p for p in people if in_range(first, p)]
    page2 = [p for p in people if in_range(second, p)]
    assert sorted(p.id for p in page1 + page2) == sorted(p.id for p in people)
    assert 15 <= len(page2) <= 16 and len(page1) + len(page2) == MEMBERS

    # Each picker marks its own people: all 40 present, which one select could never hold.
    pick = await world.emu.select(world.owner, reply, first, page1)
    assert f"Marked {len(page1)} people present" in pick.content, pick.content
    pick = await world.emu.select(world.owner, reply, second, page2)
    assert f"Marked {MEMBERS} people present" in pick.content, pick.content
    assert await repo.attendance(meeting.id) == sorted(p.id for p in people)

    # Opened again, each picker shows whom it holds as present; unticking one in the second
    # list removes only that person.
    again = await notes_reply(world, meeting.id)
    shown = pickers(again)
    assert {int(v["id"]) for v in shown[second]["default_values"]} == {p.id for p in page2}
    assert {int(v["id"]) for v in shown[first]["default_values"]} == {p.id for p in page1}
    gone = page2[0]
    pick = await world.emu.select(world.owner, again, second, page2[1:])
    assert f"Marked {MEMBERS - 1} people present" in pick.content, pick.content
    assert gone.id not in await repo.attendance(meeting.id)

    # The first message's pickers are stale (they showed nobody present): a pick there adds
    # whom it names and removes no one it did not show.
    pick = await world.emu.select(world.owner, reply, first, [page1[0]])
    assert f"Marked {MEMBERS - 1} people present" in pick.content, pick.content
    assert await repo.attendance(meeting.id) == sorted(p.id for p in people if p is not gone)

    # Anyone picked in either list is added, whichever list their id belongs to.
    pick = await world.emu.select(world.owner, again, first, [*page1, gone])
    assert f"Marked {MEMBERS} people present" in pick.content, pick.content
    assert await repo.attendance(meeting.id) == sorted(p.id for p in people)

