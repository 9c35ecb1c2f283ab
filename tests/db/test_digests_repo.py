"""DigestRepo on every engine (the shared ``db`` fixture); its query plans on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.db.communities import CommunityRepo
from bot.db.database import Database
from bot.db.digests import DigestRepo
from bot.domain.digest import DeliveryState, DigestSchedule, Period
from tests.db.test_activity_repo import make_community
from tests.engines import open_test_database

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
WEEK = timedelta(days=7)


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite only, for the query-plan checks: EXPLAIN QUERY PLAN and its wording are
    SQLite's (PostgreSQL plans differently and says so in other words)."""
    async with open_test_database("sqlite", tmp_path) as database:
        yield database


async def test_a_period_is_claimed_once_and_moves_through_its_states(db: Database) -> None:
    cid = await make_community(db)
    repo = DigestRepo(db)
    period = Period(T0 - WEEK, T0)
    assert await repo.last_period_end(cid) is None
    rec = await repo.claim(cid, period, late=True, now=T0)
    assert rec is not None and rec.state == DeliveryState.PENDING and rec.late
    assert rec.period == period
    # Same period again (a restart, a second worker): never a second row.
    assert await repo.claim(cid, period, late=False, now=T0 + timedelta(minutes=1)) is None
    assert await repo.last_period_end(cid) == T0
    assert [r.id for r in await repo.pending(cid)] == [rec.id]

    await repo.mark_channel_done(rec.id, dm=True)
    await repo.mark_retry(rec.id, 1, T0 + timedelta(minutes=1), "smtp down")
    again = await repo.get(rec.id)
    assert again is not None and again.dm_done and not again.email_done
    assert again.attempts == 1 and again.next_attempt_at == T0 + timedelta(minutes=1)
    assert again.state == DeliveryState.PENDING

    await repo.mark_channel_done(rec.id, email=True)
    await repo.mark_sent(rec.id, T0 + timedelta(minutes=2))
    done = await repo.get(rec.id)
    assert done is not None and done.state == DeliveryState.SENT and done.dm_done
    assert done.email_done and done.sent_at == T0 + timedelta(minutes=2)
    assert await repo.pending(cid) == []

    nxt = await repo.claim(cid, Period(T0, T0 + WEEK), late=False, now=T0 + WEEK)
    assert nxt is not None
    await repo.mark_failed(nxt.id, 4, "gave up")
    await repo.mark_skipped(nxt.id, "no sponsor")
    history = await repo.history(cid)
    assert [(r.period.end, r.state) for r in history] == [
        (T0, DeliveryState.SENT),
        (T0 + WEEK, DeliveryState.SKIPPED),
    ]


async def test_schedule_upsert(db: Database) -> None:
    cid = await make_community(db)
    repo = DigestRepo(db)
    assert await repo.schedule(cid) is None
    await repo.set_schedule(cid, DigestSchedule(4, time(17, 30), "Europe/Paris"), 100, T0)
    await repo.set_schedule(cid, DigestSchedule(2, time(8, 0), "Europe/London"), 100, T0)
    assert await repo.schedule(cid) == DigestSchedule(2, time(8, 0), "Europe/London")


async def test_record_queries_use_indexes(sqlite_db: Database) -> None:
    db = sqlite_db
    cid = await make_community(db)
    repo = DigestRepo(db)
    for i in range(50):
        await repo.claim(cid, Period(T0 + i * WEEK, T0 + (i + 1) * WEEK), late=False, now=T0)
    await db.execute("ANALYZE")
    for sql in (
        "SELECT period_end FROM digests WHERE community_id = :cid"
        " ORDER BY period_end DESC LIMIT 1",
        "SELECT * FROM digests WHERE community_id = :cid AND state = 'pending'"
        " ORDER BY period_end",
    ):
        rows = await db.fetchall("EXPLAIN QUERY PLAN " + sql, {"cid": cid})
        detail = " | ".join(r["detail"] for r in rows)
        assert "SEARCH digests USING" in detail and "SCAN" not in detail, detail


async def test_arming_facts_for_many_match_the_one_by_one_reads(db: Database) -> None:
    """Start-up reads every community's facts in three queries; they must be exactly what
    schedule(), last_period_end() and pending() say for each community."""
    repo = DigestRepo(db)
    with_all = await make_community(db, "All")
    empty = await make_community(db, "Empty")
    sent_only = await make_community(db, "Sent")
    await repo.set_schedule(with_all, DigestSchedule(4, time(17, 30), "Europe/Paris"), 1, T0)
    first = await repo.claim(with_all, Period(T0 - WEEK, T0), late=False, now=T0)
    second = await repo.claim(with_all, Period(T0, T0 + WEEK), late=True, now=T0)
    assert first is not None and second is not None
    await repo.mark_retry(second.id, 2, T0 + timedelta(hours=1), "smtp down")
    done = await repo.claim(sent_only, Period(T0 - 2 * WEEK, T0 - WEEK), late=False, now=T0)
    assert done is not None
    await repo.mark_sent(done.id, T0)

    ids = [with_all, empty, sent_only]
    schedules, ends, pending = await repo.arming_facts(ids)
    for cid in ids:
        assert schedules.get(cid) == await repo.schedule(cid)
        assert ends.get(cid) == await repo.last_period_end(cid)
        assert pending.get(cid, []) == await repo.pending(cid)
    assert [r.id for r in pending[with_all]] == [first.id, second.id]
    assert set(schedules) == {with_all} and set(ends) == {with_all, sent_only}
    # Only the ids asked for.
    assert await repo.arming_facts([empty]) == ({}, {}, {})
    assert await repo.arming_facts([]) == ({}, {}, {})


async def test_email_stop_follows_the_current_sponsor(db: Database) -> None:
    cid = await make_community(db)
    repo = DigestRepo(db)
    assert not await repo.email_stopped(cid)
    await CommunityRepo(db).set_sponsor(cid, 9, "sam@example.org")
    assert not await repo.set_email_stopped(cid, 8, True, T0), "not the sponsor"
    assert not await repo.email_stopped(cid)
    assert await repo.set_email_stopped(cid, 9, True, T0)
    assert await repo.email_stopped(cid)
    assert await repo.set_email_stopped(cid, 9, False, T0)
    assert not await repo.email_stopped(cid)


async def test_mark_channel_done_sets_only_what_is_asked(db: Database) -> None:
    cid = await make_community(db)
    repo = DigestRepo(db)
    rec = await repo.claim(cid, Period(T0 - WEEK, T0), late=False, now=T0)
    assert rec is not None
    await repo.mark_channel_done(rec.id)
    await repo.mark_channel_done(rec.id, email=True)
    await repo.mark_channel_done(rec.id, dm=False)  # never clears a flag
    got = await repo.get(rec.id)
    assert got is not None and (got.dm_done, got.email_done) == (False, True)
