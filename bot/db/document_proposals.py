"""Members' proposals for a document's sections, and their sealed support / oppose / pass.

Choices are sealed while a proposal is open, like statement votes (:mod:`bot.db.sealing`):
each proposal has its own key, itself sealed with the installation secret; a member's row is
keyed by an HMAC of their id under that key and holds the choice encrypted.
:meth:`ProposalRepo.decide` counts them once, keeps only the three counts, and deletes the
key and the sealed rows, so nobody (facilitators included) can learn afterwards who chose
what. Also here: the privacy export and erasure of everything documents hold about a member.
SQL only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.db.database import Conn, Database
from bot.db.document_rows import PAD, SCOPE, add_version, proposal_row
from bot.db.rows import to_db
from bot.db.sealing import Sealer, ballot_aad
from bot.domain.documents import Choice, Proposal, Tally
from bot.errors import Conflict


class ProposalRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_proposal(
        self, document_id: int, section_id: int, text: str, proposed_by: int, now: datetime
    ) -> Proposal:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO document_proposals (document_id, section_id, text, proposed_by,"
                " created_at) VALUES (:d, :section, :text, :by, :at) RETURNING id",
                {
                    "d": document_id,
                    "section": section_id,
                    "text": text,
                    "by": proposed_by,
                    "at": to_db(now),
                },
            )
            created = await cur.fetchone()
            assert created is not None
            pid = int(created[0])
            _key, sealed = self.db.sealer.new_key(SCOPE, pid)
            await conn.execute(
                "UPDATE document_proposals SET ballot_key = :key WHERE id = :id",
                {"key": sealed, "id": pid},
            )
        found = await self.proposal(pid)
        assert found is not None
        return found

    async def discard_proposal(self, proposal_id: int) -> None:
        await self.db.execute("DELETE FROM document_proposals WHERE id = :id", {"id": proposal_id})

    async def proposal_posted(self, proposal_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE document_proposals SET channel_id = :channel, message_id = :message"
            " WHERE id = :id",
            {"channel": channel_id, "message": message_id, "id": proposal_id},
        )

    async def proposal(self, proposal_id: int) -> Proposal | None:
        row = await self.db.fetchone(
            "SELECT * FROM document_proposals WHERE id = :id", {"id": proposal_id}
        )
        return proposal_row(row) if row else None

    async def choose(self, proposal_id: int, user_id: int, choice: Choice) -> int:
        """Store (or change) the member's sealed choice; the number who have responded."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT ballot_key, status FROM document_proposals WHERE id = :id",
                {"id": proposal_id},
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
                "INSERT INTO document_choices (proposal_id, voter_key, sealed)"
                " VALUES (:p, :voter, :sealed)"
                " ON CONFLICT (proposal_id, voter_key) DO UPDATE SET sealed = excluded.sealed",
                {"p": proposal_id, "voter": voter, "sealed": sealed},
            )
            cur = await conn.execute(
                "SELECT COUNT(*) FROM document_choices WHERE proposal_id = :p", {"p": proposal_id}
            )
            counted = await cur.fetchone()
        return int(counted[0]) if counted else 0

    async def responses(self, proposal_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM document_choices WHERE proposal_id = :p", {"p": proposal_id}
            )
            or 0
        )

    async def my_choice(self, proposal_id: int, user_id: int) -> Choice | None:
        """A member's own open choice (their privacy export); None once decided."""
        sealed_key = await self.db.fetchval(
            "SELECT ballot_key FROM document_proposals WHERE id = :id", {"id": proposal_id}
        )
        if sealed_key is None:
            return None
        key = self.db.sealer.unseal_key(SCOPE, proposal_id, sealed_key)
        voter = Sealer.voter_key(key, user_id)
        sealed = await self.db.fetchval(
            "SELECT sealed FROM document_choices WHERE proposal_id = :p AND voter_key = :voter",
            {"p": proposal_id, "voter": voter},
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
                "SELECT * FROM document_proposals WHERE id = :id", {"id": proposal_id}
            )
            row = await cur.fetchone()
            if row is None or row["status"] != "open":
                raise Conflict("This proposal has already been decided.")
            sealed_key = row["ballot_key"]
            counts = {c: 0 for c in Choice}
            if sealed_key is not None:
                key = self.db.sealer.unseal_key(SCOPE, proposal_id, sealed_key)
                cur = await conn.execute(
                    "SELECT voter_key, sealed FROM document_choices WHERE proposal_id = :p",
                    {"p": proposal_id},
                )
                for voter, sealed in await cur.fetchall():
                    raw = Sealer.open(key, sealed, aad=ballot_aad(SCOPE, proposal_id, voter))
                    counts[Choice(raw.decode())] += 1
            await conn.execute(
                "DELETE FROM document_choices WHERE proposal_id = :p", {"p": proposal_id}
            )
            await conn.execute(
                "UPDATE document_proposals SET status = :status, ballot_key = NULL,"
                " support = :support, oppose = :oppose, pass = :pass, decided_by = :by,"
                " decided_at = :at WHERE id = :id",
                {
                    "status": "accepted" if accept else "declined",
                    "support": counts[Choice.SUPPORT],
                    "oppose": counts[Choice.OPPOSE],
                    "pass": counts[Choice.PASS],
                    "by": decided_by,
                    "at": to_db(now),
                    "id": proposal_id,
                },
            )
            number = None
            if accept:
                await conn.execute(
                    "UPDATE document_sections SET body = :body WHERE id = :id",
                    {"body": row["text"], "id": row["section_id"]},
                )
                tally = Tally(counts[Choice.SUPPORT], counts[Choice.OPPOSE], counts[Choice.PASS])
                number = await add_version(
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
        " WHERE q.teller_id = :u ORDER BY q.id",
        {"u": user_id},
    ):
        found.append(
            {
                "kind": "quote of your story",
                "document": r["title"],
                "id": r["id"],
                "story_id": r["story_id"],
                "text": r["text"],
                "status": r["status"],
                "credit": r["credit"],
                "created_at": r["created_at"],
            }
        )
    for r in await db.fetchall(
        "SELECT p.*, d.title FROM document_proposals p JOIN documents d"
        " ON d.id = p.document_id WHERE p.proposed_by = :u ORDER BY p.id",
        {"u": user_id},
    ):
        found.append(
            {
                "kind": "your proposal",
                "document": r["title"],
                "id": r["id"],
                "text": r["text"],
                "status": r["status"],
                "created_at": r["created_at"],
            }
        )
    for r in await db.fetchall(
        "SELECT p.id, p.ballot_key, d.title FROM document_proposals p JOIN documents d"
        " ON d.id = p.document_id WHERE p.ballot_key IS NOT NULL ORDER BY p.id"
    ):
        key = db.sealer.unseal_key(SCOPE, r["id"], r["ballot_key"])
        voter = Sealer.voter_key(key, user_id)
        sealed = await db.fetchval(
            "SELECT sealed FROM document_choices WHERE proposal_id = :p AND voter_key = :voter",
            {"p": r["id"], "voter": voter},
        )
        if sealed is not None:
            choice = Sealer.open(key, sealed, aad=ballot_aad(SCOPE, r["id"], voter)).decode()
            found.append(
                {
                    "kind": "your choice on an open proposal",
                    "document": r["title"],
                    "id": r["id"],
                    "choice": choice,
                }
            )
    return found


