"""The statements capability: adding statements, rounds, votes, the close and the report.

Between the Discord layer (``cogs/statements``) and the repository (:mod:`bot.db.statements`).
While a round is open nothing shows how statements are faring (turnout only); the report is
computed once, at close, in a worker thread, and frozen. A report that must be computed
(a closed round from before reports were frozen) is also computed off the event loop: PCA and
k-means take about a second at 1,000 voters x 100 statements (benchmarks/statements.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bot.clock import Clock
from bot.db.database import Database
from bot.db.group_commit import GroupCommitter
from bot.db.statements import ClosedRound, StatementRepo, StatementVoteReceipt
from bot.domain.communities import Community
from bot.domain.statements import (
    Statement,
    StatementReport,
    StatementRound,
    Vote,
    next_statement_for,
    round_outcome,
    statement_report,
    validate_statement,
)
from bot.domain.timeparse import discord_timestamp
from bot.errors import ClosedForVotes, Conflict, InvalidInput, NotAllowed, NotFound
from bot.scheduling import Scheduler
from bot.services.lifecycle import Communities, VotingLifecycle
from bot.text import escape_inline

log = logging.getLogger(__name__)

MIN_ROUND = timedelta(minutes=5)


@dataclass(frozen=True)
class RoundTurnout:
    """An open round: turnout only (see the module docstring)."""

    round: StatementRound
    voters: int
    eligible: int
    statements: int


@dataclass(frozen=True)
class RoundReport:
    """A closed round's report and the members eligible at its close."""

    round: StatementRound
    report: StatementReport
    eligible: int


