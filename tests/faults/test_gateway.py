"""Gateway drops: the emulator closes the bot's websocket again and again while people vote,
share stories and scheduled work comes due. The bot resumes (and once re-identifies after
its session is invalidated); every scheduled effect happens exactly once, and every
interaction sent while the socket was down is answered once it is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.story_draft import post_draft
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
PROMPT_DUE = (datetime(2027, 1, 13, 10, tzinfo=UTC), datetime(2027, 1, 20, 10, tzinfo=UTC))
DIGEST_DUE = datetime(2027, 1, 18, 9, tzinfo=UTC)
MEETING = datetime(2027, 1, 20, 18, 30, tzinfo=UTC)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now
        yield w


def no_identify_wait(world: HearthWorld) -> None:
    """discord.py waits 5 s before a non-initial IDENTIFY (Discord's identify rate limit);
    the emulator has no such limit, so the test bot skips the wait (see the emulator README)."""

    async def hook(shard_id: int | None, *, initial: bool = False) -> None:
        return None

    assert world.bot is not None
    world.bot.before_identify_hook = hook  # type: ignore[method-assign]


def lounge_prompts(world: HearthWorld) -> list[MessageState]:
    return [m for m in world.emu.messages_in(world.channel("carers-voice-lounge"))
            if m.author.bot and m.content.startswith("**Story prompt**")]


def reminders_to(world: HearthWorld, user: UserState) -> list[str]:
    return [m.content for m in world.emu.dms_to(user) if m.content.startswith("Reminder:")]


def meeting_fallbacks(world: HearthWorld) -> list[MessageState]:
    return [m for m in world.emu.messages_in(world.channel("carers-voice-meetings"))
            if "I could not send you a direct message" in m.content]


def poll_results(world: HearthWorld) -> list[MessageState]:
    return [m for m in world.emu.messages_in(world.channel("carers-voice-voice"))
            if m.embeds and str(m.embeds[0].get("title", "")).startswith("Results")]


def turnout(msg: MessageState) -> str:
    """The results embed's Turnout field ("4 of 8 members (50%)")."""
    [value] = [f["value"] for f in msg.embeds[0].get("fields") or [] if f["name"] == "Turnout"]
    return str(value)


def digests_to(world: HearthWorld, user: UserState) -> list[MessageState]:
    return [m for m in world.emu.dms_to(user)
            if any(a.filename.endswith(".txt") for a in m.attachments)]


async def drop(world: HearthWorld) -> None:
    """Close the socket and wait until the bot has resumed."""
    resumes = world.emu.gateway.resume_count
    await world.emu.drop_gateway()
    await world.emu.wait_for(lambda: world.emu.gateway.resume_count > resumes, 20,
                             "the bot to resume after a drop")


async def while_dropped(world: HearthWorld, action: Any) -> Any:
    """Run `action` (an awaitable) while the socket is down: what it sends to the bot is
    held by the emulator and replayed on RESUME."""
    resumes = world.emu.gateway.resume_count
    await world.emu.drop_gateway()
    result = await action
    await world.emu.wait_for(lambda: world.emu.gateway.resume_count > resumes, 20,
                             "the bot to resume after a drop")
    return result


async def test_bot_resumes_through_drops_and_scheduled_effects_happen_once(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    emu = world.emu
    people = [world.person(f"m{i}") for i in range(6)]
    closed = world.person("closed", dms_open=False)
    sponsor = world.person("sponsor")
    await world.create_community(COMMUNITY, members={p: "carer" for p in [*people, closed]})
    rec = await world.slash(world.owner, "community sponsor", community=COMMUNITY,
                            member=sponsor)
    assert "now the sponsor" in rec.content, rec.content
    rec = await world.slash(world.owner, "story schedule", community=COMMUNITY,
                            cadence="weekly")
    assert "every Wednesday at 10:00" in rec.content, rec.content
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Monthly gathering", when="2027-01-20 18:30")
    assert "Scheduled" in rec.content, rec.content
    rec = await world.slash(world.owner, "poll create", options={
        "community": COMMUNITY, "question": "Next topic?", "kind": "single",
        "options": "Sleep; Respite; Money", "closes": "in 3 days"})
    assert "Posted" in rec.content, rec.content
    [poll_msg] = [m for m in emu.messages_in(world.channel("carers-voice-voice"))
                  if m.components]

    # votes clicked while the socket is down reach the bot when it resumes
    clicks = await while_dropped(world, asyncio.gather(*(
        emu.click(p, poll_msg, f"poll:1:v:{i % 3}", wait=False)
        for i, p in enumerate(people[:3])
    )))
    for r in clicks:
        await r.wait_final(10)
        assert "recorded" in r.content, r.content

    # a drop between the click on a prompt's button and the modal submit
    await world.advance_to(PROMPT_DUE[0])
    [prompt] = lounge_prompts(world)
    cid = (await world.community_row(COMMUNITY)).id
    click = await emu.click(people[0], prompt, f"story:share:{cid}")
    assert click.modal is not None
    await drop(world)
    sub = await emu.submit_modal(people[0], click, {"title": "Calm", "text": "It helped."})
    assert "not posted yet" in sub.content, sub.content  # the draft: nothing stored yet
    posted = await post_draft(emu, people[0], sub)
    assert "saved as #1" in posted.content, posted.content

    # time moves in 5-hour steps until after the meeting; the socket drops at every step,
    # sometimes while due jobs are running, and one drop invalidates the session
    no_identify_wait(world)
    start = world.clock.now()
    due = {MEETING - timedelta(days=7), MEETING - timedelta(days=1), MEETING - timedelta(hours=1),
           DIGEST_DUE, PROMPT_DUE[1], datetime(2027, 1, 14, 9, tzinfo=UTC)}  # + poll close
    timeline = sorted(due | {start + timedelta(hours=5 * k) for k in range(1, 40)})
    timeline = [t for t in timeline if t <= MEETING + timedelta(hours=2)]
    for step, now in enumerate(timeline, start=1):
        if step == 7:
            await emu.invalidate_sessions()
            await emu.wait_for(lambda: emu.gateway.identify_count == 2, 20)
            await world.advance_to(now)
        elif step % 2:
            await asyncio.gather(world.advance_to(now), emu.drop_gateway())
            await emu.wait_for(lambda: any(s.ws is not None for s in emu.sessions), 20)
        else:
            await drop(world)
            await world.advance_to(now)
        if step == 3:  # more votes during the run, one of them while dropped
            late = await while_dropped(
                world, emu.click(people[3], poll_msg, "poll:1:v:1", wait=False)
            )
            await late.wait_final(10)
            assert "recorded" in late.content, late.content

    assert emu.gateway.resume_count >= 15 and emu.gateway.identify_count == 2
    # every scheduled effect, exactly once
    assert len(lounge_prompts(world)) == len(PROMPT_DUE)
    [results] = poll_results(world)
    assert turnout(results).startswith("4 of 8 members"), turnout(results)
    for p in [world.owner, *people]:
        assert len(reminders_to(world, p)) == 3, (p.name, reminders_to(world, p))
    assert len([m for m in meeting_fallbacks(world) if f"<@{closed.id}>" in m.content]) == 3
    assert len(digests_to(world, sponsor)) == 1
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM story_prompts_posted") == 2
    assert await world.db.fetchval("SELECT COUNT(*) FROM digests WHERE state = 'sent'") == 1
    assert await world.db.fetchval("SELECT COUNT(*) FROM stories") == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
