"""Value-story, invitation-schedule and invitation storage (migration 0015). SQL only."""

from __future__ import annotations

import logging
from datetime import datetime

import aiosqlite

from bot.db.database import Database
from bot.db.rows import from_db, from_db_req, to_db
from bot.domain.stories.consent import Consent, StoryPost
from bot.domain.value.invitations import Invitation, InvitationCadence, InvitationSchedule
from bot.domain.value.stories import ValueStoryRecord, ValueStoryText

log = logging.getLogger(__name__)


def _story(row: aiosqlite.Row) -> ValueStoryRecord:
    post = None
    if row["post_channel_id"] is not None and row["post_message_id"] is not None:
        post = StoryPost(
            row["post_channel_id"], row["post_message_id"], bool(row["post_is_thread"])
        )
    text = None
    if row["immediate"] is not None and row["potential"] is not None:
        text = ValueStoryText(
            row["immediate"], row["potential"], row["applied"], row["realized"], row["reframing"]
        )
    return ValueStoryRecord(
        id=row["id"],
        community_id=row["community_id"],
        teller_id=row["teller_id"],
        consent=Consent(row["consent"]),
        text=text,
        created_at=from_db_req(row["created_at"]),
        withdrawn_at=from_db(row["withdrawn_at"]),
        post=post,
        invitation_id=row["invitation_id"],
    )


def _schedule(row: aiosqlite.Row) -> InvitationSchedule:
    return InvitationSchedule(
        community_id=row["community_id"],
        cadence=InvitationCadence(row["cadence"]),
        set_at=from_db_req(row["set_at"]),
        last_due_at=from_db(row["last_due_at"]),
    )


def _invitation(row: aiosqlite.Row) -> Invitation:
    return Invitation(
        id=row["id"],
        community_id=row["community_id"],
        due_at=from_db_req(row["due_at"]),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        closed_at=from_db(row["closed_at"]),
    )


class ValueStoryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ stories
    async def add(
        self,
        *,
        community_id: int,
        teller_id: int,
        consent: Consent,
        text: ValueStoryText,
        now: datetime,
        invitation_id: int | None = None,
    ) -> ValueStoryRecord:
        if consent is Consent.WITHDRAWN:
            raise ValueError("a new value story cannot start withdrawn")
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                """INSERT INTO value_stories (community_id, teller_id, consent, immediate,
                       potential, applied, realized, reframing, invitation_id, created_at)
                   VALUES (?,?,?,?,?,?,?,?,?,?)""",
                (
                    community_id,
                    teller_id,
                    consent.value,
                    text.immediate,
                    text.potential,
                    text.applied,
                    text.realized,
                    text.reframing,
                    invitation_id,
                    to_db(now),
                ),
            )
            story_id = int(cur.lastrowid or 0)
        got = await self.get(story_id)
        assert got is not None
        return got

    async def get(self, story_id: int) -> ValueStoryRecord | None:
        row = await self.db.fetchone("SELECT * FROM value_stories WHERE id = ?", (story_id,))
        return _story(row) if row else None

    async def delete(self, story_id: int) -> None:
        """Undo a story that could not be posted (nothing half-saved)."""
        await self.db.execute("DELETE FROM value_stories WHERE id = ?", (story_id,))

    async def set_post(self, story_id: int, post: StoryPost) -> None:
        await self.db.execute(
            "UPDATE value_stories SET post_channel_id = ?, post_message_id = ?,"
            " post_is_thread = ? WHERE id = ? AND consent <> 'withdrawn'",
            (post.channel_id, post.message_id, int(post.is_thread), story_id),
        )

    async def set_consent(self, story_id: int, consent: Consent) -> ValueStoryRecord | None:
        if consent is Consent.WITHDRAWN:
            raise ValueError("use withdraw() to withdraw a value story")
        await self.db.execute(
            "UPDATE value_stories SET consent = ? WHERE id = ? AND consent <> 'withdrawn'",
            (consent.value, story_id),
        )
        return await self.get(story_id)

    async def withdraw(self, story_id: int, now: datetime) -> ValueStoryRecord | None:
        """Leave only the tombstone: id, community, when told and when withdrawn."""
        await self.db.execute(
            """UPDATE value_stories SET consent = 'withdrawn', withdrawn_at = ?,
                   teller_id = NULL, immediate = NULL, potential = NULL, applied = NULL,
                   realized = NULL, reframing = NULL, post_channel_id = NULL,
                   post_message_id = NULL, post_is_thread = 0
               WHERE id = ? AND consent <> 'withdrawn'""",
            (to_db(now), story_id),
        )
        return await self.get(story_id)

    async def of_teller_in_guild(
        self, user_id: int, guild_id: int, search: str = "", limit: int = 25
    ) -> list[ValueStoryRecord]:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self.db.fetchall(
            "SELECT s.* FROM value_stories s JOIN communities c ON c.id = s.community_id"
            " WHERE s.teller_id = ? AND c.guild_id = ? AND s.consent <> 'withdrawn'"
            " AND (s.immediate LIKE ? ESCAPE '\\' OR CAST(s.id AS TEXT) LIKE ? ESCAPE '\\')"
            " ORDER BY s.created_at DESC, s.id DESC LIMIT ?",
            (user_id, guild_id, f"%{escaped}%", f"{escaped}%", limit),
        )
        return [_story(r) for r in rows]

    async def live_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[ValueStoryRecord]:
        """The community's value stories (not withdrawn) told in ``[start, end)``, oldest
        first."""
        rows = await self.db.fetchall(
            "SELECT * FROM value_stories WHERE community_id = ? AND consent <> 'withdrawn'"
            " AND created_at >= ? AND created_at < ? ORDER BY created_at, id",
            (community_id, to_db(start), to_db(end)),
        )
        return [_story(r) for r in rows]

    # ------------------------------------------------------------------ schedules
    async def schedule(self, community_id: int) -> InvitationSchedule | None:
        row = await self.db.fetchone(
            "SELECT * FROM value_prompt_schedules WHERE community_id = ?", (community_id,)
        )
        return _schedule(row) if row else None

    async def active_schedules(self) -> list[InvitationSchedule]:
        rows = await self.db.fetchall(
            "SELECT s.* FROM value_prompt_schedules s JOIN communities c"
            " ON c.id = s.community_id WHERE s.cadence <> 'off' AND c.archived_at IS NULL"
            " ORDER BY s.community_id"
        )
        return [_schedule(r) for r in rows]

    async def set_schedule(self, schedule: InvitationSchedule) -> None:
        """Replace the community's schedule; what was handled restarts at ``set_at``."""
        await self.db.execute(
            """INSERT INTO value_prompt_schedules (community_id, cadence, set_at, last_due_at)
                   VALUES (?,?,?,?)
               ON CONFLICT (community_id) DO UPDATE SET cadence = excluded.cadence,
                   set_at = excluded.set_at, last_due_at = excluded.last_due_at""",
            (
                schedule.community_id,
                schedule.cadence.value,
                to_db(schedule.set_at),
                to_db(schedule.last_due_at),
            ),
        )

    async def mark_handled(self, community_id: int, due: datetime) -> None:
        await self.db.execute(
            "UPDATE value_prompt_schedules SET last_due_at = ? WHERE community_id = ?"
            " AND (last_due_at IS NULL OR last_due_at < ?)",
            (to_db(due), community_id, to_db(due)),
        )

    # ------------------------------------------------------------------ invitations
    async def claim_invitation(self, community_id: int, due: datetime, now: datetime) -> int | None:
        """Record an invitation about to be posted; ``None`` if the run due at ``due`` was
        already claimed (what makes a scheduled invitation post at most once). Marks
        ``due`` handled on the schedule in the same transaction."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO value_invitations (community_id, due_at, claimed_at)"
                " VALUES (?,?,?) ON CONFLICT DO NOTHING",
                (community_id, to_db(due), to_db(now)),
            )
            if cur.rowcount == 0:
                return None
            claim = int(cur.lastrowid or 0)
            await conn.execute(
                "UPDATE value_prompt_schedules SET last_due_at = ? WHERE community_id = ?"
                " AND (last_due_at IS NULL OR last_due_at < ?)",
                (to_db(due), community_id, to_db(due)),
            )
        return claim

    async def invitation_posted(self, claim: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE value_invitations SET channel_id = ?, message_id = ? WHERE id = ?",
            (channel_id, message_id, claim),
        )

    async def release_invitation(self, claim: int) -> None:
        """Posting failed: forget the claim (its due time stays handled on the schedule)."""
        await self.db.execute("DELETE FROM value_invitations WHERE id = ?", (claim,))

    async def invitation(self, invitation_id: int) -> Invitation | None:
        row = await self.db.fetchone(
            "SELECT * FROM value_invitations WHERE id = ?", (invitation_id,)
        )
        return _invitation(row) if row else None

    async def open_invitations(self, community_id: int) -> list[Invitation]:
        """Posted invitations not yet closed, newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM value_invitations WHERE community_id = ? AND closed_at IS NULL"
            " AND message_id IS NOT NULL ORDER BY due_at DESC, id DESC",
            (community_id,),
        )
        return [_invitation(r) for r in rows]

    async def close_invitation(self, invitation_id: int, now: datetime) -> bool:
        """Close it; False if it was closed already."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE value_invitations SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                (to_db(now), invitation_id),
            )
            return cur.rowcount > 0

    async def unposted_invitations(self, since: datetime) -> list[Invitation]:
        """Invitations claimed at or after ``since`` and never recorded as posted: a crash
        came between the claim and the post."""
        rows = await self.db.fetchall(
            "SELECT * FROM value_invitations WHERE message_id IS NULL AND claimed_at >= ?"
            " ORDER BY id",
            (to_db(since),),
        )
        return [_invitation(r) for r in rows]
