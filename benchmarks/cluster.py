"""Benchmark: start-up and memory with 10,000 communities spread over four processes (issue 17).

Why measured this way: a start re-reads every schedule from the database and re-arms one job
per thing due (benchmarks/startup.py), so what several processes buy is each re-reading all
communities' rows but arming only its own guilds' jobs. One seeded database (startup.py's
rows, 10 communities per guild, guild ids spread evenly over 16 shards) is copied into a
fresh PostgreSQL schema with ``bot.db.copy`` (the ``python -m bot db copy`` command), then,
in the same run, each variant starts in fresh child processes that build the real
``HearthBot`` (no gateway, scheduler paused) and time ``setup_hook``:

(a) reference: one process owning every guild, on SQLite;
(b) one process owning every guild, on PostgreSQL;
(c) four processes on PostgreSQL (``HEARTH_SHARDS`` 0-3/16, 4-7/16, 8-11/16, 12-15/16)
    started at the same moment; the wall time runs from the first spawn until the last is
    ready. Each child waits, once ready, until the parent has read its memory, so the four
    are measured alive together: VmRSS (counts shared pages in each), VmHWM (peak) and PSS
    (shared pages split between the processes sharing them, so PSS adds up honestly).

Correctness (exit 1 otherwise): (a) and (b) arm the same jobs for the same guilds; in (c) the
guild jobs of the four are disjoint, each belongs to a guild its process owns, and their union
is (b)'s guild jobs; every process arms (b)'s global jobs (those run by the lease holder, or
per process over its own guilds); every community has its digest, poll close and series job.

Run: ``.venv/bin/python -m benchmarks.cluster [--communities 10000] [--postgres URL]``
(default server: ``$HEARTH_TEST_POSTGRES``, else ``scripts/pg_throwaway.sh``'s URL).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/cluster.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, finish, open_database, proc_status_mb, settings_for
from benchmarks.startup import seed
from tests.engines import with_search_path

DEFAULT_POSTGRES = "postgresql://hearth@127.0.0.1:55432/postgres"
#: Guild ids look like Discord snowflakes; BASE is a multiple of any shard count up to 2**20,
#: so guild g lands on shard ``g % shard_count``: guilds spread evenly over the shards.
BASE = 1 << 30
CHILD_TIMEOUT = 600


def guild_id(index: int) -> int:
    return ((BASE + index) << 22) | (index & 0x3FFFFF)


def spread_guilds(path: Path, communities: int, per_guild: int) -> int:
    """Give community c the guild ``(c - 1) // per_guild``; returns the number of guilds."""
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.executemany(
            "UPDATE communities SET guild_id = :g WHERE id = :c",
            [{"g": guild_id((c - 1) // per_guild), "c": c} for c in range(1, communities + 1)],
        )
    return (communities + per_guild - 1) // per_guild


def shard_ranges(processes: int, count: int) -> list[str]:
    """``4, 16`` -> ``["0-3/16", "4-7/16", "8-11/16", "12-15/16"]`` (contiguous, tiling)."""
    bounds = [count * k // processes for k in range(processes + 1)]
    return [f"{bounds[k]}-{bounds[k + 1] - 1}/{count}" for k in range(processes)]


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# --- the child: one Hearth process ------------------------------------------------------


def _pss_mb(pid: int | str = "self") -> float:
    """Proportional set size (MiB) from /proc/PID/smaps_rollup; NaN where unreadable."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _status_mb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def child(target: str, key_file: Path, shards: str | None, jobs_out: Path) -> None:
    """In a fresh process: build HearthBot (owning ``shards``' guilds), time setup_hook,
    write its jobs (id -> guild, None for a global job) to ``jobs_out``, print one JSON line,
    then wait for the parent to close stdin (it reads this process's memory meanwhile)."""
    t_import = time.perf_counter()
    from bot.app import HearthBot
    from bot.clock import SystemClock
    from bot.db.database import Database
    from bot.scheduling import Scheduler
    from bot.settings import load_config

    imports_s = time.perf_counter() - t_import
    extra = {"HEARTH_SHARDS": shards} if shards else {}
    settings = settings_for(target, **extra)  # type: ignore[arg-type]
    config = load_config(settings.hearth_config)
    db = Database(target, key_file=key_file)
    await db.connect()
    clock = SystemClock()
    owns = settings.hearth_shards.owns if settings.hearth_shards is not None else None
    # Paused: jobs are armed but none runs (the benchmark stops at "all jobs scheduled").
    scheduler = (Scheduler(clock, run_in_real_time=False, owns=owns) if owns is not None
                 else Scheduler(clock, run_in_real_time=False))
    bot = HearthBot(settings=settings, config=config, db=db, clock=clock, scheduler=scheduler)
    if owns is not None:
        scheduler._claim = bot.claim_global_job  # what HearthBot gives its own scheduler
    async with bot:
        t1, c1 = time.perf_counter(), time.process_time()
        await bot.setup_hook()
        t2, c2 = time.perf_counter(), time.process_time()
        ready_wall = time.time()
        jobs = bot.scheduler.jobs()
        scope = bot.scheduler._scope
        await asyncio.to_thread(jobs_out.write_text,
                                json.dumps({j: scope[j][0] for j in jobs}))
        print(json.dumps({
            "setup_hook_s": t2 - t1,
            "setup_hook_cpu_s": c2 - c1,
            "imports_s": imports_s,
            "ready_wall": ready_wall,
            "jobs": len(jobs),
            "guild_jobs": sum(1 for j in jobs if scope[j][0] is not None),
            "apscheduler_jobs": len(bot.scheduler._aps.get_jobs()),
            "vmrss_mb": proc_status_mb("VmRSS"),
            "vmhwm_mb": proc_status_mb("VmHWM"),
            "pss_mb": _pss_mb(),
        }), flush=True)
        sys.stdin.read()  # the parent reads /proc/<pid>/ now, with every sibling alive
    await db.close()


# --- the parent -------------------------------------------------------------------------


def start_processes(
    target: str, key_file: Path, shards: list[str | None], tmp: Path, tag: str
) -> tuple[list[dict[str, Any]], float]:
    """Start one child per entry of ``shards`` at once; each one's figures and jobs, and the
    wall time from the first spawn until the last is ready."""
    start = time.time()
    procs = []
    for k, rng in enumerate(shards):
        jobs_out = tmp / f"{tag}-{k}.json"
        cmd = [sys.executable, "-m", "benchmarks.cluster", "--child", target,
               "--key-file", str(key_file), "--jobs-out", str(jobs_out)]
        if rng:
            cmd += ["--shards", rng]
        procs.append((rng, jobs_out, subprocess.Popen(
            cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)))
    results = []
    try:
        for rng, jobs_out, proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                _, err = proc.communicate(timeout=CHILD_TIMEOUT)
                raise RuntimeError(f"child {rng or 'all'} failed:\n{err[-3000:]}")
            out: dict[str, Any] = json.loads(line)
            out["shards"] = rng or "all"
            out["process_start_to_ready_s"] = out["ready_wall"] - start
            out["job_guilds"] = json.loads(jobs_out.read_text())
            results.append(out)
        # Every child is ready and alive: read their memory at one moment.
        for out, (_, _, proc) in zip(results, procs, strict=True):
            out["vmrss_mb"] = _status_mb(proc.pid, "VmRSS")
            out["vmhwm_mb"] = _status_mb(proc.pid, "VmHWM")
            out["pss_mb"] = _pss_mb(proc.pid)
    finally:
        for _, _, proc in procs:
            with contextlib.suppress(OSError, ValueError, subprocess.TimeoutExpired):
                proc.communicate(input="", timeout=CHILD_TIMEOUT)
            if proc.poll() is None:
                proc.kill()
    wall = max(r["ready_wall"] for r in results) - start
    return results, wall


def check(n: int, sqlite1: dict[str, Any], pg1: dict[str, Any],
          cluster: list[dict[str, Any]]) -> list[str]:
    from bot.sharding import parse_shards

    problems = []
    single: dict[str, int | None] = pg1["job_guilds"]
    if sqlite1["job_guilds"] != single:
        diff = set(sqlite1["job_guilds"].items()) ^ set(single.items())
        problems.append(f"SQLite and PostgreSQL arm different jobs ({len(diff)} differ, "
                        f"e.g. {sorted(diff, key=str)[:3]})")
    for kind, prefix in (("digest", "digest:"), ("poll close", "poll:close:"),
                         ("series", "series:")):
        found = sum(1 for j in single if j.startswith(prefix) and
                    (kind != "digest" or j.split(":")[1].isdigit()))
        if found != n:
            problems.append(f"{found} {kind} jobs for {n} communities")
    single_guild = {j for j, g in single.items() if g is not None}
    single_global = {j for j, g in single.items() if g is None}
    seen: dict[str, str] = {}
    for proc in cluster:
        rng = parse_shards(proc["shards"])
        mine: dict[str, int | None] = proc["job_guilds"]
        for job, guild in mine.items():
            if guild is None:
                continue
            if not rng.owns(guild):
                problems.append(f"{proc['shards']} armed {job} of guild {guild}, not its own")
            if job in seen:
                problems.append(f"{job} armed by both {seen[job]} and {proc['shards']}")
            seen[job] = proc["shards"]
            if single.get(job, -1) != guild:
                problems.append(f"{proc['shards']} armed {job} (guild {guild}), which the "
                                "single process arms for another guild or not at all")
        missing = single_global - {j for j, g in mine.items() if g is None}
        if missing:
            problems.append(f"{proc['shards']} lacks global jobs {sorted(missing)[:5]}")
    lost = single_guild - set(seen)
    if lost:
        problems.append(f"{len(lost)} guild jobs armed by no process, e.g. {sorted(lost)[:3]}")
    return problems[:20]


def _loads(load: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.1f}" for x in load)


def kinds(job_guilds: dict[str, Any]) -> dict[str, int]:
    return dict(Counter(j.split(":")[0] + (":" + j.split(":")[1] if j.startswith("poll:")
                                           else "") for j in job_guilds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument("--per-guild", type=int, default=10, help="communities per guild")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--shard-count", type=int, default=16)
    parser.add_argument("--postgres", default=os.environ.get("HEARTH_TEST_POSTGRES")
                        or DEFAULT_POSTGRES, help="a PostgreSQL server URL (a schema is "
                        "created in it for the run and dropped after)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--key-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--jobs-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--shards", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        asyncio.run(child(args.child, args.key_file, args.shards, args.jobs_out))
        return

    from bot.db.copy import copy_database

    n = args.communities
    ranges: list[str | None] = list(shard_ranges(args.processes, args.shard_count))
    schema = "bench_" + secrets.token_hex(6)
    url = with_search_path(args.postgres, schema)
    with tempfile.TemporaryDirectory(prefix="hearth-cluster-") as tmp_name:
        tmp = Path(tmp_name)
        full, key_file = tmp / "full.db", tmp / "hearth.key"

        async def migrate() -> None:
            db = await open_database(full)  # creates tmp/hearth.key beside it
            await db.close()

        load_before = os.getloadavg()
        t = time.perf_counter()
        asyncio.run(migrate())
        rows = seed(full, n, datetime.now(UTC))
        guilds = spread_guilds(full, n, args.per_guild)
        seed_s = time.perf_counter() - t
        asyncio.run(_admin(args.postgres, f"CREATE SCHEMA {schema}"))
        try:
            t = time.perf_counter()
            report = asyncio.run(copy_database(full, url))
            copy_s = time.perf_counter() - t
            bad_copy = [c.table for c in report.checks if not c.ok]
            [sqlite1], _ = start_processes(str(full), key_file, [None], tmp, "sqlite")
            [pg1], _ = start_processes(url, key_file, [None], tmp, "pg")
            cluster, wall = start_processes(url, key_file, ranges, tmp, "cluster")
        finally:
            asyncio.run(_admin(args.postgres, f"DROP SCHEMA IF EXISTS {schema} CASCADE"))

    load_after = os.getloadavg()
    problems = [f"copy verification failed for {bad_copy}"] if bad_copy else []
    problems += check(n, sqlite1, pg1, cluster)
    guilds_per_shard = Counter((BASE + g) % args.shard_count for g in range(guilds))
    strip = ("job_guilds", "ready_wall")
    res = {
        "communities": n,
        "guilds": guilds,
        "guilds_per_shard": [min(guilds_per_shard.values()), max(guilds_per_shard.values())],
        "rows": rows,
        "seed_s": seed_s,
        "copy_s": copy_s,
        "copy_tables_verified": len(report.checks),
        "sqlite_one": {k: v for k, v in sqlite1.items() if k not in strip},
        "postgresql_one": {k: v for k, v in pg1.items() if k not in strip},
        "postgresql_cluster": [{k: v for k, v in p.items() if k not in strip}
                               for p in cluster],
        "cluster_wall_s": wall,
        "cluster_vmrss_total_mb": sum(p["vmrss_mb"] for p in cluster),
        "cluster_pss_total_mb": sum(p["pss_mb"] for p in cluster),
        "jobs_by_kind": kinds(pg1["job_guilds"]),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }

    def row(label: str, p: dict[str, Any]) -> list[Any]:
        return [label, p["setup_hook_s"], p["setup_hook_cpu_s"], p["process_start_to_ready_s"],
                p["jobs"], p["guild_jobs"], p["vmrss_mb"], p["vmhwm_mb"], p["pss_mb"]]

    finish(
        "cluster",
        res,
        ["process", "setup_hook s", "its CPU s", "spawn -> ready s", "jobs", "guild jobs",
         "VmRSS MB", "VmHWM MB", "PSS MB"],
        [
            row("(a) SQLite, all shards", sqlite1),
            row("(b) PostgreSQL, all shards", pg1),
            *[row(f"(c) PostgreSQL, {p['shards']}", p) for p in cluster],
            [f"(c) {len(cluster)} together", max(p["setup_hook_s"] for p in cluster),
             sum(p["setup_hook_cpu_s"] for p in cluster), wall,
             sum(p["jobs"] for p in cluster), sum(p["guild_jobs"] for p in cluster),
             res["cluster_vmrss_total_mb"], sum(p["vmhwm_mb"] for p in cluster),
             res["cluster_pss_total_mb"]],
        ],
        problems=problems,
        notes=[
            f"{n:,} communities in {guilds:,} guilds, {res['guilds_per_shard'][0]}-"
            f"{res['guilds_per_shard'][1]} guilds per shard of {args.shard_count}; seeded in "
            f"{seed_s:.1f} s, copied to PostgreSQL and verified ({len(report.checks)} tables) "
            f"in {copy_s:.1f} s",
            f"load average (1, 5, 15 min) before {_loads(load_before)}, after "
            f"{_loads(load_after)} on {len(os.sched_getaffinity(0))} cores (other work on the "
            "machine slows wall times; CPU s is this process's own, PostgreSQL's not included)",
            "(c) together: slowest setup_hook, summed CPU, wall time from the first spawn to the "
            "last ready, and sums (RSS counts shared pages in each process; PSS splits them)",
            "jobs by kind (one process): " + ", ".join(
                f"{k} {v}" for k, v in sorted(res["jobs_by_kind"].items())),
        ],
    )


if __name__ == "__main__":
    main()
