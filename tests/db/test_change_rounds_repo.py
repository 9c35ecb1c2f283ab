"""ChangeRoundRepo on a real database (each engine): one open round per community, stories and the
domain cap, changeable choices, the close frozen exactly once, withdrawal, and privacy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.db.change_rounds import ChangeRoundRepo, DomainFull, erase_rows, export_rows
from bot.db.database import Database
from bot.db.privacy import PrivacyRepo
from bot.domain.change import ChangeRound, ChangeStory, Choice, RoundState, tally
from bot.domain.stories.consent import Consent
from tests.db.test_privacy_repo import community

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
TELLER, SELECTOR, OTHER = 555_000_000_000_000_011, 555_000_000_000_000_012, 5_550_000_013


async def a_round(repo: ChangeRoundRepo, cid: int) -> ChangeRound:
    rnd = await repo.create_round(
        community_id=cid, selector_id=cid, opened_by=OTHER, domains=("Care", "Practice"),
        period=(T0 - timedelta(days=180), T0), collect_until=T0 + timedelta(days=14),
        select_until=T0 + timedelta(days=21), min_choices=1, now=T0,
    )  # fmt: skip
    assert rnd is not None
    return rnd


async def tell(repo: ChangeRoundRepo, rnd: ChangeRound, teller: int, consent: Consent,
               cap: int = 25) -> ChangeStory:  # fmt: skip
    story = await repo.add_story(
        rnd, domain=0, teller_id=teller, title="T", changed="We talk.", why="It helps.",
        consent=consent, now=T0, max_per_domain=cap,
    )  # fmt: skip
    assert story is not None
    return story


def decide(rnd: ChangeRound, stories: list[ChangeStory], choices: list[Choice]) -> object:
    ids: dict[int, list[int]] = {}
    for s in stories:
        ids.setdefault(s.domain, []).append(s.id)
    return tally(rnd.domains, ids, choices, rnd.min_choices)


async def test_a_round_from_collection_to_frozen_close(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = ChangeRoundRepo(db)
    rnd = await a_round(repo, cid)
    assert await repo.create_round(
        community_id=cid, selector_id=cid, opened_by=OTHER, domains=("A",), period=(T0, T0),
        collect_until=T0, select_until=T0, min_choices=1, now=T0,
    ) is None  # fmt: skip
    story = await tell(repo, rnd, TELLER, Consent.ANONYMOUS)
    with pytest.raises(DomainFull):
        await tell(repo, rnd, TELLER, Consent.GROUP, cap=1)
    # no choices while collecting; stories only while collecting
    assert await repo.choose(rnd, Choice(0, SELECTOR, story.id, "r"), T0) == (False, False)
    assert await repo.open_selection(rnd.id, T0) and not await repo.open_selection(rnd.id, T0)
    assert await repo.add_story(rnd, domain=0, teller_id=OTHER, title="x", changed="x",
                                why="x", consent=Consent.GROUP, now=T0,
                                max_per_domain=25) is None  # fmt: skip
    assert await repo.choose(rnd, Choice(0, SELECTOR, story.id, "first"), T0) == (True, False)
    assert await repo.choose(rnd, Choice(0, SELECTOR, story.id, "second"), T0) == (True, True)
    assert await repo.selector_count(rnd.id) == 1
    closed = await repo.close_round(rnd.id, T0, decide)  # type: ignore[arg-type]
    assert closed is not None and closed.state is RoundState.CLOSED
    assert closed.outcome is not None and closed.outcome.domains[0].reasons == {
        story.id: ("second",)
    }
    assert await repo.close_round(rnd.id, T0, decide) is None  # type: ignore[arg-type]
    # withdrawal leaves a tombstone; the frozen outcome still names the story id only
    await repo.set_consent(story.id, Consent.WITHDRAWN, T0)
    gone = await repo.get_story(story.id)
    assert gone is not None and gone.is_tombstone
    assert (gone.teller_id, gone.title, gone.changed, gone.why) == (None, None, None, None)
    await repo.set_consent(story.id, Consent.NAMED, T0)  # a tombstone stays one
    assert (await repo.get_story(story.id)).consent is Consent.WITHDRAWN  # type: ignore[union-attr]


async def test_export_and_erasure(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = ChangeRoundRepo(db)
    rnd = await a_round(repo, cid)
    story = await tell(repo, rnd, TELLER, Consent.NAMED)
    await repo.open_selection(rnd.id, T0)
    await repo.choose(rnd, Choice(0, SELECTOR, story.id, "Because it matters."), T0)
    mine = await export_rows(db, TELLER)
    assert [r["kind"] for r in mine] == ["story of change you told"]
    assert mine[0]["what_changed"] == "We talk." and mine[0]["domain"] == "Care"
    chosen = await export_rows(db, SELECTOR)
    assert chosen[0]["reason"] == "Because it matters."
    async with db.transaction() as conn:
        counts = await erase_rows(conn, SELECTOR)
    assert counts["change_choices_deleted"] == 1
    # the whole privacy erasure covers the teller
    await PrivacyRepo(db).erase(TELLER)
    gone = await repo.get_story(story.id)
    assert gone is not None and gone.is_tombstone and gone.teller_id is None
    assert await export_rows(db, TELLER) == []
    dump = [tuple(r) for t in ("change_rounds", "change_stories", "change_choices")
            for r in await db.fetchall(f"SELECT * FROM {t}")]  # fmt: skip
    assert not any(TELLER in row or SELECTOR in row for row in dump)
