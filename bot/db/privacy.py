"""Everything Hearth stores about one member: gathering it (export) and erasing it.

This file is longer than 400 lines on purpose: every table that names a member is read
(export) and erased here side by side, so adding one means one place to update.

SQL only; ballots are returned as stored (the domain words them). The erasure runs in ONE
transaction, so a member is either wholly erased or not at all; the Discord side (story
posts, roles, notices) happens afterwards (``cogs/privacy``, through
:mod:`bot.services.privacy`). The rules for what is deleted, detached or kept are in
:mod:`bot.domain.privacy`.

Adding a table or column that names a member? Add it here (export and erase) and to
:data:`ACTOR_COLUMNS` / :data:`MEMBER_ROWS`: ``tests/db/test_privacy_repo.py`` fails on any
column that looks like a person's id and is not covered.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from bot.db.change_rounds import erase_rows as erase_change_rows
from bot.db.change_rounds import export_rows as export_change_rows
from bot.db.database import Conn, Database, Row
from bot.db.documents import erase_rows as erase_document_rows
from bot.db.documents import export_rows as export_document_rows
from bot.db.papers import erase_rows as erase_paper_rows
from bot.db.papers import export_rows as export_paper_rows
from bot.db.polls import decode_ballot, open_ballot, voter_key
from bot.db.polls import poll_from_row as _poll
from bot.db.products import erase_rows as erase_product_rows
from bot.db.products import export_rows as export_product_rows
from bot.db.rows import from_db, from_db_req
from bot.db.sealing import Sealer
from bot.db.statements import open_vote as open_statement_vote
from bot.domain.polls import Ballot, as_kind
from bot.domain.privacy import (
    ERASED_MEMBER,
    ActivityExport,
    AnnualAnswerExport,
    AttendanceExport,
    ErasureResult,
    ExportData,
    LeftCommunity,
    MembershipRecord,
    PollBallotRecord,
    ReminderExport,
    RsvpExport,
    SponsorExport,
    StatementExport,
    StatementVoteExport,
    StoryExport,
    StoryPostRef,
    ValueStoryExport,
)
from bot.domain.stories import Consent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActorColumn:
    """A column recording who did something to a shared record (kept, the person erased)."""

    table: str
    column: str
    nullable: bool

    @property
    def replacement(self) -> int | None:
        return None if self.nullable else ERASED_MEMBER


#: Who created / closed / marked a shared record. Erasure keeps the record and forgets the person.
ACTOR_COLUMNS: tuple[ActorColumn, ...] = (
    ActorColumn("communities", "created_by", nullable=False),
    ActorColumn("stories", "captured_by", nullable=True),
    ActorColumn("polls", "created_by", nullable=False),
    ActorColumn("polls", "closed_by", nullable=True),
    ActorColumn("statement_rounds", "opened_by", nullable=False),
    ActorColumn("change_rounds", "opened_by", nullable=False),
    ActorColumn("meeting_series", "created_by", nullable=False),
    ActorColumn("meetings", "created_by", nullable=False),
    ActorColumn("meetings", "notes_by", nullable=True),
    ActorColumn("meetings", "cancelled_by", nullable=True),
    ActorColumn("meeting_attendance", "marked_by", nullable=False),
    ActorColumn("digest_schedules", "updated_by", nullable=False),
    ActorColumn("documents", "created_by", nullable=True),
    ActorColumn("document_quotes", "proposed_by", nullable=True),
    ActorColumn("document_proposals", "decided_by", nullable=True),
    ActorColumn("annual_reports", "opened_by", nullable=False),
    ActorColumn("products", "created_by", nullable=True),
    ActorColumn("papers", "closed_by", nullable=True),
    ActorColumn("product_sources", "linked_by", nullable=True),
    ActorColumn("product_events", "recorded_by", nullable=True),
)

#: Rows that are *about* the member (deleted, or detached when a closed result needs them).
MEMBER_ROWS: tuple[tuple[str, str], ...] = (
    ("memberships", "user_id"),
    ("communities", "sponsor_id"),
    ("stories", "teller_id"),
    ("value_stories", "teller_id"),
    ("poll_sealed_ballots", "user_id"),
    ("poll_final_ballots", "user_id"),
    ("poll_voters", "user_id"),
    ("statements", "author_id"),
    ("change_stories", "teller_id"),
    ("change_choices", "user_id"),
    ("meeting_rsvps", "user_id"),
    ("meeting_attendance", "user_id"),
    ("meeting_reminder_deliveries", "user_id"),
    ("message_activity", "user_id"),
    ("document_quotes", "teller_id"),
    ("document_proposals", "proposed_by"),
    ("annual_answers", "user_id"),
    ("papers", "author_id"),
    ("paper_comments", "user_id"),
)


async def _all(conn: Conn, sql: str, params: dict[str, Any] | None = None) -> list[Row]:
    async with conn.execute(sql, params or {}) as cur:
        return list(await cur.fetchall())


async def _run(conn: Conn, sql: str, params: dict[str, Any] | None = None) -> int:
    cur = await conn.execute(sql, params or {})
    return max(cur.rowcount, 0)


class PrivacyRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ export
    async def export_data(self, user_id: int) -> ExportData:
        db = self.db
        memberships = [
            MembershipRecord(
                community=r["name"],
                discipline=r["discipline"],
                region=r["region"],
                facilitator=bool(r["is_facilitator"]),
                joined_at=from_db_req(r["joined_at"]),
                left_at=from_db(r["left_at"]),
            )
            for r in await db.fetchall(
                "SELECT c.name, m.* FROM memberships m JOIN communities c ON c.id = m.community_id"
                " WHERE m.user_id = :user_id ORDER BY c.name, c.id",
                {"user_id": user_id},
            )
        ]
        sponsor_of = [
            SponsorExport(r["name"], r["sponsor_email"])
            for r in await db.fetchall(
                "SELECT name, sponsor_email FROM communities WHERE sponsor_id = :user_id"
                " ORDER BY name",
                {"user_id": user_id},
            )
        ]
        stories = [
            StoryExport(
                id=r["id"],
                community=r["name"],
                created_at=from_db_req(r["created_at"]),
                consent=r["consent"],
                title=None if r["consent"] == Consent.WITHDRAWN else r["title"],
                text=None if r["consent"] == Consent.WITHDRAWN else r["text"],
                stage=r["stage_label"],
                saved_from_chat=r["source_message_id"] is not None,
                consent_pending=r["consent_request"] is not None,
                withdrawn_at=from_db(r["withdrawn_at"]),
            )
            for r in await db.fetchall(
                "SELECT s.*, c.name FROM stories s JOIN communities c ON c.id = s.community_id"
                " WHERE s.teller_id = :user_id ORDER BY s.created_at, s.id",
                {"user_id": user_id},
            )
        ]
        value_stories = [
            ValueStoryExport(
                r["id"], r["name"], from_db_req(r["created_at"]), r["consent"], r["immediate"],
                r["potential"], r["applied"], r["realized"], r["reframing"],
            )
            for r in await db.fetchall(
                "SELECT s.*, c.name FROM value_stories s JOIN communities c"
                " ON c.id = s.community_id WHERE s.teller_id = :user_id"
                " ORDER BY s.created_at, s.id",
                {"user_id": user_id},
            )
        ]
        votes: list[PollBallotRecord] = []
        voted_in = [
            int(r[0])
            for r in await db.fetchall(
                "SELECT poll_id FROM poll_voters WHERE user_id = :user_id ORDER BY poll_id",
                {"user_id": user_id},
            )
        ]
        polls = await db.fetchall(
            "SELECT p.*, c.name FROM polls p JOIN communities c ON c.id = p.community_id"
            " WHERE p.id IN (SELECT poll_id FROM poll_voters WHERE user_id = :user_id)"
            " OR p.id IN (SELECT poll_id FROM poll_final_ballots WHERE user_id = :user_id)"
            " ORDER BY p.id",
            {"user_id": user_id},
        )
        for p in polls:
            kind = as_kind(p["kind"])
            options = tuple(json.loads(p["options"]))
            ballot: Ballot | None = None
            if p["ballot_key"] is not None:
                # Open: only the member's own ballot, found with the poll key.
                poll = _poll(p)
                poll_key = db.sealer.unseal_key("poll", poll.id, p["ballot_key"])
                key = voter_key(poll_key, user_id)
                sealed = await db.fetchval(
                    "SELECT sealed FROM poll_sealed_ballots WHERE poll_id = :poll_id"
                    " AND voter_key = :voter_key",
                    {"poll_id": poll.id, "voter_key": key},
                )
                if sealed is not None:
                    ballot = open_ballot(poll_key, poll, key, sealed)
            elif not p["anonymous"]:
                raw = await db.fetchval(
                    "SELECT ballot FROM poll_final_ballots WHERE poll_id = :poll_id"
                    " AND user_id = :user_id",
                    {"poll_id": p["id"], "user_id": user_id},
                )
                ballot = decode_ballot(kind, raw) if raw is not None else None
            if ballot is None:
                continue  # an anonymous closed poll: unlinkable by design
            votes.append(
                PollBallotRecord(
                    poll_id=p["id"],
                    community=p["name"],
                    question=p["question"],
                    anonymous=bool(p["anonymous"]),
                    open=p["closed_at"] is None,
                    kind=kind.value,
                    options=options,
                    ballot=ballot,
                )
            )
        statements = [
            StatementExport(r["id"], r["name"], r["text"], from_db_req(r["created_at"]),
                            r["round_id"])
            for r in await db.fetchall(
                "SELECT s.*, c.name FROM statements s JOIN communities c"
                " ON c.id = s.community_id WHERE s.author_id = :user_id ORDER BY s.id",
                {"user_id": user_id},
            )
        ]
        # Statement votes: only in open rounds (a closed round keeps its report, not votes).
        statement_votes: list[StatementVoteExport] = []
        for r in await db.fetchall(
            "SELECT r.id, r.ballot_key, c.name FROM statement_rounds r"
            " JOIN communities c ON c.id = r.community_id"
            " JOIN memberships m ON m.community_id = r.community_id AND m.user_id = :user_id"
            " WHERE r.ballot_key IS NOT NULL ORDER BY r.id",
            {"user_id": user_id},
        ):
            round_key = db.sealer.unseal_key("round", r["id"], r["ballot_key"])
            voter = Sealer.voter_key(round_key, user_id)
            for v in await db.fetchall(
                "SELECT v.statement_id, v.sealed, s.text FROM statement_sealed_votes v"
                " JOIN statements s ON s.id = v.statement_id"
                " WHERE v.round_id = :round_id AND v.voter_key = :voter_key"
                " ORDER BY v.statement_id",
                {"round_id": r["id"], "voter_key": voter},
            ):
                vote = open_statement_vote(round_key, r["id"], v["statement_id"], voter,
                                           v["sealed"])
                statement_votes.append(
                    StatementVoteExport(v["statement_id"], r["name"], v["text"], vote.value,
                                        False)
                )
        meeting_join = (
            " JOIN meetings mt ON mt.id = x.meeting_id JOIN communities c ON c.id = mt.community_id"
            " WHERE x.user_id = :user_id ORDER BY mt.start_at, mt.id"
        )
        rsvps = [
            RsvpExport(r["meeting_id"], r["name"], r["title"], from_db_req(r["start_at"]),
                       r["answer"], from_db_req(r["answered_at"]))
            for r in await db.fetchall(
                "SELECT x.*, mt.title, mt.start_at, c.name FROM meeting_rsvps x" + meeting_join,
                {"user_id": user_id},
            )
        ]
        attendance = [
            AttendanceExport(r["meeting_id"], r["name"], r["title"], from_db_req(r["start_at"]),
                             from_db_req(r["marked_at"]))
            for r in await db.fetchall(
                "SELECT x.*, mt.title, mt.start_at, c.name FROM meeting_attendance x"
                + meeting_join,
                {"user_id": user_id},
            )
        ]
        reminders = [
            ReminderExport(r["meeting_id"], r["name"], r["title"], r["offset_seconds"],
                           r["outcome"])
            for r in await db.fetchall(
                "SELECT x.*, mt.title, mt.start_at, c.name FROM meeting_reminder_deliveries x"
                + meeting_join,
                {"user_id": user_id},
            )
        ]
        activity = [
            ActivityExport(r["name"], r["day"], r["hour"], r["messages"])
            for r in await db.fetchall(
                "SELECT a.day, a.hour, a.messages, c.name FROM message_activity a"
                " JOIN communities c ON c.id = a.community_id WHERE a.user_id = :user_id"
                " ORDER BY c.name, a.day, a.hour",
                {"user_id": user_id},
            )
        ]
        annual_answers = [
            AnnualAnswerExport(
                r["name"], r["year"], r["contacts"], r["education"], r["feedback"], r["skills"],
                r["other"], r["quote_consent"], from_db_req(r["answered_at"]),
                from_db_req(r["updated_at"]),
            )
            for r in await db.fetchall(
                "SELECT a.*, r.year, c.name FROM annual_answers a"
                " JOIN annual_reports r ON r.id = a.report_id"
                " JOIN communities c ON c.id = r.community_id WHERE a.user_id = :user_id"
                " ORDER BY r.year, c.name",
                {"user_id": user_id},
            )
        ]  # fmt: skip
        created: dict[str, int] = {}
        for col in ACTOR_COLUMNS:
            n = int(
                await db.fetchval(
                    f"SELECT COUNT(*) FROM {col.table} WHERE {col.column} = :user_id",
                    {"user_id": user_id},
                )
            )
            if n:
                created[f"{col.table}.{col.column}"] = n
        return ExportData(
            user_id=user_id,
            memberships=memberships,
            stories=stories,
            value_stories=value_stories,
            poll_ballots=votes,
            voted_in_polls=voted_in,
            statements=statements,
            statement_votes=statement_votes,
            rsvps=rsvps,
            attendance=attendance,
            reminders=reminders,
            activity=activity,
            sponsor_of=sponsor_of,
            created=created,
            annual_answers=annual_answers,
            documents=await export_document_rows(db, user_id),
            papers=await export_paper_rows(db, user_id),
            products=await export_product_rows(db, user_id),
            change_rounds=await export_change_rows(db, user_id),
        )

    # ------------------------------------------------------------------ erasure
    async def erase(self, user_id: int) -> ErasureResult:
        """Erase the member everywhere, atomically (rules: :mod:`bot.domain.privacy`)."""
        if user_id <= 0:
            raise ValueError("not a member id")
        counts: dict[str, int] = {}
        sealer = self.db.sealer
        async with self.db.transaction() as conn:
            communities = [
                LeftCommunity(r["community_id"], r["discipline"], r["left_at"] is None)
                for r in await _all(
                    conn,
                    "SELECT community_id, discipline, left_at FROM memberships"
                    " WHERE user_id = :user_id ORDER BY community_id",
                    {"user_id": user_id},
                )
            ]
            sponsor_of = [
                int(r[0])
                for r in await _all(
                    conn,
                    "SELECT id FROM communities WHERE sponsor_id = :user_id ORDER BY id",
                    {"user_id": user_id},
                )
            ]
            posts = [
                StoryPostRef(r["id"], r["community_id"], r["title"] or "", r["post_channel_id"],
                             r["post_message_id"], bool(r["post_is_thread"]))
                for r in await _all(
                    conn,
                    "SELECT id, community_id, title, post_channel_id, post_message_id,"
                    " post_is_thread FROM stories WHERE teller_id = :user_id"
                    " AND post_channel_id IS NOT NULL AND post_message_id IS NOT NULL ORDER BY id",
                    {"user_id": user_id},
                )
            ]

            posts += [
                StoryPostRef(r["id"], r["community_id"], "value story", r["post_channel_id"],
                             r["post_message_id"], bool(r["post_is_thread"]))
                for r in await _all(
                    conn,
                    "SELECT id, community_id, post_channel_id, post_message_id, post_is_thread"
                    " FROM value_stories WHERE teller_id = :user_id"
                    " AND post_channel_id IS NOT NULL AND post_message_id IS NOT NULL ORDER BY id",
                    {"user_id": user_id},
                )
            ]
            # Papers for comment: the author's draft is on the paper's message (open or
            # closed), so that message goes too; the closed paper's counts stay in the db.
            posts += [
                StoryPostRef(r["id"], r["community_id"], "paper for comment", r["channel_id"],
                             r["message_id"], False)
                for r in await _all(
                    conn,
                    "SELECT id, community_id, channel_id, message_id FROM papers"
                    " WHERE author_id = :user_id AND channel_id IS NOT NULL"
                    " AND message_id IS NOT NULL ORDER BY id",
                    {"user_id": user_id},
                )
            ]
            # Value stories: the teller's own words, deleted with their posts.
            counts["value_stories"] = await _run(
                conn, "DELETE FROM value_stories WHERE teller_id = :user_id", {"user_id": user_id}
            )
            # Stories (pending consent requests live on the story row and go with it).
            counts["stories"] = await _run(
                conn, "DELETE FROM stories WHERE teller_id = :user_id", {"user_id": user_id}
            )

            # Polls. Open: the vote is dropped (found with the poll key, or by user id when
            # not anonymous). Closed: anonymous ballots hold nothing linked to anyone;
            # a named ballot stays for the published counts, detached.
            dropped = 0
            for p in await _all(
                conn, "SELECT id, ballot_key FROM polls WHERE ballot_key IS NOT NULL"
            ):
                poll_key = sealer.unseal_key("poll", p["id"], p["ballot_key"])
                dropped += await _run(
                    conn,
                    "DELETE FROM poll_sealed_ballots WHERE poll_id = :poll_id"
                    " AND (voter_key = :voter_key OR user_id = :user_id)",
                    {
                        "poll_id": p["id"],
                        "voter_key": voter_key(poll_key, user_id),
                        "user_id": user_id,
                    },
                )
            counts["open_poll_votes_dropped"] = dropped
            counts["closed_poll_ballots_detached"] = await _run(
                conn,
                "UPDATE poll_final_ballots SET user_id = NULL WHERE user_id = :user_id",
                {"user_id": user_id},
            )
            counts["poll_turnout_rows"] = await _run(
                conn, "DELETE FROM poll_voters WHERE user_id = :user_id", {"user_id": user_id}
            )

            # Statement votes: open rounds drop them; closed rounds hold none (their report
            # is frozen at close), so their results do not change.
            statement_dropped = 0
            for r in await _all(
                conn, "SELECT id, ballot_key FROM statement_rounds WHERE ballot_key IS NOT NULL"
            ):
                round_key = sealer.unseal_key("round", r["id"], r["ballot_key"])
                statement_dropped += await _run(
                    conn,
                    "DELETE FROM statement_sealed_votes WHERE round_id = :round_id"
                    " AND voter_key = :voter_key",
                    {"round_id": r["id"], "voter_key": Sealer.voter_key(round_key, user_id)},
                )
            counts["statement_votes_dropped"] = statement_dropped
            counts["statements_kept_without_author"] = await _run(
                conn,
                "UPDATE statements SET author_id = :erased WHERE author_id = :user_id"
                " AND round_id IN (SELECT id FROM statement_rounds WHERE closed_at IS NOT NULL)",
                {"erased": ERASED_MEMBER, "user_id": user_id},
            )
            counts["statements_deleted"] = await _run(
                conn, "DELETE FROM statements WHERE author_id = :user_id", {"user_id": user_id}
            )

            # Annual report answers: what the member wrote is deleted (a closed report was
            # delivered already; an open one no longer counts them).
            counts["annual_answers"] = await _run(
                conn, "DELETE FROM annual_answers WHERE user_id = :user_id", {"user_id": user_id}
            )

            # Meetings, activity, memberships, sponsorships.
            for table in (
                "meeting_rsvps", "meeting_attendance", "meeting_reminder_deliveries",
                "message_activity", "memberships",
            ):
                counts[table] = await _run(
                    conn, f"DELETE FROM {table} WHERE user_id = :user_id", {"user_id": user_id}
                )
            counts["sponsorships"] = await _run(
                conn,
                "UPDATE communities SET sponsor_id = NULL, sponsor_email = NULL"
                " WHERE sponsor_id = :user_id",
                {"user_id": user_id},
            )

            counts.update(await erase_document_rows(conn, sealer, user_id))
            counts.update(await erase_paper_rows(conn, sealer, user_id))
            counts.update(await erase_product_rows(conn, user_id))
            counts.update(await erase_change_rows(conn, user_id))

            # Who created / closed / marked shared records: keep the record, not the person.
            for col in ACTOR_COLUMNS:
                counts[f"{col.table}.{col.column}"] = await _run(
                    conn,
                    f"UPDATE {col.table} SET {col.column} = :replacement"
                    f" WHERE {col.column} = :user_id",
                    {"replacement": col.replacement, "user_id": user_id},
                )
        log.info("erased a member: %d rows touched", sum(counts.values()))
        return ErasureResult(user_id, communities, sponsor_of, posts, counts)

    async def purge_activity(self, user_id: int) -> int:
        """Counts of the member written after the erasure (an in-flight flush)."""
        async with self.db.transaction() as conn:
            return await _run(
                conn, "DELETE FROM message_activity WHERE user_id = :user_id", {"user_id": user_id}
            )

    async def active_facilitators(self, community_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT user_id FROM memberships WHERE community_id = :community_id"
            " AND is_facilitator = 1 AND left_at IS NULL ORDER BY user_id",
            {"community_id": community_id},
        )
        return [int(r[0]) for r in rows]

    # ------------------------------------------------------------------ retention
    async def delete_activity_before(self, day: str) -> int:
        """Delete message-count aggregates of UTC days before ``day`` (YYYY-MM-DD)."""
        async with self.db.transaction() as conn:
            return await _run(
                conn, "DELETE FROM message_activity WHERE day < :day", {"day": day}
            )

    async def oldest_activity_day(self) -> str | None:
        value = await self.db.fetchval("SELECT MIN(day) FROM message_activity")
        return str(value) if value is not None else None
