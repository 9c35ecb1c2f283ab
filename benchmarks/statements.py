"""5. Statement report at 1,000 voters x 100 statements: its time, and the event loop meanwhile.

A round of 100 statements on which 1,000 members in three camps each vote on every
statement (100,000 votes, 4 disciplines). Measured:

* the report itself (``statement_report``: tallies, disciplines, consensus, divisive
  statements, PCA + k-means opinion groups with the 19-copy null model), best of 3;
* the event loop's lag while the report is computed the way Hearth computes it
  (``asyncio.to_thread``, as the close and ``/statement report`` do): a ticker task wakes every
  10 ms and records how late it woke; p50 / p99 / max;
* the whole close through the real repository (100,000 sealed votes opened, the report
  frozen, votes and key deleted) with the same ticker.

References in the same run: the ticker with nothing computing (the machine's own jitter) and
the report computed on the loop itself (what ``/statement report`` did before: the loop
stalls for the whole computation). Correctness: three opinion groups of the camps' sizes,
every vote counted. Speed never fails the run.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import Stopwatch, finish, open_database, percentile, proc_status_mb

# As `python -m bot` runs it (bot/__main__.py): one BLAS thread beside the event loop. Set
# before numpy is first imported (the report imports it when it first runs).
for _blas in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_blas, "1")

VOTERS = 1000
STATEMENTS = 100
CAMPS = 3
DISCIPLINES = ("carer", "gp", "nurse", "patient")
TICK = 0.010
T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)


def make_votes(seed: int = 7) -> tuple[list[tuple[int, str]], list[tuple[int, int, Any]],
                                       dict[int, str], list[int]]:
    from bot.domain.statements import Vote

    rng = random.Random(seed)
    statements = [(i, f"Statement {i} about how the clinic should work") for i in
                  range(1, STATEMENTS + 1)]
    camp = [v % CAMPS for v in range(VOTERS)]
    lean = {(c, s): rng.choice((Vote.AGREE, Vote.DISAGREE)) for c in range(CAMPS)
            for s, _ in statements}
    votes = []
    for v in range(VOTERS):
        for s, _ in statements:
            r = rng.random()
            vote = lean[(camp[v], s)] if r < 0.75 else Vote.PASS if r < 0.85 else rng.choice(
                (Vote.AGREE, Vote.DISAGREE))
            votes.append((v + 1, s, vote))
    disciplines = {v + 1: DISCIPLINES[v % len(DISCIPLINES)] for v in range(VOTERS)}
    sizes = sorted((camp.count(c) for c in range(CAMPS)), reverse=True)
    return statements, votes, disciplines, sizes


async def lag_while(work: Callable[[], Awaitable[Any]]) -> tuple[list[float], Any, float]:
    """Run ``work`` with a ticker on the loop: (lags in ms, work's result, seconds)."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            due = loop.time() + TICK
            await asyncio.sleep(TICK)
            lags.append(max(0.0, loop.time() - due) * 1000)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(TICK * 3)
    with Stopwatch() as sw:
        result = await work()
    stop.set()
    await task
    return lags, result, sw.seconds


async def seed_round(path: Path, votes: list[tuple[int, int, Any]],
                     disciplines: dict[int, str]) -> tuple[Any, int]:
    """A community, its members and an open round with every vote sealed, by SQL."""
    from bot.db.sealing import Sealer
    from bot.db.statements import seal_vote

    db = await open_database(path)
    await db.execute(
        "INSERT INTO communities (id, guild_id, name, slug, kind, timezone, created_by,"
        " created_at) VALUES (1, 1, 'Bench', 'bench', 'practice', 'Europe/London', 1, :at)",
        {"at": T0.isoformat()})
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO memberships (community_id, user_id, discipline, joined_at)"
            " VALUES (1, :u, :discipline, :at)",
            [{"u": u, "discipline": d, "at": T0.isoformat()} for u, d in disciplines.items()])
        cur = await conn.execute(
            "INSERT INTO statement_rounds (community_id, opened_by, opened_at, closes_at)"
            " VALUES (1, 1, :opened_at, :closes_at) RETURNING id",
            {"opened_at": T0.isoformat(), "closes_at": (T0 + timedelta(days=7)).isoformat()})
        created = await cur.fetchone()
        assert created is not None
        rid = int(created[0])
        key, sealed = db.sealer.new_key("round", rid)
        await conn.execute("UPDATE statement_rounds SET ballot_key = :ballot_key WHERE id = :id",
                           {"ballot_key": sealed, "id": rid})
        await conn.executemany(
            "INSERT INTO statements (id, community_id, round_id, author_id, text, created_at)"
            " VALUES (:s, 1, :round, 0, :text, :at)",
            [{"s": s, "round": rid, "text": f"Statement {s}", "at": T0.isoformat()}
             for s in range(1, STATEMENTS + 1)])
        voter = {u: Sealer.voter_key(key, u) for u in disciplines}
        await conn.executemany(
            "INSERT INTO statement_sealed_votes (round_id, statement_id, voter_key, sealed)"
            " VALUES (:round, :s, :voter, :sealed)",
            [{"round": rid, "s": s, "voter": voter[u],
              "sealed": seal_vote(key, rid, s, voter[u], v)} for u, s, v in votes])
    return db, rid


