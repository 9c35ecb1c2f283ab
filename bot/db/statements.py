"""Statements, statement rounds and votes on statements.

A little longer than 400 lines: statements, rounds, sealed votes and the atomic close are one
anonymity design over four tables (row mappers and vote sealing are in
:mod:`bot.db.statement_rows`).

A round takes every statement of the community that is not yet in a round; statements added
while it is open join it. Votes are written through the group committer with
:meth:`StatementRepo.vote_op`, which re-checks the round, the statement, membership and
authorship inside the batch's transaction.

Votes are sealed at rest like poll ballots (:mod:`bot.db.sealing`): while a round is open
each vote is stored under ``HMAC-SHA256(round key, user id)`` and encrypted with the round
key, itself sealed with the installation secret kept outside the database. At close the
report (aggregates only) is frozen in ``statement_rounds.report``, and every vote and the key
are deleted and the WAL truncated: afterwards no file links a member to a vote, and the
published report never changes. (On PostgreSQL the scrub vacuums instead: see
:mod:`bot.db.postgres`. A vote and the close take turns through a row lock there:
:mod:`bot.db.locking`.)

This module returns data: the report and the collective statement are the domain's
(:func:`bot.domain.statements.round_outcome`), handed to :meth:`StatementRepo.close_round`
as a pure ``decide`` function that runs, in a worker thread, inside the close's transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db.database import Conn, Database
from bot.db.group_commit import Op
from bot.db.locking import lock_row
from bot.db.rows import to_db
from bot.db.sealing import Sealer
from bot.db.statement_rows import (
    open_vote,
    open_votes,
    report_from_json,
    report_to_json,
    round_from_row,
    seal_vote,
    statement_from_row,
)
from bot.domain.closing import Closed, Outcome
from bot.domain.statements import (
    RoundBallots,
    Statement,
    StatementReport,
    StatementRound,
    Vote,
)
from bot.errors import AlreadyYourVote, ClosedForVotes, Conflict, NotAllowed, NotFound

log = logging.getLogger(__name__)

__all__ = [
    "ClosedRound", "DecideRound", "StatementRepo", "StatementVoteReceipt", "open_vote",
    "report_from_json", "report_to_json", "seal_vote",
]  # fmt: skip


@dataclass(frozen=True)
class StatementVoteReceipt:
    statement: Statement
    vote: Vote
    changed: bool


ClosedRound = Closed[StatementRound, StatementReport]
#: The domain's pure decision at close: (round, its votes, members eligible) -> outcome.
DecideRound = Callable[[StatementRound, RoundBallots, int], Outcome[StatementReport]]


class StatementRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ statements
    async def current_texts(self, community_id: int) -> list[str]:
        """Statements not yet in a closed round: what a new statement must not duplicate."""
        rows = await self.db.fetchall(
            "SELECT s.text FROM statements s LEFT JOIN statement_rounds r ON r.id = s.round_id"
            " WHERE s.community_id = :community_id"
            " AND (s.round_id IS NULL OR r.closed_at IS NULL) ORDER BY s.id",
            {"community_id": community_id},
        )
        return [r[0] for r in rows]

    async def add(self, community_id: int, author_id: int, text: str, now: datetime) -> Statement:
        async with self.db.transaction() as conn:
            # Locked on PostgreSQL: a close of that round in another process waits, or is
            # waited for (then the statement goes to the pool) (bot/db/locking.py).
            async with conn.execute(
                "SELECT id FROM statement_rounds WHERE community_id = :community_id"
                " AND closed_at IS NULL ORDER BY id DESC LIMIT 1" + lock_row(self.db),
                {"community_id": community_id},
            ) as cur:
                open_row = await cur.fetchone()
            cur2 = await conn.execute(
                "INSERT INTO statements (community_id, round_id, author_id, text, created_at)"
                " VALUES (:community_id, :round_id, :author_id, :text, :created_at) RETURNING id",
                {
                    "community_id": community_id,
                    "round_id": open_row[0] if open_row else None,
                    "author_id": author_id,
                    "text": text,
                    "created_at": to_db(now),
                },
            )
            inserted = await cur2.fetchone()
            assert inserted is not None
            sid = int(inserted[0])
        got = await self.get(sid)
        assert got is not None
        return got

    async def get(self, statement_id: int) -> Statement | None:
        row = await self.db.fetchone(
            "SELECT * FROM statements WHERE id = :id", {"id": statement_id}
        )
        return statement_from_row(row) if row else None

    async def round_statements(self, round_id: int) -> list[Statement]:
        rows = await self.db.fetchall(
            "SELECT * FROM statements WHERE round_id = :round_id ORDER BY id",
            {"round_id": round_id},
        )
        return [statement_from_row(r) for r in rows]

    async def pool_size(self, community_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM statements"
                " WHERE community_id = :community_id AND round_id IS NULL",
                {"community_id": community_id},
            )
        )

    # ------------------------------------------------------------------ rounds
    async def open_round(self, community_id: int) -> StatementRound | None:
        row = await self.db.fetchone(
            "SELECT * FROM statement_rounds WHERE community_id = :community_id"
            " AND closed_at IS NULL ORDER BY id DESC LIMIT 1",
            {"community_id": community_id},
        )
        return round_from_row(row) if row else None

    async def latest_round(self, community_id: int) -> StatementRound | None:
        row = await self.db.fetchone(
            "SELECT * FROM statement_rounds WHERE community_id = :community_id"
            " ORDER BY id DESC LIMIT 1",
            {"community_id": community_id},
        )
        return round_from_row(row) if row else None

    async def get_round(self, round_id: int) -> StatementRound | None:
        row = await self.db.fetchone(
            "SELECT * FROM statement_rounds WHERE id = :id", {"id": round_id}
        )
        return round_from_row(row) if row else None

    async def open_rounds(self) -> list[StatementRound]:
        rows = await self.db.fetchall(
            "SELECT * FROM statement_rounds WHERE closed_at IS NULL ORDER BY id"
        )
        return [round_from_row(r) for r in rows]

    async def create_round(
        self, community_id: int, opened_by: int, now: datetime, closes_at: datetime
    ) -> StatementRound:
        """Open a round over every statement not yet in one; refuse a second open round."""
        async with self.db.transaction() as conn:
            # On PostgreSQL the community row is locked, so two processes cannot both find
            # no open round and open one each (bot/db/locking.py).
            await conn.execute_fetchall(
                "SELECT id FROM communities WHERE id = :community_id" + lock_row(self.db),
                {"community_id": community_id},
            )
            async with conn.execute(
                "SELECT 1 FROM statement_rounds WHERE community_id = :community_id"
                " AND closed_at IS NULL",
                {"community_id": community_id},
            ) as cur:
                if await cur.fetchone():
                    raise Conflict(
                        "A statement round is already open in this community. Wait for it to "
                        "close before opening another."
                    )
            async with conn.execute(
                "SELECT COUNT(*) FROM statements"
                " WHERE community_id = :community_id AND round_id IS NULL",
                {"community_id": community_id},
            ) as cur:
                row = await cur.fetchone()
            if not row or row[0] < 2:
                raise Conflict(
                    "A round needs at least 2 new statements to vote on. Ask members to add "
                    "some with `/statement add` first."
                )
            cur2 = await conn.execute(
                "INSERT INTO statement_rounds (community_id, opened_by, opened_at, closes_at)"
                " VALUES (:community_id, :opened_by, :opened_at, :closes_at) RETURNING id",
                {
                    "community_id": community_id,
                    "opened_by": opened_by,
                    "opened_at": to_db(now),
                    "closes_at": to_db(closes_at),
                },
            )
            inserted = await cur2.fetchone()
            assert inserted is not None
            rid = int(inserted[0])
            _key, sealed = self.db.sealer.new_key("round", rid)
            await conn.execute(
                "UPDATE statement_rounds SET ballot_key = :key WHERE id = :id",
                {"key": sealed, "id": rid},
            )
            await conn.execute(
                "UPDATE statements SET round_id = :round_id"
                " WHERE community_id = :community_id AND round_id IS NULL",
                {"round_id": rid, "community_id": community_id},
            )
        got = await self.get_round(rid)
        assert got is not None
        return got

    async def undo_round(self, round_id: int) -> None:
        """Remove a round that could not be announced; its statements return to the pool."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE statements SET round_id = NULL WHERE round_id = :round_id",
                {"round_id": round_id},
            )
            await conn.execute(
                "DELETE FROM statement_rounds WHERE id = :id", {"id": round_id}
            )

    async def set_round_message(self, round_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE statement_rounds SET channel_id = :channel_id, message_id = :message_id"
            " WHERE id = :id",
            {"channel_id": channel_id, "message_id": message_id, "id": round_id},
        )

    # ------------------------------------------------------------------ votes
    async def _round_key(self, round_id: int) -> bytes | None:
        """The open round's unsealed key; None once closed (the key is gone)."""
        sealed = await self.db.fetchval(
            "SELECT ballot_key FROM statement_rounds WHERE id = :id", {"id": round_id}
        )
        if sealed is None:
            return None
        return self.db.sealer.unseal_key("round", round_id, sealed)

    async def _open_votes(
        self, conn: Conn | None, rnd: StatementRound, key: bytes
    ) -> tuple[list[tuple[int, int, Vote]], dict[int, str]]:
        """Votes of an open round under per-round pseudonyms, and those pseudonyms' disciplines.

        Pseudonyms are small numbers in the order of the voter keys, so nothing about who
        voted leaves this function; a voter's discipline is found by computing the voter key
        of every member the community has had.
        """
        sql_votes = (
            "SELECT statement_id, voter_key, sealed FROM statement_sealed_votes"
            " WHERE round_id = :round_id ORDER BY voter_key, statement_id"
        )
        sql_members = (
            "SELECT user_id, discipline FROM memberships WHERE community_id = :community_id"
        )
        by_round = {"round_id": rnd.id}
        by_community = {"community_id": rnd.community_id}
        if conn is None:
            vote_rows = await self.db.fetchall(sql_votes, by_round)
            member_rows = await self.db.fetchall(sql_members, by_community)
        else:
            vote_rows = list(await conn.execute_fetchall(sql_votes, by_round))
            member_rows = list(await conn.execute_fetchall(sql_members, by_community))
        # 100,000 votes take a second to open: in a worker thread, off the event loop.
        return await asyncio.to_thread(_unseal_votes, key, rnd.id, vote_rows, member_rows)

    async def vote_counts(self, round_id: int) -> dict[int, int]:
        rows = await self.db.fetchall(
            "SELECT statement_id, COUNT(*) FROM statement_sealed_votes"
            " WHERE round_id = :round_id GROUP BY statement_id",
            {"round_id": round_id},
        )
        return {r[0]: r[1] for r in rows}

    async def turnout(self, round_id: int) -> int:
        """How many members have voted in the round so far (never how)."""
        return int(
            await self.db.fetchval(
                "SELECT COUNT(DISTINCT voter_key) FROM statement_sealed_votes"
                " WHERE round_id = :round_id",
                {"round_id": round_id},
            )
        )

    async def voted_by(self, round_id: int, user_id: int) -> set[int]:
        key = await self._round_key(round_id)
        if key is None:
            return set()
        rows = await self.db.fetchall(
            "SELECT statement_id FROM statement_sealed_votes"
            " WHERE round_id = :round_id AND voter_key = :voter_key",
            {"round_id": round_id, "voter_key": Sealer.voter_key(key, user_id)},
        )
        return {r[0] for r in rows}

    def vote_op(
        self, round_id: int, statement_id: int, user_id: int, vote: Vote, now: datetime
    ) -> Op[StatementVoteReceipt]:
        sealer = self.db.sealer
        # On PostgreSQL the round row is locked: a close in another process waits, or is
        # waited for (bot/db/locking.py).
        lock = lock_row(self.db)

        async def op(conn: Conn) -> StatementVoteReceipt:
            async with conn.execute(
                f"SELECT * FROM statement_rounds WHERE id = :id{lock}", {"id": round_id}
            ) as cur:
                rrow = await cur.fetchone()
            if rrow is None:
                raise NotFound("This statement round no longer exists.")
            rnd = round_from_row(rrow)
            if not rnd.accepts_votes(now) or rrow["ballot_key"] is None:
                raise ClosedForVotes(
                    "This statement round has closed, so votes are no longer accepted."
                )
            async with conn.execute(
                "SELECT * FROM statements WHERE id = :id AND round_id = :round_id",
                {"id": statement_id, "round_id": round_id},
            ) as cur:
                srow = await cur.fetchone()
            if srow is None:
                raise NotFound(
                    "That statement is not part of this round (it may have been removed)."
                )
            statement = statement_from_row(srow)
            async with conn.execute(
                "SELECT 1 FROM memberships WHERE community_id = :community_id"
                " AND user_id = :user_id AND left_at IS NULL",
                {"community_id": rnd.community_id, "user_id": user_id},
            ) as cur:
                if await cur.fetchone() is None:
                    raise NotAllowed("Only members of this community can vote on its statements.")
            if statement.author_id == user_id:
                raise NotAllowed("You wrote this statement, so you do not vote on it.")
            key = sealer.unseal_key("round", round_id, rrow["ballot_key"])
            voter = Sealer.voter_key(key, user_id)
            async with conn.execute(
                "SELECT sealed FROM statement_sealed_votes"
                " WHERE statement_id = :statement_id AND voter_key = :voter_key",
                {"statement_id": statement_id, "voter_key": voter},
            ) as cur:
                prev_row = await cur.fetchone()
            prev = (
                open_vote(key, round_id, statement_id, voter, prev_row[0])
                if prev_row is not None
                else None
            )
            if prev is vote:
                raise AlreadyYourVote("That is already your vote on this statement.")
            await conn.execute(
                "INSERT INTO statement_sealed_votes (round_id, statement_id, voter_key, sealed)"
                " VALUES (:round_id, :statement_id, :voter_key, :sealed)"
                " ON CONFLICT (statement_id, voter_key) DO UPDATE SET sealed = excluded.sealed",
                {
                    "round_id": round_id,
                    "statement_id": statement_id,
                    "voter_key": voter,
                    "sealed": seal_vote(key, round_id, statement_id, voter, vote),
                },
            )
            return StatementVoteReceipt(statement, vote, prev is not None)

        return op

    async def disciplines(self, community_id: int) -> dict[int, str]:
        rows = await self.db.fetchall(
            "SELECT user_id, discipline FROM memberships WHERE community_id = :community_id",
            {"community_id": community_id},
        )
        return {r[0]: r[1] for r in rows}

    async def eligible(self, community_id: int) -> int:
        return int(
            await self.db.fetchval(
                _ELIGIBLE,
                {"community_id": community_id},
            )
        )

    async def frozen_report(self, round_id: int) -> StatementReport | None:
        """The report frozen at close; None while the round is open (or for none stored)."""
        frozen = await self.db.fetchval(
            "SELECT report FROM statement_rounds WHERE id = :id", {"id": round_id}
        )
        return report_from_json(frozen) if frozen is not None else None

    async def ballots(self, rnd: StatementRound) -> RoundBallots:
        """An open round's statements and its votes under per-round pseudonyms (for the
        close, and for a closed round without a frozen report: none once its key is gone)."""
        statements = [(s.id, s.text) for s in await self.round_statements(rnd.id)]
        key = await self._round_key(rnd.id)
        if key is None:
            return RoundBallots(statements)
        votes, disciplines = await self._open_votes(None, rnd, key)
        return RoundBallots(statements, votes, disciplines)

    async def close_round(
        self, round_id: int, now: datetime, decide: DecideRound
    ) -> ClosedRound | None:
        """Close: freeze the report and the collective statement, delete the votes and key.

        One transaction, then the WAL is truncated. None if already closed. ``decide``
        takes a second at 1,000 voters x 100 statements (PCA and k-means), so it runs in a
        worker thread: the event loop keeps serving while the transaction waits for it.
        """
        sealed_key: bytes | None = None
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM statement_rounds WHERE id = :id AND closed_at IS NULL"
                + lock_row(self.db),
                {"id": round_id},
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            rnd = round_from_row(row)
            sealed_key = row["ballot_key"]
            async with conn.execute(
                "SELECT * FROM statements WHERE round_id = :round_id ORDER BY id",
                {"round_id": round_id},
            ) as cur:
                statements = [statement_from_row(r) for r in await cur.fetchall()]
            ballots = RoundBallots([(s.id, s.text) for s in statements])
            if sealed_key is not None:
                key = self.db.sealer.unseal_key("round", round_id, sealed_key)
                votes, disciplines = await self._open_votes(conn, rnd, key)
                ballots = RoundBallots(ballots.statements, votes, disciplines)
            eligible = await _eligible(conn, rnd.community_id)
            outcome = await asyncio.to_thread(decide, rnd, ballots, eligible)
            await conn.execute(
                "DELETE FROM statement_sealed_votes WHERE round_id = :round_id",
                {"round_id": round_id},
            )
            await conn.execute(
                "UPDATE statement_rounds SET closed_at = :closed_at, voters = :voters,"
                " eligible = :eligible, collective_statement = :statement, report = :report,"
                " ballot_key = NULL WHERE id = :id",
                {
                    "closed_at": to_db(now),
                    "voters": outcome.voters,
                    "eligible": outcome.eligible,
                    "statement": outcome.statement,
                    "report": report_to_json(outcome.result),
                    "id": round_id,
                },
            )
        self.db.sealer.forget_key(sealed_key)
        await self.db.scrub()
        closed = await self.get_round(round_id)
        assert closed is not None
        return Closed(closed, outcome)

    # ------------------------------------------------------------------ digest read-outs
    async def closed_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[tuple[StatementRound, int]]:
        """Rounds closed in ``[start, end)``, each with its number of statements."""
        rows = await self.db.fetchall(
            "SELECT r.*, (SELECT COUNT(*) FROM statements s WHERE s.round_id = r.id) AS n"
            " FROM statement_rounds r"
            " WHERE r.community_id = :community_id AND r.closed_at IS NOT NULL"
            " AND r.closed_at >= :start AND r.closed_at < :end ORDER BY r.closed_at, r.id",
            {"community_id": community_id, "start": to_db(start), "end": to_db(end)},
        )
        return [(round_from_row(r), int(r["n"])) for r in rows]

    async def open_turnout(
        self, community_id: int, now: datetime
    ) -> list[tuple[StatementRound, int]]:
        """Rounds open at ``now``, each with how many members have voted so far."""
        rows = await self.db.fetchall(
            "SELECT r.*, (SELECT COUNT(DISTINCT v.voter_key) FROM statement_sealed_votes v"
            " WHERE v.round_id = r.id) AS n"
            " FROM statement_rounds r WHERE r.community_id = :community_id"
            " AND r.closed_at IS NULL AND r.opened_at <= :now ORDER BY r.closes_at, r.id",
            {"community_id": community_id, "now": to_db(now)},
        )
        return [(round_from_row(r), int(r["n"])) for r in rows]


_ELIGIBLE = (
    "SELECT COUNT(*) FROM memberships WHERE community_id = :community_id AND left_at IS NULL"
)


async def _eligible(conn: Conn, community_id: int) -> int:
    rows = list(await conn.execute_fetchall(_ELIGIBLE, {"community_id": community_id}))
    return int(rows[0][0]) if rows else 0


def _unseal_votes(
    key: bytes, round_id: int, vote_rows: list[Any], member_rows: list[Any]
) -> tuple[list[tuple[int, int, Vote]], dict[int, str]]:
    by_key = {Sealer.voter_key(key, r[0]): r[1] for r in member_rows}
    pseudonym: dict[bytes, int] = {}
    voters = [bytes(r[1]) for r in vote_rows]
    opened = open_votes(
        key, round_id, ((r[0], voter, r[2]) for r, voter in zip(vote_rows, voters, strict=True))
    )
    votes: list[tuple[int, int, Vote]] = [
        (pseudonym.setdefault(voter, len(pseudonym) + 1), r[0], vote)
        for r, voter, vote in zip(vote_rows, voters, opened, strict=True)
    ]
    disciplines = {n: by_key[v] for v, n in pseudonym.items() if v in by_key}
    return votes, disciplines
