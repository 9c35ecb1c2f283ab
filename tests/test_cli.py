"""`python -m bot` as an operator runs it: real subprocesses, a temp cwd (no stray .env),
and, for the run/shutdown and sync tests, the loopback emulator as Discord."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator.server import DiscordEmulator

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "bot" / "defaults" / "hearth.toml"
HEARTH_VARS = ("DISCORD_TOKEN", "DISCORD_API_BASE", "HEARTH_DB", "HEARTH_CONFIG",
               "HEARTH_SMTP_URL", "HEARTH_LOG_LEVEL")


def env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in HEARTH_VARS}
    clean["HEARTH_CONFIG"] = str(CONFIG)
    clean["PYTHONPATH"] = str(ROOT)
    clean.update(extra)
    return clean


def run(args: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env=env(**extra),
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_run_without_token_exits_with_one_line(tmp_path: Path) -> None:
    proc = run([], tmp_path)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "DISCORD_TOKEN" in lines[0] and "not set" in lines[0]
    assert proc.stdout == ""


def test_bad_config_stops_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(CONFIG.read_text(encoding="utf-8").replace("[meetings]", "[meetings]\nx = 1"))
    proc = run([], tmp_path, DISCORD_TOKEN="t", HEARTH_CONFIG=str(bad),
               HEARTH_DB=str(tmp_path / "h.db"))
    assert proc.returncode != 0
    [line] = proc.stderr.strip().splitlines()
    assert "meetings.x: unknown key" in line
    assert not (tmp_path / "h.db").exists()  # nothing started half-configured


def test_db_upgrade_then_status(tmp_path: Path) -> None:
    db = tmp_path / "data" / "hearth.db"
    proc = run(["db", "status"], tmp_path, HEARTH_DB=str(db))
    assert proc.returncode == 0, proc.stderr
    assert "applied: none" in proc.stdout and "0001_foundation" in proc.stdout

    proc = run(["db", "upgrade"], tmp_path, HEARTH_DB=str(db))
    assert proc.returncode == 0, proc.stderr
    assert "applied 0001_foundation" in proc.stdout
    proc = run(["db", "upgrade"], tmp_path, HEARTH_DB=str(db))
    assert proc.returncode == 0 and "database is up to date" in proc.stdout

    proc = run(["db", "status"], tmp_path, HEARTH_DB=str(db))
    assert proc.returncode == 0, proc.stderr
    assert "pending: none" in proc.stdout and "0001" in proc.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT MIN(version) FROM schema_migrations").fetchone()[0] == 1


def test_db_default_path_is_under_data(tmp_path: Path) -> None:
    proc = run(["db", "upgrade"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data" / "hearth.db").exists()


def test_unknown_subcommand_is_refused(tmp_path: Path) -> None:
    proc = run(["frobnicate"], tmp_path)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


# ---------------------------------------------------------------------------- against the emulator


async def _spawn(tmp_path: Path, emu: DiscordEmulator, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path,
        env=env(DISCORD_TOKEN="x", DISCORD_API_BASE=emu.api_base,
                HEARTH_DB=str(tmp_path / "hearth.db"), HEARTH_LOG_LEVEL="INFO"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )


async def _collect(proc: asyncio.subprocess.Process, out: list[str]) -> None:
    assert proc.stdout is not None
    async for line in proc.stdout:
        out.append(line.decode("utf-8", "replace"))


@pytest.mark.e2e
async def test_sigterm_shuts_down_cleanly(tmp_path: Path) -> None:
    async with DiscordEmulator() as emu:
        owner = emu.create_user("owner")
        emu.create_guild("Charity", owner=owner)
        proc = await _spawn(tmp_path, emu)
        output: list[str] = []
        reader = asyncio.create_task(_collect(proc, output))
        try:
            await emu.wait_for(
                lambda: emu.sessions or proc.returncode is not None, timeout=30,
                message="the bot never identified on the emulator's gateway",
            )
            assert proc.returncode is None, "".join(output)
            # REST and the gateway URL both came from DISCORD_API_BASE.
            assert emu.calls("GET", r"^/gateway/bot$")
            assert emu.calls("GET", r"^/users/@me$")
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), timeout=30)
            await asyncio.wait_for(reader, timeout=10)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    text = "".join(output)
    assert code == 0, text
    assert "received SIGTERM" in text
    assert "stopped cleanly" in text
    assert "Traceback" not in text and "Unclosed" not in text and "ERROR" not in text
    with sqlite3.connect(tmp_path / "hearth.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] >= 1


@pytest.mark.e2e
async def test_sync_registers_commands_on_the_emulator(tmp_path: Path) -> None:
    async with DiscordEmulator() as emu:
        owner = emu.create_user("owner")
        guild = emu.create_guild("Charity", owner=owner)
        proc = await _spawn(tmp_path, emu, "sync", "--guild", str(guild.id))
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
        text = out.decode()
        assert proc.returncode == 0, text
        assert f"to guild {guild.id}" in text
        cmd = emu.command("community", guild)
        assert cmd is not None and cmd.guild_id == guild.id
        subs = {o["name"] for o in cmd.data.get("options") or []}
        assert {"create", "add", "remove", "sponsor", "link", "info", "list", "archive"} <= subs
