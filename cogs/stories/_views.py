"""Persistent components (state in custom_id, so they work after a restart) and the modal."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.components import HearthItem
from bot.domain.communities import Community, Membership, require_active, require_member
from bot.domain.stories import (
    Consent,
)
from bot.errors import NotAllowed, NotFound
from bot.errors_handler import guarded
from bot.interactions import NO_MENTIONS, actor_of, mention
from bot.services.stories import StoryService
from bot.text import escape_inline
from cogs.stories import _render
from cogs.stories._publisher import readable_audiences

if TYPE_CHECKING:
    from typing import Self

    from bot.app import HearthBot

CONSENT_BUTTONS: list[tuple[Consent, str, discord.ButtonStyle]] = [
    (Consent.GROUP, "Keep it in the group", discord.ButtonStyle.primary),
    (Consent.ANONYMOUS, "Share without my name", discord.ButtonStyle.secondary),
    (Consent.NAMED, "Share with my name", discord.ButtonStyle.secondary),
    (Consent.WITHDRAWN, "Remove it", discord.ButtonStyle.danger),
]


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


# ---------------------------------------------------------------------- prompt button


class ShareButton(
    HearthItem[StoryService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"story:share:(?P<community_id>\d+)",
):
    service_type = StoryService

    def __init__(self, community_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Share a story",
                style=discord.ButtonStyle.primary,
                custom_id=f"story:share:{community_id}",
            )
        )
        self.community_id = community_id

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        from cogs.stories._draft import ShareModal

        community = await member_of(interaction, self.community_id, telling=True)
        await interaction.response.send_modal(ShareModal(community, None, Consent.GROUP))


def prompt_view(community_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ShareButton(community_id))
    return view


# ---------------------------------------------------------------------- consent buttons


class ConsentButton(
    HearthItem[StoryService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"story:consent:(?P<story_id>\d+):(?P<level>group|anonymous|named|withdrawn)",
):
    service_type = StoryService

    def __init__(self, story_id: int, level: Consent | str) -> None:
        level = Consent(level)
        label, style = next((lbl, st) for c, lbl, st in CONSENT_BUTTONS if c is level)
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=f"story:consent:{story_id}:{level.value}"
            )
        )
        self.story_id = story_id
        self.level = level

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        found = await self.service.for_answer(self.story_id, interaction.user.id)
        if found is None:
            await _withdrawn_meanwhile(interaction, self.story_id)
            return
        story, community = found
        await interaction.response.defer()
        outcome = await self.service.change_consent(story, self.level, community.guild_id)
        await interaction.edit_original_response(
            content=_render.consent_outcome(outcome), view=None, allowed_mentions=NO_MENTIONS
        )


async def _withdrawn_meanwhile(interaction: discord.Interaction[Any], story_id: int) -> None:
    await interaction.response.edit_message(
        content=f"Story #{story_id} was withdrawn; there is nothing left to decide.",
        view=None,
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
    HearthItem[StoryService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"story:audience:(?P<story_id>\d+):(?P<choice>keep|group|anonymous|named)",
):
    service_type = StoryService

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

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        found = await self.service.for_answer(self.story_id, interaction.user.id)
        if found is None:
            await _withdrawn_meanwhile(interaction, self.story_id)
            return
        story, community = found
        await interaction.response.defer()
        if self.choice == "keep":
            if story.is_restricted:
                note = _render.consent_outcome(await self.service.keep_restricted(story))
            else:
                note = (
                    f"Story #{story.id} is already shared with the whole community. To take "
                    f"it back, withdraw it with {mention('story consent')} (story {story.id})."
                )
        else:
            outcome = await self.service.widen(story, Consent(self.choice), community)
            note = _render.consent_outcome(outcome)
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
    HearthItem[StoryService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"story:list:(?P<cid>\d+):(?P<page>\d+):(?P<dir>[pn]):(?P<stage>[a-z0-9-]*)",
):
    service_type = StoryService

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
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> Self:
        # Explicit, not by the template's groups: a stage slug may be all digits.
        return cls(int(match["cid"]), int(match["page"]), match["dir"], match["stage"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        community = await member_of(interaction, self.community_id)
        embed, view = await list_page(self.service, community, self.page, self.stage,
                                      interaction)
        await interaction.response.edit_message(embed=embed, view=view)


async def list_page(
    service: StoryService,
    community: Community,
    page: int,
    stage: str | None,
    interaction: discord.Interaction[Any],
) -> tuple[discord.Embed, discord.ui.View]:
    """A page of the stories the person asking may see: the community's, plus those still
    confined to a circle they can read (or that they told)."""
    viewer = interaction.user
    audiences = await readable_audiences(interaction.client, service, community, viewer)
    shown = await service.page(
        community, page, stage, viewer_id=viewer.id, audiences=audiences
    )
    page, last = shown.page, shown.last
    embed = _render.list_page(
        community, shown.stories, shown.names, page=page, total=shown.total,
        viewer_id=viewer.id, stage_label=shown.stage_label,
    )
    view = discord.ui.View(timeout=None)
    view.add_item(ListPageButton(community.id, max(0, page - 1), "p", stage, disabled=page == 0))
    view.add_item(ListPageButton(community.id, min(last, page + 1), "n", stage,
                                 disabled=page >= last))
    return embed, view


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ShareButton, ConsentButton, AudienceButton, ListPageButton,
)
