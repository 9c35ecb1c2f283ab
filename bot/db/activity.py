"""Message-count aggregates: the only trace Hearth keeps of chat.

Why aggregates: the digest needs "who posted how much, when (to the hour)", never what was
said and never one row per message. Counts arrive on the gateway hot path, so they are
buffered in memory (:class:`ActivityBuffer`, a plain dict increment per message) and written
in one batched UPSERT per flush; every query here reads a bounded time range through an
index, so compiling a digest costs the same in a community's tenth year as in its first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.db.database import Database
from bot.db.rows import chunks, in_list

log = logging.getLogger(__name__)

_EPOCH_HOUR_SECONDS = 3600


def hour_key(instant: datetime) -> int:
    """Hours since the Unix epoch: a cheap integer bucket for the hot path."""
    return int(instant.timestamp()) // _EPOCH_HOUR_SECONDS


def hour_start(key: int) -> datetime:
    return datetime.fromtimestamp(key * _EPOCH_HOUR_SECONDS, UTC)


def _day_hour(instant: datetime) -> tuple[str, int]:
    utc = instant.astimezone(UTC)
    return utc.date().isoformat(), utc.hour


def _first_hour_from(instant: datetime) -> tuple[str, int]:
    """The first hour that starts at or after ``instant`` (its own hour if it is on the hour).

    Every query below selects the hours that *start* in a half-open range, so a bound inside
    an hour neither drops the hour in progress at a period's end (a preview or manual send
    ending now) nor counts the hour a period's start cuts twice.
    """
    utc = instant.astimezone(UTC)
    floor = utc.replace(minute=0, second=0, microsecond=0)
    return _day_hour(floor if floor == utc else floor + timedelta(hours=1))


class ActivityBuffer:
    """Counts waiting to be written: ``(community, user, epoch hour) -> messages``.

    ``add`` is a dict increment and nothing else, so counting a message costs well under a
    microsecond; ``drain`` hands the batch to :meth:`ActivityRepo.add_counts`.
    """

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[tuple[int, int, int], int] = {}

    def add(self, community_id: int, user_id: int, epoch_hour: int) -> None:
        key = (community_id, user_id, epoch_hour)
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1

    def __len__(self) -> int:
        return len(self.counts)

    def drain(self) -> dict[tuple[int, int, int], int]:
        batch, self.counts = self.counts, {}
        return batch

    def restore(self, batch: dict[tuple[int, int, int], int]) -> None:
        """Put a batch back after a failed write so no count is lost."""
        for key, n in batch.items():
            self.counts[key] = self.counts.get(key, 0) + n


@dataclass(frozen=True)
class HourCount:
    user_id: int
    hour_start: datetime
    messages: int


class ActivityRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def community_for_channel(self, channel_id: int) -> int | None:
        """One primary-key lookup: the community a channel (or a thread's parent) belongs to."""
        value = await self.db.fetchval(
            "SELECT community_id FROM community_channels WHERE channel_id = :channel_id",
            {"channel_id": channel_id},
        )
        return int(value) if value is not None else None

    async def add_counts(self, batch: dict[tuple[int, int, int], int]) -> None:
        """Add a drained buffer in one transaction: one UPSERT per (member, hour)."""
        if not batch:
            return
        wanted = sorted({community_id for community_id, _, _ in batch})
        async with self.db.transaction() as conn:
            # Counts for a community deleted meanwhile are dropped, not a foreign-key error
            # (which would abort the whole batch's transaction on PostgreSQL).
            existing: set[int] = set()
            for part in chunks(wanted):
                marks, params = in_list(part)
                existing.update(
                    int(r[0])
                    for r in await conn.execute_fetchall(
                        f"SELECT id FROM communities WHERE id IN ({marks})", params
                    )
                )
            rows = []
            for (community_id, user_id, epoch_hour), n in batch.items():
                if community_id not in existing:
                    continue
                day, hour = _day_hour(hour_start(epoch_hour))
                rows.append(
                    {"community_id": community_id, "user_id": user_id, "day": day,
                     "hour": hour, "messages": n}
                )
            if not rows:
                return
            await conn.executemany(
                """INSERT INTO message_activity (community_id, user_id, day, hour, messages)
                   VALUES (:community_id, :user_id, :day, :hour, :messages)
                   ON CONFLICT (community_id, user_id, day, hour)
                   DO UPDATE SET messages = message_activity.messages + excluded.messages""",
                rows,
            )

    async def hourly_counts(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[HourCount]:
        """Every (member, hour) count for the hours that start in ``[start, end)``.

        The ``day BETWEEN`` term bounds the index range; the hour terms trim the edge days.
        """
        sd, sh = _first_hour_from(start)
        ed, eh = _first_hour_from(end)
        rows = await self.db.fetchall(
            """SELECT user_id, day, hour, messages FROM message_activity
               WHERE community_id = :community_id AND day BETWEEN :sd AND :ed
                 AND (day > :sd OR hour >= :sh) AND (day < :ed OR hour < :eh)""",
            {"community_id": community_id, "sd": sd, "sh": sh, "ed": ed, "eh": eh},
        )
        return [
            HourCount(
                r["user_id"],
                datetime.combine(date.fromisoformat(r["day"]), datetime.min.time(), UTC)
                + timedelta(hours=r["hour"]),
                r["messages"],
            )
            for r in rows
        ]

    async def last_active_before(
        self, community_id: int, user_ids: Iterable[int], before: datetime
    ) -> dict[int, datetime]:
        """The start of each member's latest counted hour starting before ``before``.

        One index seek per member (descending on the primary key, LIMIT 1), never a scan
        of their history.
        """
        bd, bh = _first_hour_from(before)
        out: dict[int, datetime] = {}
        for user_id in user_ids:
            # fetchall on a LIMIT 1 query: one database-thread hop instead of three.
            rows = await self.db.fetchall(
                """SELECT day, hour FROM message_activity
                   WHERE community_id = :community_id AND user_id = :user_id
                     AND day <= :bd AND (day < :bd OR hour < :bh)
                   ORDER BY day DESC, hour DESC LIMIT 1""",
                {"community_id": community_id, "user_id": user_id, "bd": bd, "bh": bh},
            )
            if rows:
                row = rows[0]
                out[user_id] = datetime.combine(
                    date.fromisoformat(row["day"]), datetime.min.time(), UTC
                ) + timedelta(hours=row["hour"])
        return out

    async def weekly_totals(
        self, community_id: int, weeks: Sequence[tuple[datetime, datetime]]
    ) -> list[tuple[int, int]]:
        """``(messages, active members)`` for each ``(start, end)`` window, in order.

        One aggregate query per week over the (community, day) index: twelve weeks for the
        chart is twelve bounded range scans, whatever the length of the history.
        """
        out = []
        for start, end in weeks:
            sd, sh = _first_hour_from(start)
            ed, eh = _first_hour_from(end)
            # Only (past or present) members count, as in the digest itself.
            # An aggregate is exactly one row: fetchall is one database-thread hop.
            (row,) = await self.db.fetchall(
                """SELECT COALESCE(SUM(a.messages), 0), COUNT(DISTINCT a.user_id)
                   FROM message_activity a
                   JOIN memberships m ON m.community_id = a.community_id
                                     AND m.user_id = a.user_id
                   WHERE a.community_id = :community_id AND a.day BETWEEN :sd AND :ed
                     AND (a.day > :sd OR a.hour >= :sh) AND (a.day < :ed OR a.hour < :eh)""",
                {"community_id": community_id, "sd": sd, "sh": sh, "ed": ed, "eh": eh},
            )
            out.append((int(row[0]), int(row[1])))
        return out
