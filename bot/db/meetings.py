"""Meetings storage: meetings, the per-community series, RSVPs, reminder bookkeeping, notes.

SQL only: returns :mod:`bot.domain.meetings` dataclasses and never formats text for people.
The reminder tables make "sent once, never twice" survive a restart: a reminder is claimed
before anything goes out and each recipient's outcome is recorded once their message is
sent (the message itself goes through :mod:`bot.delivery`, which records it, with its
nonce, before the send). A reminder passed over on catch-up is recorded as skipped.

Why longer than 400 lines: one repository for the capability's seven tables (meetings,
series, RSVPs, reminders and their deliveries, attendance) plus the digest's two queries,
each a short SQL statement; splitting it would split one transaction boundary's knowledge.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.db.database import Database, Row
from bot.db.rows import chunks, from_db, from_db_req, in_list, to_db
from bot.domain.digest import HeldMeeting, Place, UpcomingMeeting
from bot.domain.meeting_series import Series, SeriesRule
from bot.domain.meetings import (
    EVENT_DELETED,
    RSVP,
    Meeting,
    MeetingStatus,
    rsvp_counts,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewMeeting:
    community_id: int
    title: str
    start_utc: datetime
    end_utc: datetime
    timezone: str
    location: str
    channel_id: int | None
    region: str | None
    in_series: bool
    created_by: int
    created_at: datetime


def _meeting(row: Row) -> Meeting:
    return Meeting(
        id=row["id"],
        community_id=row["community_id"],
        title=row["title"],
        start_utc=from_db_req(row["start_at"]),
        end_utc=from_db_req(row["end_at"]),
        timezone=row["timezone"],
        location=row["location"],
        channel_id=row["channel_id"],
        region=row["region"],
        in_series=bool(row["in_series"]),
        created_by=row["created_by"],
        created_at=from_db_req(row["created_at"]),
        status=MeetingStatus(row["status"]),
        event_id=row["event_id"],
        event_problem=row["event_problem"],
        announcement_channel_id=row["announcement_channel_id"],
        announcement_id=row["announcement_id"],
        sequence=row["sequence"],
        notes=row["notes"],
        notes_at=from_db(row["notes_at"]),
        attendance_at=from_db(row["attendance_at"]),
        notes_prompted_at=from_db(row["notes_prompted_at"]),
        cancelled_at=from_db(row["cancelled_at"]),
    )


def _series(row: Row) -> Series:
    hh, mm = (int(x) for x in row["local_time"].split(":"))
    rule = SeriesRule(
        months=tuple(int(m) for m in row["months"].split(",")),
        weekday=row["weekday"],
        nth=row["nth"],
        time=time(hh, mm),
        tz=ZoneInfo(row["timezone"]),
    )
    return Series(
        community_id=row["community_id"],
        rule=rule,
        duration_minutes=row["duration_minutes"],
        location=row["location"],
        created_by=row["created_by"],
        updated_at=from_db_req(row["updated_at"]),
    )


class MeetingRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ meetings
    async def create(self, new: NewMeeting) -> Meeting:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                """INSERT INTO meetings (community_id, title, start_at, end_at, timezone,
                   location, channel_id, region, in_series, created_by, created_at)
                   VALUES (:community_id, :title, :start_at, :end_at, :timezone, :location,
                   :channel_id, :region, :in_series, :created_by, :created_at)
                   RETURNING id""",
                {
                    "community_id": new.community_id, "title": new.title,
                    "start_at": to_db(new.start_utc), "end_at": to_db(new.end_utc),
                    "timezone": new.timezone, "location": new.location,
                    "channel_id": new.channel_id, "region": new.region,
                    "in_series": int(new.in_series), "created_by": new.created_by,
                    "created_at": to_db(new.created_at),
                },
            )
            row = await cur.fetchone()
        assert row is not None
        got = await self.get(int(row[0]))
        assert got is not None
        return got

    async def get(self, meeting_id: int) -> Meeting | None:
        row = await self.db.fetchone("SELECT * FROM meetings WHERE id = :id", {"id": meeting_id})
        return _meeting(row) if row else None

    async def delete(self, meeting_id: int) -> None:
        """Only for undoing a meeting whose creation could not complete."""
        await self.db.execute("DELETE FROM meetings WHERE id = :id", {"id": meeting_id})

    async def set_event(self, meeting_id: int, event_id: int | None, problem: str | None) -> None:
        await self.db.execute(
            "UPDATE meetings SET event_id = :event_id, event_problem = :problem WHERE id = :id",
            {"event_id": event_id, "problem": problem, "id": meeting_id},
        )

    async def forget_event(self, event_id: int, problem: str = EVENT_DELETED) -> list[int]:
        """The Discord event was deleted outside Hearth: no meeting may point at it."""
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "SELECT id FROM meetings WHERE event_id = :event_id ORDER BY id",
                {"event_id": event_id},
            )
            ids = [r[0] for r in rows]
            await conn.execute(
                "UPDATE meetings SET event_id = NULL, event_problem = :problem"
                " WHERE event_id = :event_id",
                {"problem": problem, "event_id": event_id},
            )
        return ids

    # ------------------------------------------------------------------ event reconciling
    async def community_guilds(self) -> list[int]:
        """Every guild that has (or had) a community: where Hearth may have made events."""
        rows = await self.db.fetchall("SELECT DISTINCT guild_id FROM communities ORDER BY 1")
        return [r[0] for r in rows]

    async def event_links(self, guild_id: int, now: datetime) -> list[tuple[int, int]]:
        """(meeting id, event id) of the guild's scheduled meetings not yet started that
        point at an event: those events must still exist in Discord."""
        rows = await self.db.fetchall(
            """SELECT m.id, m.event_id FROM meetings m
               JOIN communities c ON c.id = m.community_id
               WHERE c.guild_id = :guild_id AND m.status = 'scheduled' AND m.start_at > :now
                 AND m.event_id IS NOT NULL ORDER BY m.id""",
            {"guild_id": guild_id, "now": to_db(now)},
        )
        return [(r[0], r[1]) for r in rows]

    async def guild_of(self, meeting_id: int) -> int | None:
        return await self.db.fetchval(
            "SELECT c.guild_id FROM meetings m JOIN communities c ON c.id = m.community_id"
            " WHERE m.id = :id",
            {"id": meeting_id},
        )

    async def link_event(self, meeting_id: int, event_id: int) -> bool:
        """Point a scheduled meeting that lost its event id at its event; False if it
        already points somewhere (or was cancelled) meanwhile."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE meetings SET event_id = :event_id, event_problem = NULL WHERE id = :id"
                " AND event_id IS NULL AND status = 'scheduled'",
                {"event_id": event_id, "id": meeting_id},
            )
            return cur.rowcount == 1

    async def unlink_event(self, meeting_id: int, event_id: int, problem: str) -> bool:
        """Forget an event that no longer exists, only if the meeting still points at it."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE meetings SET event_id = NULL, event_problem = :problem,"
                " event_stale_since = NULL WHERE id = :id AND event_id = :event_id",
                {"problem": problem, "id": meeting_id, "event_id": event_id},
            )
            return cur.rowcount == 1

    async def mark_event_stale(self, meeting_id: int, now: datetime) -> None:
        """Discord refused an edit: the event shows an old time until the retry succeeds."""
        await self.db.execute(
            "UPDATE meetings SET event_stale_since = COALESCE(event_stale_since, :now)"
            " WHERE id = :id",
            {"now": to_db(now), "id": meeting_id},
        )

    async def clear_event_stale(self, meeting_id: int) -> None:
        await self.db.execute(
            "UPDATE meetings SET event_stale_since = NULL WHERE id = :id", {"id": meeting_id}
        )

    async def event_stale_since(self, meeting_id: int) -> datetime | None:
        return from_db(
            await self.db.fetchval(
                "SELECT event_stale_since FROM meetings WHERE id = :id", {"id": meeting_id}
            )
        )

    async def stale_events(self) -> list[int]:
        """Meetings whose Discord event still waits for a refused edit."""
        rows = await self.db.fetchall(
            "SELECT id FROM meetings WHERE event_stale_since IS NOT NULL ORDER BY id"
        )
        return [r[0] for r in rows]

    async def set_announcement(self, meeting_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE meetings SET announcement_channel_id = :channel_id,"
            " announcement_id = :message_id WHERE id = :id",
            {"channel_id": channel_id, "message_id": message_id, "id": meeting_id},
        )

    async def reschedule(
        self, meeting_id: int, title: str, start_utc: datetime, end_utc: datetime, timezone: str
    ) -> None:
        """Move a meeting; SEQUENCE grows so calendar apps replace their copy.

        Reminders already sent stay recorded (nobody is reminded twice for the same offset).
        """
        await self.db.execute(
            "UPDATE meetings SET title = :title, start_at = :start_at, end_at = :end_at,"
            " timezone = :timezone, sequence = sequence + 1"
            " WHERE id = :id AND status = 'scheduled'",
            {
                "title": title, "start_at": to_db(start_utc), "end_at": to_db(end_utc),
                "timezone": timezone, "id": meeting_id,
            },
        )

    async def cancel(self, meeting_id: int, by: int, now: datetime) -> bool:
        """Mark cancelled; False when it already was (so the caller does nothing twice)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE meetings SET status = 'cancelled', cancelled_at = :now,"
                " cancelled_by = :by, sequence = sequence + 1, event_stale_since = NULL"
                " WHERE id = :id AND status = 'scheduled'",
                {"now": to_db(now), "by": by, "id": meeting_id},
            )
            return cur.rowcount == 1

    async def upcoming(self, community_id: int, now: datetime, limit: int = 25) -> list[Meeting]:
        """Scheduled meetings not yet over, soonest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM meetings WHERE community_id = :community_id"
            " AND status = 'scheduled' AND end_at > :now ORDER BY start_at, id LIMIT :limit",
            {"community_id": community_id, "now": to_db(now), "limit": limit},
        )
        return [_meeting(r) for r in rows]

    async def live(self, since: datetime) -> list[Meeting]:
        """Every scheduled meeting ending after ``since``: what the scheduler must know about."""
        rows = await self.db.fetchall(
            "SELECT * FROM meetings WHERE status = 'scheduled' AND end_at > :since"
            " ORDER BY start_at, id",
            {"since": to_db(since)},
        )
        return [_meeting(r) for r in rows]

    async def series_meetings(self, community_id: int) -> list[Meeting]:
        """Every meeting of the community's series, cancelled ones included."""
        rows = await self.db.fetchall(
            "SELECT * FROM meetings WHERE community_id = :community_id AND in_series = 1"
            " ORDER BY start_at, id",
            {"community_id": community_id},
        )
        return [_meeting(r) for r in rows]

    async def visible_to(
        self,
        guild_id: int,
        user_id: int,
        is_manager: bool,
        text: str,
        since: datetime,
        limit: int = 25,
    ) -> list[tuple[Meeting, str]]:
        """Meetings (with their community's name) a person may pick, for autocomplete."""
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        # A manager may pick any meeting; anyone else only their communities' (chosen here:
        # "flag OR EXISTS" needs a boolean flag, which PostgreSQL will not take from 0/1).
        member_only = (
            "" if is_manager else
            " AND EXISTS (SELECT 1 FROM memberships ms WHERE ms.community_id = c.id"
            " AND ms.user_id = :user_id AND ms.left_at IS NULL)"
        )
        params: dict[str, object] = {
            "guild_id": guild_id, "since": to_db(since), "pattern": f"%{escaped}%",
            "limit": limit,
        }
        if not is_manager:
            params["user_id"] = user_id
        # lower() on both sides: LIKE ignores (ASCII) case on SQLite, not on PostgreSQL.
        rows = await self.db.fetchall(
            """SELECT m.*, c.name AS community_name FROM meetings m
               JOIN communities c ON c.id = m.community_id
               WHERE c.guild_id = :guild_id AND m.end_at > :since AND m.status = 'scheduled'
                 AND (lower(m.title) LIKE lower(:pattern) ESCAPE '\\'
                      OR lower(c.name) LIKE lower(:pattern) ESCAPE '\\')"""
            + member_only
            + " ORDER BY m.start_at, m.id LIMIT :limit",
            params,
        )
        return [(_meeting(r), r["community_name"]) for r in rows]

    # ------------------------------------------------------------------ RSVPs
    async def set_rsvp(self, meeting_id: int, user_id: int, answer: RSVP, now: datetime) -> None:
        await self.db.execute(
            """INSERT INTO meeting_rsvps (meeting_id, user_id, answer, answered_at)
               VALUES (:meeting_id, :user_id, :answer, :answered_at)
               ON CONFLICT (meeting_id, user_id) DO UPDATE SET
               answer = excluded.answer, answered_at = excluded.answered_at""",
            {
                "meeting_id": meeting_id, "user_id": user_id, "answer": answer.value,
                "answered_at": to_db(now),
            },
        )

    async def rsvps(self, meeting_id: int) -> dict[int, RSVP]:
        rows = await self.db.fetchall(
            "SELECT user_id, answer FROM meeting_rsvps WHERE meeting_id = :meeting_id"
            " ORDER BY user_id",
            {"meeting_id": meeting_id},
        )
        return {r[0]: RSVP(r[1]) for r in rows}

    async def counts(self, meeting_id: int) -> dict[RSVP, int]:
        return rsvp_counts(await self.rsvps(meeting_id))

    # ------------------------------------------------------------------ reminders
    async def reminder_states(self, meeting_id: int) -> dict[timedelta, str]:
        rows = await self.db.fetchall(
            "SELECT offset_seconds, state FROM meeting_reminders WHERE meeting_id = :meeting_id"
            " ORDER BY offset_seconds DESC",
            {"meeting_id": meeting_id},
        )
        return {timedelta(seconds=r[0]): r[1] for r in rows}

    async def reminder_states_of(
        self, meeting_ids: list[int]
    ) -> dict[int, dict[timedelta, str]]:
        """:meth:`reminder_states` of many meetings in one query (start-up re-arms them
        all; one query each was a measurable share of it, benchmarks/startup.py)."""
        out: dict[int, dict[timedelta, str]] = {}
        for part in chunks(sorted(set(meeting_ids))):
            marks, params = in_list(part)
            for r in await self.db.fetchall(
                "SELECT meeting_id, offset_seconds, state FROM meeting_reminders"
                f" WHERE meeting_id IN ({marks}) ORDER BY meeting_id, offset_seconds DESC",
                params,
            ):
                out.setdefault(r[0], {})[timedelta(seconds=r[1])] = r[2]
        return out

    async def claim_reminder(self, meeting_id: int, offset: timedelta, now: datetime) -> bool:
        """Record the reminder as started; False if it already was (someone sent it)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO meeting_reminders (meeting_id, offset_seconds, state, claimed_at)"
                " VALUES (:meeting_id, :offset_seconds, 'sending', :now)"
                " ON CONFLICT DO NOTHING",
                {
                    "meeting_id": meeting_id, "offset_seconds": int(offset.total_seconds()),
                    "now": to_db(now),
                },
            )
            return cur.rowcount == 1

    async def finish_reminder(
        self, meeting_id: int, offset: timedelta, now: datetime, *, state: str = "sent"
    ) -> None:
        """Close a claimed reminder: ``sent``, or ``skipped`` when it was interrupted and a
        later reminder has taken its place (those it reached stay recorded)."""
        await self.db.execute(
            "UPDATE meeting_reminders SET state = :state, finished_at = :now"
            " WHERE meeting_id = :meeting_id AND offset_seconds = :offset_seconds"
            " AND state = 'sending'",
            {
                "state": state, "now": to_db(now), "meeting_id": meeting_id,
                "offset_seconds": int(offset.total_seconds()),
            },
        )

    async def skip_reminder(self, meeting_id: int, offset: timedelta, now: datetime) -> bool:
        """Record a reminder that will never be sent (a later one was already due when
        Hearth got to it); False if it was recorded before."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO meeting_reminders (meeting_id, offset_seconds, state,"
                " claimed_at, finished_at) VALUES (:meeting_id, :offset_seconds, 'skipped',"
                " :now, :now) ON CONFLICT DO NOTHING",
                {
                    "meeting_id": meeting_id, "offset_seconds": int(offset.total_seconds()),
                    "now": to_db(now),
                },
            )
            return cur.rowcount == 1

    async def reminder_outcomes(self, meeting_id: int, offset: timedelta) -> dict[int, str]:
        """Each member's settled outcome of one reminder (dm, fallback, failed).

        A ``pending`` row (written before the send by earlier versions) is not settled: the
        member may not have had it, so it is sent again (:mod:`bot.delivery` makes that safe).
        """
        rows = await self.db.fetchall(
            "SELECT user_id, outcome FROM meeting_reminder_deliveries"
            " WHERE meeting_id = :meeting_id AND offset_seconds = :offset_seconds"
            " AND outcome <> 'pending' ORDER BY user_id",
            {"meeting_id": meeting_id, "offset_seconds": int(offset.total_seconds())},
        )
        return {r[0]: r[1] for r in rows}

    async def record_delivery(
        self, meeting_id: int, offset: timedelta, user_id: int, outcome: str
    ) -> None:
        await self.db.execute(
            """INSERT INTO meeting_reminder_deliveries (meeting_id, offset_seconds, user_id,
               outcome) VALUES (:meeting_id, :offset_seconds, :user_id, :outcome)
               ON CONFLICT (meeting_id, offset_seconds, user_id)
               DO UPDATE SET outcome = excluded.outcome""",
            {
                "meeting_id": meeting_id, "offset_seconds": int(offset.total_seconds()),
                "user_id": user_id, "outcome": outcome,
            },
        )

    async def deliveries(self, meeting_id: int) -> list[tuple[timedelta, int, str]]:
        rows = await self.db.fetchall(
            "SELECT offset_seconds, user_id, outcome FROM meeting_reminder_deliveries"
            " WHERE meeting_id = :meeting_id ORDER BY offset_seconds DESC, user_id",
            {"meeting_id": meeting_id},
        )
        return [(timedelta(seconds=r[0]), r[1], r[2]) for r in rows]

    # ------------------------------------------------------------------ notes
    async def mark_notes_prompted(self, meeting_id: int, now: datetime) -> bool:
        """Claim the notes prompt; False when it was already sent."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE meetings SET notes_prompted_at = :now WHERE id = :id"
                " AND notes_prompted_at IS NULL",
                {"now": to_db(now), "id": meeting_id},
            )
            return cur.rowcount == 1

    async def save_notes(self, meeting_id: int, notes: str, by: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE meetings SET notes = :notes, notes_by = :by, notes_at = :now WHERE id = :id",
            {"notes": notes, "by": by, "now": to_db(now), "id": meeting_id},
        )

    async def set_attendance(
        self, meeting_id: int, user_ids: Iterable[int], by: int, now: datetime
    ) -> None:
        """Replace who was marked present (the facilitator's latest answer wins)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM meeting_attendance WHERE meeting_id = :meeting_id",
                {"meeting_id": meeting_id},
            )
            await conn.executemany(
                "INSERT INTO meeting_attendance (meeting_id, user_id, marked_by, marked_at)"
                " VALUES (:meeting_id, :user_id, :by, :now)",
                [
                    {"meeting_id": meeting_id, "user_id": uid, "by": by, "now": to_db(now)}
                    for uid in dict.fromkeys(user_ids)
                ],
            )
            await conn.execute(
                "UPDATE meetings SET attendance_at = :now WHERE id = :id",
                {"now": to_db(now), "id": meeting_id},
            )

    async def change_attendance(
        self,
        meeting_id: int,
        add: Iterable[int],
        remove: Iterable[int],
        by: int,
        now: datetime,
    ) -> int:
        """Mark ``add`` present and ``remove`` not, leaving everyone else as they were, in
        one transaction (two pickers used at once cannot undo each other). Returns how many
        are marked present now."""
        adding = list(dict.fromkeys(add))
        async with self.db.transaction() as conn:
            await conn.executemany(
                "DELETE FROM meeting_attendance WHERE meeting_id = :meeting_id"
                " AND user_id = :user_id",
                [
                    {"meeting_id": meeting_id, "user_id": uid}
                    for uid in dict.fromkeys(remove)
                    if uid not in adding
                ],
            )
            await conn.executemany(
                "INSERT INTO meeting_attendance (meeting_id, user_id, marked_by, marked_at)"
                " VALUES (:meeting_id, :user_id, :by, :now) ON CONFLICT DO NOTHING",
                [
                    {"meeting_id": meeting_id, "user_id": uid, "by": by, "now": to_db(now)}
                    for uid in adding
                ],
            )
            await conn.execute(
                "UPDATE meetings SET attendance_at = :now WHERE id = :id",
                {"now": to_db(now), "id": meeting_id},
            )
            cur = await conn.execute(
                "SELECT COUNT(*) FROM meeting_attendance WHERE meeting_id = :meeting_id",
                {"meeting_id": meeting_id},
            )
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def attendance(self, meeting_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT user_id FROM meeting_attendance WHERE meeting_id = :meeting_id"
            " ORDER BY user_id",
            {"meeting_id": meeting_id},
        )
        return [r[0] for r in rows]

    # ------------------------------------------------------------------ series
    async def series(self, community_id: int) -> Series | None:
        row = await self.db.fetchone(
            "SELECT * FROM meeting_series WHERE community_id = :community_id",
            {"community_id": community_id},
        )
        return _series(row) if row else None

    async def all_series(self) -> list[Series]:
        rows = await self.db.fetchall(
            "SELECT s.* FROM meeting_series s JOIN communities c ON c.id = s.community_id"
            " WHERE c.archived_at IS NULL ORDER BY s.community_id"
        )
        return [_series(r) for r in rows]

    async def save_series(
        self,
        community_id: int,
        rule: SeriesRule,
        duration_minutes: int,
        location: str,
        by: int,
        now: datetime,
    ) -> Series:
        await self.db.execute(
            """INSERT INTO meeting_series (community_id, months, weekday, nth, local_time,
               timezone, duration_minutes, location, created_by, updated_at)
               VALUES (:community_id, :months, :weekday, :nth, :local_time, :timezone,
               :duration_minutes, :location, :created_by, :updated_at)
               ON CONFLICT (community_id) DO UPDATE SET
               months = excluded.months, weekday = excluded.weekday, nth = excluded.nth,
               local_time = excluded.local_time, timezone = excluded.timezone,
               duration_minutes = excluded.duration_minutes, location = excluded.location,
               created_by = excluded.created_by, updated_at = excluded.updated_at""",
            {
                "community_id": community_id,
                "months": ",".join(str(m) for m in rule.months), "weekday": rule.weekday,
                "nth": rule.nth, "local_time": f"{rule.time:%H:%M}", "timezone": rule.tz.key,
                "duration_minutes": duration_minutes, "location": location,
                "created_by": by, "updated_at": to_db(now),
            },
        )
        got = await self.series(community_id)
        assert got is not None
        return got


