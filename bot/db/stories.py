"""Story, prompt-schedule and posted-prompt storage.

This file is longer than 400 lines because it is the one repository of the stories tables
(stories, schedules, prompts posted, digest offers): a story's storage reads in one place.

SQL only; returns domain dataclasses. What a digest may take from these stories is decided
in :mod:`bot.services.story_offers` (through :func:`bot.domain.stories.shareable_view`, like
every other exit path); the functions at the end only read and record its offers.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date, datetime, time

from bot.db.database import Database, Row
from bot.db.rows import from_db, from_db_req, to_db
from bot.domain.stories import (
    Cadence,
    Consent,
    PromptSchedule,
    StoryPost,
    StoryRecord,
)

log = logging.getLogger(__name__)

ConsentRequest = str  # 'dm' | 'inline'


def _story(row: Row) -> StoryRecord:
    post = None
    if row["post_channel_id"] is not None and row["post_message_id"] is not None:
        post = StoryPost(
            row["post_channel_id"], row["post_message_id"], bool(row["post_is_thread"])
        )
    link = None
    if row["source_message_id"] is not None:
        link = f"{row['source_channel_id']}/{row['source_message_id']}"
    return StoryRecord(
        id=row["id"],
        community_id=row["community_id"],
        teller_id=row["teller_id"],
        title=row["title"],
        text=row["text"],
        stage=row["stage"],
        consent=Consent(row["consent"]),
        created_at=from_db_req(row["created_at"]),
        source_message_link=link,
        stage_label=row["stage_label"],
        withdrawn_at=from_db(row["withdrawn_at"]),
        captured_by=row["captured_by"],
        consent_pending=row["consent_request"] is not None,
        post=post,
        # Read without a default: a query that forgot this column fails loudly rather than
        # treating a circle's story as the whole community's.
        audience_channel_id=row["audience_channel_id"],
    )


def _schedule(row: Row) -> PromptSchedule:
    hh, mm = (int(x) for x in row["time_of_day"].split(":"))
    return PromptSchedule(
        community_id=row["community_id"],
        cadence=Cadence(row["cadence"]),
        weekday=row["weekday"],
        time_of_day=time(hh, mm),
        anchor=date.fromisoformat(row["anchor"]),
        set_at=from_db_req(row["set_at"]),
        last_due_at=from_db(row["last_due_at"]),
    )


class StoryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ stories
    async def add(
        self,
        *,
        community_id: int,
        teller_id: int,
        title: str,
        text: str,
        stage: str | None,
        stage_label: str | None,
        consent: Consent,
        now: datetime,
        captured_by: int | None = None,
        consent_request: ConsentRequest | None = None,
        source: tuple[int, int] | None = None,
        audience_channel_id: int | None = None,
    ) -> StoryRecord:
        if consent is Consent.WITHDRAWN:
            raise ValueError("a new story cannot start withdrawn")
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                """INSERT INTO stories (community_id, teller_id, title, text, stage, stage_label,
                       consent, created_at, captured_by, consent_request, source_channel_id,
                       source_message_id, audience_channel_id)
                   VALUES (:community_id, :teller_id, :title, :text, :stage, :stage_label,
                       :consent, :created_at, :captured_by, :consent_request,
                       :source_channel_id, :source_message_id, :audience_channel_id)
                   RETURNING id""",
                {
                    "community_id": community_id, "teller_id": teller_id, "title": title,
                    "text": text, "stage": stage, "stage_label": stage_label,
                    "consent": consent.value, "created_at": to_db(now),
                    "captured_by": captured_by, "consent_request": consent_request,
                    "source_channel_id": source[0] if source else None,
                    "source_message_id": source[1] if source else None,
                    "audience_channel_id": audience_channel_id,
                },
            )  # fmt: skip
            row = await cur.fetchone()
            assert row is not None  # RETURNING gives the new row's id
            story_id = int(row[0])
        got = await self.get(story_id)
        assert got is not None
        return got

    async def get(self, story_id: int) -> StoryRecord | None:
        row = await self.db.fetchone("SELECT * FROM stories WHERE id = :id", {"id": story_id})
        return _story(row) if row else None

    async def by_source_message(self, message_id: int) -> StoryRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM stories WHERE source_message_id = :message_id",
            {"message_id": message_id},
        )
        return _story(row) if row else None

    async def delete(self, story_id: int) -> None:
        """Undo a story that could not be posted (nothing half-saved)."""
        await self.db.execute("DELETE FROM stories WHERE id = :id", {"id": story_id})

    async def set_post(self, story_id: int, post: StoryPost) -> None:
        await self.db.execute(
            "UPDATE stories SET post_channel_id = :channel_id, post_message_id = :message_id,"
            " post_is_thread = :is_thread WHERE id = :id AND consent <> 'withdrawn'",
            {
                "channel_id": post.channel_id, "message_id": post.message_id,
                "is_thread": int(post.is_thread), "id": story_id,
            },
        )

    async def set_words(self, story_id: int, title: str, text: str) -> None:
        """The teller's edit of a live story's title and text."""
        await self.db.execute(
            "UPDATE stories SET title = :title, text = :text"
            " WHERE id = :id AND consent <> 'withdrawn'",
            {"title": title, "text": text, "id": story_id},
        )

    async def set_consent(self, story_id: int, consent: Consent) -> StoryRecord | None:
        """Change a live story's consent (not to ``withdrawn``: see :meth:`withdraw`); this
        also answers any pending consent question."""
        if consent is Consent.WITHDRAWN:
            raise ValueError("use withdraw() to withdraw a story")
        await self.db.execute(
            "UPDATE stories SET consent = :consent, consent_request = NULL"
            " WHERE id = :id AND consent <> 'withdrawn'",
            {"consent": consent.value, "id": story_id},
        )
        return await self.get(story_id)

    async def claim_widening(self, story_id: int, consent: Consent) -> bool:
        """Open a restricted story to the whole community at the teller's chosen consent;
        False if it was not restricted (any more), so two answers at once cannot both post
        it. The pending question stays pending until the post is made."""
        if consent is Consent.WITHDRAWN:
            raise ValueError("use withdraw() to withdraw a story")
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE stories SET audience_channel_id = NULL, consent = :consent"
                " WHERE id = :id AND audience_channel_id IS NOT NULL"
                " AND consent <> 'withdrawn'",
                {"consent": consent.value, "id": story_id},
            )
            return cur.rowcount > 0

    async def restrict(self, story_id: int, channel_id: int, consent: Consent) -> None:
        """Undo :meth:`claim_widening` (its post could not be made)."""
        await self.db.execute(
            "UPDATE stories SET audience_channel_id = :channel_id, consent = :consent"
            " WHERE id = :id AND consent <> 'withdrawn'",
            {"channel_id": channel_id, "consent": consent.value, "id": story_id},
        )

    async def set_consent_request(self, story_id: int, request: ConsentRequest | None) -> None:
        await self.db.execute(
            "UPDATE stories SET consent_request = :request"
            " WHERE id = :id AND consent <> 'withdrawn'",
            {"request": request, "id": story_id},
        )

    async def withdraw(self, story_id: int, now: datetime) -> StoryRecord | None:
        """Leave only the tombstone: id, community, when told and when withdrawn."""
        await self.db.execute(
            """UPDATE stories SET consent = 'withdrawn', withdrawn_at = :now, teller_id = NULL,
                   title = NULL, text = NULL, stage = NULL, stage_label = NULL,
                   captured_by = NULL, consent_request = NULL, source_channel_id = NULL,
                   source_message_id = NULL, post_channel_id = NULL, post_message_id = NULL,
                   post_is_thread = 0, audience_channel_id = NULL
               WHERE id = :id AND consent <> 'withdrawn'""",
            {"now": to_db(now), "id": story_id},
        )
        return await self.get(story_id)

    async def list_visible(
        self,
        community_id: int,
        *,
        stage: str | None = None,
        offset: int = 0,
        limit: int = 5,
        viewer_id: int | None = None,
        audiences: Collection[int] = (),
    ) -> tuple[list[StoryRecord], int]:
        """A page of the community's live stories, newest first, and how many there are.
        Withdrawn stories are never listed. A story whose audience is restricted is listed
        only to its teller (``viewer_id``) and to those who can read its channel (the caller
        says which restricted ``audiences`` the viewer can read)."""
        readable = sorted({int(a) for a in audiences})
        where = (
            "community_id = :community_id AND consent <> 'withdrawn'"
            " AND (audience_channel_id IS NULL OR teller_id = :viewer_id"
            f"{''.join(f' OR audience_channel_id = :a{i}' for i in range(len(readable)))})"
        )
        params: dict[str, object] = {"community_id": community_id, "viewer_id": viewer_id}
        params.update({f"a{i}": a for i, a in enumerate(readable)})
        if stage is not None:
            where += " AND stage = :stage"
            params["stage"] = stage
        total = int(await self.db.fetchval(f"SELECT COUNT(*) FROM stories WHERE {where}", params))
        rows = await self.db.fetchall(
            f"SELECT * FROM stories WHERE {where} ORDER BY created_at DESC, id DESC"
            " LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        return [_story(r) for r in rows], total

    async def restricted_audiences(self, community_id: int) -> list[int]:
        """The channels the community's restricted stories are confined to."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT audience_channel_id FROM stories WHERE community_id = :community_id"
            " AND audience_channel_id IS NOT NULL AND consent <> 'withdrawn'",
            {"community_id": community_id},
        )
        return [int(r[0]) for r in rows]

    async def pending_consent(self, user_id: int, request: ConsentRequest | None = None) -> list[
        StoryRecord
    ]:
        sql = "SELECT * FROM stories WHERE teller_id = :user_id AND consent_request IS NOT NULL"
        params: dict[str, object] = {"user_id": user_id}
        if request is not None:
            sql += " AND consent_request = :request"
            params["request"] = request
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [_story(r) for r in rows]

    async def of_teller_in_guild(
        self, user_id: int, guild_id: int, search: str = "", limit: int = 25
    ) -> list[StoryRecord]:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self.db.fetchall(
            "SELECT s.* FROM stories s JOIN communities c ON c.id = s.community_id"
            " WHERE s.teller_id = :user_id AND c.guild_id = :guild_id"
            " AND s.consent <> 'withdrawn' AND (lower(s.title) LIKE lower(:title) ESCAPE '\\'"
            " OR CAST(s.id AS TEXT) LIKE :id_prefix ESCAPE '\\')"
            " ORDER BY s.created_at DESC, s.id DESC LIMIT :limit",
            {
                "user_id": user_id, "guild_id": guild_id, "title": f"%{escaped}%",
                "id_prefix": f"{escaped}%", "limit": limit,
            },
        )
        return [_story(r) for r in rows]

    async def created_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[StoryRecord]:
        """Every story (tombstones included) created in ``[start, end)``, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM stories WHERE community_id = :community_id"
            " AND created_at >= :start AND created_at < :end ORDER BY created_at, id",
            {"community_id": community_id, "start": to_db(start), "end": to_db(end)},
        )
        return [_story(r) for r in rows]

    # ------------------------------------------------------------------ schedules
    async def schedule(self, community_id: int) -> PromptSchedule | None:
        row = await self.db.fetchone(
            "SELECT * FROM story_schedules WHERE community_id = :community_id",
            {"community_id": community_id},
        )
        return _schedule(row) if row else None

    async def active_schedules(self) -> list[PromptSchedule]:
        rows = await self.db.fetchall(
            "SELECT s.* FROM story_schedules s JOIN communities c ON c.id = s.community_id"
            " WHERE s.cadence <> 'off' AND c.archived_at IS NULL ORDER BY s.community_id"
        )
        return [_schedule(r) for r in rows]

    async def set_schedule(self, schedule: PromptSchedule) -> None:
        """Replace the community's schedule; the history of what was handled restarts at
        ``set_at`` so a new schedule never posts for a time before it existed."""
        await self.db.execute(
            """INSERT INTO story_schedules (community_id, cadence, weekday, time_of_day, anchor,
                   set_at, last_due_at) VALUES (:community_id, :cadence, :weekday,
                   :time_of_day, :anchor, :set_at, :last_due_at)
               ON CONFLICT (community_id) DO UPDATE SET cadence = excluded.cadence,
                   weekday = excluded.weekday, time_of_day = excluded.time_of_day,
                   anchor = excluded.anchor, set_at = excluded.set_at,
                   last_due_at = excluded.last_due_at""",
            {
                "community_id": schedule.community_id, "cadence": schedule.cadence.value,
                "weekday": schedule.weekday,
                "time_of_day": schedule.time_of_day.strftime("%H:%M"),
                "anchor": schedule.anchor.isoformat(), "set_at": to_db(schedule.set_at),
                "last_due_at": to_db(schedule.last_due_at),
            },
        )

    async def mark_handled(self, community_id: int, due: datetime) -> None:
        """Record that the run due at ``due`` was dealt with (posted or skipped)."""
        await self.db.execute(
            "UPDATE story_schedules SET last_due_at = :due WHERE community_id = :community_id"
            " AND (last_due_at IS NULL OR last_due_at < :due)",
            {"due": to_db(due), "community_id": community_id},
        )

    # ------------------------------------------------------------------ prompts
    async def prompt_history(self, community_id: int) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT prompt_text FROM story_prompts_posted WHERE community_id = :community_id"
            " ORDER BY id",
            {"community_id": community_id},
        )
        return [r[0] for r in rows]

    async def claim_prompt(
        self, community_id: int, text: str, due: datetime | None, now: datetime
    ) -> int | None:
        """Record a prompt about to be posted; ``None`` if the run due at ``due`` was
        already claimed (the guard that makes a scheduled prompt post at most once).
        Also marks ``due`` handled on the schedule, in the same transaction."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO story_prompts_posted (community_id, prompt_text, due_at, posted_at)"
                " VALUES (:community_id, :text, :due, :now) ON CONFLICT DO NOTHING RETURNING id",
                {"community_id": community_id, "text": text, "due": to_db(due), "now": to_db(now)},
            )
            row = await cur.fetchone()
            if row is None:
                return None
            claim = int(row[0])
            if due is not None:
                await conn.execute(
                    "UPDATE story_schedules SET last_due_at = :due"
                    " WHERE community_id = :community_id"
                    " AND (last_due_at IS NULL OR last_due_at < :due)",
                    {"due": to_db(due), "community_id": community_id},
                )
        return claim

    async def prompt_posted(self, claim: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE story_prompts_posted SET channel_id = :channel_id, message_id = :message_id"
            " WHERE id = :id",
            {"channel_id": channel_id, "message_id": message_id, "id": claim},
        )

    async def unposted_prompts(self, since: datetime) -> list[tuple[int, int, str]]:
        """(claim, community id, text) of prompts claimed at or after ``since`` and never
        recorded as posted: a crash came between the claim and the post."""
        rows = await self.db.fetchall(
            "SELECT id, community_id, prompt_text FROM story_prompts_posted"
            " WHERE message_id IS NULL AND posted_at >= :since ORDER BY id",
            {"since": to_db(since)},
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def release_prompt(self, claim: int) -> None:
        """Posting failed: forget the claim so the prompt is not counted as used."""
        await self.db.execute("DELETE FROM story_prompts_posted WHERE id = :id", {"id": claim})

    async def posted_prompts(self, community_id: int) -> list[tuple[str, datetime | None]]:
        rows = await self.db.fetchall(
            "SELECT prompt_text, due_at FROM story_prompts_posted"
            " WHERE community_id = :community_id ORDER BY id",
            {"community_id": community_id},
        )
        return [(r[0], from_db(r[1])) for r in rows]


#: The stories a recipient's digest looks at: its ``story_offers`` rows (kept by triggers,
#: migration 0013) for stories of one community told before the period's end, minus those
#: another digest of the recipient offered (one that counts: not failed with nothing
#: delivered). CROSS JOIN makes SQLite start from those few rows, never from the
#: community's whole history of stories (the join condition is in WHERE: PostgreSQL takes
#: no ON after CROSS JOIN, and plans the join itself). Parameters: ``recipient_id``,
#: ``community_id``, ``end``, ``since`` (or NULL), ``digest_id`` (the digest being
#: compiled, or NULL).
OFFER_CANDIDATES = (
    "SELECT s.* FROM story_offers o CROSS JOIN stories s"
    " WHERE s.id = o.story_id AND o.recipient_id = :recipient_id"
    " AND s.community_id = :community_id AND s.created_at < :end"
    " AND s.created_at >= COALESCE(:since, s.created_at) AND NOT EXISTS ("
    " SELECT 1 FROM digest_stories ds JOIN digests d ON d.id = ds.digest_id"
    " WHERE ds.story_id = s.id AND d.community_id = :recipient_id"
    " AND d.id IS DISTINCT FROM :digest_id"
    " AND (d.state <> 'failed' OR d.dm_done <> 0 OR d.email_done <> 0))"
    " ORDER BY s.created_at, s.id"
)


async def offer_candidates(
    db: Database,
    recipient_id: int,
    community_id: int,
    end: datetime,
    since: datetime | None,
    digest_id: int | None,
) -> list[StoryRecord]:
    """The stories of ``community_id`` a digest of ``recipient_id`` may offer (see
    :data:`OFFER_CANDIDATES`), oldest first."""
    rows = await db.fetchall(
        OFFER_CANDIDATES,
        {
            "recipient_id": recipient_id, "community_id": community_id, "end": to_db(end),
            "since": to_db(since), "digest_id": digest_id,
        },
    )
    return [_story(r) for r in rows]


async def offered_in(db: Database, digest_id: int, community_id: int) -> list[StoryRecord]:
    """The stories of ``community_id`` a digest recorded as offered, oldest first."""
    rows = await db.fetchall(
        "SELECT s.* FROM stories s JOIN digest_stories ds ON ds.story_id = s.id"
        " WHERE ds.digest_id = :digest_id AND s.community_id = :community_id"
        " ORDER BY s.created_at, s.id",
        {"digest_id": digest_id, "community_id": community_id},
    )
    return [_story(r) for r in rows]


async def record_offers(
    db: Database,
    digest_id: int,
    community_id: int,
    recipient_id: int,
    offered: Collection[int],
    not_shareable: Collection[int],
) -> None:
    """What a digest offers from ``community_id``, replacing what an earlier attempt of it
    recorded, and the recipient's ``story_offers`` rows that are done with, in one
    transaction."""
    async with db.transaction() as conn:
        await conn.execute(
            "DELETE FROM digest_stories WHERE digest_id = :digest_id"
            " AND (SELECT community_id FROM stories WHERE id = story_id) = :community_id",
            {"digest_id": digest_id, "community_id": community_id},
        )
        await conn.executemany(
            "INSERT INTO digest_stories (digest_id, story_id) VALUES (:digest_id, :story_id)",
            [{"digest_id": digest_id, "story_id": sid} for sid in offered],
        )
        # Not shareable now: it comes back (by trigger) when its row changes again.
        await conn.executemany(
            "DELETE FROM story_offers WHERE recipient_id = :recipient_id"
            " AND story_id = :story_id",
            [{"recipient_id": recipient_id, "story_id": sid} for sid in not_shareable],
        )
        # Delivered by another digest (a pending one keeps its rows until it is).
        await conn.execute(
            "DELETE FROM story_offers WHERE recipient_id = :recipient_id AND EXISTS ("
            " SELECT 1 FROM digest_stories ds JOIN digests d ON d.id = ds.digest_id"
            " WHERE ds.story_id = story_offers.story_id AND d.community_id = :recipient_id"
            " AND d.id <> :digest_id"
            " AND (d.state = 'sent' OR d.dm_done <> 0 OR d.email_done <> 0))",
            {"recipient_id": recipient_id, "digest_id": digest_id},
        )
