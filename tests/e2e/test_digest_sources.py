"""The sponsor digest fed by real activity: polls, statement rounds and meetings driven
through the commands and components (not seeded through repositories), membership changes
over several weeks, the trend, and the acknowledgement / check-in lists, which reach the
sponsor (and a facilitator's preview) and never a community channel or a member.

Every cog is loaded, as in production; time moves only through world.advance*.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.domain.test_digest_plain_words import BANNED, RAW_CODES
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.test_digest import digests_in, embed_text, post, shown_messages, text_file_of
from tests.emulator.interactions import all_custom_ids
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
DUE_1 = datetime(2027, 1, 18, 9, tzinfo=UTC)  # Monday 09:00 London (GMT), the default


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now  # Discord refuses events "in the past" by the test's time
        yield w


def last_with_components(world: HearthWorld, channel: str) -> MessageState:
    msgs = [m for m in world.emu.messages_in(world.channel(channel)) if m.components]
    assert msgs, f"no message with components in {channel}"
    return msgs[-1]


async def sponsor_community(world: HearthWorld, members: dict[UserState, str]) -> UserState:
    sponsor = world.person("sponsor")
    await world.create_community(COMMUNITY, members=members)
    rec = await world.slash(world.owner, "community sponsor", community=COMMUNITY,
                            member=sponsor)  # fmt: skip
    assert "now the sponsor" in rec.content, rec.content
    return sponsor


async def make_poll(world: HearthWorld, question: str, closes: str | None = None) -> int:
    opts: dict[str, Any] = {"community": COMMUNITY, "question": question,
                            "options": "Yes; No; Unsure", "kind": "single"}  # fmt: skip
    if closes:
        opts["closes"] = closes
    rec = await world.slash(world.owner, "poll create", options=opts)
    assert "Posted" in rec.content, rec.content
    msg = last_with_components(world, "carers-voice-voice")
    return int(all_custom_ids(msg.components)[0].split(":")[1])


async def vote(world: HearthWorld, user: UserState, poll_id: int, option: int) -> None:
    msg = next(m for m in reversed(world.emu.messages_in(world.channel("carers-voice-voice")))
               if f"poll:{poll_id}:v:{option}" in all_custom_ids(m.components))  # fmt: skip
    r = await world.emu.click(user, msg, f"poll:{poll_id}:v:{option}")
    assert "recorded" in r.content, r.content


async def vote_statements(world: HearthWorld, user: UserState, round_id: int, code: str) -> None:
    start = await world.emu.click(
        user, last_with_components(world, "carers-voice-voice"), f"stmt:{round_id}:start"
    )
    assert start.reply is not None, start.content
    flow = start.reply
    while flow.components:
        sid = int(all_custom_ids(flow.components)[0].split(":")[3])
        await world.emu.click(user, flow, f"stmt:{round_id}:v:{sid}:{code}")


def bot_posts_in_guild(world: HearthWorld) -> list[str]:
    """Everything the bot posted in any guild channel: content, embeds and attached text."""
    out = []
    for ch in world.emu.channels_in(world.guild):
        for m in world.emu.messages_in(ch):
            if m.author.id != world.emu.bot_user.id:
                continue
            parts = [m.content]
            for e in m.embeds:
                parts += [str(e.get("title") or ""), str(e.get("description") or "")]
                parts += [f"{f['name']} {f['value']}" for f in e.get("fields") or []]
            for a in m.attachments:
                if a.filename.endswith((".md", ".txt", ".json", ".html")):
                    parts.append(a.data.decode("utf-8", "replace"))
            out.append("\n".join(parts))
    return out


PRIVATE_MARKERS = ("People to thank", "People to check in with", "late at night",
                   "has not posted for", "for you and the facilitators only")  # fmt: skip


async def test_polls_statements_and_meetings_run_through_commands_reach_the_digest(
    world: HearthWorld,
) -> None:
    alice, bob, cara = world.person("alice"), world.person("bob"), world.person("cara")
    sponsor = await sponsor_community(world, {alice: "nurse", bob: "gp", cara: "carer"})
    assert world.db is not None

    # A poll closed by the facilitator this week, and one still open with some turnout.
    closed_poll = await make_poll(world, "Should we meet in the evenings?")
    await vote(world, alice, closed_poll, 0)
    await vote(world, bob, closed_poll, 0)
    await vote(world, cara, closed_poll, 1)
    open_poll = await make_poll(world, "Move to Thursdays?", closes="in 14 days")
    await vote(world, cara, open_poll, 2)

    # A statement round that closes within the week.
    for who, said in ((alice, "Carers need more respite"), (bob, "Letters are unclear")):
        added = await world.slash(who, "statement add", community=COMMUNITY, text=said)
        assert "Added" in added.content, added.content
    opened = await world.slash(world.owner, "statement round", community=COMMUNITY,
                               closes="in 1 day")  # fmt: skip
    assert "Opened statement round #1" in opened.content, opened.content
    for who in (world.owner, alice, bob, cara):
        await vote_statements(world, who, 1, "a")

    # A meeting held this week (RSVPs, notes and attendance) and one still to come.
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Winter gathering", when="2027-01-13 18:30")  # fmt: skip
    assert "Scheduled" in rec.content, rec.content
    held_msg = last_with_components(world, "carers-voice-meetings")
    held_id = int(all_custom_ids(held_msg.components)[0].split(":")[1])
    await world.emu.click(alice, held_msg, f"rsvp:{held_id}:going")
    await world.emu.click(bob, held_msg, f"rsvp:{held_id}:maybe")
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Spring gathering", when="2027-02-10 18:30")  # fmt: skip
    assert "Scheduled" in rec.content, rec.content
    next_msg = last_with_components(world, "carers-voice-meetings")
    next_id = int(all_custom_ids(next_msg.components)[0].split(":")[1])
    await world.emu.click(bob, next_msg, f"rsvp:{next_id}:going")
    await world.emu.click(alice, next_msg, f"rsvp:{next_id}:maybe")
    await world.emu.click(cara, next_msg, f"rsvp:{next_id}:cant")

    await world.advance_to(datetime(2027, 1, 12, 12, tzinfo=UTC))  # the round has closed
    closed = await world.slash(world.owner, "poll close", poll=str(closed_poll))
    assert "Sorry" not in closed.all_text, closed.all_text
    await world.advance_to(datetime(2027, 1, 13, 21, tzinfo=UTC))  # the meeting is over
    notes = await world.slash(world.owner, "meeting notes", meeting=str(held_id))
    assert notes.modal is not None, notes.all_text
    [field_id] = all_custom_ids(notes.modal["components"])
    said = "We agreed to write to the trust."
    saved = await world.emu.submit_modal(world.owner, notes, {field_id: said})
    assert "Saved the notes" in saved.content, saved.content
    pick = await world.emu.select(world.owner, saved.reply, f"attend:{held_id}",  # type: ignore[arg-type]
                                  [alice, cara])  # fmt: skip
    assert "Marked 2 people present" in pick.content, pick.content

    poll_statement = await world.db.fetchval(
        "SELECT collective_statement FROM polls WHERE id = :id", {"id": closed_poll})
    round_statement = await world.db.fetchval(
        "SELECT collective_statement FROM statement_rounds WHERE id = 1")
    assert poll_statement and round_statement
    assert "3 of 4 members voted; 2 of 3 chose “Yes”" in poll_statement, poll_statement
    # (Consensus needs more votes per statement than four members can give: see config.)
    assert "4 of 4 members voted on 2 statements" in round_statement, round_statement

    # The facilitator's preview, then the scheduled delivery.
    preview = await world.slash(world.owner, "digest preview", community=COMMUNITY)
    preview_text = "\n".join(embed_text([m]) for m in shown_messages(preview))
    await world.advance_to(DUE_1)
    [group] = digests_in(world.emu.dms_to(sponsor))
    md, text = text_file_of(group), embed_text(group)

    guild = world.guild.id
    poll_at = await world.db.fetchone(
        "SELECT channel_id, message_id FROM polls WHERE id = :id", {"id": closed_poll})
    open_at = await world.db.fetchone(
        "SELECT channel_id, message_id FROM polls WHERE id = :id", {"id": open_poll})
    round_at = await world.db.fetchone(
        "SELECT channel_id, message_id FROM statement_rounds WHERE id = 1")
    held_at = await world.db.fetchone(
        "SELECT announcement_channel_id, announcement_id FROM meetings WHERE id = :id",
        {"id": held_id})
    next_event = await world.db.fetchval(
        "SELECT event_id FROM meetings WHERE id = :id", {"id": next_id}
    )
    assert poll_at and open_at and round_at and held_at and next_event
    links = [
        f"https://discord.com/channels/{guild}/{poll_at[0]}/{poll_at[1]}",
        f"https://discord.com/channels/{guild}/{round_at[0]}/{round_at[1]}",
        f"https://discord.com/channels/{guild}/{open_at[0]}/{open_at[1]}",
        f"https://discord.com/events/{guild}/{next_event}",
        f"https://discord.com/channels/{guild}/{held_at[0]}/{held_at[1]}",
    ]
    for body in (md, text, preview_text):
        # What the group said: the closed poll and round, one claim per sentence...
        assert "Should we meet in the evenings?" in body
        assert "2 of the 3 who voted chose “Yes”." in body
        assert "3 of 4 members voted." in body
        assert "Statements members wrote and voted on" in body
        assert "No statement won the backing of" in body
        assert "4 of 4 members voted." in body
        # ...and the open poll with its turnout so far.
        assert "Still open: Move to Thursdays?" in body
        assert "1 of 4 members have voted so far." in body
        # Meetings: upcoming with who is going; held with attendance and notes.
        assert "Spring gathering" in body and "1 member is going." in body
        assert "1 more may come." in body
        assert "Winter gathering" in body and "Held on Wednesday 13 January 2027" in body
        assert "2 members came." in body and "1 member had said they would go." in body
        assert "We agreed to write to the trust." in body
        # Each links back to its place in Discord, in reading order.
        position = 0
        for url in links:
            found = body.find(url, position)
            assert found >= 0, (url, body[:3000])
            position = found
    assert "[Open this vote in Discord](" in text and "Open this vote in Discord: " in md
    # Plain words for a busy, perhaps older reader: no jargon, no raw role codes, anywhere.
    for body in (md, text, preview_text):
        for pattern in BANNED:
            assert not re.search(pattern, body, re.IGNORECASE), pattern
        for pattern in RAW_CODES:
            assert not re.search(pattern, body), pattern
    assert md.count("* Winter gathering") == 1, "a meeting already held is not upcoming"
    # The summary leads with what the group said and what is coming.
    summary = md.split("IN SHORT")[1].split("WHO TOOK PART")[0]
    assert "Asked “Should we meet in the evenings?”, 2 of the 3 who voted chose “Yes”." in (
        summary)
    assert "The next meeting, “Spring gathering”, is on Wednesday 10 February 2027" in summary

    # The lists for the sponsor's eyes never reach a community channel.
    for posted in bot_posts_in_guild(world):
        for marker in PRIVATE_MARKERS:
            assert marker not in posted, (marker, posted[:200])


async def test_joined_left_trend_and_check_ins_over_several_weeks(world: HearthWorld) -> None:
    alice, bob, quinn = world.person("alice"), world.person("bob"), world.person("quinn")
    sponsor = await sponsor_community(world, {alice: "nurse", bob: "gp", quinn: "carer"})
    lounge = world.channel("carers-voice-lounge")

    # Week 1 (from 11 January): alice 3 messages, quinn 1.
    await world.advance(timedelta(hours=2))
    await post(world, lounge, alice, 3)
    await post(world, lounge, quinn, 1)
    await world.advance_to(DUE_1)
    [week1] = digests_in(world.emu.dms_to(sponsor))
    md1 = text_file_of(week1)
    # Counted, never named (the sponsor is not a member): membership is health information.
    assert "4 members joined." in md1, md1
    assert "Joined" not in md1 and " left." not in md1

    assert "up from" not in md1 and "average" not in md1 and "last week" not in md1, (
        "a new community has no earlier week to compare with")

    # Week 2: bob leaves, dave joins; alice 6 messages, quinn silent.
    removed = await world.slash(world.owner, "community remove", community=COMMUNITY,
                                member=bob)  # fmt: skip
    assert "Removed" in removed.content, removed.content
    dave = world.person("dave")
    added = await world.slash(world.owner, "community add", community=COMMUNITY, member=dave,
                              discipline="patient")  # fmt: skip
    assert "Added" in added.content, added.content
    await world.advance(timedelta(hours=1))
    await post(world, lounge, alice, 6)
    await world.advance_to(DUE_1 + timedelta(weeks=1))
    md2 = text_file_of(digests_in(world.emu.dms_to(sponsor))[1])
    assert "1 member joined." in md2 and "1 member left." in md2, md2
    assert "dave" not in md2 and "bob" not in md2, md2
    assert "Members wrote 6 messages in all." in md2, md2
    assert "That is 50% more messages than last week." in md2, md2
    assert "1 of 4 members posted this week." in md2, md2
    assert "That is 50% fewer people than last week." in md2, md2

    # Weeks 3 and 4: alice keeps posting; quinn, who used to post, stays silent for the
    # configured three weeks and is listed to check in with (sponsor's digest only).
    for week in (2, 3):
        await world.advance(timedelta(hours=1))
        await post(world, lounge, alice, 2)
        await world.advance_to(DUE_1 + timedelta(weeks=week))
    groups = digests_in(world.emu.dms_to(sponsor))
    assert len(groups) == 4
    md3, md4 = text_file_of(groups[2]), text_file_of(groups[3])
    assert "quinn" not in md3.split("PEOPLE TO CHECK IN WITH")[1], "quiet for two weeks only"
    assert "quinn has not posted for 3 weeks." in md4.split("PEOPLE TO CHECK IN WITH")[1], md4
    assert "quinn has not posted for 3 weeks." in embed_text(groups[3])
    assert "That is 50% fewer messages than in an average recent week." in md4, md4
    assert "joined" not in md4 and " left." not in md4

    # Those lists reach the sponsor only: no community channel, no member's DMs.
    for posted in bot_posts_in_guild(world):
        for marker in PRIVATE_MARKERS:
            assert marker not in posted, (marker, posted[:200])
    for member in (alice, bob, quinn, dave):
        for m in world.emu.dms_to(member):
            assert not m.embeds and not m.attachments, m.content[:200]
            assert not any(marker in m.content for marker in PRIVATE_MARKERS), m.content
