"""ValueReportRepo on a real database (each engine): a quarter is claimed once (never twice, whoever
asks), pending claims are found for resuming, and each channel and outcome is recorded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.db.database import Database
from bot.db.value_reports import ValueReportRepo
from tests.db.test_privacy_repo import community

Q_START = datetime(2027, 1, 1, tzinfo=UTC)
Q_END = datetime(2027, 3, 31, 23, tzinfo=UTC)
NOW = datetime(2027, 4, 1, 8, tzinfo=UTC)


async def test_a_quarter_is_claimed_once(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = ValueReportRepo(db)
    results = await asyncio.gather(*(repo.claim(cid, Q_START, Q_END, NOW) for _ in range(5)))
    claimed = [r for r in results if r is not None]
    assert len(claimed) == 1
    claim = claimed[0]
    assert (claim.start, claim.end, claim.state) == (Q_START, Q_END, "pending")
    assert not claim.dm_done and not claim.email_done and claim.attempts == 0
    assert await repo.claim(cid, Q_START, Q_END, NOW + timedelta(days=1)) is None
    assert await repo.for_period(cid, Q_START) == claim
    other = await community(db, "Nurses")
    assert await repo.claim(other, Q_START, Q_END, NOW) is not None  # per community


async def test_channels_retries_and_outcomes_are_recorded(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = ValueReportRepo(db)
    claim = await repo.claim(cid, Q_START, Q_END, NOW)
    assert claim is not None
    assert [c.id for c in await repo.pending([cid])] == [claim.id]
    assert await repo.pending([cid + 1]) == []
    await repo.mark_channel_done(claim.id, dm=True)
    await repo.mark_retry(claim.id, 1, NOW + timedelta(minutes=1), "the e-mail could not be sent")
    got = await repo.get(claim.id)
    assert got is not None and got.dm_done and not got.email_done
    assert (got.attempts, got.next_attempt_at) == (1, NOW + timedelta(minutes=1))
    await repo.mark_channel_done(claim.id, dm=False)
    await repo.mark_sent(claim.id, NOW + timedelta(minutes=1))
    got = await repo.get(claim.id)
    assert got is not None and got.state == "sent" and got.problem is None
    assert got.sent_at == NOW + timedelta(minutes=1) and await repo.pending() == []
    assert await repo.latest(cid) == got


async def test_skipped_and_failed_are_final(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = ValueReportRepo(db)
    first = await repo.claim(cid, Q_START, Q_END, NOW)
    second = await repo.claim(cid, Q_END, Q_END + timedelta(days=91), NOW + timedelta(days=91))
    assert first is not None and second is not None
    await repo.mark_skipped(first.id, "no sponsor")
    await repo.mark_failed(second.id, 4, "Discord refused the direct message")
    assert await repo.pending() == []
    latest = await repo.latest(cid)
    assert latest is not None and (latest.state, latest.attempts) == ("failed", 4)
