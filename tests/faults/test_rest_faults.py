"""REST faults: Discord answers a share of calls with 429 (and the bot retries), and some
with 403/404 because a channel or role was deleted by hand or a member closed their DMs.
The bot recovers or tells the facilitator; nothing is lost or repeated; nothing unexpected
is logged at ERROR.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.emulator.state import ChannelState, MessageState, RoleState, UserState

COMMUNITY = "Carers Voice"
PROMPT_DUE = datetime(2027, 1, 13, 10, tzinfo=UTC)
MEETING = datetime(2027, 1, 20, 18, 30, tzinfo=UTC)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now
        yield w


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def admin_deletes_channel(world: HearthWorld, channel: ChannelState) -> None:
    """A server admin deletes a channel in Discord's UI (state + CHANNEL_DELETE)."""
    del world.guild.channels[channel.id]
    del world.emu.channels[channel.id]
    world.emu.dispatch_channel("CHANNEL_DELETE", channel)


def admin_deletes_role(world: HearthWorld, role: RoleState) -> None:
    """A server admin deletes a role (state + GUILD_ROLE_DELETE)."""
    guild = world.guild
    del guild.roles[role.id]
    for member in guild.members.values():
        if role.id in member.roles:
            member.roles.remove(role.id)
    for channel in guild.channels.values():
        channel.overwrites = [o for o in channel.overwrites if o.id != role.id]
    world.emu.dispatch("GUILD_ROLE_DELETE", {"guild_id": str(guild.id), "role_id": str(role.id)},
                       guild_id=guild.id)


def bot_messages(world: HearthWorld, channel: ChannelState) -> list[MessageState]:
    return [m for m in world.emu.messages_in(channel) if m.author.bot]


def reminders_to(world: HearthWorld, user: UserState) -> list[str]:
    return [m.content for m in world.emu.dms_to(user) if m.content.startswith("Reminder:")]


