"""Persistent components (state in custom_id, so they work after a restart) and the modal."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.communities import Community, Membership, require_active, require_member
from bot.domain.stories import TEXT_LIMIT, TITLE_LIMIT, Consent, Stage, validate_story
from bot.errors import NotAllowed, NotFound
from bot.errors_handler import HearthModal, guarded
from bot.interactions import NO_MENTIONS, actor_of
from bot.text import escape_inline, plain
from cogs.stories import _render

if TYPE_CHECKING:
    from bot.app import HearthBot
    from cogs.stories._service import StoriesService

CONSENT_BUTTONS: list[tuple[Consent, str, discord.ButtonStyle]] = [
    (Consent.GROUP, "Keep it in the group", discord.ButtonStyle.primary),
    (Consent.ANONYMOUS, "Share without my name", discord.ButtonStyle.secondary),
    (Consent.NAMED, "Share with my name", discord.ButtonStyle.secondary),
    (Consent.WITHDRAWN, "Remove it", discord.ButtonStyle.danger),
]


def service_of(interaction: discord.Interaction[Any]) -> StoriesService:
    bot: HearthBot = interaction.client
    cog = bot.get_cog("StoriesCog")
    if cog is None:
        raise NotFound("Stories are not available right now; please try again shortly.")
    return cog.service  # type: ignore[attr-defined]


async def member_of(
    interaction: discord.Interaction[Any], community_id: int, *, telling: bool = False
) -> Community:
    """The community behind a component, refusing non-members (as member_community does).

    ``telling``: the person is about to tell a story, which only members may do (a server
    manager may read a community's stories, but is not one of its voices unless a member)."""
    actor = actor_of(interaction)
    bot: HearthBot = interaction.client
    community = await bot.communities.get(community_id)
    if community is None or community.guild_id != actor.guild_id:
        raise NotFound("That community no longer exists.")
    membership = await bot.communities.membership(community.id, actor.user_id)
    require_member(actor, community, membership)
    if telling:
        require_teller(community, membership)
    require_active(community)
    return community


def require_teller(community: Community, membership: Membership | None) -> None:
    if membership is None or not membership.active:
        raise NotAllowed(
            f"Only members of **{escape_inline(community.name)}** can tell its stories. A "
            "facilitator can "
            "add you with `/community add`."
        )


# ---------------------------------------------------------------------- share modal


class ShareModal(HearthModal):
    """Title and text; stage and consent were chosen as command options (or defaults)."""

    def __init__(self, community: Community, stage: Stage | None, consent: Consent) -> None:
        super().__init__(title=plain(f"Share a story with {community.name}", 45), timeout=1800)
        self.community_id = community.id
        self.stage = stage
        self.consent = consent
        self.story_title: discord.ui.TextInput[ShareModal] = discord.ui.TextInput(
            label="Title",
            custom_id="title",
            max_length=TITLE_LIMIT,
            placeholder="A few words that sum it up",
        )
        self.story_text: discord.ui.TextInput[ShareModal] = discord.ui.TextInput(
            label="Your story",
            custom_id="text",
            style=discord.TextStyle.paragraph,
            max_length=TEXT_LIMIT,
            placeholder="What happened, and what did it mean to you?",
        )
        self.add_item(self.story_title)
        self.add_item(self.story_text)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        service = service_of(interaction)
        community = await member_of(interaction, self.community_id, telling=True)
        title, text = validate_story(
            self.story_title.value, self.story_text.value,
            self.stage.slug if self.stage else None, service.stages,
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        story = await service.save(
            community,
            teller_id=interaction.user.id,
            teller_name=interaction.user.display_name,
            title=title,
            text=text,
            stage=self.stage,
            consent=self.consent,
        )
        assert story.post is not None
        where = f"<#{story.post.channel_id}>"
        await interaction.followup.send(
            f"Thank you. Your story “{escape_inline(title)}” is saved as #{story.id} and "
            f"posted in {where}.\n"
            f"Consent: **{story.consent.value}** (it "
            f"{_consent_phrase(story.consent)}). Change it any time with "
            f"`/story consent story:{story.id}`.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        note = service.jargon_note(title, text)
        if note:
            await interaction.followup.send(note, ephemeral=True, allowed_mentions=NO_MENTIONS)
        await service.offer_pending(interaction)


def _consent_phrase(consent: Consent) -> str:
    from bot.domain.stories import CONSENT_DESCRIPTIONS

    return CONSENT_DESCRIPTIONS[consent]


# ---------------------------------------------------------------------- prompt button


class ShareButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"story:share:(?P<cid>\d+)"
):
    def __init__(self, community_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Share a story",
                style=discord.ButtonStyle.primary,
                custom_id=f"story:share:{community_id}",
            )
        )
        self.community_id = community_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ShareButton:
        return cls(int(match["cid"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        community = await member_of(interaction, self.community_id, telling=True)
        await interaction.response.send_modal(ShareModal(community, None, Consent.GROUP))


def prompt_view(community_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ShareButton(community_id))
    return view


# ---------------------------------------------------------------------- consent buttons


class ConsentButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"story:consent:(?P<story>\d+):(?P<level>group|anonymous|named|withdrawn)",
):
    def __init__(self, story_id: int, level: Consent) -> None:
        label, style = next((lbl, st) for c, lbl, st in CONSENT_BUTTONS if c is level)
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=f"story:consent:{story_id}:{level.value}"
            )
        )
        self.story_id = story_id
        self.level = level

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ConsentButton:
        return cls(int(match["story"]), Consent(match["level"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        service = service_of(interaction)
        story = await service.repo.get(self.story_id)
        if story is None or story.is_tombstone:
            await interaction.response.edit_message(
                content=f"Story #{self.story_id} was withdrawn; there is nothing left to decide.",
                view=None,
            )
            return
        if story.teller_id != interaction.user.id:
            raise NotAllowed(f"Only the person who told story #{story.id} can choose this.")
        community = await service.bot.communities.get(story.community_id)
        assert community is not None
        await interaction.response.defer()
        _, note = await service.change_consent(story, self.level, community.guild_id)
        await interaction.edit_original_response(
            content=note, view=None, allowed_mentions=NO_MENTIONS
        )


def consent_view(story_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for level, _, _ in CONSENT_BUTTONS:
        view.add_item(ConsentButton(story_id, level))
    return view


# ---------------------------------------------------------------------- audience buttons

#: For a story still confined to where it was told (a circle): keep it there, or open it to
#: the whole community at a consent level. "Remove it" is the ordinary ConsentButton.
AUDIENCE_BUTTONS: list[tuple[str, str, discord.ButtonStyle]] = [
    ("keep", "Keep it in the {place}", discord.ButtonStyle.primary),
    ("group", "Share with the whole community", discord.ButtonStyle.secondary),
    ("anonymous", "Whole community, and beyond without my name", discord.ButtonStyle.secondary),
    ("named", "Whole community, and beyond with my name", discord.ButtonStyle.secondary),
]


class AudienceButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"story:audience:(?P<story>\d+):(?P<choice>keep|group|anonymous|named)",
):
    def __init__(self, story_id: int, choice: str, place_kind: str = "circle") -> None:
        label, style = next((lbl, st) for c, lbl, st in AUDIENCE_BUTTONS if c == choice)
        super().__init__(
            discord.ui.Button(
                label=label.format(place=place_kind),
                style=style,
                custom_id=f"story:audience:{story_id}:{choice}",
            )
        )
        self.story_id = story_id
        self.choice = choice

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AudienceButton:
        return cls(int(match["story"]), match["choice"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        service = service_of(interaction)
        story = await service.repo.get(self.story_id)
        if story is None or story.is_tombstone:
            await interaction.response.edit_message(
                content=f"Story #{self.story_id} was withdrawn; there is nothing left to decide.",
                view=None,
            )
            return
        if story.teller_id != interaction.user.id:
            raise NotAllowed(f"Only the person who told story #{story.id} can choose this.")
        community = await service.bot.communities.get(story.community_id)
        assert community is not None
        await interaction.response.defer()
        if self.choice == "keep":
            if story.is_restricted:
                note = await service.keep_restricted(story)
            else:
                note = (
                    f"Story #{story.id} is already shared with the whole community. To take "
                    f"it back, withdraw it with `/story consent story:{story.id}`."
                )
        else:
            _, note = await service.widen(story, Consent(self.choice), community)
        await interaction.edit_original_response(
            content=note, view=None, allowed_mentions=NO_MENTIONS
        )


def audience_view(story_id: int, place_kind: str = "circle") -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for choice, _, _ in AUDIENCE_BUTTONS:
        view.add_item(AudienceButton(story_id, choice, place_kind))
    view.add_item(ConsentButton(story_id, Consent.WITHDRAWN))
    return view


# ---------------------------------------------------------------------- list pages


class ListPageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"story:list:(?P<cid>\d+):(?P<page>\d+):(?P<dir>[pn]):(?P<stage>[a-z0-9-]*)",
):
    def __init__(
        self, community_id: int, page: int, direction: str, stage: str | None, *,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label="Previous" if direction == "p" else "Next",
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"story:list:{community_id}:{page}:{direction}:{stage or ''}",
            )
        )
        self.community_id = community_id
        self.page = page
        self.stage = stage or None

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ListPageButton:
        return cls(int(match["cid"]), int(match["page"]), match["dir"], match["stage"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        community = await member_of(interaction, self.community_id)
        embed, view = await list_page(service_of(interaction), community, self.page, self.stage,
                                      interaction.user)
        await interaction.response.edit_message(embed=embed, view=view)


async def list_page(
    service: StoriesService,
    community: Community,
    page: int,
    stage: str | None,
    viewer: discord.abc.User,
) -> tuple[discord.Embed, discord.ui.View]:
    """A page of the stories ``viewer`` may see: the community's, plus those still confined
    to a circle they can read (or that they told)."""
    size = _render.PAGE_SIZE
    audiences = await service.readable_audiences(community, viewer)
    stories, total = await service.repo.list_visible(
        community.id, stage=stage, offset=page * size, limit=size,
        viewer_id=viewer.id, audiences=audiences,
    )
    last = max(0, (total - 1) // size)
    if page > last:
        page = last
        stories, total = await service.repo.list_visible(
            community.id, stage=stage, offset=page * size, limit=size,
            viewer_id=viewer.id, audiences=audiences,
        )
    names: dict[int, str | None] = {}
    for story in stories:
        if story.teller_id is not None and story.teller_id not in names:
            names[story.teller_id] = await service.display_name(
                community.guild_id, story.teller_id
            )
    label = service.stages.resolve(stage).label if stage else None
    embed = _render.list_page(
        community, stories, names, page=page, total=total, viewer_id=viewer.id,
        stage_label=label,
    )
    view = discord.ui.View(timeout=None)
    view.add_item(ListPageButton(community.id, max(0, page - 1), "p", stage, disabled=page == 0))
    view.add_item(ListPageButton(community.id, min(last, page + 1), "n", stage,
                                 disabled=page >= last))
    return embed, view


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ShareButton, ConsentButton, AudienceButton, ListPageButton,
)
