"""Votes on one poll in one group-commit batch are written together (bot/db/poll_votes.py).

The batched path must give every caller what its own plan would have given, store the same
ballots, refuse the same votes while writing nothing for them, fall back to one plan per
vote (rolled back first) if the batch's writes fail, and leave nothing behind when the
process dies before the COMMIT.

The batch runs on SQLite's database thread (aiosqlite's raw connection) and, on PostgreSQL,
through the async connection (``Batch.run_async``): the tests that compare outcomes, stored
ballots and the fallback after a failing write run on every engine (the shared ``db``
fixture); those that hand the batch a raw ``sqlite3`` connection run on SQLite only.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.db.database import INTEGRITY_ERRORS, Database
from bot.db.group_commit import Batch, GroupCommitter, Plan, PlannedOp, _run_planned
from bot.db.polls import PollRepo, VoteReceipt
from bot.domain.polls import Ballot, merge_survey_answers, parse_poll, withdraw_survey_answer
from bot.errors import AlreadyYourVote, InvalidInput, NotAllowed
from tests.engines import open_test_database

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
MEMBERS = range(1, 9)

#: The batch's own machinery runs on SQLite only (see the module docstring): these tests hand
#: it a raw ``sqlite3`` connection or a temporary trigger on aiosqlite's writer.
SQLITE_ONLY = pytest.mark.parametrize("engine", ["sqlite"])


async def _community(db: Database) -> None:
    """Community 1 with MEMBERS as its members."""
    await db.execute(
        "INSERT INTO communities (id, guild_id, name, slug, kind, timezone, created_by,"
        " created_at) VALUES (1, 1, 'C', 'c', 'practice', 'Europe/London', 1, :now)",
        {"now": T0.isoformat()},
    )
    await db.executemany(
        "INSERT INTO memberships (community_id, user_id, discipline, joined_at)"
        " VALUES (1, :user_id, 'gp', :now)",
        [{"user_id": user, "now": T0.isoformat()} for user in MEMBERS],
    )


@pytest.fixture
async def db(db: Database) -> Database:
    """The shared database (every engine, tests/db/conftest.py) with community 1."""
    await _community(db)
    return db


def choose(option: Any) -> Callable[[Ballot | None], Any]:
    return lambda _previous: option


def answer(q: int, yes: bool) -> Callable[[Ballot | None], Any]:
    return lambda prev: merge_survey_answers(prev if isinstance(prev, dict) else None, {q: yes})


def withdraw(q: int) -> Callable[[Ballot | None], Any]:
    return lambda prev: withdraw_survey_answer(prev if isinstance(prev, dict) else None, q)


async def _burst(
    db: Database,
    repo: PollRepo,
    clicks: list[tuple[int, int, Callable[..., Any]]],
    *,
    batched: bool,
) -> list[Any]:
    """All clicks submitted at once (one batch); outcomes in order (receipt or error)."""
    gc = GroupCommitter(db)
    ops = [repo.vote_op(poll_id, user, build, T0) for poll_id, user, build in clicks]
    if not batched:
        for op in ops:
            op.batch = None
    out = await asyncio.gather(*(gc.submit(op) for op in ops), return_exceptions=True)
    assert list(gc.batches) == [len(clicks)]  # one batch: the batched path was taken
    await gc.close()
    return out


def _shape(outcome: Any) -> Any:
    if isinstance(outcome, VoteReceipt):
        return ("ok", outcome.poll.id, outcome.ballot, outcome.changed)
    return ("error", type(outcome).__name__, str(outcome))


async def _stored(db: Database, repo: PollRepo, poll_ids: list[int]) -> Any:
    ballots = {}
    for poll_id in poll_ids:
        ballots[poll_id] = {u: await repo.own_ballot(poll_id, u) for u in (*MEMBERS, 99)}
    voters = await db.fetchall("SELECT poll_id, user_id FROM poll_voters ORDER BY 1, 2")
    return ballots, [tuple(r) for r in voters]


async def _polls(repo: PollRepo) -> tuple[int, int]:
    single = await repo.create(
        1, parse_poll("single", "Day?", "Mon; Tue; Wed"), anonymous=True, created_by=1,
        created_at=T0, closes_at=T0 + timedelta(days=1),
    )  # fmt: skip
    survey = await repo.create(
        1, parse_poll("survey", "S", "Q1; Q2; Q3"), anonymous=False, created_by=1,
        created_at=T0, closes_at=None,
    )  # fmt: skip
    return single.id, survey.id


CLICKS: list[tuple[str, int, Callable[..., Any]]] = [
    ("single", 1, choose(0)),
    ("single", 2, choose(1)),
    ("single", 1, choose(2)),  # changes their vote within the same batch
    ("single", 2, choose(1)),  # the same again: AlreadyYourVote
    ("single", 99, choose(0)),  # not a member: NotAllowed
    ("single", 3, choose(7)),  # no such option: InvalidInput
    ("survey", 4, answer(0, True)),
    ("survey", 4, answer(2, False)),
    ("survey", 5, answer(1, True)),
    ("survey", 5, withdraw(1)),  # every answer withdrawn: no ballot, not counted
    ("single", 6, choose(0)),
    ("survey", 6, answer(0, False)),
]


async def test_a_batch_gives_each_vote_what_its_own_plan_gives(
    engine: str, tmp_path: Path
) -> None:
    results = {}
    for batched in (True, False):
        async with open_test_database(engine, tmp_path, name=f"{batched}.db") as db:
            await _community(db)
            repo = PollRepo(db)
            single, survey = await _polls(repo)
            ids = {"single": single, "survey": survey}
            out = await _burst(db, repo, [(ids[p], u, b) for p, u, b in CLICKS], batched=batched)
            results[batched] = ([_shape(o) for o in out], await _stored(db, repo, [single, survey]))

    assert results[True] == results[False]
    shapes, (ballots, voters) = results[True]
    assert [s[0] for s in shapes] == ["ok", "ok", "ok", "error", "error", "error",
                                      "ok", "ok", "ok", "ok", "ok", "ok"]  # fmt: skip
    assert shapes[2][3] is True and shapes[3][1] == AlreadyYourVote.__name__
    assert shapes[4][1] == NotAllowed.__name__ and shapes[5][1] == InvalidInput.__name__
    single, survey = sorted(ballots)
    assert ballots[single][1] == 2 and ballots[single][2] == 1 and ballots[single][3] is None
    assert ballots[survey][4] == {0: True, 2: False} and ballots[survey][5] is None
    assert (survey, 5) not in voters and (single, 99) not in voters


async def _refuse_voter_three(db: Database) -> None:
    """The database refuses member 3's voter row (a constraint-like error), on each engine."""
    if db.dialect == "postgresql":
        await db.execute(
            "CREATE FUNCTION refuse_three() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.user_id = 3 THEN"
            " RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END IF;"
            " RETURN NEW; END $$"
        )
        await db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON poll_voters"
            " FOR EACH ROW EXECUTE FUNCTION refuse_three()"
        )
    else:
        await db.writer.execute(
            "CREATE TEMP TRIGGER refuse BEFORE INSERT ON poll_voters WHEN NEW.user_id = 3"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )


