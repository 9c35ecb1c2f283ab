"""The annual report's components: the answer button (in DMs, the reminder and the lounge), the
form, and the quoting choice. Persistent: state in ``custom_id`` (``annual:<report>:...``),
each bound to :class:`bot.services.value_annual.AnnualService`."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.components import HearthItem
from bot.domain.stories import Consent
from bot.domain.value.annual import MAX_FIELD, QUESTIONS, QUOTE_CHOICES, AnnualAnswer
from bot.errors_handler import NO_MENTIONS, HearthModal, guarded
from bot.services.value_annual import AnnualService
from bot.text import plain
from cogs.value._annual_render import QUOTE_LABELS, QUOTE_MEANING, consent_text, saved_text

#: The form stays open this long (seconds); a member who takes longer presses the button again.
FORM_TIMEOUT = 3600


class AnswerButton(
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
            AnswerModal(self.service, report.id, community.name, report.year, earlier)
        )


class AnswerModal(HearthModal):
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
        self.inputs: dict[str, discord.ui.TextInput[AnswerModal]] = {}
        for q in QUESTIONS:
            before = earlier.text(q.key) if earlier is not None else ""
            box: discord.ui.TextInput[AnswerModal] = discord.ui.TextInput(
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
        view.add_item(QuoteSelect.for_answer(self.report_id, saved.answer.consent))
        await interaction.response.send_message(
            saved_text(
                saved.community.name, saved.report.year, saved.answer, saved.report.closes_at,
                updated=saved.updated,
            ),
            view=view,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip


class QuoteSelect(
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
    def for_answer(cls, report_id: int, current: Consent) -> QuoteSelect:
        return cls(report_id, current)

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> QuoteSelect:
        return cls(int(match["report_id"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        chosen = str((self.item.values or ["group"])[0])
        consent = await self.service.set_consent(self.report_id, interaction.user.id, chosen)
        view = discord.ui.View(timeout=None)
        view.add_item(QuoteSelect.for_answer(self.report_id, consent))
        await interaction.response.edit_message(content=consent_text(consent), view=view)


def answer_view(report_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AnswerButton(report_id))
    return view


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (AnswerButton, QuoteSelect)
