"""Choosing the most significant story of a domain, with a required written reason."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.components import HearthItem, services_of
from bot.domain.change import REASON_LIMIT
from bot.errors import InvalidInput
from bot.errors_handler import HearthModal, guarded
from bot.interactions import NO_MENTIONS
from bot.services.change_rounds import ChangeRoundService
from bot.text import plain
from cogs.change._render import (
    candidate_embeds,
    candidate_pages,
    candidates_text,
    chosen_text,
    domains_text,
)
from cogs.change._views import copy_options, domain_options, names_for, picked

# =========================================================================== choosing


class ChooseButton(
    HearthItem[ChangeRoundService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"chg:(?P<round_id>[0-9]+):choose",
):
    service_type = ChangeRoundService

    def __init__(self, round_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Choose stories",
                style=discord.ButtonStyle.primary,
                custom_id=f"chg:{round_id}:choose",
            )
        )
        self.round_id = round_id

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        rnd = await self.service.round_for_selection(self.round_id, interaction.user.id)
        counts = await self.service.candidate_counts(rnd)
        mine = await self.service.my_choices(rnd, interaction.user.id)
        view = discord.ui.View(timeout=None)
        view.add_item(ChooseDomain(rnd.id, rnd.domains, counts))
        await interaction.response.send_message(
            domains_text(rnd, counts, list(mine)), view=view, ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip


class ChooseDomain(
    HearthItem[ChangeRoundService],
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"chg:(?P<round_id>[0-9]+):cd",
):
    service_type = ChangeRoundService

    def __init__(
        self, round_id: int, domains: tuple[str, ...] = (), counts: list[int] | None = None
    ) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"chg:{round_id}:cd",
                placeholder="Choose a domain to read…",
                options=domain_options(domains, counts)
                or [discord.SelectOption(label="-", value="0")],
                row=0,
            )
        )
        self.round_id = round_id

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> ChooseDomain:
        made = cls(int(match["round_id"]))
        copy_options(made, item)
        return made

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        await show_page(self.service, interaction, self.round_id, picked(self.item), 0)


async def show_page(
    service: ChangeRoundService,
    interaction: discord.Interaction[Any],
    round_id: int,
    domain: int,
    page: int,
) -> None:
    """Replace the selector's message with one page of a domain's candidates."""
    rnd = await service.round_for_selection(round_id, interaction.user.id)
    candidates = await service.candidates(rnd, domain, names_for(interaction))
    counts = await service.candidate_counts(rnd)
    mine = (await service.my_choices(rnd, interaction.user.id)).get(domain)
    pages = candidate_pages(candidates)
    page = max(0, min(page, len(pages) - 1)) if pages else 0
    mine_index = next(
        (i for i, c in enumerate(candidates) if mine is not None and c.story_id == mine.story_id),
        None,
    )
    view = discord.ui.View(timeout=None)
    view.add_item(ChooseDomain(rnd.id, rnd.domains, counts))
    if candidates:
        view.add_item(PickStory(rnd.id, domain, [(c.story_id, c.view.title) for c in candidates]))
    if len(pages) > 1:
        if page > 0:
            view.add_item(PageButton(rnd.id, domain, page - 1, "Previous"))
        if page < len(pages) - 1:
            view.add_item(PageButton(rnd.id, domain, page + 1, "Next"))
    embeds = candidate_embeds(candidates, pages[page]) if pages else []
    await interaction.response.edit_message(
        content=candidates_text(rnd, domain, len(candidates), page, len(pages), mine_index),
        embeds=embeds, view=view, allowed_mentions=NO_MENTIONS,
    )  # fmt: skip


class PageButton(
    HearthItem[ChangeRoundService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"chg:(?P<round_id>[0-9]+):pg:(?P<domain>[0-9]+):(?P<page>[0-9]+)",
):
    service_type = ChangeRoundService

    def __init__(self, round_id: int, domain: int, page: int, label: str = "") -> None:
        super().__init__(
            discord.ui.Button(
                label=label or f"Page {page + 1}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"chg:{round_id}:pg:{domain}:{page}",
                row=2,
            )
        )
        self.round_id, self.domain, self.page = round_id, domain, page

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        await show_page(self.service, interaction, self.round_id, self.domain, self.page)


class PickStory(
    HearthItem[ChangeRoundService],
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"chg:(?P<round_id>[0-9]+):pk:(?P<domain>[0-9]+)",
):
    service_type = ChangeRoundService

    def __init__(
        self, round_id: int, domain: int, stories: list[tuple[int, str]] | None = None
    ) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"chg:{round_id}:pk:{domain}",
                placeholder="The most significant story is…",
                options=[
                    discord.SelectOption(
                        label=plain(f"{i + 1}. {title}", 100, empty=f"Story {i + 1}"),
                        value=str(sid),
                    )
                    for i, (sid, title) in enumerate((stories or [])[:25])
                ]
                or [discord.SelectOption(label="-", value="0")],
                row=1,
            )
        )
        self.round_id, self.domain = round_id, domain

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> PickStory:
        made = cls(int(match["round_id"]), int(match["domain"]))
        copy_options(made, item)
        return made

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        story_id = picked(self.item)
        rnd = await self.service.round_for_selection(self.round_id, interaction.user.id)
        candidates = await self.service.candidates(rnd, self.domain, names_for(interaction))
        number = next((i for i, c in enumerate(candidates) if c.story_id == story_id), None)
        if number is None:
            raise InvalidInput("That story is no longer among this domain's candidates.")
        await self.service.check_not_own(story_id, interaction.user.id)
        await interaction.response.send_modal(
            ReasonModal(rnd.id, self.domain, rnd.domains[self.domain], story_id, number)
        )


class ReasonModal(HearthModal):
    """Why this story is the most significant: required, posted without a name."""

    def __init__(self, round_id: int, domain: int, name: str, story_id: int, number: int) -> None:
        # A "chg:" custom_id: the log filter drops the whole interaction, whose message
        # carries the candidates' titles (bot/log_privacy.py).
        super().__init__(
            title=plain(f"Why story {number + 1}?", 45), timeout=1800,
            custom_id=f"chg:{round_id}:why:{domain}",
        )  # fmt: skip
        self.round_id, self.domain, self.domain_name = round_id, domain, name
        self.story_id, self.number = story_id, number
        self.reason: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Why is it the most significant?", custom_id="reason",
            style=discord.TextStyle.paragraph, max_length=REASON_LIMIT,
            placeholder="Your reason is posted without your name when selection closes.",
        )  # fmt: skip
        self.add_item(self.reason)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        service = services_of(interaction).get(ChangeRoundService)
        changed = await service.choose(
            self.round_id, interaction.user.id, self.domain, self.story_id, self.reason.value
        )
        await interaction.response.send_message(
            chosen_text(self.domain_name, self.number + 1, changed), ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip
