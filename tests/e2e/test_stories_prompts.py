"""Story prompts end to end: schedules, the share button, no repeats, and restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.story_draft import submit_and_post
from tests.e2e.test_stories import COMMUNITY
from tests.emulator.interactions import all_custom_ids
from tests.emulator.state import UserState

FIRST_DUE = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)  # Wednesday 10:00 London (GMT)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        yield w


async def _setup(world: HearthWorld) -> tuple[UserState, int]:
    alice = world.person("alice")
    await world.create_community(COMMUNITY, members={alice: "carer"})
    comm = await world.community_row(COMMUNITY)
    return alice, comm.id


def _prompts(world: HearthWorld) -> list[Any]:
    lounge = world.channel("carers-voice-lounge")
    return [
        m for m in world.emu.messages_in(lounge)
        if m.author.bot and m.content.startswith("**Story prompt**")
    ]


def _job(world: HearthWorld, cid: int) -> datetime | None:
    assert world.bot is not None
    return world.bot.scheduler.jobs().get(f"prompt:{cid}")


async def test_weekly_schedule_posts_prompts_without_repeats_until_library_used(
    world: HearthWorld,
) -> None:
    _, cid = await _setup(world)
    rec = await world.slash(world.owner, "story schedule", community=COMMUNITY, cadence="weekly")
    assert rec.ephemeral and "weekly, every Wednesday at 10:00 (Europe/London)" in rec.content
    assert _job(world, cid) == FIRST_DUE
    assert world.db is not None
    row = await world.db.fetchone(
        "SELECT * FROM story_schedules WHERE community_id = :community", {"community": cid}
    )
    assert row is not None
    assert (row["cadence"], row["weekday"], row["time_of_day"]) == ("weekly", 2, "10:00")

    await world.advance_to(FIRST_DUE - timedelta(minutes=1))
    assert _prompts(world) == []
    await world.advance_to(FIRST_DUE)
    posted = _prompts(world)
    assert len(posted) == 1
    assert all_custom_ids(posted[0].components) == [f"story:share:{cid}"]
    assert _job(world, cid) == FIRST_DUE + timedelta(weeks=1)

    library = world.config.stories.prompts
    for _ in range(len(library) - 1):
        await world.advance(timedelta(weeks=1))
    texts = [m.content.split("\n")[1][2:] for m in _prompts(world)]
    assert len(texts) == len(library)
    assert sorted(texts) == sorted(library)  # every prompt once, no repeats
    await world.advance(timedelta(weeks=1))
    thirteenth = _prompts(world)[-1].content.split("\n")[1][2:]
    assert thirteenth in library and thirteenth != texts[-1]


async def test_summer_time_keeps_local_wall_clock(world: HearthWorld) -> None:
    _, cid = await _setup(world)
    await world.slash(world.owner, "story schedule", community=COMMUNITY, cadence="monthly",
                      weekday="friday", time="18:30")
    # First Friday of February 2027 at 18:30 GMT.
    assert _job(world, cid) == datetime(2027, 2, 5, 18, 30, tzinfo=UTC)
    await world.advance_to(datetime(2027, 6, 1, tzinfo=UTC))
    # In June the first Friday (4 June) at 18:30 BST is 17:30 UTC.
    assert _job(world, cid) == datetime(2027, 6, 4, 17, 30, tzinfo=UTC)


async def test_share_button_opens_the_modal_and_saves_a_story(world: HearthWorld) -> None:
    alice, cid = await _setup(world)
    outsider = world.person("outsider")
    rec = await world.slash(world.owner, "story prompt", community=COMMUNITY)
    assert rec.ephemeral and rec.content.startswith("Posted in")
    prompt = _prompts(world)[0]
    assert world.db is not None
    assert await world.db.fetchval(
        "SELECT due_at FROM story_prompts_posted WHERE community_id = :c", {"c": cid}
    ) is None

    refused = await world.emu.click(outsider, prompt, f"story:share:{cid}")
    assert refused.modal is None and "Only members" in refused.content

    click = await world.emu.click(alice, prompt, f"story:share:{cid}")
    assert click.modal is not None
    sub = await submit_and_post(world.emu, alice, click,
                                {"title": "A kind word", "text": "It helped."})
    assert "saved as #1" in sub.content, sub.content
    row = await world.db.fetchone("SELECT * FROM stories")
    assert row is not None
    assert (row["title"], row["consent"], row["teller_id"]) == ("A kind word", "group", alice.id)


async def test_prompt_and_schedule_are_for_facilitators(world: HearthWorld) -> None:
    alice, cid = await _setup(world)
    r1 = await world.slash(alice, "story prompt", community=COMMUNITY)
    r2 = await world.slash(alice, "story schedule", community=COMMUNITY, cadence="weekly")
    for rec in (r1, r2):
        assert rec.ephemeral and "Only a facilitator" in rec.content
    bad = await world.slash(world.owner, "story schedule", community=COMMUNITY,
                            cadence="weekly", time="25:99")
    assert bad.ephemeral and "not a time of day" in bad.content
    assert _prompts(world) == [] and _job(world, cid) is None
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM story_schedules") == 0

    await world.slash(world.owner, "story schedule", community=COMMUNITY, cadence="fortnightly",
                      weekday="monday", time="09:30")
    assert _job(world, cid) is not None
    off = await world.slash(world.owner, "story schedule", community=COMMUNITY, cadence="off")
    assert "off" in off.content and _job(world, cid) is None


async def test_missed_prompt_is_posted_once_after_a_restart(world: HearthWorld) -> None:
    alice, cid = await _setup(world)
    await world.slash(world.owner, "story schedule", community=COMMUNITY, cadence="weekly")

    # A restart before the due time: the job is rebuilt from the database.
    await world.restart()
    assert _job(world, cid) == FIRST_DUE

    # Down across the due time, back two hours later (inside the 12 h grace).
    await world.stop_bot()
    world.clock.set(FIRST_DUE + timedelta(hours=2))
    await world.start_bot()
    await world.advance(timedelta(0))
    assert len(_prompts(world)) == 1
    assert _job(world, cid) == FIRST_DUE + timedelta(weeks=1)

    # Restarting again never posts it a second time.
    await world.restart()
    await world.advance(timedelta(minutes=5))
    assert len(_prompts(world)) == 1
    assert _job(world, cid) == FIRST_DUE + timedelta(weeks=1)
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM story_prompts_posted") == 1
    # The prompt's button still works on a bot that never saw it being sent.
    click = await world.emu.click(alice, _prompts(world)[0], f"story:share:{cid}")
    assert click.modal is not None

    # Down across the next due time for longer than the grace: skipped, not posted late.
    await world.stop_bot()
    world.clock.set(FIRST_DUE + timedelta(weeks=1, hours=13))
    await world.start_bot()
    await world.advance(timedelta(0))
    assert len(_prompts(world)) == 1
    assert _job(world, cid) == FIRST_DUE + timedelta(weeks=2)
    await world.advance_to(FIRST_DUE + timedelta(weeks=2))
    assert len(_prompts(world)) == 2
