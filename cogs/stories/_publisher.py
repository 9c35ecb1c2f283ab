"""The Discord side of stories: posts, names, who can read a circle, the consent question.

:class:`DiscordStoryPublisher` is the :class:`~bot.services.stories.StoryPublisher` the
stories service is built with: a :class:`StoriesChannelPublisher`, which value stories'
publisher shares (``cogs/value/_publisher.py``). The functions below are the Discord halves
of asking a teller (by DM, or in-app at their next story command).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

import discord

from bot.domain.communities import Community
from bot.domain.stories import StoryPost, StoryRecord
from bot.errors import MissingPermission, NotFound
from bot.interactions import NO_MENTIONS
from bot.services.stories import StoryService
from bot.text import escape_inline, plain
from cogs.stories import _render

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)


class Posted(Protocol):
    """A story as the stories channel shows it: its id, and its post if it has one."""

    @property
    def id(self) -> int: ...

    @property
    def post(self) -> StoryPost | None: ...


R = TypeVar("R", bound=Posted)


class StoriesChannelPublisher(ABC, Generic[R]):
    """A consented story in the community's stories channel: posted (a forum post, or a
    message in a text channel), updated when its words or consent change, deleted when it
    is withdrawn. Shared by stories (:class:`DiscordStoryPublisher`) and value stories
    (``cogs/value/_publisher.py``), which say how their post reads and is named."""

    #: What the post is, in log lines and Discord's audit log ("the teller withdrew this …").
    noun: ClassVar[str] = "story"
    #: A forum post renamed after the story when it is edited.
    rename_on_edit: ClassVar[bool] = False
    #: Discord's reason quoted in the "I need Send Messages" refusal.
    refusal_detail: ClassVar[bool] = False

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    @abstractmethod
    def render(self, story: R, teller_name: str | None) -> tuple[str, discord.Embed]:
        """The post's content and embed."""

    @abstractmethod
    def thread_name(self, story: R) -> str:
        """The forum post's name."""

    async def tags(
        self, channel: discord.ForumChannel, community: Community, story: R
    ) -> list[discord.ForumTag] | None:
        """The forum tags the post is created with (``None``: the post has no tag field)."""
        return None

    async def display_name(self, guild_id: int, user_id: int) -> str | None:
        """A person's name as the community sees it (server nickname first)."""
        guild = self.bot.get_guild(guild_id)
        if guild is not None:
            member = guild.get_member(user_id)
            if member is not None:
                return member.display_name
            try:
                return (await guild.fetch_member(user_id)).display_name
            except discord.HTTPException:
                pass
        try:
            return (await self.bot.fetch_user(user_id)).display_name
        except discord.HTTPException:
            return None

    async def _channel(self, channel_id: int) -> Any:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            channel = await self.bot.fetch_channel(channel_id)
        return channel

    async def post(self, community: Community, story: R, teller_name: str | None) -> StoryPost:
        """Post in the community's stories channel: a forum post, or a message in a text
        channel."""
        if community.stories_id is None:
            raise NotFound(f"**{escape_inline(community.name)}** has no stories channel any more.")
        content, embed = self.render(story, teller_name)
        channel = await self._channel(community.stories_id)
        try:
            if isinstance(channel, discord.ForumChannel):
                tags = await self.tags(channel, community, story)
                made = await channel.create_thread(
                    name=self.thread_name(story),
                    content=content,
                    embed=embed,
                    applied_tags=discord.utils.MISSING if tags is None else tags,
                    allowed_mentions=NO_MENTIONS,
                )
                return StoryPost(made.thread.id, made.message.id, True)
            msg = await channel.send(content, embed=embed, allowed_mentions=NO_MENTIONS)
            return StoryPost(channel.id, msg.id, False)
        except discord.Forbidden as exc:
            detail = f" ({exc.text})" if self.refusal_detail else ""
            raise MissingPermission(
                "Send Messages", f"post stories in <#{community.stories_id}>{detail}"
            ) from exc

    async def edit(self, story: R, teller_name: str | None) -> None:
        if story.post is None:
            return
        content, embed = self.render(story, teller_name)
        message = self.bot.get_partial_messageable(story.post.channel_id).get_partial_message(
            story.post.message_id
        )
        try:
            await message.edit(content=content, embed=embed, allowed_mentions=NO_MENTIONS)
            if self.rename_on_edit and story.post.is_thread:
                # A forum post is named after the story: a new title renames it.
                name = self.thread_name(story)
                thread = await self._channel(story.post.channel_id)
                if isinstance(thread, discord.Thread) and thread.name != name:
                    await thread.edit(name=name)
        except discord.HTTPException as exc:
            log.warning("could not update the post of %s %s: %s", self.noun, story.id, exc)

    async def remove(self, post: StoryPost) -> bool:
        try:
            if post.is_thread:
                thread = await self._channel(post.channel_id)
                await thread.delete(reason=f"the teller withdrew this {self.noun}")
            else:
                await (
                    self.bot.get_partial_messageable(post.channel_id)
                    .get_partial_message(post.message_id)
                    .delete()
                )
        except discord.NotFound:
            return True
        except discord.HTTPException as exc:
            log.warning("could not delete %s post %s: %s", self.noun, post, exc)
            return False
        return True


