"""Storage of collective documents (migration 0018). SQL only; returns domain records.

Choices on a proposal are sealed while it is open, like statement votes
(:mod:`bot.db.sealing`): each proposal has its own key, itself sealed with the installation
secret; a member's row is keyed by an HMAC of their id under that key and holds the choice
encrypted. :meth:`DocumentRepo.decide` counts them once, keeps only the three counts, and
deletes the key and the sealed rows, so nobody (facilitators included) can learn afterwards
who chose what.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import aiosqlite

from bot.db.database import Database
from bot.db.rows import from_db_req, to_db
from bot.db.sealing import Sealer, ballot_aad
from bot.domain.documents import (
    Choice,
    Credit,
    Document,
    Proposal,
    ProposalStatus,
    Quote,
    QuoteStatus,
    Section,
    SectionSnapshot,
    Tally,
    Template,
    Version,
    content_from_json,
    content_to_json,
    snapshot,
)
from bot.errors import Conflict

SCOPE = "document-proposal"
PAD = 16
Summary = Callable[[int], str]
"""Words a new version's summary from its number."""


def _document(row: aiosqlite.Row) -> Document:
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


def _quote(row: aiosqlite.Row) -> Quote:
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


def _proposal(row: aiosqlite.Row) -> Proposal:
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


def _version(row: aiosqlite.Row) -> Version:
    return Version(
        row["number"],
        from_db_req(row["created_at"]),
        row["summary"],
        content_from_json(row["content"]),
    )


class DocumentRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

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
                " VALUES (?,?,?,?,?)",
                (community_id, title, template.value, created_by, to_db(now)),
            )
            doc_id = cur.lastrowid
            assert doc_id is not None
            await conn.executemany(
                "INSERT INTO document_sections (document_id, position, heading) VALUES (?,?,?)",
                [(doc_id, i, h) for i, h in enumerate(headings, start=1)],
            )
            snap = tuple(SectionSnapshot(h, "") for h in headings)
            await conn.execute(
                "INSERT INTO document_versions (document_id, number, created_at, summary,"
                " content) VALUES (?,?,?,?,?)",
                (doc_id, 1, to_db(now), summary, content_to_json(snap)),
            )
        found = await self.get(doc_id)
        assert found is not None
        return found

    async def discard(self, document_id: int) -> None:
        await self.db.execute("DELETE FROM documents WHERE id = ?", (document_id,))

    async def set_place(self, document_id: int, thread_id: int, head_message_id: int) -> None:
        await self.db.execute(
            "UPDATE documents SET thread_id = ?, head_message_id = ? WHERE id = ?",
            (thread_id, head_message_id, document_id),
        )

    async def get(self, document_id: int) -> Document | None:
        row = await self.db.fetchone("SELECT * FROM documents WHERE id = ?", (document_id,))
        return _document(row) if row else None

    async def search(self, guild_community_ids: list[int], prefix: str) -> list[Document]:
        if not guild_community_ids:
            return []
        marks = ",".join("?" * len(guild_community_ids))
        rows = await self.db.fetchall(
            f"SELECT * FROM documents WHERE community_id IN ({marks})"
            " AND title LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT 25",
            (*guild_community_ids, "%" + prefix.replace("%", "\\%").replace("_", "\\_") + "%"),
        )
        return [_document(r) for r in rows]

    async def sections(self, document_id: int) -> list[Section]:
        rows = await self.db.fetchall(
            "SELECT * FROM document_sections WHERE document_id = ? ORDER BY position",
            (document_id,),
        )
        return [Section(r["id"], r["position"], r["heading"], r["body"]) for r in rows]

    # ------------------------------------------------------------------ versions
    async def latest_version(self, document_id: int) -> Version:
        row = await self.db.fetchone(
            "SELECT * FROM document_versions WHERE document_id = ? ORDER BY number DESC LIMIT 1",
            (document_id,),
        )
        assert row is not None
        return _version(row)

    async def versions(self, document_id: int) -> list[Version]:
        rows = await self.db.fetchall(
            "SELECT * FROM document_versions WHERE document_id = ? ORDER BY number",
            (document_id,),
        )
        return [_version(r) for r in rows]

    async def versions_with_quote(self, quote_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT v.number FROM document_version_quotes vq"
            " JOIN document_versions v ON v.id = vq.version_id"
            " WHERE vq.quote_id = ? ORDER BY v.number",
            (quote_id,),
        )
        return [r[0] for r in rows]

    @staticmethod
    async def _add_version(
        conn: aiosqlite.Connection,
        document_id: int,
        now: datetime,
        summary_for: Summary,
    ) -> int:
        sections = snapshot(
            await DocumentRepo.current_sections(conn, document_id),
            await DocumentRepo.current_quotes(conn, document_id),
        )
        cur = await conn.execute(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM document_versions WHERE document_id = ?",
            (document_id,),
        )
        row = await cur.fetchone()
        number = int(row[0]) if row else 1
        summary = summary_for(number)
        cur = await conn.execute(
            "INSERT INTO document_versions (document_id, number, created_at, summary, content)"
            " VALUES (?,?,?,?,?)",
            (document_id, number, to_db(now), summary, content_to_json(sections)),
        )
        vid = cur.lastrowid
        await conn.executemany(
            "INSERT INTO document_version_quotes (version_id, quote_id) VALUES (?,?)",
            [(vid, q) for s in sections for q in s.quote_ids],
        )
        return number

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
        qid = await self.db.execute(
            "INSERT INTO document_quotes (document_id, section_id, story_id, teller_id,"
            " proposed_by, text, credit, teller_name, status, created_at)"
            " VALUES (?,?,?,?,?,?,?,?,'asked',?)",
            (
                document_id,
                section_id,
                story_id,
                teller_id,
                proposed_by,
                text,
                credit.value,
                teller_name,
                to_db(now),
            ),
        )
        quote = await self.quote(qid)
        assert quote is not None
        return quote

    async def quote(self, quote_id: int) -> Quote | None:
        row = await self.db.fetchone("SELECT * FROM document_quotes WHERE id = ?", (quote_id,))
        return _quote(row) if row else None

    async def quotes(self, document_id: int) -> list[Quote]:
        rows = await self.db.fetchall(
            "SELECT * FROM document_quotes WHERE document_id = ? ORDER BY id", (document_id,)
        )
        return [_quote(r) for r in rows]

    async def quotes_of_story(self, story_id: int) -> list[Quote]:
        rows = await self.db.fetchall(
            "SELECT * FROM document_quotes WHERE story_id = ? AND status IN ('asked', 'agreed')"
            " ORDER BY id",
            (story_id,),
        )
        return [_quote(r) for r in rows]

    async def drop_quote(self, quote_id: int, now: datetime) -> None:
        """The teller asked before answering, or never got the DM: nothing kept."""
        await self.db.execute(
            "DELETE FROM document_quotes WHERE id = ? AND status = 'asked'", (quote_id,)
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
                "SELECT status, document_id FROM document_quotes WHERE id = ?", (quote_id,)
            )
            row = await cur.fetchone()
            if row is None or row[0] != "asked":
                raise Conflict("This quote was already answered, or it is no longer asked for.")
            if not agreed:
                await conn.execute(
                    "UPDATE document_quotes SET status = 'declined', text = NULL,"
                    " teller_name = NULL, decided_at = ? WHERE id = ?",
                    (to_db(now), quote_id),
                )
                return None
            await conn.execute(
                "UPDATE document_quotes SET status = 'agreed', decided_at = ? WHERE id = ?",
                (to_db(now), quote_id),
            )
            return await self._add_version(conn, row[1], now, summary_for)

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
                        " teller_name = NULL, teller_id = NULL, decided_at = ? WHERE id = ?",
                        (to_db(now), qid),
                    )
                else:
                    await conn.execute(
                        "UPDATE document_quotes SET credit = 'anonymous', teller_name = NULL"
                        " WHERE id = ?",
                        (qid,),
                    )
            return await self._add_version(conn, document_id, now, summary_for)

    async def remove_asked(self, quote_ids: list[int], now: datetime) -> None:
        """Quotes still waiting for the teller's answer when consent narrowed: gone."""
        for qid in quote_ids:
            await self.db.execute(
                "UPDATE document_quotes SET status = 'removed', text = NULL, teller_name = NULL,"
                " teller_id = NULL, decided_at = ? WHERE id = ? AND status = 'asked'",
                (to_db(now), qid),
            )

    @staticmethod
    async def current_sections(conn: aiosqlite.Connection, document_id: int) -> list[Section]:
        cur = await conn.execute(
            "SELECT * FROM document_sections WHERE document_id = ? ORDER BY position",
            (document_id,),
        )
        return [
            Section(r["id"], r["position"], r["heading"], r["body"]) for r in await cur.fetchall()
        ]

    @staticmethod
    async def current_quotes(conn: aiosqlite.Connection, document_id: int) -> list[Quote]:
        cur = await conn.execute(
            "SELECT * FROM document_quotes WHERE document_id = ? ORDER BY id", (document_id,)
        )
        return [_quote(r) for r in await cur.fetchall()]

    # ------------------------------------------------------------------ proposals
    async def add_proposal(
        self, document_id: int, section_id: int, text: str, proposed_by: int, now: datetime
    ) -> Proposal:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO document_proposals (document_id, section_id, text, proposed_by,"
                " created_at) VALUES (?,?,?,?,?)",
                (document_id, section_id, text, proposed_by, to_db(now)),
            )
            pid = cur.lastrowid
            assert pid is not None
            _key, sealed = self.db.sealer.new_key(SCOPE, pid)
            await conn.execute(
                "UPDATE document_proposals SET ballot_key = ? WHERE id = ?", (sealed, pid)
            )
        found = await self.proposal(pid)
        assert found is not None
        return found

    async def discard_proposal(self, proposal_id: int) -> None:
        await self.db.execute("DELETE FROM document_proposals WHERE id = ?", (proposal_id,))

    async def proposal_posted(self, proposal_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE document_proposals SET channel_id = ?, message_id = ? WHERE id = ?",
            (channel_id, message_id, proposal_id),
        )

    async def proposal(self, proposal_id: int) -> Proposal | None:
        row = await self.db.fetchone(
            "SELECT * FROM document_proposals WHERE id = ?", (proposal_id,)
        )
        return _proposal(row) if row else None

    async def choose(self, proposal_id: int, user_id: int, choice: Choice) -> int:
        """Store (or change) the member's sealed choice; the number who have responded."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT ballot_key, status FROM document_proposals WHERE id = ?",
                (proposal_id,),
            )
            row = await cur.fetchone()
            if row is None or row[1] != "open" or row[0] is None:
                raise Conflict("This proposal has been decided; choices are closed.")
            key = self.db.sealer.unseal_key(SCOPE, proposal_id, row[0])
            voter = Sealer.voter_key(key, user_id)
            sealed = Sealer.seal(
                key, choice.value.encode(), pad_to=PAD, aad=ballot_aad(SCOPE, proposal_id, voter)
            )
            await conn.execute(
                "INSERT INTO document_choices (proposal_id, voter_key, sealed) VALUES (?,?,?)"
                " ON CONFLICT (proposal_id, voter_key) DO UPDATE SET sealed = excluded.sealed",
                (proposal_id, voter, sealed),
            )
            cur = await conn.execute(
                "SELECT COUNT(*) FROM document_choices WHERE proposal_id = ?", (proposal_id,)
            )
            counted = await cur.fetchone()
        return int(counted[0]) if counted else 0

    async def responses(self, proposal_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM document_choices WHERE proposal_id = ?", (proposal_id,)
            )
            or 0
        )

    async def my_choice(self, proposal_id: int, user_id: int) -> Choice | None:
        """A member's own open choice (their privacy export); None once decided."""
        sealed_key = await self.db.fetchval(
            "SELECT ballot_key FROM document_proposals WHERE id = ?", (proposal_id,)
        )
        if sealed_key is None:
            return None
        key = self.db.sealer.unseal_key(SCOPE, proposal_id, sealed_key)
        voter = Sealer.voter_key(key, user_id)
        sealed = await self.db.fetchval(
            "SELECT sealed FROM document_choices WHERE proposal_id = ? AND voter_key = ?",
            (proposal_id, voter),
        )
        if sealed is None:
            return None
        raw = Sealer.open(key, sealed, aad=ballot_aad(SCOPE, proposal_id, voter))
        return Choice(raw.decode())

    async def decide(
        self,
        proposal_id: int,
        accept: bool,
        decided_by: int,
        now: datetime,
        summary_for: Callable[[int, Tally], str],
    ) -> tuple[Proposal, int | None]:
        """Count the sealed choices, keep only the counts, delete key and rows; on accept
        write the section's new text and a new version (its number returned)."""
        sealed_key: bytes | None = None
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT * FROM document_proposals WHERE id = ?", (proposal_id,)
            )
            row = await cur.fetchone()
            if row is None or row["status"] != "open":
                raise Conflict("This proposal has already been decided.")
            sealed_key = row["ballot_key"]
            counts = {c: 0 for c in Choice}
            if sealed_key is not None:
                key = self.db.sealer.unseal_key(SCOPE, proposal_id, sealed_key)
                cur = await conn.execute(
                    "SELECT voter_key, sealed FROM document_choices WHERE proposal_id = ?",
                    (proposal_id,),
                )
                for voter, sealed in await cur.fetchall():
                    raw = Sealer.open(key, sealed, aad=ballot_aad(SCOPE, proposal_id, voter))
                    counts[Choice(raw.decode())] += 1
            await conn.execute("DELETE FROM document_choices WHERE proposal_id = ?", (proposal_id,))
            await conn.execute(
                "UPDATE document_proposals SET status = ?, ballot_key = NULL, support = ?,"
                " oppose = ?, pass = ?, decided_by = ?, decided_at = ? WHERE id = ?",
                (
                    "accepted" if accept else "declined",
                    counts[Choice.SUPPORT],
                    counts[Choice.OPPOSE],
                    counts[Choice.PASS],
                    decided_by,
                    to_db(now),
                    proposal_id,
                ),
            )
            number = None
            if accept:
                await conn.execute(
                    "UPDATE document_sections SET body = ? WHERE id = ?",
                    (row["text"], row["section_id"]),
                )
                tally = Tally(counts[Choice.SUPPORT], counts[Choice.OPPOSE], counts[Choice.PASS])
                number = await self._add_version(
                    conn, row["document_id"], now, lambda n: summary_for(n, tally)
                )
        self.db.sealer.forget_key(sealed_key)
        decided = await self.proposal(proposal_id)
        assert decided is not None
        return decided, number


