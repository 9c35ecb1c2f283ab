"""Benchmark 4: start-up time and resident memory with 1,000 communities' schedules.

Why measured this way: the database is the source of truth for every schedule, so a start
re-reads them all and re-arms one job per thing due (digest, story prompt, poll close and
nudge, statement round close, meeting reminders, series). Each variant runs in a fresh
child process, so memory readings are not polluted by the other run: the child builds the
real ``HearthBot`` (``async with bot`` does discord.py's own loop set-up, no gateway) and
times ``setup_hook`` (every cog loaded, every job scheduled), then reads VmRSS and VmHWM
from /proc/self/status. The reference is the same start on an empty (migrated) database.
The whole process time from ``exec`` to "all jobs scheduled" (interpreter, imports) is
reported too.

Correctness: every community has its digest job, every open poll its close job, every
series its next-meeting job; otherwise the exit status is 1.

Run: ``.venv/bin/python -m benchmarks.startup [--communities 1000]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/startup.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, finish, open_database, proc_status_mb, settings_for

TARGET_SECONDS = 2.0
TARGET_MB = 200.0


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def seed(path: Path, communities: int, now: datetime) -> dict[str, int]:
    """1,000 communities, each with members, a story schedule, a meeting series, an upcoming
    meeting (reminders ahead), an open poll with a close and a nudge, an open statement
    round and a digest schedule, as rows (what the cogs rebuild from)."""
    created = iso(now - timedelta(days=400))
    cs = range(1, communities + 1)
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.executemany(
            "INSERT INTO communities (id, guild_id, name, slug, kind, sponsor_id, created_by,"
            " created_at, lounge_id, voice_id, meetings_id) VALUES (:c, 1, :name, :slug,"
            " 'practice', 1, 1, :at, :lounge, :voice, :meetings)",
            [{"c": c, "name": f"Community {c}", "slug": f"community-{c}", "at": created,
              "lounge": 10_000_000 + c, "voice": 20_000_000 + c, "meetings": 30_000_000 + c}
             for c in cs],
        )
        conn.executemany(
            "INSERT INTO memberships (community_id, user_id, discipline, is_facilitator,"
            " joined_at) VALUES (:c, :u, 'carer', :fac, :at)",
            [{"c": c, "u": c * 1000 + k, "fac": int(k == 0), "at": created}
             for c in cs for k in range(10)],
        )
        conn.executemany(
            "INSERT INTO story_schedules (community_id, cadence, weekday, time_of_day, anchor,"
            " set_at, last_due_at) VALUES (:c, 'weekly', :weekday, '10:00', :anchor, :at, NULL)",
            [{"c": c, "weekday": c % 7, "anchor": (now - timedelta(days=30)).date().isoformat(),
              "at": created} for c in cs],
        )
        conn.executemany(
            "INSERT INTO meeting_series (community_id, months, weekday, nth, local_time,"
            " timezone, duration_minutes, location, created_by, updated_at) VALUES"
            " (:c, '3,9', 2, 1, '18:30', 'Europe/London', 90, 'Village hall', :by, :at)",
            [{"c": c, "by": c * 1000, "at": created} for c in cs],
        )
        conn.executemany(
            "INSERT INTO meetings (community_id, title, start_at, end_at, timezone, location,"
            " in_series, created_by, created_at) VALUES (:c, 'Gathering', :start, :end,"
            " 'Europe/London', 'Village hall', 0, :by, :at)",
            [{"c": c, "start": iso(now + timedelta(days=10, minutes=c)),
              "end": iso(now + timedelta(days=10, minutes=c + 90)), "by": c * 1000,
              "at": created} for c in cs],
        )
        conn.executemany(
            "INSERT INTO polls (community_id, kind, question, options, created_by, created_at,"
            " closes_at, ballot_key, channel_id, message_id) VALUES (:c, 'single',"
            " 'Which evening suits?', '[\"Tue\",\"Wed\"]', :by, :at, :closes, randomblob(32),"
            " :channel, :message)",
            [{"c": c, "by": c * 1000, "at": iso(now - timedelta(days=1)),
              "closes": iso(now + timedelta(days=6, minutes=c)), "channel": 20_000_000 + c,
              "message": 40_000_000 + c} for c in cs],
        )
        conn.executemany(
            "INSERT INTO statement_rounds (community_id, opened_by, opened_at, closes_at)"
            " VALUES (:c, :by, :at, :closes)",
            [{"c": c, "by": c * 1000, "at": iso(now - timedelta(days=1)),
              "closes": iso(now + timedelta(days=13))} for c in cs],
        )
        conn.executemany(
            "INSERT INTO digest_schedules (community_id, weekday, at_time, timezone,"
            " updated_by, updated_at) VALUES (:c, :weekday, '09:00', 'Europe/London', :by, :at)",
            [{"c": c, "weekday": c % 7, "by": c * 1000, "at": created} for c in cs],
        )
        # Last week's digest was sent, so nothing is overdue (a normal restart).
        conn.executemany(
            "INSERT INTO digests (community_id, period_start, period_end, state, dm_done,"
            " attempts, created_at, sent_at) VALUES (:c, :start, :end, 'sent', 1, 1, :at, :at)",
            [{"c": c, "start": iso(now - timedelta(days=8)), "end": iso(now - timedelta(days=1)),
              "at": iso(now - timedelta(days=1))} for c in cs],
        )
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("communities", "memberships", "story_schedules", "meeting_series",
                          "meetings", "polls", "statement_rounds", "digest_schedules")}


async def child(db_path: Path, profile: bool = False) -> dict[str, Any]:
    """In a fresh process: build HearthBot, time setup_hook, read memory."""
    rss_before = proc_status_mb("VmRSS")
    t_import = time.perf_counter()
    from bot.app import HearthBot
    from bot.clock import SystemClock
    from bot.db.database import Database
    from bot.scheduling import Scheduler
    from bot.settings import load_config

    imports_s = time.perf_counter() - t_import
    t0 = time.perf_counter()
    settings = settings_for(db_path)
    config = load_config(settings.hearth_config)
    db = Database(db_path)
    await db.connect()
    clock = SystemClock()
    # Paused: jobs are armed but none runs (the benchmark stops at "all jobs scheduled").
    bot = HearthBot(settings=settings, config=config, db=db, clock=clock,
                    scheduler=Scheduler(clock, run_in_real_time=False))
    async with bot:
        prof = None
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        t1 = time.perf_counter()
        await bot.setup_hook()
        t2 = time.perf_counter()
        if prof is not None:
            import pstats

            prof.disable()
            pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
        ready_wall = time.time()
        jobs = bot.scheduler.jobs()
        out = {
            "setup_hook_s": t2 - t1,
            "settings_db_bot_s": t1 - t0,
            "imports_s": imports_s,
            "ready_wall": ready_wall,
            "jobs": len(jobs),
            # Of those, held by APScheduler itself (due within the Scheduler's horizon, plus
            # its refill job); the rest wait in the wrapper's heap (bot/scheduling.py).
            "apscheduler_jobs": len(bot.scheduler._aps.get_jobs()),
            "jobs_by_kind": dict(Counter(j.split(":")[0] + (":" + j.split(":")[1]
                                                          if j.startswith("poll:") else "")
                                         for j in jobs)),
            "digest_jobs": sum(1 for j in jobs if j.startswith("digest:") and
                               j.split(":")[1].isdigit()),
            "poll_close_jobs": sum(1 for j in jobs if j.startswith("poll:close:")),
            "series_jobs": sum(1 for j in jobs if j.startswith("series:")),
            "cogs": sorted(bot.cogs),
            "vmrss_mb": proc_status_mb("VmRSS"),
            "vmhwm_mb": proc_status_mb("VmHWM"),
            "vmrss_before_imports_mb": rss_before,
        }
    await db.close()
    return out


def spawn(db_path: Path, profile: bool = False) -> dict[str, Any]:
    start = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.startup", "--child", str(db_path)]
        + (["--profile"] if profile else []),
        cwd=ROOT, capture_output=True, text=True, timeout=110, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child failed:\n{proc.stderr[-3000:]}")
    if profile:
        print(proc.stderr, file=sys.stderr)
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_start_to_ready_s"] = out.pop("ready_wall") - start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of setup_hook with the communities to stderr")
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(asyncio.run(child(args.child, args.profile))))
        return

    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        empty, full = Path(tmp) / "empty.db", Path(tmp) / "full.db"

        async def migrate() -> None:
            for p in (empty, full):
                db = await open_database(p)
                await db.close()

        asyncio.run(migrate())
        rows = seed(full, args.communities, datetime.now(UTC))
        ref = spawn(empty)
        hearth = spawn(full, args.profile)

    n = args.communities
    problems = []
    if hearth["digest_jobs"] != n:
        problems.append(f"{hearth['digest_jobs']} digest jobs for {n} communities")
    if hearth["poll_close_jobs"] != n:
        problems.append(f"{hearth['poll_close_jobs']} poll close jobs for {n} open polls")
    if hearth["series_jobs"] != n:
        problems.append(f"{hearth['series_jobs']} series jobs for {n} meeting series")
    res = {
        "communities": n,
        "rows": rows,
        "empty_database": ref,
        "with_communities": hearth,
        "target_seconds": TARGET_SECONDS,
        "target_mb": TARGET_MB,
        "target_time_met": hearth["setup_hook_s"] < TARGET_SECONDS,
        "target_memory_met": hearth["vmhwm_mb"] < TARGET_MB,
    }
    finish(
        "startup",
        res,
        ["database", "setup_hook s", "exec -> ready s", "jobs", "in APScheduler", "VmRSS MB",
         "VmHWM MB"],
        [
            ["empty (reference)", ref["setup_hook_s"], ref["process_start_to_ready_s"],
             ref["jobs"], ref["apscheduler_jobs"], ref["vmrss_mb"], ref["vmhwm_mb"]],
            [f"{n:,} communities", hearth["setup_hook_s"], hearth["process_start_to_ready_s"],
             hearth["jobs"], hearth["apscheduler_jobs"], hearth["vmrss_mb"],
             hearth["vmhwm_mb"]],
        ],
        problems=problems,
        notes=[
            f"start < {TARGET_SECONDS:.0f} s: {'met' if res['target_time_met'] else 'MISSED'}; "
            f"memory < {TARGET_MB:.0f} MB (peak RSS): "
            f"{'met' if res['target_memory_met'] else 'MISSED'}",
            "jobs by kind: " + ", ".join(f"{k} {v}" for k, v in
                                         sorted(hearth["jobs_by_kind"].items())),
        ],
    )


if __name__ == "__main__":
    main()
