"""Repository tests run on every engine: ``db`` is a migrated database on SQLite and, when
``HEARTH_TEST_POSTGRES`` names a server, on PostgreSQL too (see tests/engines.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.engines import ENGINES, open_test_database


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def db(engine: str, tmp_path: Path) -> AsyncIterator[Any]:
    async with open_test_database(engine, tmp_path) as database:
        yield database
