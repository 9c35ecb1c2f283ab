"""Issue 11, end to end: a story saved from a private discipline circle is never shown to a
wider audience than could already read it until its teller agrees.

"Save as story" on a circle message stores the story but posts nothing in the community's
stories channel: the author confirms the wider audience on the spot; a member whose message
a facilitator saved is asked by DM (audience and consent together). Until then the story is
listed only to people who can read the circle (and its teller), and nothing of it reaches a
sponsor, whatever its consent level.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.services.story_offers import shareable_stories_for_digest
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.story_draft import post_draft, submit_and_post
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
CHOICES = ("keep", "group", "anonymous", "named")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        yield w


async def _setup(world: HearthWorld, **closed: bool) -> dict[str, UserState]:
    """Two GPs (gina, gus) and two nurses (nora, nell), each discipline with its circle.
    ``closed`` names people whose DMs are closed."""
    people = {
        name: world.person(name, dms_open=not closed.get(name, False))
        for name in ("gina", "gus", "nora", "nell")
    }
    disciplines = {"gina": "gp", "gus": "gp", "nora": "nurse", "nell": "nurse"}
    await world.create_community(
        COMMUNITY, circles="gp, nurse",
        members={people[n]: d for n, d in disciplines.items()},
    )
    return people


def _forum(world: HearthWorld) -> Any:
    return world.channel("carers-voice-stories")


def _posted(world: HearthWorld) -> list[MessageState]:
    """Everything the bot has put in the stories forum (thread starters)."""
    return [
        m for t in world.emu.threads_in(_forum(world)) for m in world.emu.messages_in(t)
        if m.author.bot
    ]


async def _rows(world: HearthWorld) -> list[Any]:
    assert world.db is not None
    return await world.db.fetchall("SELECT * FROM stories ORDER BY id")


async def _listed(world: HearthWorld, user: UserState) -> str:
    rec = await world.slash(user, "story list", community=COMMUNITY)
    assert rec.ephemeral and rec.embeds, rec.all_text
    return rec.all_text


async def _digest_view(world: HearthWorld) -> tuple[list[Any], int]:
    assert world.db is not None
    comm = await world.community_row(COMMUNITY)

    async def names(_: int) -> str | None:
        return "someone"

    now = world.clock.now()
    return await shareable_stories_for_digest(
        world.db, comm.id, now - timedelta(days=1), now + timedelta(days=1), names
    )


async def _settled(click: InteractionRecord) -> None:
    """A button answered with a deferred update finishes when its message is edited."""
    await click.wait_response()
    if click.response_type == 6:
        await click.wait_edits()


def _now_reads(world: HearthWorld, msg: MessageState) -> str:
    return world.emu.get_message(world.emu.get_channel(msg.channel_id), msg.id).content


# --------------------------------------------------------------------------- the author


async def test_author_saving_a_circle_message_posts_nothing_until_they_confirm(
    world: HearthWorld,
) -> None:
    p = await _setup(world)
    gina, gus, nora = p["gina"], p["gus"], p["nora"]
    circle = world.channel("carers-voice-gp-circle")
    words = "CIRCLEWORDS the consultant rang me at home after the clinic."
    msg = await world.emu.post_message(circle, gina, words)

    rec = await world.emu.message_command(world.guild, gina, "Save as story", msg)
    # Her own words: the draft first (nothing kept until Post), then the audience question.
    assert "not posted yet" in rec.content and await _rows(world) == [], rec.content
    await post_draft(world.emu, gina, rec)
    # Not in the stories channel, not in another discipline's list, not for a sponsor.
    assert world.emu.threads_in(_forum(world)) == []
    assert "CIRCLEWORDS" not in await _listed(world, nora)
    assert await _digest_view(world) == ([], 0)
    # She is asked, on the spot, whether the whole community may read it.
    assert rec.ephemeral, rec.content
    assert "not posted yet" in rec.content and "the whole community" in rec.content, rec.content
    assert all_custom_ids(rec.components) == [
        *(f"story:audience:1:{c}" for c in CHOICES), "story:consent:1:withdrawn",
    ]
    row = (await _rows(world))[0]
    assert row["text"] == words and row["audience_channel_id"] == circle.id
    assert row["consent"] == "group" and row["post_channel_id"] is None
    # The circle's own readers (and the teller) do see it, marked as confined to the circle.
    for reader in (gina, gus):
        seen = await _listed(world, reader)
        assert "CIRCLEWORDS" in seen and f"only in <#{circle.id}>" in seen, seen

    # She confirms: now posted for everyone, still `group` (it stays in the community).
    confirm = rec.reply
    assert confirm is not None
    yes = await world.emu.click(gina, confirm, "story:audience:1:group")
    await _settled(yes)
    assert "now posted in" in _now_reads(world, confirm)
    [starter] = _posted(world)
    assert starter.embeds[0]["description"] == words and "gina" in starter.content
    row = (await _rows(world))[0]
    assert row["audience_channel_id"] is None and row["consent"] == "group"
    assert row["post_channel_id"] == world.emu.threads_in(_forum(world))[0].id
    assert "CIRCLEWORDS" in await _listed(world, nora)
    assert await _digest_view(world) == ([], 1)  # group: counted as kept, never shared


async def test_a_circle_story_at_named_reaches_no_sponsor_digest(world: HearthWorld) -> None:
    p = await _setup(world)
    gina, nora = p["gina"], p["nora"]
    sponsor = world.person("sponsor")
    rec = await world.slash(world.owner, "community sponsor", community=COMMUNITY, member=sponsor)
    assert "now the sponsor" in rec.content, rec.content
    await world.advance(timedelta(hours=1))

    # A facilitator saves gina's circle message; she sets `named` but never opens it up.
    circle = world.channel("carers-voice-gp-circle")
    said = await world.emu.post_message(circle, gina, "CIRCLENAMED the registrar cried too.")
    saved = await world.emu.message_command(world.guild, world.owner, "Save as story", said)
    named = await world.slash(gina, "story consent", story=1, level="named")
    # ... and saves one of her own circle messages, also set to `named`, also never opened.
    own = await world.emu.post_message(circle, gina, "CIRCLEOWN nobody told us the plan.")
    await post_draft(
        world.emu, gina, await world.emu.message_command(world.guild, gina, "Save as story", own)
    )
    await world.slash(gina, "story consent", story=2, level="named")
    # The positive control: a named story told to the whole community.
    share = await world.slash(nora, "story share", community=COMMUNITY, consent="named")
    assert share.modal is not None
    await submit_and_post(world.emu, nora, share, {"title": "OPENTITLE", "text": "Open words."})
    await world.advance(timedelta(hours=1))

    sent = await world.slash(world.owner, "digest send", community=COMMUNITY)
    assert "Sent the digest" in sent.content, sent.content
    dms = [m for m in world.emu.dms_to(sponsor) if m.embeds]
    full_text = [
        a.data.decode("utf-8") for m in dms for a in m.attachments if a.filename.endswith(".txt")
    ]
    assert len(full_text) == 1
    embeds = json.dumps([m.embeds for m in dms], ensure_ascii=False)
    for body in (full_text[0], embeds):
        assert "OPENTITLE" in body  # the scan looks where stories would be
        for marker in ("CIRCLENAMED", "CIRCLEOWN", "registrar", "nobody told us"):
            assert marker not in body, marker
    shared, kept = await _digest_view(world)
    assert [s.title for s in shared] == ["OPENTITLE"] and kept == 0

    # What gina was told: stored as `named`, still confined to the circle, and how to open it.
    assert "not posted" in saved.content, saved.content
    assert "now **named**" in named.content and "still visible only" in named.content
    assert "story:audience:1:group" in all_custom_ids(named.components)
    rows = await _rows(world)
    assert [(r["consent"], r["audience_channel_id"]) for r in rows[:2]] == [
        ("named", circle.id), ("named", circle.id),
    ]
    assert world.emu.threads_in(_forum(world))[0].name == "OPENTITLE"
    assert len(world.emu.threads_in(_forum(world))) == 1


# --------------------------------------------------------------------------- a facilitator


async def test_facilitators_save_is_posted_only_when_the_teller_agrees_by_dm(
    world: HearthWorld,
) -> None:
    p = await _setup(world)
    nora, nell, gus = p["nora"], p["nell"], p["gus"]
    circle = world.channel("carers-voice-nurse-circle")
    said = await world.emu.post_message(circle, nora, "NURSEWORDS the ward manager backed me.")

    rec = await world.emu.message_command(world.guild, world.owner, "Save as story", said)
    assert world.emu.threads_in(_forum(world)) == []
    assert rec.ephemeral and "not posted" in rec.content, rec.content
    assert "asked nora by direct message" in rec.content, rec.content
    dm = world.emu.dms_to(nora)[-1]
    assert "not posted" in dm.content and "the whole community" in dm.content, dm.content
    assert all_custom_ids(dm.components) == [
        *(f"story:audience:1:{c}" for c in CHOICES), "story:consent:1:withdrawn",
    ]
    row = (await _rows(world))[0]
    assert row["consent_request"] == "dm" and row["audience_channel_id"] == circle.id
    assert world.emu.threads_in(_forum(world)) == []
    assert "NURSEWORDS" not in await _listed(world, gus)
    assert "NURSEWORDS" in await _listed(world, nell)

    # The buttons survive a restart; only the teller may answer.
    await world.restart()
    assert world.emu.threads_in(_forum(world)) == []
    other = await world.emu.click(world.owner, dm, "story:audience:1:named")
    assert other.ephemeral and "Only the person who told story #1" in other.content
    assert world.emu.threads_in(_forum(world)) == []

    answer = await world.emu.click(nora, dm, "story:audience:1:anonymous")
    await _settled(answer)
    assert "now posted in" in _now_reads(world, dm)
    [starter] = _posted(world)
    assert "nora" not in starter.content and "a member of the community" in starter.content
    row = (await _rows(world))[0]
    assert (row["consent"], row["consent_request"], row["audience_channel_id"]) == (
        "anonymous", None, None,
    )
    assert "NURSEWORDS" in await _listed(world, gus)
    shared, _ = await _digest_view(world)
    assert [s.text for s in shared] == ["NURSEWORDS the ward manager backed me."]


async def test_declined_stays_in_the_circle_and_is_never_posted(world: HearthWorld) -> None:
    p = await _setup(world, gina=True)  # gina's DMs are closed
    gina, gus, nora = p["gina"], p["gus"], p["nora"]
    circle = world.channel("carers-voice-gp-circle")
    said = await world.emu.post_message(circle, gina, "KEPTWORDS we changed the rota.")
    rec = await world.emu.message_command(world.guild, world.owner, "Save as story", said)
    assert world.emu.threads_in(_forum(world)) == []
    assert "direct messages are closed" in rec.content, rec.content

    # Asked in the app at her next story command, with the same audience question.
    listing = await world.slash(gina, "story list", community=COMMUNITY)
    await listing.wait_followups(1)
    ask = listing.followups[-1]
    assert ask.ephemeral and "not posted" in ask.content, ask.content
    no = await world.emu.click(gina, ask, "story:audience:1:keep")
    await _settled(no)
    assert "stays in" in _now_reads(world, ask)
    row = (await _rows(world))[0]
    assert (row["consent"], row["consent_request"], row["audience_channel_id"]) == (
        "group", None, circle.id,
    )
    later = await world.slash(gina, "story list", community=COMMUNITY)
    assert all("story #1" not in f.content for f in later.followups)

    # Her own save, discarded: a tombstone only, and nothing was ever posted.
    own = await world.emu.post_message(circle, gina, "GONEWORDS not for anyone else.")
    mine = await world.emu.message_command(world.guild, gina, "Save as story", own)
    await post_draft(world.emu, gina, mine)
    assert mine.reply is not None
    gone = await world.emu.click(gina, mine.reply, "story:consent:2:withdrawn")
    await _settled(gone)
    row = (await _rows(world))[1]
    assert row["consent"] == "withdrawn" and row["text"] is None

    assert world.emu.threads_in(_forum(world)) == []
    assert [m for m in world.emu.messages_in(_forum(world)) if m.author.bot] == []
    assert "KEPTWORDS" not in await _listed(world, nora)
    assert "KEPTWORDS" in await _listed(world, gus)
    assert await _digest_view(world) == ([], 0)
