"""Telling a story: the modal, then a draft the teller sees before anything is posted.

After the modal the teller gets an ephemeral draft: the story as it will read, the
plain-language suggestions, who may hear it (three choices in plain words) and its stage,
with **Post**, **Edit the words** (the modal again, filled in) and **Cancel**. Nothing is
stored or posted until **Post**.

The draft is the shared :class:`bot.drafts.PrivateDraftView` (as a value story's and a story
of change's are): in memory only, so words the teller has not agreed to post are kept nowhere;
after 14 minutes without a click it says so and leaves the words on screen to copy. This
module says what a story's draft adds: its wording, the stage menu, and what **Post** does.

Editing a story afterwards (``/story edit``) uses :class:`EditStoryModal`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import discord

from bot.components import services_of
from bot.domain.communities import Community
from bot.domain.stories import (
    CONSENT_DESCRIPTIONS,
    TEXT_LIMIT,
    TITLE_LIMIT,
    Consent,
    Stage,
    StoryRecord,
    validate_story,
)
from bot.drafts import PrivateDraftView, revise
from bot.errors import NotAllowed
from bot.errors_handler import HearthModal
from bot.interactions import NO_MENTIONS, mention
from bot.services.stories import StoryService
from bot.text import escape_inline, plain
from cogs.stories._publisher import offer_pending
from cogs.stories._render import audience_confirm

log = logging.getLogger(__name__)

#: Who may hear a story, in the words a teller sees (the stored values are the keys).
CONSENT_CHOICES: list[tuple[Consent, str, str]] = [
    (Consent.GROUP, "Keep it in the group", "Only members of this community see it."),
    (Consent.ANONYMOUS, "Share beyond the group without my name",
     "The charity may use it outside the group, with no name on it."),
    (Consent.NAMED, "Share with my name",
     "The charity may use it outside the group, with your display name."),
]
CONSENT_WORDS = {c: label for c, label, _ in CONSENT_CHOICES}
NO_STAGE = "-"
DRAFT_COLOUR = discord.Colour.light_grey()


@dataclass(frozen=True)
class Draft:
    community_id: int
    community_name: str
    teller_id: int
    title: str
    text: str
    stage: Stage | None
    consent: Consent
    #: "Save as story": the (channel id, message id) the words came from, and the channel
    #: (a circle, a private thread) whose readers alone may see them, if not everyone's.
    source: tuple[int, int] | None = None
    audience_channel_id: int | None = None


async def open_draft(
    interaction: discord.Interaction[Any], draft: Draft, service: StoryService
) -> None:
    """Answer ``interaction`` with a new draft (ephemeral); nothing is stored yet."""
    await DraftView(draft, service).open(interaction)


def draft_message(draft: Draft, service: StoryService) -> tuple[str, discord.Embed]:
    lines = [
        "**Your story is not posted yet.** Check how it reads, choose who may hear it and "
        "its stage, then press **Post**.",
    ]
    note = service.draft_note(draft.title, draft.text)
    if note:
        lines += ["", note]
    embed = discord.Embed(
        title=plain(draft.title, 256), description=draft.text[:4096], colour=DRAFT_COLOUR
    )
    embed.add_field(
        name="Who may hear it",
        value=f"{CONSENT_WORDS[draft.consent]}: it {CONSENT_DESCRIPTIONS[draft.consent]}.",
        inline=False,
    )
    embed.add_field(
        name="Stage", value=escape_inline(draft.stage.label) if draft.stage else "None chosen",
        inline=False,
    )
    embed.set_footer(text=plain(f"Draft for {draft.community_name} · not posted", 2048))
    return "\n".join(lines)[:2000], embed


class DraftView(PrivateDraftView[Draft, StoryService]):
    """The story's draft (:class:`~bot.drafts.PrivateDraftView`), with a stage menu too."""

    prefix = "story"
    consent_choices = CONSENT_CHOICES
    keep_label = "Post"
    button_row = 2
    cancelled = "Cancelled: nothing was posted or kept."

    def render(self, interaction: discord.Interaction[Any]) -> tuple[str, discord.Embed]:
        return draft_message(self.draft, self.service)

    def edit_form(self) -> discord.ui.Modal:
        return ShareModal.for_draft(self)

    def expired(self) -> str:
        return (
            "This draft expired after 14 minutes without a click, and nothing was posted. "
            f"Your words are below to copy; start again with {mention('story share')}."
        )

    def add_choices(self) -> None:
        stages = list(self.service.stages)
        if not stages:
            return
        stage: discord.ui.Select[DraftView] = discord.ui.Select(
            custom_id="story:draft:stage",
            placeholder="Which stage is it about?",
            options=[
                discord.SelectOption(
                    label="No particular stage", value=NO_STAGE,
                    default=self.draft.stage is None,
                ),
                *[
                    discord.SelectOption(
                        label=plain(s.label, 100, empty=s.slug), value=s.slug,
                        default=self.draft.stage is not None
                        and s.slug == self.draft.stage.slug,
                    )
                    for s in stages[:24]
                ],
            ],
            row=1,
        )  # fmt: skip
        self.stage_select = stage
        stage.callback = self._stage_chosen  # type: ignore[method-assign]
        self.add_item(stage)

    async def _stage_chosen(self, interaction: discord.Interaction[Any]) -> None:
        value = self.stage_select.values[0]
        stage = None if value == NO_STAGE else self.service.stages.resolve(value)
        self.draft = replace(self.draft, stage=stage)
        await self.show(interaction)

    async def keep(self, interaction: discord.Interaction[Any]) -> None:
        from cogs.stories._views import member_of

        community = await member_of(interaction, self.draft.community_id, telling=True)
        if self.draft.source is not None:  # saved twice from two drafts of one message
            await self.service.require_unsaved(self.draft.source[1])
        async with self.storing(interaction):
            story = await self.service.save(
                community,
                teller_id=interaction.user.id,
                teller_name=interaction.user.display_name,
                title=self.draft.title,
                text=self.draft.text,
                stage=self.draft.stage,
                consent=self.draft.consent,
                source=self.draft.source,
                audience_channel_id=self.draft.audience_channel_id,
            )
        if story.is_restricted:
            # Told in a circle: kept for its readers; the teller decides here whether the
            # whole community may read it (nothing is posted until they do).
            from cogs.stories._views import audience_view

            where = await self.service.place_of(story)
            await interaction.edit_original_response(
                content=audience_confirm(story, where.kind, where.mention, community.stories_id),
                embed=None, view=audience_view(story.id, where.kind),
                allowed_mentions=NO_MENTIONS,
            )
        else:
            assert story.post is not None
            await interaction.edit_original_response(
                content=posted_text(story), embed=None, view=None, allowed_mentions=NO_MENTIONS
            )
        await offer_pending(self.service, interaction)


