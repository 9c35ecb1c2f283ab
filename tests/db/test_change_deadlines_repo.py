"""ChangeDeadlinesRepo on each engine: a step closed early exactly once (racing closes, a
deadline already passed, the wrong step), and who has chosen (to remind only the others)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.db.change_deadlines import ChangeDeadlinesRepo
from bot.db.change_rounds import ChangeRoundRepo
from bot.db.database import Database
from bot.domain.change import ChangeRound, Choice
from bot.domain.stories.consent import Consent
from tests.db.test_privacy_repo import community

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)


async def a_round(db: Database) -> ChangeRound:
    cid = await community(db, "Carers")
    rnd = await ChangeRoundRepo(db).create_round(
        community_id=cid, selector_id=cid, opened_by=1, domains=("my own practice",),
        period=(NOW - timedelta(days=180), NOW), collect_until=NOW + timedelta(days=3),
        select_until=NOW + timedelta(days=6), min_choices=1, now=NOW,
    )  # fmt: skip
    assert rnd is not None
    return rnd


async def test_collection_ends_early_once(db: Database) -> None:
    rnd = await a_round(db)
    repo = ChangeDeadlinesRepo(db)
    assert await repo.end_selection_now(rnd.id, NOW) is False  # not selecting yet
    results = await asyncio.gather(*(repo.end_collection_now(rnd.id, NOW) for _ in range(4)))
    assert results.count(True) == 1
    got = await ChangeRoundRepo(db).get_round(rnd.id)
    assert got is not None and got.collect_until == NOW
    assert await repo.end_collection_now(rnd.id, NOW + timedelta(hours=1)) is False  # passed


async def test_selection_ends_early_once_and_choosers(db: Database) -> None:
    rnd = await a_round(db)
    rounds, repo = ChangeRoundRepo(db), ChangeDeadlinesRepo(db)
    story = await rounds.add_story(
        rnd, domain=0, teller_id=7, title="T", changed="Changed.", why="Why.",
        consent=Consent.GROUP, now=NOW, max_per_domain=50,
    )  # fmt: skip
    assert story is not None
    assert await rounds.open_selection(rnd.id, NOW + timedelta(days=1))
    selecting = await rounds.get_round(rnd.id)
    assert selecting is not None
    assert await repo.choosers(rnd.id) == set()
    await rounds.choose(selecting, Choice(0, 8, story.id, "Because."), NOW + timedelta(days=1))
    assert await repo.choosers(rnd.id) == {8}
    assert await repo.end_collection_now(rnd.id, NOW + timedelta(days=2)) is False
    results = await asyncio.gather(
        *(repo.end_selection_now(rnd.id, NOW + timedelta(days=2)) for _ in range(3))
    )
    assert results.count(True) == 1
