"""Storage for exactly-once scheduled messages: runs and the messages sent in them.

SQL only; the rules live in :mod:`bot.delivery`. A run row says whether a scheduled effect
(a reminder, a nudge, a digest's DM, a prompt) finished; a delivery row records one message
*before* it is sent (``pending``, with its nonce) and after (``sent``, with its id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.db.database import Database
from bot.db.rows import to_db


class RunState(StrEnum):
    NEW = "new"
    """Not started before: this call started it."""
    RESUMED = "resumed"
    """Started before and never finished (a crash, a restart or a failure): carry on."""
    FINISHED = "finished"
    """Done already: send nothing."""


@dataclass(frozen=True)
class DeliveryRow:
    key: str
    run: str
    nonce: str
    state: str
    message_id: int | None
    attempts: int


class DeliveryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ runs
    async def start(self, run: str, now: datetime) -> RunState:
        """Record that ``run`` is under way; say whether it is new, resumed or finished."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO delivery_runs (run, state, started_at)"
                " VALUES (:run, 'running', :started_at) ON CONFLICT (run) DO NOTHING",
                {"run": run, "started_at": to_db(now)},
            )
            if cur.rowcount == 1:
                return RunState.NEW
            read = await conn.execute(
                "SELECT state FROM delivery_runs WHERE run = :run", {"run": run}
            )
            row = await read.fetchone()
        assert row is not None
        return RunState.FINISHED if row[0] == "finished" else RunState.RESUMED

    async def finish(self, run: str, now: datetime) -> None:
        """Mark the run finished (creating its row if need be) and drop its message rows."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO delivery_runs (run, state, started_at, finished_at)"
                " VALUES (:run, 'finished', :now, :now) ON CONFLICT (run) DO UPDATE SET"
                " state = 'finished',"
                " finished_at = COALESCE(delivery_runs.finished_at, excluded.finished_at)",
                {"run": run, "now": to_db(now)},
            )
            await conn.execute("DELETE FROM deliveries WHERE run = :run", {"run": run})

    async def forget(self, run: str) -> None:
        """The effect was withdrawn before anything of it was sent (a released claim)."""
        await self.db.execute("DELETE FROM delivery_runs WHERE run = :run", {"run": run})

    async def state(self, run: str) -> str | None:
        return await self.db.fetchval(
            "SELECT state FROM delivery_runs WHERE run = :run", {"run": run}
        )

    async def running(self, prefix: str) -> list[str]:
        """Runs started and never finished whose name starts with ``prefix``."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        # Run names are machine-made lower-case keys, so LIKE's case rule (none on SQLite,
        # exact on PostgreSQL) never changes the answer.
        rows = await self.db.fetchall(
            "SELECT run FROM delivery_runs WHERE state = 'running'"
            " AND run LIKE :pattern ESCAPE '\\' ORDER BY started_at, run",
            {"pattern": f"{escaped}%"},
        )
        return [r[0] for r in rows]

    # ------------------------------------------------------------------ messages
    async def get(self, key: str) -> DeliveryRow | None:
        row = await self.db.fetchone("SELECT * FROM deliveries WHERE key = :key", {"key": key})
        if row is None:
            return None
        return DeliveryRow(
            key=row["key"],
            run=row["run"],
            nonce=row["nonce"],
            state=row["state"],
            message_id=row["message_id"],
            attempts=row["attempts"],
        )

    async def intend(self, key: str, run: str, nonce: str, now: datetime) -> None:
        """Record the message as about to be sent with ``nonce`` (before the send).

        The run row is created too if the caller did not start one, so a message is never
        recorded outside a run.
        """
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO delivery_runs (run, state, started_at)"
                " VALUES (:run, 'running', :now) ON CONFLICT (run) DO NOTHING",
                {"run": run, "now": to_db(now)},
            )
            await conn.execute(
                "INSERT INTO deliveries (key, run, nonce, state, attempts, updated_at)"
                " VALUES (:key, :run, :nonce, 'pending', 1, :now) ON CONFLICT (key) DO UPDATE"
                " SET nonce = excluded.nonce, state = 'pending',"
                " attempts = deliveries.attempts + 1, updated_at = excluded.updated_at",
                {"key": key, "run": run, "nonce": nonce, "now": to_db(now)},
            )

    async def sent(self, key: str, message_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE deliveries SET state = 'sent', message_id = :message_id,"
            " updated_at = :now WHERE key = :key",
            {"message_id": message_id, "now": to_db(now), "key": key},
        )

    async def failed(self, key: str, now: datetime) -> None:
        """Discord refused it (nothing was created); a later attempt may send it again."""
        await self.db.execute(
            "UPDATE deliveries SET state = 'failed', updated_at = :now WHERE key = :key"
            " AND state = 'pending'",
            {"now": to_db(now), "key": key},
        )
