"""ActivityRepo on every engine (the shared ``db`` fixture); its query plans on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db.activity import ActivityBuffer, ActivityRepo, hour_key, hour_start
from bot.db.communities import CommunityRepo, NewCommunity
from bot.db.database import Database
from bot.domain.communities import Discipline, Kind
from tests.engines import open_test_database

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite only, for the query-plan checks: EXPLAIN QUERY PLAN and its wording are
    SQLite's (PostgreSQL plans differently and says so in other words)."""
    async with open_test_database("sqlite", tmp_path) as database:
        yield database


async def make_community(db: Database, name: str = "Carers", guild: int = 1) -> int:
    repo = CommunityRepo(db)
    c = await repo.create(
        NewCommunity(
            guild_id=guild, name=name, slug=name.lower(), kind=Kind.PRACTICE,
            timezone="Europe/London", created_by=100, created_at=T0 - timedelta(days=400),
            category_id=None, lounge_id=len(name) * 1000 + guild, stories_id=None,
            stories_is_forum=False, voice_id=None, meetings_id=None, member_role_id=None,
            facilitator_role_id=None, sponsor_id=None, circles=(), stage_tags=(),
        ),
        Discipline.GP,
    )  # fmt: skip
    for uid in (1, 2, 3):
        await repo.upsert_member(c.id, uid, Discipline.NURSE, None, T0 - timedelta(days=400))
    return c.id


def buffer_of(*events: tuple[int, int, datetime]) -> dict[tuple[int, int, int], int]:
    buf = ActivityBuffer()
    for cid, uid, when in events:
        buf.add(cid, uid, hour_key(when))
    return buf.drain()


async def test_counts_are_aggregated_per_member_day_and_hour_never_per_message(
    db: Database,
) -> None:
    cid = await make_community(db)
    repo = ActivityRepo(db)
    at = T0 + timedelta(minutes=5)
    await repo.add_counts(buffer_of(*[(cid, 1, at)] * 3, (cid, 2, at)))
    await repo.add_counts(buffer_of((cid, 1, at + timedelta(minutes=30))))  # same hour: upsert
    await repo.add_counts(buffer_of((cid, 1, at + timedelta(hours=1))))
    rows = await db.fetchall(
        "SELECT user_id, day, hour, messages FROM message_activity ORDER BY user_id, hour"
    )
    assert [tuple(r) for r in rows] == [
        (1, "2027-01-11", 9, 4),
        (1, "2027-01-11", 10, 1),
        (2, "2027-01-11", 9, 1),
    ]
    columns = set(dict((await db.fetchall("SELECT * FROM message_activity"))[0]))
    assert columns == {"community_id", "user_id", "day", "hour", "messages"}  # no content


async def test_counts_for_a_vanished_community_are_dropped_not_an_error(db: Database) -> None:
    cid = await make_community(db)
    await ActivityRepo(db).add_counts(buffer_of((cid + 99, 1, T0), (cid, 1, T0)))
    assert await db.fetchval("SELECT COUNT(*) FROM message_activity") == 1


def test_buffer_restore_keeps_every_count() -> None:
    buf = ActivityBuffer()
    buf.add(1, 1, 10)
    batch = buf.drain()
    buf.add(1, 1, 10)
    buf.restore(batch)
    assert buf.drain() == {(1, 1, 10): 2}
    assert hour_start(hour_key(T0 + timedelta(minutes=59))) == T0


async def test_period_reads_exactly_the_hours_inside_it(db: Database) -> None:
    cid = await make_community(db)
    other = await make_community(db, "Other")
    repo = ActivityRepo(db)
    start, end = T0, T0 + timedelta(days=7)
    await repo.add_counts(
        buffer_of(
            (cid, 1, start - timedelta(minutes=1)),  # before
            (cid, 1, start),  # first hour in
            (cid, 2, end - timedelta(minutes=1)),  # last hour in
            (cid, 3, end),  # after
            (other, 1, start + timedelta(hours=2)),  # another community
        )
    )
    assert await repo.community_for_channel(len("Carers") * 1000 + 1) == cid
    assert await repo.community_for_channel(4242) is None
    got = await repo.hourly_counts(cid, start, end)
    assert sorted((h.user_id, h.hour_start, h.messages) for h in got) == [
        (1, start, 1),
        (2, end - timedelta(hours=1), 1),
    ]
    last = await repo.last_active_before(cid, [1, 2, 3], start)
    assert last == {1: start - timedelta(hours=1)}
    totals = await repo.weekly_totals(cid, [(start - timedelta(days=7), start), (start, end)])
    assert totals == [(1, 1), (2, 2)]


async def plan(db: Database, sql: str, params: dict[str, object]) -> str:
    rows = await db.fetchall("EXPLAIN QUERY PLAN " + sql, params)
    return " | ".join(r["detail"] for r in rows)


async def test_period_queries_use_indexes_not_scans(sqlite_db: Database) -> None:
    """Cost must not grow with history: every period query is an index search."""
    db = sqlite_db
    cid = await make_community(db)
    repo = ActivityRepo(db)
    # Two years of history for three members, so the planner has real statistics.
    events = []
    for day in range(730):
        for uid in (1, 2, 3):
            events.append((cid, uid, T0 - timedelta(days=day, hours=uid)))
    await repo.add_counts(buffer_of(*events))
    await db.execute("ANALYZE")

    period = {"cid": cid, "sd": "2027-01-04", "sh": 9, "ed": "2027-01-11", "eh": 9}
    details = [
        await plan(
            db,
            """SELECT user_id, day, hour, messages FROM message_activity
               WHERE community_id = :cid AND day BETWEEN :sd AND :ed
                 AND (day > :sd OR hour >= :sh) AND (day < :ed OR hour < :eh)""",
            period,
        ),
        await plan(
            db,
            """SELECT day, hour FROM message_activity
               WHERE community_id = :cid AND user_id = :uid
                 AND day <= :bd AND (day < :bd OR hour < :bh)
               ORDER BY day DESC, hour DESC LIMIT 1""",
            {"cid": cid, "uid": 1, "bd": "2027-01-04", "bh": 9},
        ),
        await plan(
            db,
            """SELECT COALESCE(SUM(a.messages), 0), COUNT(DISTINCT a.user_id)
               FROM message_activity a
               JOIN memberships m ON m.community_id = a.community_id AND m.user_id = a.user_id
               WHERE a.community_id = :cid AND a.day BETWEEN :sd AND :ed
                 AND (a.day > :sd OR a.hour >= :sh) AND (a.day < :ed OR a.hour < :eh)""",
            period,
        ),
        await plan(
            db,
            "SELECT community_id FROM community_channels WHERE channel_id = :channel_id",
            {"channel_id": 5},
        ),
    ]
    for detail in details:
        assert "SEARCH" in detail, detail
        assert "SCAN" not in detail, detail
    # The period scans are bounded by the (community, day) index range.
    assert "message_activity_period (community_id=? AND day>? AND day<?)" in details[0]
    assert "message_activity_period (community_id=? AND day>? AND day<?)" in details[2]
    # "Latest hour before" is one descending seek: no sort of the member's history.
    assert "TEMP B-TREE" not in details[1] and "day<?" in details[1]
