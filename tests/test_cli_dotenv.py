"""Every `python -m bot` entry point reads the same settings: the environment, then `.env`
in the working directory. `db` once read only the environment, so with HEARTH_DB set in
`.env` it migrated `data/hearth.db` while the bot ran on another database. `db` still
needs no DISCORD_TOKEN.

Real subprocesses in a temp working directory holding the `.env`; `sync` talks to the
loopback emulator (DISCORD_API_BASE, also from `.env`).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator.server import DiscordEmulator

ROOT = Path(__file__).resolve().parents[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The parent's environment without any Hearth or Discord setting."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "DISCORD_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def write_dotenv(cwd: Path, **values: str) -> None:
    cwd.mkdir(parents=True, exist_ok=True)
    lines = [f"{k}={v}" for k, v in values.items()]
    (cwd / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def bot(args: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env=clean_env(**extra),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_db_uses_the_database_named_in_dotenv_without_a_token(tmp_path: Path) -> None:
    cwd, db = tmp_path / "deploy", tmp_path / "volume" / "hearth.db"
    write_dotenv(cwd, HEARTH_DB=str(db))

    proc = bot(["db", "upgrade"], cwd)
    assert proc.returncode == 0, proc.stderr
    assert "applied 0001_foundation" in proc.stdout
    assert db.exists()
    assert not (cwd / "data").exists(), "migrated the default database instead of .env's"

    proc = bot(["db", "status"], cwd)
    assert proc.returncode == 0, proc.stderr
    assert f"database: {db}" in proc.stdout and "pending: none" in proc.stdout


def test_the_environment_wins_over_dotenv_for_db_as_for_the_bot(tmp_path: Path) -> None:
    cwd = tmp_path / "deploy"
    write_dotenv(cwd, HEARTH_DB=str(tmp_path / "from-dotenv.db"))
    proc = bot(["db", "upgrade"], cwd, HEARTH_DB=str(tmp_path / "from-env.db"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "from-env.db").exists() and not (tmp_path / "from-dotenv.db").exists()


def test_db_refuses_a_broken_setting_in_dotenv_like_the_bot(tmp_path: Path) -> None:
    cwd = tmp_path / "deploy"
    write_dotenv(cwd, HEARTH_DB=str(tmp_path / "h.db"), HEARTH_LOG_LEVEL="loud")
    for args in (["db", "upgrade"], []):
        proc = bot(args, cwd, DISCORD_TOKEN="t")
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        [line] = proc.stderr.strip().splitlines()
        assert line.startswith("hearth: HEARTH_LOG_LEVEL must be one of"), line
    assert not (tmp_path / "h.db").exists()


@pytest.mark.e2e
async def test_db_and_sync_open_the_same_database_from_dotenv(tmp_path: Path) -> None:
    cwd, db = tmp_path / "deploy", tmp_path / "volume" / "hearth.db"
    async with DiscordEmulator() as emu:
        write_dotenv(
            cwd,
            DISCORD_TOKEN="emulator-token",
            DISCORD_API_BASE=emu.api_base,
            HEARTH_DB=str(db),
            HEARTH_CONFIG=str(ROOT / "bot" / "defaults" / "hearth.toml"),
        )
        upgraded = await asyncio.to_thread(bot, ["db", "upgrade"], cwd)
        assert upgraded.returncode == 0, upgraded.stderr
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "sync", cwd=cwd, env=clean_env(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, out.decode()
        assert emu.command("community") is not None
    assert not (cwd / "data").exists()
    with sqlite3.connect(db) as conn:  # sync recorded what it synced in .env's database
        row = conn.execute("SELECT value FROM app_state WHERE key = 'command_tree'").fetchone()
    assert row is not None
