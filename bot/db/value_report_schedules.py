"""Storage for the sponsor's value report schedule, and the claims the schedule makes.

SQL only; the rules (which window is due, what a change does) live in
:mod:`bot.domain.value.periods` and :mod:`bot.services.value_report`. A community without a
row has the default schedule (quarterly, never changed).

:meth:`ValueReportScheduleRepo.claim_window` claims a report's window in
``value_report_deliveries`` (table of :mod:`bot.db.value_reports`) *before* it is sent, and
only when no earlier claim of the community reaches past the window's start: the window is
delivered by whoever claims it first, never twice and never overlapping another, across
restarts and processes (one statement, so two racing claims cannot both win).
:meth:`ValueReportScheduleRepo.reopen_skipped` turns a report skipped for want of a sponsor
back into a pending one, once.
"""

from __future__ import annotations

from datetime import datetime

from bot.db.database import Database
from bot.db.rows import from_db, from_db_req, to_db
from bot.domain.value.periods import Cadence, ReportSchedule

#: The ``problem`` a report skipped for want of a sponsor records.
NO_SPONSOR = "no sponsor"


class ValueReportScheduleRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, community_id: int) -> ReportSchedule:
        row = await self.db.fetchone(
            "SELECT cadence, changed_at, report_from FROM value_report_schedules"
            " WHERE community_id = :community_id",
            {"community_id": community_id},
        )
        if row is None:
            return ReportSchedule()
        return ReportSchedule(
            Cadence(row["cadence"]), from_db_req(row["changed_at"]), from_db(row["report_from"])
        )

    async def set(self, community_id: int, schedule: ReportSchedule) -> None:
        assert schedule.since is not None  # only a facilitator's change is stored
        await self.db.execute(
            "INSERT INTO value_report_schedules (community_id, cadence, changed_at, report_from)"
            " VALUES (:community_id, :cadence, :changed_at, :report_from)"
            " ON CONFLICT (community_id) DO UPDATE SET cadence = excluded.cadence,"
            " changed_at = excluded.changed_at, report_from = excluded.report_from",
            {
                "community_id": community_id,
                "cadence": schedule.cadence.value,
                "changed_at": to_db(schedule.since),
                "report_from": to_db(schedule.floor),
            },
        )

    async def last_end(self, community_id: int) -> datetime | None:
        """The end of the community's last claimed report (any state), or ``None``."""
        value = await self.db.fetchval(
            "SELECT MAX(period_end) FROM value_report_deliveries"
            " WHERE community_id = :community_id",
            {"community_id": community_id},
        )
        return from_db(value)

    async def claim_window(
        self, community_id: int, start: datetime, end: datetime, now: datetime
    ) -> int | None:
        """Claim ``[start, end)`` as pending; its id, or ``None`` when it (or a report
        reaching past ``start``) was claimed before."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO value_report_deliveries (community_id, period_start, period_end,"
                " state, claimed_at)"
                " SELECT :community_id, :start, :end, 'pending', :now"
                " WHERE NOT EXISTS (SELECT 1 FROM value_report_deliveries"
                "   WHERE community_id = :community_id AND period_end > :start)"
                " ON CONFLICT (community_id, period_start) DO NOTHING RETURNING id",
                {
                    "community_id": community_id,
                    "start": to_db(start),
                    "end": to_db(end),
                    "now": to_db(now),
                },
            )
            row = await cur.fetchone()
        return None if row is None else int(row[0])

    async def reopen_skipped(self, claim_id: int) -> bool:
        """A report skipped for want of a sponsor becomes pending again; False if it was
        not (any longer) such a report (so only one caller ever reopens it)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE value_report_deliveries SET state = 'pending', problem = NULL,"
                " attempts = 0, next_attempt_at = NULL"
                " WHERE id = :id AND state = 'skipped' AND problem = :problem",
                {"id": claim_id, "problem": NO_SPONSOR},
            )
            return cur.rowcount == 1
