from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        yield w
