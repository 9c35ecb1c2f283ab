"""ValueReportScheduleRepo on each engine: the default schedule without a row, a change
stored and read back, a window claimed once and never overlapping an earlier claim (also
when claims race), and a report skipped for want of a sponsor reopened exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.db.database import Database
from bot.db.value_report_schedules import NO_SPONSOR, ValueReportScheduleRepo
from bot.db.value_reports import ValueReportRepo
from bot.domain.value.periods import Cadence, ReportSchedule
from tests.db.test_privacy_repo import community

JAN = datetime(2027, 1, 1, tzinfo=UTC)
FEB = datetime(2027, 2, 1, tzinfo=UTC)
MAR = datetime(2027, 3, 1, tzinfo=UTC)
APR = datetime(2027, 3, 31, 23, tzinfo=UTC)


async def test_the_default_then_a_change_read_back(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = ValueReportScheduleRepo(db)
    assert await repo.get(cid) == ReportSchedule()
    changed = ReportSchedule(Cadence.MONTHLY, FEB + timedelta(days=14), JAN)
    await repo.set(cid, changed)
    assert await repo.get(cid) == changed
    off = ReportSchedule(Cadence.OFF, MAR, JAN)
    await repo.set(cid, off)
    assert await repo.get(cid) == off
    assert await repo.get(await community(db, "Nurses")) == ReportSchedule()


async def test_a_window_is_claimed_once_and_never_overlaps(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = ValueReportScheduleRepo(db)
    results = await asyncio.gather(*(repo.claim_window(cid, JAN, FEB, FEB) for _ in range(5)))
    assert len([r for r in results if r is not None]) == 1
    assert await repo.last_end(cid) == FEB
    # A window starting inside the claimed one (a cadence change gone wrong): refused.
    assert await repo.claim_window(cid, JAN + timedelta(days=3), APR, APR) is None
    # Two different windows racing from the same last report: only one wins.
    raced = await asyncio.gather(
        repo.claim_window(cid, FEB, MAR, MAR), repo.claim_window(cid, FEB, APR, APR)
    )
    assert len([r for r in raced if r is not None]) == 1
    claim_id = await repo.claim_window(cid, max(await repo.last_end(cid) or FEB, MAR), APR, APR)
    assert claim_id is not None or await repo.last_end(cid) == APR


async def test_a_report_skipped_for_want_of_a_sponsor_reopens_once(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = ValueReportScheduleRepo(db)
    reports = ValueReportRepo(db)
    claim_id = await repo.claim_window(cid, JAN, APR, APR)
    assert claim_id is not None
    await reports.mark_skipped(claim_id, NO_SPONSOR)
    results = await asyncio.gather(*(repo.reopen_skipped(claim_id) for _ in range(3)))
    assert results.count(True) == 1
    claim = await reports.get(claim_id)
    assert claim is not None and (claim.state, claim.problem) == ("pending", None)
    await reports.mark_sent(claim_id, APR)
    assert await repo.reopen_skipped(claim_id) is False  # a sent report never again
    other = await repo.claim_window(cid, APR, APR + timedelta(days=30), APR)
    assert other is not None
    await reports.mark_skipped(other, "archived")
    assert await repo.reopen_skipped(other) is False  # only "no sponsor" reopens
