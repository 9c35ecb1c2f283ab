"""CommunityRepo against a migrated database on every engine (the shared ``db`` fixture)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.db.communities import CommunityRepo, NewCommunity
from bot.db.database import INTEGRITY_ERRORS, Database
from bot.domain.communities import Discipline, Kind
from bot.errors import DuplicateCommunity

GUILD = 100
NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
def repo(db: Database) -> CommunityRepo:
    return CommunityRepo(db)


_next_id = iter(range(1000, 10**6, 10))


def new(name: str = "Carers Voice", **kw: object) -> NewCommunity:
    base = next(_next_id)
    spec = NewCommunity(
        guild_id=GUILD, name=name, slug=name.lower().replace(" ", "-"), kind=Kind.PRACTICE,
        timezone="Europe/London", created_by=7, created_at=NOW, category_id=base,
        lounge_id=base + 1, stories_id=base + 2, stories_is_forum=True, voice_id=base + 3,
        meetings_id=base + 4, member_role_id=base + 5, facilitator_role_id=base + 6,
        sponsor_id=None, circles=[(Discipline.GP, base + 7)],
        stage_tags=[("diagnosis", base + 8), ("treatment", base + 9)],
    )
    return replace(spec, **kw)  # type: ignore[arg-type]


async def test_create_stores_everything_and_reads_back(
    repo: CommunityRepo, db: Database
) -> None:
    spec = new()
    comm = await repo.create(spec, facilitator_discipline=Discipline.OTHER)
    assert comm.name == "Carers Voice" and comm.kind is Kind.PRACTICE
    assert comm.created_at == NOW and comm.created_at.tzinfo is not None
    assert comm.stories_is_forum and not comm.archived
    assert await repo.get(comm.id) == comm
    assert await repo.by_name(GUILD, "  CARERS voice ") == comm
    assert await repo.by_name(GUILD + 1, "Carers Voice") is None
    assert await repo.slug_taken(GUILD, "carers-voice")
    assert not await repo.slug_taken(GUILD + 1, "carers-voice")
    chans = await repo.channels(comm.id)
    assert [(p, d) for _, p, d in chans] == [
        ("lounge", None), ("stories", None), ("voice", None), ("meetings", None),
        ("circle", "gp"),
    ]
    assert await repo.for_channel(spec.voice_id or 0) == comm
    assert await repo.for_channel(424242) is None
    assert await repo.circle_channel(comm.id, Discipline.GP) == spec.circles[0][1]
    assert await repo.circle_channel(comm.id, Discipline.NURSE) is None
    assert await repo.stage_tags(comm.id) == dict(spec.stage_tags)
    [fac] = await repo.members(comm.id)
    assert (fac.user_id, fac.is_facilitator, fac.discipline) == (7, True, Discipline.OTHER)
    # Stored instants are ISO UTC text.
    raw = await db.fetchval(
        "SELECT created_at FROM communities WHERE id = :id", {"id": comm.id}
    )
    assert raw.startswith("2027-01-11T09:00:00") and raw.endswith("+00:00")


async def test_create_is_atomic(repo: CommunityRepo, db: Database) -> None:
    first = await repo.create(new("First"), facilitator_discipline=Discipline.OTHER)
    clash = new("Second", lounge_id=first.lounge_id)  # channel id already used: fails late
    with pytest.raises(INTEGRITY_ERRORS):
        await repo.create(clash, facilitator_discipline=Discipline.OTHER)
    assert await repo.by_name(GUILD, "Second") is None
    assert await db.fetchval("SELECT COUNT(*) FROM communities") == 1
    assert await db.fetchval("SELECT COUNT(*) FROM memberships") == 1
    assert await db.fetchval("SELECT COUNT(*) FROM community_channels") == 5
    assert await db.fetchval("SELECT COUNT(*) FROM story_stage_tags") == 2


async def test_names_and_slugs_are_unique_per_guild(repo: CommunityRepo) -> None:
    await repo.create(new("Carers Voice"), facilitator_discipline=Discipline.OTHER)
    # A typed domain error, not the storage engine's: no layer above storage knows SQLite.
    with pytest.raises(DuplicateCommunity):
        await repo.create(new("CARERS VOICE", slug="other"), Discipline.OTHER)
    with pytest.raises(DuplicateCommunity):
        await repo.create(new("Carers-Voice", slug="carers-voice"), Discipline.OTHER)
    other_guild = await repo.create(new("Carers Voice", guild_id=GUILD + 1), Discipline.OTHER)
    assert other_guild.guild_id == GUILD + 1


async def test_upsert_rejoin_and_mark_left(repo: CommunityRepo) -> None:
    comm = await repo.create(new(), facilitator_discipline=Discipline.OTHER)
    later = NOW + timedelta(days=3)
    await repo.upsert_member(comm.id, 5, Discipline.GP, "Leeds", NOW)
    m = await repo.membership(comm.id, 5)
    assert m is not None and m.active and not m.is_facilitator and m.region == "Leeds"

    # Re-adding while active: discipline/region updated, joined_at kept, flag kept.
    await repo.upsert_member(comm.id, 5, Discipline.NURSE, None, later, facilitator=True)
    await repo.upsert_member(comm.id, 5, Discipline.NURSE, "York", later)
    m = await repo.membership(comm.id, 5)
    assert m is not None
    assert (m.discipline, m.region, m.is_facilitator, m.joined_at) == (
        Discipline.NURSE, "York", True, NOW,
    )
    await repo.upsert_member(comm.id, 5, Discipline.NURSE, "York", later, facilitator=False)
    m = await repo.membership(comm.id, 5)
    assert m is not None and not m.is_facilitator

    # Leaving keeps the row, stamps left_at and drops the facilitator flag.
    await repo.upsert_member(comm.id, 5, Discipline.NURSE, "York", later, facilitator=True)
    await repo.mark_left(comm.id, 5, later)
    m = await repo.membership(comm.id, 5)
    assert m is not None and not m.active and m.left_at == later and not m.is_facilitator
    assert [x.user_id for x in await repo.members(comm.id)] == [7]
    assert {x.user_id for x in await repo.members(comm.id, active_only=False)} == {5, 7}
    assert await repo.member_count(comm.id) == 1

    # Rejoining: active again, with a new joined_at.
    rejoin = later + timedelta(days=1)
    await repo.upsert_member(comm.id, 5, Discipline.CARER, None, rejoin)
    m = await repo.membership(comm.id, 5)
    assert m is not None and m.active and m.joined_at == rejoin
    assert m.discipline is Discipline.CARER and not m.is_facilitator
    assert await repo.member_count(comm.id) == 2


async def test_cross_membership(repo: CommunityRepo) -> None:
    a = await repo.create(new("Alpha"), Discipline.OTHER)
    b = await repo.create(new("Beta"), Discipline.OTHER)
    await repo.upsert_member(a.id, 5, Discipline.GP, None, NOW)
    await repo.upsert_member(b.id, 5, Discipline.CARER, None, NOW)
    got = await repo.memberships_of(5)
    assert [(m.community_id, m.discipline) for m in got] == [
        (a.id, Discipline.GP), (b.id, Discipline.CARER),
    ]


async def test_sponsor_link_archive(repo: CommunityRepo, db: Database) -> None:
    voice = await repo.create(new("Voice"), Discipline.OTHER)
    core = await repo.create(new("Core", kind=Kind.DISTILLING), Discipline.OTHER)
    await repo.set_sponsor(voice.id, 9, "sam@example.org")
    await repo.set_serves(core.id, voice.id)
    got = await repo.get(voice.id)
    assert got is not None and (got.sponsor_id, got.sponsor_email) == (9, "sam@example.org")
    assert [c.id for c in await repo.served_by(voice.id)] == [core.id]
    with pytest.raises(INTEGRITY_ERRORS):
        await repo.set_serves(core.id, core.id)  # CHECK serves_id <> id

    await repo.archive(voice.id, NOW)
    await repo.archive(voice.id, NOW + timedelta(days=1))  # second archive changes nothing
    got = await repo.get(voice.id)
    assert got is not None and got.archived_at == NOW
    assert [c.name for c in await repo.all_active()] == ["Core"]
    assert [c.name for c in await repo.in_guild(GUILD)] == ["Core", "Voice"]
    assert [c.name for c in await repo.in_guild(GUILD, include_archived=False)] == ["Core"]

    # Deleting the served community clears the link; deleting a community cascades.
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM communities WHERE id = :id", {"id": voice.id})
    core_after = await repo.get(core.id)
    assert core_after is not None and core_after.serves_id is None
    assert await db.fetchval(
        "SELECT COUNT(*) FROM memberships WHERE community_id = :id", {"id": voice.id}
    ) == 0
    assert await db.fetchval(
        "SELECT COUNT(*) FROM community_channels WHERE community_id = :id", {"id": voice.id}
    ) == 0


async def test_search_escapes_like_wildcards(repo: CommunityRepo) -> None:
    for name in ("100% Carers", "1000 Carers", "Carers_Voice", "CarersXVoice", "Back\\slash"):
        await repo.create(new(name, slug=name.lower().replace(" ", "-")), Discipline.OTHER)
    names = lambda found: sorted(c.name for c in found)  # noqa: E731
    assert names(await repo.search(GUILD, "%")) == ["100% Carers"]
    assert names(await repo.search(GUILD, "0%")) == ["100% Carers"]
    assert names(await repo.search(GUILD, "_")) == ["Carers_Voice"]
    assert names(await repo.search(GUILD, "s_v")) == ["Carers_Voice"]
    assert names(await repo.search(GUILD, "\\")) == ["Back\\slash"]
    assert names(await repo.search(GUILD, "carers")) == [
        "100% Carers", "1000 Carers", "CarersXVoice", "Carers_Voice",
    ]
    assert await repo.search(GUILD + 1, "") == []
    assert len(await repo.search(GUILD, "", limit=2)) == 2


async def test_search_lists_archived_last(repo: CommunityRepo) -> None:
    a = await repo.create(new("Alpha"), Discipline.OTHER)
    await repo.create(new("Beta"), Discipline.OTHER)
    await repo.archive(a.id, NOW)
    assert [c.name for c in await repo.search(GUILD, "")] == ["Beta", "Alpha"]