async def erase_rows(conn: Conn, sealer: Sealer, user_id: int) -> dict[str, int]:
    """Inside the privacy erasure's transaction: quotes of the member's stories lose their
    words (as a withdrawal does); proposals they wrote are deleted, or, once accepted into
    a section (the group's record), kept there without their name; their choices on open
    proposals are dropped (decided ones hold only counts)."""
    counts: dict[str, int] = {}
    cur = await conn.execute(
        "UPDATE document_quotes SET status = CASE WHEN status = 'declined' THEN 'declined'"
        " ELSE 'removed' END, text = NULL, teller_name = NULL, teller_id = NULL"
        " WHERE teller_id = :u",
        {"u": user_id},
    )
    counts["document_quotes_removed"] = max(cur.rowcount, 0)
    cur = await conn.execute(
        "UPDATE document_proposals SET proposed_by = NULL, text = NULL"
        " WHERE proposed_by = :u AND status = 'accepted'",
        {"u": user_id},
    )
    counts["document_proposals_detached"] = max(cur.rowcount, 0)
    cur = await conn.execute(
        "DELETE FROM document_proposals WHERE proposed_by = :u", {"u": user_id}
    )
    counts["document_proposals_deleted"] = max(cur.rowcount, 0)
    dropped = 0
    cur = await conn.execute(
        "SELECT id, ballot_key FROM document_proposals WHERE ballot_key IS NOT NULL"
    )
    for pid, sealed_key in await cur.fetchall():
        key = sealer.unseal_key(SCOPE, pid, sealed_key)
        c = await conn.execute(
            "DELETE FROM document_choices WHERE proposal_id = :p AND voter_key = :voter",
            {"p": pid, "voter": Sealer.voter_key(key, user_id)},
        )
        dropped += max(c.rowcount, 0)
    counts["document_choices_dropped"] = dropped
    return counts
