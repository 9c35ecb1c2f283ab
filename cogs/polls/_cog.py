"""/poll commands and the poll lifecycle (post, nudge, close, results)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.db.deliveries import RunState
from bot.db.group_commit import GroupCommitter
from bot.db.polls import DELETED_POLL, BallotBuilder, PollRepo, VoteReceipt
from bot.delivery import Deliveries, Destination
from bot.domain.communities import Community, can_facilitate
from bot.domain.polls import (
    Poll,
    PollKind,
    PollResult,
    check_closes,
    collective_statement,
    parse_poll,
)
from bot.domain.timeparse import discord_timestamp, parse_future
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.interactions import (
    NO_MENTIONS,
    community_autocomplete,
    facilitated_community,
    member_community,
)
from bot.text import escape_inline, plain
from cogs.polls import _privacy
from cogs.polls._render import (
    describe_ballot,
    poll_embed,
    privacy_line,
    results_embed,
    results_table,
)
from cogs.polls._views import DYNAMIC_ITEMS, poll_view

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

# How a poll kind reads in a sentence ("Posted poll #3 (ranked choice)"), not "ranked poll".
KIND_LABELS = {
    PollKind.SINGLE: "single choice",
    PollKind.MULTI: "multiple choice",
    PollKind.RANKED: "ranked choice",
    PollKind.AGREEMENT: "agreement scale",
    PollKind.SURVEY: "yes/no survey",
}

KindChoice = Literal["single", "multi", "ranked", "agreement", "survey"]
JOB_PREFIX = "poll:"


def close_job(poll_id: int) -> str:
    return f"poll:close:{poll_id}"


def nudge_job(poll_id: int) -> str:
    return f"poll:nudge:{poll_id}"


def nudge_run(poll_id: int) -> str:
    """The delivery run of a poll's nudge DMs (:mod:`bot.delivery`)."""
    return f"poll:{poll_id}:nudge"


def results_run(poll_id: int) -> str:
    """The delivery run of a closed poll's results post."""
    return f"poll:{poll_id}:results"


_NUDGE_RUN = re.compile(r"^poll:(\d+):nudge$")
_RESULTS_RUN = re.compile(r"^poll:(\d+):results$")


