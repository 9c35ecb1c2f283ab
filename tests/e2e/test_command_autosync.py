"""Slash commands reach Discord on a fresh install without a manual sync, and a restart
with the same commands does not sync again (Discord rate-limits command updates)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import COMMAND_TREE_KEY
from bot.db.app_state import AppState
from tests.e2e.hearth import HearthWorld, hearth_world


def command_puts(world: HearthWorld) -> int:
    return len(world.emu.calls("PUT", r"/applications/\d+/commands$"))


async def test_fresh_install_syncs_once_and_restart_does_not(world: HearthWorld) -> None:
    assert command_puts(world) == 1, "the first start publishes the commands"
    assert world.emu.command("community") is not None
    assert world.emu.command("Save as story") is not None
    rec = await world.slash(world.owner, "community list")
    assert rec.ephemeral

    await world.restart()
    assert command_puts(world) == 1, "same commands, same application: no second sync"
    rec = await world.slash(world.owner, "community list")
    assert rec.ephemeral


async def test_changed_commands_are_synced_on_next_start(world: HearthWorld) -> None:
    assert world.db is not None
    # As if an upgrade changed the command tree since the recorded sync.
    await AppState(world.db).set(COMMAND_TREE_KEY, "0:an-older-tree")
    await world.restart()
    assert command_puts(world) == 2
    assert world.bot is not None and world.db is not None
    stored = await AppState(world.db).get(COMMAND_TREE_KEY)
    assert stored == world.bot.command_fingerprint()


async def test_a_failed_sync_does_not_stop_the_bot_and_is_retried(tmp_path: Path) -> None:
    async with hearth_world(tmp_path) as world:
        assert world.db is not None
        await AppState(world.db).set(COMMAND_TREE_KEY, "0:an-older-tree")
        world.emu.fail_route("PUT", r"/applications/\d+/commands$", 403, times=1)
        await world.restart()
        assert world.db is not None
        assert await AppState(world.db).get(COMMAND_TREE_KEY) == "0:an-older-tree"
        await world.restart()
        assert world.bot is not None and world.db is not None
        assert await AppState(world.db).get(COMMAND_TREE_KEY) == world.bot.command_fingerprint()


pytestmark = pytest.mark.e2e
