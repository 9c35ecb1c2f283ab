"""``/value schedule`` end to end through the emulator: a facilitator chooses how often the
sponsor's value report goes (quarterly by default; monthly, half-yearly, yearly or off); a
change mid-period sends nothing twice and skips nothing; off stops it and on again resumes
with the current period only; a report skipped for want of a sponsor goes once a sponsor
is set; every report is claimed once, across restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cogs.value._report import job_id
from tests.e2e.hearth import START, HearthWorld, hearth_world
from tests.e2e.test_digest import setup_community
from tests.e2e.test_value_report import embed_words, value_dms
from tests.emulator.state import UserState

COMMUNITY = "Carers Voice"


def ts(when: datetime) -> str:
    return str(int(when.timestamp()))


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        yield w


async def with_sponsor(world: HearthWorld) -> UserState:
    sponsor = world.person("sponsor")
    await setup_community(world, sponsor=sponsor, members={world.person("alice"): "nurse"})
    return sponsor


async def windows(world: HearthWorld) -> list[tuple[str, str, str]]:
    assert world.db is not None
    rows = await world.db.fetchall(
        "SELECT period_start, period_end, state FROM value_report_deliveries ORDER BY period_start"
    )
    return [(r["period_start"][:10], r["period_end"][:10], r["state"]) for r in rows]


async def test_monthly_then_quarterly_mid_period_nothing_twice_nothing_skipped(
    world: HearthWorld,
) -> None:
    sponsor = await with_sponsor(world)
    rec = await world.slash(world.owner, "value schedule", community=COMMUNITY, cadence="monthly")
    assert rec.ephemeral
    assert "now goes out each month" in rec.content, rec.content
    feb_1 = datetime(2027, 2, 1, 9, tzinfo=UTC)  # 09:00 London (GMT)
    assert f"Next: <t:{ts(feb_1)}:F>, covering January 2027" in rec.content
    assert f"to <@{sponsor.id}> by direct message" in rec.content

    await world.advance_to(feb_1 - timedelta(minutes=1))
    assert value_dms(world, sponsor) == []
    await world.advance_to(feb_1)
    dms = value_dms(world, sponsor)
    assert len(dms) == 1 and "monthly value report for **Carers Voice**" in dms[0].content
    assert "January 2027" in embed_words(dms[0])

    # Mid-February: quarterly. The next report covers February and March (January went).
    await world.advance_to(datetime(2027, 2, 15, 12, tzinfo=UTC))
    rec = await world.slash(world.owner, "value schedule", community=COMMUNITY, cadence="quarterly")
    apr_1 = datetime(2027, 4, 1, 8, tzinfo=UTC)  # 09:00 London (BST)
    assert "now goes out each quarter" in rec.content, rec.content
    assert f"Next: <t:{ts(apr_1)}:F>, covering 1 February 2027 to 31 March 2027" in rec.content
    assert "Nothing is sent twice and nothing is skipped" in rec.content
    await world.advance_to(datetime(2027, 3, 1, 10, tzinfo=UTC))
    assert len(value_dms(world, sponsor)) == 1  # no monthly report any more
    await world.advance_to(apr_1)
    dms = value_dms(world, sponsor)
    assert len(dms) == 2 and "quarterly value report" in dms[1].content
    assert "1 February 2027 to 31 March 2027" in embed_words(dms[1])
    await world.restart()
    await world.advance(timedelta(days=2))
    assert len(value_dms(world, sponsor)) == 2
    assert await windows(world) == [
        ("2027-01-01", "2027-02-01", "sent"),
        ("2027-02-01", "2027-03-31", "sent"),  # 31 March 23:00 UTC: midnight in London
    ]


async def test_the_same_cadence_again_changes_nothing(world: HearthWorld) -> None:
    await with_sponsor(world)
    rec = await world.slash(world.owner, "value schedule", community=COMMUNITY, cadence="quarterly")
    assert "already goes out each quarter" in rec.content, rec.content
    assert "covering January to March 2027" in rec.content
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM value_report_schedules") == 0


async def test_off_stops_it_and_on_again_resumes_without_catching_up(
    world: HearthWorld,
) -> None:
    sponsor = await with_sponsor(world)
    rec = await world.slash(world.owner, "value schedule", community=COMMUNITY, cadence="off")
    assert "is now off" in rec.content and "without a flood" in rec.content, rec.content
    await world.advance_to(datetime(2027, 4, 2, tzinfo=UTC))
    await world.advance_to(datetime(2027, 7, 2, tzinfo=UTC))
    assert value_dms(world, sponsor) == [] and await windows(world) == []
    rec = await world.slash(world.owner, "value report", community=COMMUNITY)
    assert "scheduled value report of **Carers Voice** is off" in rec.all_text

    # On again in August: one report, for July to September, on 1 October.
    await world.advance_to(datetime(2027, 8, 10, tzinfo=UTC))
    rec = await world.slash(world.owner, "value schedule", community=COMMUNITY, cadence="quarterly")
    oct_1 = datetime(2027, 10, 1, 8, tzinfo=UTC)
    assert f"Next: <t:{ts(oct_1)}:F>, covering July to September 2027" in rec.content
    await world.advance(timedelta(hours=1))
    assert value_dms(world, sponsor) == []  # no catch-up flood
    await world.advance_to(oct_1)
    assert len(value_dms(world, sponsor)) == 1
    assert await windows(world) == [("2027-06-30", "2027-09-30", "sent")]


async def test_yearly_and_half_yearly_say_when(world: HearthWorld) -> None:
    await with_sponsor(world)
    rec = await world.slash(world.owner, "value schedule", community=COMMUNITY, cadence="yearly")
    jan_1 = datetime(2028, 1, 1, 9, tzinfo=UTC)
    assert "now goes out each year" in rec.content
    assert f"<t:{ts(jan_1)}:F>, covering January to December 2027" in rec.content
    rec = await world.slash(
        world.owner, "value schedule", community=COMMUNITY, cadence="half-yearly"
    )
    jul_1 = datetime(2027, 7, 1, 8, tzinfo=UTC)
    assert "now goes out every six months" in rec.content
    assert f"<t:{ts(jul_1)}:F>, covering January to June 2027" in rec.content


async def test_a_skipped_report_goes_once_when_a_sponsor_is_set(world: HearthWorld) -> None:
    await world.create_community("Quiet Group", "practice")
    rec = await world.slash(
        world.owner, "value schedule", community="Quiet Group", cadence="monthly"
    )
    assert "has no sponsor yet, so nothing is sent" in rec.content, rec.content
    assert "the latest report due goes once, as soon as a sponsor is set" in rec.content
    await world.advance_to(datetime(2027, 2, 1, 9, tzinfo=UTC))
    await world.advance_to(datetime(2027, 3, 1, 9, tzinfo=UTC))
    assert await windows(world) == [
        ("2027-01-01", "2027-02-01", "skipped"),
        ("2027-02-01", "2027-03-01", "skipped"),
    ]
    await world.advance_to(datetime(2027, 3, 10, tzinfo=UTC))
    sponsor = world.person("late sponsor")
    rec = await world.slash(world.owner, "community sponsor", community="Quiet Group",
                            member=sponsor)  # fmt: skip
    assert "now the sponsor" in rec.content
    # The listener re-arming the community runs as its own task, once the command is done.
    assert world.bot is not None
    cid = (await world.community_row("Quiet Group")).id
    for _ in range(300):
        when = world.bot.scheduler.next_run(job_id(cid))
        if when is not None and when <= world.clock.now():
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the new sponsor did not re-arm the value report at once")
    await world.advance(timedelta(seconds=1))
    dms = value_dms(world, sponsor)
    assert len(dms) == 1 and "February 2027" in embed_words(dms[0])  # only the latest
    await world.restart()
    await world.advance(timedelta(hours=2))
    assert len(value_dms(world, sponsor)) == 1
    assert [w[2] for w in await windows(world)] == ["skipped", "sent"]
    await world.advance_to(datetime(2027, 4, 1, 8, tzinfo=UTC))
    assert len(value_dms(world, sponsor)) == 2  # March, as usual


async def test_without_the_listener_the_hourly_sweep_sends_it(world: HearthWorld) -> None:
    """A sponsor set while the re-arming listener could not run (another process, say):
    the hourly sweep finds the skipped report, and it goes once."""
    await world.create_community("Quiet Group", "practice")
    await world.advance_to(datetime(2027, 4, 1, 8, tzinfo=UTC))
    assert await windows(world) == [("2027-01-01", "2027-03-31", "skipped")]
    assert world.db is not None
    sponsor = world.person("late sponsor")
    comm = await world.community_row("Quiet Group")
    await world.db.execute(
        "UPDATE communities SET sponsor_id = :sponsor WHERE id = :id",
        {"sponsor": sponsor.id, "id": comm.id},
    )
    await world.advance(timedelta(minutes=61))
    await world.advance(timedelta(seconds=1))
    assert len(value_dms(world, sponsor)) == 1
    await world.advance(timedelta(hours=3))
    assert len(value_dms(world, sponsor)) == 1


async def test_only_facilitators_and_known_communities(world: HearthWorld) -> None:
    await with_sponsor(world)
    alice = world.person("alice")
    rec = await world.slash(alice, "value schedule", community=COMMUNITY, cadence="off")
    assert rec.ephemeral and "facilitat" in rec.content.lower(), rec.content
    rec = await world.slash(world.owner, "value schedule", community="Nowhere", cadence="off")
    assert rec.ephemeral and "Nowhere" in rec.content, rec.content
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM value_report_schedules") == 0
    assert START  # the world starts on 11 January 2027
