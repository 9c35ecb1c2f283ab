"""A group-commit batch of votes on one poll, written together (the vote path's fast path).

Why: in a burst (benchmarks/votes.py) every vote ran its own plan on the database thread:
a savepoint, the poll row read and parsed, the membership check, the previous ballot, two
writes, the release: seven SQLite statements and a poll parse per vote, on a thread that
shares the GIL with the event loop that answers Discord. Here the votes of one batch on the
same poll share one read of the poll (and its unsealed key), one membership query, one
query for the voters' previous ballots, and two or three ``executemany`` writes; the
sealing (HMAC voter key, AES-GCM) is done once per voter of the batch.

The rules are exactly the per-vote plan's (:meth:`bot.db.polls.PollRepo.vote_op`), applied
vote by vote in submission order, each seeing the votes before it (a member who clicks twice
in one batch changes their own vote, or is told it is already their vote). A vote refused by
a rule writes nothing, as in the plan. If anything in the batch's writes fails, the group
committer rolls the batch back to its savepoint and runs the same votes one plan at a time
(:mod:`bot.db.group_commit`), so a failure is never wider than on the per-vote path; and, as
everywhere, nothing is acknowledged before the transaction's COMMIT.

The statements and rules are one generator, :func:`vote_batch_plan`, run by two drivers. On
SQLite, :func:`run_vote_batch` is handed aiosqlite's raw ``sqlite3`` connection on the
database thread (the one repository function allowed to see it). On PostgreSQL,
:func:`run_vote_batch_async` runs the same plan through the async connection: each vote's own
plan costs ~7 asyncpg round trips (savepoint, locked poll read, membership, previous ballot,
two writes, release), each ~150 us of event-loop CPU; the batch costs about seven in all
(savepoint, the locked poll read, ``= ANY(array)`` reads of the memberships and previous
ballots, two ``executemany`` writes, release) whatever its size.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db.database import Conn
from bot.db.poll_ballots import open_ballot, poll_from_row, seal_ballots, voter_key
from bot.db.sealing import Sealer
from bot.domain.polls import (
    Ballot,
    Poll,
    check_changed,
    check_vote,
    is_withdrawal,
    validate_ballot,
)

#: Builds the new ballot from the member's previous one (None if none); surveys merge.
BallotBuilder = Callable[[Ballot | None], Any]


@dataclass(frozen=True)
class VoteReceipt:
    """What the voter is told: their own (canonical) ballot and whether it replaced one."""

    poll: Poll
    ballot: Ballot
    changed: bool


@dataclass(frozen=True)
class VoteRequest:
    """One click's vote, as the batch reads it."""

    poll_id: int
    user_id: int
    build: BallotBuilder
    now: datetime


#: One step of a batch plan: ("rows", sql, params) is sent back its rows; ("run", sql,
#: params) runs it and is sent back None; ("many", sql, [params, ...]) runs the statement
#: once per parameter set and is sent back None.
Step = tuple[str, str, Any]
BatchPlan = Generator[Step, Any, list[tuple[bool, Any]]]


