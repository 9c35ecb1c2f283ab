"""Polls end to end: every kind, restarts, deadlines, nudges, anonymity and bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.hearth import HearthWorld
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import MessageState, UserState


async def setup_community(
    world: HearthWorld, n: int = 3, name: str = "Carers Voice"
) -> list[UserState]:
    people = [world.person(f"m{i}") for i in range(n)]
    await world.create_community(name, members={p: "carer" for p in people})
    return people


def voice(world: HearthWorld, slug: str = "carers-voice") -> Any:
    return world.channel(f"{slug}-voice")


def poll_message(world: HearthWorld, slug: str = "carers-voice") -> MessageState:
    msgs = [m for m in world.emu.messages_in(voice(world, slug)) if m.components]
    assert msgs, "no poll message with components"
    return msgs[-1]


async def create_poll(
    world: HearthWorld, user: UserState | None = None, choices: str | None = None, **opts: Any
) -> InteractionRecord:
    """`/poll create`; ``choices`` is the command's `options` (a name the driver reserves)."""
    opts.setdefault("community", "Carers Voice")
    if choices is not None:
        opts["options"] = choices
    return await world.slash(user or world.owner, "poll create", options=opts)


async def test_single_choice_poll_votes_and_closes(world: HearthWorld) -> None:
    a, b, c = await setup_community(world)
    rec = await create_poll(
        world, question="Which day suits?", choices="Monday; Tuesday; Friday", kind="single",
        closes="in 2 days",
    )
    assert rec.ephemeral and "Posted" in rec.content, rec.content
    msg = poll_message(world)
    ids = all_custom_ids(msg.components)
    assert len(ids) == 3 and all(i.startswith("poll:") for i in ids)
    r = await world.emu.click(a, msg, ids[0])
    assert r.ephemeral and "Monday" in r.content, r.content
    print(r.content)
