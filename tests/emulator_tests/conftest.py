"""Fixtures: a started emulator with a guild, and the throwaway bot connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.emulator.harness import run_client
from tests.emulator.server import DiscordEmulator
from tests.emulator.state import GuildState, UserState
from tests.emulator_tests.bot_under_test import TestBot


@dataclass
class World:
    emu: DiscordEmulator
    guild: GuildState
    owner: UserState
    alice: UserState
    bob: UserState


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as emulator:
        yield emulator


@pytest.fixture
def world(emu: DiscordEmulator) -> World:
    owner = emu.create_user("owner")
    guild = emu.create_guild("Charity", owner=owner)
    alice = emu.create_user("alice")
    bob = emu.create_user("bob", dms_open=False)
    emu.add_member(guild, alice)
    emu.add_member(guild, bob)
    emu.create_channel(guild, "general")
    return World(emu, guild, owner, alice, bob)


@pytest.fixture
async def bot(world: World) -> AsyncIterator[TestBot]:
    client = TestBot()
    async with run_client(world.emu, client) as running:
        await world.emu.wait_for(lambda: world.emu.command("community"))
        yield running
