"""Poll storage: polls, anonymous ballots, who has voted; digest read-outs.

Anonymity is a storage property, not a promise of the screens (see 0003_polls.sql):
an anonymous poll's ballots carry no user id, only ``HMAC-SHA256(ballot_key, user id)``,
which lets a member find and replace their own ballot while the poll is open. Closing a poll
erases ``ballot_key``, after which no one can link a ballot to a member, even with the
database file. ``poll_voters`` knows who voted (turnout, nudges), never how; neither table has
a timestamp or a rowid, so row order cannot pair them up either.

Votes are written through :class:`bot.db.group_commit.GroupCommitter` with the operation
built by :meth:`PollRepo.vote_op`, which re-checks everything (poll exists, open, deadline not
passed, voter is a member, ballot valid and different) inside the batch's transaction, so a
vote racing a close is either counted or refused, never half-stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.db.database import Database
from bot.db.group_commit import Plan, PlannedOp
from bot.db.rows import from_db, from_db_req, to_db
from bot.domain.digest import OpenPoll, PollOutcome
from bot.domain.polls import (
    Ballot,
    Poll,
    PollKind,
    PollResult,
    PollSpec,
    as_kind,
    collective_statement,
    tally,
    validate_ballot,
)
from bot.domain.statements import round_heading
from bot.errors import Conflict, NotAllowed, NotFound

log = logging.getLogger(__name__)

DELETED_POLL = (
    "This poll no longer exists (it was deleted), so votes on it cannot be counted. "
    "Ask a facilitator if you expected it to be open."
)


# --------------------------------------------------------------------------- encoding


def encode_ballot(kind: PollKind, ballot: Ballot) -> str:
    if kind is PollKind.MULTI:
        assert isinstance(ballot, frozenset)
        return json.dumps(sorted(ballot))
    if kind is PollKind.RANKED:
        assert isinstance(ballot, tuple)
        return json.dumps(list(ballot))
    if kind is PollKind.SURVEY:
        assert isinstance(ballot, dict)
        return json.dumps({str(q): a for q, a in sorted(ballot.items())})
    return json.dumps(ballot)


def decode_ballot(kind: PollKind, raw: str) -> Ballot:
    value = json.loads(raw)
    if kind is PollKind.MULTI:
        return frozenset(int(v) for v in value)
    if kind is PollKind.RANKED:
        return tuple(int(v) for v in value)
    if kind is PollKind.SURVEY:
        return {int(q): bool(a) for q, a in value.items()}
    return int(value)


def voter_key(secret: bytes, user_id: int) -> bytes:
    """Pseudonymous ballot key; unlinkable once ``secret`` is erased at close."""
    return hmac.new(secret, str(user_id).encode(), hashlib.sha256).digest()


def _poll(row: aiosqlite.Row) -> Poll:
    return Poll(
        id=row["id"],
        community_id=row["community_id"],
        kind=as_kind(row["kind"]),
        question=row["question"],
        options=tuple(json.loads(row["options"])),
        anonymous=bool(row["anonymous"]),
        created_by=row["created_by"],
        created_at=from_db_req(row["created_at"]),
        closes_at=from_db(row["closes_at"]),
        closed_at=from_db(row["closed_at"]),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        nudged_at=from_db(row["nudged_at"]),
        voters=row["voters"],
        eligible=row["eligible"],
        collective_statement=row["collective_statement"],
    )


_POLL_COLUMNS = (
    "id, community_id, kind, question, options, anonymous, created_by, created_at, closes_at,"
    " closed_at, channel_id, message_id, nudged_at, voters, eligible, collective_statement"
)


@dataclass(frozen=True)
class VoteReceipt:
    """What the voter is told: their own (canonical) ballot and whether it replaced one."""

    poll: Poll
    ballot: Ballot
    changed: bool


@dataclass(frozen=True)
class ClosedPoll:
    poll: Poll
    result: PollResult


#: Builds the new ballot from the member's previous one (None if none); surveys merge.
BallotBuilder = Callable[[Ballot | None], Any]


async def _active_members(conn: aiosqlite.Connection | Database, community_id: int) -> int:
    sql = "SELECT COUNT(*) FROM memberships WHERE community_id = ? AND left_at IS NULL"
    if isinstance(conn, Database):
        return int(await conn.fetchval(sql, (community_id,)))
    async with conn.execute(sql, (community_id,)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


class PollRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ polls
    async def create(
        self,
        community_id: int,
        spec: PollSpec,
        *,
        anonymous: bool,
        created_by: int,
        created_at: datetime,
        closes_at: datetime | None,
    ) -> Poll:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO polls (community_id, kind, question, options, anonymous, created_by,"
                " created_at, closes_at, ballot_key) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    community_id,
                    spec.kind.value,
                    spec.question,
                    json.dumps(list(spec.options)),
                    int(anonymous),
                    created_by,
                    to_db(created_at),
                    to_db(closes_at),
                    secrets.token_bytes(32),
                ),
            )
            poll_id = int(cur.lastrowid or 0)
        got = await self.get(poll_id)
        assert got is not None
        return got

    async def set_message(self, poll_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE polls SET channel_id = ?, message_id = ? WHERE id = ?",
            (channel_id, message_id, poll_id),
        )

    async def delete(self, poll_id: int) -> None:
        await self.db.execute("DELETE FROM polls WHERE id = ?", (poll_id,))

    async def get(self, poll_id: int) -> Poll | None:
        row = await self.db.fetchone(f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = ?", (poll_id,))
        return _poll(row) if row else None

    async def open_polls(self) -> list[Poll]:
        rows = await self.db.fetchall(
            f"SELECT {_POLL_COLUMNS} FROM polls WHERE closed_at IS NULL ORDER BY id"
        )
        return [_poll(r) for r in rows]

    async def visible_to(
        self, guild_id: int, user_id: int, text: str, *, limit: int = 25
    ) -> list[tuple[Poll, str]]:
        """Polls of the communities in this server that the user is an active member of."""
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self.db.fetchall(
            f"SELECT {', '.join('p.' + c.strip() for c in _POLL_COLUMNS.split(','))},"
            " c.name AS community_name"
            " FROM polls p JOIN communities c ON c.id = p.community_id"
            " JOIN memberships m ON m.community_id = p.community_id"
            " WHERE c.guild_id = ? AND m.user_id = ? AND m.left_at IS NULL"
            " AND (p.question LIKE ? ESCAPE '\\' OR CAST(p.id AS TEXT) = ?)"
            " ORDER BY p.closed_at IS NOT NULL, p.id DESC LIMIT ?",
            (guild_id, user_id, f"%{escaped}%", text.strip().lstrip("#"), limit),
        )
        return [(_poll(r), r["community_name"]) for r in rows]

    async def mark_nudged(self, poll_id: int, now: datetime) -> bool:
        """Record the nudge; False if it was already sent (never nudge twice)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE polls SET nudged_at = ? WHERE id = ? AND nudged_at IS NULL"
                " AND closed_at IS NULL",
                (to_db(now), poll_id),
            )
            return cur.rowcount > 0

    # ------------------------------------------------------------------ votes
    def vote_op(
        self, poll_id: int, user_id: int, build: BallotBuilder, now: datetime
    ) -> PlannedOp[VoteReceipt]:
        """The write for one vote, to run inside a group-commit batch."""

        # A plan of statements rather than a coroutine: the group committer runs the plans
        # of a whole batch in one call on the database thread, instead of one round trip
        # per statement per vote (benchmarks/votes.py). Runs on that thread: ``build`` and
        # everything here must stay pure (no event loop, no Discord).
        def plan() -> Plan[VoteReceipt]:
            rows = yield (f"SELECT {_POLL_COLUMNS}, ballot_key FROM polls WHERE id = ?",
                          (poll_id,))
            if not rows:
                raise NotFound(DELETED_POLL)
            row = rows[0]
            poll = _poll(row)
            if not poll.accepts_votes(now) or row["ballot_key"] is None:
                raise Conflict("This poll has closed, so votes are no longer accepted.")
            if not (yield (
                "SELECT 1 FROM memberships WHERE community_id = ? AND user_id = ?"
                " AND left_at IS NULL",
                (poll.community_id, user_id),
            )):
                raise NotAllowed("Only members of this poll's community can vote in it.")
            key = voter_key(bytes(row["ballot_key"]), user_id)
            prev_rows = yield (
                "SELECT ballot FROM poll_ballots WHERE poll_id = ? AND voter_key = ?",
                (poll_id, key),
            )
            prev_row = prev_rows[0] if prev_rows else None
            previous = decode_ballot(poll.kind, prev_row[0]) if prev_row else None
            ballot = validate_ballot(poll.kind, len(poll.options), build(previous))
            if previous is not None and ballot == previous:
                raise Conflict(
                    "That is already your vote, so nothing changed. Pick something else to "
                    "change it."
                )
            yield (
                "INSERT INTO poll_ballots (poll_id, voter_key, user_id, ballot) VALUES (?,?,?,?)"
                " ON CONFLICT (poll_id, voter_key) DO UPDATE SET ballot = excluded.ballot",
                (
                    poll_id,
                    key,
                    None if poll.anonymous else user_id,
                    encode_ballot(poll.kind, ballot),
                ),
            )
            yield (
                "INSERT OR IGNORE INTO poll_voters (poll_id, user_id) VALUES (?, ?)",
                (poll_id, user_id),
            )
            return VoteReceipt(poll, ballot, previous is not None)

        return PlannedOp(plan)

    async def own_ballot(self, poll_id: int, user_id: int) -> Ballot | None:
        """The member's own current ballot (shown only to them), while the poll is open."""
        row = await self.db.fetchone("SELECT kind, ballot_key FROM polls WHERE id = ?", (poll_id,))
        if row is None or row["ballot_key"] is None:
            return None
        raw = await self.db.fetchval(
            "SELECT ballot FROM poll_ballots WHERE poll_id = ? AND voter_key = ?",
            (poll_id, voter_key(bytes(row["ballot_key"]), user_id)),
        )
        return decode_ballot(as_kind(row["kind"]), raw) if raw is not None else None

    async def voters(self, poll_id: int) -> set[int]:
        rows = await self.db.fetchall(
            "SELECT user_id FROM poll_voters WHERE poll_id = ?", (poll_id,)
        )
        return {r[0] for r in rows}

    async def voter_count(self, poll_id: int) -> int:
        return int(
            await self.db.fetchval("SELECT COUNT(*) FROM poll_voters WHERE poll_id = ?", (poll_id,))
        )

    async def ballots(self, poll: Poll) -> list[Ballot]:
        rows = await self.db.fetchall(
            "SELECT ballot FROM poll_ballots WHERE poll_id = ? ORDER BY voter_key", (poll.id,)
        )
        return [decode_ballot(poll.kind, r[0]) for r in rows]

    async def named_ballots(self, poll: Poll) -> list[tuple[int, Ballot]]:
        """Who voted what, for polls that are not anonymous only."""
        if poll.anonymous:
            raise NotAllowed("This poll is anonymous: how each member voted is never shown.")
        rows = await self.db.fetchall(
            "SELECT user_id, ballot FROM poll_ballots WHERE poll_id = ? AND user_id IS NOT NULL"
            " ORDER BY user_id",
            (poll.id,),
        )
        return [(r[0], decode_ballot(poll.kind, r[1])) for r in rows]

    async def eligible(self, community_id: int) -> int:
        return await _active_members(self.db, community_id)

    async def current_result(self, poll: Poll) -> PollResult:
        # A closed poll's turnout is "of the members eligible at close" (frozen then, as its
        # collective statement says), not of whoever is a member today.
        eligible = (
            poll.eligible
            if poll.closed_at is not None and poll.eligible is not None
            else await self.eligible(poll.community_id)
        )
        return tally(poll.kind, poll.options, await self.ballots(poll), eligible)

    async def close(self, poll_id: int, now: datetime, closed_by: int | None) -> ClosedPoll | None:
        """Close, erase the ballot key, tally and store the collective statement, atomically.

        Returns None when the poll is gone or already closed (a second close is a no-op).
        """
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE polls SET closed_at = ?, closed_by = ?, ballot_key = NULL"
                " WHERE id = ? AND closed_at IS NULL",
                (to_db(now), closed_by, poll_id),
            )
            if cur.rowcount == 0:
                return None
            async with conn.execute(
                f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = ?", (poll_id,)
            ) as c:
                row = await c.fetchone()
            assert row is not None
            poll = _poll(row)
            async with conn.execute(
                "SELECT ballot FROM poll_ballots WHERE poll_id = ? ORDER BY voter_key",
                (poll_id,),
            ) as c:
                ballots = [decode_ballot(poll.kind, r[0]) for r in await c.fetchall()]
            eligible = await _active_members(conn, poll.community_id)
            result = tally(poll.kind, poll.options, ballots, eligible)
            statement = collective_statement(poll.question, result)
            await conn.execute(
                "UPDATE polls SET voters = ?, eligible = ?, collective_statement = ? WHERE id = ?",
                (result.voters, result.eligible, statement, poll_id),
            )
        closed = await self.get(poll_id)
        assert closed is not None
        return ClosedPoll(closed, result)


