"""The e2e world fixture. A module marked ``pytest.mark.both_engines`` (the core flows) runs
every test that uses ``world`` (or asks for ``engine``) on SQLite and on PostgreSQL;
the others run on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.engines import ENGINES


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_engines: run this e2e module on SQLite and on PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_engines"
    ):
        metafunc.parametrize("engine", ENGINES)


@pytest.fixture
def engine() -> str:
    return "sqlite"


@pytest.fixture
async def world(tmp_path: Path, engine: str) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path, engine=engine) as w:
        yield w