async def run() -> None:
    from bot.domain.statements import round_outcome, statement_report

    problems: list[str] = []
    statements, votes, disciplines, sizes = make_votes()

    def report() -> Any:
        return statement_report(statements, votes, disciplines)

    report()  # warm: numpy import, caches
    times = []
    result = None
    for _ in range(3):
        with Stopwatch() as sw:
            result = report()
        times.append(sw.seconds)
    assert result is not None
    found = sorted((g.size for g in result.opinion_groups), reverse=True)
    if found != sizes:
        problems.append(f"opinion groups {found}, expected the camps {sizes}")
    if sum(t.counts.total for t in result.statements) != len(votes):
        problems.append("not every vote counted")

    async def nothing() -> None:
        await asyncio.sleep(1.0)

    async def threaded() -> Any:
        return await asyncio.to_thread(report)

    async def on_loop() -> Any:
        return report()

    idle, _, _ = await lag_while(nothing)
    off, _, off_s = await lag_while(threaded)
    blocked, _, blocked_s = await lag_while(on_loop)

    with tempfile.TemporaryDirectory() as tmp:
        db, rid = await seed_round(Path(tmp) / "bench.db", votes, disciplines)
        from bot.db.statements import StatementRepo

        repo = StatementRepo(db)
        closing, closed, close_s = await lag_while(
            lambda: repo.close_round(rid, T0 + timedelta(days=8), round_outcome))
        if closed is None or closed.outcome.voters != VOTERS:
            problems.append("the close did not count every voter")
        elif sorted((g.size for g in closed.result.opinion_groups), reverse=True) != sizes:
            problems.append("the close's report differs from the direct one")
        if await db.fetchval("SELECT COUNT(*) FROM statement_sealed_votes"):
            problems.append("sealed votes left after the close")
        await db.close()

    def p(lags: list[float], q: float) -> float:
        return percentile(lags, q)

    record = {
        "voters": VOTERS, "statements": STATEMENTS, "votes": len(votes),
        "report_s_best": min(times), "report_s_runs": times,
        "lag_ms_threaded": {"p50": p(off, 50), "p99": p(off, 99), "max": max(off)},
        "lag_ms_close": {"p50": p(closing, 50), "p99": p(closing, 99), "max": max(closing),
                         "close_s": close_s},
        "reference_lag_ms_idle": {"p50": p(idle, 50), "p99": p(idle, 99), "max": max(idle)},
        "reference_lag_ms_on_loop": {"p99": p(blocked, 99), "max": max(blocked),
                                     "report_s": blocked_s},
        "vm_hwm_mb": proc_status_mb("VmHWM"),
    }
    rows = [
        ("report, best of 3 (s)", "—", min(times), "< 1 s", min(times) < 1.0),
        ("loop lag p99 while computed in a thread (ms)", p(idle, 99), p(off, 99), "< 50 ms",
         p(off, 99) < 50),
        ("loop lag max while computed in a thread (ms)", max(idle), max(off), "—", True),
        ("whole close: loop lag p99 (ms)", p(idle, 99), p(closing, 99), "< 50 ms",
         p(closing, 99) < 50),
        ("whole close: seconds (open 100k votes, report, store)", "—", close_s, "—", True),
        ("report on the loop (before): lag max (ms)", "—", max(blocked), "—", True),
    ]
    finish("statements", record, ("measure", "reference (idle loop)", "Hearth", "target", "met"),
           rows, problems=problems,
           notes=[f"threaded report took {off_s:.2f} s; on the loop {blocked_s:.2f} s",
                  f"{time.strftime('%Y-%m-%d %H:%M')}"])


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
