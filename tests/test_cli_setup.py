"""Getting Hearth running, as an operator does it: real `python -m bot` subprocesses from a
directory that is not the checkout, against the loopback emulator (or against nothing at all).

* every failure to reach Discord is one line on stderr naming what to check, exit code 2;
* no warnings about voice support at start;
* `invite` prints the OAuth2 link with exactly Hearth's permissions;
* `check` reports the token, the connection, and each server's permissions and role position;
* the shipped configuration is found from any directory; `HEARTH_CONFIG` overrides it;
* `db status` creates nothing; `db upgrade` says each migration once;
* `--help` lists the commands and every setting.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import discord
import pytest

from bot.db.database import Database
from bot.permissions import HEARTH_PERMISSIONS
from cogs.communities import _spaces
from tests.emulator.permissions import DEFAULT_BOT, P
from tests.emulator.server import DiscordEmulator
from tests.engines import ENGINES, database_target

ROOT = Path(__file__).resolve().parents[1]
HEARTH_VARS = (
    "DISCORD_TOKEN",
    "DISCORD_API_BASE",
    "HEARTH_DB",
    "HEARTH_CONFIG",
    "HEARTH_SMTP_URL",
    "HEARTH_LOG_LEVEL",
    "HEARTH_SECRET",
    "HEARTH_KEY_FILE",
)


def env(**extra: str) -> dict[str, str]:
    """No HEARTH_CONFIG: the shipped configuration must be found without it."""
    clean = {k: v for k, v in os.environ.items() if k not in HEARTH_VARS}
    clean["PYTHONPATH"] = str(ROOT)
    clean.update(extra)
    return clean


def run(args: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def arun(args: list[str], cwd: Path, **extra: str) -> tuple[int, str, str]:
    """As `run`, without blocking the loop the emulator serves on."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env(**extra),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ failures to reach Discord


@pytest.mark.parametrize("command", [[], ["invite"], ["check"], ["sync"]])
def test_connection_refused_is_one_line(tmp_path: Path, command: list[str]) -> None:
    base = f"http://127.0.0.1:{closed_port()}/api/v10"
    proc = run(
        command,
        tmp_path,
        DISCORD_TOKEN="x",
        DISCORD_API_BASE=base,
        HEARTH_DB=str(tmp_path / "h.db"),
        HEARTH_LOG_LEVEL="WARNING",
    )
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("hearth: connection refused at 127.0.0.1:"), line
    assert f"DISCORD_API_BASE={base}" in line and "check DISCORD_API_BASE" in line
    assert proc.stdout == ""


