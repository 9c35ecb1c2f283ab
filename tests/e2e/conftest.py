"""The e2e world fixture. The core flows (:data:`CORE_FLOWS`, and any module marked
``pytest.mark.both_engines``) run every test that uses ``world`` (or asks for ``engine``) on
SQLite and on PostgreSQL; the others run on SQLite (their subject is not the engine: the
emulator, wording, permissions, or SQLite's own files)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.engines import DEFAULT_ENGINE, ENGINES, pop_engine, push_engine


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_engines: run this e2e module on SQLite and on PostgreSQL"
    )
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): in a core-flow module, a test about SQLite's own files",
    )


#: What a community does from start to finish, one module per capability.
CORE_FLOWS = frozenset({
    "test_smoke",
    "test_communities",
    "test_stories",
    "test_polls",
    "test_statements",
    "test_meetings",
    "test_digest",
    "test_privacy",
    "test_value_stories",
    "test_change_rounds",
    "test_documents",
    "test_papers",
    "test_products",
})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if (
        "engine" in metafunc.fixturenames
        and (module in CORE_FLOWS or metafunc.definition.get_closest_marker("both_engines"))
        and not metafunc.definition.get_closest_marker("sqlite_only")
    ):
        metafunc.parametrize("engine", ENGINES)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    if request.node.get_closest_marker("sqlite_only"):
        return "sqlite"
    return DEFAULT_ENGINE


@pytest.fixture(autouse=True)
def _world_engine(engine: str) -> Iterator[None]:
    """Every world a test opens (this module's ``world``, a module's own fixture, or
    ``hearth_world`` called in the test) is on the test's engine."""
    push_engine(engine)
    try:
        yield
    finally:
        pop_engine()


@pytest.fixture
async def world(tmp_path: Path, engine: str) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path, engine=engine) as w:
        yield w
