"""/statement commands and the statement-round lifecycle.

While a round is open nothing shows how statements are faring: `/statement report` gives
turnout only, the round message never changes, and the voting flow's order does not depend on
other members' votes. A member who looks before and after a colleague votes must not be able
to work out that colleague's vote. Everything is shown once the round closes (on time, or
early with `/statement close`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.db.group_commit import GroupCommitter
from bot.db.statements import StatementRepo, StatementVoteReceipt
from bot.domain.communities import can_facilitate
from bot.domain.statements import (
    Statement,
    StatementRound,
    Vote,
    next_statement_for,
    validate_statement,
)
from bot.domain.timeparse import discord_timestamp, parse_future
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.interactions import (
    NO_MENTIONS,
    community_autocomplete,
    facilitated_community,
    member_community,
)
from bot.text import escape_block, escape_inline
from cogs.statements._render import COLOUR, open_round_text, report_embeds
from cogs.statements._views import DYNAMIC_ITEMS, StartVoting

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

JOB_PREFIX = "statements:"
MIN_ROUND = timedelta(minutes=5)


def close_job(round_id: int) -> str:
    return f"statements:close:{round_id}"


class StatementsCog(commands.GroupCog, group_name="statement"):
    """Members' statements, voted agree / disagree / pass, and the round's report."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.repo = StatementRepo(bot.db)
        self.committer = GroupCommitter(bot.db)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        for rnd in await self.repo.open_rounds():
            self._arm(rnd)

    async def cog_unload(self) -> None:
        self.bot.scheduler.cancel_prefix(JOB_PREFIX)
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        await self.committer.close()

    def _arm(self, rnd: StatementRound) -> None:
        if rnd.is_open:
            self.bot.scheduler.schedule(
                close_job(rnd.id), rnd.closes_at, partial(self._close_due, rnd.id)
            )

    async def _close_due(self, round_id: int) -> None:
        await self.close_round(round_id)

    def report_params(self) -> dict[str, Any]:
        cfg = self.bot.config.polls
        return {
            "consensus_threshold": cfg.statement_consensus_threshold,
            "min_votes": cfg.statement_min_votes,
            "min_group_size": cfg.statement_min_group_size,
            "min_opinion_voters": cfg.statement_min_opinion_voters,
        }

    # ------------------------------------------------------------------ voting (views)
    async def round_for_vote(
        self, interaction: discord.Interaction[Any], round_id: int
    ) -> StatementRound:
        rnd = await self.repo.get_round(round_id)
        if rnd is None:
            raise NotFound("This statement round no longer exists.")
        if not rnd.accepts_votes(self.bot.clock.now()):
            raise Conflict("This statement round has closed, so votes are no longer accepted.")
        membership = await self.bot.communities.membership(rnd.community_id, interaction.user.id)
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
        self, interaction: discord.Interaction[Any], round_id: int, statement_id: int, vote: Vote
    ) -> StatementVoteReceipt:
        await self.round_for_vote(interaction, round_id)
        op = self.repo.vote_op(
            round_id, statement_id, interaction.user.id, vote, self.bot.clock.now()
        )
        return await self.committer.submit(op)

    # ------------------------------------------------------------------ closing
    async def close_round(self, round_id: int) -> bool:
        """Close a round, post its outcome and update its message; False if already closed.

        The one way a round closes: the scheduled close job and `/statement close` both come
        here."""
        closed = await self.repo.close_round(round_id, self.bot.clock.now(), self.report_params())
        self.bot.scheduler.cancel(close_job(round_id))
        if closed is None:
            return False
        rnd = closed.round
        log.info("statement round %s closed: %d voter(s)", rnd.id, closed.report.voters)
        community = await self.bot.communities.get(rnd.community_id)
        channel_id = rnd.channel_id or (community.voice_id if community else None)
        if channel_id is None:
            return True
        channel = self.bot.get_partial_messageable(channel_id)
        embed = discord.Embed(
            title="Statement round closed: what we say together",
            description=escape_block(rnd.collective_statement)[:4000],
            colour=COLOUR,
        )
        embed.set_footer(text=f"round #{rnd.id} · /statement report shows the full report")
        try:
            await channel.send(embed=embed, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("round %s: could not post the outcome: %s", rnd.id, exc)
        if rnd.message_id is not None:
            try:
                # Swap the invitation for a closed notice: "Press the button… Voting closes
                # in 2 days" must not stay up once the button is gone.
                closed_notice = discord.Embed(
                    title=f"Statement round #{rnd.id} is closed",
                    description=(
                        f"Voting closed {discord_timestamp(self.bot.clock.now(), 'F')}. "
                        "The outcome is posted below; `/statement report` shows the full report."
                    ),
                    colour=COLOUR,
                )
                await channel.get_partial_message(rnd.message_id).edit(
                    embed=closed_notice, view=None
                )
            except discord.HTTPException as exc:
                log.warning("round %s: could not update the round message: %s", rnd.id, exc)
        return True

    # ------------------------------------------------------------------ commands
    @app_commands.command(name="add", description="Add a short statement for others to vote on")
    @app_commands.describe(community="The community", text="One clear point, up to 280 characters")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def add(
        self, interaction: discord.Interaction[HearthBot], community: str, text: str
    ) -> None:
        comm, actor, _membership = await member_community(interaction, community)
        membership = await self.bot.communities.membership(comm.id, actor.user_id)
        if membership is None or not membership.active:
            raise NotAllowed(f"Only members of **{escape_inline(comm.name)}** can add statements.")
        cleaned = validate_statement(text, await self.repo.current_texts(comm.id))
        statement = await self.repo.add(comm.id, actor.user_id, cleaned, self.bot.clock.now())
        where = (
            "It joins the round that is open now."
            if statement.round_id is not None
            else "It will be in the next statement round."
        )
        await interaction.response.send_message(
            f"Added your statement (#{statement.id}): “{escape_inline(cleaned)}”. {where} "
            "You will not be asked to vote on your own statement.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="round", description="Open a statement round (facilitators)")
    @app_commands.describe(
        community="The community",
        closes="When voting ends, e.g. 'in 3 days' or '2027-03-10 18:00' (default 7 days)",
    )
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def round_(
        self, interaction: discord.Interaction[HearthBot], community: str, closes: str | None = None
    ) -> None:
        comm, actor = await facilitated_community(interaction, community)
        now = self.bot.clock.now()
        if closes and closes.strip():
            closes_at = parse_future(closes, ZoneInfo(comm.timezone), now)
        else:
            closes_at = now + timedelta(seconds=self.bot.config.polls.round_default_seconds())
        if closes_at - now < MIN_ROUND:
            raise InvalidInput("Give members at least 5 minutes: choose a later closing time.")
        if comm.voice_id is None:
            raise InvalidInput(
                f"**{escape_inline(comm.name)}** has no voice channel to post the round "
                "in."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        rnd = await self.repo.create_round(comm.id, actor.user_id, now, closes_at)
        n = len(await self.repo.round_statements(rnd.id))
        embed = discord.Embed(
            title=f"Statement round: {n} statements to vote on",
            description=(
                "Press the button to see members' statements one at a time and say whether "
                "you agree, disagree or pass. You never vote on your own statement. "
                f"Voting closes {discord_timestamp(closes_at, 'F')} "
                f"({discord_timestamp(closes_at, 'R')}). Add more with `/statement add`."
            ),
            colour=COLOUR,
        )
        view = discord.ui.View(timeout=None)
        view.add_item(StartVoting(rnd.id))
        channel = self.bot.get_partial_messageable(comm.voice_id)
        try:
            message = await channel.send(embed=embed, view=view, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            await self.repo.undo_round(rnd.id)  # nothing half-stored
            raise
        await self.repo.set_round_message(rnd.id, comm.voice_id, message.id)
        self._arm(rnd)
        await interaction.followup.send(
            f"Opened statement round #{rnd.id} with {n} statements in <#{comm.voice_id}>; "
            f"it closes {discord_timestamp(closes_at, 'F')}.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(
        name="close", description="Close the open statement round now (facilitators)"
    )
    @app_commands.describe(community="The community")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def close(self, interaction: discord.Interaction[HearthBot], community: str) -> None:
        comm, _actor = await facilitated_community(interaction, community)
        rnd = await self.repo.open_round(comm.id)
        if rnd is None:
            latest = await self.repo.latest_round(comm.id)
            raise Conflict(
                f"**{escape_inline(comm.name)}** has no open statement round, so there is "
                "nothing to close. "
                + (
                    f"Round #{latest.id} closed {discord_timestamp(latest.closed_at, 'F')}; "
                    "`/statement report` shows its report."
                    if latest is not None and latest.closed_at is not None
                    else "Open one with `/statement round`."
                )
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        if await self.close_round(rnd.id):
            where = rnd.channel_id or comm.voice_id
            text = (
                f"Closed statement round #{rnd.id}"
                + (f"; the outcome is posted in <#{where}>" if where else "")
                + ". `/statement report` now shows the full report."
            )
        else:
            text = (
                f"Statement round #{rnd.id} was already closed; `/statement report` shows its "
                "report."
            )
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="report", description="Where members agree and where they differ")
    @app_commands.describe(community="The community")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def report(self, interaction: discord.Interaction[HearthBot], community: str) -> None:
        comm, actor, membership = await member_community(
            interaction, community, allow_archived=True
        )
        rnd = await self.repo.latest_round(comm.id)
        if rnd is None:
            raise NotFound(
                f"**{escape_inline(comm.name)}** has had no statement round yet. A facilitator "
                "opens one with "
                "`/statement round`."
            )
        if rnd.is_open:
            # Turnout only until the round closes (see the module docstring).
            text = open_round_text(
                rnd,
                await self.repo.turnout(rnd.id),
                await self.repo.eligible(comm.id),
                len(await self.repo.round_statements(rnd.id)),
            )
            if can_facilitate(actor, comm, membership):
                text += "\nTo close it now, use `/statement close`."
            await interaction.response.send_message(
                text[:2000], ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        report = await self.repo.report(rnd, **self.report_params())
        eligible = rnd.eligible or await self.repo.eligible(comm.id)
        await interaction.response.send_message(
            embeds=report_embeds(report, rnd, eligible),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
