"""Statements, statement rounds and votes on statements.

A round takes every statement of the community that is not yet in a round; statements added
while it is open join it. Votes are written through the group committer with
:meth:`StatementRepo.vote_op`, which re-checks the round, the statement, membership and
authorship inside the batch's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.db.database import Database
from bot.db.group_commit import Op
from bot.db.rows import from_db, from_db_req, to_db
from bot.domain.statements import (
    Statement,
    StatementReport,
    StatementRound,
    Vote,
    round_summary,
    statement_report,
)
from bot.errors import Conflict, NotAllowed, NotFound

log = logging.getLogger(__name__)


def _statement(row: aiosqlite.Row) -> Statement:
    return Statement(
        id=row["id"],
        community_id=row["community_id"],
        round_id=row["round_id"],
        author_id=row["author_id"],
        text=row["text"],
        created_at=from_db_req(row["created_at"]),
    )


def _round(row: aiosqlite.Row) -> StatementRound:
    return StatementRound(
        id=row["id"],
        community_id=row["community_id"],
        opened_by=row["opened_by"],
        opened_at=from_db_req(row["opened_at"]),
        closes_at=from_db_req(row["closes_at"]),
        closed_at=from_db(row["closed_at"]),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        voters=row["voters"],
        eligible=row["eligible"],
        collective_statement=row["collective_statement"],
    )


@dataclass(frozen=True)
class StatementVoteReceipt:
    statement: Statement
    vote: Vote
    changed: bool


@dataclass(frozen=True)
class ClosedRound:
    round: StatementRound
    report: StatementReport


class StatementRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ statements
    async def current_texts(self, community_id: int) -> list[str]:
        """Statements not yet in a closed round: what a new statement must not duplicate."""
        rows = await self.db.fetchall(
            "SELECT s.text FROM statements s LEFT JOIN statement_rounds r ON r.id = s.round_id"
            " WHERE s.community_id = ? AND (s.round_id IS NULL OR r.closed_at IS NULL)",
            (community_id,),
        )
        return [r[0] for r in rows]

    async def add(self, community_id: int, author_id: int, text: str, now: datetime) -> Statement:
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT id FROM statement_rounds WHERE community_id = ? AND closed_at IS NULL"
                " ORDER BY id DESC LIMIT 1",
                (community_id,),
            ) as cur:
                open_row = await cur.fetchone()
            cur2 = await conn.execute(
                "INSERT INTO statements (community_id, round_id, author_id, text, created_at)"
                " VALUES (?,?,?,?,?)",
                (community_id, open_row[0] if open_row else None, author_id, text, to_db(now)),
            )
            sid = int(cur2.lastrowid or 0)
        got = await self.get(sid)
        assert got is not None
        return got

    async def get(self, statement_id: int) -> Statement | None:
        row = await self.db.fetchone("SELECT * FROM statements WHERE id = ?", (statement_id,))
        return _statement(row) if row else None

    async def round_statements(self, round_id: int) -> list[Statement]:
        rows = await self.db.fetchall(
            "SELECT * FROM statements WHERE round_id = ? ORDER BY id", (round_id,)
        )
        return [_statement(r) for r in rows]

    async def pool_size(self, community_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM statements WHERE community_id = ? AND round_id IS NULL",
                (community_id,),
            )
        )

    # ------------------------------------------------------------------ rounds
    async def open_round(self, community_id: int) -> StatementRound | None:
        row = await self.db.fetchone(
            "SELECT * FROM statement_rounds WHERE community_id = ? AND closed_at IS NULL"
            " ORDER BY id DESC LIMIT 1",
            (community_id,),
        )
        return _round(row) if row else None

    async def latest_round(self, community_id: int) -> StatementRound | None:
        row = await self.db.fetchone(
            "SELECT * FROM statement_rounds WHERE community_id = ? ORDER BY id DESC LIMIT 1",
            (community_id,),
        )
        return _round(row) if row else None

    async def get_round(self, round_id: int) -> StatementRound | None:
        row = await self.db.fetchone("SELECT * FROM statement_rounds WHERE id = ?", (round_id,))
        return _round(row) if row else None

    async def open_rounds(self) -> list[StatementRound]:
        rows = await self.db.fetchall(
            "SELECT * FROM statement_rounds WHERE closed_at IS NULL ORDER BY id"
        )
        return [_round(r) for r in rows]

    async def create_round(
        self, community_id: int, opened_by: int, now: datetime, closes_at: datetime
    ) -> StatementRound:
        """Open a round over every statement not yet in one; refuse a second open round."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT 1 FROM statement_rounds WHERE community_id = ? AND closed_at IS NULL",
                (community_id,),
            ) as cur:
                if await cur.fetchone():
                    raise Conflict(
                        "A statement round is already open in this community. Wait for it to "
                        "close before opening another."
                    )
            async with conn.execute(
                "SELECT COUNT(*) FROM statements WHERE community_id = ? AND round_id IS NULL",
                (community_id,),
            ) as cur:
                row = await cur.fetchone()
            if not row or row[0] < 2:
                raise Conflict(
                    "A round needs at least 2 new statements to vote on. Ask members to add "
                    "some with `/statement add` first."
                )
            cur2 = await conn.execute(
                "INSERT INTO statement_rounds (community_id, opened_by, opened_at, closes_at)"
                " VALUES (?,?,?,?)",
                (community_id, opened_by, to_db(now), to_db(closes_at)),
            )
            rid = int(cur2.lastrowid or 0)
            await conn.execute(
                "UPDATE statements SET round_id = ? WHERE community_id = ? AND round_id IS NULL",
                (rid, community_id),
            )
        got = await self.get_round(rid)
        assert got is not None
        return got

    async def undo_round(self, round_id: int) -> None:
        """Remove a round that could not be announced; its statements return to the pool."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE statements SET round_id = NULL WHERE round_id = ?", (round_id,)
            )
            await conn.execute("DELETE FROM statement_rounds WHERE id = ?", (round_id,))

    async def set_round_message(self, round_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE statement_rounds SET channel_id = ?, message_id = ? WHERE id = ?",
            (channel_id, message_id, round_id),
        )

    # ------------------------------------------------------------------ votes
    async def votes(self, round_id: int) -> list[tuple[int, int, Vote]]:
        rows = await self.db.fetchall(
            "SELECT v.user_id, v.statement_id, v.vote FROM statement_votes v"
            " JOIN statements s ON s.id = v.statement_id WHERE s.round_id = ?",
            (round_id,),
        )
        return [(r[0], r[1], Vote(r[2])) for r in rows]

    async def vote_counts(self, round_id: int) -> dict[int, int]:
        rows = await self.db.fetchall(
            "SELECT v.statement_id, COUNT(*) FROM statement_votes v"
            " JOIN statements s ON s.id = v.statement_id WHERE s.round_id = ?"
            " GROUP BY v.statement_id",
            (round_id,),
        )
        return {r[0]: r[1] for r in rows}

    async def voted_by(self, round_id: int, user_id: int) -> set[int]:
        rows = await self.db.fetchall(
            "SELECT v.statement_id FROM statement_votes v JOIN statements s"
            " ON s.id = v.statement_id WHERE s.round_id = ? AND v.user_id = ?",
            (round_id, user_id),
        )
        return {r[0] for r in rows}

    def vote_op(
        self, round_id: int, statement_id: int, user_id: int, vote: Vote, now: datetime
    ) -> Op[StatementVoteReceipt]:
        async def op(conn: aiosqlite.Connection) -> StatementVoteReceipt:
            async with conn.execute(
                "SELECT * FROM statement_rounds WHERE id = ?", (round_id,)
            ) as cur:
                rrow = await cur.fetchone()
            if rrow is None:
                raise NotFound("This statement round no longer exists.")
            rnd = _round(rrow)
            if not rnd.accepts_votes(now):
                raise Conflict("This statement round has closed, so votes are no longer accepted.")
            async with conn.execute(
                "SELECT * FROM statements WHERE id = ? AND round_id = ?", (statement_id, round_id)
            ) as cur:
                srow = await cur.fetchone()
            if srow is None:
                raise NotFound(
                    "That statement is not part of this round (it may have been removed)."
                )
            statement = _statement(srow)
            async with conn.execute(
                "SELECT 1 FROM memberships WHERE community_id = ? AND user_id = ?"
                " AND left_at IS NULL",
                (rnd.community_id, user_id),
            ) as cur:
                if await cur.fetchone() is None:
                    raise NotAllowed("Only members of this community can vote on its statements.")
            if statement.author_id == user_id:
                raise NotAllowed("You wrote this statement, so you do not vote on it.")
            async with conn.execute(
                "SELECT vote FROM statement_votes WHERE statement_id = ? AND user_id = ?",
                (statement_id, user_id),
            ) as cur:
                prev = await cur.fetchone()
            if prev is not None and prev[0] == vote.value:
                raise Conflict("That is already your vote on this statement.")
            await conn.execute(
                "INSERT INTO statement_votes (statement_id, user_id, vote) VALUES (?,?,?)"
                " ON CONFLICT (statement_id, user_id) DO UPDATE SET vote = excluded.vote",
                (statement_id, user_id, vote.value),
            )
            return StatementVoteReceipt(statement, vote, prev is not None)

        return op

    async def disciplines(self, community_id: int) -> dict[int, str]:
        rows = await self.db.fetchall(
            "SELECT user_id, discipline FROM memberships WHERE community_id = ?", (community_id,)
        )
        return {r[0]: r[1] for r in rows}

    async def eligible(self, community_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM memberships WHERE community_id = ? AND left_at IS NULL",
                (community_id,),
            )
        )

    async def report(self, rnd: StatementRound, **params: Any) -> StatementReport:
        statements = await self.round_statements(rnd.id)
        return statement_report(
            [(s.id, s.text) for s in statements],
            await self.votes(rnd.id),
            await self.disciplines(rnd.community_id),
            **params,
        )

    async def close_round(
        self, round_id: int, now: datetime, params: Mapping[str, Any]
    ) -> ClosedRound | None:
        """Close, compute the report and store the collective statement; None if already closed."""
        rnd = await self.get_round(round_id)
        if rnd is None or not rnd.is_open:
            return None
        report = await self.report(rnd, **params)
        eligible = await self.eligible(rnd.community_id)
        summary = round_summary(report, eligible)
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE statement_rounds SET closed_at = ?, voters = ?, eligible = ?,"
                " collective_statement = ? WHERE id = ? AND closed_at IS NULL",
                (to_db(now), report.voters, max(eligible, report.voters), summary, round_id),
            )
            if cur.rowcount == 0:
                return None
        closed = await self.get_round(round_id)
        assert closed is not None
        return ClosedRound(closed, report)
