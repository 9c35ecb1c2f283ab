"""What each digest offered (issue 11), on every engine (the shared ``db`` fixture): a
story goes out in the next digest once it may leave its community, exactly once; a retry
offers the same stories; a failed digest that delivered nothing offered nothing; a preview
writes nothing; the upgrade counts what the old rule sent as offered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db import migrations
from bot.db.database import Database
from bot.db.digests import DigestRepo
from bot.db.stories import OFFER_CANDIDATES, StoryRepo
from bot.domain.digest import Period
from bot.domain.stories import Consent
from bot.services.story_offers import stories_offered_by_digest
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


async def _story(db: Database, cid: int, title: str, consent: Consent, when: datetime) -> int:
    story = await StoryRepo(db).add(
        community_id=cid, teller_id=7, title=title, text=f"{title} text", stage=None,
        stage_label=None, consent=consent, now=when,
    )  # fmt: skip
    return story.id


async def _titles(db: Database, cid: int, period: Period, digest_id: int | None = None,
                  *, fixed: bool = False) -> list[str]:  # fmt: skip
    async def names(_: int) -> str | None:
        return "Teller"

    offered, _ = await stories_offered_by_digest(
        db, cid, period.start, period.end, names, recipient_id=cid, digest_id=digest_id,
        fixed=fixed,
    )  # fmt: skip
    return [s.title for s in offered]


async def test_offered_once_retried_the_same_and_failed_offers_nothing(db: Database) -> None:
    cid = await make_community(db)
    repo, stories = DigestRepo(db), StoryRepo(db)
    p1, p2, p3 = (Period(T0 + i * WEEK, T0 + (i + 1) * WEEK) for i in range(3))
    late = await _story(db, cid, "Late", Consent.GROUP, T0 + timedelta(hours=1))
    await _story(db, cid, "Open", Consent.ANONYMOUS, T0 + timedelta(hours=2))

    # A preview offers what a digest would, and records nothing.
    queued = await _rows(db, "story_offers")
    assert await _titles(db, cid, p1) == ["Open"]
    assert await _rows(db, "digest_stories") == [] and await _rows(db, "story_offers") == queued
    d1 = await repo.claim(cid, p1, late=False, now=p1.end)
    assert d1 is not None
    assert await _titles(db, cid, p1, d1.id) == ["Open"]
    await repo.mark_sent(d1.id, p1.end)

    # Widened after its week: the next digest offers it, once.
    await stories.set_consent(late, Consent.NAMED)
    d2 = await repo.claim(cid, p2, late=False, now=p2.end)
    assert d2 is not None
    assert await _titles(db, cid, p2, d2.id) == ["Late"]
    # The DM went, then the story was narrowed and widened again before the e-mail retry:
    # the retry offers what the DM did, nothing new, and only what consent still allows.
    await repo.mark_channel_done(d2.id, dm=True)
    fresh = await _story(db, cid, "Fresh", Consent.NAMED, p2.start + timedelta(days=1))
    assert await _titles(db, cid, p2, d2.id, fixed=True) == ["Late"]
    await stories.set_consent(late, Consent.GROUP)
    assert await _titles(db, cid, p2, d2.id, fixed=True) == []
    await stories.set_consent(late, Consent.ANONYMOUS)
    await repo.mark_sent(d2.id, p2.end)

    # Shared before, widened again: never offered twice. "Fresh" waited for the next one,
    # which fails without delivering anything, so it offered nothing.
    d3 = await repo.claim(cid, p3, late=False, now=p3.end)
    assert d3 is not None
    assert await _titles(db, cid, p3, d3.id) == ["Fresh"]
    await repo.mark_failed(d3.id, 4, "gave up")
    p4 = Period(p3.end, p3.end + WEEK)
    assert await _titles(db, cid, p4) == ["Fresh"]

    # Only what no delivered digest offered stays queued: "Open" and "Late" went, so they
    # are gone from it; "Fresh", whose digest failed, is offered again and waits until this
    # digest is delivered.
    d4 = await repo.claim(cid, p4, late=False, now=p4.end)
    assert d4 is not None
    assert await _titles(db, cid, p4, d4.id) == ["Fresh"]
    assert await _rows(db, "story_offers") == [(cid, fresh)]


async def _rows(db: Database, table: str) -> list[tuple[int, int]]:
    rows = await db.fetchall(f"SELECT * FROM {table} ORDER BY 1, 2")
    return [(r[0], r[1]) for r in rows]


async def test_a_digest_reads_its_few_offers_not_the_community_history(
    sqlite_db: Database,
) -> None:
    db = sqlite_db
    cid = await make_community(db)
    for week in range(30):  # history that no digest is waiting for any more
        await _story(db, cid, f"Old {week}", Consent.ANONYMOUS, T0 - (week + 1) * WEEK)
    await db.execute("DELETE FROM story_offers")
    plan = " ".join(
        str(r[3])
        for r in await db.fetchall(
            "EXPLAIN QUERY PLAN " + OFFER_CANDIDATES,
            {"recipient_id": cid, "community_id": cid, "end": "z", "since": None,
             "digest_id": None},
        )
    )
    assert plan.startswith("SEARCH o USING PRIMARY KEY (recipient_id=?)"), plan
    assert "SCAN" not in plan, plan


async def test_upgrade_counts_what_the_old_rule_sent_as_offered(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = migrations.available_migrations(engine)
    before = [m for m in shipped if m.name != "digest_stories"]
    assert len(before) == len(shipped) - 1
    async with open_test_database(engine, tmp_path, migrate=False) as db:
        monkeypatch.setattr(migrations, "available_migrations", lambda *_: before)
        await migrations.upgrade(db)
        cid = await make_community(db)
        period = Period(T0, T0 + WEEK)
        rec = await DigestRepo(db).claim(cid, period, late=False, now=period.end)
        assert rec is not None
        sent = await _story(db, cid, "Sent then", Consent.NAMED, T0 + timedelta(hours=1))
        await _story(db, cid, "Kept then", Consent.GROUP, T0 + timedelta(hours=2))
        await _story(db, cid, "After", Consent.ANONYMOUS, period.end + timedelta(hours=1))
        monkeypatch.setattr(migrations, "available_migrations", lambda *_: shipped)
        await migrations.upgrade(db)
        rows = await db.fetchall("SELECT digest_id, story_id FROM digest_stories")
        assert [tuple(r) for r in rows] == [(rec.id, sent)]
        nxt = Period(period.end, period.end + WEEK)
        assert await _titles(db, cid, nxt) == ["After"]
