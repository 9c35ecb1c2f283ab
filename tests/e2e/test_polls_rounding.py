"""Survey results end to end on an exact half: 1 yes of 8 answers is 12.5%, shown as 13%
(half up), in both the embed and the plain table; 5 of 8 (62.5%) as 63%."""

from __future__ import annotations

from tests.e2e.hearth import HearthWorld
from tests.emulator.state import MessageState

COMMUNITY = "Carers Voice"


def _voice_messages(world: HearthWorld) -> list[MessageState]:
    return world.emu.messages_in(world.channel("carers-voice-voice"))


async def test_survey_percentages_round_half_up_in_embed_and_table(world: HearthWorld) -> None:
    people = [world.person(f"m{i}") for i in range(8)]
    await world.create_community(COMMUNITY, members={p: "carer" for p in people})
    rec = await world.slash(world.owner, "poll create", options={
        "community": COMMUNITY, "question": "After the meeting", "kind": "survey",
        "options": "Was it too long?; Would you come again?",
    })
    assert "Posted" in rec.content, rec.content
    poll = [m for m in _voice_messages(world) if m.components][-1]
    for i, person in enumerate(people):
        start = await world.emu.click(person, poll, "poll:1:survey")
        assert start.reply is not None
        await world.emu.click(person, start.reply, f"poll:1:sq:0:{'y' if i == 0 else 'n'}")
        await world.emu.click(person, start.reply, f"poll:1:sq:1:{'y' if i < 5 else 'n'}")
    closed = await world.slash(world.owner, "poll close", poll="1")
    assert "Closed poll #1" in closed.content, closed.content
    [posted] = [m for m in _voice_messages(world)
                if m.embeds and str(m.embeds[0].get("title", "")).startswith("Results")]
    fields = {f["name"]: f["value"] for f in posted.embeds[0]["fields"]}
    assert "said yes (13%)" in fields["Was it too long?"], fields
    assert "said yes (63%)" in fields["Would you come again?"], fields
    assert not posted.content  # the results once, in the embed
    assert fields["Turnout"] == "8 of 9 members (89%)", fields
