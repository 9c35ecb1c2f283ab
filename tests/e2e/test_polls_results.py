"""How results read (issue 14): the ranked winner and final round first, the results once
(one embed, no second table), numbers in words with no text bars for screen readers to read
as "full block", and "No answers yet." rather than "0% yes"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.test_polls import (
    answer,
    create_poll,
    embed_text,
    poll_message,
    rank,
    results_messages,
    setup_community,
)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        yield w


BARS = ("█", "░", "▓", "▒")


async def test_ranked_result_leads_with_the_winner_and_the_final_round(
    world: HearthWorld,
) -> None:
    people = await setup_community(world, 7)
    await create_poll(world, question="Where next?", choices="Library; Cafe; Town hall",
                      kind="ranked")
    msg = poll_message(world)
    # first preferences: Library 3, Cafe 2, Town hall 2; Town hall goes out and all its
    # votes go to Cafe, which wins 4 to 3 although Library led on first preferences.
    for person, order in zip(people, [[0], [0], [0], [1], [1], [2, 1], [2, 1]], strict=True):
        assert "saved" in await rank(world, person, msg, order)
    await world.slash(world.owner, "poll close", poll="1")
    [posted] = results_messages(world)
    assert not posted.content, posted.content  # results once: no table beside the embed
    fields = posted.embeds[0]["fields"]
    assert fields[0] == {"name": "Result", "value": "Winner: Cafe", "inline": False}
    assert fields[1]["name"] == "Final round (round 2)"
    assert fields[1]["value"].splitlines() == [
        "Cafe: 4 votes of 7 (57%)", "Library: 3 votes of 7 (43%)",
    ]
    names = [f["name"] for f in fields]
    # first preferences come after, labelled as such
    assert names.index("First preference: Library") > names.index("Final round (round 2)")
    assert not any(b in embed_text(posted) for b in BARS)


async def test_survey_says_no_answers_yet_and_reads_in_words(world: HearthWorld) -> None:
    a, b, _ = await setup_community(world)
    await create_poll(world, question="After the meeting", kind="survey",
                      choices="Was it useful?; Would you come again?")
    msg = poll_message(world)
    await answer(world, a, msg, "ys")
    await answer(world, b, msg, "ns")
    await world.slash(world.owner, "poll close", poll="1")
    [posted] = results_messages(world)
    fields = {f["name"]: f["value"] for f in posted.embeds[0]["fields"]}
    assert fields["Would you come again?"] == "No answers yet."
    assert "0%" not in fields["Would you come again?"]
    assert fields["Was it useful?"] == "1 of 2 who answered said yes (50%); 1 said no."
    assert not any(bar in embed_text(posted) for bar in BARS)
    assert not posted.content


async def test_single_choice_numbers_first_and_no_bars(world: HearthWorld) -> None:
    a, b, c = await setup_community(world)
    await create_poll(world, question="Tea or coffee?", choices="Tea; Coffee; Water",
                      kind="single")
    msg = poll_message(world)
    for person, i in ((a, 0), (b, 0), (c, 1)):
        await world.emu.click(person, msg, f"poll:1:v:{i}")
    await world.slash(world.owner, "poll close", poll="1")
    [posted] = results_messages(world)
    fields = {f["name"]: f["value"] for f in posted.embeds[0]["fields"]}
    assert fields["Tea"] == "2 votes of 3 (67%) · most votes"
    assert fields["Coffee"] == "1 vote of 3 (33%)"
    assert fields["Water"] == "0 votes of 3 (0%)"
    assert not any(bar in embed_text(posted) for bar in BARS)
    res = await world.slash(a, "poll results", poll="1")
    assert not res.content and len(res.embeds) == 1  # once, not a table and an embed