class DiscordStoryPublisher(StoriesChannelPublisher[StoryRecord]):
    """A story's post: a forum post tagged with its stage and renamed when its title
    changes."""

    rename_on_edit = True
    refusal_detail = True

    def render(self, story: StoryRecord, teller_name: str | None) -> tuple[str, discord.Embed]:
        return _render.story_post(story, teller_name)

    def thread_name(self, story: StoryRecord) -> str:
        return plain(story.title, 100, empty=f"Story #{story.id}")

    async def tags(
        self, channel: discord.ForumChannel, community: Community, story: StoryRecord
    ) -> list[discord.ForumTag] | None:
        tags = []
        if story.stage:
            tag_id = (await self.bot.communities.stage_tags(community.id)).get(story.stage)
            tag = channel.get_tag(tag_id) if tag_id else None
            if tag is not None:
                tags.append(tag)
        return tags


# ---------------------------------------------------------------------- who can read


async def readable_audiences(
    bot: HearthBot, service: StoryService, community: Community, user: discord.abc.User
) -> frozenset[int]:
    """The restricted audiences (circles, private threads) of the community whose stories
    ``user`` may see because Discord lets them read that channel. A channel the bot cannot
    see, or a private thread (whose members the bot does not track), counts as unreadable:
    such a story is then listed to its teller only."""
    wanted = await service.restricted_audiences(community.id)
    guild = bot.get_guild(community.guild_id)
    if not wanted or guild is None:
        return frozenset()
    member = user if isinstance(user, discord.Member) else guild.get_member(user.id)
    if member is None:
        return frozenset()
    readable = set()
    for channel_id in wanted:
        channel = guild.get_channel_or_thread(channel_id)
        if channel is None or isinstance(channel, discord.Thread):
            continue
        if channel.permissions_for(member).view_channel:
            readable.add(channel_id)
    return frozenset(readable)


# ---------------------------------------------------------------------- asking the teller


async def question_for(
    service: StoryService, story: StoryRecord, community: Community, by: str
) -> tuple[str, discord.ui.View]:
    """The question a facilitator's save puts to the teller: consent alone, or (for a
    story still confined to a circle) audience and consent together."""
    from cogs.stories._views import audience_view, consent_view

    if not story.is_restricted:
        return _render.consent_question(story, community, by), consent_view(story.id)
    place = await service.place_of(story)
    return (
        _render.audience_question(story, community, by, place.kind, place.mention),
        audience_view(story.id, place.kind),
    )


async def ask_consent(
    service: StoryService,
    story: StoryRecord,
    community: Community,
    author: discord.User | discord.Member,
    by: str,
) -> bool:
    """DM the teller the consent question; False if their DMs are closed (they are then
    asked, ephemerally, the next time they use a story command)."""
    text, view = await question_for(service, story, community, by)
    try:
        await author.send(text, view=view, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.info("consent DM to %s failed (%s); will ask in-app", author.id, exc.status)
        return False
    await service.asked_by_dm(story)
    return True


async def offer_pending(service: StoryService, interaction: discord.Interaction[Any]) -> None:
    """The in-app consent question for stories saved while the teller's DMs were closed:
    an ephemeral follow-up to whatever story command they used."""
    for pending in await service.pending_questions(interaction.user.id):
        text, view = await question_for(
            service, pending.story, pending.community, pending.asked_by
        )
        try:
            await interaction.followup.send(
                text,
                view=view,
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            log.warning(
                "could not show pending consent for story %s: %s", pending.story.id, exc
            )
