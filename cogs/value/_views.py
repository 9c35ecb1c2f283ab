"""The value-story form (a modal), its private preview, and the invitation button.

The preview lives in memory only, like a story draft (``cogs/stories/_draft.py``): words the
teller has not submitted are kept nowhere, so there is nothing to export, erase or leak. It
expires after 14 minutes without a click (Discord lets a bot edit an ephemeral message for
15), and then says so.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, replace
from typing import Any

import discord

from bot.components import HearthItem, services_of
from bot.domain.communities import Community
from bot.domain.stories.consent import Consent
from bot.domain.value.stories import QUESTIONS, ValueStoryText, validate_value_story
from bot.errors import NotAllowed
from bot.errors_handler import HearthModal, guarded, handle_interaction_error
from bot.interactions import NO_MENTIONS
from bot.services.value_stories import ValueStoryService
from bot.text import plain
from cogs.value import _render

log = logging.getLogger(__name__)

DRAFT_TIMEOUT = 14 * 60


async def _member_of(interaction: discord.Interaction[Any], community_id: int) -> Community:
    """The community, refusing anyone who is not an active member of it (re-checked at
    every step: a forged click or submit is refused like a command)."""
    from cogs.stories._views import member_of

    return await member_of(interaction, community_id, telling=True)


@dataclass(frozen=True)
class Draft:
    community_id: int
    community_name: str
    teller_id: int
    text: ValueStoryText
    consent: Consent
    invitation_id: int | None = None


# ---------------------------------------------------------------------- the form


class ValueStoryModal(HearthModal):
    """The five questions (Discord allows five inputs). Submitted, it shows the preview (or,
    from **Edit**, redraws it); nothing is stored until the preview's **Submit**."""

    def __init__(
        self,
        community: Community,
        consent: Consent,
        *,
        invitation_id: int | None = None,
        text: ValueStoryText | None = None,
        draft_view: PreviewView | None = None,
    ) -> None:
        super().__init__(title=plain(f"Your value story for {community.name}", 45), timeout=1800)
        self.community_id = community.id
        self.community_name = community.name
        self.consent = consent
        self.invitation_id = invitation_id
        self.draft_view = draft_view
        self.inputs: dict[str, discord.ui.TextInput[Any]] = {}
        answers = text.texts if text is not None else {}
        for q in QUESTIONS:
            field: discord.ui.TextInput[Any] = discord.ui.TextInput(
                label=q.label,
                custom_id=q.cycle,
                style=discord.TextStyle.paragraph,
                placeholder=q.placeholder,
                required=q.required,
                max_length=q.limit,
                default=answers.get(q.cycle) or None,
            )
            self.inputs[q.cycle] = field
            self.add_item(field)

    @classmethod
    def for_draft(cls, view: PreviewView) -> ValueStoryModal:
        d = view.draft
        made = cls.__new__(cls)
        HearthModal.__init__(
            made,
            title=plain(f"Edit your value story for {d.community_name}", 45),
            timeout=1800,
        )
        made.community_id, made.community_name = d.community_id, d.community_name
        made.consent, made.invitation_id, made.draft_view = d.consent, d.invitation_id, view
        made.inputs = {}
        for q in QUESTIONS:
            field: discord.ui.TextInput[Any] = discord.ui.TextInput(
                label=q.label,
                custom_id=q.cycle,
                style=discord.TextStyle.paragraph,
                placeholder=q.placeholder,
                required=q.required,
                max_length=q.limit,
                default=d.text.texts.get(q.cycle) or None,
            )
            made.inputs[q.cycle] = field
            made.add_item(field)
        return made

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        service = services_of(interaction).get(ValueStoryService)
        await _member_of(interaction, self.community_id)
        text = validate_value_story({c: f.value for c, f in self.inputs.items()})
        view = self.draft_view
        if view is not None and not view.done:
            if interaction.user.id != view.draft.teller_id:
                raise NotAllowed("This draft belongs to someone else.")
            view.draft = replace(view.draft, text=text)
            view.last = interaction
            await view.show(interaction)
            return
        draft = Draft(
            self.community_id,
            self.community_name,
            interaction.user.id,
            text,
            self.consent,
            self.invitation_id,
        )
        await open_preview(interaction, draft, service)


# ---------------------------------------------------------------------- the preview


async def open_preview(
    interaction: discord.Interaction[Any], draft: Draft, service: ValueStoryService
) -> None:
    """Answer with the private preview; nothing is stored yet."""
    view = PreviewView(draft, service)
    view.last = interaction
    content, embed = preview_of(draft, service)
    await interaction.response.send_message(
        content, embed=embed, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
    )


