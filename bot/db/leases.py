"""Who acts for what across processes: leases of global jobs, the guild of each community.

A lease is one row per global job (``job_leases``, migration 0022): claiming it is a single
``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` that succeeds only for the current holder or
once the lease has expired, so two processes asking at the same moment cannot both get it,
on SQLite or PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.db.database import Database


class JobLeases:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, job: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take or renew ``job``'s lease until ``until``: True if ``holder`` has it (it held
        it already, or nobody did, or the last holder's lease ran out by ``now``)."""
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "INSERT INTO job_leases (job, holder, expires_at)"
            " VALUES (:job, :holder, :until)"
                " ON CONFLICT (job) DO UPDATE"
                " SET holder = excluded.holder, expires_at = excluded.expires_at"
                " WHERE job_leases.holder = excluded.holder OR job_leases.expires_at <= :now"
                " RETURNING holder",
                {"job": job, "holder": holder, "until": _text(until), "now": _text(now)},
            )
            return bool(list(rows))

    async def release(self, holder: str) -> None:
        """Give every lease of ``holder`` up (a clean stop), so another process need not wait."""
        await self.db.execute("DELETE FROM job_leases WHERE holder = :holder", {"holder": holder})

    async def holder(self, job: str) -> str | None:
        value = await self.db.fetchval(
            "SELECT holder FROM job_leases WHERE job = :job", {"job": job}
        )
        return None if value is None else str(value)


def _text(when: datetime) -> str:
    """One fixed width, so leases compare correctly as text."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def community_guilds(db: Database) -> dict[int, int]:
    """Every community's guild (archived ones too): which process owns its jobs."""
    rows = await db.fetchall("SELECT id, guild_id FROM communities", {})
    return {int(row["id"]): int(row["guild_id"]) for row in rows}