def posted_text(story: StoryRecord) -> str:
    assert story.post is not None
    return (
        f"Thank you. Your story “{escape_inline(story.title or '')}” is saved as #{story.id} "
        f"and posted in <#{story.post.channel_id}>.\n"
        f"Who may hear it: **{CONSENT_WORDS.get(story.consent, story.consent.value)}** (it "
        f"{CONSENT_DESCRIPTIONS[story.consent]}). Change it any time with "
        f"{mention('story consent')} (story {story.id}), or change the words with "
        f"{mention('story edit')}."
    )


def _fields(modal: discord.ui.Modal, title: str, text: str) -> tuple[
    discord.ui.TextInput[Any], discord.ui.TextInput[Any]
]:
    story_title: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Title", custom_id="title", max_length=TITLE_LIMIT,
        placeholder="A few words that sum it up", default=title or None,
    )
    story_text: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Your story", custom_id="text", style=discord.TextStyle.paragraph,
        max_length=TEXT_LIMIT, placeholder="What happened, and what did it mean to you?",
        default=text or None,
    )
    modal.add_item(story_title)
    modal.add_item(story_text)
    return story_title, story_text


class ShareModal(HearthModal):
    """Title and text. Submitted, it shows the draft (or, from "Edit the words", redraws
    it); nothing is stored until the draft's **Post**."""

    def __init__(
        self, community: Community, stage: Stage | None, consent: Consent, *,
        title: str = "", text: str = "",
    ) -> None:
        super().__init__(title=plain(f"Share a story with {community.name}", 45), timeout=1800)
        self.community_id = community.id
        self.community_name = community.name
        self.stage = stage
        self.consent = consent
        self.draft_view: DraftView | None = None
        self.story_title, self.story_text = _fields(self, title, text)

    @classmethod
    def for_draft(cls, view: DraftView) -> ShareModal:
        d = view.draft
        made = cls.__new__(cls)
        HearthModal.__init__(made, title=plain(f"Edit your story for {d.community_name}", 45),
                             timeout=1800)
        made.community_id, made.community_name = d.community_id, d.community_name
        made.stage, made.consent, made.draft_view = d.stage, d.consent, view
        made.story_title, made.story_text = _fields(made, d.title, d.text)
        return made

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        from cogs.stories._views import member_of

        service = services_of(interaction).get(StoryService)
        await member_of(interaction, self.community_id, telling=True)
        stage = self.draft_view.draft.stage if self.draft_view else self.stage
        title, text = validate_story(
            self.story_title.value, self.story_text.value,
            stage.slug if stage else None, service.stages,
        )
        if await revise(self.draft_view, interaction, title=title, text=text):
            return
        draft = Draft(
            self.community_id, self.community_name, interaction.user.id, title, text,
            self.stage, self.consent,
        )
        await open_draft(interaction, draft, service)


class EditStoryModal(HearthModal):
    """``/story edit``: the teller's story, filled in; submitted, the post is updated."""

    def __init__(self, story: StoryRecord) -> None:
        super().__init__(title=plain(f"Edit story #{story.id}", 45), timeout=1800)
        self.story_id = story.id
        self.story_title, self.story_text = _fields(self, story.title or "", story.text or "")

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        service = services_of(interaction).get(StoryService)
        if interaction.guild_id is None:
            raise NotAllowed("Edit your story in its server.")
        story, _ = await service.for_teller(
            self.story_id, interaction.user.id, interaction.guild_id, action="edit its words"
        )
        title, text = validate_story(
            self.story_title.value, self.story_text.value, story.stage, service.stages
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        updated = await service.edit_words(story, title, text, interaction.user.display_name)
        where = (
            f" Its post in <#{updated.post.channel_id}> shows the new words."
            if updated.post is not None else ""
        )
        await interaction.followup.send(
            f"Story #{updated.id} now reads as you edited it.{where} Anything shared beyond "
            "the group from now on uses the new words.",
            ephemeral=True, allowed_mentions=NO_MENTIONS,
        )
        note = service.jargon_note(title, text)
        if note:
            await interaction.followup.send(note, ephemeral=True, allowed_mentions=NO_MENTIONS)
