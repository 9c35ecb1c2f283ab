"""Digest schedules and the record of every digest period.

Why a record per period: delivery is at-least-once made exactly-once by writing the row
*before* sending (``pending``) and updating it *after* (``sent``), with a unique key on
(community, period end). A restart finds pending rows and finishes them; a period that has
a row is never started again; the newest ``period_end`` tells the scheduler where the next
period begins, so nothing is skipped either.
"""

from __future__ import annotations

import logging
from datetime import datetime, time

from bot.db.database import Database, Row
from bot.db.rows import chunks, from_db, from_db_req, in_list, to_db
from bot.domain.digest import DeliveryState, DigestRecord, DigestSchedule, Period

log = logging.getLogger(__name__)


def _record(row: Row) -> DigestRecord:
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
            "SELECT weekday, at_time, timezone FROM digest_schedules"
            " WHERE community_id = :community_id",
            {"community_id": community_id},
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
               VALUES (:community_id, :weekday, :at_time, :timezone, :updated_by,
                   :updated_at)
               ON CONFLICT (community_id) DO UPDATE SET weekday = excluded.weekday,
                   at_time = excluded.at_time, timezone = excluded.timezone,
                   updated_by = excluded.updated_by, updated_at = excluded.updated_at""",
            {
                "community_id": community_id, "weekday": schedule.weekday,
                "at_time": schedule.at.strftime("%H:%M"), "timezone": schedule.timezone,
                "updated_by": by, "updated_at": to_db(now),
            },
        )

    # ------------------------------------------------------------------ records

    async def last_period_end(self, community_id: int) -> datetime | None:
        """End of the newest recorded period, whatever its state (one index seek)."""
        value = await self.db.fetchval(
            "SELECT period_end FROM digests WHERE community_id = :community_id"
            " ORDER BY period_end DESC LIMIT 1",
            {"community_id": community_id},
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
                   VALUES (:community_id, :period_start, :period_end, :state, :late,
                       :created_at)
                   ON CONFLICT (community_id, period_end) DO NOTHING
                   RETURNING id""",
                {
                    "community_id": community_id, "period_start": to_db(period.start),
                    "period_end": to_db(period.end), "state": DeliveryState.PENDING,
                    "late": int(late), "created_at": to_db(now),
                },
            )
            # No row comes back when the period was recorded before.
            row = await cur.fetchone()
        if row is None:
            return None
        return await self.get(int(row[0]))

    async def get(self, digest_id: int) -> DigestRecord | None:
        row = await self.db.fetchone("SELECT * FROM digests WHERE id = :id", {"id": digest_id})
        return _record(row) if row else None

    async def arming_facts(
        self, community_ids: list[int]
    ) -> tuple[dict[int, DigestSchedule], dict[int, datetime], dict[int, list[DigestRecord]]]:
        """What arming needs for many communities at once: their schedules, newest period
        ends and pending records. Three queries for all (index seeks per id) instead of
        three per community, which was most of the digests' share of start-up
        (benchmarks/startup.py). Ids are bound as an ``IN`` list, a few hundred at a time."""
        schedules: dict[int, DigestSchedule] = {}
        ends: dict[int, datetime] = {}
        pending: dict[int, list[DigestRecord]] = {}
        for part in chunks(sorted(set(community_ids))):
            marks, ids = in_list(part)
            for r in await self.db.fetchall(
                "SELECT community_id, weekday, at_time, timezone FROM digest_schedules"
                f" WHERE community_id IN ({marks})",
                ids,
            ):
                schedules[r[0]] = DigestSchedule(r[1], time.fromisoformat(r[2]), r[3])
            # One seek per community on the (community_id, period_end) key. A community
            # with a digest row exists (foreign key), so reading the ids from communities
            # loses none.
            for r in await self.db.fetchall(
                "SELECT c.id, (SELECT d.period_end FROM digests d WHERE d.community_id = c.id"
                " ORDER BY d.period_end DESC LIMIT 1) FROM communities c"
                f" WHERE c.id IN ({marks})",
                ids,
            ):
                if r[1] is not None:
                    ends[r[0]] = from_db_req(r[1])
            for r in await self.db.fetchall(
                f"SELECT * FROM digests WHERE state = :state AND community_id IN ({marks})"
                " ORDER BY community_id, period_end",
                {**ids, "state": DeliveryState.PENDING},
            ):
                pending.setdefault(r["community_id"], []).append(_record(r))
        return schedules, ends, pending

    async def pending(self, community_id: int) -> list[DigestRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM digests WHERE community_id = :community_id AND state = :state"
            " ORDER BY period_end",
            {"community_id": community_id, "state": DeliveryState.PENDING},
        )
        return [_record(r) for r in rows]

    async def history(self, community_id: int, limit: int = 20) -> list[DigestRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM digests WHERE community_id = :community_id"
            " ORDER BY period_end DESC LIMIT :limit",
            {"community_id": community_id, "limit": limit},
        )
        return [_record(r) for r in reversed(rows)]

    async def mark_channel_done(
        self, digest_id: int, *, dm: bool = False, email: bool = False
    ) -> None:
        """Record one delivery channel as done as soon as it is, so a retry never repeats it."""
        # Only the flags asked for are set (no "flag OR :x": PostgreSQL's OR is boolean).
        sets = [f"{column} = 1" for column, done in (("dm_done", dm), ("email_done", email))
                if done]
        if not sets:
            return
        await self.db.execute(
            f"UPDATE digests SET {', '.join(sets)} WHERE id = :id", {"id": digest_id}
        )

    async def mark_sent(self, digest_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE digests SET state = :state, sent_at = :sent_at, next_attempt_at = NULL"
            " WHERE id = :id",
            {"state": DeliveryState.SENT, "sent_at": to_db(now), "id": digest_id},
        )

    async def mark_retry(
        self, digest_id: int, attempts: int, next_attempt_at: datetime, error: str
    ) -> None:
        await self.db.execute(
            "UPDATE digests SET attempts = :attempts, next_attempt_at = :next_attempt_at,"
            " last_error = :last_error WHERE id = :id",
            {
                "attempts": attempts, "next_attempt_at": to_db(next_attempt_at),
                "last_error": error[:500], "id": digest_id,
            },
        )

    async def mark_failed(self, digest_id: int, attempts: int, error: str) -> None:
        await self.db.execute(
            "UPDATE digests SET state = :state, attempts = :attempts, next_attempt_at = NULL,"
            " last_error = :last_error WHERE id = :id",
            {
                "state": DeliveryState.FAILED, "attempts": attempts,
                "last_error": error[:500], "id": digest_id,
            },
        )

    async def mark_skipped(self, digest_id: int, reason: str) -> None:
        await self.db.execute(
            "UPDATE digests SET state = :state, next_attempt_at = NULL, last_error = :last_error"
            " WHERE id = :id",
            {"state": DeliveryState.SKIPPED, "last_error": reason[:500], "id": digest_id},
        )

    # ------------------------------------------------------------------ the sponsor's e-mails

    async def email_stopped(self, community_id: int) -> bool:
        """Whether the community's current sponsor stopped the digest e-mails."""
        stopped = await self.db.fetchval(
            "SELECT sponsor_email_stopped_at FROM communities WHERE id = :id",
            {"id": community_id},
        )
        return stopped is not None

    async def set_email_stopped(
        self, community_id: int, sponsor_id: int, stopped: bool, now: datetime
    ) -> bool:
        """Record the sponsor's choice; ``False`` (nothing written) when ``sponsor_id`` is
        no longer the community's sponsor. A change of sponsor clears it (migration 0014)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE communities SET sponsor_email_stopped_at = :stopped_at"
                " WHERE id = :id AND sponsor_id = :sponsor_id",
                {
                    "stopped_at": to_db(now) if stopped else None, "id": community_id,
                    "sponsor_id": sponsor_id,
                },
            )
            return cur.rowcount == 1
