"""The database engines a test can run on: SQLite always, PostgreSQL when a server is given.

``HEARTH_TEST_POSTGRES`` holds a server URL (``scripts/pg_throwaway.sh`` starts one and prints
it; ``.ci/run`` does so on every run, so in CI no PostgreSQL case is skipped). Each test gets a
schema of its own in that server, named after a random token and dropped afterwards, reached
through the URL's ``search_path``: a test sees an empty database, as a fresh SQLite file is,
and tests on several xdist workers never meet.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest

POSTGRES_URL: str | None = os.environ.get("HEARTH_TEST_POSTGRES") or None

#: The engine of every test that does not choose one (``HEARTH_TEST_ENGINE=postgresql`` runs
#: the whole suite's worlds and databases on PostgreSQL; tests about SQLite's own files say
#: so and keep SQLite).
DEFAULT_ENGINE: str = os.environ.get("HEARTH_TEST_ENGINE") or "sqlite"
if DEFAULT_ENGINE not in ("sqlite", "postgresql"):
    raise RuntimeError(f"HEARTH_TEST_ENGINE must be sqlite or postgresql, not {DEFAULT_ENGINE!r}")
if DEFAULT_ENGINE == "postgresql" and POSTGRES_URL is None:
    raise RuntimeError("HEARTH_TEST_ENGINE=postgresql needs HEARTH_TEST_POSTGRES (a server URL)")

SKIP_NO_POSTGRES = pytest.mark.skipif(
    POSTGRES_URL is None,
    reason="no PostgreSQL server: set HEARTH_TEST_POSTGRES (scripts/pg_throwaway.sh prints one)",
)

#: The engine of the e2e test now running (set by tests/e2e/conftest.py from its ``engine``
#: fixture), so a world a test or a module's own fixture opens follows the test's engine.
_current: list[str] = []


def current_engine() -> str:
    return _current[-1] if _current else DEFAULT_ENGINE


def push_engine(engine: str) -> None:
    _current.append(engine)


def pop_engine() -> None:
    _current.pop()


#: Parametrize a fixture or test over both engines.
ENGINES: list[Any] = ["sqlite", pytest.param("postgresql", marks=SKIP_NO_POSTGRES)]


def with_search_path(url: str, schema: str) -> str:
    """``url`` whose connections see ``schema`` only."""
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({"search_path": schema})) if q)
    return urlunsplit(parts._replace(query=query))


@asynccontextmanager
async def postgres_schema(url: str | None = None, prefix: str = "t_") -> AsyncIterator[str]:
    """A URL whose connections see only a new, empty schema of the server at ``url`` (the
    test server by default); the schema is dropped after. Benchmarks use it too."""
    import asyncpg

    server = url or POSTGRES_URL
    assert server is not None
    schema = prefix + secrets.token_hex(6)
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
    finally:
        await admin.close()
    try:
        yield with_search_path(server, schema)
    finally:
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await admin.close()


@asynccontextmanager
async def database_target(
    engine: str, tmp_path: Path, name: str = "hearth.db"
) -> AsyncIterator[str]:
    """What ``HEARTH_DB`` would hold for a fresh database on ``engine``."""
    if engine == "sqlite":
        yield str(tmp_path / name)
        return
    async with postgres_schema() as url:
        yield url


@asynccontextmanager
async def open_test_database(
    engine: str, tmp_path: Path, *, migrate: bool = True, name: str = "hearth.db", **kwargs: Any
) -> AsyncIterator[Any]:
    """A connected (and by default migrated) Database on ``engine``, closed after."""
    from bot.db import migrations
    from bot.db.database import Database

    kwargs.setdefault("key_file", tmp_path / "hearth.key")
    async with (
        database_target(engine, tmp_path, name) as target,
        Database(target, **kwargs) as db,
    ):
        if migrate:
            await migrations.upgrade(db)
        yield db
