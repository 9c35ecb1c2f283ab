"""Time the README's "Getting started", from ``git clone`` to a first community.

Follows only what the README tells a new person to type, on a fresh clone, with the loopback
Discord emulator standing in for Discord (there is no Discord here): clone, make the venv and
``pip install .`` (step 2), ``python -m bot invite`` (step 3), ``python -m bot check``
(step 4), ``python -m bot`` (step 5) and, as the server's owner, ``/community create``
(step 6). Each step is timed; the totals are what the README reports.

What it cannot time: making the application in Discord's Developer Portal (step 1) and
pressing Authorise on the invite link, which happen in a browser.

    .venv/bin/python scripts/walkthrough.py            # clones this checkout's HEAD
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.emulator.server import DiscordEmulator  # noqa: E402

START_TIMEOUT = 120.0


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "DISCORD_"))}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def timed(label: str, cmd: str, cwd: Path, env: dict[str, str], rows: list[tuple[str, float]]
          ) -> str:
    began = time.monotonic()
    done = subprocess.run(
        cmd, shell=True, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    took = time.monotonic() - began
    if done.returncode != 0:
        raise SystemExit(f"{label} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    rows.append((label, took))
    print(f"{label:<44} {took:7.1f} s", flush=True)
    return done.stdout


async def walk(workdir: Path) -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []
    here = workdir / "hearth"
    env = clean_env()
    timed("git clone", f"git clone -q {ROOT} {here}", workdir, env, rows)
    timed("2. python3 -m venv .venv && pip install .",
          "python3 -m venv .venv && .venv/bin/pip install -q .", here, env, rows)
    async with DiscordEmulator() as emu:
        owner = emu.create_user("Sam (charity staff)")
        guild = emu.create_guild("Charity", owner=owner)
        dotenv = (here / ".env.example").read_text(encoding="utf-8")
        (here / ".env").write_text(
            dotenv + f"\nDISCORD_TOKEN=walkthrough-token\nDISCORD_API_BASE={emu.api_base}\n",
            encoding="utf-8",
        )
        # The emulator serves from this process: the CLI steps run in threads so it answers.
        invite = await asyncio.to_thread(
            timed, "3. python -m bot invite", ".venv/bin/python -m bot invite", here, env, rows
        )
        assert "applications.commands" in invite, invite
        await asyncio.to_thread(
            timed, "4. python -m bot check", ".venv/bin/python -m bot check", here, env, rows
        )
        began = time.monotonic()
        bot = await asyncio.create_subprocess_exec(
            ".venv/bin/python", "-m", "bot", cwd=here, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        try:
            while emu.command("community", guild) is None or not emu.sessions:
                if bot.returncode is not None:
                    err = await bot.stderr.read() if bot.stderr else b""
                    raise SystemExit(f"the bot stopped:\n{err.decode()}")
                if time.monotonic() - began > START_TIMEOUT:
                    bot.terminate()
                    err = await bot.stderr.read() if bot.stderr else b""
                    raise SystemExit(f"the bot did not publish its commands in time:\n"
                                     f"{err.decode()[-3000:]}")
                await asyncio.sleep(0.1)
            took = time.monotonic() - began
            rows.append(("5. python -m bot (until commands are live)", took))
            print(f"{rows[-1][0]:<44} {took:7.1f} s", flush=True)
            began = time.monotonic()
            rec = await emu.slash(guild, owner, "community create", name="Carers Voice",
                                  kind="practice", timeout=30.0)
            took = time.monotonic() - began
            text = rec.all_text
            if "Carers Voice" not in text:
                raise SystemExit(f"/community create did not answer as expected:\n{text}")
            rows.append(("6. /community create", took))
            print(f"{rows[-1][0]:<44} {took:7.1f} s", flush=True)
            made = [c.name or "" for c in emu.channels_in(guild)]
            print("   channels made:", ", ".join(sorted(made)), flush=True)
        finally:
            bot.terminate()
            await bot.wait()
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hearth-walk-") as tmp:
        rows = asyncio.run(walk(Path(tmp)))
    total = sum(t for _, t in rows)
    print(f"{'total, git clone to a first community':<44} {total:7.1f} s "
          f"({int(total // 60)} min {int(total % 60)} s)")


if __name__ == "__main__":
    main()
