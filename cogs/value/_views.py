"""The value-story form (a modal), its private preview, and the invitation button.

The preview is the shared private draft (:class:`bot.drafts.PrivateDraftView`, as a story's
is): in memory only, so words the teller has not submitted are kept nowhere; it expires after
14 minutes without a click, and then says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import discord

from bot.components import HearthItem, services_of
from bot.domain.communities import Community
from bot.domain.stories.consent import Consent
from bot.domain.value.stories import QUESTIONS, ValueStoryText, validate_value_story
from bot.drafts import PrivateDraftView, revise
from bot.errors_handler import HearthModal, guarded
from bot.interactions import NO_MENTIONS
from bot.services.value_stories import ValueStoryService
from bot.text import plain
from cogs.value import _render

log = logging.getLogger(__name__)


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


def _fields(
    modal: discord.ui.Modal, answers: Mapping[str, str]
) -> dict[str, discord.ui.TextInput[Any]]:
    """The five questions, filled in with ``answers`` (by cycle), added to ``modal``."""
    inputs: dict[str, discord.ui.TextInput[Any]] = {}
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
        inputs[q.cycle] = field
        modal.add_item(field)
    return inputs


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
        self.inputs = _fields(self, text.texts if text is not None else {})

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
        made.inputs = _fields(made, d.text.texts)
        return made

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        service = services_of(interaction).get(ValueStoryService)
        await _member_of(interaction, self.community_id)
        text = validate_value_story({c: f.value for c, f in self.inputs.items()})
        if await revise(self.draft_view, interaction, text=text):
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
    await PreviewView(draft, service).open(interaction)


def preview_of(draft: Draft, service: ValueStoryService) -> tuple[str, discord.Embed]:
    return _render.preview_message(
        draft.community_name,
        draft.text,
        draft.consent,
        service.draft_note(draft.text),
        service.redaction_preview(draft.text),
    )


class PreviewView(PrivateDraftView[Draft, ValueStoryService]):
    """The value story's preview (:class:`~bot.drafts.PrivateDraftView`)."""

    prefix = "value"
    consent_choices = _render.CONSENT_CHOICES
    keep_label = "Submit"
    keep_id = "submit"
    edit_label = "Edit"
    cancelled = "Cancelled: nothing was saved or posted."

    def render(self, interaction: discord.Interaction[Any]) -> tuple[str, discord.Embed]:
        return preview_of(self.draft, self.service)

    def edit_form(self) -> discord.ui.Modal:
        return ValueStoryModal.for_draft(self)

    def expired(self) -> str:
        return _render.expired()

    async def keep(self, interaction: discord.Interaction[Any]) -> None:
        community = await _member_of(interaction, self.draft.community_id)
        async with self.storing(interaction):
            story = await self.service.save(
                community,
                teller_id=interaction.user.id,
                teller_name=interaction.user.display_name,
                text=self.draft.text,
                consent=self.draft.consent,
                invitation_id=self.draft.invitation_id,
            )
        await interaction.edit_original_response(
            content=_render.submitted(story), embed=None, view=None, allowed_mentions=NO_MENTIONS
        )


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