def _in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``:p0, :p1, ...`` for an ``IN (...)`` over ``values``, and their parameters."""
    params = {f"{prefix}{i}": v for i, v in enumerate(values)}
    return ", ".join(f":{name}" for name in params), params


#: Rows per multi-row INSERT on SQLite: far below its 32,766 bound parameters per statement.
ROWS_PER_INSERT = 500


def _insert_rows(
    head: str, shared: dict[str, Any], rows: list[dict[str, Any]], tail: str, arrays: bool
) -> Generator[Step, Any, None]:
    """INSERT ``rows`` (each with the same keys, plus the ``shared`` values).

    PostgreSQL: ``executemany`` (asyncpg sends the rows in one pipelined round trip). SQLite:
    multi-row ``VALUES`` statements, because ``executemany`` steps the statement once per
    row and each step releases and retakes the GIL that the event loop answering Discord
    needs (a hand-off per row; benchmarks/votes.py)."""
    columns = list(shared) + list(rows[0])
    if arrays:
        names = ", ".join(f":{c}" for c in columns)
        yield ("many", f"{head} VALUES ({names}){tail}", [{**shared, **r} for r in rows])
        return
    own = list(rows[0])
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        params = dict(shared)
        for i, row in enumerate(chunk):
            for column in own:
                params[f"{column}{i}"] = row[column]
        yield ("run", _values_sql(head, tuple(shared), tuple(own), tail, len(chunk)), params)


@functools.lru_cache(maxsize=64)
def _values_sql(head: str, shared: tuple[str, ...], own: tuple[str, ...], tail: str,
                n: int) -> str:
    """``head VALUES (:shared, :own0, ...), (:shared, :own1, ...) tail`` for ``n`` rows
    (cached: a burst's batches come in a few sizes)."""
    tuples = ", ".join(
        "(" + ", ".join([*(f":{c}" for c in shared), *(f":{c}{i}" for c in own)]) + ")"
        for i in range(n)
    )
    return f"{head} VALUES {tuples}{tail}"


def _any_of(column: str, prefix: str, values: Sequence[Any], arrays: bool) -> tuple[str, Any]:
    """``column = ANY(:prefix)`` with the list as one array parameter (PostgreSQL: one
    statement text whatever the batch size, so asyncpg's prepared statement is reused), or
    ``column IN (:prefix0, ...)`` (SQLite, which has no arrays)."""
    if arrays:
        return f"{column} = ANY(:{prefix})", {prefix: list(values)}
    names, params = _in_list(prefix, values)
    return f"{column} IN ({names})", params


def vote_batch_plan(
    sealer: Sealer, requests: Sequence[VoteRequest], *, lock: str = "", arrays: bool = False
) -> BatchPlan:
    """The batch's statements and rules, whatever runs them (:func:`run_vote_batch` on
    SQLite's thread, :func:`run_vote_batch_async` on PostgreSQL); returns the outcomes.

    ``lock`` ends the poll row's read (``FOR NO KEY UPDATE`` on PostgreSQL, as the per-vote
    plan: bot/db/locking.py); ``arrays`` reads the voters with ``= ANY(array)``."""
    poll_id = requests[0].poll_id
    assert all(r.poll_id == poll_id for r in requests)
    poll_rows = yield ("rows", f"SELECT * FROM polls WHERE id = :id{lock}", {"id": poll_id})
    row = poll_rows[0] if poll_rows else None
    poll = poll_from_row(row) if row is not None else None
    has_key = row is not None and row["ballot_key"] is not None
    users = sorted({r.user_id for r in requests})
    members: set[int] = set()
    keys: dict[int, bytes] = {}
    current: dict[bytes, Ballot | None] = {}
    poll_key = b""
    if poll is not None and arrays:
        member_rows = yield (
            "rows",
            "SELECT user_id FROM memberships WHERE community_id = :community_id"
            " AND left_at IS NULL AND user_id = ANY(:u)",
            {"community_id": poll.community_id, "u": users},
        )
        members = {m[0] for m in member_rows}
    elif poll is not None:
        # One row whatever the batch size (each row is a GIL hand-off on SQLite's thread)
        member_rows = yield (
            "rows",
            "SELECT group_concat(user_id) FROM memberships WHERE community_id = :community_id"
            " AND left_at IS NULL AND user_id IN (SELECT value FROM json_each(:users))",
            {"community_id": poll.community_id, "users": json.dumps(users)},
        )
        listed = member_rows[0][0] if member_rows else None
        members = {int(u) for u in listed.split(",")} if listed else set()
    if poll is not None and has_key:
        assert row is not None
        poll_key = sealer.unseal_key("poll", poll_id, row["ballot_key"])
        keys = {u: voter_key(poll_key, u) for u in users if u in members}
        if keys:
            where, values = _any_of("voter_key", "k", list(keys.values()), arrays)
            ballot_rows = yield (
                "rows",
                "SELECT voter_key, sealed FROM poll_sealed_ballots WHERE poll_id = :poll_id"
                f" AND {where}",
                {"poll_id": poll_id, **values},
            )
            for raw_key, sealed in ballot_rows:
                found = bytes(raw_key)
                current[found] = open_ballot(poll_key, poll, found, sealed)

    outcomes: list[tuple[bool, Any]] = []
    final: dict[bytes, tuple[int, Ballot | None]] = {}  # voter key -> (user, ballot or gone)
    for request in requests:
        try:
            checked = check_vote(poll, request.now, member=request.user_id in members, key=has_key)
            key = keys[request.user_id]
            previous = current.get(key)
            built = request.build(previous)
            if is_withdrawal(checked.kind, built):
                receipt = VoteReceipt(checked, {}, True)
                ballot: Ballot | None = None
            else:
                ballot = validate_ballot(checked.kind, len(checked.options), built)
                check_changed(previous, ballot)
                receipt = VoteReceipt(checked, ballot, previous is not None)
        except Exception as exc:  # refused by a rule (or the builder): nothing written
            outcomes.append((False, exc))
            continue
        current[key] = ballot
        final[key] = (request.user_id, ballot)
        outcomes.append((True, receipt))

    if final:
        assert poll is not None
        stored = [(k, u, b) for k, (u, b) in final.items() if b is not None]
        gone = [(k, u) for k, (u, b) in final.items() if b is None]
        if stored:
            sealed = seal_ballots(poll_key, poll, [(k, b) for k, _, b in stored])
            ballots = [
                {"voter_key": k, "user_id": None if poll.anonymous else u, "sealed": s}
                for (k, u, _), s in zip(stored, sealed, strict=True)
            ]
            yield from _insert_rows(
                "INSERT INTO poll_sealed_ballots (poll_id, voter_key, user_id, sealed)",
                {"poll_id": poll_id}, ballots,
                " ON CONFLICT (poll_id, voter_key) DO UPDATE SET sealed = excluded.sealed",
                arrays,
            )
            if arrays:
                yield from _insert_rows(
                    "INSERT INTO poll_voters (poll_id, user_id)", {"poll_id": poll_id},
                    [{"user_id": u} for _, u, _ in stored], " ON CONFLICT DO NOTHING", True,
                )
            else:  # one statement, one text whatever the batch size (WHERE: SQLite's grammar)
                yield (
                    "run",
                    "INSERT INTO poll_voters (poll_id, user_id) SELECT :poll_id, value"
                    " FROM json_each(:users) WHERE true ON CONFLICT DO NOTHING",
                    {"poll_id": poll_id, "users": json.dumps([u for _, u, _ in stored])},
                )
        if gone:
            yield (
                "many",
                "DELETE FROM poll_sealed_ballots"
                " WHERE poll_id = :poll_id AND voter_key = :voter_key",
                [{"poll_id": poll_id, "voter_key": k} for k, _ in gone],
            )
            yield (
                "many",
                "DELETE FROM poll_voters WHERE poll_id = :poll_id AND user_id = :user_id",
                [{"poll_id": poll_id, "user_id": u} for _, u in gone],
            )
    return outcomes


def run_vote_batch(
    conn: sqlite3.Connection, sealer: Sealer, requests: Sequence[VoteRequest]
) -> list[tuple[bool, Any]]:
    """Apply ``requests`` (all on one poll) in order; (True, receipt) or (False, error) each.

    Runs on the database thread inside the batch's transaction (and a savepoint the group
    committer owns). Raises only if the database does: the caller then rolls back and runs
    the votes one by one."""
    plan = vote_batch_plan(sealer, requests)
    try:
        kind, sql, params = next(plan)
        while True:
            if kind == "many":
                conn.executemany(sql, params)
                kind, sql, params = plan.send(None)
            elif kind == "run":
                conn.execute(sql, params)
                kind, sql, params = plan.send(None)
            else:
                kind, sql, params = plan.send(conn.execute(sql, params).fetchall())
    except StopIteration as stop:
        outcomes: list[tuple[bool, Any]] = stop.value
        return outcomes


async def run_vote_batch_async(
    conn: Conn, sealer: Sealer, requests: Sequence[VoteRequest], *, lock: str, arrays: bool
) -> list[tuple[bool, Any]]:
    """:func:`run_vote_batch` through the async connection (PostgreSQL): one round trip per
    statement of the batch, not per statement of each vote (about five for the batch)."""
    plan = vote_batch_plan(sealer, requests, lock=lock, arrays=arrays)
    try:
        kind, sql, params = next(plan)
        while True:
            if kind == "many":
                await conn.executemany(sql, params)
                kind, sql, params = plan.send(None)
            elif kind == "run":
                await conn.execute(sql, params)
                kind, sql, params = plan.send(None)
            else:
                kind, sql, params = plan.send(list(await conn.execute_fetchall(sql, params)))
    except StopIteration as stop:
        outcomes: list[tuple[bool, Any]] = stop.value
        return outcomes
