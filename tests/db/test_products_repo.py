"""ProductRepo and ProductService.record_origin on every engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FakeClock
from bot.db.change_rounds import ChangeRoundRepo
from bot.db.communities import CommunityRepo
from bot.db.database import Database
from bot.db.privacy import PrivacyRepo
from bot.domain.change import DomainOutcome, DomainResult, RoundOutcome
from bot.domain.products import GROUP_STORY, Audience, ProductKind, ProductStatus
from bot.domain.stories.consent import Consent
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.products import ProductService
from tests.db.test_polls_repo import community

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)


def service(db: Database) -> ProductService:
    return ProductService(db, CommunityRepo(db), FakeClock(T0))


async def test_record_origin_is_idempotent(db: Database) -> None:
    cid = await community(db)
    svc = service(db)
    first = await svc.record_origin(
        cid, "Our principles", "document", "document", 7, created_by=100, at=T0
    )
    again = await svc.record_origin(
        cid, "Another title", ProductKind.OTHER, "document", 7, created_by=5, at=T0
    )
    assert again == first
    assert first.status is ProductStatus.DRAFTING
    paper = await svc.record_origin(
        cid, "Draft paper", "policy input", "paper", 7, created_by=None, at=T0
    )
    assert paper.id != first.id and paper.kind is ProductKind.POLICY_INPUT
    count = await db.fetchval("SELECT count(*) FROM products")
    assert count == 2


async def _story(db: Database, cid: int, teller: int, title: str, consent: str) -> int:
    async with db.transaction() as conn:
        cur = await conn.execute(
            "INSERT INTO stories (community_id, teller_id, title, text, consent, created_at)"
            " VALUES (:c, :teller, :title, :text, :consent, :at) RETURNING id",
            {
                "c": cid,
                "teller": teller,
                "title": title,
                "text": f"{title} text",
                "consent": consent,
                "at": T0.isoformat(),
            },
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_timeline_sources_and_the_value_report_view(db: Database) -> None:
    cid = await community(db)
    other = await community(db, "Other")
    svc = service(db)
    community_row = await CommunityRepo(db).get(cid)
    assert community_row is not None
    product = await svc.add(community_row, 100, "Ten stages", "document")
    group = await _story(db, cid, 1, "GROUPTITLE", "group")
    anon = await _story(db, cid, 2, "Anon title", "anonymous")
    foreign = await _story(db, other, 3, "Elsewhere", "named")
    await svc.link(product, f"story:{group}", 100)
    await svc.link(product, f"story:{anon}", 100)
    with pytest.raises(NotAllowed):
        await svc.link(product, f"story:{foreign}", 100)
    with pytest.raises(Conflict):
        await svc.link(product, f"story:{group}", 100)
    with pytest.raises(NotFound):
        await svc.link(product, "poll:42", 100)
    svc.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    await svc.set_status(product, "published", "On the website", 100)
    await svc.record_use(product, "training", "Leeds day", "Call 07700 900123", 1)

    choices = await svc.source_choices(product, "")
    assert {c.label for c in choices} == {"Story: GROUPTITLE", "Story: Anon title"}

    inside = await svc.show(product, Audience.INSIDE)
    assert [s.text for s in inside.sources] == ["GROUPTITLE", "Anon title"]
    assert [e.kind for e in inside.timeline] == ["created", "status", "use"]
    outside = await svc.show(product, Audience.OUTSIDE)
    assert [s.text for s in outside.sources] == [GROUP_STORY, "Anon title"]
    assert all(e.actor_id is None for e in outside.timeline)

    report = await svc.activity_between(cid, T0, T0 + timedelta(days=7))
    assert len(report) == 1 and report[0].created_in_period
    assert [e.status for e in report[0].status_changes] == [ProductStatus.PUBLISHED]
    assert "07700" not in (report[0].uses[0].note or "")  # redacted on the way out
    assert "GROUPTITLE" not in repr(report)
    later = await svc.activity_between(cid, T0 + timedelta(days=7), T0 + timedelta(days=14))
    assert later == []


async def test_privacy_export_and_erase(db: Database) -> None:
    cid = await community(db)
    svc = service(db)
    community_row = await CommunityRepo(db).get(cid)
    assert community_row is not None
    product = await svc.add(community_row, 5, "Principles", "guideline")
    await svc.set_status(product, "published", "Launched", 5)
    await svc.record_use(product, "meeting", "Board", "my own words", 5)
    await svc.record_use(product, "meeting", "Forum", "someone else's words", 6)
    exported = (await PrivacyRepo(db).export_data(5)).products
    assert {str(r["kind"]) for r in exported} == {
        "product you added", "status you recorded", "use you recorded"
    }  # fmt: skip
    await PrivacyRepo(db).erase(5)
    assert await db.fetchval("SELECT created_by FROM products") is None
    rows = await db.fetchall("SELECT kind, note, recorded_by FROM product_events ORDER BY id")
    assert [tuple(r) for r in rows] == [
        ("status", "Launched", None), ("use", None, None), ("use", "someone else's words", 6)
    ]  # fmt: skip


async def test_significant_change_selections_are_sources(db: Database) -> None:
    """A story of change selected in a closed round can be linked; one not selected cannot;
    outside, a selection kept in the group is only described."""
    cid = await community(db)
    repo = ChangeRoundRepo(db)
    rnd = await repo.create_round(
        community_id=cid, selector_id=cid, opened_by=100, domains=("Care",),
        period=(T0 - timedelta(days=90), T0), collect_until=T0 + timedelta(days=7),
        select_until=T0 + timedelta(days=14), min_choices=1, now=T0,
    )  # fmt: skip
    assert rnd is not None
    stories = [
        await repo.add_story(rnd, domain=0, teller_id=t, title=title, changed="It changed.",
                             why="Because.", consent=consent, now=T0, max_per_domain=10)
        for t, title, consent in ((1, "KEPTCHANGE", Consent.GROUP),
                                  (2, "Back at work", Consent.ANONYMOUS),
                                  (3, "NOTCHOSEN", Consent.ANONYMOUS))
    ]  # fmt: skip
    kept, shared, unchosen = (s.id for s in stories if s is not None)
    assert await repo.open_selection(rnd.id, T0 + timedelta(days=8))

    def decide(*_: object) -> RoundOutcome:
        return RoundOutcome(
            (DomainOutcome(0, "Care", DomainResult.TIED, 2, 3, selected=(kept, shared)),), 2
        )

    assert await repo.close_round(rnd.id, T0 + timedelta(days=15), decide) is not None
    svc = service(db)
    community_row = await CommunityRepo(db).get(cid)
    assert community_row is not None
    product = await svc.add(community_row, 100, "Return-to-work guide", "guideline")
    labels = {c.label for c in await svc.source_choices(product, "")}
    assert labels == {"Significant change: KEPTCHANGE", "Significant change: Back at work"}
    await svc.link(product, f"change_selection:{kept}", 100)
    await svc.link(product, f"change_selection:{shared}", 100)
    with pytest.raises(InvalidInput):
        await svc.link(product, f"change_selection:{unchosen}", 100)
    outside = await svc.show(product, Audience.OUTSIDE)
    assert [s.text for s in outside.sources] == [GROUP_STORY, "Back at work"]
    inside = await svc.show(product, Audience.INSIDE)
    assert [s.text for s in inside.sources] == ["KEPTCHANGE", "Back at work"]