async def test_a_share_of_429s_delays_but_never_loses_or_repeats_work(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    emu = world.emu
    # one call in three to channels, guilds and DMs is rate limited (interaction answers
    # are not: Discord does not rate limit those the same way)
    rule = emu.rate_limit("*", r"^/(channels|guilds|users)/", retry_after=0.01, times=10_000,
                          every=3)
    people = [world.person(f"m{i}") for i in range(4)]
    await world.create_community(COMMUNITY, members={p: "carer" for p in people})
    rec = await world.slash(world.owner, "story schedule", community=COMMUNITY,
                            cadence="weekly")
    assert "every Wednesday" in rec.content, rec.content
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Monthly gathering", when="2027-01-20 18:30")
    assert "Scheduled" in rec.content, rec.content
    rec = await world.slash(world.owner, "poll create", options={
        "community": COMMUNITY, "question": "Next topic?", "kind": "single",
        "options": "Sleep; Respite", "closes": "in 3 days"})
    assert "Posted" in rec.content, rec.content
    voice = world.channel("carers-voice-voice")
    [poll_msg] = [m for m in emu.messages_in(voice) if m.components]
    for i, p in enumerate(people):
        r = await emu.click(p, poll_msg, f"poll:1:v:{i % 2}")
        assert "recorded" in r.content, r.content
    for when in (PROMPT_DUE, datetime(2027, 1, 14, 9, tzinfo=UTC), MEETING - timedelta(days=7),
                 MEETING - timedelta(days=1), MEETING - timedelta(hours=1), MEETING):
        await world.advance_to(when)

    assert sum(r.status == 429 for r in emu.requests) >= 10, "the fault must really bite"
    assert rule.times < 10_000
    # everything exactly once: channels, roles, the prompt, the results, every reminder
    names = [c.name for c in world.guild.channels.values()]
    assert len(names) == len(set(names)), names
    roles = [r.name for r in world.guild.roles.values()]
    assert len(roles) == len(set(roles)), roles
    lounge = world.channel("carers-voice-lounge")
    prompts = [m.content for m in bot_messages(world, lounge)
               if m.content.startswith("**Story prompt**")]
    assert len(prompts) == len(set(prompts)) == 2  # Wednesdays 13 and 20 January
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM story_prompts_posted") == 2
    [results] = [m for m in emu.messages_in(voice)
                 if m.embeds and str(m.embeds[0].get("title", "")).startswith("Results")]
    assert {"name": "Turnout", "value": "4 of 5 members (80%)", "inline": False} in (
        results.embeds[0]["fields"]), results.embeds
    for p in [world.owner, *people]:
        assert len(reminders_to(world, p)) == 3, (p.name, reminders_to(world, p))
    meetings = world.channel("carers-voice-meetings")
    print([(m.content[:80], [e.get("title") for e in m.embeds]) for m in emu.messages_in(meetings)])
    assert len([m for m in emu.messages_in(meetings) if m.embeds]) == 1  # one announcement
    assert not errors(caplog), errors(caplog)


async def test_lounge_deleted_before_a_prompt_is_due(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    alice = world.person("alice")
    await world.create_community(COMMUNITY, members={alice: "carer"})
    rec = await world.slash(world.owner, "story schedule", community=COMMUNITY,
                            cadence="weekly")
    assert "every Wednesday" in rec.content, rec.content
    admin_deletes_channel(world, world.channel("carers-voice-lounge"))
    await world.advance_to(PROMPT_DUE)
    assert world.db is not None
    # the prompt was not posted, so it is not counted as used
    assert await world.db.fetchval("SELECT COUNT(*) FROM story_prompts_posted") == 0
    [told] = [m.content for m in world.emu.dms_to(world.owner)
              if "could not post this week's story prompt" in m.content]
    assert "Carers Voice" in told and "lounge" in told
    assert not errors(caplog), errors(caplog)
    # the schedule goes on: next week's run is armed, and reported again (not repeated
    # silently, not stopped)
    assert world.bot is not None
    assert world.bot.scheduler.next_run("prompt:1") == PROMPT_DUE + timedelta(weeks=1)
    await world.advance_to(PROMPT_DUE + timedelta(weeks=1))
    assert len([m for m in world.emu.dms_to(world.owner)
                if "could not post this week's story prompt" in m.content]) == 2
    assert await world.db.fetchval("SELECT COUNT(*) FROM story_prompts_posted") == 0
    assert not errors(caplog), errors(caplog)


async def test_meetings_channel_deleted_before_an_announcement(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    alice = world.person("alice")
    await world.create_community(COMMUNITY, members={alice: "carer"})
    admin_deletes_channel(world, world.channel("carers-voice-meetings"))
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Monthly gathering", when="2027-01-20 18:30")
    # the facilitator is told; the meeting and its Discord event are kept (once)
    assert "could not find the community's meetings channel" in rec.all_text, rec.all_text
    assert world.db is not None
    [(_mid, event_id)] = [tuple(r) for r in await world.db.fetchall(
        "SELECT id, event_id FROM meetings")]
    assert event_id is not None and len(world.emu.scheduled_events(world.guild)) == 1
    # reminders still reach members, once each
    await world.advance_to(MEETING - timedelta(days=7))
    await world.advance_to(MEETING - timedelta(days=1))
    assert len(reminders_to(world, alice)) == 2
    assert not errors(caplog), errors(caplog)


async def test_member_role_deleted_before_community_add(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    alice = world.person("alice")
    await world.create_community(COMMUNITY)
    role = world.emu.role_by_name(world.guild, "Carers Voice member")
    assert role is not None
    admin_deletes_role(world, role)
    rec = await world.slash(world.owner, "community add", community=COMMUNITY, member=alice,
                            discipline="carer")
    assert rec.ephemeral and "Added" in rec.content, rec.content
    assert "member role no longer exists" in rec.content, rec.content
    assert world.bot is not None
    membership = await world.bot.communities.membership(1, alice.id)
    assert membership is not None and membership.active
    assert not errors(caplog), errors(caplog)


async def test_poll_nudge_skips_members_with_closed_dms_and_sends_once(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    open_ = world.person("open")
    closed = world.person("closed", dms_open=False)
    voted = world.person("voted")
    await world.create_community(COMMUNITY, members={open_: "carer", closed: "carer",
                                                     voted: "carer"})
    rec = await world.slash(world.owner, "poll create", options={
        "community": COMMUNITY, "question": "Next topic?", "kind": "single",
        "options": "Sleep; Respite", "closes": "in 3 days"})
    assert "Posted" in rec.content, rec.content
    [poll_msg] = [m for m in world.emu.messages_in(world.channel("carers-voice-voice"))
                  if m.components]
    await world.emu.click(voted, poll_msg, "poll:1:v:0")
    for _ in range(4):
        await world.advance(timedelta(hours=20))
    nudges = [m for m in world.emu.dms_to(open_) if "have not voted yet" in m.content]
    assert len(nudges) == 1
    for other in (voted, closed):
        assert not [m for m in world.emu.dms_to(other) if "have not voted yet" in m.content]
    assert len([m for m in world.emu.dms_to(world.owner) if "have not voted" in m.content]) == 1
    assert not errors(caplog), errors(caplog)