def test_no_traceback_at_info_level_either(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{closed_port()}/api/v10"
    proc = run(
        [],
        tmp_path,
        DISCORD_TOKEN="x",
        DISCORD_API_BASE=base,
        HEARTH_DB=str(tmp_path / "h.db"),
        HEARTH_LOG_LEVEL="INFO",
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("hearth: connection refused")
    assert "voice will NOT be supported" not in proc.stderr


@pytest.mark.e2e
async def test_api_base_that_404s_is_one_line(tmp_path: Path) -> None:
    async with DiscordEmulator() as emu:
        wrong = f"{emu.base_url}/not-the-api"
        code, out, err = await arun(
            [],
            tmp_path,
            DISCORD_TOKEN="x",
            DISCORD_API_BASE=wrong,
            HEARTH_DB=str(tmp_path / "h.db"),
            HEARTH_LOG_LEVEL="WARNING",
        )
    assert code == 2, err
    [line] = err.strip().splitlines()
    assert line.startswith(f"hearth: HTTP 404 at DISCORD_API_BASE={wrong}"), line
    assert "/api/v10" in line and out == ""


@pytest.mark.e2e
async def test_rejected_token_is_one_line(tmp_path: Path) -> None:
    async with DiscordEmulator() as emu:
        emu.fail_route(
            "GET", r"^/users/@me$", 401, json={"message": "401: Unauthorized", "code": 0}
        )
        code, _, err = await arun(
            [],
            tmp_path,
            DISCORD_TOKEN="x",
            DISCORD_API_BASE=emu.api_base,
            HEARTH_DB=str(tmp_path / "h.db"),
            HEARTH_LOG_LEVEL="WARNING",
        )
    assert code == 2
    [line] = err.strip().splitlines()
    assert "Discord rejected DISCORD_TOKEN" in line


def test_each_kind_of_failure_names_what_to_check() -> None:
    import aiohttp
    from aiohttp.client_reqrep import ConnectionKey

    from bot.reach import explain_unreachable

    key = ConnectionKey("discord.com", 443, True, True, None, None, None)
    dns = aiohttp.ClientConnectorDNSError(key, OSError(-2, "Name or service not known"))
    assert "DNS" in (explain_unreachable(dns, None) or "")
    timeout = aiohttp.ClientConnectorError(key, TimeoutError("timed out"))
    assert "timed out connecting to discord.com:443" in (explain_unreachable(timeout, None) or "")
    assert "timed out" in (explain_unreachable(TimeoutError(), None) or "")
    import ssl

    tls = aiohttp.ClientConnectorCertificateError(key, ssl.SSLCertVerificationError("bad cert"))
    assert "TLS" in (explain_unreachable(tls, None) or "")

    class Resp:
        status = 429
        reason = "Too Many Requests"

    limited = discord.HTTPException(Resp(), {"message": "You are being rate limited."})  # type: ignore[arg-type]
    assert "rate limit" in (explain_unreachable(limited, None) or "")
    assert explain_unreachable(ValueError("a bug"), None) is None  # bugs still raise


# ------------------------------------------------------------------------------- invite / check


def test_permissions_cover_every_overwrite_hearth_grants() -> None:
    """Discord lets a role grant in an overwrite only what it holds: everything Hearth allows
    in its channel overwrites must be in the invite's permissions."""
    for overwrite in (_spaces.MEMBER_ALLOW, _spaces.LOCKED, _spaces.bot_overwrite()):
        allow, _ = overwrite.pair()
        assert allow.is_subset(HEARTH_PERMISSIONS), allow ^ (allow & HEARTH_PERMISSIONS)
    assert not HEARTH_PERMISSIONS.administrator and not HEARTH_PERMISSIONS.manage_guild
    assert not HEARTH_PERMISSIONS.mention_everyone


def test_permissions_are_the_emulator_bots_default() -> None:
    """The emulator's default bot (every end-to-end test) holds exactly what the invite asks."""
    assert HEARTH_PERMISSIONS.value == DEFAULT_BOT


@pytest.mark.e2e
async def test_invite_prints_the_link_with_exact_permissions(tmp_path: Path) -> None:
    async with DiscordEmulator() as emu:
        code, out, err = await arun(
            ["invite"], tmp_path, DISCORD_TOKEN="x", DISCORD_API_BASE=emu.api_base
        )
        assert emu.calls("GET", r"^/oauth2/applications/@me$")
        app_id = emu.application_id
    assert code == 0, err
    assert out.strip() == (
        f"https://discord.com/oauth2/authorize?client_id={app_id}"
        f"&scope=bot+applications.commands&permissions={HEARTH_PERMISSIONS.value}"
    )
    # The twelve permissions by their bit numbers in Discord's documentation: Manage Channels 4,
    # Add Reactions 6, View Channel 10, Send Messages 11, Embed Links 14, Attach Files 15,
    # Read Message History 16, Manage Roles 28, Manage Events 33, Manage Threads 34,
    # Create Public Threads 35, Send Messages in Threads 38.
    bits = (4, 6, 10, 11, 14, 15, 16, 28, 33, 34, 35, 38)
    assert HEARTH_PERMISSIONS.value == sum(1 << b for b in bits) == 335276002384
    assert "voice" not in err


@pytest.mark.e2e
async def test_check_all_well(tmp_path: Path) -> None:
    async with DiscordEmulator() as emu:
        emu.create_guild("Charity")
        code, out, err = await arun(
            ["check"],
            tmp_path,
            DISCORD_TOKEN="x",
            DISCORD_API_BASE=emu.api_base,
            HEARTH_DB=str(tmp_path / "h.db"),
        )
        assert emu.calls("GET", r"^/gateway/bot$")  # the connection, not only REST
    assert code == 0, out + err
    assert "✓ token" in out and "✓ connection" in out
    assert "✓ Charity: every permission" in out and "all is well" in out
    assert not (tmp_path / "h.db").exists()  # a check changes nothing


@pytest.mark.e2e
@pytest.mark.parametrize("engine", ENGINES)
async def test_check_names_a_missing_permission_and_a_role_above(
    tmp_path: Path, engine: str
) -> None:
    async with database_target(engine, tmp_path, "h.db") as db:
        await _check_names_a_missing_permission_and_a_role_above(tmp_path, db)


async def _check_names_a_missing_permission_and_a_role_above(tmp_path: Path, db: str) -> None:
    key = str(tmp_path / "hearth.key")
    assert run(["db", "upgrade"], tmp_path, HEARTH_DB=db, HEARTH_KEY_FILE=key).returncode == 0
    async with DiscordEmulator() as emu:
        emu.create_guild("Fine")
        lacking = emu.create_guild("Charity", bot_permissions=DEFAULT_BOT & ~P.MANAGE_EVENTS)
        # A server manager dragged the community's member role above Hearth's role.
        above = emu.create_role(
            lacking, "Carers member", position=emu.bot_role(lacking).position + 1
        )
        async with Database(db, key_file=key) as conn:
            await conn.execute(
                "INSERT INTO communities (guild_id, name, slug, kind, member_role_id, "
                "created_by, created_at) VALUES (:guild, 'Carers', 'carers', 'practice', :role, 1, "
                "'2025-01-01T00:00:00+00:00')",
                {"guild": lacking.id, "role": above.id},
            )
        code, out, err = await arun(
            ["check"], tmp_path, DISCORD_TOKEN="x", DISCORD_API_BASE=emu.api_base, HEARTH_DB=db
        )
        bot_role = emu.bot_role(lacking).name
    assert code == 1, out + err
    assert "✓ Fine:" in out
    assert "✗ Charity: Hearth's role lacks Manage Events" in out
    assert f"the role “Carers member” is not below Hearth's role “{bot_role}”" in out
    assert "drag" in out and "something needs fixing" in out


@pytest.mark.e2e
async def test_check_in_no_server_says_to_invite(tmp_path: Path) -> None:
    async with DiscordEmulator() as emu:
        code, out, _ = await arun(
            ["check"], tmp_path, DISCORD_TOKEN="x", DISCORD_API_BASE=emu.api_base
        )
    assert code == 1 and "in no server yet" in out and "python -m bot invite" in out


@pytest.mark.e2e
async def test_check_with_rejected_token(tmp_path: Path) -> None:
    async with DiscordEmulator() as emu:
        emu.fail_route(
            "GET", r"^/users/@me$", 401, json={"message": "401: Unauthorized", "code": 0}
        )
        code, out, err = await arun(
            ["check"], tmp_path, DISCORD_TOKEN="x", DISCORD_API_BASE=emu.api_base
        )
    assert code == 1 and "✗ token: Discord rejected DISCORD_TOKEN" in out, out + err


# ---------------------------------------------------------------------- start, config, db, help


@pytest.mark.e2e
async def test_start_prints_no_voice_warnings(tmp_path: Path) -> None:
    async with DiscordEmulator() as emu:
        emu.create_guild("Charity")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=env(
                DISCORD_TOKEN="x",
                DISCORD_API_BASE=emu.api_base,
                HEARTH_DB=str(tmp_path / "h.db"),
                HEARTH_LOG_LEVEL="INFO",
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await emu.wait_for(
                lambda: emu.sessions or proc.returncode is not None,
                timeout=30,
                message="the bot never identified",
            )
            proc.terminate()
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    text = out.decode()
    assert "stopped cleanly" in text, text
    assert "PyNaCl" not in text and "davey" not in text
    assert "voice will NOT be supported" not in text


def test_shipped_config_is_found_from_another_directory(tmp_path: Path) -> None:
    """No config/ in the working directory and no HEARTH_CONFIG: the packaged defaults."""
    proc = run(["config"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "[stories]" in proc.stdout and "{facilitator}" in proc.stdout
    # The bot itself gets past the config (and fails only at reaching Discord).
    proc = run(
        [],
        tmp_path,
        DISCORD_TOKEN="x",
        HEARTH_LOG_LEVEL="WARNING",
        DISCORD_API_BASE=f"http://127.0.0.1:{closed_port()}/api/v10",
        HEARTH_DB=str(tmp_path / "h.db"),
    )
    assert "config file" not in proc.stderr and "connection refused" in proc.stderr


def test_hearth_config_overrides_the_shipped_one(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    shipped = run(["config"], tmp_path).stdout
    mine.write_text(shipped.replace("{facilitator}", "{facilitatr}"), encoding="utf-8")
    proc = run([], tmp_path, DISCORD_TOKEN="x", HEARTH_CONFIG=str(mine))
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert str(mine) in line and "unknown placeholder {facilitatr}" in line


def test_package_data_ships_the_defaults() -> None:
    """An installed (non-editable) Hearth carries bot/defaults/hearth.toml."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["bot.defaults"]
    assert any(fnmatch("hearth.toml", pattern) for pattern in patterns)
    assert (ROOT / "bot" / "defaults" / "__init__.py").exists()
    # The Docker image copies config/ (for an operator's own file): it must exist.
    assert (ROOT / "config").is_dir() and "COPY config" in (ROOT / "Dockerfile").read_text()


def test_db_status_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "data" / "hearth.db"
    proc = run(["db", "status"], tmp_path, HEARTH_DB=str(db))
    assert proc.returncode == 0, proc.stderr
    assert "no database there yet" in proc.stdout and "python -m bot db upgrade" in proc.stdout
    assert "pending: 0001_foundation" in proc.stdout
    assert not db.exists() and not db.parent.exists()
    assert list(tmp_path.iterdir()) == []  # no key file either


def test_db_upgrade_says_each_migration_once(tmp_path: Path) -> None:
    proc = run(["db", "upgrade"], tmp_path, HEARTH_DB=str(tmp_path / "h.db"))
    assert proc.returncode == 0, proc.stderr
    everything = proc.stdout + proc.stderr
    assert everything.count("0001_foundation") == 1, everything
    assert "applied 0001_foundation" in proc.stdout


def test_help_lists_commands_and_settings(tmp_path: Path) -> None:
    proc = run(["--help"], tmp_path)
    assert proc.returncode == 0
    for command in ("run", "invite", "check", "config", "db", "sync"):
        assert f"\n    {command} " in proc.stdout, command
    for name in (*HEARTH_VARS, "HEARTH_SMTP_FROM", "HEARTH_SMTP_CA_FILE"):
        assert f"\n  {name} " in proc.stdout, name
