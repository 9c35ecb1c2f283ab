"""The polls capability: creating, voting, closing, results and the digest's read-outs.

Between the Discord layer (``cogs/polls``) and the repository (:mod:`bot.db.polls`): the cog
and the views call only this service. It owns the repository and the group committer, applies
the domain's rules (:mod:`bot.domain.polls`), closes through the shared lifecycle
(:mod:`bot.services.lifecycle`), and returns domain objects the cog renders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.db.database import Database
from bot.db.group_commit import GroupCommitter
from bot.db.polls import BallotBuilder, ClosedPoll, PollRepo, VoteReceipt
from bot.db.statements import StatementRepo
from bot.domain.communities import Community, Membership
from bot.domain.digest import OpenPoll, Place, PollOutcome
from bot.domain.digest.voice import poll_findings, round_findings
from bot.domain.polls import (
    DELETED_POLL,
    Ballot,
    Poll,
    PollResult,
    PollSpec,
    check_vote,
    collective_statement,
    poll_outcome,
    tally,
)
from bot.domain.statements import OPEN_ROUND_HEADING, round_heading
from bot.errors import InvalidInput, NotFound
from bot.scheduling import Scheduler
from bot.services.lifecycle import Communities, VotingLifecycle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turnout:
    """An open anonymous poll: how many have voted, never how (counts are withheld).

    Anyone who sees a count move as a particular member votes (and facilitators see who has
    voted) could work out that member's vote, so the counts wait for the close.
    ``waiting`` is given to facilitators only."""

    poll: Poll
    voters: int
    eligible: int
    waiting: int | None = None


@dataclass(frozen=True)
class Results:
    """A poll's results: the tally, its collective statement, and for a poll that is not
    anonymous who voted what (empty otherwise)."""

    poll: Poll
    result: PollResult
    statement: str
    named: list[tuple[int, Ballot]]


class PollService:
    def __init__(
        self,
        db: Database,
        communities: Communities,
        clock: Clock,
        scheduler: Scheduler,
        *,
        nudge_before: timedelta = timedelta(days=1),
    ) -> None:
        self.repo = PollRepo(db)
        self.committer = GroupCommitter(db)
        self.communities = communities
        self.clock = clock
        self.nudge_before = nudge_before
        self.lifecycle: VotingLifecycle[ClosedPoll] = VotingLifecycle(
            "poll", scheduler, clock, self._store_close
        )

    async def aclose(self) -> None:
        """Stop: pending votes are written, jobs cancelled (rebuilt from rows at load)."""
        self.lifecycle.disarm_all()
        await self.committer.close()

    # ------------------------------------------------------------------ reading
    async def get(self, poll_id: int) -> Poll | None:
        return await self.repo.get(poll_id)

    async def open_polls(self) -> list[Poll]:
        return await self.repo.open_polls()

    async def visible_to(self, guild_id: int, user_id: int, text: str) -> list[tuple[Poll, str]]:
        return await self.repo.visible_to(guild_id, user_id, text)

    async def in_guild(self, guild_id: int | None, value: str) -> Poll:
        """The poll a user picked by id, if it belongs to a community of this server."""
        text = (value or "").strip().lstrip("#")
        if not (text.isascii() and text.isdigit() and len(text) <= 18):  # SQLite-sized ids
            raise InvalidInput("Pick a poll from the list (start typing its question).")
        poll = await self.repo.get(int(text))
        community = await self.communities.get(poll.community_id) if poll else None
        if poll is None or community is None or community.guild_id != guild_id:
            raise NotFound(
                f"There is no poll #{text[:20]} in this server. Pick one from the list "
                "(start typing its question)."
            )
        return poll

    async def community_of(self, poll: Poll) -> Community:
        community = await self.communities.get(poll.community_id)
        if community is None:
            raise NotFound(DELETED_POLL)
        return community

    async def find_community(self, poll: Poll) -> Community | None:
        return await self.communities.get(poll.community_id)

    # ------------------------------------------------------------------ opening
    async def create(
        self,
        community: Community,
        spec: PollSpec,
        *,
        anonymous: bool,
        created_by: int,
        closes_at: datetime | None,
    ) -> Poll:
        return await self.repo.create(
            community.id, spec, anonymous=anonymous, created_by=created_by,
            created_at=self.clock.now(), closes_at=closes_at,
        )  # fmt: skip

    async def posted(self, poll: Poll, channel_id: int, message_id: int) -> Poll:
        """The poll message is up: remember where, and arm its close job."""
        await self.repo.set_message(poll.id, channel_id, message_id)
        stored = await self.repo.get(poll.id) or poll
        self.arm(stored)
        return stored

    async def discard(self, poll_id: int) -> None:
        """The poll message could not be posted: nothing half-stored."""
        await self.repo.delete(poll_id)

    def arm(self, poll: Poll) -> None:
        if poll.closed_at is None:
            self.lifecycle.arm(
                poll.id, poll.closes_at, guild_id=self.communities.guild_of(poll.community_id)
            )

    def nudge_at(self, poll: Poll) -> datetime | None:
        """When to nudge non-voters, if ever (not twice, not for a closed poll)."""
        if poll.closed_at is not None or poll.nudged_at is not None:
            return None
        return poll.nudge_at(self.nudge_before)

    # ------------------------------------------------------------------ voting
    async def _membership(self, community_id: int, user_id: int) -> Membership | None:
        return await self.communities.membership(community_id, user_id)

    async def poll_for_vote(self, poll_id: int, user_id: int) -> Poll:
        """Refuse early, with a clear answer, what the vote itself would refuse."""
        poll = await self.repo.get(poll_id)
        membership = (
            await self._membership(poll.community_id, user_id) if poll is not None else None
        )
        return check_vote(
            poll, self.clock.now(), member=membership is not None and membership.active
        )

    async def cast(self, poll_id: int, user_id: int, build: BallotBuilder) -> VoteReceipt:
        """Store a vote durably (group commit) before anything acknowledges it.

        No :meth:`poll_for_vote` here: the write itself applies the same rule
        (:func:`bot.domain.polls.check_vote`), and the pre-check's two extra reads per vote
        cost throughput in a burst (benchmarks/votes.py)."""
        return await self.committer.submit(
            self.repo.vote_op(poll_id, user_id, build, self.clock.now())
        )

    async def own_ballot(self, poll_id: int, user_id: int) -> Ballot | None:
        """The member's own current ballot (shown only to them), while the poll is open."""
        return await self.repo.own_ballot(poll_id, user_id)

    async def own_answers(self, poll_id: int, user_id: int) -> dict[int, bool] | None:
        """The member's stored survey answers, or None if they have none yet."""
        own = await self.repo.own_ballot(poll_id, user_id)
        return own if isinstance(own, dict) else None

    # ------------------------------------------------------------------ nudging
    async def claim_nudge(self, poll_id: int) -> bool:
        """Record the nudge as sent; False if it already was (never nudge twice)."""
        return await self.repo.mark_nudged(poll_id, self.clock.now())

    async def not_voted(self, poll: Poll) -> list[int]:
        """Active members who have not voted (for the nudge): who, never how."""
        voted = await self.repo.voters(poll.id)
        members = await self.communities.members(poll.community_id)
        return [m.user_id for m in members if m.user_id not in voted]

    # ------------------------------------------------------------------ closing
    async def _store_close(
        self, poll_id: int, now: datetime, closed_by: int | None
    ) -> ClosedPoll | None:
        closed = await self.repo.close(poll_id, now, closed_by, poll_outcome)
        if closed is not None:
            log.info("poll %s closed: %d of %d voted", poll_id, closed.outcome.voters,
                     closed.outcome.eligible)
        return closed

    async def close(self, poll_id: int, *, closed_by: int | None) -> ClosedPoll | None:
        return await self.lifecycle.close(poll_id, closed_by=closed_by)

    # ------------------------------------------------------------------ results
    async def current_result(self, poll: Poll) -> PollResult:
        """The tally now; a closed poll's turnout is "of the members eligible at close"
        (frozen then, as its collective statement says), not of whoever is a member today."""
        eligible = (
            poll.eligible
            if poll.closed_at is not None and poll.eligible is not None
            else await self.repo.eligible(poll.community_id)
        )
        return tally(poll.kind, poll.options, await self.repo.ballots(poll), eligible)

    async def results(self, poll: Poll, *, facilitator: bool) -> Turnout | Results:
        """What `/poll results` shows: turnout only while the counts are hidden."""
        if poll.counts_hidden:
            voters = await self.repo.voter_count(poll.id)
            eligible = await self.repo.eligible(poll.community_id)
            return Turnout(poll, voters, eligible, eligible - voters if facilitator else None)
        result = await self.current_result(poll)
        statement = poll.collective_statement
        if statement is None:
            statement = collective_statement(poll.question, result)
        named = [] if poll.anonymous else await self.repo.named_ballots(poll)
        return Results(poll, result, statement, named)