# ---------------------------------------------------------------------- privacy


async def export_rows(db: Database, user_id: int) -> list[dict[str, object]]:
    """What the member contributed to documents: quotes of their stories, proposals they
    wrote, and their own choice on proposals still open (found with each proposal's key)."""
    found: list[dict[str, object]] = []
    for r in await db.fetchall(
        "SELECT q.*, d.title FROM document_quotes q JOIN documents d ON d.id = q.document_id"
        " WHERE q.teller_id = ? ORDER BY q.id",
        (user_id,),
    ):
        found.append({"kind": "quote of your story", "document": r["title"], "id": r["id"],
                      "story_id": r["story_id"], "text": r["text"], "status": r["status"],
                      "credit": r["credit"], "created_at": r["created_at"]})
    for r in await db.fetchall(
        "SELECT p.*, d.title FROM document_proposals p JOIN documents d"
        " ON d.id = p.document_id WHERE p.proposed_by = ? ORDER BY p.id",
        (user_id,),
    ):
        found.append({"kind": "your proposal", "document": r["title"], "id": r["id"],
                      "text": r["text"], "status": r["status"], "created_at": r["created_at"]})
    for r in await db.fetchall(
        "SELECT p.id, p.ballot_key, d.title FROM document_proposals p JOIN documents d"
        " ON d.id = p.document_id WHERE p.ballot_key IS NOT NULL ORDER BY p.id"
    ):
        key = db.sealer.unseal_key(SCOPE, r["id"], r["ballot_key"])
        voter = Sealer.voter_key(key, user_id)
        sealed = await db.fetchval(
            "SELECT sealed FROM document_choices WHERE proposal_id = ? AND voter_key = ?",
            (r["id"], voter),
        )
        if sealed is not None:
            choice = Sealer.open(key, sealed, aad=ballot_aad(SCOPE, r["id"], voter)).decode()
            found.append({"kind": "your choice on an open proposal", "document": r["title"],
                          "id": r["id"], "choice": choice})
    return found


