"""Storage for the quarterly value report to the sponsor: one claimed row per quarter.

SQL only; the rules (which quarter is due, retries) live in
:mod:`bot.services.value_report`. A quarter is claimed with ``INSERT ... ON CONFLICT DO
NOTHING`` on ``(community_id, period_start)`` before anything is sent, so it is delivered
by whoever claims it first and never twice, across restarts and processes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.db.database import Database, Row
from bot.db.rows import from_db, from_db_req, to_db


@dataclass(frozen=True)
class ReportClaim:
    id: int
    community_id: int
    start: datetime
    end: datetime
    state: str
    dm_done: bool
    email_done: bool
    attempts: int
    next_attempt_at: datetime | None
    problem: str | None
    claimed_at: datetime
    sent_at: datetime | None


def _claim(row: Row) -> ReportClaim:
    return ReportClaim(
        id=row["id"],
        community_id=row["community_id"],
        start=from_db_req(row["period_start"]),
        end=from_db_req(row["period_end"]),
        state=row["state"],
        dm_done=bool(row["dm_done"]),
        email_done=bool(row["email_done"]),
        attempts=row["attempts"],
        next_attempt_at=from_db(row["next_attempt_at"]),
        problem=row["problem"],
        claimed_at=from_db_req(row["claimed_at"]),
        sent_at=from_db(row["sent_at"]),
    )


class ValueReportRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(
        self, community_id: int, start: datetime, end: datetime, now: datetime
    ) -> ReportClaim | None:
        """Record the quarter as pending; ``None`` if it was claimed before (never twice)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO value_report_deliveries (community_id, period_start, period_end,"
                " state, claimed_at) VALUES (:community_id, :start, :end, 'pending', :now)"
                " ON CONFLICT (community_id, period_start) DO NOTHING RETURNING id",
                {
                    "community_id": community_id,
                    "start": to_db(start),
                    "end": to_db(end),
                    "now": to_db(now),
                },
            )
            row = await cur.fetchone()
        return None if row is None else await self.get(int(row[0]))

    async def get(self, claim_id: int) -> ReportClaim | None:
        row = await self.db.fetchone(
            "SELECT * FROM value_report_deliveries WHERE id = :id", {"id": claim_id}
        )
        return _claim(row) if row else None

    async def for_period(self, community_id: int, start: datetime) -> ReportClaim | None:
        row = await self.db.fetchone(
            "SELECT * FROM value_report_deliveries WHERE community_id = :community_id"
            " AND period_start = :start",
            {"community_id": community_id, "start": to_db(start)},
        )
        return _claim(row) if row else None

    async def latest(self, community_id: int) -> ReportClaim | None:
        row = await self.db.fetchone(
            "SELECT * FROM value_report_deliveries WHERE community_id = :community_id"
            " ORDER BY period_start DESC LIMIT 1",
            {"community_id": community_id},
        )
        return _claim(row) if row else None

    async def pending(self, community_ids: Iterable[int] | None = None) -> list[ReportClaim]:
        """Claims not yet delivered (to resume or retry), oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM value_report_deliveries WHERE state = 'pending'"
            " ORDER BY period_start, id"
        )
        wanted = None if community_ids is None else set(community_ids)
        return [_claim(r) for r in rows if wanted is None or r["community_id"] in wanted]

    async def mark_channel_done(self, claim_id: int, *, dm: bool) -> None:
        column = "dm_done" if dm else "email_done"
        await self.db.execute(
            f"UPDATE value_report_deliveries SET {column} = 1 WHERE id = :id", {"id": claim_id}
        )

    async def mark_sent(self, claim_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE value_report_deliveries SET state = 'sent', sent_at = :now,"
            " next_attempt_at = NULL, problem = NULL WHERE id = :id",
            {"now": to_db(now), "id": claim_id},
        )

    async def mark_skipped(self, claim_id: int, reason: str) -> None:
        await self.db.execute(
            "UPDATE value_report_deliveries SET state = 'skipped', problem = :reason,"
            " next_attempt_at = NULL WHERE id = :id",
            {"reason": reason, "id": claim_id},
        )

    async def mark_retry(
        self, claim_id: int, attempts: int, next_attempt_at: datetime, problem: str
    ) -> None:
        await self.db.execute(
            "UPDATE value_report_deliveries SET attempts = :attempts,"
            " next_attempt_at = :next_attempt_at, problem = :problem WHERE id = :id",
            {
                "attempts": attempts,
                "next_attempt_at": to_db(next_attempt_at),
                "problem": problem,
                "id": claim_id,
            },
        )

    async def mark_failed(self, claim_id: int, attempts: int, problem: str) -> None:
        await self.db.execute(
            "UPDATE value_report_deliveries SET state = 'failed', attempts = :attempts,"
            " problem = :problem, next_attempt_at = NULL WHERE id = :id",
            {"attempts": attempts, "problem": problem, "id": claim_id},
        )
