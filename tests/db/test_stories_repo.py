"""StoryRepo against a real database (each engine, every migration applied)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.db.communities import CommunityRepo, NewCommunity
from bot.db.database import INTEGRITY_ERRORS, Database
from bot.db.stories import StoryRepo
from bot.domain.communities import Discipline, Kind
from bot.domain.stories import Cadence, Consent, PromptSchedule, StoryPost
from bot.services.story_offers import shareable_stories_for_digest

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


async def _community(db: Database, name: str = "Carers Voice") -> int:
    slug = name.lower().replace(" ", "-")
    comm = await CommunityRepo(db).create(
        NewCommunity(
            guild_id=1, name=name, slug=slug, kind=Kind.PRACTICE, timezone="Europe/London",
            created_by=10, created_at=NOW, category_id=None, lounge_id=None, stories_id=None,
            stories_is_forum=False, voice_id=None, meetings_id=None, member_role_id=None,
            facilitator_role_id=None, sponsor_id=None, circles=[], stage_tags=[],
        ),
        facilitator_discipline=Discipline.OTHER,
    )
    return comm.id


async def _add(repo: StoryRepo, cid: int, title: str, consent: Consent = Consent.GROUP,
               when: datetime = NOW, teller: int = 11, **kw: object) -> int:
    story = await repo.add(
        community_id=cid, teller_id=teller, title=title, text=f"{title} text",
        stage="treatment", stage_label="Treatment", consent=consent, now=when, **kw,  # type: ignore[arg-type]
    )
    return story.id


async def test_add_get_post_and_withdraw_to_a_tombstone(db: Database) -> None:
    repo = StoryRepo(db)
    cid = await _community(db)
    sid = await _add(repo, cid, "First", source=(5, 6), captured_by=10, consent_request="inline")
    await repo.set_post(sid, StoryPost(7, 7, True))
    story = await repo.get(sid)
    assert story is not None
    assert story.post == StoryPost(7, 7, True) and story.consent_pending
    assert story.captured_by == 10 and story.stage_label == "Treatment"
    assert (await repo.by_source_message(6)) == story

    await repo.set_consent_request(sid, "dm")
    assert [s.id for s in await repo.pending_consent(11, "dm")] == [sid]
    answered = await repo.set_consent(sid, Consent.NAMED)
    assert answered is not None and not answered.consent_pending
    assert answered.consent is Consent.NAMED

    tomb = await repo.withdraw(sid, NOW + timedelta(days=1))
    assert tomb is not None and tomb.is_tombstone
    assert (tomb.id, tomb.community_id, tomb.created_at) == (sid, cid, NOW)
    assert tomb.withdrawn_at == NOW + timedelta(days=1)
    assert tomb.title is tomb.text is tomb.teller_id is tomb.stage is tomb.post is None
    assert await repo.by_source_message(6) is None
    # Nothing can bring it back.
    assert (await repo.set_consent(sid, Consent.GROUP)).is_tombstone  # type: ignore[union-attr]


async def test_schema_refuses_a_half_withdrawn_row(db: Database) -> None:
    cid = await _community(db)
    with pytest.raises(INTEGRITY_ERRORS):
        await db.execute(
            "INSERT INTO stories (community_id, teller_id, title, text, consent, created_at,"
            " withdrawn_at) VALUES (:cid, 1, 't', 'x', 'withdrawn', :now, :now)",
            {"cid": cid, "now": NOW.isoformat()},
        )


async def test_list_visible_pages_newest_first_without_withdrawn(db: Database) -> None:
    repo = StoryRepo(db)
    cid = await _community(db)
    other = await _community(db, "Other Group")
    ids = [await _add(repo, cid, f"S{i}", when=NOW + timedelta(minutes=i)) for i in range(7)]
    await _add(repo, other, "Elsewhere")
    await repo.withdraw(ids[3], NOW)
    page, total = await repo.list_visible(cid, offset=0, limit=5)
    assert total == 6
    assert [s.title for s in page] == ["S6", "S5", "S4", "S2", "S1"]
    page2, _ = await repo.list_visible(cid, offset=5, limit=5)
    assert [s.title for s in page2] == ["S0"]
    none, zero = await repo.list_visible(cid, stage="bereavement")
    assert none == [] and zero == 0
    found = await repo.of_teller_in_guild(11, 1, "S5")
    assert [s.title for s in found] == ["S5"]


async def test_prompt_claims_are_unique_per_due_time(db: Database) -> None:
    repo = StoryRepo(db)
    cid = await _community(db)
    plan = PromptSchedule(cid, Cadence.WEEKLY, 2, time(10, 0), date(2027, 3, 1), NOW)
    await repo.set_schedule(plan)
    due = NOW + timedelta(days=2)
    first = await repo.claim_prompt(cid, "Prompt A", due, due)
    assert first is not None
    assert await repo.claim_prompt(cid, "Prompt B", due, due) is None
    assert (await repo.schedule(cid)).last_due_at == due  # type: ignore[union-attr]
    # Manual prompts (no due time) are never blocked.
    assert await repo.claim_prompt(cid, "Prompt C", None, due) is not None
    assert await repo.claim_prompt(cid, "Prompt D", None, due) is not None
    await repo.release_prompt(first)
    assert await repo.prompt_history(cid) == ["Prompt C", "Prompt D"]
    assert [s.community_id for s in await repo.active_schedules()] == [cid]
    await repo.set_schedule(PromptSchedule(cid, Cadence.OFF, 2, time(10, 0), date(2027, 3, 1),
                                           NOW))
    assert await repo.active_schedules() == []


async def test_digest_stories_are_consent_filtered_redacted_and_bounded(db: Database) -> None:
    repo = StoryRepo(db)
    cid = await _community(db)
    start, end = NOW, NOW + timedelta(days=7)
    await _add(repo, cid, "Before", Consent.NAMED, when=start - timedelta(seconds=1))
    await _add(repo, cid, "Group one", Consent.GROUP, when=start)
    await _add(repo, cid, "Anon", Consent.ANONYMOUS, when=start + timedelta(days=1))
    named = await repo.add(
        community_id=cid, teller_id=12, title="Named", text="Ring 020 7946 0958 please",
        stage=None, stage_label=None, consent=Consent.NAMED, now=start + timedelta(days=2),
    )
    gone = await _add(repo, cid, "Gone", Consent.NAMED, when=start + timedelta(days=3))
    await repo.withdraw(gone, end)
    await _add(repo, cid, "At end", Consent.NAMED, when=end)

    asked: list[int] = []

    async def display_name(uid: int) -> str | None:
        asked.append(uid)
        return {12: "Bea"}.get(uid)

    shared, kept = await shareable_stories_for_digest(db, cid, start, end, display_name)
    assert kept == 1
    assert [(s.title, s.credit) for s in shared] == [("Anon", None), ("Named", "Bea")]
    assert shared[1].text == "Ring [redacted] please"
    assert shared[1].stage_label == "Stage not given"
    assert asked == [named.teller_id]  # never looked up for anonymous or group tellers


async def test_stories_go_with_their_community(db: Database) -> None:
    repo = StoryRepo(db)
    cid = await _community(db)
    await _add(repo, cid, "One")
    await db.execute("DELETE FROM communities WHERE id = :id", {"id": cid})
    assert await db.fetchval("SELECT COUNT(*) FROM stories") == 0