async def test_a_failing_batch_write_is_rolled_back_and_the_votes_run_one_by_one(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    repo = PollRepo(db)
    single, _ = await _polls(repo)
    # The batch's voter-row write fails half-way (after the ballots were written).
    await _refuse_voter_three(db)
    out = await _burst(db, repo, [(single, u, choose(u % 3)) for u in (1, 2, 3, 4)], batched=True)
    assert "batched run of 4 ops failed" in caplog.text
    assert [isinstance(o, VoteReceipt) for o in out] == [True, True, False, True]
    assert isinstance(out[2], INTEGRITY_ERRORS)
    # Member 3's vote is gone entirely (no sealed ballot without its voter row), the others
    # are stored once each.
    assert await repo.own_ballot(single, 3) is None
    assert [await repo.own_ballot(single, u) for u in (1, 2, 4)] == [1, 2, 1]
    assert await repo.voters(single) == {1, 2, 4}
    assert await db.fetchval("SELECT COUNT(*) FROM poll_sealed_ballots") == 3


@SQLITE_ONLY
async def test_a_batch_not_committed_leaves_nothing(db: Database) -> None:
    """The process dies after the batch ran but before its COMMIT: nothing of it is stored
    (and nothing was acknowledged: results are delivered only after the COMMIT)."""
    repo = PollRepo(db)
    single, _ = await _polls(repo)
    await db.execute(
        "INSERT INTO poll_voters (poll_id, user_id) VALUES (:poll_id, 8)", {"poll_id": single}
    )  # an earlier, committed row stays
    ops: list[tuple[int, PlannedOp[Any]]] = [
        (i, repo.vote_op(single, u, choose(0), T0)) for i, u in enumerate((1, 2, 3))
    ]
    raw = sqlite3.connect(db.path, isolation_level=None)
    raw.row_factory = sqlite3.Row
    raw.execute("BEGIN IMMEDIATE")
    outcomes = _run_planned(raw, ops)
    assert all(ok for ok, _ in outcomes)
    assert raw.execute("SELECT COUNT(*) FROM poll_sealed_ballots").fetchone()[0] == 3
    raw.close()  # no COMMIT: as a SIGKILL before it, SQLite rolls the transaction back
    assert await db.fetchval("SELECT COUNT(*) FROM poll_sealed_ballots") == 0
    assert await repo.voters(single) == {8}


async def test_a_cancelled_caller_s_vote_is_still_written_once(db: Database) -> None:
    """A click whose handler is cancelled (shutdown, a dropped interaction) while its vote
    waits for the batch: the vote is written with its batch, nothing fails or waits."""
    repo = PollRepo(db)
    single, _ = await _polls(repo)
    gc = GroupCommitter(db)
    tasks = [
        asyncio.create_task(gc.submit(repo.vote_op(single, u, choose(1), T0))) for u in (1, 2, 3)
    ]
    await asyncio.sleep(0)  # all three queued
    tasks[1].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[1], asyncio.CancelledError)
    assert isinstance(done[0], VoteReceipt) and isinstance(done[2], VoteReceipt)
    await gc.close()
    assert await repo.voters(single) == {1, 2, 3}
    assert [await repo.own_ballot(single, u) for u in (1, 2, 3)] == [1, 1, 1]