def preview_of(draft: Draft, service: ValueStoryService) -> tuple[str, discord.Embed]:
    return _render.preview_message(
        draft.community_name,
        draft.text,
        draft.consent,
        service.draft_note(draft.text),
        service.redaction_preview(draft.text),
    )


class PreviewView(discord.ui.View):
    """The preview's controls; only its teller can use them (checked, not assumed)."""

    def __init__(self, draft: Draft, service: ValueStoryService) -> None:
        super().__init__(timeout=DRAFT_TIMEOUT)
        self.draft = draft
        self.service = service
        self.last: discord.Interaction[Any] | None = None
        self.done = False
        self._build()

    def _build(self) -> None:
        self.clear_items()
        consent: discord.ui.Select[PreviewView] = discord.ui.Select(
            custom_id="value:draft:consent",
            placeholder="Who may hear it?",
            options=[
                discord.SelectOption(
                    label=label, value=c.value, description=desc, default=c is self.draft.consent
                )
                for c, label, desc in _render.CONSENT_CHOICES
            ],
            row=0,
        )
        self.consent_select = consent
        consent.callback = self._consent_chosen  # type: ignore[method-assign]
        self.add_item(consent)
        for label, cid, style, callback in (
            ("Submit", "value:draft:submit", discord.ButtonStyle.success, self._submit),
            ("Edit", "value:draft:edit", discord.ButtonStyle.secondary, self._edit),
            ("Cancel", "value:draft:cancel", discord.ButtonStyle.danger, self._cancel),
        ):
            button: discord.ui.Button[PreviewView] = discord.ui.Button(
                label=label, custom_id=cid, style=style, row=1
            )
            button.callback = callback  # type: ignore[method-assign]
            self.add_item(button)

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
        content, embed = preview_of(self.draft, self.service)
        self._build()
        await interaction.response.edit_message(
            content=content, embed=embed, view=self, allowed_mentions=NO_MENTIONS
        )

    async def _consent_chosen(self, interaction: discord.Interaction[Any]) -> None:
        self.draft = replace(self.draft, consent=Consent(self.consent_select.values[0]))
        await self.show(interaction)

    async def _edit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(ValueStoryModal.for_draft(self))

    async def _cancel(self, interaction: discord.Interaction[Any]) -> None:
        self.done = True
        self.stop()
        await interaction.response.edit_message(
            content="Cancelled: nothing was saved or posted.", embed=None, view=None
        )

    async def _submit(self, interaction: discord.Interaction[Any]) -> None:
        if self.done:
            return
        community = await _member_of(interaction, self.draft.community_id)
        self.done = True
        self.stop()
        await interaction.response.defer()
        try:
            story = await self.service.save(
                community,
                teller_id=interaction.user.id,
                teller_name=interaction.user.display_name,
                text=self.draft.text,
                consent=self.draft.consent,
                invitation_id=self.draft.invitation_id,
            )
        except BaseException:
            self.done = False
            raise
        await interaction.edit_original_response(
            content=_render.submitted(story), embed=None, view=None, allowed_mentions=NO_MENTIONS
        )

    async def on_timeout(self) -> None:
        if self.done or self.last is None:
            return
        with contextlib.suppress(discord.HTTPException):
            await self.last.edit_original_response(content=_render.expired(), view=None)


# ---------------------------------------------------------------------- the invitation


class TellValueStoryButton(
    HearthItem[ValueStoryService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"value:invite:(?P<invitation_id>\d+)",
):
    """An invitation's button: the form, while the invitation is the open one; a kind
    pointer to the current one otherwise."""

    service_type = ValueStoryService

    def __init__(self, invitation_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Tell a value story",
                style=discord.ButtonStyle.primary,
                custom_id=f"value:invite:{invitation_id}",
            )
        )
        self.invitation_id = invitation_id

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        invitation, current = await self.service.clicked_invitation(self.invitation_id)
        if invitation is None or current is None or current.id != invitation.id:
            url = (
                _render.jump_url(interaction.guild_id, current)
                if current is not None and interaction.guild_id is not None
                else None
            )
            await interaction.response.send_message(
                _render.old_invitation(url), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        community = await _member_of(interaction, invitation.community_id)
        await interaction.response.send_modal(
            ValueStoryModal(community, Consent.GROUP, invitation_id=invitation.id)
        )


def invitation_view(invitation_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(TellValueStoryButton(invitation_id))
    return view


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (TellValueStoryButton,)
