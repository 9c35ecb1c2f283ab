"""Storage for a significant-change round's early close and its selection reminder.

SQL only (the rules are :class:`bot.services.change_rounds.ChangeRoundService`'s). Closing a
step early moves its deadline to now with a compare-and-set on the round's state, so of two
facilitators (or a facilitator and the scheduled deadline) exactly one ends the step; the
step itself (opening selection, freezing the outcome) then runs as at its deadline, each
exactly once.
"""

from __future__ import annotations

from datetime import datetime

from bot.db.database import Database
from bot.db.rows import to_db


class ChangeDeadlinesRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def end_collection_now(self, round_id: int, now: datetime) -> bool:
        """Collection ends now (a facilitator closed it early): False when the round was
        not collecting any more, or its deadline had already passed."""
        return await self._end(round_id, "collect_until", "collecting", now)

    async def end_selection_now(self, round_id: int, now: datetime) -> bool:
        """Selection ends now: False when the round was not selecting, or its deadline had
        already passed."""
        return await self._end(round_id, "select_until", "selecting", now)

    async def _end(self, round_id: int, column: str, state: str, now: datetime) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                f"UPDATE change_rounds SET {column} = :now"
                f" WHERE id = :id AND state = :state AND {column} > :now",
                {"now": to_db(now), "id": round_id, "state": state},
            )
            return cur.rowcount == 1

    async def choosers(self, round_id: int) -> set[int]:
        """Who has chosen at least one story in the round (to remind only the others)."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT user_id FROM change_choices WHERE round_id = :round_id",
            {"round_id": round_id},
        )
        return {int(r["user_id"]) for r in rows}
