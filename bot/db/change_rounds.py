"""Storage of significant-change rounds: rounds, stories of change, choices, feedback posts.

SQL only; returns domain records, never user wording. The state steps (collecting →
selecting → closed) are compare-and-set updates, so each happens exactly once however a
scheduled job and a restart race.

This module is longer than 400 lines because it holds all of the capability's SQL (rounds, stories,
choices, feedback posts) and its privacy export and erasure, which must stay beside the
tables they read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from bot.db.database import Conn, Database, Row
from bot.db.rows import from_db, from_db_req, to_db
from bot.domain.change import (
    ChangeRound,
    ChangeStory,
    Choice,
    RoundOutcome,
    RoundState,
)
from bot.domain.stories.consent import Consent


class DomainFull(Exception):
    """The domain already holds as many stories as a selector can choose from."""


def _round(row: Row) -> ChangeRound:
    return ChangeRound(
        id=row["id"],
        community_id=row["community_id"],
        selector_id=row["selector_id"],
        opened_by=row["opened_by"],
        domains=tuple(json.loads(row["domains"])),
        period_start=from_db_req(row["period_start"]),
        period_end=from_db_req(row["period_end"]),
        collect_until=from_db_req(row["collect_until"]),
        select_until=from_db_req(row["select_until"]),
        min_choices=row["min_choices"],
        state=RoundState(row["state"]),
        created_at=from_db_req(row["created_at"]),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        selection_channel_id=row["selection_channel_id"],
        selection_message_id=row["selection_message_id"],
        selection_opened_at=from_db(row["selection_opened_at"]),
        closed_at=from_db(row["closed_at"]),
        outcome=RoundOutcome.loads(row["outcome"]) if row["outcome"] else None,
    )


def _story(row: Row) -> ChangeStory:
    return ChangeStory(
        id=row["id"],
        round_id=row["round_id"],
        community_id=row["community_id"],
        domain=row["domain"],
        teller_id=row["teller_id"],
        title=row["title"],
        changed=row["changed"],
        why=row["why"],
        consent=Consent(row["consent"]),
        created_at=from_db_req(row["created_at"]),
        withdrawn_at=from_db(row["withdrawn_at"]),
    )


class ChangeRoundRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ rounds
    async def create_round(
        self,
        *,
        community_id: int,
        selector_id: int,
        opened_by: int,
        domains: tuple[str, ...],
        period: tuple[datetime, datetime],
        collect_until: datetime,
        select_until: datetime,
        min_choices: int,
        now: datetime,
    ) -> ChangeRound | None:
        """A new round, or None when the community already has one not closed (checked in
        the same transaction, so two facilitators cannot open two)."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT 1 FROM change_rounds WHERE community_id = :community_id"
                " AND state != 'closed'",
                {"community_id": community_id},
            ) as cur:
                if await cur.fetchone() is not None:
                    return None
            cur2 = await conn.execute(
                "INSERT INTO change_rounds (community_id, selector_id, opened_by, domains,"
                " period_start, period_end, collect_until, select_until, min_choices,"
                " created_at) VALUES (:community_id, :selector_id, :opened_by, :domains,"
                " :period_start, :period_end, :collect_until, :select_until, :min_choices,"
                " :created_at) RETURNING id",
                {
                    "community_id": community_id, "selector_id": selector_id,
                    "opened_by": opened_by, "domains": json.dumps(list(domains)),
                    "period_start": to_db(period[0]), "period_end": to_db(period[1]),
                    "collect_until": to_db(collect_until), "select_until": to_db(select_until),
                    "min_choices": min_choices, "created_at": to_db(now),
                },
            )  # fmt: skip
            row = await cur2.fetchone()
            assert row is not None  # RETURNING gives the new row's id
            round_id = int(row[0])
        found = await self.get_round(round_id)
        assert found is not None
        return found

    async def delete_round(self, round_id: int) -> None:
        """Undo a round that could not be announced (nothing else refers to it yet)."""
        await self.db.execute("DELETE FROM change_rounds WHERE id = :id", {"id": round_id})

    async def set_message(self, round_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE change_rounds SET channel_id = :channel_id, message_id = :message_id"
            " WHERE id = :id",
            {"channel_id": channel_id, "message_id": message_id, "id": round_id},
        )

    async def set_selection_message(self, round_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE change_rounds SET selection_channel_id = :channel_id,"
            " selection_message_id = :message_id WHERE id = :id",
            {"channel_id": channel_id, "message_id": message_id, "id": round_id},
        )

    async def get_round(self, round_id: int) -> ChangeRound | None:
        row = await self.db.fetchone("SELECT * FROM change_rounds WHERE id = :id", {"id": round_id})
        return None if row is None else _round(row)

    async def current_round(self, community_id: int) -> ChangeRound | None:
        row = await self.db.fetchone(
            "SELECT * FROM change_rounds WHERE community_id = :community_id"
            " AND state != 'closed' ORDER BY id DESC LIMIT 1",
            {"community_id": community_id},
        )
        return None if row is None else _round(row)

    async def latest_round(self, community_id: int) -> ChangeRound | None:
        row = await self.db.fetchone(
            "SELECT * FROM change_rounds WHERE community_id = :community_id"
            " ORDER BY id DESC LIMIT 1",
            {"community_id": community_id},
        )
        return None if row is None else _round(row)

    async def unfinished_rounds(self) -> list[ChangeRound]:
        rows = await self.db.fetchall(
            "SELECT * FROM change_rounds WHERE state != 'closed' ORDER BY id"
        )
        return [_round(r) for r in rows]

    async def closed_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[ChangeRound]:
        rows = await self.db.fetchall(
            "SELECT * FROM change_rounds WHERE community_id = :community_id"
            " AND state = 'closed' AND closed_at >= :start AND closed_at < :end"
            " ORDER BY closed_at, id",
            {"community_id": community_id, "start": to_db(start), "end": to_db(end)},
        )
        return [_round(r) for r in rows]

    async def closed_rounds_with_feedback(self, community_id: int) -> list[ChangeRound]:
        rows = await self.db.fetchall(
            "SELECT * FROM change_rounds WHERE community_id = :community_id"
            " AND state = 'closed' AND id IN (SELECT round_id FROM change_feedback_posts)"
            " ORDER BY id",
            {"community_id": community_id},
        )
        return [_round(r) for r in rows]

    async def open_selection(self, round_id: int, now: datetime) -> bool:
        """collecting → selecting, once: False if it had already moved on."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE change_rounds SET state = 'selecting', selection_opened_at = :now"
                " WHERE id = :id AND state = 'collecting'",
                {"now": to_db(now), "id": round_id},
            )
            return cur.rowcount == 1

    async def close_round(
        self,
        round_id: int,
        now: datetime,
        decide: Callable[[ChangeRound, list[ChangeStory], list[Choice]], RoundOutcome],
    ) -> ChangeRound | None:
        """selecting → closed, once, with the outcome frozen in the same transaction."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM change_rounds WHERE id = :id AND state = 'selecting'",
                {"id": round_id},
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            rnd = _round(row)
            async with conn.execute(
                "SELECT * FROM change_stories WHERE round_id = :round_id ORDER BY id",
                {"round_id": round_id},
            ) as cur:
                stories = [_story(r) for r in await cur.fetchall()]
            async with conn.execute(
                "SELECT domain, user_id, story_id, reason FROM change_choices"
                " WHERE round_id = :round_id ORDER BY chosen_at, domain, user_id",
                {"round_id": round_id},
            ) as cur:
                choices = [
                    Choice(r["domain"], r["user_id"], r["story_id"], r["reason"])
                    for r in await cur.fetchall()
                ]
            outcome = decide(rnd, stories, choices)
            await conn.execute(
                "UPDATE change_rounds SET state = 'closed', closed_at = :now, outcome = :outcome"
                " WHERE id = :id",
                {"now": to_db(now), "outcome": outcome.dumps(), "id": round_id},
            )
        return await self.get_round(round_id)

    # ------------------------------------------------------------------ stories
    async def add_story(
        self,
        rnd: ChangeRound,
        *,
        domain: int,
        teller_id: int,
        title: str,
        changed: str,
        why: str,
        consent: Consent,
        now: datetime,
        max_per_domain: int,
    ) -> ChangeStory | None:
        """Store a story; None when the round is no longer collecting or the domain is full."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT state FROM change_rounds WHERE id = :id", {"id": rnd.id}
            ) as cur:
                row = await cur.fetchone()
            if row is None or row["state"] != RoundState.COLLECTING.value:
                return None
            async with conn.execute(
                "SELECT COUNT(*) FROM change_stories WHERE round_id = :round_id"
                " AND domain = :domain AND consent != 'withdrawn'",
                {"round_id": rnd.id, "domain": domain},
            ) as cur:
                count_row = await cur.fetchone()
            if count_row is not None and count_row[0] >= max_per_domain:
                raise DomainFull
            cur2 = await conn.execute(
                "INSERT INTO change_stories (round_id, community_id, domain, teller_id, title,"
                " changed, why, consent, created_at) VALUES (:round_id, :community_id, :domain,"
                " :teller_id, :title, :changed, :why, :consent, :created_at) RETURNING id",
                {
                    "round_id": rnd.id, "community_id": rnd.community_id, "domain": domain,
                    "teller_id": teller_id, "title": title, "changed": changed, "why": why,
                    "consent": consent.value, "created_at": to_db(now),
                },
            )  # fmt: skip
            row = await cur2.fetchone()
            assert row is not None  # RETURNING gives the new row's id
            story_id = int(row[0])
        return await self.get_story(story_id)

    async def get_story(self, story_id: int) -> ChangeStory | None:
        row = await self.db.fetchone(
            "SELECT * FROM change_stories WHERE id = :id", {"id": story_id}
        )
        return None if row is None else _story(row)

    async def stories_of_round(self, round_id: int) -> list[ChangeStory]:
        rows = await self.db.fetchall(
            "SELECT * FROM change_stories WHERE round_id = :round_id ORDER BY domain, id",
            {"round_id": round_id},
        )
        return [_story(r) for r in rows]

    async def stories_by_ids(self, ids: list[int]) -> dict[int, ChangeStory]:
        if not ids:
            return {}
        marks = ", ".join(f":id{i}" for i in range(len(ids)))
        rows = await self.db.fetchall(
            f"SELECT * FROM change_stories WHERE id IN ({marks})",
            {f"id{i}": story_id for i, story_id in enumerate(ids)},
        )
        return {r["id"]: _story(r) for r in rows}

    async def stories_of_teller(
        self, teller_id: int, guild_community_ids: list[int]
    ) -> list[ChangeStory]:
        if not guild_community_ids:
            return []
        marks = ", ".join(f":c{i}" for i in range(len(guild_community_ids)))
        params: dict[str, object] = {"teller_id": teller_id}
        params.update({f"c{i}": cid for i, cid in enumerate(guild_community_ids)})
        rows = await self.db.fetchall(
            "SELECT * FROM change_stories WHERE teller_id = :teller_id"
            f" AND consent != 'withdrawn' AND community_id IN ({marks})"
            " ORDER BY id DESC LIMIT 25",
            params,
        )
        return [_story(r) for r in rows]

    async def stories_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[ChangeStory]:
        rows = await self.db.fetchall(
            "SELECT * FROM change_stories WHERE community_id = :community_id"
            " AND consent != 'withdrawn' AND created_at >= :start AND created_at < :end"
            " ORDER BY created_at, id",
            {"community_id": community_id, "start": to_db(start), "end": to_db(end)},
        )
        return [_story(r) for r in rows]

    async def set_consent(self, story_id: int, consent: Consent, now: datetime) -> None:
        """A new consent level; withdrawn leaves a tombstone (words and teller gone)."""
        if consent is Consent.WITHDRAWN:
            await self.db.execute(
                "UPDATE change_stories SET consent = 'withdrawn', teller_id = NULL,"
                " title = NULL, changed = NULL, why = NULL, withdrawn_at = :now WHERE id = :id",
                {"now": to_db(now), "id": story_id},
            )
        else:
            await self.db.execute(
                "UPDATE change_stories SET consent = :consent"
                " WHERE id = :id AND consent != 'withdrawn'",
                {"consent": consent.value, "id": story_id},
            )

    # ------------------------------------------------------------------ choices
    async def choose(self, rnd: ChangeRound, choice: Choice, now: datetime) -> tuple[bool, bool]:
        """Store or replace a selector's choice: (stored, changed an earlier one). Not stored
        when the round is no longer selecting."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT state FROM change_rounds WHERE id = :id", {"id": rnd.id}
            ) as cur:
                row = await cur.fetchone()
            if row is None or row["state"] != RoundState.SELECTING.value:
                return False, False
            async with conn.execute(
                "SELECT 1 FROM change_choices WHERE round_id = :round_id AND domain = :domain"
                " AND user_id = :user_id",
                {"round_id": rnd.id, "domain": choice.domain, "user_id": choice.selector_id},
            ) as cur:
                earlier = await cur.fetchone() is not None
            await conn.execute(
                "INSERT INTO change_choices (round_id, domain, user_id, story_id, reason,"
                " chosen_at) VALUES (:round_id, :domain, :user_id, :story_id, :reason, :now)"
                " ON CONFLICT (round_id, domain, user_id) DO UPDATE SET"
                " story_id = excluded.story_id, reason = excluded.reason,"
                " chosen_at = excluded.chosen_at",
                {
                    "round_id": rnd.id, "domain": choice.domain, "user_id": choice.selector_id,
                    "story_id": choice.story_id, "reason": choice.reason, "now": to_db(now),
                },
            )  # fmt: skip
        return True, earlier

    async def choice_of(self, round_id: int, domain: int, selector_id: int) -> Choice | None:
        row = await self.db.fetchone(
            "SELECT domain, user_id, story_id, reason FROM change_choices"
            " WHERE round_id = :round_id AND domain = :domain AND user_id = :user_id",
            {"round_id": round_id, "domain": domain, "user_id": selector_id},
        )
        if row is None:
            return None
        return Choice(row["domain"], row["user_id"], row["story_id"], row["reason"])

    async def choices_of(self, round_id: int, selector_id: int) -> list[Choice]:
        rows = await self.db.fetchall(
            "SELECT domain, user_id, story_id, reason FROM change_choices"
            " WHERE round_id = :round_id AND user_id = :user_id ORDER BY domain",
            {"round_id": round_id, "user_id": selector_id},
        )
        return [Choice(r["domain"], r["user_id"], r["story_id"], r["reason"]) for r in rows]

    async def selector_count(self, round_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(DISTINCT user_id) FROM change_choices WHERE round_id = :round_id",
                {"round_id": round_id},
            )
            or 0
        )

    # ------------------------------------------------------------------ feedback posts
    async def add_feedback_post(
        self, round_id: int, domain: int, audience: str, channel_id: int, message_id: int
    ) -> None:
        await self.db.execute(
            "INSERT INTO change_feedback_posts (round_id, domain, audience, channel_id,"
            " message_id) VALUES (:round_id, :domain, :audience, :channel_id, :message_id)"
            " ON CONFLICT (round_id, domain, audience) DO UPDATE SET"
            " channel_id = excluded.channel_id, message_id = excluded.message_id",
            {
                "round_id": round_id,
                "domain": domain,
                "audience": audience,
                "channel_id": channel_id,
                "message_id": message_id,
            },
        )

    async def feedback_posts(self, round_id: int) -> list[tuple[int, str, int, int]]:
        rows = await self.db.fetchall(
            "SELECT domain, audience, channel_id, message_id FROM change_feedback_posts"
            " WHERE round_id = :round_id ORDER BY domain, audience",
            {"round_id": round_id},
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]


