"""Issue 14: who may hear a story and its stage are chosen on a draft, before anything is
posted; the plain-language suggestions come first, with a chance to edit; a teller can edit
their story afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.services.story_offers import shareable_stories_for_digest
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.story_draft import POST, post_draft
from tests.e2e.test_stories import COMMUNITY, _cid, _forum, _names, _rows, _setup
from tests.emulator.interactions import all_custom_ids, find_component


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        yield w


def _options(msg: Any, custom_id: str) -> dict[str, dict[str, Any]]:
    comp = find_component(msg.components, custom_id)
    assert comp is not None, all_custom_ids(msg.components)
    return {o["value"]: o for o in comp["options"]}


async def test_consent_and_stage_are_chosen_on_a_draft_before_posting(
    world: HearthWorld,
) -> None:
    users = await _setup(world)
    alice, bob = users["alice"], users["bob"]
    rec = await world.slash(alice, "story share", community=COMMUNITY)
    shown = await world.emu.submit_modal(
        alice, rec, {"title": "The ward", "text": "They spoke of palliative care."})
    draft = shown.reply
    assert draft is not None and draft.ephemeral
    assert "not posted yet" in draft.content
    # the suggestions come before posting
    assert "**palliative**" in draft.content, draft.content
    consent = _options(draft, "story:draft:consent")
    assert [o["label"] for o in consent.values()] == [
        "Keep it in the group", "Share beyond the group without my name", "Share with my name",
    ]
    assert consent["group"].get("default")  # the command's default
    stage = _options(draft, "story:draft:stage")
    assert "treatment" in stage and "-" in stage
    assert {"story:draft:post", "story:draft:edit", "story:draft:cancel"} <= set(
        all_custom_ids(draft.components))
    # nothing is stored or posted yet
    assert await _rows(world) == [] and not world.emu.threads_in(_forum(world))

    await world.emu.select(alice, draft, "story:draft:consent", ["anonymous"])
    await world.emu.select(alice, draft, "story:draft:stage", ["treatment"])
    assert "Share beyond the group without my name" in str(draft.embeds[0]["fields"])
    assert _options(draft, "story:draft:consent")["anonymous"].get("default")

    # "Edit the words": the modal again, filled in; the draft shows the new words
    edit = await world.emu.click(alice, draft, "story:draft:edit")
    assert edit.modal is not None
    values = {
        c["component"]["custom_id"] if "component" in c else c["components"][0]["custom_id"]:
        (c["component"] if "component" in c else c["components"][0]).get("value")
        for c in edit.modal["components"]
    }
    assert values == {"title": "The ward", "text": "They spoke of palliative care."}
    await world.emu.submit_modal(
        alice, edit, {"title": "The ward", "text": "They spoke of care to ease symptoms."})
    assert draft.embeds[0]["description"] == "They spoke of care to ease symptoms."
    assert "**palliative**" not in draft.content
    assert await _rows(world) == []

    # someone else cannot post it (a forged click on the ephemeral draft)
    draft.visible_to = bob.id
    forged = await world.emu.click(bob, draft, POST)
    draft.visible_to = alice.id
    assert "belongs to someone else" in forged.all_text
    assert await _rows(world) == []

    done = await post_draft(world.emu, alice, shown)
    assert "saved as #1" in done.content, done.content
    [row] = await _rows(world)
    assert (row["consent"], row["stage"], row["text"]) == (
        "anonymous", "treatment", "They spoke of care to ease symptoms.")
    assert len(world.emu.threads_in(_forum(world))) == 1
    assert not draft.components  # the draft's controls are gone after posting


async def test_command_options_are_the_drafts_defaults_and_cancel_keeps_nothing(
    world: HearthWorld,
) -> None:
    users = await _setup(world)
    alice = users["alice"]
    rec = await world.slash(alice, "story share", community=COMMUNITY, consent="named",
                            stage="treatment")
    shown = await world.emu.submit_modal(alice, rec, {"title": "T", "text": "Words."})
    draft = shown.reply
    assert draft is not None
    assert _options(draft, "story:draft:consent")["named"].get("default")
    assert _options(draft, "story:draft:stage")["treatment"].get("default")
    cancel = await world.emu.click(alice, draft, "story:draft:cancel")
    assert "nothing was posted" in cancel.content
    assert await _rows(world) == [] and not world.emu.threads_in(_forum(world))


async def test_teller_edits_a_story_afterwards(world: HearthWorld) -> None:
    users = await _setup(world)
    alice, bob = users["alice"], users["bob"]
    rec = await world.slash(alice, "story share", community=COMMUNITY, consent="anonymous")
    await post_draft(world.emu, alice, await world.emu.submit_modal(
        alice, rec, {"title": "First try", "text": "Old words, call 07700 900123."}))
    [thread] = world.emu.threads_in(_forum(world))

    # only the teller may edit
    refused = await world.slash(bob, "story edit", story=1)
    assert refused.modal is None and "Only the person who told story #1" in refused.content

    opened = await world.slash(alice, "story edit", story=1)
    assert opened.modal is not None
    done = await world.emu.submit_modal(
        alice, opened,
        {"title": "Second try", "text": "New words after the biopsy. Call 07700 900456."})
    await done.wait_followups(2)
    assert "now reads as you edited it" in done.all_text, done.all_text
    assert "**biopsy**" in done.followups[-1].content  # the glossary, as on capture
    [row] = await _rows(world)
    assert (row["title"], row["consent"]) == ("Second try", "anonymous")
    starter = world.emu.messages_in(thread)[0]
    assert starter.embeds[0]["description"].startswith("New words after the biopsy")
    assert world.emu.get_channel(thread.id).name == "Second try"

    # what leaves the community is the current text, redacted
    assert world.db is not None
    now = world.clock.now()
    shared, _ = await shareable_stories_for_digest(
        world.db, await _cid(world), now - timedelta(days=1), now + timedelta(days=1),
        _names(world),
    )
    text = repr(shared)
    assert "New words" in text and "Old words" not in text
    assert "900456" not in text and "900123" not in text
