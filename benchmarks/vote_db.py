"""The vote path's database-thread work, per vote, profiled (a companion of benchmarks/votes.py).

Why: ``benchmarks.votes --profile`` sees only the event-loop thread, but every vote also
runs its plan on aiosqlite's database thread (read the poll, check membership, unseal the
poll key, HMAC the voter, open the previous ballot, seal the new one, two writes), and that
thread shares the GIL with the loop. Here the same plans (``PollRepo.vote_op``) run through
the same batch function the group committer uses (``_run_planned``) on a plain
``sqlite3`` connection with the bot's pragmas, in the main thread, so the CPU time per vote
can be read without the noise of a gateway, an emulator or other processes: a micro-profile
for guiding changes, not a target of its own. The COMMIT's fsync is excluded (it waits for
the disk, it does not hold the GIL).

It runs each batch both ways, interleaved: batched (``bot.db.poll_votes``, the bot's path)
and one plan per vote (the fallback, and the path before). Prints CPU µs per vote for each.

Run: ``.venv/bin/python -m benchmarks.vote_db [--votes 4000] [--batch 100] [--profile]``
(~15 s).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import open_database

T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)


async def _seed(path: Path, voters: int) -> tuple[Any, int]:
    """A community of ``voters`` members and an open anonymous poll: (its sealer, poll id)."""
    from bot.db.polls import PollRepo
    from bot.domain.polls import parse_poll

    db = await open_database(path)
    await db.execute(
        "INSERT INTO communities (id, guild_id, name, slug, kind, timezone, created_by,"
        " created_at) VALUES (1, 1, 'Bench', 'bench', 'practice', 'Europe/London', 1, :at)",
        {"at": T0.isoformat()},
    )
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO memberships (community_id, user_id, discipline, joined_at)"
            " VALUES (1, :u, 'gp', :at)",
            [{"u": u, "at": T0.isoformat()} for u in range(1, voters + 1)],
        )
    repo = PollRepo(db)
    spec = parse_poll("single", "Which evening suits?", "Tuesday; Wednesday; Thursday")
    poll = await repo.create(
        1, spec, anonymous=True, created_by=1, created_at=T0, closes_at=T0 + timedelta(days=7)
    )
    sealer = db.sealer
    await db.close()
    return sealer, poll.id


def _choice(option: int) -> Callable[[Any], int]:
    """The ballot builder of a click on option ``option`` (as ChoiceButton's)."""
    return lambda _previous: option


def measure(votes: int, batch: int, profile: bool, per_vote: bool = False) -> dict[str, Any]:
    from bot.db.group_commit import _run_planned
    from bot.db.polls import PollRepo

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.db"
        sealer, poll_id = asyncio.run(_seed(path, votes))
        # the vote plan needs only the database's sealer (the installation secret) and dialect
        repo = PollRepo(SimpleNamespace(sealer=sealer, dialect="sqlite"))  # type: ignore[arg-type]
        raw = sqlite3.connect(path, isolation_level=None)
        raw.row_factory = sqlite3.Row  # as aiosqlite.Row
        for pragma in (
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=FULL",
            "PRAGMA secure_delete=ON",
            "PRAGMA temp_store=MEMORY",
        ):
            raw.execute(pragma)
        now = T0 + timedelta(hours=1)
        ops = [
            (i % batch, repo.vote_op(poll_id, u, _choice(u % 3), now))
            for i, u in enumerate(range(1, votes + 1))
        ]
        if per_vote:  # the plans one by one, as before the batched path
            for _, op in ops:
                op.batch = None
        prof = cProfile.Profile(time.thread_time) if profile else None
        cpu = 0.0
        failed = 0
        for start in range(0, votes, batch):
            chunk = ops[start : start + batch]
            raw.execute("BEGIN IMMEDIATE")
            t = time.thread_time()
            if prof is not None:
                prof.enable()
            outcomes = _run_planned(raw, chunk)
            if prof is not None:
                prof.disable()
            cpu += time.thread_time() - t
            raw.execute("COMMIT")
            failed += sum(1 for ok, _ in outcomes if not ok)
        stored = raw.execute("SELECT COUNT(*) FROM poll_sealed_ballots").fetchone()[0]
        raw.close()
    if prof is not None:
        st = pstats.Stats(prof, stream=sys.stderr)
        st.sort_stats("tottime").print_stats(25)
    return {
        "votes": votes,
        "batch": batch,
        "failed": failed,
        "stored": stored,
        "cpu_us_per_vote": cpu / votes * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--votes", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    # interleaved, best of 3 each: the batched votes and the same plans one vote at a time
    best: dict[bool, dict[str, Any]] = {}
    for _ in range(3):
        for per_vote in (False, True):
            got = measure(args.votes, args.batch, False, per_vote)
            if per_vote not in best or got["cpu_us_per_vote"] < best[per_vote]["cpu_us_per_vote"]:
                best[per_vote] = got
    for per_vote, got in best.items():
        print({"path": "one plan per vote" if per_vote else "batched", **got})
    if args.profile:
        measure(args.votes, args.batch, True)
    if any(got["failed"] or got["stored"] != args.votes for got in best.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
