from __future__ import annotations

from tests.e2e.hearth import HearthWorld


async def test_create_community(world: HearthWorld) -> None:
    alice = world.person("alice")
    rec = await world.create_community("Carers Voice", members={alice: "carer"})
    assert rec.ephemeral
    print(rec.content)
    print([c.name for c in world.emu.channels_in(world.guild)])
    print(world.emu.dms_to(alice)[0].content[:80])
