"""Row mappers and the one way a new numbered version is written (documents and proposals).

SQL only. Used by :mod:`bot.db.documents` and :mod:`bot.db.document_proposals`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.db.database import Conn, Row
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


def document_row(row: Row) -> Document:
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


def quote_row(row: Row) -> Quote:
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


def proposal_row(row: Row) -> Proposal:
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


def version_row(row: Row) -> Version:
    return Version(
        row["number"],
        from_db_req(row["created_at"]),
        row["summary"],
        content_from_json(row["content"]),
    )


async def current_sections(conn: Conn, document_id: int) -> list[Section]:
    cur = await conn.execute(
        "SELECT * FROM document_sections WHERE document_id = :d ORDER BY position",
        {"d": document_id},
    )
    return [Section(r["id"], r["position"], r["heading"], r["body"]) for r in await cur.fetchall()]


async def current_quotes(conn: Conn, document_id: int) -> list[Quote]:
    cur = await conn.execute(
        "SELECT * FROM document_quotes WHERE document_id = :d ORDER BY id", {"d": document_id}
    )
    return [quote_row(r) for r in await cur.fetchall()]


async def add_version(conn: Conn, document_id: int, now: datetime, summary_for: Summary) -> int:
    """The document as it now stands (sections, agreed quotes) as its next version."""
    sections = snapshot(
        await current_sections(conn, document_id), await current_quotes(conn, document_id)
    )
    cur = await conn.execute(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM document_versions WHERE document_id = :d",
        {"d": document_id},
    )
    row = await cur.fetchone()
    number = int(row[0]) if row else 1
    cur = await conn.execute(
        "INSERT INTO document_versions (document_id, number, created_at, summary, content)"
        " VALUES (:d, :n, :at, :summary, :content) RETURNING id",
        {
            "d": document_id,
            "n": number,
            "at": to_db(now),
            "summary": summary_for(number),
            "content": content_to_json(sections),
        },
    )
    created = await cur.fetchone()
    assert created is not None
    vid = int(created[0])
    quote_ids = [q for s in sections for q in s.quote_ids]
    if quote_ids:
        await conn.executemany(
            "INSERT INTO document_version_quotes (version_id, quote_id) VALUES (:v, :q)",
            [{"v": vid, "q": q} for q in quote_ids],
        )
    return number
