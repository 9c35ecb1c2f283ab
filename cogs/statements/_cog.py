"""/statement commands and the statement-round lifecycle.

While a round is open nothing shows how statements are faring: `/statement report` gives
turnout only, the round message never changes, and the voting flow's order does not depend on
other members' votes. A member who looks before and after a colleague votes must not be able
to work out that colleague's vote. Everything is shown once the round closes (on time, or
early with `/statement close`).

Thin: rules, storage, the close (the shared lifecycle of :mod:`bot.services.lifecycle`) and
the report are :class:`bot.services.statements.StatementService`'s; this cog parses
interactions, calls the service and renders what it returns.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.closing import Closed
from bot.domain.communities import can_facilitate
from bot.domain.statements import StatementReport, StatementRound
from bot.domain.timeparse import discord_timestamp, parse_future
from bot.errors import InvalidInput
from bot.interactions import (
    NO_MENTIONS,
    community_autocomplete,
    facilitated_community,
    member_community,
    mention,
)
from bot.services.statements import RoundTurnout, StatementService
from bot.text import escape_block, escape_inline
from cogs.statements._render import COLOUR, open_round_text, report_embeds
from cogs.statements._views import DYNAMIC_ITEMS, StartVoting

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)


class StatementsCog(commands.GroupCog, group_name="statement"):
    """Members' statements, voted agree / disagree / pass, and the round's report."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.service = StatementService(
            bot.db, bot.communities, bot.clock, bot.scheduler, report_params=self.report_params
        )
        self.service.lifecycle.hooks = self

    async def cog_load(self) -> None:
        self.bot.services.register(self.service)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        for rnd in await self.service.open_rounds():
            self.service.arm(rnd)

    async def cog_unload(self) -> None:
        await self.service.aclose()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.services.unregister(self.service)

    def report_params(self) -> dict[str, Any]:
        cfg = self.bot.config.polls
        return {
            "consensus_threshold": cfg.statement_consensus_threshold,
            "min_votes": cfg.statement_min_votes,
            "min_group_size": cfg.statement_min_group_size,
            "min_opinion_voters": cfg.statement_min_opinion_voters,
        }

    # ------------------------------------------------------------------ closing
    async def close_round(self, round_id: int) -> bool:
        """Close a round, post its outcome and update its message; False if already closed.

        The one way a round closes (:mod:`bot.services.lifecycle`): the close job and
        `/statement close` both come here, and the outcome is posted by :meth:`after_close`."""
        return await self.service.close(round_id) is not None

    async def before_close(self, item_id: int) -> object:
        return None

    async def after_close(
        self,
        item_id: int,
        closed: Closed[StatementRound, StatementReport] | None,
        prepared: object,
    ) -> None:
        if closed is not None:
            await self._announce(closed)

    async def _announce(self, closed: Closed[StatementRound, StatementReport]) -> None:
        rnd = closed.item
        community = await self.bot.communities.get(rnd.community_id)
        channel_id = rnd.channel_id or (community.voice_id if community else None)
        if channel_id is None:
            return
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
                        f"The outcome is posted below; {mention('statement report')} shows the "
                        "full report."
                    ),
                    colour=COLOUR,
                )
                await channel.get_partial_message(rnd.message_id).edit(
                    embed=closed_notice, view=None
                )
            except discord.HTTPException as exc:
                log.warning("round %s: could not update the round message: %s", rnd.id, exc)

    # ------------------------------------------------------------------ commands
    @app_commands.command(name="add", description="Add a short statement for others to vote on")
    @app_commands.describe(community="The community", text="One clear point, up to 280 characters")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def add(
        self, interaction: discord.Interaction[HearthBot], community: str, text: str
    ) -> None:
        comm, actor, _membership = await member_community(interaction, community)
        statement = await self.service.add(comm, actor.user_id, text)
        cleaned = statement.text
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
        self.service.check_closes(closes_at)
        if comm.voice_id is None:
            raise InvalidInput(
                f"**{escape_inline(comm.name)}** has no voice channel to post the round "
                "in."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        rnd, n = await self.service.open_round(comm, actor.user_id, closes_at)
        embed = discord.Embed(
            title=f"Statement round: {n} statements to vote on",
            description=(
                "Press the button to see members' statements one at a time and say whether "
                "you agree, disagree or pass. You never vote on your own statement. "
                f"Voting closes {discord_timestamp(closes_at, 'F')} "
                f"({discord_timestamp(closes_at, 'R')}). Add more with {mention('statement add')}."
            ),
            colour=COLOUR,
        )
        view = discord.ui.View(timeout=None)
        view.add_item(StartVoting(rnd.id))
        channel = self.bot.get_partial_messageable(comm.voice_id)
        try:
            message = await channel.send(embed=embed, view=view, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            await self.service.discard(rnd.id)  # nothing half-stored
            raise
        await self.service.posted(rnd, comm.voice_id, message.id)
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
        rnd = await self.service.round_to_close(comm)
        await interaction.response.defer(ephemeral=True, thinking=True)
        if await self.close_round(rnd.id):
            where = rnd.channel_id or comm.voice_id
            text = (
                f"Closed statement round #{rnd.id}"
                + (f"; the outcome is posted in <#{where}>" if where else "")
                + f". {mention('statement report')} now shows the full report."
            )
        else:
            text = (
                f"Statement round #{rnd.id} was already closed; {mention('statement report')} "
                "shows its "
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
        rnd = await self.service.round_for_report(comm)
        if rnd.is_open:
            # Turnout only until the round closes (see the module docstring).
            turnout: RoundTurnout = await self.service.turnout(rnd)
            text = open_round_text(rnd, turnout.voters, turnout.eligible, turnout.statements)
            if can_facilitate(actor, comm, membership):
                text += f"\nTo close it now, use {mention('statement close')}."
            await interaction.response.send_message(
                text[:2000], ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        # A report may have to be computed (PCA and k-means, off the loop): defer first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        shown = await self.service.closed_report(rnd)
        await interaction.followup.send(
            embeds=report_embeds(shown.report, rnd, shown.eligible),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
