"""A vote from another process while a poll (or statement round) is being closed is refused,
never acknowledged and then lost.

Two Database objects on one database stand for two Hearth processes (shard ranges, a rolling
deploy). The close is held inside its transaction (its ``decide`` waits) after it has read and
deleted the ballots; a vote sent meanwhile through the other "process" must wait for the close
and then be told the poll is closed. On SQLite the single write lock does this; on PostgreSQL
the row lock of bot/db/locking.py. The same for two processes opening a statement round at
once. Runs on every engine.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.db import migrations
from bot.db.database import Database
from bot.db.group_commit import GroupCommitter
from bot.db.locking import lock_row
from bot.db.polls import PollRepo
from bot.db.rows import to_db
from bot.db.statements import StatementRepo
from bot.domain.polls import parse_poll, poll_outcome
from bot.domain.statements import Vote, round_outcome
from bot.errors import Conflict
from tests.db.test_polls_repo import FAC, community
from tests.engines import database_target

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
#: Long enough for an unblocked vote to have been committed many times over.
SETTLE = 0.5


@asynccontextmanager
async def two_processes(engine: str, tmp_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    key_file = tmp_path / "hearth.key"
    async with (
        database_target(engine, tmp_path) as target,
        Database(target, key_file=key_file) as first,
    ):
        await migrations.upgrade(first)
        async with Database(target, key_file=key_file) as second:
            yield first, second


class HeldDecision:
    """A ``decide`` that waits (in the close's worker thread) until released."""

    def __init__(self, decide: Callable[..., Any]) -> None:
        self.decide = decide
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, *args: Any) -> Any:
        self.entered.set()
        self.release.wait(10)
        return self.decide(*args)


async def _race(close: Any, held: HeldDecision, vote: Any) -> tuple[Any, bool, Any]:
    """Start the close, vote while it is held, release it; (closed, vote waited, vote task)."""
    closing = asyncio.create_task(close)
    assert await asyncio.to_thread(held.entered.wait, 10)
    voting = asyncio.create_task(vote)
    await asyncio.sleep(SETTLE)
    waited = not voting.done()
    held.release.set()
    return await closing, waited, voting


async def test_a_vote_racing_a_poll_close_in_another_process_is_refused(
    engine: str, tmp_path: Path
) -> None:
    async with two_processes(engine, tmp_path) as (a, b):
        cid = await community(a)
        poll = await PollRepo(a).create(
            cid, parse_poll("single", "Day?", "Mon; Tue"), anonymous=True, created_by=FAC,
            created_at=T0, closes_at=None,
        )  # fmt: skip
        gc_a, gc_b = GroupCommitter(a), GroupCommitter(b)
        await gc_a.submit(PollRepo(a).vote_op(poll.id, 1, lambda _p: 0, T0))
        held = HeldDecision(poll_outcome)
        closed, waited, voting = await _race(
            PollRepo(a).close(poll.id, T0 + timedelta(hours=1), closed_by=FAC, decide=held),
            held,
            gc_b.submit(PollRepo(b).vote_op(poll.id, 2, lambda _p: 1, T0)),
        )
        with pytest.raises(Conflict, match="closed"):
            await voting
        assert waited, "the vote did not wait for the close"
        assert closed is not None and closed.result.voters == 1
        assert await b.fetchval("SELECT COUNT(*) FROM poll_sealed_ballots") == 0
        assert await b.fetchval("SELECT COUNT(*) FROM poll_final_ballots") == 1
        await gc_a.close()
        await gc_b.close()


async def test_a_vote_racing_a_round_close_in_another_process_is_refused(
    engine: str, tmp_path: Path
) -> None:
    async with two_processes(engine, tmp_path) as (a, b):
        cid = await community(a)
        srepo = StatementRepo(a)
        s1 = await srepo.add(cid, 1, "One point", T0)
        await srepo.add(cid, 2, "Another point", T0)
        rnd = await srepo.create_round(cid, FAC, T0, T0 + timedelta(days=1))
        gc_a, gc_b = GroupCommitter(a), GroupCommitter(b)
        await gc_a.submit(srepo.vote_op(rnd.id, s1.id, 2, Vote.AGREE, T0))
        held = HeldDecision(round_outcome)
        closed, waited, voting = await _race(
            srepo.close_round(rnd.id, T0 + timedelta(hours=1), held),
            held,
            gc_b.submit(StatementRepo(b).vote_op(rnd.id, s1.id, 3, Vote.AGREE, T0)),
        )
        with pytest.raises(Conflict, match="closed"):
            await voting
        assert waited, "the vote did not wait for the close"
        assert closed is not None and closed.result.voters == 1
        assert await b.fetchval("SELECT COUNT(*) FROM statement_sealed_votes") == 0
        await gc_a.close()
        await gc_b.close()


async def test_two_processes_do_not_both_open_a_round(engine: str, tmp_path: Path) -> None:
    """Process A is inside create_round's transaction (community locked, round inserted);
    B's create_round meanwhile waits, then finds A's round open and refuses."""
    async with two_processes(engine, tmp_path) as (a, b):
        cid = await community(a)
        for author, text in ((1, "One point"), (2, "Another point")):
            await StatementRepo(a).add(cid, author, text, T0)
        async with a.transaction() as conn:
            await conn.execute_fetchall(
                "SELECT id FROM communities WHERE id = :cid" + lock_row(a), {"cid": cid}
            )
            await conn.execute(
                "INSERT INTO statement_rounds (community_id, opened_by, opened_at, closes_at)"
                " VALUES (:cid, :by, :now, :now)",
                {"cid": cid, "by": FAC, "now": to_db(T0)},
            )
            opening = asyncio.create_task(
                StatementRepo(b).create_round(cid, FAC, T0, T0 + timedelta(days=1))
            )
            await asyncio.sleep(SETTLE)
            waited = not opening.done()
        with pytest.raises(Conflict, match="already open"):
            await opening
        assert waited, "the second create_round did not wait for the first"
        assert await b.fetchval("SELECT COUNT(*) FROM statement_rounds") == 1
