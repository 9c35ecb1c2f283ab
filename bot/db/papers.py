"""Storage for papers for comment (SQL only; rules in :mod:`bot.domain.papers`).

Answers are sealed while a paper is open, named or anonymous alike (:mod:`bot.db.sealing`):
each paper has its own key, itself sealed with the installation secret; a member's answer is
stored under ``HMAC(key, member)`` (so they can change it) and encrypted, padded to one
length. The close opens them once inside one transaction, keeps the counts on the paper,
writes the comments in a canonical order (named ones with their writer, anonymous ones with
nobody), deletes the key and the sealed rows, and scrubs the write-ahead log: afterwards
nothing in the database links an anonymous commenter to their answer, for anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.db.database import Conn, Database, Row
from bot.db.rows import from_db, from_db_req, to_db
from bot.db.sealing import Sealer, ballot_aad
from bot.domain.papers import (
    SEALED_PAD,
    Answer,
    Comment,
    Paper,
    SealedAnswer,
    Tally,
    canonical_order,
    tally,
)

SCOPE = "paper"


def paper_from_row(row: Row) -> Paper:
    closed = from_db(row["closed_at"])
    return Paper(
        id=row["id"],
        community_id=row["community_id"],
        author_id=row["author_id"],
        title=row["title"],
        body=row["body"],
        file_name=row["file_name"],
        created_at=from_db_req(row["created_at"]),
        closes_at=from_db_req(row["closes_at"]),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        closed_at=closed,
        closed_by=row["closed_by"],
        tally=(
            Tally(row["agree"], row["changes"], row["disagree"], row["eligible"] or 0)
            if closed is not None
            else None
        ),
        announced=row["announced_at"] is not None,
    )


@dataclass(frozen=True)
class Saved:
    """An answer stored: whether it replaced an earlier one, and how many have answered."""

    changed: bool
    answered: int


class PaperRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        community_id: int,
        author_id: int,
        title: str,
        body: str | None,
        file_name: str | None,
        now: datetime,
        closes_at: datetime,
    ) -> Paper:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO papers (community_id, author_id, title, body, file_name,"
                " created_at, closes_at)"
                " VALUES (:c, :author, :title, :body, :file, :at, :closes) RETURNING id",
                {
                    "c": community_id,
                    "author": author_id,
                    "title": title,
                    "body": body,
                    "file": file_name,
                    "at": to_db(now),
                    "closes": to_db(closes_at),
                },
            )
            created = await cur.fetchone()
            assert created is not None
            pid = int(created[0])
            _key, sealed = self.db.sealer.new_key(SCOPE, pid)
            await conn.execute(
                "UPDATE papers SET ballot_key = :key WHERE id = :id", {"key": sealed, "id": pid}
            )
        paper = await self.get(pid)
        assert paper is not None
        return paper

    async def discard(self, paper_id: int) -> None:
        """The paper could not be posted: nothing of it stays."""
        await self.db.execute("DELETE FROM papers WHERE id = :id", {"id": paper_id})

    async def set_place(self, paper_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE papers SET channel_id = :channel, message_id = :message WHERE id = :id",
            {"channel": channel_id, "message": message_id, "id": paper_id},
        )

    async def get(self, paper_id: int) -> Paper | None:
        row = await self.db.fetchone("SELECT * FROM papers WHERE id = :id", {"id": paper_id})
        return paper_from_row(row) if row is not None else None

    async def open_papers(self) -> list[Paper]:
        rows = await self.db.fetchall(
            "SELECT * FROM papers WHERE closed_at IS NULL AND message_id IS NOT NULL ORDER BY id"
        )
        return [paper_from_row(r) for r in rows]

    async def unannounced(self) -> list[Paper]:
        """Closed papers whose close was not (wholly) announced: a restart resumes them."""
        rows = await self.db.fetchall(
            "SELECT * FROM papers WHERE closed_at IS NOT NULL AND announced_at IS NULL ORDER BY id"
        )
        return [paper_from_row(r) for r in rows]

    async def mark_announced(self, paper_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE papers SET announced_at = :at WHERE id = :id AND announced_at IS NULL",
            {"at": to_db(now), "id": paper_id},
        )

    # ------------------------------------------------------------------ answers
    async def _key(self, paper_id: int) -> bytes | None:
        sealed = await self.db.fetchval(
            "SELECT ballot_key FROM papers WHERE id = :id", {"id": paper_id}
        )
        return self.db.sealer.unseal_key(SCOPE, paper_id, sealed) if sealed is not None else None

    async def answer(self, paper_id: int, user_id: int, sealed_answer: SealedAnswer) -> Saved:
        """Store (or replace) the member's sealed answer."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT ballot_key FROM papers WHERE id = :id AND closed_at IS NULL",
                {"id": paper_id},
            ) as cur:
                row = await cur.fetchone()
            if row is None or row[0] is None:
                raise LookupError("paper closed")
            key = self.db.sealer.unseal_key(SCOPE, paper_id, row[0])
            voter = Sealer.voter_key(key, user_id)
            sealed = Sealer.seal(
                key, sealed_answer.to_bytes(), pad_to=SEALED_PAD,
                aad=ballot_aad(SCOPE, paper_id, voter),
            )  # fmt: skip
            cur = await conn.execute(
                "INSERT INTO paper_answers (paper_id, voter_key, sealed)"
                " VALUES (:p, :voter, :sealed) ON CONFLICT (paper_id, voter_key) DO NOTHING",
                {"p": paper_id, "voter": voter, "sealed": sealed},
            )
            changed = cur.rowcount == 0
            if changed:
                await conn.execute(
                    "UPDATE paper_answers SET sealed = :sealed"
                    " WHERE paper_id = :p AND voter_key = :voter",
                    {"sealed": sealed, "p": paper_id, "voter": voter},
                )
            async with conn.execute(
                "SELECT COUNT(*) FROM paper_answers WHERE paper_id = :p", {"p": paper_id}
            ) as cur:
                count = await cur.fetchone()
        return Saved(changed, int(count[0]) if count else 0)

    async def answered(self, paper_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM paper_answers WHERE paper_id = :p", {"p": paper_id}
            )
        )

    async def my_answer(self, paper_id: int, user_id: int) -> SealedAnswer | None:
        """The member's own current answer (to show them, and to prefill a change)."""
        key = await self._key(paper_id)
        if key is None:
            return None
        voter = Sealer.voter_key(key, user_id)
        sealed = await self.db.fetchval(
            "SELECT sealed FROM paper_answers WHERE paper_id = :p AND voter_key = :voter",
            {"p": paper_id, "voter": voter},
        )
        if sealed is None:
            return None
        raw = Sealer.open(key, sealed, aad=ballot_aad(SCOPE, paper_id, voter))
        return SealedAnswer.from_bytes(raw)

    # ------------------------------------------------------------------ closing
    async def close(
        self, paper_id: int, now: datetime, closed_by: int | None, eligible: list[int]
    ) -> Paper | None:
        """Close atomically: count the answers of ``eligible`` members, store the comments
        in canonical order, delete key and sealed rows. None if it was already closed."""
        sealed_key: bytes | None = None
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT ballot_key, closed_at FROM papers WHERE id = :id", {"id": paper_id}
            ) as cur:
                row = await cur.fetchone()
            if row is None or row["closed_at"] is not None:
                return None
            sealed_key = row["ballot_key"]
            answers: list[Answer] = []
            comments: list[Comment] = []
            if sealed_key is not None:
                key = self.db.sealer.unseal_key(SCOPE, paper_id, sealed_key)
                counted = {Sealer.voter_key(key, uid) for uid in eligible}
                async with conn.execute(
                    "SELECT voter_key, sealed FROM paper_answers WHERE paper_id = :p",
                    {"p": paper_id},
                ) as cur:
                    rows = list(await cur.fetchall())
                for raw_voter, sealed in rows:
                    voter = bytes(raw_voter)
                    if voter not in counted:
                        continue  # left the community during the comment period
                    opened = SealedAnswer.from_bytes(
                        Sealer.open(key, sealed, aad=ballot_aad(SCOPE, paper_id, voter))
                    )
                    answers.append(opened.answer)
                    if opened.comment:
                        comments.append(Comment(
                            opened.answer, opened.comment,
                            opened.user_id if opened.named else None,
                        ))  # fmt: skip
            result = tally(answers, len(eligible))
            await conn.execute("DELETE FROM paper_answers WHERE paper_id = :p", {"p": paper_id})
            if comments:
                await conn.executemany(
                    "INSERT INTO paper_comments (paper_id, position, answer, comment, user_id)"
                    " VALUES (:p, :pos, :answer, :comment, :u)",
                    [
                        {
                            "p": paper_id,
                            "pos": i,
                            "answer": c.answer.value,
                            "comment": c.text,
                            "u": c.user_id,
                        }
                        for i, c in enumerate(canonical_order(comments), start=1)
                    ],
                )
            await conn.execute(
                "UPDATE papers SET closed_at = :at, closed_by = :by, agree = :agree,"
                " changes = :changes, disagree = :disagree, eligible = :eligible,"
                " ballot_key = NULL WHERE id = :id",
                {
                    "at": to_db(now),
                    "by": closed_by,
                    "agree": result.agree,
                    "changes": result.changes,
                    "disagree": result.disagree,
                    "eligible": result.eligible,
                    "id": paper_id,
                },
            )
        self.db.sealer.forget_key(sealed_key)
        await self.db.scrub()
        return await self.get(paper_id)

    async def comments(self, paper_id: int) -> list[Comment]:
        rows = await self.db.fetchall(
            "SELECT answer, comment, user_id FROM paper_comments WHERE paper_id = :p"
            " ORDER BY position",
            {"p": paper_id},
        )
        return [Comment(Answer(r["answer"]), r["comment"], r["user_id"]) for r in rows]


