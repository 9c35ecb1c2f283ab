"""The annual report's components: the answer button (in DMs, the reminder and the lounge), the
form, and the quoting choice. Persistent: state in ``custom_id`` (``annual:<report>:...``),
each bound to :class:`bot.services.value_annual.AnnualService`."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.components import HearthItem
from bot.domain.communities import Community
from bot.domain.stories import Consent
from bot.domain.value.annual import MAX_FIELD, QUESTIONS, QUOTE_CHOICES, AnnualAnswer
from bot.domain.value.annual_render import render_html, render_markdown
from bot.errors_handler import NO_MENTIONS, HearthModal, guarded
from bot.interactions import actor_of
from bot.services.value_annual import AnnualService, NameOf
from bot.text import plain
from cogs.value._annual_render import (
    QUOTE_LABELS,
    QUOTE_MEANING,
    consent_text,
    report_embed,
    report_files,
    saved_text,
)

#: The form stays open this long (seconds); a member who takes longer presses the button again.
FORM_TIMEOUT = 3600


class AnnualAnswerButton(
    HearthItem[AnnualService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"annual:(?P<report_id>[0-9]+):answer",
):
    service_type = AnnualService

    def __init__(self, report_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Write my annual report",
                style=discord.ButtonStyle.primary,
                custom_id=f"annual:{report_id}:answer",
            )
        )
        self.report_id = report_id

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        report, community = await self.service.for_member(self.report_id, interaction.user.id)
        earlier = await self.service.answer_of(report.id, interaction.user.id)
        await interaction.response.send_modal(
            AnnualAnswerModal(self.service, report.id, community.name, report.year, earlier)
        )


class AnnualAnswerModal(HearthModal):
    def __init__(
        self,
        service: AnnualService,
        report_id: int,
        community: str,
        year: int,
        earlier: AnnualAnswer | None,
    ) -> None:
        super().__init__(
            title=plain(f"Annual report {year}: {community}", 45), timeout=FORM_TIMEOUT
        )
        self.service = service
        self.report_id = report_id
        self.inputs: dict[str, discord.ui.TextInput[AnnualAnswerModal]] = {}
        for q in QUESTIONS:
            before = earlier.text(q.key) if earlier is not None else ""
            box: discord.ui.TextInput[AnnualAnswerModal] = discord.ui.TextInput(
                label=q.label,
                custom_id=f"annual-{q.key}",
                style=discord.TextStyle.paragraph,
                placeholder=plain(q.placeholder, 100),
                default=before[:MAX_FIELD] or None,
                required=False,
                max_length=MAX_FIELD,
            )
            self.inputs[q.key] = box
            self.add_item(box)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        saved = await self.service.save_answer(
            self.report_id, interaction.user.id, {k: box.value for k, box in self.inputs.items()}
        )
        view = discord.ui.View(timeout=None)
        view.add_item(AnnualQuoteSelect.for_answer(self.report_id, saved.answer.consent))
        await interaction.response.send_message(
            saved_text(
                saved.community.name, saved.report.year, saved.answer, saved.report.closes_at,
                updated=saved.updated,
            ),
            view=view,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip


class AnnualQuoteSelect(
    HearthItem[AnnualService],
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"annual:(?P<report_id>[0-9]+):quote",
):
    """Whether the member's words may be quoted in the report for the sponsor."""

    service_type = AnnualService

    def __init__(self, report_id: int, current: Consent = Consent.GROUP) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"annual:{report_id}:quote",
                placeholder="May your words be quoted?",
                options=[
                    discord.SelectOption(
                        label=QUOTE_LABELS[c],
                        value=c.value,
                        description=plain(QUOTE_MEANING[c], 100),
                        default=c is current,
                    )
                    for c in QUOTE_CHOICES
                ],
                min_values=1,
                max_values=1,
            )
        )
        self.report_id = report_id

    @classmethod
    def for_answer(cls, report_id: int, current: Consent) -> AnnualQuoteSelect:
        return cls(report_id, current)

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> AnnualQuoteSelect:
        return cls(int(match["report_id"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        chosen = str((self.item.values or ["group"])[0])
        consent = await self.service.set_consent(self.report_id, interaction.user.id, chosen)
        view = discord.ui.View(timeout=None)
        view.add_item(AnnualQuoteSelect.for_answer(self.report_id, consent))
        await interaction.response.edit_message(content=consent_text(consent), view=view)


class AnnualReportButton(
    HearthItem[AnnualService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"annual:(?P<report_id>[0-9]+):read",
):
    """On the closed lounge post: a facilitator reads the report again, ephemerally (for one
    whose direct messages are closed, or who lost the DM)."""

    service_type = AnnualService

    def __init__(self, report_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Read the report (facilitators)",
                style=discord.ButtonStyle.secondary,
                custom_id=f"annual:{report_id}:read",
            )
        )
        self.report_id = report_id

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        report, community = await self.service.for_facilitator(
            self.report_id, actor_of(interaction)
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        summary = await self.service.summary(
            report, community, name_lookup(interaction.client, community)
        )
        markdown = render_markdown(summary, timezone=community.timezone)
        html = render_html(summary, timezone=community.timezone)
        await interaction.followup.send(
            embed=report_embed(summary),
            files=report_files(summary, community.slug, markdown, html),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


def name_lookup(bot: Any, community: Community) -> NameOf:
    """Display names for the report's named quotes: the server member's, else the user's."""
    guild = bot.get_guild(community.guild_id)

    async def name_of(user_id: int) -> str | None:
        member = guild.get_member(user_id) if guild is not None else None
        if member is None and guild is not None:
            try:
                member = await guild.fetch_member(user_id)
            except discord.HTTPException:
                member = None
        if member is not None:
            return str(member.display_name)
        try:
            user = bot.get_user(user_id) or await bot.fetch_user(user_id)
        except discord.HTTPException:
            return None
        return str(user.display_name)

    return name_of


def answer_view(report_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AnnualAnswerButton(report_id))
    return view


def report_view(report_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AnnualReportButton(report_id))
    return view


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    AnnualAnswerButton, AnnualQuoteSelect, AnnualReportButton,
)  # fmt: skip
