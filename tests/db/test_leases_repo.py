"""Job leases (migration 0022) and the community -> guild map, on every engine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.db.leases import JobLeases, community_guilds

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
HOLD = timedelta(hours=2)


async def test_one_holder_at_a_time_until_the_lease_expires(db: Any) -> None:
    leases, job = JobLeases(db), "privacy:retention"

    async def claim(holder: str, hours: float) -> bool:
        """``holder`` asks ``hours`` after T0 for the lease, to hold it for HOLD."""
        now = T0 + timedelta(hours=hours)
        return await leases.claim(job, holder, now, now + HOLD)

    assert await claim("a", 0)
    assert not await claim("b", 0.1)
    # The holder renews (the lease runs from its latest claim)...
    assert await claim("a", 1)
    assert not await claim("b", 2)
    assert await leases.holder(job) == "a"
    # ...and once it has run out another process takes the job over.
    assert await claim("b", 3)
    assert await leases.holder(job) == "b"
    assert not await claim("a", 3)
    # Another job is another lease.
    assert await leases.claim("other", "a", T0, T0 + HOLD)


async def test_release_lets_another_process_in_at_once(db: Any) -> None:
    leases = JobLeases(db)
    assert await leases.claim("j", "a", T0, T0 + HOLD)
    await leases.release("a")
    assert await leases.holder("j") is None
    later = T0 + timedelta(seconds=1)
    assert await leases.claim("j", "b", later, later + HOLD)


async def test_claims_at_the_same_moment_give_the_lease_to_one(db: Any) -> None:
    leases = JobLeases(db)
    won = await asyncio.gather(*(leases.claim("j", f"p{n}", T0, T0 + HOLD) for n in range(8)))
    assert sum(won) == 1


async def test_microseconds_compare_correctly_as_text(db: Any) -> None:
    leases = JobLeases(db)
    assert await leases.claim("j", "a", T0, T0 + timedelta(seconds=1))
    just_before = T0 + timedelta(microseconds=999_999)
    assert not await leases.claim("j", "b", just_before, just_before + HOLD)
    expired = T0 + timedelta(seconds=1)
    assert await leases.claim("j", "b", expired, expired + HOLD)


async def test_community_guilds_lists_every_community(db: Any) -> None:
    for cid, guild in ((1, 111), (2, 222), (3, 111)):
        await db.execute(
            "INSERT INTO communities (id, guild_id, name, slug, kind, created_by, created_at,"
            " archived_at) VALUES (:id, :guild, :name, :slug, 'practice', 1,"
            " '2027-01-01T00:00:00+00:00', :archived)",
            {"id": cid, "guild": guild, "name": f"c{cid}", "slug": f"c{cid}",
             "archived": "2027-01-02T00:00:00+00:00" if cid == 3 else None},
        )  # fmt: skip
    assert await community_guilds(db) == {1: 111, 2: 222, 3: 111}
