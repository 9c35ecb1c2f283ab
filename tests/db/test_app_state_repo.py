"""AppState and the installation id on every engine."""

from __future__ import annotations

from bot.db.app_state import AppState, installation_id
from bot.db.database import Database


async def test_set_replaces_and_get_reads(db: Database) -> None:
    state = AppState(db)
    assert await state.get("commands") is None
    await state.set("commands", "abc")
    await state.set("commands", "def")
    assert await state.get("commands") == "def"
    assert (
        await db.fetchval("SELECT COUNT(*) FROM app_state WHERE key = :k", {"k": "commands"}) == 1
    )


async def test_installation_id_is_made_once(db: Database) -> None:
    first = await installation_id(db)
    assert len(first) == 16
    assert await installation_id(db) == first