class StatementService:
    def __init__(
        self,
        db: Database,
        communities: Communities,
        clock: Clock,
        scheduler: Scheduler,
        *,
        report_params: Callable[[], Mapping[str, Any]] = dict,
    ) -> None:
        self.repo = StatementRepo(db)
        self.committer = GroupCommitter(db)
        self.communities = communities
        self.clock = clock
        self.report_params = report_params
        self.lifecycle: VotingLifecycle[ClosedRound] = VotingLifecycle(
            "statements", scheduler, clock, self._store_close
        )

    async def aclose(self) -> None:
        self.lifecycle.disarm_all()
        await self.committer.close()

    # ------------------------------------------------------------------ statements
    async def add(self, community: Community, author_id: int, text: str) -> Statement:
        membership = await self.communities.membership(community.id, author_id)
        if membership is None or not membership.active:
            raise NotAllowed(
                f"Only members of **{escape_inline(community.name)}** can add statements."
            )
        cleaned = validate_statement(text, await self.repo.current_texts(community.id))
        return await self.repo.add(community.id, author_id, cleaned, self.clock.now())

    # ------------------------------------------------------------------ rounds
    def check_closes(self, closes_at: datetime) -> None:
        if closes_at - self.clock.now() < MIN_ROUND:
            raise InvalidInput("Give members at least 5 minutes: choose a later closing time.")

    async def open_round(
        self, community: Community, opened_by: int, closes_at: datetime
    ) -> tuple[StatementRound, int]:
        """Open a round over every statement not yet in one: (round, number of statements)."""
        rnd = await self.repo.create_round(community.id, opened_by, self.clock.now(), closes_at)
        return rnd, len(await self.repo.round_statements(rnd.id))

    async def posted(self, rnd: StatementRound, channel_id: int, message_id: int) -> None:
        """The round message is up: remember where, and arm the close job."""
        await self.repo.set_round_message(rnd.id, channel_id, message_id)
        self.arm(rnd)

    async def discard(self, round_id: int) -> None:
        """The round could not be announced: its statements return to the pool."""
        await self.repo.undo_round(round_id)

    def arm(self, rnd: StatementRound) -> None:
        if rnd.is_open:
            self.lifecycle.arm(
                rnd.id, rnd.closes_at, guild_id=self.communities.guild_of(rnd.community_id)
            )

    async def open_rounds(self) -> list[StatementRound]:
        return await self.repo.open_rounds()

    async def round_to_close(self, community: Community) -> StatementRound:
        rnd = await self.repo.open_round(community.id)
        if rnd is not None:
            return rnd
        latest = await self.repo.latest_round(community.id)
        raise Conflict(
            f"**{escape_inline(community.name)}** has no open statement round, so there is "
            "nothing to close. "
            + (
                f"Round #{latest.id} closed {discord_timestamp(latest.closed_at, 'F')}; "
                "`/statement report` shows its report."
                if latest is not None and latest.closed_at is not None
                else "Open one with `/statement round`."
            )
        )

    # ------------------------------------------------------------------ voting
    async def round_for_vote(self, round_id: int, user_id: int) -> StatementRound:
        rnd = await self.repo.get_round(round_id)
        if rnd is None:
            raise NotFound("This statement round no longer exists.")
        if not rnd.accepts_votes(self.clock.now()):
            raise ClosedForVotes(
                "This statement round has closed, so votes are no longer accepted."
            )
        membership = await self.communities.membership(rnd.community_id, user_id)
        if membership is None or not membership.active:
            raise NotAllowed("Only members of this community can vote on its statements.")
        return rnd

    async def next_for(self, round_id: int, user_id: int) -> tuple[Statement | None, int]:
        """The statement to show next and how many remain for them.

        The order is the member's own stable shuffle (a hash of member and statement), so
        members starting together still spread their votes. It is deliberately not "fewest
        votes first": that order moves when someone votes, so pressing "Vote on statements"
        before and after a colleague votes would show which statement they voted on."""
        statements = await self.repo.round_statements(round_id)
        voted = await self.repo.voted_by(round_id, user_id)
        sid = next_statement_for(
            user_id, [(s.id, s.author_id) for s in statements], {user_id: voted}, {}
        )
        remaining = sum(1 for s in statements if s.author_id != user_id and s.id not in voted)
        return next((s for s in statements if s.id == sid), None), remaining

    async def cast(
        self, round_id: int, statement_id: int, user_id: int, vote: Vote
    ) -> StatementVoteReceipt:
        await self.round_for_vote(round_id, user_id)
        return await self.committer.submit(
            self.repo.vote_op(round_id, statement_id, user_id, vote, self.clock.now())
        )

    # ------------------------------------------------------------------ closing
    async def _store_close(
        self, round_id: int, now: datetime, _closed_by: int | None
    ) -> ClosedRound | None:
        decide = partial(round_outcome, **self.report_params())
        closed = await self.repo.close_round(round_id, now, decide)
        if closed is not None:
            log.info("statement round %s closed: %d voter(s)", round_id, closed.outcome.voters)
        return closed

    async def close(self, round_id: int) -> ClosedRound | None:
        return await self.lifecycle.close(round_id)

    # ------------------------------------------------------------------ report
    async def round_for_report(self, community: Community) -> StatementRound:
        """The community's latest round, the one `/statement report` is about."""
        rnd = await self.repo.latest_round(community.id)
        if rnd is None:
            raise NotFound(
                f"**{escape_inline(community.name)}** has had no statement round yet. A "
                "facilitator opens one with `/statement round`."
            )
        return rnd

    async def turnout(self, rnd: StatementRound) -> RoundTurnout:
        """While a round is open: turnout only (see the module docstring)."""
        return RoundTurnout(
            rnd,
            await self.repo.turnout(rnd.id),
            await self.repo.eligible(rnd.community_id),
            len(await self.repo.round_statements(rnd.id)),
        )

    async def closed_report(self, rnd: StatementRound) -> RoundReport:
        """A closed round's report, with the members eligible at its close."""
        return RoundReport(
            rnd, await self.report(rnd), rnd.eligible or await self.repo.eligible(rnd.community_id)
        )

    async def report(self, rnd: StatementRound) -> StatementReport:
        """A closed round's frozen report, or (none frozen) computed in a worker thread.

        Never shown for an open round (counts stay hidden until close, so no one can
        difference two reports around a colleague's vote); tests and the close use it."""
        if rnd.closed_at is not None:
            frozen = await self.repo.frozen_report(rnd.id)
            if frozen is not None:
                return frozen
        ballots = await self.repo.ballots(rnd)
        return await asyncio.to_thread(
            partial(statement_report, ballots.statements, ballots.votes, ballots.disciplines,
                    **self.report_params())
        )