# --------------------------------------------------------------------------- digest


async def poll_outcomes_for_digest(
    db: Database, community_id: int, start: datetime, end: datetime
) -> list[PollOutcome]:
    """Polls and statement rounds closed in ``[start, end)``, with their collective statement."""
    out: list[PollOutcome] = []
    rows = await db.fetchall(
        "SELECT question, collective_statement, voters, eligible, closed_at FROM polls"
        " WHERE community_id = ? AND closed_at IS NOT NULL AND closed_at >= ? AND closed_at < ?"
        " ORDER BY closed_at, id",
        (community_id, to_db(start), to_db(end)),
    )
    for r in rows:
        out.append(
            PollOutcome(
                question=r["question"],
                collective_statement=r["collective_statement"] or "",
                voters=int(r["voters"] or 0),
                eligible=int(r["eligible"] or 0),
                closed_at=from_db_req(r["closed_at"]),
            )
        )
    rounds = await db.fetchall(
        "SELECT r.id, r.collective_statement, r.voters, r.eligible, r.closed_at,"
        " (SELECT COUNT(*) FROM statements s WHERE s.round_id = r.id) AS n"
        " FROM statement_rounds r"
        " WHERE r.community_id = ? AND r.closed_at IS NOT NULL AND r.closed_at >= ?"
        " AND r.closed_at < ? ORDER BY r.closed_at, r.id",
        (community_id, to_db(start), to_db(end)),
    )
    for r in rounds:
        n = int(r["n"])
        out.append(
            PollOutcome(
                question=round_heading(n),
                collective_statement=r["collective_statement"] or "",
                voters=int(r["voters"] or 0),
                eligible=int(r["eligible"] or 0),
                closed_at=from_db_req(r["closed_at"]),
            )
        )
    out.sort(key=lambda o: o.closed_at)
    return out


