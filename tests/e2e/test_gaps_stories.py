"""A per-community prompt library, end to end with every cog loaded.

The configuration (a copy of bot/defaults/hearth.toml with a ``[stories.community_prompts]``
table) gives "Carers Voice" its own library, keyed by the community's slug; "Nurses Circle"
has none and uses the shared one. Prompts posted on schedule and by `/story prompt` must come
from the community's own library, and none repeats in a community until its library is
used up, across a restart too.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.hearth import ROOT, HearthWorld, hearth_world
from tests.emulator.interactions import all_custom_ids

CARERS_LIBRARY = [
    "What does a good day of caring look like?",
    "Who helped you most when you started caring, and how?",
    "Tell us about a time you had to speak up for the person you care for.",
    "What would you tell a new carer on their first day?",
]
FIRST_DUE = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)  # Wednesday 10:00 London (GMT)


def write_config(tmp_path: Path) -> Path:
    """The shipped config plus a library for the community whose slug is carers-voice."""
    text = (ROOT / "bot" / "defaults" / "hearth.toml").read_text(encoding="utf-8")
    # TOML strings are JSON-compatible for plain text like this.
    text += (
        "\n[stories.community_prompts]\n"
        f"carers-voice = {json.dumps(CARERS_LIBRARY, ensure_ascii=False)}\n"
    )
    path = tmp_path / "hearth-libraries.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    extra = {"HEARTH_CONFIG": str(write_config(tmp_path))}
    async with hearth_world(tmp_path, settings_extra=extra) as w:
        yield w


def prompts_in(world: HearthWorld, slug: str) -> list[str]:
    lounge = world.channel(f"{slug}-lounge")
    texts = []
    for m in world.emu.messages_in(lounge):
        if m.author.bot and m.content.startswith("**Story prompt**"):
            line = m.content.split("\n")[1]
            assert line.startswith("> ")
            texts.append(line[2:])
    return texts


async def test_each_community_draws_from_its_own_library_without_repeats(
    world: HearthWorld,
) -> None:
    cfg = world.config.stories
    assert cfg.library_for("carers-voice") == CARERS_LIBRARY  # the temp config was loaded
    shared = cfg.prompts
    assert not set(shared) & set(CARERS_LIBRARY)
    alice, nadia = world.person("alice"), world.person("nadia")
    await world.create_community("Carers Voice", members={alice: "carer"})
    await world.create_community("Nurses Circle", members={nadia: "nurse"})
    carers = await world.community_row("Carers Voice")
    nurses = await world.community_row("Nurses Circle")
    assert (carers.slug, nurses.slug) == ("carers-voice", "nurses-circle")
    for name in ("Carers Voice", "Nurses Circle"):
        rec = await world.slash(world.owner, "story schedule", community=name, cadence="weekly")
        assert rec.ephemeral and "weekly, every Wednesday at 10:00" in rec.content, rec.content

    # Week 1 on schedule, then one more now by hand, then a restart.
    await world.advance_to(FIRST_DUE)
    rec = await world.slash(world.owner, "story prompt", community="Carers Voice")
    assert rec.ephemeral and rec.content.startswith("Posted in"), rec.content
    assert len(prompts_in(world, "carers-voice")) == 2
    await world.restart()

    # Weeks 2 and 3: the carers' library (4 prompts) is now used up, each exactly once.
    await world.advance_to(FIRST_DUE + timedelta(weeks=1))
    await world.advance_to(FIRST_DUE + timedelta(weeks=2))
    first_cycle = prompts_in(world, "carers-voice")
    assert len(first_cycle) == len(CARERS_LIBRARY)
    assert sorted(first_cycle) == sorted(CARERS_LIBRARY)

    # The next cycle starts over within the same library, never with the prompt just used,
    # and again uses every prompt once before any repeats.
    for week in range(3, 7):
        await world.advance_to(FIRST_DUE + timedelta(weeks=week))
    posted = prompts_in(world, "carers-voice")
    second_cycle = posted[len(CARERS_LIBRARY) :]
    assert len(second_cycle) == len(CARERS_LIBRARY)
    assert sorted(second_cycle) == sorted(CARERS_LIBRARY)
    assert second_cycle[0] != first_cycle[-1]

    # The other community uses the shared library, one prompt a week, no repeats so far,
    # and never a prompt from the carers' own library.
    nurse_prompts = prompts_in(world, "nurses-circle")
    assert len(nurse_prompts) == 7
    assert len(set(nurse_prompts)) == 7 and set(nurse_prompts) <= set(shared)

    # The prompts carry each community's own share button; what was stored matches.
    lounge = world.channel("carers-voice-lounge")
    buttons = {
        cid
        for m in world.emu.messages_in(lounge)
        if m.author.bot and m.content.startswith("**Story prompt**")
        for cid in all_custom_ids(m.components)
    }
    assert buttons == {f"story:share:{carers.id}"}
    assert world.db is not None
    stored = await world.db.fetchall(
        "SELECT prompt_text FROM story_prompts_posted WHERE community_id = :community ORDER BY id",
        {"community": carers.id},
    )
    assert [r["prompt_text"] for r in stored] == posted
