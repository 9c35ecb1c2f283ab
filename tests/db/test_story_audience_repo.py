"""StoryRepo and the digest's story selection for stories confined to a circle (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.db.communities import CommunityRepo, NewCommunity
from bot.db.database import Database
from bot.db.stories import StoryRepo
from bot.domain.communities import Discipline, Kind
from bot.domain.stories import Consent
from bot.services.story_offers import shareable_stories_for_digest

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
GP_CIRCLE, NURSE_CIRCLE = 501, 502


async def _community(db: Database) -> int:
    comm = await CommunityRepo(db).create(
        NewCommunity(
            guild_id=1, name="Carers Voice", slug="carers-voice", kind=Kind.PRACTICE,
            timezone="Europe/London", created_by=10, created_at=NOW, category_id=None,
            lounge_id=None, stories_id=None, stories_is_forum=False, voice_id=None,
            meetings_id=None, member_role_id=None, facilitator_role_id=None, sponsor_id=None,
            circles=[(Discipline.GP, GP_CIRCLE), (Discipline.NURSE, NURSE_CIRCLE)],
            stage_tags=[],
        ),
        facilitator_discipline=Discipline.OTHER,
    )
    return comm.id


async def _add(repo: StoryRepo, cid: int, title: str, *, teller: int = 11,
               consent: Consent = Consent.GROUP, audience: int | None = None) -> int:
    story = await repo.add(
        community_id=cid, teller_id=teller, title=title, text=f"{title} text", stage=None,
        stage_label=None, consent=consent, now=NOW, audience_channel_id=audience,
    )
    return story.id


async def test_confined_stories_are_listed_to_their_readers_and_teller_only(
    db: Database,
) -> None:
    repo = StoryRepo(db)
    cid = await _community(db)
    await _add(repo, cid, "Open")
    await _add(repo, cid, "GP only", teller=11, audience=GP_CIRCLE)
    await _add(repo, cid, "Nurse only", teller=12, audience=NURSE_CIRCLE)
    assert sorted(await repo.restricted_audiences(cid)) == [GP_CIRCLE, NURSE_CIRCLE]

    async def titles(**kw: object) -> list[str]:
        page, total = await repo.list_visible(cid, limit=10, **kw)  # type: ignore[arg-type]
        assert total == len(page)
        return sorted(s.title or "" for s in page)

    assert await titles() == ["Open"]  # by default nothing confined is listed
    assert await titles(viewer_id=99, audiences=[GP_CIRCLE]) == ["GP only", "Open"]
    assert await titles(viewer_id=12, audiences=[GP_CIRCLE]) == ["GP only", "Nurse only", "Open"]
    assert await titles(viewer_id=99, audiences=[GP_CIRCLE, NURSE_CIRCLE]) == [
        "GP only", "Nurse only", "Open",
    ]


async def test_opening_is_claimed_once_undone_on_failure_and_withdrawal_clears_it(
    db: Database,
) -> None:
    repo = StoryRepo(db)
    cid = await _community(db)
    sid = await _add(repo, cid, "GP only", audience=GP_CIRCLE)
    assert await repo.claim_widening(sid, Consent.ANONYMOUS)
    assert not await repo.claim_widening(sid, Consent.NAMED)  # a second answer loses
    opened = await repo.get(sid)
    assert opened is not None and not opened.is_restricted
    assert opened.consent is Consent.ANONYMOUS
    await repo.restrict(sid, GP_CIRCLE, Consent.GROUP)  # the post failed
    back = await repo.get(sid)
    assert back is not None and back.audience_channel_id == GP_CIRCLE
    assert back.consent is Consent.GROUP
    tomb = await repo.withdraw(sid, NOW)
    assert tomb is not None and tomb.audience_channel_id is None
    assert await repo.restricted_audiences(cid) == []


async def test_digest_neither_shares_nor_counts_a_confined_story(db: Database) -> None:
    repo = StoryRepo(db)
    cid = await _community(db)
    await _add(repo, cid, "Open named", consent=Consent.NAMED)
    await _add(repo, cid, "Open group")
    for consent in (Consent.GROUP, Consent.ANONYMOUS, Consent.NAMED):
        await _add(repo, cid, f"Confined {consent.value}", consent=consent, audience=GP_CIRCLE)
    asked: list[int] = []

    async def name(user_id: int) -> str | None:
        asked.append(user_id)
        return "Gina"

    shared, kept = await shareable_stories_for_digest(
        db, cid, NOW - timedelta(days=1), NOW + timedelta(days=1), name
    )
    assert [s.title for s in shared] == ["Open named"]
    assert kept == 1  # only the community's own group story
    assert "Confined" not in repr(shared)
    assert asked == [11]  # looked up once, for the open named story only
