"""Issue 14: the privacy export comes with a summary a person can read (Markdown, plain
words, headings, no computer ids) beside the complete JSON; every file has a description."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.test_privacy import CARERS, share_story


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        yield w


async def test_export_has_a_plain_words_summary_beside_the_json(world: HearthWorld) -> None:
    alice = world.person("alice")
    await world.create_community(CARERS, members={alice: "carer"})
    await share_story(world, alice, "Night shifts", "We took turns at night.")
    rec = await world.slash(alice, "privacy export")
    await rec.wait_final()
    assert "plain words" in rec.all_text
    [dm] = [m for m in world.emu.dms_to(alice) if m.attachments]
    json_file, summary = dm.attachments
    assert json_file.filename.endswith(".json") and json_file.description
    assert summary.filename.endswith(".md") and summary.description
    text = summary.data.decode("utf-8")
    assert text.startswith("# What Hearth holds about you")
    for heading in ("## Communities you belong to", "## Your stories",
                    "## Erasing all of this"):
        assert heading in text
    assert "Night shifts" in text and CARERS in text
    assert str(alice.id) not in text and "_id" not in text
    assert "{" not in text  # no raw JSON
