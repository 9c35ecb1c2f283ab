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

:meth:`ValueReportScheduleRepo.arming_facts` reads what re-arming needs for many
communities at once (their schedules, last claims and pending retries): two queries per
:data:`bot.db.rows.IN_CHUNK` communities instead of three or four per community, at start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.db.database import Database
from bot.db.rows import chunks, from_db, from_db_req, in_list, to_db
from bot.domain.value.periods import Cadence, ReportSchedule

#: The ``problem`` a report skipped for want of a sponsor records.
NO_SPONSOR = "no sponsor"


@dataclass(frozen=True)
class ArmingFacts:
    """What deciding a community's next run needs (see
    :func:`bot.domain.value.periods.next_run_at`): its schedule, the end of its last
    claimed report, its latest claim (by period start: state, problem, end) and its pending
    claims' retry times (``None``: retry at once)."""

    schedule: ReportSchedule = field(default_factory=ReportSchedule)
    last_end: datetime | None = None
    latest_state: str | None = None
    latest_problem: str | None = None
    latest_end: datetime | None = None
    retries: tuple[datetime | None, ...] = ()

    @property
    def skipped_for_sponsor(self) -> bool:
        """The latest report was skipped for want of a sponsor (it may go once there is one)."""
        return self.latest_state == "skipped" and self.latest_problem == NO_SPONSOR


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

    async def arming_facts(self, community_ids: Sequence[int]) -> dict[int, ArmingFacts]:
        """:class:`ArmingFacts` of each community in ``community_ids`` (one without a
        schedule or claims gets the defaults). Per chunk of ids, one query reads each
        community's schedule, last claimed end and latest claim (index seeks on
        ``(community_id, period_start)``), and one its pending claims."""
        out: dict[int, ArmingFacts] = {}
        retries: dict[int, list[datetime | None]] = {}
        for part in chunks(sorted(set(community_ids))):
            marks, ids = in_list(part)
            rows = await self.db.fetchall(
                "SELECT c.id, s.cadence, s.changed_at, s.report_from,"
                " (SELECT MAX(e.period_end) FROM value_report_deliveries e"
                "   WHERE e.community_id = c.id) AS last_end,"
                " l.state, l.problem, l.period_end"
                " FROM communities c"
                " LEFT JOIN value_report_schedules s ON s.community_id = c.id"
                " LEFT JOIN value_report_deliveries l ON l.community_id = c.id"
                "   AND l.period_start = (SELECT MAX(m.period_start)"
                "     FROM value_report_deliveries m WHERE m.community_id = c.id)"
                f" WHERE c.id IN ({marks})",
                ids,
            )
            for r in rows:
                schedule = (
                    ReportSchedule()
                    if r["cadence"] is None
                    else ReportSchedule(
                        Cadence(r["cadence"]),
                        from_db_req(r["changed_at"]),
                        from_db(r["report_from"]),
                    )
                )
                out[r["id"]] = ArmingFacts(
                    schedule=schedule,
                    last_end=from_db(r["last_end"]),
                    latest_state=r["state"],
                    latest_problem=r["problem"],
                    latest_end=from_db(r["period_end"]),
                )
            for r in await self.db.fetchall(
                "SELECT community_id, next_attempt_at FROM value_report_deliveries"
                f" WHERE state = 'pending' AND community_id IN ({marks})"
                " ORDER BY community_id, period_start, id",
                ids,
            ):
                retries.setdefault(r["community_id"], []).append(from_db(r["next_attempt_at"]))
        for cid, times in retries.items():
            out[cid] = replace(out.get(cid, ArmingFacts()), retries=tuple(times))
        return out

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
