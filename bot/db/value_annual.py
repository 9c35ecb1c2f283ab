"""Storage of the members' annual report: the collections and the members' answers.

SQL only; the rules are :mod:`bot.services.value_annual`'s and the counting is
:mod:`bot.domain.value.annual`'s. Every state change that must happen once (the close, the
reminder's claim) is a conditional ``UPDATE`` whose row count says whether this call did it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.db.database import INTEGRITY_ERRORS, Database, Row
from bot.db.rows import from_db, from_db_req, to_db
from bot.domain.stories import Consent
from bot.domain.value.annual import QUESTION_KEYS, AnnualAnswer


@dataclass(frozen=True)
class AnnualReport:
    """One annual collection as stored."""

    id: int
    community_id: int
    year: int
    opened_by: int
    opened_at: datetime
    closes_at: datetime
    remind_at: datetime | None
    reminded_at: datetime | None
    state: str
    closed_at: datetime | None
    invited: int | None
    unreachable: int | None
    lounge_channel_id: int | None
    lounge_message_id: int | None
    emailed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state == "open"


class AlreadyOpen(Exception):
    """The community already has an open annual report for that year."""


@dataclass(frozen=True)
class AnswerExport:
    """A member's own answer, for ``/privacy export``."""

    community: str
    year: int
    answer: AnnualAnswer


def _report(row: Row) -> AnnualReport:
    return AnnualReport(
        id=row["id"],
        community_id=row["community_id"],
        year=row["year"],
        opened_by=row["opened_by"],
        opened_at=from_db_req(row["opened_at"]),
        closes_at=from_db_req(row["closes_at"]),
        remind_at=from_db(row["remind_at"]),
        reminded_at=from_db(row["reminded_at"]),
        state=row["state"],
        closed_at=from_db(row["closed_at"]),
        invited=row["invited"],
        unreachable=row["unreachable"],
        lounge_channel_id=row["lounge_channel_id"],
        lounge_message_id=row["lounge_message_id"],
        emailed_at=from_db(row["emailed_at"]),
    )


def answer_from_row(row: Row) -> AnnualAnswer:
    return AnnualAnswer(
        user_id=row["user_id"],
        texts={k: row[k] for k in QUESTION_KEYS},
        consent=Consent(row["quote_consent"]),
        answered_at=from_db_req(row["answered_at"]),
        updated_at=from_db_req(row["updated_at"]),
    )


class AnnualRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ reports
    async def create(
        self,
        community_id: int,
        year: int,
        opened_by: int,
        opened_at: datetime,
        closes_at: datetime,
        remind_at: datetime | None,
    ) -> AnnualReport:
        try:
            # The only statement of its transaction: a refusal rolls it back whole, on
            # either engine.
            async with self.db.transaction() as conn:
                cur = await conn.execute(
                    "INSERT INTO annual_reports (community_id, year, opened_by, opened_at,"
                    " closes_at, remind_at) VALUES (:community_id, :year, :opened_by,"
                    " :opened_at, :closes_at, :remind_at) RETURNING id",
                    {
                        "community_id": community_id, "year": year, "opened_by": opened_by,
                        "opened_at": to_db(opened_at), "closes_at": to_db(closes_at),
                        "remind_at": to_db(remind_at),
                    },
                )  # fmt: skip
                row = await cur.fetchone()
                assert row is not None  # RETURNING gives the new row's id
                report_id = int(row[0])
        except INTEGRITY_ERRORS as exc:
            raise AlreadyOpen from exc
        found = await self.get(report_id)
        assert found is not None
        return found

    async def get(self, report_id: int) -> AnnualReport | None:
        row = await self.db.fetchone(
            "SELECT * FROM annual_reports WHERE id = :id", {"id": report_id}
        )
        return None if row is None else _report(row)

    async def open_for(self, community_id: int, year: int) -> AnnualReport | None:
        row = await self.db.fetchone(
            "SELECT * FROM annual_reports WHERE community_id = :community_id AND year = :year"
            " AND state = 'open'",
            {"community_id": community_id, "year": year},
        )
        return None if row is None else _report(row)

    async def open_reports(self) -> list[AnnualReport]:
        rows = await self.db.fetchall(
            "SELECT * FROM annual_reports WHERE state = 'open' ORDER BY closes_at, id"
        )
        return [_report(r) for r in rows]

    async def discard(self, report_id: int) -> None:
        """Opening failed before anyone was asked: nothing of it stays."""
        await self.db.execute("DELETE FROM annual_reports WHERE id = :id", {"id": report_id})

    async def set_invited(
        self,
        report_id: int,
        invited: int,
        unreachable: int,
        lounge: tuple[int, int] | None,
    ) -> None:
        channel, message = lounge if lounge is not None else (None, None)
        await self.db.execute(
            "UPDATE annual_reports SET invited = :invited, unreachable = :unreachable,"
            " lounge_channel_id = COALESCE(:channel_id, lounge_channel_id),"
            " lounge_message_id = COALESCE(:message_id, lounge_message_id) WHERE id = :id",
            {
                "invited": invited,
                "unreachable": unreachable,
                "channel_id": channel,
                "message_id": message,
                "id": report_id,
            },
        )

    async def claim_reminder(self, report_id: int, now: datetime) -> bool:
        """Record that the reminder goes now; False if it went before or the report closed."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE annual_reports SET reminded_at = :now WHERE id = :id"
                " AND state = 'open' AND reminded_at IS NULL",
                {"now": to_db(now), "id": report_id},
            )
            return cur.rowcount == 1

    async def close(self, report_id: int, now: datetime) -> bool:
        """Close it: True for the one call that did (exactly once, however calls race)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE annual_reports SET state = 'closed', closed_at = :now WHERE id = :id"
                " AND state = 'open'",
                {"now": to_db(now), "id": report_id},
            )
            return cur.rowcount == 1

    # ------------------------------------------------------------------ answers
    async def save_answer(
        self, report_id: int, user_id: int, texts: Mapping[str, str], now: datetime
    ) -> bool:
        """Store or replace the member's answer (their quoting choice stays); True when it
        replaced an earlier one. Only while the report is open."""
        columns = ", ".join(QUESTION_KEYS)
        # Typed: in INSERT ... SELECT, PostgreSQL does not infer a parameter's type from
        # the column it fills.
        marks = ", ".join(f"CAST(:{k} AS TEXT)" for k in QUESTION_KEYS)
        updates = ", ".join(f"{k} = excluded.{k}" for k in QUESTION_KEYS)
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT 1 FROM annual_answers WHERE report_id = :report_id AND user_id = :user_id",
                {"report_id": report_id, "user_id": user_id},
            ) as cur:
                existed = await cur.fetchone() is not None
            await conn.execute(
                f"INSERT INTO annual_answers (report_id, user_id, {columns}, answered_at,"
                " updated_at) SELECT CAST(:report_id AS BIGINT), CAST(:user_id AS BIGINT),"
                f" {marks}, CAST(:now AS TEXT), CAST(:now AS TEXT) WHERE EXISTS (SELECT 1"
                " FROM annual_reports WHERE id = :report_id AND state = 'open')"
                " ON CONFLICT (report_id, user_id) DO UPDATE SET"
                f" {updates}, updated_at = excluded.updated_at",
                {
                    "report_id": report_id, "user_id": user_id, "now": to_db(now),
                    **{k: texts.get(k, "") for k in QUESTION_KEYS},
                },
            )  # fmt: skip
        return existed

    async def set_consent(
        self, report_id: int, user_id: int, consent: Consent, now: datetime
    ) -> bool:
        """Change the member's quoting choice; False when they have no answer (or it closed)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE annual_answers SET quote_consent = :consent, updated_at = :now"
                " WHERE report_id = :report_id AND user_id = :user_id AND EXISTS (SELECT 1"
                " FROM annual_reports WHERE id = :report_id AND state = 'open')",
                {
                    "consent": consent.value,
                    "now": to_db(now),
                    "report_id": report_id,
                    "user_id": user_id,
                },
            )
            return cur.rowcount == 1

    async def answer(self, report_id: int, user_id: int) -> AnnualAnswer | None:
        row = await self.db.fetchone(
            "SELECT * FROM annual_answers WHERE report_id = :report_id AND user_id = :user_id",
            {"report_id": report_id, "user_id": user_id},
        )
        return None if row is None else answer_from_row(row)

    async def answers(self, report_id: int) -> list[AnnualAnswer]:
        rows = await self.db.fetchall(
            "SELECT * FROM annual_answers WHERE report_id = :report_id"
            " ORDER BY updated_at, user_id",
            {"report_id": report_id},
        )
        return [answer_from_row(r) for r in rows]

    async def answered_ids(self, report_id: int) -> set[int]:
        rows = await self.db.fetchall(
            "SELECT user_id FROM annual_answers WHERE report_id = :report_id",
            {"report_id": report_id},
        )
        return {int(r[0]) for r in rows}

    async def count_answers(self, report_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM annual_answers WHERE report_id = :report_id",
                {"report_id": report_id},
            )
        )

    async def mark_emailed(self, report_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE annual_reports SET emailed_at = COALESCE(emailed_at, :now) WHERE id = :id",
            {"now": to_db(now), "id": report_id},
        )

    async def emails_stopped(self, community_id: int) -> bool:
        """Whether the community's sponsor stopped Hearth's e-mails (the digest's button)."""
        value = await self.db.fetchval(
            "SELECT sponsor_email_stopped_at FROM communities WHERE id = :id",
            {"id": community_id},
        )
        return value is not None
