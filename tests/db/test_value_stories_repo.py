"""ValueStoryRepo on a real database (each engine): stories and tombstones, the period read, the
invitation claim that makes a post happen once, and the privacy export and erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.db.database import INTEGRITY_ERRORS, Database
from bot.db.privacy import PrivacyRepo
from bot.db.value_stories import ValueStoryRepo
from bot.domain.stories.consent import Consent, StoryPost
from bot.domain.value.invitations import InvitationCadence, InvitationSchedule
from bot.domain.value.stories import ValueStoryText
from tests.db.test_privacy_repo import community

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
ME = 555_000_000_000_000_001
OTHER = 555_000_000_000_000_002
TEXT = ValueStoryText("The Tuesday call.", "A contact.", "I rang her.", None, None)


async def test_add_post_consent_and_withdraw_leave_a_tombstone(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = ValueStoryRepo(db)
    story = await repo.add(community_id=cid, teller_id=ME, consent=Consent.GROUP, text=TEXT, now=T0)
    assert story.texts == {
        "immediate": "The Tuesday call.",
        "potential": "A contact.",
        "applied": "I rang her.",
    }
    await repo.set_post(story.id, StoryPost(7, 8, True))
    updated = await repo.set_consent(story.id, Consent.NAMED)
    assert updated is not None and updated.consent is Consent.NAMED
    assert updated.post == StoryPost(7, 8, True)
    with pytest.raises(ValueError):
        await repo.set_consent(story.id, Consent.WITHDRAWN)
    tomb = await repo.withdraw(story.id, T0 + timedelta(hours=1))
    assert tomb is not None and tomb.is_tombstone and tomb.text is None
    assert tomb.teller_id is None and tomb.post is None
    row = await db.fetchone("SELECT * FROM value_stories WHERE id = :id", {"id": story.id})
    assert row is not None
    assert [row[c] for c in ("immediate", "potential", "applied", "post_channel_id")] == [None] * 4
    assert await repo.of_teller_in_guild(ME, 1) == []


async def test_a_half_withdrawn_or_unanswered_row_is_impossible(db: Database) -> None:
    cid = await community(db, "Carers")
    with pytest.raises(INTEGRITY_ERRORS):
        await db.execute(
            "INSERT INTO value_stories (community_id, teller_id, consent, immediate, created_at)"
            " VALUES (:cid, :teller, :consent, :immediate, :at)",
            {"cid": cid, "teller": ME, "consent": "group", "immediate": "only one answer",
             "at": T0.isoformat()},
        )  # fmt: skip
    with pytest.raises(INTEGRITY_ERRORS):
        await db.execute(
            "INSERT INTO value_stories (community_id, consent, immediate, potential, created_at,"
            " withdrawn_at) VALUES (:cid, :consent, :immediate, :potential, :at, :at)",
            {"cid": cid, "consent": "withdrawn", "immediate": "words", "potential": "left",
             "at": T0.isoformat()},
        )  # fmt: skip


async def test_live_between_is_the_period_without_tombstones(db: Database) -> None:
    cid = await community(db, "Carers")
    other = await community(db, "Nurses")
    repo = ValueStoryRepo(db)
    a = await repo.add(community_id=cid, teller_id=ME, consent=Consent.GROUP, text=TEXT, now=T0)
    b = await repo.add(
        community_id=cid,
        teller_id=OTHER,
        consent=Consent.NAMED,
        text=TEXT,
        now=T0 + timedelta(days=1),
    )
    c = await repo.add(
        community_id=cid,
        teller_id=OTHER,
        consent=Consent.ANONYMOUS,
        text=TEXT,
        now=T0 + timedelta(days=2),
    )
    await repo.add(community_id=other, teller_id=ME, consent=Consent.GROUP, text=TEXT, now=T0)
    await repo.withdraw(c.id, T0 + timedelta(days=3))
    got = await repo.live_between(cid, T0, T0 + timedelta(days=5))
    assert [s.id for s in got] == [a.id, b.id]
    assert [
        s.id for s in await repo.live_between(cid, T0 + timedelta(hours=1), T0 + timedelta(days=1))
    ] == []  # end excluded


async def test_an_invitation_is_claimed_once_per_due_time(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = ValueStoryRepo(db)
    await repo.set_schedule(InvitationSchedule(cid, InvitationCadence.MONTHLY, T0))
    due = T0 + timedelta(days=22)
    first = await repo.claim_invitation(cid, due, due)
    assert first is not None
    assert await repo.claim_invitation(cid, due, due + timedelta(minutes=1)) is None
    schedule = await repo.schedule(cid)
    assert schedule is not None and schedule.last_due_at == due
    assert [i.id for i in await repo.unposted_invitations(due - timedelta(days=1))] == [first]
    await repo.invitation_posted(first, 11, 12)
    assert await repo.unposted_invitations(due - timedelta(days=1)) == []
    second = await repo.claim_invitation(cid, due + timedelta(days=28), due + timedelta(days=28))
    assert second is not None
    await repo.invitation_posted(second, 11, 13)
    assert [i.id for i in await repo.open_invitations(cid)] == [second, first]
    assert await repo.close_invitation(first, due) is True
    assert await repo.close_invitation(first, due) is False
    assert [i.id for i in await repo.open_invitations(cid)] == [second]
    await repo.set_schedule(InvitationSchedule(cid, InvitationCadence.OFF, T0))
    assert await repo.active_schedules() == []


async def test_privacy_export_and_erasure_cover_value_stories(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = ValueStoryRepo(db)
    mine = await repo.add(community_id=cid, teller_id=ME, consent=Consent.NAMED, text=TEXT, now=T0)
    await repo.set_post(mine.id, StoryPost(70, 71, False))
    theirs = await repo.add(
        community_id=cid, teller_id=OTHER, consent=Consent.GROUP, text=TEXT, now=T0
    )
    privacy = PrivacyRepo(db)
    data = await privacy.export_data(ME)
    assert [(s.id, s.potential, s.consent) for s in data.value_stories] == [
        (mine.id, "A contact.", "named")
    ]
    result = await privacy.erase(ME)
    assert result.counts["value_stories"] == 1
    assert [(p.channel_id, p.message_id) for p in result.story_posts] == [(70, 71)]
    assert await repo.get(mine.id) is None
    assert await repo.get(theirs.id) is not None
