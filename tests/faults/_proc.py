# ruff: noqa: ASYNC109  (timeouts are the point of these waits)
"""Run the real ``python -m bot`` as a child process against an in-process emulator.

Why a child process: only a separate process can be killed with SIGKILL mid-write, which is
what a crash on a real host looks like (no ``finally``, no clean close, no flushed buffers).
The emulator stays in the test process, so it keeps every interaction and every callback the
bot managed to send before it died: that record is the ground truth of what was acknowledged.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.emulator.server import DiscordEmulator

ROOT = Path(__file__).resolve().parents[2]


def bot_env(
    emu: DiscordEmulator, db_path: Path | str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment an operator would set, pointed at the emulator (``db_path``: a SQLite
    file or a PostgreSQL URL; ``extra``: e.g. HEARTH_KEY_FILE, HEARTH_SHARDS)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "HEARTH_"))}
    env.update(
        DISCORD_API_BASE=emu.api_base,
        DISCORD_TOKEN="emulator-token",
        HEARTH_DB=str(db_path),
        HEARTH_CONFIG=str(ROOT / "bot" / "defaults" / "hearth.toml"),
        HEARTH_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


@dataclass
class BotProcess:
    """One run of ``python -m bot``; its output goes to ``log_path`` (appended across runs)."""

    emu: DiscordEmulator
    db_path: Path | str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: asyncio.subprocess.Process | None = None
    runs: list[int] = field(default_factory=list)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def run_once(self, *args: str, timeout: float = 60.0) -> int:
        """Run a one-shot command (``sync``, ``db upgrade``) to completion."""
        with self.log_path.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *args, cwd=ROOT,
                env=bot_env(self.emu, self.db_path, self.env), stdout=out, stderr=out,
            )
            return await asyncio.wait_for(proc.wait(), timeout)

    async def start(self, timeout: float = 60.0) -> None:
        """Start the bot and wait until it has logged that it is connected."""
        assert self.proc is None or self.proc.returncode is not None, "already running"
        before = self.log_text().count("connected as")
        with self.log_path.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=ROOT,
                env=bot_env(self.emu, self.db_path, self.env), stdout=out, stderr=out,
            )
        self.runs.append(self.proc.pid)
        proc = self.proc

        def ready() -> bool:
            if proc.returncode is not None:
                raise AssertionError(f"bot exited with {proc.returncode}:\n{self.log_text()}")
            return self.log_text().count("connected as") > before

        await self.emu.wait_for(ready, timeout, "the bot process to connect")
        # READY is logged once the guilds arrived; the new session is the live one
        await self.emu.wait_for(lambda: any(s.ws is not None for s in self.emu.sessions), timeout)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a host or OOM kill."""
        assert self.proc is not None and self.proc.returncode is None
        os.kill(self.proc.pid, signal.SIGKILL)

    async def wait_dead(self, timeout: float = 10.0) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait: the clean shutdown path."""
        if self.proc is None:
            return 0
        if self.proc.returncode is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            return await self.proc.wait()

    def error_lines(self) -> list[str]:
        """Log lines at ERROR or above, and tracebacks, from every run so far."""
        return [
            line for line in self.log_text().splitlines()
            if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
        ]