async def open_polls_for_digest(db: Database, community_id: int, now: datetime) -> list[OpenPoll]:
    """Polls (and statement rounds) still open at ``now``, with turnout so far."""
    eligible = await _active_members(db, community_id)
    rows = await db.fetchall(
        "SELECT p.question, p.closes_at,"
        " (SELECT COUNT(*) FROM poll_voters v WHERE v.poll_id = p.id) AS voters"
        " FROM polls p WHERE p.community_id = ? AND p.closed_at IS NULL"
        " AND p.created_at <= ? ORDER BY p.closes_at IS NULL, p.closes_at, p.id",
        (community_id, to_db(now)),
    )
    out = [
        OpenPoll(r["question"], int(r["voters"]), eligible, from_db(r["closes_at"])) for r in rows
    ]
    rounds = await db.fetchall(
        "SELECT r.closes_at, (SELECT COUNT(DISTINCT v.user_id) FROM statement_votes v"
        " JOIN statements s ON s.id = v.statement_id WHERE s.round_id = r.id) AS voters"
        " FROM statement_rounds r WHERE r.community_id = ? AND r.closed_at IS NULL"
        " AND r.opened_at <= ? ORDER BY r.closes_at, r.id",
        (community_id, to_db(now)),
    )
    out += [
        OpenPoll(
            "Statement round: vote on members' statements",
            int(r["voters"]),
            eligible,
            from_db(r["closes_at"]),
        )
        for r in rounds
    ]
    return out
