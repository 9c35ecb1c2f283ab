"""Digest schedules and the record of every digest period.

Why a record per period: delivery is at-least-once made exactly-once by writing the row
*before* sending (``pending``) and updating it *after* (``sent``), with a unique key on
(community, period end). A restart finds pending rows and finishes them; a period that has
a row is never started again; the newest ``period_end`` tells the scheduler where the next
period begins, so nothing is skipped either.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, time

import aiosqlite

from bot.db.database import Database
from bot.db.rows import from_db, from_db_req, to_db
from bot.domain.digest import DeliveryState, DigestRecord, DigestSchedule, Period

log = logging.getLogger(__name__)


def _record(row: aiosqlite.Row) -> DigestRecord:
    return DigestRecord(
        id=row["id"],
        community_id=row["community_id"],
        period=Period(from_db_req(row["period_start"]), from_db_req(row["period_end"])),
        state=row["state"],
        late=bool(row["late"]),
        dm_done=bool(row["dm_done"]),
        email_done=bool(row["email_done"]),
        attempts=row["attempts"],
        next_attempt_at=from_db(row["next_attempt_at"]),
        last_error=row["last_error"],
        created_at=from_db_req(row["created_at"]),
        sent_at=from_db(row["sent_at"]),
    )


class DigestRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ schedules

    async def schedule(self, community_id: int) -> DigestSchedule | None:
        row = await self.db.fetchone(
            "SELECT weekday, at_time, timezone FROM digest_schedules WHERE community_id = ?",
            (community_id,),
        )
        if row is None:
            return None
        return DigestSchedule(row[0], time.fromisoformat(row[1]), row[2])

    async def set_schedule(
        self, community_id: int, schedule: DigestSchedule, by: int, now: datetime
    ) -> None:
        await self.db.execute(
            """INSERT INTO digest_schedules
                   (community_id, weekday, at_time, timezone, updated_by, updated_at)
               VALUES (?,?,?,?,?,?)
               ON CONFLICT (community_id) DO UPDATE SET weekday = excluded.weekday,
                   at_time = excluded.at_time, timezone = excluded.timezone,
                   updated_by = excluded.updated_by, updated_at = excluded.updated_at""",
            (
                community_id, schedule.weekday, schedule.at.strftime("%H:%M"),
                schedule.timezone, by, to_db(now),
            ),
        )

    # ------------------------------------------------------------------ records

    async def last_period_end(self, community_id: int) -> datetime | None:
        """End of the newest recorded period, whatever its state (one index seek)."""
        value = await self.db.fetchval(
            "SELECT period_end FROM digests WHERE community_id = ?"
            " ORDER BY period_end DESC LIMIT 1",
            (community_id,),
        )
        return from_db(value)

    async def claim(
        self, community_id: int, period: Period, *, late: bool, now: datetime
    ) -> DigestRecord | None:
        """Record ``period`` as pending; ``None`` if it was already recorded (never twice)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                """INSERT INTO digests (community_id, period_start, period_end, state, late,
                       created_at)
                   VALUES (?,?,?,?,?,?)
                   ON CONFLICT (community_id, period_end) DO NOTHING""",
                (
                    community_id, to_db(period.start), to_db(period.end),
                    DeliveryState.PENDING, int(late), to_db(now),
                ),
            )
            inserted = cur.rowcount == 1
            rowid = cur.lastrowid
        if not inserted:
            return None
        return await self.get(int(rowid or 0))

    async def get(self, digest_id: int) -> DigestRecord | None:
        row = await self.db.fetchone("SELECT * FROM digests WHERE id = ?", (digest_id,))
        return _record(row) if row else None

    async def arming_facts(
        self, community_ids: list[int]
    ) -> tuple[dict[int, DigestSchedule], dict[int, datetime], dict[int, list[DigestRecord]]]:
        """What arming needs for many communities at once: their schedules, newest period
        ends and pending records. Three queries for all (index seeks per id) instead of
        three per community, which was most of the digests' share of start-up
        (benchmarks/startup.py)."""
        ids = json.dumps(community_ids)
        schedules = {
            r[0]: DigestSchedule(r[1], time.fromisoformat(r[2]), r[3])
            for r in await self.db.fetchall(
                "SELECT community_id, weekday, at_time, timezone FROM digest_schedules"
                " WHERE community_id IN (SELECT value FROM json_each(?))",
                (ids,),
            )
        }
        ends = {
            r[0]: from_db_req(r[1])
            for r in await self.db.fetchall(
                "SELECT j.value, (SELECT period_end FROM digests WHERE community_id = j.value"
                " ORDER BY period_end DESC LIMIT 1) FROM json_each(?) AS j",
                (ids,),
            )
            if r[1] is not None
        }
        pending: dict[int, list[DigestRecord]] = {}
        for r in await self.db.fetchall(
            "SELECT * FROM digests WHERE state = ? AND community_id IN"
            " (SELECT value FROM json_each(?)) ORDER BY community_id, period_end",
            (DeliveryState.PENDING, ids),
        ):
            pending.setdefault(r["community_id"], []).append(_record(r))
        return schedules, ends, pending

    async def pending(self, community_id: int) -> list[DigestRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM digests WHERE community_id = ? AND state = ? ORDER BY period_end",
            (community_id, DeliveryState.PENDING),
        )
        return [_record(r) for r in rows]

    async def history(self, community_id: int, limit: int = 20) -> list[DigestRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM digests WHERE community_id = ? ORDER BY period_end DESC LIMIT ?",
            (community_id, limit),
        )
        return [_record(r) for r in reversed(rows)]

    async def mark_channel_done(
        self, digest_id: int, *, dm: bool = False, email: bool = False
    ) -> None:
        """Record one delivery channel as done as soon as it is, so a retry never repeats it."""
        await self.db.execute(
            "UPDATE digests SET dm_done = dm_done OR ?, email_done = email_done OR ?"
            " WHERE id = ?",
            (int(dm), int(email), digest_id),
        )

    async def mark_sent(self, digest_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE digests SET state = ?, sent_at = ?, next_attempt_at = NULL WHERE id = ?",
            (DeliveryState.SENT, to_db(now), digest_id),
        )

    async def mark_retry(
        self, digest_id: int, attempts: int, next_attempt_at: datetime, error: str
    ) -> None:
        await self.db.execute(
            "UPDATE digests SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
            (attempts, to_db(next_attempt_at), error[:500], digest_id),
        )

    async def mark_failed(self, digest_id: int, attempts: int, error: str) -> None:
        await self.db.execute(
            "UPDATE digests SET state = ?, attempts = ?, next_attempt_at = NULL, last_error = ?"
            " WHERE id = ?",
            (DeliveryState.FAILED, attempts, error[:500], digest_id),
        )

    async def mark_skipped(self, digest_id: int, reason: str) -> None:
        await self.db.execute(
            "UPDATE digests SET state = ?, next_attempt_at = NULL, last_error = ? WHERE id = ?",
            (DeliveryState.SKIPPED, reason[:500], digest_id),
        )

    # ------------------------------------------------------------------ the sponsor's e-mails

    async def email_stopped(self, community_id: int) -> bool:
        """Whether the community's current sponsor stopped the digest e-mails."""
        stopped = await self.db.fetchval(
            "SELECT sponsor_email_stopped_at FROM communities WHERE id = ?", (community_id,)
        )
        return stopped is not None

    async def set_email_stopped(
        self, community_id: int, sponsor_id: int, stopped: bool, now: datetime
    ) -> bool:
        """Record the sponsor's choice; ``False`` (nothing written) when ``sponsor_id`` is
        no longer the community's sponsor. A change of sponsor clears it (migration 0014)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE communities SET sponsor_email_stopped_at = ?"
                " WHERE id = ? AND sponsor_id = ?",
                (to_db(now) if stopped else None, community_id, sponsor_id),
            )
            return cur.rowcount == 1