# --------------------------------------------------------------------------- digest


async def poll_outcomes_for_digest(
    db: Database, community_id: int, start: datetime, end: datetime
) -> list[PollOutcome]:
    """Polls and statement rounds closed in ``[start, end)``: their collective statement,
    what they found as counts (tallied from the stored ballots; a round's frozen report),
    and where they are in Discord."""
    repo = PollRepo(db)
    out = []
    for poll in await repo.closed_polls(community_id, start, end):
        assert poll.closed_at is not None
        voters, eligible = int(poll.voters or 0), int(poll.eligible or 0)
        result = tally(poll.kind, poll.options, await repo.ballots(poll), eligible)
        out.append(
            PollOutcome(
                question=poll.question,
                collective_statement=poll.collective_statement or "",
                voters=voters,
                eligible=eligible,
                closed_at=poll.closed_at,
                findings=poll_findings(result),
                place=Place(poll.channel_id, poll.message_id),
            )
        )
    rounds = StatementRepo(db)
    for rnd, statements in await rounds.closed_between(community_id, start, end):
        assert rnd.closed_at is not None
        report = await rounds.frozen_report(rnd.id)
        eligible = int(rnd.eligible or 0)
        out.append(
            PollOutcome(
                question=round_heading(statements),
                collective_statement=rnd.collective_statement or "",
                voters=int(rnd.voters or 0),
                eligible=eligible,
                closed_at=rnd.closed_at,
                findings=() if report is None else round_findings(report, eligible),
                is_round=True,
                place=Place(rnd.channel_id, rnd.message_id),
            )
        )
    out.sort(key=lambda o: o.closed_at)
    return out


async def open_polls_for_digest(db: Database, community_id: int, now: datetime) -> list[OpenPoll]:
    """Polls (and statement rounds) still open at ``now``, with turnout so far."""
    polls = PollRepo(db)
    out = await polls.open_turnout(community_id, now)
    eligible = await polls.eligible(community_id)
    out += [
        OpenPoll(
            OPEN_ROUND_HEADING, voters, eligible, rnd.closes_at,
            is_round=True, place=Place(rnd.channel_id, rnd.message_id),
        )
        for rnd, voters in await StatementRepo(db).open_turnout(community_id, now)
    ]  # fmt: skip
    return out
