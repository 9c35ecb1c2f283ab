"""The value report's batched re-arm gives the same next run as the per-community one.

At start (and in the hourly sweep) ``cogs/value/_report.py`` arms every community from one
batched read (:meth:`ValueReportScheduleRepo.arming_facts`) and the pure
:func:`bot.domain.value.periods.next_run_at`, instead of three or four queries per community
(:meth:`ValueReportService.next_run`). Here many communities are driven through a year and a
half of varied history by the service itself (cadence changes, off and on again, sponsors set
late, reports claimed, sent, skipped for want of a sponsor or for another reason, retried,
failed, left pending) in several timezones, and at many moments the batched answer must equal
the per-community one for every community, on each engine.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from bot.clock import FakeClock
from bot.db.communities import CommunityRepo, NewCommunity
from bot.db.database import Database
from bot.db.value_report_schedules import NO_SPONSOR, ArmingFacts
from bot.domain.communities import Community, Discipline, Kind
from bot.domain.value.periods import (
    Cadence,
    ReportSchedule,
    latest_due,
    next_run_at,
    reopens,
)
from bot.services.value_report import ValueReportService

START = datetime(2026, 1, 5, 8, tzinfo=UTC)
ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Auckland", "UTC")
CADENCES = ("monthly", "quarterly", "half-yearly", "yearly", "off")


async def make(db: Database, i: int, rng: random.Random) -> Community:
    created = START + timedelta(days=rng.choice([-900, -200, -40, 0, 30, 120, 300]))
    return await CommunityRepo(db).create(
        NewCommunity(
            guild_id=1 + i % 3, name=f"Community {i}", slug=f"community-{i}", kind=Kind.PRACTICE,
            timezone=ZONES[i % len(ZONES)], created_by=1, created_at=created, category_id=None,
            lounge_id=None, stories_id=None, stories_is_forum=False, voice_id=None,
            meetings_id=None, member_role_id=None, facilitator_role_id=None,
            sponsor_id=rng.choice([None, 500 + i]), circles=(), stage_tags=(),
        ),
        Discipline.OTHER,
    )  # fmt: skip


async def step(
    service: ValueReportService, repo: CommunityRepo, cid: int, rng: random.Random
) -> None:
    """One thing that may happen to a community: a cadence change, a sponsor set, or its
    job running (claims made, and each claim's delivery ending one way or another)."""
    community = await repo.get(cid)
    assert community is not None
    roll = rng.random()
    if roll < 0.3:
        await service.set_cadence(community, rng.choice(CADENCES))
        return
    if roll < 0.4:
        await repo.set_sponsor(cid, 700 + cid, None)
        return
    now = service.clock.now()
    for claim in await service.due_claims(community):
        outcome = rng.choice(["sent", "skip", "skip-other", "retry-later", "retry-past", "fail",
                              "leave"])  # fmt: skip
        if outcome == "skip" or (outcome == "sent" and community.sponsor_id is None):
            await service.mark_skipped(claim)  # as delivery does without a sponsor
        elif outcome == "sent":
            await service.mark_sent(claim)
        elif outcome == "skip-other":
            await service.mark_skipped(claim, "archived")
        elif outcome in ("retry-later", "retry-past"):
            at = now + timedelta(hours=rng.choice([1, 30, 24 * 20]))
            if outcome == "retry-past":
                at = now - timedelta(hours=2)
            await service.repo.mark_retry(claim.id, claim.attempts + 1, at, "refused")
        elif outcome == "fail":
            await service.repo.mark_failed(claim.id, 5, "gave up")


async def test_batched_next_run_equals_the_per_community_one(db: Database) -> None:
    rng = random.Random(17)
    clock = FakeClock(START)
    service = ValueReportService(db, cast(Any, None), cast(Any, None), clock)
    repo = CommunityRepo(db)
    ids = [(await make(db, i, rng)).id for i in range(48)]
    kinds: Counter[str] = Counter()
    reopened = 0
    for _ in range(20):  # 20 moments over about a year and a half
        clock.advance(timedelta(days=rng.choice([3, 17, 29, 31, 45, 61]), hours=rng.randrange(24)))
        for cid in rng.sample(ids, k=len(ids) // 2):
            await step(service, repo, cid, rng)
        now = clock.now()
        communities = [c for c in await repo.all_active() if c.id in set(ids)]
        facts = await service.arming_facts([c.id for c in communities])
        runs = await service.next_runs(communities)  # what the cog's arm_all uses
        for c in communities:
            expected = await service.next_run(c)
            got = service.next_run_from(c, facts.get(c.id, ArmingFacts()))
            assert runs[c.id] == got
            assert got == expected, (c.id, now, facts.get(c.id))
            kinds["off" if got is None else "now" if got == now else
                  "earlier" if got < now else "later"] += 1  # fmt: skip
            f = facts.get(c.id, ArmingFacts())
            if (
                c.sponsor_id is not None
                and f.skipped_for_sponsor
                and reopens(now, f.schedule.cadence, c.timezone, f.latest_end)
            ):
                reopened += 1
    # The states above were reached (so the comparison covered them).
    assert kinds["off"] and kinds["now"] and kinds["later"] and kinds["earlier"], kinds
    assert reopened, "no skipped report ever reopened"
    cadences = {f.schedule.cadence for f in (await service.arming_facts(ids)).values()}
    assert Cadence.OFF in cadences and len(cadences) >= 4, cadences


async def test_arming_facts_of_a_community_without_history(db: Database) -> None:
    rng = random.Random(1)
    c = await make(db, 0, rng)
    assert await ValueReportService(db, cast(Any, None), cast(Any, None), FakeClock(START)) \
        .arming_facts([c.id]) == {c.id: ArmingFacts()}  # fmt: skip
    assert await ValueReportService(db, cast(Any, None), cast(Any, None), FakeClock(START)) \
        .arming_facts([]) == {}  # fmt: skip


def test_next_run_at_pure_cases() -> None:
    now = datetime(2027, 5, 10, 12, tzinfo=UTC)
    began = datetime(2026, 1, 1, tzinfo=UTC)
    sched = ReportSchedule()  # quarterly: January-March claimed, next on 1 July
    claimed = datetime(2027, 4, 1, tzinfo=UTC)
    nxt = next_run_at(now, sched, "UTC", began, claimed)
    assert nxt == datetime(2027, 7, 1, 9, tzinfo=UTC)
    # January-March never claimed: due now (caught up).
    assert next_run_at(now, sched, "UTC", began, datetime(2027, 1, 1, tzinfo=UTC)) == now
    # A retry earlier than the next report, or one with no time (at once).
    soon = now + timedelta(hours=3)
    assert next_run_at(now, sched, "UTC", began, claimed, retries=[soon]) == soon
    assert next_run_at(now, sched, "UTC", began, claimed, retries=[None, soon]) == now
    # Off: nothing, unless a retry is pending.
    off = ReportSchedule(Cadence.OFF, now - timedelta(days=1), None)
    assert next_run_at(now, off, "UTC", began, claimed) is None
    assert next_run_at(now, off, "UTC", began, claimed, retries=[soon]) == soon
    # The latest report was skipped for want of a sponsor (and there is one now): now.
    assert latest_due(now, Cadence.QUARTERLY, "UTC").end == claimed
    assert next_run_at(now, sched, "UTC", began, claimed, skipped_end=claimed) == now
    # ... unless a later report is due by now (that one goes instead), or it is off.
    older = datetime(2027, 1, 1, tzinfo=UTC)
    assert not reopens(now, Cadence.QUARTERLY, "UTC", older)
    assert not reopens(now, Cadence.OFF, "UTC", claimed)
    assert NO_SPONSOR == "no sponsor"
