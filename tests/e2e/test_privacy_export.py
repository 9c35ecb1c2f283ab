"""`/privacy export` and anonymous ballots: a member's export holds their own ballots, and
nobody else's export (not even a facilitator's) holds them or names them."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.hearth import HearthWorld
from tests.emulator.interactions import all_custom_ids
from tests.emulator.state import UserState

CARERS = "Carers Voice"


async def export(world: HearthWorld, user: UserState) -> dict[str, Any]:
    before = len(world.emu.dms_to(user))
    rec = await world.slash(user, "privacy export")
    await rec.wait_final()
    [f] = [a for m in world.emu.dms_to(user)[before:] for a in m.attachments
           if a.filename.endswith(".json")]
    doc: dict[str, Any] = json.loads(f.data)
    return doc


async def test_anonymous_ballots_are_exported_only_to_their_own_voter(
    world: HearthWorld,
) -> None:
    alice, bob = world.person("alice"), world.person("bob")
    await world.create_community(CARERS, members={alice: "carer", bob: "nurse"})
    rec = await world.slash(world.owner, "poll create", options={
        "community": CARERS, "question": "Move to Thursdays?", "options": "Yes; No; Unsure",
        "kind": "single"})  # anonymous by default  # fmt: skip
    assert "Posted" in rec.content, rec.content
    [msg] = [m for m in world.emu.messages_in(world.channel("carers-voice-voice"))
             if m.components]  # fmt: skip
    ids = all_custom_ids(msg.components)
    for who, option in ((alice, 0), (bob, 1)):
        r = await world.emu.click(who, msg, ids[option])
        assert "recorded" in r.content, r.content

    mine = await export(world, alice)
    [ballot] = mine["poll_votes"]
    assert (ballot["question"], ballot["ballot"], ballot["anonymous"], ballot["open"]) == (
        "Move to Thursdays?", "Yes", True, True)
    theirs = await export(world, bob)
    assert [v["ballot"] for v in theirs["poll_votes"]] == ["No"]
    # The facilitator (who did not vote) gets no ballot at all, and no export names a voter
    # other than its own member.
    facilitator = await export(world, world.owner)
    assert facilitator["poll_votes"] == [] and facilitator["polls_voted_in"] == []
    for doc, other in ((mine, bob), (theirs, alice), (facilitator, alice),
                       (facilitator, bob)):  # fmt: skip
        text = json.dumps(doc)
        assert str(other.id) not in text and other.name not in text