# ---------------------------------------------------------------------- for the digest


async def upcoming_for_digest(
    db: Database, community_id: int, now: datetime, horizon_days: int = 60
) -> list[UpcomingMeeting]:
    """Scheduled meetings starting within ``horizon_days`` of ``now``, with RSVP counts."""
    rows = await db.fetchall(
        """SELECT m.title, m.start_at, m.event_id, m.announcement_channel_id,
                  m.announcement_id,
                  SUM(CASE WHEN r.answer = 'going' THEN 1 ELSE 0 END) AS going,
                  SUM(CASE WHEN r.answer = 'maybe' THEN 1 ELSE 0 END) AS maybe,
                  SUM(CASE WHEN r.answer = 'cant' THEN 1 ELSE 0 END) AS cant
           FROM meetings m LEFT JOIN meeting_rsvps r ON r.meeting_id = m.id
           WHERE m.community_id = :community_id AND m.status = 'scheduled'
             AND m.start_at >= :start AND m.start_at < :end
           GROUP BY m.id ORDER BY m.start_at, m.id""",
        {
            "community_id": community_id, "start": to_db(now),
            "end": to_db(now + timedelta(days=horizon_days)),
        },
    )
    return [
        UpcomingMeeting(
            title=r["title"],
            starts_at=from_db_req(r["start_at"]),
            going=int(r["going"] or 0),
            maybe=int(r["maybe"] or 0),
            cant=int(r["cant"] or 0),
            # the event (time, place, "interested"), else the announcement with its buttons
            place=Place(r["announcement_channel_id"], r["announcement_id"], r["event_id"]),
        )
        for r in rows
    ]


