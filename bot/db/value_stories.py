"""Value-story, invitation-schedule and invitation storage (migration 0015). SQL only."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.db.database import Database, Row
from bot.db.rows import from_db, from_db_req, to_db
from bot.domain.stories.consent import Consent, StoryPost
from bot.domain.value.invitations import Invitation, InvitationCadence, InvitationSchedule
from bot.domain.value.stories import ValueStoryRecord, ValueStoryText

log = logging.getLogger(__name__)


def _story(row: Row) -> ValueStoryRecord:
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


def _schedule(row: Row) -> InvitationSchedule:
    return InvitationSchedule(
        community_id=row["community_id"],
        cadence=InvitationCadence(row["cadence"]),
        set_at=from_db_req(row["set_at"]),
        last_due_at=from_db(row["last_due_at"]),
    )


def _invitation(row: Row) -> Invitation:
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
                   VALUES (:community_id, :teller_id, :consent, :immediate, :potential,
                       :applied, :realized, :reframing, :invitation_id, :created_at)
                   RETURNING id""",
                {
                    "community_id": community_id,
                    "teller_id": teller_id,
                    "consent": consent.value,
                    "immediate": text.immediate,
                    "potential": text.potential,
                    "applied": text.applied,
                    "realized": text.realized,
                    "reframing": text.reframing,
                    "invitation_id": invitation_id,
                    "created_at": to_db(now),
                },
            )
            row = await cur.fetchone()
            assert row is not None  # RETURNING gives the new row's id
            story_id = int(row[0])
        got = await self.get(story_id)
        assert got is not None
        return got

    async def get(self, story_id: int) -> ValueStoryRecord | None:
        row = await self.db.fetchone("SELECT * FROM value_stories WHERE id = :id", {"id": story_id})
        return _story(row) if row else None

    async def delete(self, story_id: int) -> None:
        """Undo a story that could not be posted (nothing half-saved)."""
        await self.db.execute("DELETE FROM value_stories WHERE id = :id", {"id": story_id})

    async def set_post(self, story_id: int, post: StoryPost) -> None:
        await self.db.execute(
            "UPDATE value_stories SET post_channel_id = :channel_id,"
            " post_message_id = :message_id, post_is_thread = :is_thread"
            " WHERE id = :id AND consent <> 'withdrawn'",
            {
                "channel_id": post.channel_id,
                "message_id": post.message_id,
                "is_thread": int(post.is_thread),
                "id": story_id,
            },
        )

    async def set_consent(self, story_id: int, consent: Consent) -> ValueStoryRecord | None:
        if consent is Consent.WITHDRAWN:
            raise ValueError("use withdraw() to withdraw a value story")
        await self.db.execute(
            "UPDATE value_stories SET consent = :consent WHERE id = :id AND consent <> 'withdrawn'",
            {"consent": consent.value, "id": story_id},
        )
        return await self.get(story_id)

    async def withdraw(self, story_id: int, now: datetime) -> ValueStoryRecord | None:
        """Leave only the tombstone: id, community, when told and when withdrawn."""
        await self.db.execute(
            """UPDATE value_stories SET consent = 'withdrawn', withdrawn_at = :now,
                   teller_id = NULL, immediate = NULL, potential = NULL, applied = NULL,
                   realized = NULL, reframing = NULL, post_channel_id = NULL,
                   post_message_id = NULL, post_is_thread = 0
               WHERE id = :id AND consent <> 'withdrawn'""",
            {"now": to_db(now), "id": story_id},
        )
        return await self.get(story_id)

    async def of_teller_in_guild(
        self, user_id: int, guild_id: int, search: str = "", limit: int = 25
    ) -> list[ValueStoryRecord]:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self.db.fetchall(
            "SELECT s.* FROM value_stories s JOIN communities c ON c.id = s.community_id"
            " WHERE s.teller_id = :user_id AND c.guild_id = :guild_id"
            " AND s.consent <> 'withdrawn'"
            " AND (lower(s.immediate) LIKE lower(:words) ESCAPE '\\'"
            " OR CAST(s.id AS TEXT) LIKE :id_prefix ESCAPE '\\')"
            " ORDER BY s.created_at DESC, s.id DESC LIMIT :limit",
            {
                "user_id": user_id,
                "guild_id": guild_id,
                "words": f"%{escaped}%",
                "id_prefix": f"{escaped}%",
                "limit": limit,
            },
        )
        return [_story(r) for r in rows]

    async def live_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[ValueStoryRecord]:
        """The community's value stories (not withdrawn) told in ``[start, end)``, oldest
        first."""
        rows = await self.db.fetchall(
            "SELECT * FROM value_stories WHERE community_id = :community_id"
            " AND consent <> 'withdrawn' AND created_at >= :start AND created_at < :end"
            " ORDER BY created_at, id",
            {"community_id": community_id, "start": to_db(start), "end": to_db(end)},
        )
        return [_story(r) for r in rows]

    # ------------------------------------------------------------------ schedules
    async def schedule(self, community_id: int) -> InvitationSchedule | None:
        row = await self.db.fetchone(
            "SELECT * FROM value_prompt_schedules WHERE community_id = :community_id",
            {"community_id": community_id},
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
                   VALUES (:community_id, :cadence, :set_at, :last_due_at)
               ON CONFLICT (community_id) DO UPDATE SET cadence = excluded.cadence,
                   set_at = excluded.set_at, last_due_at = excluded.last_due_at""",
            {
                "community_id": schedule.community_id,
                "cadence": schedule.cadence.value,
                "set_at": to_db(schedule.set_at),
                "last_due_at": to_db(schedule.last_due_at),
            },
        )

    async def mark_handled(self, community_id: int, due: datetime) -> None:
        await self.db.execute(
            "UPDATE value_prompt_schedules SET last_due_at = :due"
            " WHERE community_id = :community_id AND (last_due_at IS NULL OR last_due_at < :due)",
            {"due": to_db(due), "community_id": community_id},
        )

    # ------------------------------------------------------------------ invitations
    async def claim_invitation(self, community_id: int, due: datetime, now: datetime) -> int | None:
        """Record an invitation about to be posted; ``None`` if the run due at ``due`` was
        already claimed (what makes a scheduled invitation post at most once). Marks
        ``due`` handled on the schedule in the same transaction."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO value_invitations (community_id, due_at, claimed_at)"
                " VALUES (:community_id, :due, :now) ON CONFLICT DO NOTHING RETURNING id",
                {"community_id": community_id, "due": to_db(due), "now": to_db(now)},
            )
            row = await cur.fetchone()
            if row is None:
                return None
            claim = int(row[0])
            await conn.execute(
                "UPDATE value_prompt_schedules SET last_due_at = :due"
                " WHERE community_id = :community_id"
                " AND (last_due_at IS NULL OR last_due_at < :due)",
                {"due": to_db(due), "community_id": community_id},
            )
        return claim

    async def invitation_posted(self, claim: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE value_invitations SET channel_id = :channel_id, message_id = :message_id"
            " WHERE id = :id",
            {"channel_id": channel_id, "message_id": message_id, "id": claim},
        )

    async def release_invitation(self, claim: int) -> None:
        """Posting failed: forget the claim (its due time stays handled on the schedule)."""
        await self.db.execute("DELETE FROM value_invitations WHERE id = :id", {"id": claim})

    async def invitation(self, invitation_id: int) -> Invitation | None:
        row = await self.db.fetchone(
            "SELECT * FROM value_invitations WHERE id = :id", {"id": invitation_id}
        )
        return _invitation(row) if row else None

    async def open_invitations(self, community_id: int) -> list[Invitation]:
        """Posted invitations not yet closed, newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM value_invitations WHERE community_id = :community_id"
            " AND closed_at IS NULL AND message_id IS NOT NULL ORDER BY due_at DESC, id DESC",
            {"community_id": community_id},
        )
        return [_invitation(r) for r in rows]

    async def close_invitation(self, invitation_id: int, now: datetime) -> bool:
        """Close it; False if it was closed already."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE value_invitations SET closed_at = :now"
                " WHERE id = :id AND closed_at IS NULL",
                {"now": to_db(now), "id": invitation_id},
            )
            return cur.rowcount > 0

    async def unposted_invitations(self, since: datetime) -> list[Invitation]:
        """Invitations claimed at or after ``since`` and never recorded as posted: a crash
        came between the claim and the post."""
        rows = await self.db.fetchall(
            "SELECT * FROM value_invitations WHERE message_id IS NULL"
            " AND claimed_at >= :since ORDER BY id",
            {"since": to_db(since)},
        )
        return [_invitation(r) for r in rows]