# --------------------------------------------------------------------------- privacy
async def export_rows(db: Database, user_id: int) -> list[dict[str, object]]:
    """For ``/privacy export``: papers the member shared, their named comments, and their
    own answers on papers still open (found with each paper's key). Anonymous comments on
    closed papers cannot be found: nothing links them to anyone, by design."""
    found: list[dict[str, object]] = []
    for r in await db.fetchall(
        "SELECT p.*, c.name FROM papers p JOIN communities c ON c.id = p.community_id"
        " WHERE p.author_id = :u ORDER BY p.id",
        {"u": user_id},
    ):
        found.append({
            "kind": "your paper for comment", "id": r["id"], "community": r["name"],
            "title": r["title"], "text": r["body"], "file_name": r["file_name"],
            "created_at": r["created_at"], "closes_at": r["closes_at"],
            "closed_at": r["closed_at"],
            "agree": r["agree"] if r["closed_at"] else None,
            "agree_with_changes": r["changes"] if r["closed_at"] else None,
            "disagree": r["disagree"] if r["closed_at"] else None,
            "members": r["eligible"] if r["closed_at"] else None,
        })  # fmt: skip
    for r in await db.fetchall(
        "SELECT k.*, p.title FROM paper_comments k JOIN papers p ON p.id = k.paper_id"
        " WHERE k.user_id = :u ORDER BY k.id",
        {"u": user_id},
    ):
        found.append(
            {
                "kind": "your named comment",
                "paper_id": r["paper_id"],
                "paper": r["title"],
                "answer": r["answer"],
                "comment": r["comment"],
            }
        )
    for r in await db.fetchall(
        "SELECT id, title, ballot_key FROM papers WHERE ballot_key IS NOT NULL ORDER BY id"
    ):
        key = db.sealer.unseal_key(SCOPE, r["id"], r["ballot_key"])
        voter = Sealer.voter_key(key, user_id)
        sealed = await db.fetchval(
            "SELECT sealed FROM paper_answers WHERE paper_id = :p AND voter_key = :voter",
            {"p": r["id"], "voter": voter},
        )
        if sealed is not None:
            mine = SealedAnswer.from_bytes(
                Sealer.open(key, sealed, aad=ballot_aad(SCOPE, r["id"], voter))
            )
            found.append({"kind": "your answer on an open paper", "paper_id": r["id"],
                          "paper": r["title"], "answer": mine.answer.value,
                          "comment": mine.comment, "named": mine.named})  # fmt: skip
    return found