#: How long after a meeting its notes may arrive and still reach the sponsor's digest (a
#: bound on the look-back, so the query stays a range scan however long the history).
LATE_NOTES_WINDOW = timedelta(days=91)


async def held_for_digest(
    db: Database, community_id: int, start: datetime, end: datetime
) -> list[HeldMeeting]:
    """Meetings (not cancelled) that started in [start, end), or started before it and had
    their notes written in it (late notes still reach the sponsor), with notes and attendance.
    One range scan of the community's (community_id, start_at) index (``status || ''``, an
    expression no index covers, keeps the planner off the all-communities status index; the
    SQLite-only unary ``+status`` did that before), bounded by :data:`LATE_NOTES_WINDOW`.

    ``attended`` is None until the facilitator has marked who was present.
    """
    rows = await db.fetchall(
        """SELECT m.title, m.start_at, m.notes, m.notes_at, m.attendance_at,
                  m.announcement_channel_id, m.announcement_id,
                  (SELECT COUNT(*) FROM meeting_attendance a WHERE a.meeting_id = m.id)
                      AS attended,
                  (SELECT COUNT(*) FROM meeting_rsvps r WHERE r.meeting_id = m.id
                      AND r.answer = 'going') AS going
           FROM meetings m
           WHERE m.community_id = :community_id AND m.status || '' = 'scheduled'
             AND m.start_at >= :earliest AND m.start_at < :end
             AND (m.start_at >= :start OR (m.notes_at >= :start AND m.notes_at < :end))
           ORDER BY m.start_at, m.id""",
        {
            "community_id": community_id,
            "earliest": to_db(start - LATE_NOTES_WINDOW),
            "start": to_db(start),
            "end": to_db(end),
        },
    )
    return [
        HeldMeeting(
            title=r["title"],
            starts_at=from_db_req(r["start_at"]),
            notes=r["notes"],
            attended=int(r["attended"]) if r["attendance_at"] is not None else None,
            rsvp_going=int(r["going"]),
            notes_at=from_db(r["notes_at"]),
            # Discord drops a scheduled event once it is over: the announcement stays
            place=Place(r["announcement_channel_id"], r["announcement_id"]),
        )
        for r in rows
    ]
