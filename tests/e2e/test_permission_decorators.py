"""ARCHITECTURE habit 6: one decorator per permission sets the runtime check and the default
permissions together (bot/checks.py), and that runtime check is what refuses: Discord applies
default permissions to top-level commands only, and `/community create` is a subcommand."""

from __future__ import annotations

import re
from pathlib import Path

from discord import app_commands

from bot.checks import server_manager_only
from tests.e2e.hearth import HearthWorld

ROOT = Path(__file__).resolve().parents[2]


async def test_create_is_refused_by_the_decorators_check_and_nothing_is_made(
    world: HearthWorld,
) -> None:
    plain = world.person("plain")
    calls = len(world.emu.mutating_calls())
    rec = await world.slash(plain, "community create", name="Mine", kind="practice")
    assert rec.ephemeral
    assert rec.content == "Only a server manager (Manage Server) can create a community."
    assert len(world.emu.mutating_calls()) == calls  # only the reply: no REST changes
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM communities") == 0

    manager = world.person("manager", manager=True)
    ok = await world.slash(manager, "community create", name="Mine", kind="practice")
    assert "Created" in ok.content, ok.content

    # The check and the default are both on the command the tree dispatches to.
    assert world.bot is not None
    group = world.bot.tree.get_command("community")
    assert isinstance(group, app_commands.Group)
    create = group.get_command("create")
    assert isinstance(create, app_commands.Command)
    assert create.checks and create.default_permissions is not None
    assert create.default_permissions.manage_guild
    # Discord carries default permissions on the top-level command only; the group holds
    # member commands too, so nothing hides /community create: the runtime check must refuse.
    [synced] = [c for c in world.emu.commands.values() if c.name == "community"]
    assert synced.payload()["default_member_permissions"] is None


def test_the_decorator_sets_both_halves() -> None:
    @server_manager_only("do it")
    async def callback() -> None:  # pragma: no cover - never called
        return None

    assert getattr(callback, "__discord_app_commands_checks__", [])
    perms = getattr(callback, "__discord_app_commands_default_permissions__", None)
    assert perms is not None and perms.manage_guild


def test_cogs_set_default_permissions_only_through_the_permission_decorators() -> None:
    """A bare default_permissions without its runtime check is the drift habit 6 prevents."""
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "cogs").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"default_permissions\(", line)
    ]
    assert offenders == []