async def erase_rows(conn: Conn, sealer: Sealer, user_id: int) -> dict[str, int]:
    """Inside the privacy erasure's transaction (rules: :mod:`bot.domain.privacy`): the
    member's answers on open papers are dropped (closed ones hold only counts and comments
    without anyone's id); their named comments are deleted; papers they shared are deleted
    while open, and once closed (the group's record and a product) kept without their name
    or draft text, the comments that were for them deleted."""
    counts: dict[str, int] = {}
    dropped = 0
    async with conn.execute(
        "SELECT id, ballot_key FROM papers WHERE ballot_key IS NOT NULL"
    ) as cur:
        open_keys = list(await cur.fetchall())
    for pid, sealed_key in open_keys:
        key = sealer.unseal_key(SCOPE, pid, sealed_key)
        c = await conn.execute(
            "DELETE FROM paper_answers WHERE paper_id = :p AND voter_key = :voter",
            {"p": pid, "voter": Sealer.voter_key(key, user_id)},
        )
        dropped += max(c.rowcount, 0)
    counts["paper_answers_dropped"] = dropped
    c = await conn.execute("DELETE FROM paper_comments WHERE user_id = :u", {"u": user_id})
    counts["paper_comments_deleted"] = max(c.rowcount, 0)
    c = await conn.execute(
        "DELETE FROM papers WHERE author_id = :u AND closed_at IS NULL", {"u": user_id}
    )
    counts["papers_deleted"] = max(c.rowcount, 0)
    await conn.execute(
        "DELETE FROM paper_comments"
        " WHERE paper_id IN (SELECT id FROM papers WHERE author_id = :u)",
        {"u": user_id},
    )
    c = await conn.execute(
        "UPDATE papers SET author_id = NULL, body = NULL WHERE author_id = :u", {"u": user_id}
    )
    counts["papers_detached"] = max(c.rowcount, 0)
    return counts