# ---------------------------------------------------------------------- privacy


async def export_rows(db: Database, user_id: int) -> list[dict[str, object]]:
    """What a member did in significant-change rounds: the stories of change they told (with
    their words and consent) and their choices as a selector (with their reasons)."""
    found: list[dict[str, object]] = []
    for r in await db.fetchall(
        "SELECT s.*, c.name, r.domains FROM change_stories s"
        " JOIN change_rounds r ON r.id = s.round_id"
        " JOIN communities c ON c.id = s.community_id WHERE s.teller_id = :user_id"
        " ORDER BY s.id",
        {"user_id": user_id},
    ):
        domains = json.loads(r["domains"])
        found.append({
            "kind": "story of change you told", "story_id": r["id"], "round_id": r["round_id"],
            "community": r["name"],
            "domain": domains[r["domain"]] if r["domain"] < len(domains) else None,
            "title": r["title"], "what_changed": r["changed"], "why_significant": r["why"],
            "consent": r["consent"], "at": r["created_at"],
        })  # fmt: skip
    for r in await db.fetchall(
        "SELECT x.*, c.name, r.domains FROM change_choices x"
        " JOIN change_rounds r ON r.id = x.round_id"
        " JOIN communities c ON c.id = r.community_id WHERE x.user_id = :user_id"
        " ORDER BY x.round_id, x.domain",
        {"user_id": user_id},
    ):
        domains = json.loads(r["domains"])
        found.append({
            "kind": "your choice as a selector", "round_id": r["round_id"],
            "community": r["name"],
            "domain": domains[r["domain"]] if r["domain"] < len(domains) else None,
            "story_id": r["story_id"], "reason": r["reason"], "at": r["chosen_at"],
        })  # fmt: skip
    return found


async def erase_rows(conn: Conn, user_id: int) -> dict[str, int]:
    """Inside the privacy erasure's transaction. The member's stories of change become
    tombstones (words, title and teller deleted, as a withdrawal does), so a frozen selection
    still says "a story its teller withdrew". Their choices are deleted: an open round's
    tally no longer counts them; a closed round's outcome was frozen at close and holds the
    reasons without any selector's id (the group's record, detached). Who opened a round is
    forgotten by the erasure's actor columns (``change_rounds.opened_by``)."""
    counts: dict[str, int] = {}
    cur = await conn.execute(
        "UPDATE change_stories SET consent = 'withdrawn', teller_id = NULL, title = NULL,"
        " changed = NULL, why = NULL, withdrawn_at = COALESCE(withdrawn_at, created_at)"
        " WHERE teller_id = :user_id",
        {"user_id": user_id},
    )
    counts["change_stories_deleted"] = max(cur.rowcount, 0)
    cur = await conn.execute(
        "DELETE FROM change_choices WHERE user_id = :user_id", {"user_id": user_id}
    )
    counts["change_choices_deleted"] = max(cur.rowcount, 0)
    return counts
