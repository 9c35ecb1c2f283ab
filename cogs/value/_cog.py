"""/value commands: thin. Each command hands its interaction to the module that owns it.

Value-creation stories and their prompts (``/value story``, ``/value consent``,
``/value prompt``) live in :mod:`cogs.value._story`; keep this class a list of commands so
that other parts of the capability (the value report, the annual report) can add theirs with
a few lines each.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import ANY_CONSENT, SHARE_CONSENT
from bot.interactions import community_autocomplete
from cogs.value import _annual, _report, _story

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

REPORT_CADENCES = [
    app_commands.Choice(name="Every quarter (default)", value="quarterly"),
    app_commands.Choice(name="Every month", value="monthly"),
    app_commands.Choice(name="Every six months (January-June, July-December)", value="half-yearly"),
    app_commands.Choice(name="Every year", value="yearly"),
    app_commands.Choice(name="Off: no scheduled report", value="off"),
]


class ValueCog(commands.GroupCog, group_name="value"):
    """Value made visible: value-creation stories and their periodic invitations."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.stories = _story.ValueStories(bot)
        self.reports = _report.ValueReports(bot)
        self.annual_reports = _annual.AnnualReports(bot)

    async def cog_load(self) -> None:
        await self.stories.load()
        await self.reports.load()
        await self.annual_reports.load()

    async def cog_unload(self) -> None:
        await self.stories.unload()
        await self.reports.unload()
        await self.annual_reports.unload()

    # ------------------------------------------------------------------ value stories
    @app_commands.command(name="story", description="Tell what taking part has been worth to you")
    @app_commands.describe(
        community="Your community",
        consent="Who may hear it (if left out, it stays in the group)",
    )
    @app_commands.choices(consent=SHARE_CONSENT)
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def story(
        self, interaction: discord.Interaction[HearthBot], community: str, consent: str = "group"
    ) -> None:
        await self.stories.tell(interaction, community, consent)

    async def own_value_story_autocomplete(
        self, interaction: discord.Interaction[HearthBot], current: str
    ) -> list[app_commands.Choice[int]]:
        return await self.stories.own_autocomplete(interaction, current)

    @app_commands.command(
        name="consent", description="Change who may hear one of your value stories"
    )
    @app_commands.describe(
        story="One of your value stories (start typing its number or words)",
        level="Who may hear it now (withdrawing deletes it)",
    )
    @app_commands.choices(level=ANY_CONSENT)
    @app_commands.autocomplete(story=own_value_story_autocomplete)
    @app_commands.guild_only()
    async def consent(
        self, interaction: discord.Interaction[HearthBot], story: int, level: str
    ) -> None:
        await self.stories.change_consent(interaction, story, level)

    @app_commands.command(
        name="prompt", description="Invite value stories in the lounge now and then"
    )
    @app_commands.describe(
        community="The community you facilitate",
        cadence="How often to invite stories (if left out, every quarter)",
    )
    @app_commands.choices(cadence=_story.INVITATION_CADENCES)
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def prompt(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        cadence: str = "quarterly",
    ) -> None:
        await self.stories.set_prompt(interaction, community, cadence)

    # ------------------------------------------------------------------ the value report
    @app_commands.command(
        name="report", description="The value-creation matrix for a period, just for you"
    )
    @app_commands.describe(
        community="The community you facilitate",
        start="First day, e.g. 2027-01-01 or Q1 2027 (if left out: the last quarter)",
        end="Last day, included, e.g. 2027-03-31 (if left out: up to now)",
    )
    @app_commands.rename(start="from", end="to")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def report(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        start: str | None = None,
        end: str | None = None,
    ) -> None:
        await self.reports.report(interaction, community, start, end)

    @app_commands.command(
        name="schedule", description="How often the sponsor gets the value report (facilitators)"
    )
    @app_commands.describe(
        community="The community you facilitate",
        cadence="How often the sponsor's report goes out (default: quarterly)",
    )
    @app_commands.choices(cadence=REPORT_CADENCES)
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def schedule(
        self, interaction: discord.Interaction[HearthBot], community: str, cadence: str
    ) -> None:
        await self.reports.set_schedule(interaction, community, cadence)

    @commands.Cog.listener()
    async def on_app_command_completion(
        self, interaction: discord.Interaction[HearthBot], command: object
    ) -> None:
        """A sponsor just set: the report skipped for want of one may go now."""
        name = getattr(command, "qualified_name", "")
        if name == "community sponsor" and interaction.guild_id is not None:
            try:
                await self.reports.arm_guild(interaction.guild_id)
            except Exception:
                log.exception("value report: re-arming after a new sponsor failed")

    # ------------------------------------------------------------------ the annual report
    @app_commands.command(
        name="annual", description="Ask every member for their annual report (facilitators)"
    )
    @app_commands.describe(
        community="The community you facilitate",
        closes="When answers close, e.g. 'in 4 weeks' or '2027-03-10 18:00' (default 4 weeks)",
    )
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def annual(
        self, interaction: discord.Interaction[HearthBot], community: str, closes: str | None = None
    ) -> None:
        await self.annual_reports.open(interaction, community, closes)
