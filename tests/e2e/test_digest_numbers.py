"""Issue 12, "wrong or missing": the sponsor's digest numbers, end to end through the emulator.

* Participation is never 0 for messages posted in an hour that a preview's or a manual
  send's period cuts (the period starts when the community began, or ends now).
* A preview shows exactly what the next scheduled digest will contain, never a
  five-minute "week".
* Meeting notes written after the week of the meeting still reach the sponsor, in the
  digest of the week they were written.

Every cog is loaded; people act through the commands; time moves only through
world.advance*.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.test_digest import digests_in, embed_text, post, shown_messages, text_file_of
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
DUE_1 = datetime(2027, 1, 18, 9, tzinfo=UTC)  # Monday 09:00 London (GMT), the default
DUE_2 = DUE_1 + timedelta(days=7)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now
        yield w


async def sponsor(world: HearthWorld, who: UserState) -> None:
    rec = await world.slash(world.owner, "community sponsor", community=COMMUNITY, member=who)
    assert "now the sponsor" in rec.content, rec.content


def messages(group: list[MessageState]) -> int:
    """How many messages the digest says were written ("No one posted" is none)."""
    text = embed_text(group)
    found = re.search(r"Members wrote (\d+) messages? in all\.", text)
    if found:
        return int(found.group(1))
    assert "No one posted" in text, text[:800]
    return 0


def active(group: list[MessageState]) -> str:
    """ "1 of 3": how many members posted, from the summary's first sentence."""
    found = re.search(r"(\d+ of \d+) members? posted", embed_text(group))
    assert found, embed_text(group)[:800]
    return found.group(1)


async def test_messages_in_a_cut_hour_count_in_preview_and_manual_send(
    world: HearthWorld,
) -> None:
    alice, bob, boss = world.person("alice"), world.person("bob"), world.person("sponsor")
    await world.advance(timedelta(minutes=10))  # the community begins inside an hour
    await world.create_community(COMMUNITY, members={alice: "carer", bob: "nurse"})
    await sponsor(world, boss)
    await world.advance(timedelta(minutes=20))
    await post(world, world.channel("carers-voice-lounge"), alice, 3)

    preview = await world.slash(world.owner, "digest preview", community=COMMUNITY)
    shown = shown_messages(preview)
    assert messages(shown) == 3, embed_text(shown)[:800]
    assert active(shown).startswith("1 of ")
    assert "No one posted" not in embed_text(shown)

    sent = await world.slash(world.owner, "digest send", community=COMMUNITY)
    assert "Sent the digest" in sent.content, sent.content
    [manual] = digests_in(world.emu.dms_to(boss))
    assert messages(manual) == 3
    assert active(manual).startswith("1 of ")
    assert "alice" in text_file_of(manual)  # thanked for posting

    # The hour the manual send ended in is never counted twice by the next digest.
    await world.advance_to(DUE_1)
    groups = digests_in(world.emu.dms_to(boss))
    assert len(groups) == 2
    assert messages(groups[1]) == 0


async def test_a_preview_on_monday_is_next_weeks_digest(world: HearthWorld) -> None:
    alice, boss = world.person("alice"), world.person("sponsor")
    await world.create_community(COMMUNITY, members={alice: "carer"})
    await sponsor(world, boss)
    lounge = world.channel("carers-voice-lounge")
    await world.advance(timedelta(hours=1))
    await post(world, lounge, alice, 2)
    await world.advance_to(DUE_1)
    assert len(digests_in(world.emu.dms_to(boss))) == 1

    # Five minutes after the digest went: the preview is next week's digest, not five minutes.
    await world.advance(timedelta(minutes=5))
    early = shown_messages(await world.slash(world.owner, "digest preview", community=COMMUNITY))
    assert "week of 18 January 2027" in embed_text(early), embed_text(early)[:400]
    assert "09:05" not in embed_text(early).splitlines()[0]

    # The day before, with the week's messages in: the preview is what the sponsor gets.
    await world.advance_to(DUE_2 - timedelta(days=1))
    await post(world, lounge, alice, 4)
    await world.advance(timedelta(hours=1))
    preview = shown_messages(await world.slash(world.owner, "digest preview", community=COMMUNITY))
    await world.advance_to(DUE_2)
    delivered = digests_in(world.emu.dms_to(boss))[1]
    assert [m.embeds for m in preview] == [m.embeds for m in delivered]
    assert [(a.filename, a.data) for m in preview for a in m.attachments] == [
        (a.filename, a.data) for m in delivered for a in m.attachments
    ]
    assert messages(delivered) == 4


async def _schedule_meeting(world: HearthWorld, when: str) -> Any:
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Winter gathering", when=when)  # fmt: skip
    assert "Scheduled **Winter gathering**" in rec.content, rec.content
    assert world.bot is not None
    comm = await world.community_row(COMMUNITY)
    [meeting] = await world.bot.get_cog("MeetingsCog").service.repo.upcoming(  # type: ignore[union-attr]
        comm.id, world.clock.now()
    )
    return meeting


async def _write_notes(world: HearthWorld, meeting_id: int, text: str) -> None:
    rec = await world.slash(world.owner, "meeting notes", meeting=str(meeting_id))
    assert rec.modal is not None, rec.content
    rows = rec.modal["components"]
    ids = [c["components"][0]["custom_id"] for c in rows if c.get("type") == 1]
    ids = ids or [rows[0]["component"]["custom_id"]]
    saved = await world.emu.submit_modal(world.owner, rec, {ids[0]: text})
    assert "Saved the notes" in saved.content, saved.content


async def test_meeting_notes_written_after_the_week_reach_the_sponsor(world: HearthWorld) -> None:
    alice, boss = world.person("alice"), world.person("sponsor")
    await world.create_community(COMMUNITY, members={alice: "carer"})
    await sponsor(world, boss)
    meeting = await _schedule_meeting(world, "2027-01-15 18:30")  # Friday of the first week
    await world.advance_to(meeting.end_utc + timedelta(hours=1))
    await world.advance_to(DUE_1)
    [first] = digests_in(world.emu.dms_to(boss))
    assert "Winter gathering" in text_file_of(first)
    assert "LATENOTES" not in text_file_of(first)

    # The facilitator writes the notes on Wednesday of the next week.
    await world.advance_to(DUE_1 + timedelta(days=2))
    await _write_notes(world, meeting.id, "LATENOTES we agreed to write to the trust.")
    await world.advance_to(DUE_2)
    second = digests_in(world.emu.dms_to(boss))[1]
    assert "LATENOTES" in text_file_of(second), text_file_of(second)[:2000]
    assert "LATENOTES" in embed_text(second)