@SQLITE_ONLY
async def test_a_batch_run_that_breaks_its_contract_falls_back_to_the_plans(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """group_commit.Batch in general: a run that writes and then returns the wrong number of
    outcomes is rolled back (its write undone) and the ops run one plan each."""
    await db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")

    def broken(conn: sqlite3.Connection, items: list[Any]) -> list[tuple[bool, Any]]:
        conn.execute("INSERT INTO t (k) VALUES (999)")  # must not survive
        return [(True, None)]  # one outcome for several ops

    def op(k: int) -> PlannedOp[int]:
        def plan() -> Plan[int]:
            yield ("INSERT INTO t (k) VALUES (:k)", {"k": k})
            return k

        return PlannedOp(plan, batch=Batch("t", k, broken))

    gc = GroupCommitter(db)
    out = await asyncio.gather(*(gc.submit(op(k)) for k in (1, 2, 3)))
    await gc.close()
    assert out == [1, 2, 3]
    assert "batched run of 3 ops failed (RuntimeError)" in caplog.text
    rows = await db.fetchall("SELECT k FROM t ORDER BY k")
    assert [r[0] for r in rows] == [1, 2, 3]


async def test_on_postgresql_a_batch_costs_the_same_round_trips_whatever_its_size(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The point of the async batch: N votes on one poll are a constant number of statements
    (savepoint, locked poll read, two ANY reads, two executemany writes, release),
    where the per-vote plans cost about seven each."""
    if db.dialect != "postgresql":
        pytest.skip("the async batch is PostgreSQL's")
    from bot.db.postgres import PgConn

    calls: list[str] = []
    for name in ("_run", "execute_fetchall", "executemany"):
        real = getattr(PgConn, name)

        def counted(self: Any, sql: str, *a: Any, _real: Any = real, **k: Any) -> Any:
            calls.append(sql.split(maxsplit=1)[0].upper())
            return _real(self, sql, *a, **k)

        monkeypatch.setattr(PgConn, name, counted)
    repo = PollRepo(db)
    trips = {}
    for n, users in ((2, (1, 2)), (8, tuple(MEMBERS))):
        single, _ = await _polls(repo)  # a fresh poll each time
        calls.clear()
        out = await _burst(db, repo, [(single, u, choose(n % 3)) for u in users], batched=True)
        assert all(isinstance(o, VoteReceipt) for o in out)
        trips[n] = list(calls)
    assert trips[2] == trips[8]
    # (BEGIN and COMMIT go through the transaction's own calls, not counted here)
    assert trips[8] == ["SAVEPOINT", "SELECT", "SELECT", "SELECT", "INSERT", "INSERT", "RELEASE"]
    single, _ = await _polls(repo)
    calls.clear()
    await _burst(db, repo, [(single, u, choose(0)) for u in MEMBERS], batched=False)
    assert len(calls) >= 7 * len(MEMBERS)  # the per-vote path, for comparison


def _traced_batch(db: Database, ops: list[tuple[int, PlannedOp[Any]]]) -> list[str]:
    """Run ``ops`` as the database thread does and list every statement SQLite ran (a
    statement stepped again for the next row of an ``executemany`` is listed again)."""
    raw = sqlite3.connect(db.path, isolation_level=None)
    raw.row_factory = sqlite3.Row
    ran: list[str] = []
    raw.set_trace_callback(lambda sql: ran.append(sql.split(maxsplit=1)[0].upper()))
    raw.execute("BEGIN IMMEDIATE")
    ran.clear()
    outcomes = _run_planned(raw, ops)
    batch = list(ran)
    raw.execute("COMMIT")
    raw.close()
    assert all(ok for ok, _ in outcomes), outcomes
    return batch


@SQLITE_ONLY
async def test_on_sqlite_a_batch_runs_the_same_statements_whatever_its_size(
    db: Database,
) -> None:
    """Each statement SQLite steps on the database thread releases and retakes the GIL that
    the event loop answering Discord needs, so the batch's statements must not grow with the
    number of votes in it (before: an ``executemany`` row and a membership row per vote)."""
    repo = PollRepo(db)
    runs = {}
    for users in ((1, 2), tuple(MEMBERS)):
        single, _ = await _polls(repo)
        ops = [(i, repo.vote_op(single, u, choose(u % 3), T0)) for i, u in enumerate(users)]
        runs[len(users)] = _traced_batch(db, ops)
        assert {u: await repo.own_ballot(single, u) for u in users} == {u: u % 3 for u in users}
        assert await repo.voters(single) == set(users)
    assert runs[2] == runs[8]
    assert runs[8] == ["SAVEPOINT", "SELECT", "SELECT", "SELECT", "INSERT", "INSERT", "RELEASE"]


@SQLITE_ONLY
async def test_a_batch_larger_than_one_insert_is_written_in_several(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.db import poll_votes

    monkeypatch.setattr(poll_votes, "ROWS_PER_INSERT", 3)
    repo = PollRepo(db)
    single, _ = await _polls(repo)
    ops = [(i, repo.vote_op(single, u, choose(u % 3), T0)) for i, u in enumerate(MEMBERS)]
    ran = _traced_batch(db, ops)
    assert ran.count("INSERT") == 3 + 1  # ballots in three statements, voters in one
    assert {u: await repo.own_ballot(single, u) for u in MEMBERS} == {u: u % 3 for u in MEMBERS}
    assert await repo.voters(single) == set(MEMBERS)
