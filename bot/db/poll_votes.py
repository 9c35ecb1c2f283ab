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

SQLite only: this function is handed aiosqlite's raw ``sqlite3`` connection on the database
thread (the one repository function allowed to see it). On PostgreSQL the group committer
runs each vote's plan statement by statement instead, so the plan's SQL is the portable one;
the SQL here is written the same way (named parameters, ``ON CONFLICT``) all the same.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db.poll_ballots import open_ballot, poll_from_row, seal_ballot, voter_key
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


def _in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``:p0, :p1, ...`` for an ``IN (...)`` over ``values``, and their parameters."""
    params = {f"{prefix}{i}": v for i, v in enumerate(values)}
    return ", ".join(f":{name}" for name in params), params


def run_vote_batch(
    conn: sqlite3.Connection, sealer: Sealer, requests: Sequence[VoteRequest]
) -> list[tuple[bool, Any]]:
    """Apply ``requests`` (all on one poll) in order; (True, receipt) or (False, error) each.

    Runs on the database thread inside the batch's transaction (and a savepoint the group
    committer owns). Raises only if the database does: the caller then rolls back and runs
    the votes one by one."""
    poll_id = requests[0].poll_id
    assert all(r.poll_id == poll_id for r in requests)
    row = conn.execute("SELECT * FROM polls WHERE id = :id", {"id": poll_id}).fetchone()
    poll = poll_from_row(row) if row is not None else None
    has_key = row is not None and row["ballot_key"] is not None
    users = sorted({r.user_id for r in requests})
    members: set[int] = set()
    keys: dict[int, bytes] = {}
    current: dict[bytes, Ballot | None] = {}
    poll_key = b""
    if poll is not None:
        names, values = _in_list("u", users)
        members = {
            m for (m,) in conn.execute(
                "SELECT user_id FROM memberships WHERE community_id = :community_id"
                f" AND left_at IS NULL AND user_id IN ({names})",
                {"community_id": poll.community_id, **values},
            )
        }  # fmt: skip
    if poll is not None and has_key:
        poll_key = sealer.unseal_key("poll", poll_id, row["ballot_key"])
        keys = {u: voter_key(poll_key, u) for u in users if u in members}
        if keys:
            names, values = _in_list("k", list(keys.values()))
            for raw_key, sealed in conn.execute(
                "SELECT voter_key, sealed FROM poll_sealed_ballots WHERE poll_id = :poll_id"
                f" AND voter_key IN ({names})",
                {"poll_id": poll_id, **values},
            ):
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
            conn.executemany(
                "INSERT INTO poll_sealed_ballots (poll_id, voter_key, user_id, sealed)"
                " VALUES (:poll_id, :voter_key, :user_id, :sealed)"
                " ON CONFLICT (poll_id, voter_key) DO UPDATE SET sealed = excluded.sealed",
                [
                    {"poll_id": poll_id, "voter_key": k,
                     "user_id": None if poll.anonymous else u,
                     "sealed": seal_ballot(poll_key, poll, k, b)}
                    for k, u, b in stored
                ],
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO poll_voters (poll_id, user_id) VALUES (:poll_id, :user_id)"
                " ON CONFLICT DO NOTHING",
                [{"poll_id": poll_id, "user_id": u} for _, u, _ in stored],
            )
        if gone:
            conn.executemany(
                "DELETE FROM poll_sealed_ballots"
                " WHERE poll_id = :poll_id AND voter_key = :voter_key",
                [{"poll_id": poll_id, "voter_key": k} for k, _ in gone],
            )
            conn.executemany(
                "DELETE FROM poll_voters WHERE poll_id = :poll_id AND user_id = :user_id",
                [{"poll_id": poll_id, "user_id": u} for _, u in gone],
            )
    return outcomes
