"""/poll commands and the Discord side of a poll's life: post it, nudge, post the results.

Thin: rules, storage and the close itself are :class:`bot.services.polls.PollService`'s (the
shared lifecycle of :mod:`bot.services.lifecycle`); this cog parses interactions, calls the
service and renders what it returns.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import POLL_KINDS
from bot.delivery import Deliveries, Destination, RunState
from bot.domain.closing import Closed
from bot.domain.communities import can_facilitate
from bot.domain.polls import Poll, PollKind, PollResult, check_closes, parse_poll
from bot.domain.timeparse import discord_timestamp, parse_future
from bot.errors import Conflict, InvalidInput
from bot.interactions import (
    NO_MENTIONS,
    community_autocomplete,
    facilitated_community,
    member_community,
    mention,
)
from bot.services.polls import PollService, Turnout
from bot.sharding import UNKNOWN_GUILD
from bot.text import escape_inline, plain
from cogs.polls import _privacy
from cogs.polls._render import (
    describe_ballot,
    poll_embed,
    privacy_line,
    results_embed,
)
from cogs.polls._views import DYNAMIC_ITEMS, ChoiceButton, poll_view

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
        self.service = PollService(
            bot.db, bot.communities, bot.clock, bot.scheduler,
            nudge_before=timedelta(seconds=bot.config.polls.nudge_seconds()),
        )  # fmt: skip
        self.service.lifecycle.hooks = self
        self.deliveries = Deliveries(bot)

    # ------------------------------------------------------------------ lifecycle
    async def cog_load(self) -> None:
        _privacy.install()
        self.bot.services.register(self.service)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        # Vote buttons skip discord.py's per-click view rebuild (bot/components.py).
        self.bot.click_routes.add(ChoiceButton)
        for poll in await self.service.open_polls():
            self._arm(poll)
        for run in await self.deliveries.running("poll:"):
            # A nudge a crash interrupted: finish it for those not yet nudged.
            found = _NUDGE_RUN.match(run)
            if found:
                poll_id = int(found.group(1))
                self.bot.scheduler.schedule(
                    nudge_job(poll_id), self.bot.clock.now(), partial(self._nudge_due, poll_id),
                    guild_id=await self._guild_of(poll_id),
                )  # fmt: skip
            # A poll closed before a crash whose results were never (known to be) posted.
            found = _RESULTS_RUN.match(run)
            if found:
                poll_id = int(found.group(1))
                self.bot.scheduler.schedule(
                    f"poll:results:{poll_id}", self.bot.clock.now(),
                    partial(self._resume_results, poll_id),
                    guild_id=await self._guild_of(poll_id),
                )  # fmt: skip

    async def _guild_of(self, poll_id: int) -> int:
        """The guild of the poll's community (which process runs the poll's jobs)."""
        poll = await self.service.get(poll_id)
        return self.bot.communities.guild_of(poll.community_id) if poll else UNKNOWN_GUILD

    async def cog_unload(self) -> None:
        await self.service.aclose()  # cancels every poll: job, nudges included
        self.bot.click_routes.remove(ChoiceButton)
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.services.unregister(self.service)
        _privacy.uninstall()

    def _arm(self, poll: Poll) -> None:
        """(Re)build this poll's jobs from its row: the database is the source of truth."""
        self.service.arm(poll)
        nudge_at = self.service.nudge_at(poll)
        if nudge_at is not None:
            self.bot.scheduler.schedule(
                nudge_job(poll.id), nudge_at, partial(self._nudge_due, poll.id),
                guild_id=self.bot.communities.guild_of(poll.community_id),
            )

    # ------------------------------------------------------------------ jobs
    async def _nudge_due(self, poll_id: int) -> None:
        """DM every member who has not voted, each exactly once (:mod:`bot.delivery`); a
        nudge a crash interrupted is finished after the restart, never started again."""
        poll = await self.service.get(poll_id)
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
            if not await self.service.claim_nudge(poll_id):
                return
        community = await self.service.find_community(poll)
        if community is None:
            await self.deliveries.finish(run)
            return
        waiting = await self.service.not_voted(poll)
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
        for user_id in waiting:
            try:
                await self.deliveries.send(
                    run, Destination.member(user_id), content=text[:2000],
                    allowed_mentions=NO_MENTIONS,
                )  # fmt: skip
                sent += 1
            except discord.HTTPException:
                failed += 1
        await self.deliveries.finish(run)
        log.info("poll %s: nudged %d member(s), %d could not be reached", poll_id, sent, failed)

    async def close_poll(self, poll_id: int, *, closed_by: int | None) -> bool:
        """Close, post results and the collective statement; False if already closed."""
        return await self.service.close(poll_id, closed_by=closed_by) is not None

    # The lifecycle's hooks (:class:`bot.services.lifecycle.CloseHooks`): every close, by its
    # job or by `/poll close`, posts the results through them.
    async def before_close(self, item_id: int) -> object:
        # The results run is recorded before the close, so a crash between the close and
        # the post still posts the results after the restart (:meth:`_resume_results`).
        return await self.deliveries.start(results_run(item_id))

    async def after_close(
        self, item_id: int, closed: Closed[Poll, PollResult] | None, prepared: object
    ) -> None:
        self.bot.scheduler.cancel(nudge_job(item_id))
        if closed is None:
            if prepared is RunState.NEW:
                await self.deliveries.forget(results_run(item_id))  # closed before: not ours
            return
        await self._announce_results(closed.item, closed.result)

    async def _resume_results(self, poll_id: int) -> None:
        poll = await self.service.get(poll_id)
        if poll is None:
            await self.deliveries.finish(results_run(poll_id))
            return
        if poll.closed_at is None:
            return  # the crash came before the close: the close job will post them
        await self._announce_results(poll, await self.service.current_result(poll))

    async def _announce_results(self, poll: Poll, result: PollResult) -> None:
        """Post the closed poll's results once (:mod:`bot.delivery`), take the buttons off."""
        run = results_run(poll.id)
        community = await self.service.find_community(poll)
        channel_id = poll.channel_id or (community.voice_id if community else None)
        if channel_id is None:
            await self.deliveries.finish(run)
            return
        channel = self.bot.get_partial_messageable(channel_id)
        try:
            await self.deliveries.send(
                run,
                Destination.channel(channel_id),
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
    async def poll_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        found = await self.service.visible_to(
            interaction.guild_id, interaction.user.id, current
        )
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
        kind="How people answer",
        closes="When voting ends: 'in 3 days', '2h' or a date and time such as '2027-03-10 18:00'",
        anonymous="Anonymous (default): no one, facilitators included, sees how anyone voted",
    )
    @app_commands.choices(kind=POLL_KINDS)
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def create(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        question: str,
        kind: str,
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
        poll = await self.service.create(
            comm, spec, anonymous=anonymous, created_by=actor.user_id, closes_at=closes_at
        )
        channel = self.bot.get_partial_messageable(comm.voice_id)
        try:
            message = await channel.send(
                embed=poll_embed(poll, comm.name),
                view=poll_view(poll),
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException:
            await self.service.discard(poll.id)  # nothing half-stored
            raise
        poll = await self.service.posted(poll, comm.voice_id, message.id)
        self._arm(poll)
        when = (
            f"It closes {discord_timestamp(closes_at, 'F')}."
            if closes_at
            else f"It stays open until you close it with {mention('poll close')}."
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
        found = await self.service.in_guild(interaction.guild_id, poll)
        community = await self.service.community_of(found)
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
        found = await self.service.in_guild(interaction.guild_id, poll)
        community = await self.service.community_of(found)
        _, actor, membership = await member_community(
            interaction, community.name, allow_archived=True
        )
        shown = await self.service.results(
            found, facilitator=can_facilitate(actor, community, membership)
        )
        if isinstance(shown, Turnout):
            lines = [
                f"Poll #{found.id} “{escape_inline(found.question)}” is open: {shown.voters} of "
                f"{shown.eligible} members "
                f"have voted so far.",
                "Counts are shown when the poll closes, so that no one can work out how "
                "anyone voted from how the count changes.",
            ]
            if shown.waiting is not None:
                lines.append(
                    "1 member has not voted yet."
                    if shown.waiting == 1
                    else f"{shown.waiting} members have not voted yet."
                )
            await interaction.response.send_message(
                "\n".join(lines)[:2000], ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        # The results once, in the embed (numbers in words); no second table of the same.
        content: str | None = None
        if not found.anonymous:
            lines = [f"<@{uid}>: {describe_ballot(found, b)}" for uid, b in shown.named]
            content = ("Who voted what (this poll is not anonymous):\n" + "\n".join(lines))[:2000]
        await interaction.response.send_message(
            content,
            embed=results_embed(found, shown.result, shown.statement, final=not found.is_open),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    close.autocomplete("poll")(poll_autocomplete)
    results.autocomplete("poll")(poll_autocomplete)