async def erase_rows(conn: aiosqlite.Connection, sealer: Sealer, user_id: int) -> dict[str, int]:
    """Inside the privacy erasure's transaction: quotes of the member's stories lose their
    words (as a withdrawal does); proposals they wrote are deleted, or, once accepted into
    a section (the group's record), kept there without their name; their choices on open
    proposals are dropped (decided ones hold only counts)."""
    counts: dict[str, int] = {}
    cur = await conn.execute(
        "UPDATE document_quotes SET status = CASE WHEN status = 'declined' THEN 'declined'"
        " ELSE 'removed' END, text = NULL, teller_name = NULL, teller_id = NULL"
        " WHERE teller_id = ?",
        (user_id,),
    )
    counts["document_quotes_removed"] = max(cur.rowcount, 0)
    cur = await conn.execute(
        "UPDATE document_proposals SET proposed_by = NULL, text = NULL"
        " WHERE proposed_by = ? AND status = 'accepted'",
        (user_id,),
    )
    counts["document_proposals_detached"] = max(cur.rowcount, 0)
    cur = await conn.execute("DELETE FROM document_proposals WHERE proposed_by = ?", (user_id,))
    counts["document_proposals_deleted"] = max(cur.rowcount, 0)
    dropped = 0
    cur = await conn.execute(
        "SELECT id, ballot_key FROM document_proposals WHERE ballot_key IS NOT NULL"
    )
    for pid, sealed_key in await cur.fetchall():
        key = sealer.unseal_key(SCOPE, pid, sealed_key)
        c = await conn.execute(
            "DELETE FROM document_choices WHERE proposal_id = ? AND voter_key = ?",
            (pid, Sealer.voter_key(key, user_id)),
        )
        dropped += max(c.rowcount, 0)
    counts["document_choices_dropped"] = dropped
    return counts
