"""`python -m bot sync` without --guild: global commands, registered on the emulator.

The operator's command runs as a real subprocess against an in-process emulator (only
DISCORD_API_BASE points it there). A global sync must replace the application's global
commands (bulk overwrite: stale ones go, a re-run changes nothing), leave guild commands
alone, and never connect to the gateway. A bot started afterwards, which does not sync by
itself, then answers a slash command through the globally registered command.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.emulator.server import DiscordEmulator
from tests.emulator.state import CommandState

ROOT = Path(__file__).resolve().parents[1]
HEARTH_VARS = ("DISCORD_TOKEN", "DISCORD_API_BASE", "HEARTH_DB", "HEARTH_CONFIG",
               "HEARTH_SMTP_URL", "HEARTH_LOG_LEVEL")  # fmt: skip
GROUPS = {
    "community", "story", "poll", "statement", "meeting", "digest", "privacy", "help",
    "value", "change", "document", "product",
}
MENUS = {"Save as story"}


def _env(emu: DiscordEmulator, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in HEARTH_VARS}
    env.update(
        PYTHONPATH=str(ROOT),
        HEARTH_CONFIG=str(ROOT / "bot" / "defaults" / "hearth.toml"),
        DISCORD_TOKEN="x",
        DISCORD_API_BASE=emu.api_base,
        HEARTH_DB=str(tmp_path / "hearth.db"),
        HEARTH_LOG_LEVEL="INFO",
    )
    return env


async def _spawn(emu: DiscordEmulator, tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=_env(emu, tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def _collect(proc: asyncio.subprocess.Process, out: list[str]) -> None:
    """Drain the bot's output so a full pipe can never stall it."""
    assert proc.stdout is not None
    async for line in proc.stdout:
        out.append(line.decode("utf-8", "replace"))


async def _sync(emu: DiscordEmulator, tmp_path: Path) -> str:
    proc = await _spawn(emu, tmp_path, "sync")
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    text = out.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "ERROR" not in text, text
    return text


@pytest.mark.e2e
async def test_global_sync_registers_every_command_and_a_started_bot_answers(
    tmp_path: Path,
) -> None:
    async with DiscordEmulator() as emu:
        owner = emu.create_user("owner")
        guild = emu.create_guild("Charity", owner=owner, features=("COMMUNITY",))
        # A leftover global command from an older release, and a guild-only command.
        stale = CommandState(id=1, application_id=emu.application_id, name="oldthing",
                             type=1, data={"name": "oldthing", "description": "gone"})  # fmt: skip
        local = CommandState(id=2, application_id=emu.application_id, name="localthing",
                             type=1, data={"name": "localthing", "description": "kept"},
                             guild_id=guild.id)  # fmt: skip
        emu.commands.update({1: stale, 2: local})

        text = await _sync(emu, tmp_path)
        assert f"synced {len(GROUPS) + len(MENUS)} command(s) globally" in text, text
        # One bulk overwrite of the global scope; no guild scope touched; no gateway.
        puts = emu.calls("PUT", r"/commands$")
        assert [r.path for r in puts] == [f"/applications/{emu.application_id}/commands"]
        assert not emu.calls(None, r"/guilds/\d+/commands")
        assert not emu.calls("GET", r"^/gateway/bot$") and not emu.sessions

        commands = {c.name: c for c in emu.commands.values() if c.guild_id is None}
        assert set(commands) == GROUPS | MENUS  # the stale global command is gone
        assert commands["Save as story"].type == 3  # message context menu
        assert all(commands[g].type == 1 for g in GROUPS)
        assert emu.commands[2] is local  # guild commands are left alone
        subs = {o["name"] for o in commands["community"].data.get("options") or []}
        assert {"create", "add", "remove", "sponsor", "link", "info", "list", "archive"} <= subs
        stmt = {o["name"] for o in commands["statement"].data.get("options") or []}
        assert stmt == {"add", "round", "close", "report"}

        # A second run replaces the set with itself: same ids, nothing duplicated.
        ids = {name: c.id for name, c in commands.items()}
        await _sync(emu, tmp_path)
        again = {c.name: c.id for c in emu.commands.values() if c.guild_id is None}
        assert again == ids

        # The bot itself does not sync at start; a global command reaches it in the guild.
        bot = await _spawn(emu, tmp_path)
        output: list[str] = []
        reader = asyncio.create_task(_collect(bot, output))
        try:
            await emu.wait_for(
                lambda: emu.sessions or bot.returncode is not None, timeout=30,
                message="the bot never identified on the emulator's gateway",
            )  # fmt: skip
            assert bot.returncode is None, "".join(output)
            rec = await emu.slash(guild, owner, "community create", name="Carers Voice",
                                  kind="practice", timeout=15)  # fmt: skip
            assert "Created" in rec.all_text, rec.all_text
            assert emu.channel_by_name(guild, "carers-voice-lounge") is not None
            assert len(emu.calls("PUT", r"/commands$")) == 2  # still only the two syncs
        finally:
            if bot.returncode is None:
                bot.terminate()
                await asyncio.wait_for(bot.wait(), timeout=30)
            await asyncio.wait_for(reader, timeout=10)
        assert "Traceback" not in "".join(output), "".join(output)
