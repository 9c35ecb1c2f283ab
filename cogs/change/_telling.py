"""Telling a story of change: the lounge's button, the domain menu, the modal, the draft.

The teller's private draft (preview, plain-language suggestions, who may read it,
**Tell it** / **Edit the words** / **Cancel**) lives in memory only, like
``cogs/stories/_draft.py``: words not yet agreed to are kept nowhere.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, replace
from typing import Any

import discord

from bot.components import HearthItem, services_of
from bot.domain.change import CHANGED_LIMIT, TITLE_LIMIT, WHY_LIMIT
from bot.domain.stories.consent import Consent
from bot.errors import NotAllowed
from bot.errors_handler import HearthModal, guarded, handle_interaction_error
from bot.interactions import NO_MENTIONS
from bot.services.change_rounds import ChangeRoundService
from bot.text import plain
from cogs.change._render import (
    CONSENT_CHOICES,
    draft_message,
    told_text,
)
from cogs.change._views import copy_options, domain_options, picked

DRAFT_TIMEOUT = 14 * 60

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
        view = self.draft_view
        if view is not None and not view.done:
            if interaction.user.id != view.draft.teller_id:
                raise NotAllowed("This draft belongs to someone else.")
            view.draft = replace(view.draft, title=title, changed=changed, why=why)
            view.last = interaction
            await view.show(interaction)
            return
        draft = ChangeDraft(
            self.round_id, self.domain, self.domain_name, interaction.user.id, title, changed, why
        )
        view = DraftView(draft, service)
        view.last = interaction
        content, embed = view.render(interaction)
        await interaction.response.send_message(
            content, embed=embed, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


class DraftView(discord.ui.View):
    """The teller's draft; only they can use it. Nothing is kept until **Tell it**."""

    def __init__(self, draft: ChangeDraft, service: ChangeRoundService) -> None:
        super().__init__(timeout=DRAFT_TIMEOUT)
        self.draft = draft
        self.service = service
        self.last: discord.Interaction[Any] | None = None
        self.done = False
        self._build()

    def _build(self) -> None:
        self.clear_items()
        consent: discord.ui.Select[DraftView] = discord.ui.Select(
            custom_id="chg:draft:consent",
            placeholder="Who may read it?",
            options=[
                discord.SelectOption(
                    label=label, value=c.value, description=desc,
                    default=c is self.draft.consent,
                )
                for c, label, desc in CONSENT_CHOICES
            ],
            row=0,
        )  # fmt: skip
        self.consent_select = consent
        consent.callback = self._consent_chosen  # type: ignore[method-assign]
        self.add_item(consent)
        for label, cid, style, callback in (
            ("Tell it", "chg:draft:post", discord.ButtonStyle.success, self._post),
            ("Edit the words", "chg:draft:edit", discord.ButtonStyle.secondary, self._edit),
            ("Cancel", "chg:draft:cancel", discord.ButtonStyle.danger, self._cancel),
        ):
            button: discord.ui.Button[DraftView] = discord.ui.Button(
                label=label, custom_id=cid, style=style, row=1
            )
            button.callback = callback  # type: ignore[method-assign]
            self.add_item(button)

    def render(self, interaction: discord.Interaction[Any]) -> tuple[str, discord.Embed]:
        d = self.draft
        cname = interaction.guild.name if interaction.guild is not None else "your community"
        note = self.service.draft_note(d.title, d.changed, d.why)
        return draft_message(d.domain_name, d.title, d.changed, d.why, d.consent, note, cname)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.draft.teller_id:
            await handle_interaction_error(
                interaction, NotAllowed("This draft belongs to someone else.")
            )
            return False
        self.last = interaction
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: Any
    ) -> None:
        await handle_interaction_error(interaction, error)

    async def show(self, interaction: discord.Interaction[Any]) -> None:
        content, embed = self.render(interaction)
        self._build()
        await interaction.response.edit_message(
            content=content, embed=embed, view=self, allowed_mentions=NO_MENTIONS
        )

    async def _consent_chosen(self, interaction: discord.Interaction[Any]) -> None:
        self.draft = replace(self.draft, consent=Consent(self.consent_select.values[0]))
        await self.show(interaction)

    async def _edit(self, interaction: discord.Interaction[Any]) -> None:
        d = self.draft
        await interaction.response.send_modal(TellModal(d.round_id, d.domain, d.domain_name, self))

    async def _cancel(self, interaction: discord.Interaction[Any]) -> None:
        self.done = True
        self.stop()
        await interaction.response.edit_message(
            content="Cancelled: nothing was kept.", embed=None, view=None
        )

    async def _post(self, interaction: discord.Interaction[Any]) -> None:
        if self.done:
            return
        d = self.draft
        self.done = True
        try:
            story = await self.service.tell(
                d.round_id, interaction.user.id, d.domain, title=d.title, changed=d.changed,
                why=d.why, consent=d.consent,
            )  # fmt: skip
        except BaseException:
            self.done = False
            raise
        self.stop()
        await interaction.response.edit_message(
            content=told_text(story, d.domain_name), embed=None, view=None,
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip

    async def on_timeout(self) -> None:
        if self.done or self.last is None:
            return
        with contextlib.suppress(discord.HTTPException):
            await self.last.edit_original_response(
                content="This draft expired after 14 minutes without a click, and nothing was "
                "kept. Your words are below to copy; press the round's button to start again.",
                view=None,
            )
