"""Poll storage: polls, sealed ballots, who has voted; digest read-outs.

Anonymity is a storage property, not a promise of the screens (see :mod:`bot.db.sealing`
and 0009_sealed_ballots.sql): while a poll is open its ballots sit in
``poll_sealed_ballots`` under ``HMAC-SHA256(poll key, user id)``, encrypted with the poll
key, which is stored only sealed with the installation secret kept outside the database.
That lets a member find and replace their own ballot, and lets no one holding only the
database (or its WAL history) read a choice. Closing a poll writes the ballots again into
``poll_final_ballots`` in canonical order with no voter key, deletes the sealed ballots and
the key and truncates the WAL: no file then holds anything that links a ballot to a member.
``poll_voters`` knows who voted (turnout, nudges), never how.

Votes are written through :class:`bot.db.group_commit.GroupCommitter` with the operation
built by :meth:`PollRepo.vote_op`, which re-checks everything (poll exists, open, deadline not
passed, voter is a member, ballot valid and different) inside the batch's transaction, so a
vote racing a close is either counted or refused, never half-stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.db.database import Database
from bot.db.group_commit import Plan, PlannedOp
from bot.db.rows import from_db, from_db_req, to_db
from bot.db.sealing import Sealer, ballot_aad
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
    """Pseudonymous ballot key; unlinkable without the poll key (erased at close)."""
    return Sealer.voter_key(secret, user_id)


def ballot_pad(kind: PollKind, n_options: int) -> int:
    """One sealed length for every ballot of a poll: that of its longest possible ballot."""
    worst: Ballot
    if kind is PollKind.MULTI:
        worst = frozenset(range(n_options))
    elif kind is PollKind.RANKED:
        worst = tuple(range(n_options))
    elif kind is PollKind.SURVEY:
        worst = dict.fromkeys(range(n_options), False)
    else:
        worst = max(n_options - 1, 0)
    return len(encode_ballot(kind, worst).encode()) + 2


def seal_ballot(poll_key: bytes, poll: Poll, voter: bytes, ballot: Ballot) -> bytes:
    return Sealer.seal(
        poll_key,
        encode_ballot(poll.kind, ballot).encode(),
        pad_to=ballot_pad(poll.kind, len(poll.options)),
        aad=ballot_aad("poll", poll.id, voter),
    )


def open_ballot(poll_key: bytes, poll: Poll, voter: bytes, sealed: bytes) -> Ballot:
    raw = Sealer.open(poll_key, sealed, aad=ballot_aad("poll", poll.id, voter))
    return decode_ballot(poll.kind, raw.decode())


def poll_from_row(row: aiosqlite.Row) -> Poll:
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


_poll = poll_from_row

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
                " created_at, closes_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    community_id,
                    spec.kind.value,
                    spec.question,
                    json.dumps(list(spec.options)),
                    int(anonymous),
                    created_by,
                    to_db(created_at),
                    to_db(closes_at),
                ),
            )
            poll_id = int(cur.lastrowid or 0)
            # The poll key is bound to the poll's id, so it is made once the id is known.
            _key, sealed = self.db.sealer.new_key("poll", poll_id)
            await conn.execute("UPDATE polls SET ballot_key = ? WHERE id = ?", (sealed, poll_id))
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
        sealer = self.db.sealer

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
            poll_key = sealer.unseal_key("poll", poll_id, row["ballot_key"])
            key = voter_key(poll_key, user_id)
            prev_rows = yield (
                "SELECT sealed FROM poll_sealed_ballots WHERE poll_id = ? AND voter_key = ?",
                (poll_id, key),
            )
            previous = (
                open_ballot(poll_key, poll, key, prev_rows[0][0]) if prev_rows else None
            )
            ballot = validate_ballot(poll.kind, len(poll.options), build(previous))
            if previous is not None and ballot == previous:
                raise Conflict(
                    "That is already your vote, so nothing changed. Pick something else to "
                    "change it."
                )
            yield (
                "INSERT INTO poll_sealed_ballots (poll_id, voter_key, user_id, sealed)"
                " VALUES (?,?,?,?)"
                " ON CONFLICT (poll_id, voter_key) DO UPDATE SET sealed = excluded.sealed",
                (
                    poll_id,
                    key,
                    None if poll.anonymous else user_id,
                    seal_ballot(poll_key, poll, key, ballot),
                ),
            )
            yield (
                "INSERT OR IGNORE INTO poll_voters (poll_id, user_id) VALUES (?, ?)",
                (poll_id, user_id),
            )
            return VoteReceipt(poll, ballot, previous is not None)

        return PlannedOp(plan)

    async def _poll_key(self, poll_id: int) -> tuple[Poll, bytes] | None:
        """The open poll and its unsealed key; None once closed (the key is gone)."""
        row = await self.db.fetchone(
            f"SELECT {_POLL_COLUMNS}, ballot_key FROM polls WHERE id = ?", (poll_id,)
        )
        if row is None or row["ballot_key"] is None:
            return None
        return _poll(row), self.db.sealer.unseal_key("poll", poll_id, row["ballot_key"])

    async def own_ballot(self, poll_id: int, user_id: int) -> Ballot | None:
        """The member's own current ballot (shown only to them), while the poll is open."""
        found = await self._poll_key(poll_id)
        if found is None:
            return None
        poll, poll_key = found
        key = voter_key(poll_key, user_id)
        sealed = await self.db.fetchval(
            "SELECT sealed FROM poll_sealed_ballots WHERE poll_id = ? AND voter_key = ?",
            (poll_id, key),
        )
        return open_ballot(poll_key, poll, key, sealed) if sealed is not None else None

    async def _open_ballots(self, poll: Poll) -> list[tuple[int | None, Ballot]]:
        """(user id or None, ballot) of an open poll, decrypted with its key."""
        found = await self._poll_key(poll.id)
        if found is None:
            return []
        _, poll_key = found
        rows = await self.db.fetchall(
            "SELECT voter_key, user_id, sealed FROM poll_sealed_ballots WHERE poll_id = ?"
            " ORDER BY voter_key",
            (poll.id,),
        )
        return [
            (r["user_id"], open_ballot(poll_key, poll, bytes(r["voter_key"]), r["sealed"]))
            for r in rows
        ]

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
        if poll.closed_at is None:
            return [b for _, b in await self._open_ballots(poll)]
        rows = await self.db.fetchall(
            "SELECT ballot FROM poll_final_ballots WHERE poll_id = ? ORDER BY seq", (poll.id,)
        )
        return [decode_ballot(poll.kind, r[0]) for r in rows]

    async def named_ballots(self, poll: Poll) -> list[tuple[int, Ballot]]:
        """Who voted what, for polls that are not anonymous only."""
        if poll.anonymous:
            raise NotAllowed("This poll is anonymous: how each member voted is never shown.")
        if poll.closed_at is None:
            pairs = [(u, b) for u, b in await self._open_ballots(poll) if u is not None]
            return sorted(pairs, key=lambda p: p[0])
        rows = await self.db.fetchall(
            "SELECT user_id, ballot FROM poll_final_ballots WHERE poll_id = ?"
            " AND user_id IS NOT NULL ORDER BY user_id",
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
        """Close, unseal and re-store the ballots without voter keys, erase the key, tally.

        One transaction: the ballots move from ``poll_sealed_ballots`` to
        ``poll_final_ballots`` in canonical order (sorted by content, so the order says
        nothing about who or when), the sealed rows and the poll key are deleted, and the
        collective statement is stored. Then the WAL is truncated so no earlier page with the
        key survives. Returns None when the poll is gone or already closed (a second close is
        a no-op).
        """
        sealed_key: bytes | None = None
        async with self.db.transaction() as conn:
            async with conn.execute(
                f"SELECT {_POLL_COLUMNS}, ballot_key FROM polls WHERE id = ? AND closed_at IS NULL",
                (poll_id,),
            ) as c:
                row = await c.fetchone()
            if row is None:
                return None
            poll = _poll(row)
            sealed_key = row["ballot_key"]
            ballots: list[tuple[int | None, Ballot]] = []
            if sealed_key is not None:
                poll_key = self.db.sealer.unseal_key("poll", poll_id, sealed_key)
                async with conn.execute(
                    "SELECT voter_key, user_id, sealed FROM poll_sealed_ballots WHERE poll_id = ?",
                    (poll_id,),
                ) as c:
                    ballots = [
                        (r[1], open_ballot(poll_key, poll, bytes(r[0]), r[2]))
                        for r in await c.fetchall()
                    ]
            ordered = sorted(
                ((encode_ballot(poll.kind, b), u) for u, b in ballots),
                key=lambda e: (e[0], e[1] if e[1] is not None else 0),
            )
            await conn.executemany(
                "INSERT INTO poll_final_ballots (poll_id, seq, user_id, ballot) VALUES (?,?,?,?)",
                [
                    (poll_id, seq, None if poll.anonymous else user, text)
                    for seq, (text, user) in enumerate(ordered, start=1)
                ],
            )
            await conn.execute("DELETE FROM poll_sealed_ballots WHERE poll_id = ?", (poll_id,))
            eligible = await _active_members(conn, poll.community_id)
            result = tally(poll.kind, poll.options, [b for _, b in ballots], eligible)
            statement = collective_statement(poll.question, result)
            await conn.execute(
                "UPDATE polls SET closed_at = ?, closed_by = ?, ballot_key = NULL, voters = ?,"
                " eligible = ?, collective_statement = ? WHERE id = ?",
                (to_db(now), closed_by, result.voters, result.eligible, statement, poll_id),
            )
        self.db.sealer.forget_key(sealed_key)
        await self.db.scrub()
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
        "SELECT r.closes_at, (SELECT COUNT(DISTINCT v.voter_key) FROM statement_sealed_votes v"
        " WHERE v.round_id = r.id) AS voters"
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
