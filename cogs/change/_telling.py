"""Telling a story of change: the lounge's button, the domain menu, the modal, the draft.

The teller's private draft (preview, plain-language suggestions, who may read it,
**Tell it** / **Edit the words** / **Cancel**) is the shared
:class:`bot.drafts.PrivateDraftView`, as a story's is: words not yet agreed to are kept nowhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import discord

from bot.components import HearthItem, services_of
from bot.domain.change import CHANGED_LIMIT, TITLE_LIMIT, WHY_LIMIT
from bot.domain.stories.consent import Consent
from bot.drafts import PrivateDraftView, revise
from bot.errors_handler import HearthModal, guarded
from bot.interactions import NO_MENTIONS
from bot.services.change_rounds import ChangeRoundService
from bot.text import plain
from cogs.change._render import (
    CONSENT_CHOICES,
    draft_message,
    told_text,
)
from cogs.change._views import copy_options, domain_options, picked

# =========================================================================== telling


class TellButton(
    HearthItem[ChangeRoundService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"chg:(?P<round_id>[0-9]+):tell",
):
    service_type = ChangeRoundService

    def __init__(self, round_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Tell a story of change",
                style=discord.ButtonStyle.primary,
                custom_id=f"chg:{round_id}:tell",
            )
        )
        self.round_id = round_id

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        rnd = await self.service.round_for_story(self.round_id, interaction.user.id)
        view = discord.ui.View(timeout=None)
        view.add_item(TellDomain(rnd.id, rnd.domains))
        await interaction.response.send_message(
            "Which domain of change is your story about?",
            view=view,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class TellDomain(
    HearthItem[ChangeRoundService],
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"chg:(?P<round_id>[0-9]+):td",
):
    service_type = ChangeRoundService

    def __init__(self, round_id: int, domains: tuple[str, ...] = ()) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"chg:{round_id}:td",
                placeholder="Choose a domain…",
                options=domain_options(domains) or [discord.SelectOption(label="-", value="0")],
            )
        )
        self.round_id = round_id

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> TellDomain:
        made = cls(int(match["round_id"]))
        copy_options(made, item)
        return made

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        domain = picked(self.item)
        rnd = await self.service.round_for_story(self.round_id, interaction.user.id)
        name = self.service.check_domain(rnd, domain)
        await interaction.response.send_modal(TellModal(rnd.id, domain, name))


@dataclass(frozen=True)
class ChangeDraft:
    round_id: int
    domain: int
    domain_name: str
    teller_id: int
    title: str
    changed: str
    why: str
    consent: Consent = Consent.GROUP


def _fields(
    modal: discord.ui.Modal, changed: str = "", why: str = "", title: str = ""
) -> tuple[discord.ui.TextInput[Any], discord.ui.TextInput[Any], discord.ui.TextInput[Any]]:
    what: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="What changed?",
        custom_id="changed",
        style=discord.TextStyle.paragraph,
        max_length=CHANGED_LIMIT,
        default=changed or None,
        placeholder="Describe the change: what was different afterwards, and for whom?",
    )
    matters: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Why is it significant to you?",
        custom_id="why",
        style=discord.TextStyle.paragraph,
        max_length=WHY_LIMIT,
        default=why or None,
    )
    head: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="A title (optional)", custom_id="title", required=False,
        max_length=TITLE_LIMIT, default=title or None,
    )  # fmt: skip
    modal.add_item(what)
    modal.add_item(matters)
    modal.add_item(head)
    return what, matters, head


class TellModal(HearthModal):
    """What changed, why it is significant, a title: submitted, the private draft."""

    def __init__(
        self, round_id: int, domain: int, domain_name: str, draft_view: DraftView | None = None
    ) -> None:
        # A "chg:" custom_id: the log filter drops the whole interaction (bot/log_privacy.py).
        super().__init__(
            title=plain(f"Story of change: {domain_name}", 45), timeout=1800,
            custom_id=f"chg:{round_id}:form:{domain}",
        )  # fmt: skip
        self.round_id, self.domain, self.domain_name = round_id, domain, domain_name
        self.draft_view = draft_view
        d = draft_view.draft if draft_view is not None else None
        self.changed, self.why, self.head = _fields(
            self, d.changed if d else "", d.why if d else "", d.title if d else ""
        )

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        service = services_of(interaction).get(ChangeRoundService)
        await service.round_for_story(self.round_id, interaction.user.id)
        title, changed, why = service.check_story(
            self.changed.value, self.why.value, self.head.value
        )
        if await revise(self.draft_view, interaction, title=title, changed=changed, why=why):
            return
        draft = ChangeDraft(
            self.round_id, self.domain, self.domain_name, interaction.user.id, title, changed, why
        )
        await DraftView(draft, service).open(interaction)


class DraftView(PrivateDraftView[ChangeDraft, ChangeRoundService]):
    """The teller's draft (:class:`~bot.drafts.PrivateDraftView`); nothing is kept until
    **Tell it**."""

    prefix = "chg"
    consent_choices = CONSENT_CHOICES
    consent_placeholder = "Who may read it?"
    keep_label = "Tell it"
    cancelled = "Cancelled: nothing was kept."

    def render(self, interaction: discord.Interaction[Any]) -> tuple[str, discord.Embed]:
        d = self.draft
        cname = interaction.guild.name if interaction.guild is not None else "your community"
        note = self.service.draft_note(d.title, d.changed, d.why)
        return draft_message(d.domain_name, d.title, d.changed, d.why, d.consent, note, cname)

    def edit_form(self) -> discord.ui.Modal:
        d = self.draft
        return TellModal(d.round_id, d.domain, d.domain_name, self)

    def expired(self) -> str:
        return (
            "This draft expired after 14 minutes without a click, and nothing was kept. Your "
            "words are below to copy; press the round's button to start again."
        )

    async def keep(self, interaction: discord.Interaction[Any]) -> None:
        d = self.draft
        self.done = True
        with self.undone_on_failure():
            story = await self.service.tell(
                d.round_id, interaction.user.id, d.domain, title=d.title, changed=d.changed,
                why=d.why, consent=d.consent,
            )  # fmt: skip
        self.stop()
        await interaction.response.edit_message(
            content=told_text(story, d.domain_name), embed=None, view=None,
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip
