"""Poll storage: polls, sealed ballots, who has voted; digest read-outs.

A little longer than 400 lines: the vote plan and the atomic close are the anonymity
design and read best beside the queries they guard (ballot encoding is in
:mod:`bot.db.poll_ballots`).

Anonymity is a storage property, not a promise of the screens (see :mod:`bot.db.sealing`
and 0009_sealed_ballots.sql): while a poll is open its ballots sit in
``poll_sealed_ballots`` under ``HMAC-SHA256(poll key, user id)``, encrypted with the poll
key, which is stored only sealed with the installation secret kept outside the database.
That lets a member find and replace their own ballot, and lets no one holding only the
database (or its WAL history) read a choice. Closing a poll writes the ballots again into
``poll_final_ballots`` in canonical order with no voter key, deletes the sealed ballots and
the key and truncates the WAL: no file then holds anything that links a ballot to a member.
(On PostgreSQL the scrub vacuums the sealed tables instead; its data directory and WAL are
the database operator's: see :mod:`bot.db.postgres`.) ``poll_voters`` knows who voted
(turnout, nudges), never how.

Votes are written through :class:`bot.db.group_commit.GroupCommitter` with the operation
built by :meth:`PollRepo.vote_op`, which re-checks everything (poll exists, open, deadline not
passed, voter is a member, ballot valid and different) inside the batch's transaction, so a
vote racing a close is either counted or refused, never half-stored (on PostgreSQL, with
several processes on one database, the poll row is locked for this: :mod:`bot.db.locking`).
The rules themselves are the domain's (:func:`bot.domain.polls.check_vote`,
``validate_ballot``, ``check_changed``).

This module returns data: it neither tallies nor words anything. The close takes the
domain's pure ``decide`` function (:func:`bot.domain.polls.poll_outcome`) and stores what it
returns, in the same transaction that moves the ballots (:mod:`bot.services.lifecycle`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.db.database import Conn, Database
from bot.db.group_commit import Batch, Plan, PlannedOp
from bot.db.locking import lock_row
from bot.db.poll_ballots import (
    ballot_pad,
    decode_ballot,
    encode_ballot,
    open_ballot,
    poll_from_row,
    seal_ballot,
    voter_key,
)
from bot.db.poll_votes import (
    BallotBuilder,
    VoteReceipt,
    VoteRequest,
    run_vote_batch,
    run_vote_batch_async,
)
from bot.db.rows import from_db, to_db
from bot.domain.closing import Closed, Outcome
from bot.domain.digest import OpenPoll, Place
from bot.domain.polls import (
    Ballot,
    Poll,
    PollResult,
    PollSpec,
    check_changed,
    check_vote,
    is_withdrawal,
    validate_ballot,
)
from bot.errors import NotAllowed

log = logging.getLogger(__name__)

__all__ = [
    "BallotBuilder", "ClosedPoll", "DecidePoll", "PollRepo", "VoteReceipt", "ballot_pad",
    "decode_ballot", "encode_ballot", "open_ballot", "poll_from_row", "seal_ballot", "voter_key",
]  # fmt: skip


_poll = poll_from_row

_POLL_COLUMNS = (
    "id, community_id, kind, question, options, anonymous, created_by, created_at, closes_at,"
    " closed_at, channel_id, message_id, nudged_at, voters, eligible, collective_statement"
)


ClosedPoll = Closed[Poll, PollResult]

#: The domain's pure decision at close: (poll, its ballots, members eligible) -> outcome.
DecidePoll = Callable[[Poll, Sequence[Ballot], int], Outcome[PollResult]]


_ACTIVE_MEMBERS = (
    "SELECT COUNT(*) FROM memberships WHERE community_id = :community_id AND left_at IS NULL"
)


async def _active_members(db: Database, community_id: int) -> int:
    return int(await db.fetchval(_ACTIVE_MEMBERS, {"community_id": community_id}) or 0)


async def _active_members_in(conn: Conn, community_id: int) -> int:
    """:func:`_active_members` inside a transaction."""
    rows = list(await conn.execute_fetchall(_ACTIVE_MEMBERS, {"community_id": community_id}))
    return int(rows[0][0]) if rows else 0


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
                " created_at, closes_at) VALUES (:community_id, :kind, :question, :options,"
                " :anonymous, :created_by, :created_at, :closes_at) RETURNING id",
                {
                    "community_id": community_id,
                    "kind": spec.kind.value,
                    "question": spec.question,
                    "options": json.dumps(list(spec.options)),
                    "anonymous": int(anonymous),
                    "created_by": created_by,
                    "created_at": to_db(created_at),
                    "closes_at": to_db(closes_at),
                },
            )
            inserted = await cur.fetchone()
            assert inserted is not None
            poll_id = int(inserted[0])
            # The poll key is bound to the poll's id, so it is made once the id is known.
            _key, sealed = self.db.sealer.new_key("poll", poll_id)
            await conn.execute(
                "UPDATE polls SET ballot_key = :key WHERE id = :id", {"key": sealed, "id": poll_id}
            )
        got = await self.get(poll_id)
        assert got is not None
        return got

    async def set_message(self, poll_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE polls SET channel_id = :channel_id, message_id = :message_id WHERE id = :id",
            {"channel_id": channel_id, "message_id": message_id, "id": poll_id},
        )

    async def delete(self, poll_id: int) -> None:
        await self.db.execute("DELETE FROM polls WHERE id = :id", {"id": poll_id})

    async def get(self, poll_id: int) -> Poll | None:
        row = await self.db.fetchone(
            f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = :id", {"id": poll_id}
        )
        return _poll(row) if row else None

    async def open_polls(self) -> list[Poll]:
        rows = await self.db.fetchall(
            f"SELECT {_POLL_COLUMNS} FROM polls WHERE closed_at IS NULL ORDER BY id"
        )
        return [_poll(r) for r in rows]

    async def visible_to(
        self, guild_id: int, user_id: int, text: str, *, limit: int = 25
    ) -> list[tuple[Poll, str]]:
        """Polls of the communities in this server that the user is an active member of.

        The text matches case-insensitively (``lower()`` on both sides: LIKE is
        case-sensitive on PostgreSQL)."""
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self.db.fetchall(
            f"SELECT {', '.join('p.' + c.strip() for c in _POLL_COLUMNS.split(','))},"
            " c.name AS community_name"
            " FROM polls p JOIN communities c ON c.id = p.community_id"
            " JOIN memberships m ON m.community_id = p.community_id"
            " WHERE c.guild_id = :guild_id AND m.user_id = :user_id AND m.left_at IS NULL"
            " AND (lower(p.question) LIKE lower(:pattern) ESCAPE '\\'"
            " OR CAST(p.id AS TEXT) = :id_text)"
            " ORDER BY p.closed_at IS NOT NULL, p.id DESC LIMIT :limit",
            {
                "guild_id": guild_id,
                "user_id": user_id,
                "pattern": f"%{escaped}%",
                "id_text": text.strip().lstrip("#"),
                "limit": limit,
            },
        )
        return [(_poll(r), r["community_name"]) for r in rows]

    async def mark_nudged(self, poll_id: int, now: datetime) -> bool:
        """Record the nudge; False if it was already sent (never nudge twice)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE polls SET nudged_at = :now WHERE id = :id AND nudged_at IS NULL"
                " AND closed_at IS NULL",
                {"now": to_db(now), "id": poll_id},
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
        # On PostgreSQL the poll row is locked: a close in another process waits, or is waited
        # for (bot/db/locking.py).
        lock = lock_row(self.db)
        arrays = self.db.dialect == "postgresql"  # the batch reads its voters with = ANY

        def plan() -> Plan[VoteReceipt]:
            rows = yield (f"SELECT {_POLL_COLUMNS}, ballot_key FROM polls WHERE id = :id{lock}",
                          {"id": poll_id})
            row = rows[0] if rows else None
            poll = _poll(row) if row is not None else None
            member = poll is not None and bool((yield (
                "SELECT 1 FROM memberships WHERE community_id = :community_id"
                " AND user_id = :user_id AND left_at IS NULL",
                {"community_id": poll.community_id, "user_id": user_id},
            )))
            poll = check_vote(poll, now, member=member,
                              key=row is not None and row["ballot_key"] is not None)
            assert row is not None
            poll_key = sealer.unseal_key("poll", poll_id, row["ballot_key"])
            key = voter_key(poll_key, user_id)
            prev_rows = yield (
                "SELECT sealed FROM poll_sealed_ballots"
                " WHERE poll_id = :poll_id AND voter_key = :voter_key",
                {"poll_id": poll_id, "voter_key": key},
            )
            previous = (
                open_ballot(poll_key, poll, key, prev_rows[0][0]) if prev_rows else None
            )
            built = build(previous)
            if is_withdrawal(poll.kind, built):
                # Every survey answer withdrawn: no ballot, and not counted as answered.
                yield ("DELETE FROM poll_sealed_ballots"
                       " WHERE poll_id = :poll_id AND voter_key = :voter_key",
                       {"poll_id": poll_id, "voter_key": key})
                yield ("DELETE FROM poll_voters WHERE poll_id = :poll_id AND user_id = :user_id",
                       {"poll_id": poll_id, "user_id": user_id})
                return VoteReceipt(poll, {}, True)
            ballot = validate_ballot(poll.kind, len(poll.options), built)
            check_changed(previous, ballot)
            yield (
                "INSERT INTO poll_sealed_ballots (poll_id, voter_key, user_id, sealed)"
                " VALUES (:poll_id, :voter_key, :user_id, :sealed)"
                " ON CONFLICT (poll_id, voter_key) DO UPDATE SET sealed = excluded.sealed",
                {
                    "poll_id": poll_id,
                    "voter_key": key,
                    "user_id": None if poll.anonymous else user_id,
                    "sealed": seal_ballot(poll_key, poll, key, ballot),
                },
            )
            yield (
                "INSERT INTO poll_voters (poll_id, user_id) VALUES (:poll_id, :user_id)"
                " ON CONFLICT DO NOTHING",
                {"poll_id": poll_id, "user_id": user_id},
            )
            return VoteReceipt(poll, ballot, previous is not None)

        # The votes on this poll in one group-commit batch are written together
        # (bot/db/poll_votes.py); this plan is what each runs alone, and the fallback.
        batch = Batch(
            ("poll vote", poll_id),
            VoteRequest(poll_id, user_id, build, now),
            lambda conn, requests: run_vote_batch(conn, sealer, requests),
            lambda conn, requests: run_vote_batch_async(
                conn, sealer, requests, lock=lock, arrays=arrays
            ),
        )
        return PlannedOp(plan, batch=batch)

    async def _poll_key(self, poll_id: int) -> tuple[Poll, bytes] | None:
        """The open poll and its unsealed key; None once closed (the key is gone)."""
        row = await self.db.fetchone(
            f"SELECT {_POLL_COLUMNS}, ballot_key FROM polls WHERE id = :id", {"id": poll_id}
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
            "SELECT sealed FROM poll_sealed_ballots"
            " WHERE poll_id = :poll_id AND voter_key = :voter_key",
            {"poll_id": poll_id, "voter_key": key},
        )
        return open_ballot(poll_key, poll, key, sealed) if sealed is not None else None

    async def _open_ballots(self, poll: Poll) -> list[tuple[int | None, Ballot]]:
        """(user id or None, ballot) of an open poll, decrypted with its key."""
        found = await self._poll_key(poll.id)
        if found is None:
            return []
        _, poll_key = found
        rows = await self.db.fetchall(
            "SELECT voter_key, user_id, sealed FROM poll_sealed_ballots WHERE poll_id = :poll_id"
            " ORDER BY voter_key",
            {"poll_id": poll.id},
        )
        return [
            (r["user_id"], open_ballot(poll_key, poll, bytes(r["voter_key"]), r["sealed"]))
            for r in rows
        ]

    async def voters(self, poll_id: int) -> set[int]:
        rows = await self.db.fetchall(
            "SELECT user_id FROM poll_voters WHERE poll_id = :poll_id", {"poll_id": poll_id}
        )
        return {r[0] for r in rows}

    async def voter_count(self, poll_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM poll_voters WHERE poll_id = :poll_id", {"poll_id": poll_id}
            )
        )

    async def ballots(self, poll: Poll) -> list[Ballot]:
        if poll.closed_at is None:
            return [b for _, b in await self._open_ballots(poll)]
        rows = await self.db.fetchall(
            "SELECT ballot FROM poll_final_ballots WHERE poll_id = :poll_id ORDER BY seq",
            {"poll_id": poll.id},
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
            "SELECT user_id, ballot FROM poll_final_ballots WHERE poll_id = :poll_id"
            " AND user_id IS NOT NULL ORDER BY user_id",
            {"poll_id": poll.id},
        )
        return [(r[0], decode_ballot(poll.kind, r[1])) for r in rows]

    async def eligible(self, community_id: int) -> int:
        return await _active_members(self.db, community_id)

    async def close(
        self, poll_id: int, now: datetime, closed_by: int | None, decide: DecidePoll
    ) -> ClosedPoll | None:
        """Close, unseal and re-store the ballots without voter keys, erase the key.

        One transaction: the ballots move from ``poll_sealed_ballots`` to
        ``poll_final_ballots`` in canonical order (sorted by content, so the order says
        nothing about who or when), the sealed rows and the poll key are deleted, and what
        ``decide`` (pure, run in a worker thread) makes of the ballots is stored: turnout and
        the collective statement. Then the WAL is truncated so no earlier page with the
        key survives. Returns None when the poll is gone or already closed (a second close is
        a no-op).
        """
        sealed_key: bytes | None = None
        async with self.db.transaction() as conn:
            async with conn.execute(
                f"SELECT {_POLL_COLUMNS}, ballot_key FROM polls"
                f" WHERE id = :id AND closed_at IS NULL{lock_row(self.db)}",
                {"id": poll_id},
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
                    "SELECT voter_key, user_id, sealed FROM poll_sealed_ballots"
                    " WHERE poll_id = :poll_id",
                    {"poll_id": poll_id},
                ) as c:
                    ballots = [
                        (r[1], open_ballot(poll_key, poll, bytes(r[0]), r[2]))
                        for r in await c.fetchall()
                    ]
            ordered = sorted(
                ((encode_ballot(poll.kind, b), u) for u, b in ballots),
                key=lambda e: (e[0], e[1] if e[1] is not None else 0),
            )
            if ordered:
                await conn.executemany(
                    "INSERT INTO poll_final_ballots (poll_id, seq, user_id, ballot)"
                    " VALUES (:poll_id, :seq, :user_id, :ballot)",
                    [
                        {
                            "poll_id": poll_id,
                            "seq": seq,
                            "user_id": None if poll.anonymous else user,
                            "ballot": text,
                        }
                        for seq, (text, user) in enumerate(ordered, start=1)
                    ],
                )
            await conn.execute(
                "DELETE FROM poll_sealed_ballots WHERE poll_id = :poll_id", {"poll_id": poll_id}
            )
            eligible = await _active_members_in(conn, poll.community_id)
            outcome = await asyncio.to_thread(decide, poll, [b for _, b in ballots], eligible)
            await conn.execute(
                "UPDATE polls SET closed_at = :closed_at, closed_by = :closed_by,"
                " ballot_key = NULL, voters = :voters, eligible = :eligible,"
                " collective_statement = :statement WHERE id = :id",
                {
                    "closed_at": to_db(now),
                    "closed_by": closed_by,
                    "voters": outcome.voters,
                    "eligible": outcome.eligible,
                    "statement": outcome.statement,
                    "id": poll_id,
                },
            )
        self.db.sealer.forget_key(sealed_key)
        await self.db.scrub()
        closed = await self.get(poll_id)
        assert closed is not None
        return Closed(closed, outcome)


    # ------------------------------------------------------------------ digest read-outs
    async def closed_polls(self, community_id: int, start: datetime, end: datetime) -> list[Poll]:
        """Polls closed in ``[start, end)``, in closing order (the digest's read-out)."""
        rows = await self.db.fetchall(
            f"SELECT {_POLL_COLUMNS} FROM polls"
            " WHERE community_id = :community_id AND closed_at IS NOT NULL"
            " AND closed_at >= :start AND closed_at < :end ORDER BY closed_at, id",
            {"community_id": community_id, "start": to_db(start), "end": to_db(end)},
        )
        return [_poll(r) for r in rows]

    async def open_turnout(self, community_id: int, now: datetime) -> list[OpenPoll]:
        """Polls open at ``now`` with how many have voted so far (never how)."""
        eligible = await _active_members(self.db, community_id)
        rows = await self.db.fetchall(
            "SELECT p.question, p.closes_at, p.channel_id, p.message_id,"
            " (SELECT COUNT(*) FROM poll_voters v WHERE v.poll_id = p.id) AS voters"
            " FROM polls p WHERE p.community_id = :community_id AND p.closed_at IS NULL"
            " AND p.created_at <= :now ORDER BY p.closes_at IS NULL, p.closes_at, p.id",
            {"community_id": community_id, "now": to_db(now)},
        )
        return [
            OpenPoll(
                r["question"], int(r["voters"]), eligible, from_db(r["closes_at"]),
                place=Place(r["channel_id"], r["message_id"]),
            )
            for r in rows
        ]
