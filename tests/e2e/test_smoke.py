"""The shortest path a new deployment takes: a manager creates a community, adds a member,
the member is welcomed and can see the community's channels while others cannot."""

from __future__ import annotations

from tests.e2e.hearth import HearthWorld
from tests.emulator.permissions import P


async def test_create_add_welcome(world: HearthWorld) -> None:
    alice = world.person("alice")
    outsider = world.person("outsider")
    rec = await world.create_community("Carers Voice", members={alice: "carer"})
    assert rec.ephemeral

    names = {c.name for c in world.emu.channels_in(world.guild)}
    assert {"Carers Voice", "carers-voice-lounge", "carers-voice-stories",
            "carers-voice-voice", "carers-voice-meetings"} <= names

    [welcome] = world.emu.dms_to(alice)
    assert welcome.content.startswith("Welcome to **Carers Voice**")

    lounge = world.channel("carers-voice-lounge")
    assert world.emu.can(world.guild, alice, P.VIEW_CHANNEL | P.SEND_MESSAGES, lounge)
    assert not world.emu.can(world.guild, outsider, P.VIEW_CHANNEL, lounge)
