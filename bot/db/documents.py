"""Storage of collective documents (migration 0018): documents, sections, quotes, versions.

SQL only; returns domain records. Proposals and their sealed choices are in
:mod:`bot.db.document_proposals` (:class:`DocumentRepo` includes them); row mappers and the
writing of a new version in :mod:`bot.db.document_rows`.
"""

from __future__ import annotations

from datetime import datetime

from bot.db.document_proposals import ProposalRepo, erase_rows, export_rows
from bot.db.document_rows import (
    Summary,
    add_version,
    document_row,
    quote_row,
    version_row,
)
from bot.db.rows import to_db
from bot.domain.documents import (
    Credit,
    Document,
    Quote,
    Section,
    SectionSnapshot,
    Template,
    Version,
    content_to_json,
)
from bot.errors import Conflict

__all__ = ["DocumentRepo", "erase_rows", "export_rows"]


class DocumentRepo(ProposalRepo):
    """Documents with their quotes and versions (and, inherited, their proposals)."""

    # ------------------------------------------------------------------ documents
    async def create(
        self,
        community_id: int,
        title: str,
        template: Template,
        created_by: int,
        headings: list[str],
        now: datetime,
        summary: str,
    ) -> Document:
        """The document, its sections and version 1, in one transaction."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO documents (community_id, title, template, created_by, created_at)"
                " VALUES (:c, :title, :template, :by, :at) RETURNING id",
                {
                    "c": community_id,
                    "title": title,
                    "template": template.value,
                    "by": created_by,
                    "at": to_db(now),
                },
            )
            created = await cur.fetchone()
            assert created is not None
            doc_id = int(created[0])
            await conn.executemany(
                "INSERT INTO document_sections (document_id, position, heading)"
                " VALUES (:d, :pos, :heading)",
                [{"d": doc_id, "pos": i, "heading": h} for i, h in enumerate(headings, start=1)],
            )
            snap = tuple(SectionSnapshot(h, "") for h in headings)
            await conn.execute(
                "INSERT INTO document_versions (document_id, number, created_at, summary,"
                " content) VALUES (:d, 1, :at, :summary, :content)",
                {
                    "d": doc_id,
                    "at": to_db(now),
                    "summary": summary,
                    "content": content_to_json(snap),
                },
            )
        found = await self.get(doc_id)
        assert found is not None
        return found

    async def discard(self, document_id: int) -> None:
        await self.db.execute("DELETE FROM documents WHERE id = :id", {"id": document_id})

    async def set_place(self, document_id: int, thread_id: int, head_message_id: int) -> None:
        await self.db.execute(
            "UPDATE documents SET thread_id = :thread, head_message_id = :head WHERE id = :id",
            {"thread": thread_id, "head": head_message_id, "id": document_id},
        )

    async def get(self, document_id: int) -> Document | None:
        row = await self.db.fetchone("SELECT * FROM documents WHERE id = :id", {"id": document_id})
        return document_row(row) if row else None

    async def search(self, guild_community_ids: list[int], prefix: str) -> list[Document]:
        if not guild_community_ids:
            return []
        params: dict[str, object] = {f"c{i}": c for i, c in enumerate(guild_community_ids)}
        marks = ", ".join(f":{name}" for name in params)
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["pattern"] = "%" + escaped + "%"
        rows = await self.db.fetchall(
            f"SELECT * FROM documents WHERE community_id IN ({marks})"
            " AND lower(title) LIKE lower(:pattern) ESCAPE '\\' ORDER BY id DESC LIMIT 25",
            params,
        )
        return [document_row(r) for r in rows]

    async def sections(self, document_id: int) -> list[Section]:
        rows = await self.db.fetchall(
            "SELECT * FROM document_sections WHERE document_id = :d ORDER BY position",
            {"d": document_id},
        )
        return [Section(r["id"], r["position"], r["heading"], r["body"]) for r in rows]

    # ------------------------------------------------------------------ versions
    async def latest_version(self, document_id: int) -> Version:
        row = await self.db.fetchone(
            "SELECT * FROM document_versions WHERE document_id = :d ORDER BY number DESC LIMIT 1",
            {"d": document_id},
        )
        assert row is not None
        return version_row(row)

    async def versions(self, document_id: int) -> list[Version]:
        rows = await self.db.fetchall(
            "SELECT * FROM document_versions WHERE document_id = :d ORDER BY number",
            {"d": document_id},
        )
        return [version_row(r) for r in rows]

    async def stale_quotes(self) -> dict[int, list[int]]:
        """Quotes listed by a document's latest version whose words are gone, by document."""
        rows = await self.db.fetchall(
            "SELECT v.document_id, vq.quote_id FROM document_versions v"
            " JOIN document_version_quotes vq ON vq.version_id = v.id"
            " JOIN document_quotes q ON q.id = vq.quote_id"
            " WHERE q.status <> 'agreed' AND v.number ="
            " (SELECT MAX(number) FROM document_versions WHERE document_id = v.document_id)"
            " ORDER BY v.document_id, vq.quote_id"
        )
        found: dict[int, list[int]] = {}
        for document_id, quote_id in rows:
            found.setdefault(int(document_id), []).append(int(quote_id))
        return found

    async def versions_with_quote(self, quote_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT v.number FROM document_version_quotes vq"
            " JOIN document_versions v ON v.id = vq.version_id"
            " WHERE vq.quote_id = :q ORDER BY v.number",
            {"q": quote_id},
        )
        return [r[0] for r in rows]

    # ------------------------------------------------------------------ quotes
    async def add_quote(
        self,
        document_id: int,
        section_id: int,
        story_id: int,
        teller_id: int,
        proposed_by: int,
        text: str,
        credit: Credit,
        teller_name: str | None,
        now: datetime,
    ) -> Quote:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO document_quotes (document_id, section_id, story_id, teller_id,"
                " proposed_by, text, credit, teller_name, status, created_at)"
                " VALUES (:d, :section, :story, :teller, :by, :text, :credit, :name, 'asked',"
                " :at) RETURNING id",
                {
                    "d": document_id,
                    "section": section_id,
                    "story": story_id,
                    "teller": teller_id,
                    "by": proposed_by,
                    "text": text,
                    "credit": credit.value,
                    "name": teller_name,
                    "at": to_db(now),
                },
            )
            created = await cur.fetchone()
        assert created is not None
        quote = await self.quote(int(created[0]))
        assert quote is not None
        return quote

    async def quote(self, quote_id: int) -> Quote | None:
        row = await self.db.fetchone(
            "SELECT * FROM document_quotes WHERE id = :id", {"id": quote_id}
        )
        return quote_row(row) if row else None

    async def quotes(self, document_id: int) -> list[Quote]:
        rows = await self.db.fetchall(
            "SELECT * FROM document_quotes WHERE document_id = :d ORDER BY id", {"d": document_id}
        )
        return [quote_row(r) for r in rows]

    async def quotes_of_story(self, story_id: int) -> list[Quote]:
        rows = await self.db.fetchall(
            "SELECT * FROM document_quotes WHERE story_id = :s AND status IN ('asked', 'agreed')"
            " ORDER BY id",
            {"s": story_id},
        )
        return [quote_row(r) for r in rows]

    async def drop_quote(self, quote_id: int, now: datetime) -> None:
        """The teller asked before answering, or never got the DM: nothing kept."""
        await self.db.execute(
            "DELETE FROM document_quotes WHERE id = :id AND status = 'asked'", {"id": quote_id}
        )

    async def answer_quote(
        self,
        quote_id: int,
        agreed: bool,
        now: datetime,
        summary_for: Summary,
    ) -> int | None:
        """The teller's answer. Agreed: the quote joins and a new version is made (its
        number returned). False/None when already answered (Conflict) or declined."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT status, document_id FROM document_quotes WHERE id = :id", {"id": quote_id}
            )
            row = await cur.fetchone()
            if row is None or row[0] != "asked":
                raise Conflict("This quote was already answered, or it is no longer asked for.")
            if not agreed:
                await conn.execute(
                    "UPDATE document_quotes SET status = 'declined', text = NULL,"
                    " teller_name = NULL, decided_at = :at WHERE id = :id",
                    {"at": to_db(now), "id": quote_id},
                )
                return None
            await conn.execute(
                "UPDATE document_quotes SET status = 'agreed', decided_at = :at WHERE id = :id",
                {"at": to_db(now), "id": quote_id},
            )
            return await add_version(conn, row[1], now, summary_for)

    async def change_quotes(
        self,
        quote_ids: list[int],
        *,
        remove: bool,
        document_id: int,
        now: datetime,
        summary_for: Summary,
    ) -> int:
        """Remove (words deleted) or make anonymous the given quotes, and add a version."""
        async with self.db.transaction() as conn:
            for qid in quote_ids:
                if remove:
                    await conn.execute(
                        "UPDATE document_quotes SET status = 'removed', text = NULL,"
                        " teller_name = NULL, teller_id = NULL, decided_at = :at WHERE id = :id",
                        {"at": to_db(now), "id": qid},
                    )
                else:
                    await conn.execute(
                        "UPDATE document_quotes SET credit = 'anonymous', teller_name = NULL"
                        " WHERE id = :id",
                        {"id": qid},
                    )
            return await add_version(conn, document_id, now, summary_for)

    async def remove_asked(self, quote_ids: list[int], now: datetime) -> None:
        """Quotes still waiting for the teller's answer when consent narrowed: gone."""
        for qid in quote_ids:
            await self.db.execute(
                "UPDATE document_quotes SET status = 'removed', text = NULL, teller_name = NULL,"
                " teller_id = NULL, decided_at = :at WHERE id = :id AND status = 'asked'",
                {"at": to_db(now), "id": qid},
            )