class PollsCog(commands.GroupCog, group_name="poll"):
    """Polls in a community's voice channel, voted with persistent buttons and selects."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.repo = PollRepo(bot.db)
        self.committer = GroupCommitter(bot.db)
        self.deliveries = Deliveries(bot)

    # ------------------------------------------------------------------ lifecycle
    async def cog_load(self) -> None:
        _privacy.install()
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        for poll in await self.repo.open_polls():
            self._arm(poll)
        for run in await self.deliveries.running("poll:"):
            # A nudge a crash interrupted: finish it for those not yet nudged.
            found = _NUDGE_RUN.match(run)
            if found:
                poll_id = int(found.group(1))
                self.bot.scheduler.schedule(
                    nudge_job(poll_id), self.bot.clock.now(), partial(self._nudge_due, poll_id)
                )
            # A poll closed before a crash whose results were never (known to be) posted.
            found = _RESULTS_RUN.match(run)
            if found:
                poll_id = int(found.group(1))
                self.bot.scheduler.schedule(
                    f"poll:results:{poll_id}", self.bot.clock.now(),
                    partial(self._resume_results, poll_id),
                )  # fmt: skip

    async def cog_unload(self) -> None:
        self.bot.scheduler.cancel_prefix(JOB_PREFIX)
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        await self.committer.close()
        _privacy.uninstall()

    def _arm(self, poll: Poll) -> None:
        """(Re)build this poll's jobs from its row: the database is the source of truth."""
        if poll.closes_at is None or poll.closed_at is not None:
            return
        self.bot.scheduler.schedule(
            close_job(poll.id), poll.closes_at, partial(self._close_due, poll.id)
        )
        nudge_at = poll.nudge_at(timedelta(seconds=self.bot.config.polls.nudge_seconds()))
        if nudge_at is not None and poll.nudged_at is None:
            self.bot.scheduler.schedule(
                nudge_job(poll.id), nudge_at, partial(self._nudge_due, poll.id)
            )

    # ------------------------------------------------------------------ voting (used by views)
    async def poll_for_vote(self, interaction: discord.Interaction[Any], poll_id: int) -> Poll:
        """Refuse early, with a clear answer, what the vote itself would refuse."""
        poll = await self.repo.get(poll_id)
        if poll is None:
            raise NotFound(DELETED_POLL)
        if not poll.accepts_votes(self.bot.clock.now()):
            raise Conflict("This poll has closed, so votes are no longer accepted.")
        membership = await self.bot.communities.membership(poll.community_id, interaction.user.id)
        if membership is None or not membership.active:
            raise NotAllowed("Only members of this poll's community can vote in it.")
        return poll

    async def cast(
        self, interaction: discord.Interaction[Any], poll_id: int, build: BallotBuilder
    ) -> VoteReceipt:
        """Store a vote durably (group commit) before anything acknowledges it.

        No ``poll_for_vote`` pre-check here: the write itself refuses a missing or closed
        poll and a non-member with the same messages, and the pre-check's two extra reads
        per vote cost throughput in a burst (benchmarks/votes.py).
        """
        op = self.repo.vote_op(poll_id, interaction.user.id, build, self.bot.clock.now())
        return await self.committer.submit(op)

    # ------------------------------------------------------------------ jobs
    async def _close_due(self, poll_id: int) -> None:
        await self.close_poll(poll_id, closed_by=None)

    async def _nudge_due(self, poll_id: int) -> None:
        """DM every member who has not voted, each exactly once (:mod:`bot.delivery`); a
        nudge a crash interrupted is finished after the restart, never started again."""
        poll = await self.repo.get(poll_id)
        run = nudge_run(poll_id)
        if poll is None or not poll.is_open:
            if await self.deliveries.is_running(run):
                await self.deliveries.finish(run)  # closed meanwhile: nobody else to nudge
            return
        if poll.nudged_at is not None:
            if not await self.deliveries.is_running(run):
                return  # already nudged (e.g. before a restart)
        else:
            # The run is recorded before the claim, so a crash between the two resumes it.
            if await self.deliveries.start(run) is RunState.FINISHED:
                return
            if not await self.repo.mark_nudged(poll_id, self.bot.clock.now()):
                return
        community = await self.bot.communities.get(poll.community_id)
        if community is None:
            await self.deliveries.finish(run)
            return
        voted = await self.repo.voters(poll_id)
        members = await self.bot.communities.members(poll.community_id)
        where = f"<#{poll.channel_id}>" if poll.channel_id else "the community's voice channel"
        when = f" closes {discord_timestamp(poll.closes_at, 'R')}" if poll.closes_at else " is open"
        text = (
            f"A reminder from **{escape_inline(community.name)}**: the poll "
            f"“{escape_inline(poll.question)}”{when} and you "
            f"have not voted yet. Your voice counts: vote in {where}."
        )
        if poll.anonymous:
            text += " Voting is anonymous."
        sent = failed = 0
        for m in members:
            if m.user_id in voted:
                continue
            try:
                await self.deliveries.send(
                    run, Destination.member(m.user_id), content=text[:2000],
                    allowed_mentions=NO_MENTIONS,
                )  # fmt: skip
                sent += 1
            except discord.HTTPException:
                failed += 1
        await self.deliveries.finish(run)
        log.info("poll %s: nudged %d member(s), %d could not be reached", poll_id, sent, failed)

    async def close_poll(self, poll_id: int, *, closed_by: int | None) -> bool:
        """Close, post results and the collective statement; False if already closed."""
        # The results run is recorded before the close, so a crash between the close and
        # the post still posts the results after the restart (:meth:`_resume_results`).
        run = results_run(poll_id)
        started = await self.deliveries.start(run)
        closed = await self.repo.close(poll_id, self.bot.clock.now(), closed_by)
        self.bot.scheduler.cancel(close_job(poll_id))
        self.bot.scheduler.cancel(nudge_job(poll_id))
        if closed is None:
            if started is RunState.NEW:
                await self.deliveries.forget(run)  # it was closed before: not this run's
            return False
        poll, result = closed.poll, closed.result
        log.info("poll %s closed: %d of %d voted", poll.id, result.voters, result.eligible)
        await self._announce_results(poll, result)
        return True

    async def _resume_results(self, poll_id: int) -> None:
        poll = await self.repo.get(poll_id)
        if poll is None:
            await self.deliveries.finish(results_run(poll_id))
            return
        if poll.closed_at is None:
            return  # the crash came before the close: the close job will post them
        await self._announce_results(poll, await self.repo.current_result(poll))

    async def _announce_results(self, poll: Poll, result: PollResult) -> None:
        """Post the closed poll's results once (:mod:`bot.delivery`), take the buttons off."""
        run = results_run(poll.id)
        community = await self.bot.communities.get(poll.community_id)
        channel_id = poll.channel_id or (community.voice_id if community else None)
        if channel_id is None:
            await self.deliveries.finish(run)
            return
        channel = self.bot.get_partial_messageable(channel_id)
        try:
            await self.deliveries.send(
                run,
                Destination.channel(channel_id),
                content=results_table(poll, result),
                embed=results_embed(poll, result, poll.collective_statement, final=True),
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            log.warning("poll %s: could not post results in %s: %s", poll.id, channel_id, exc)
        if poll.message_id is not None and community is not None:
            try:
                await channel.get_partial_message(poll.message_id).edit(
                    embed=poll_embed(poll, community.name), view=None
                )
            except discord.HTTPException as exc:
                log.warning("poll %s: could not update the poll message: %s", poll.id, exc)
        await self.deliveries.finish(run)

    # ------------------------------------------------------------------ helpers
    async def _poll_here(self, interaction: discord.Interaction[Any], value: str) -> Poll:
        text = (value or "").strip().lstrip("#")
        if not (text.isascii() and text.isdigit() and len(text) <= 18):  # SQLite-sized ids
            raise InvalidInput("Pick a poll from the list (start typing its question).")
        poll = await self.repo.get(int(text))
        community = await self.bot.communities.get(poll.community_id) if poll else None
        if poll is None or community is None or community.guild_id != interaction.guild_id:
            raise NotFound(
                f"There is no poll #{text[:20]} in this server. Pick one from the list "
                "(start typing its question)."
            )
        return poll

    async def _community_of(self, poll: Poll) -> Community:
        community = await self.bot.communities.get(poll.community_id)
        if community is None:
            raise NotFound(DELETED_POLL)
        return community

    async def poll_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        found = await self.repo.visible_to(interaction.guild_id, interaction.user.id, current)
        out = []
        for poll, community_name in found:
            state = "open" if poll.is_open else "closed"
            suffix = plain(f" ({community_name}, {state})", 60)
            name = plain(f"#{poll.id} {poll.question}", 99 - len(suffix))
            out.append(app_commands.Choice(name=f"{name} {suffix}", value=str(poll.id)))
        return out[:25]

    # ------------------------------------------------------------------ /poll create
    @app_commands.command(name="create", description="Post a poll in a community (facilitators)")
    @app_commands.describe(
        community="The community whose members vote",
        question="The question (for agreement polls: the statement people rate)",
        options="Options separated by ';' (survey: yes/no questions; agreement: leave empty)",
        kind="single, multi, ranked, agreement or survey",
        closes="When voting ends: 'in 3 days', '2h' or a date and time such as '2027-03-10 18:00'",
        anonymous="Anonymous (default): no one, facilitators included, sees how anyone voted",
    )
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def create(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        question: str,
        kind: KindChoice,
        options: str | None = None,
        closes: str | None = None,
        anonymous: bool = True,
    ) -> None:
        comm, actor = await facilitated_community(interaction, community)
        spec = parse_poll(kind, question, options)
        now = self.bot.clock.now()
        closes_at = None
        if closes is not None and closes.strip():
            closes_at = parse_future(closes, ZoneInfo(comm.timezone), now)
            check_closes(closes_at, now)
        if comm.voice_id is None:
            raise InvalidInput(
                f"**{escape_inline(comm.name)}** has no voice channel to post the poll "
                "in."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        poll = await self.repo.create(
            comm.id,
            spec,
            anonymous=anonymous,
            created_by=actor.user_id,
            created_at=now,
            closes_at=closes_at,
        )
        channel = self.bot.get_partial_messageable(comm.voice_id)
        try:
            message = await channel.send(
                embed=poll_embed(poll, comm.name),
                view=poll_view(poll),
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException:
            await self.repo.delete(poll.id)  # nothing half-stored
            raise
        await self.repo.set_message(poll.id, comm.voice_id, message.id)
        poll = await self.repo.get(poll.id) or poll
        self._arm(poll)
        when = (
            f"It closes {discord_timestamp(closes_at, 'F')}."
            if closes_at
            else "It stays open until you close it with `/poll close`."
        )
        await interaction.followup.send(
            f"Posted poll #{poll.id} ({KIND_LABELS[poll.kind]}) in <#{comm.voice_id}>. {when}\n"
            f"{privacy_line(poll)}",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    # ------------------------------------------------------------------ /poll close
    @app_commands.command(name="close", description="Close a poll now and post its results")
    @app_commands.describe(poll="The poll (start typing its question)")
    @app_commands.guild_only()
    async def close(self, interaction: discord.Interaction[HearthBot], poll: str) -> None:
        found = await self._poll_here(interaction, poll)
        community = await self._community_of(found)
        await facilitated_community(interaction, community.name)
        if not found.is_open:
            raise Conflict(f"Poll #{found.id} is already closed; see `/poll results`.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        done = await self.close_poll(found.id, closed_by=interaction.user.id)
        text = (
            f"Closed poll #{found.id}; the results are in <#{found.channel_id}>."
            if done
            else f"Poll #{found.id} was already closed."
        )
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    # ------------------------------------------------------------------ /poll results
    @app_commands.command(name="results", description="See a poll's results (members)")
    @app_commands.describe(poll="The poll (start typing its question)")
    @app_commands.guild_only()
    async def results(self, interaction: discord.Interaction[HearthBot], poll: str) -> None:
        found = await self._poll_here(interaction, poll)
        community = await self._community_of(found)
        _, actor, membership = await member_community(
            interaction, community.name, allow_archived=True
        )
        if found.is_open and found.anonymous:
            # Counts of an open anonymous poll are withheld: anyone who sees the count move
            # as a particular member votes (and facilitators see who has voted) could work
            # out that member's vote.
            voters = await self.repo.voter_count(found.id)
            eligible = await self.repo.eligible(found.community_id)
            lines = [
                f"Poll #{found.id} “{escape_inline(found.question)}” is open: {voters} of "
                f"{eligible} members "
                f"have voted so far.",
                "Counts are shown when the poll closes, so that no one can work out how "
                "anyone voted from how the count changes.",
            ]
            if can_facilitate(actor, community, membership):
                waiting = eligible - voters
                lines.append(
                    "1 member has not voted yet."
                    if waiting == 1
                    else f"{waiting} members have not voted yet."
                )
            await interaction.response.send_message(
                "\n".join(lines)[:2000], ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        result = await self.repo.current_result(found)
        statement = found.collective_statement
        if statement is None:
            statement = collective_statement(found.question, result)
        content = results_table(found, result)
        if not found.anonymous:
            named = await self.repo.named_ballots(found)
            lines = [f"<@{uid}>: {describe_ballot(found, b)}" for uid, b in named]
            extra = "\nWho voted what (this poll is not anonymous):\n" + "\n".join(lines)
            if len(content) + len(extra) <= 2000:
                content += extra
        await interaction.response.send_message(
            content,
            embed=results_embed(found, result, statement, final=not found.is_open),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    close.autocomplete("poll")(poll_autocomplete)
    results.autocomplete("poll")(poll_autocomplete)
