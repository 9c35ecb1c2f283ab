"""Row mappers and the one way a new numbered version is written (documents and proposals).

SQL only. Used by :mod:`bot.db.documents` and :mod:`bot.db.document_proposals`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import aiosqlite

from bot.db.rows import from_db_req, to_db
from bot.domain.documents import (
    Credit,
    Document,
    Proposal,
    ProposalStatus,
    Quote,
    QuoteStatus,
    Section,
    Tally,
    Template,
    Version,
    content_from_json,
    content_to_json,
    snapshot,
)

SCOPE = "document-proposal"
PAD = 16
Summary = Callable[[int], str]
"""Words a new version's summary from its number."""


def document_row(row: aiosqlite.Row) -> Document:
    return Document(
        row["id"],
        row["community_id"],
        row["title"],
        Template(row["template"]),
        row["created_by"],
        from_db_req(row["created_at"]),
        row["thread_id"],
        row["head_message_id"],
    )


def quote_row(row: aiosqlite.Row) -> Quote:
    return Quote(
        row["id"],
        row["document_id"],
        row["section_id"],
        row["story_id"],
        row["teller_id"],
        row["proposed_by"],
        row["text"],
        Credit(row["credit"]) if row["credit"] else None,
        row["teller_name"],
        QuoteStatus(row["status"]),
        from_db_req(row["created_at"]),
    )


def proposal_row(row: aiosqlite.Row) -> Proposal:
    return Proposal(
        row["id"],
        row["document_id"],
        row["section_id"],
        row["text"],
        row["proposed_by"],
        from_db_req(row["created_at"]),
        ProposalStatus(row["status"]),
        row["channel_id"],
        row["message_id"],
        Tally(row["support"], row["oppose"], row["pass"]),
    )


def version_row(row: aiosqlite.Row) -> Version:
    return Version(
        row["number"],
        from_db_req(row["created_at"]),
        row["summary"],
        content_from_json(row["content"]),
    )


async def current_sections(conn: aiosqlite.Connection, document_id: int) -> list[Section]:
    cur = await conn.execute(
        "SELECT * FROM document_sections WHERE document_id = ? ORDER BY position",
        (document_id,),
    )
    return [Section(r["id"], r["position"], r["heading"], r["body"]) for r in await cur.fetchall()]


async def current_quotes(conn: aiosqlite.Connection, document_id: int) -> list[Quote]:
    cur = await conn.execute(
        "SELECT * FROM document_quotes WHERE document_id = ? ORDER BY id", (document_id,)
    )
    return [quote_row(r) for r in await cur.fetchall()]


async def add_version(
    conn: aiosqlite.Connection, document_id: int, now: datetime, summary_for: Summary
) -> int:
    """The document as it now stands (sections, agreed quotes) as its next version."""
    sections = snapshot(
        await current_sections(conn, document_id), await current_quotes(conn, document_id)
    )
    cur = await conn.execute(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM document_versions WHERE document_id = ?",
        (document_id,),
    )
    row = await cur.fetchone()
    number = int(row[0]) if row else 1
    cur = await conn.execute(
        "INSERT INTO document_versions (document_id, number, created_at, summary, content)"
        " VALUES (?,?,?,?,?)",
        (document_id, number, to_db(now), summary_for(number), content_to_json(sections)),
    )
    vid = cur.lastrowid
    await conn.executemany(
        "INSERT INTO document_version_quotes (version_id, quote_id) VALUES (?,?)",
        [(vid, q) for s in sections for q in s.quote_ids],
    )
    return number
