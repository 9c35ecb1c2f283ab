"""What every benchmark shares: the machine, memory readings, percentiles and the output.

Why one module: each benchmark prints the same two things (one JSON line for machines, a
table for people) and records the same facts about the machine, so figures taken on
different days can be compared honestly. Benchmarks report speed and never fail on it:
:func:`finish` exits non-zero only when a correctness check failed.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict[str, Any]:
    """nproc, CPU model, Python, discord.py and SQLite versions of this run."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import discord

        dpy = discord.__version__
    except ImportError:  # pragma: no cover - the venv always has it
        dpy = "missing"
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "python": platform.python_version(),
        "discord_py": dpy,
        "sqlite": sqlite3.sqlite_version,
    }


def proc_status_mb(field: str = "VmRSS") -> float:
    """A /proc/self/status memory field (VmRSS, VmHWM) in MiB; no psutil needed."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


class Stopwatch:
    """``with Stopwatch() as sw: ...; sw.seconds`` (perf_counter, wall time)."""

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    cells = [list(header), *[[_fmt(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def finish(
    name: str,
    result: dict[str, Any],
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    problems: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> None:
    """Print the JSON line and the table, then exit: 1 on a correctness problem, else 0."""
    record = {
        "benchmark": name,
        "machine": machine(),
        **result,
        "correct": not problems,
        "problems": list(problems),
    }
    print(json.dumps(record, default=str, sort_keys=False), flush=True)
    print()
    print(f"== {name} on {record['machine']['nproc']} x {record['machine']['cpu']}, "
          f"Python {record['machine']['python']}")
    print(table(header, rows))
    for note in notes:
        print(f"  note: {note}")
    for problem in problems:
        print(f"  CORRECTNESS FAILURE: {problem}")
    sys.stdout.flush()
    sys.exit(1 if problems else 0)


def settings_for(db_path: Path, **extra: Any) -> Any:
    """Hearth's settings pointing at a benchmark database and the shipped config."""
    from bot.settings import Settings

    return Settings.model_validate(
        {
            "DISCORD_TOKEN": "benchmark-token",
            "HEARTH_DB": str(db_path),
            "HEARTH_CONFIG": str(ROOT / "bot" / "defaults" / "hearth.toml"),
            **extra,
        }
    )


async def open_database(path: Path) -> Any:
    """A connected, migrated :class:`bot.db.database.Database` (caller closes it)."""
    from bot.db import migrations
    from bot.db.database import Database

    db = Database(path)
    await db.connect()
    await migrations.upgrade(db)
    return db
