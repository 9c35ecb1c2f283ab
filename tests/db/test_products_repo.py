"""ProductRepo and ProductService.record_origin on a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.db import migrations
from bot.db.communities import CommunityRepo
from bot.db.database import Database
from bot.domain.products import ProductKind, ProductStatus
from bot.services.products import ProductService
from tests.db.test_polls_repo import community

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "p.db") as database:
        await migrations.upgrade(database)
        yield database


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
