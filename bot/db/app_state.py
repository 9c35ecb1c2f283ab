"""Key-value facts about the bot itself (not about any person or community)."""

from __future__ import annotations

import secrets

from bot.db.database import Database


class AppState:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        value = await self.db.fetchval("SELECT value FROM app_state WHERE key = :k", {"k": key})
        return None if value is None else str(value)

    async def set(self, key: str, value: str) -> None:
        await self.db.execute(
            "INSERT INTO app_state (key, value) VALUES (:k, :v)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            {"k": key, "v": value},
        )


INSTALLATION_KEY = "installation_id"


async def installation_id(db: Database) -> str:
    """This installation's random id, made once and kept (calendar UIDs name it).

    Random, not derived from the installation secret: a UID is public (it sits in every
    ``.ics`` file), and nothing about the secret may be learnt from it.
    """
    await db.execute(
        "INSERT INTO app_state (key, value) VALUES (:k, :v) ON CONFLICT (key) DO NOTHING",
        {"k": INSTALLATION_KEY, "v": secrets.token_hex(8)},
    )
    value = await db.fetchval("SELECT value FROM app_state WHERE key = :k", {"k": INSTALLATION_KEY})
    return str(value)
