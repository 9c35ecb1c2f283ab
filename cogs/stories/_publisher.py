"""The Discord side of stories: posts, names, who can read a circle, the consent question.

:class:`DiscordStoryPublisher` is the :class:`~bot.services.stories.StoryPublisher` the
stories service is built with; the functions below are the Discord halves of asking a
teller (by DM, or in-app at their next story command).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

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


class DiscordStoryPublisher:
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

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

    async def post(
        self, community: Community, story: StoryRecord, teller_name: str | None
    ) -> StoryPost:
        """Post the story in the community's stories forum (a thread tagged with its stage)
        or, where the stories channel is a text channel, as a message there."""
        if community.stories_id is None:
            raise NotFound(f"**{escape_inline(community.name)}** has no stories channel any more.")
        content, embed = _render.story_post(story, teller_name)
        channel = await self._channel(community.stories_id)
        try:
            if isinstance(channel, discord.ForumChannel):
                tags = []
                if story.stage:
                    tag_id = (await self.bot.communities.stage_tags(community.id)).get(story.stage)
                    tag = channel.get_tag(tag_id) if tag_id else None
                    if tag is not None:
                        tags.append(tag)
                made = await channel.create_thread(
                    name=plain(story.title, 100, empty=f"Story #{story.id}"),
                    content=content,
                    embed=embed,
                    applied_tags=tags,
                    allowed_mentions=NO_MENTIONS,
                )
                return StoryPost(made.thread.id, made.message.id, True)
            msg = await channel.send(content, embed=embed, allowed_mentions=NO_MENTIONS)
            return StoryPost(channel.id, msg.id, False)
        except discord.Forbidden as exc:
            raise MissingPermission(
                "Send Messages", f"post stories in <#{community.stories_id}> ({exc.text})"
            ) from exc

    async def edit(self, story: StoryRecord, teller_name: str | None) -> None:
        if story.post is None:
            return
        content, embed = _render.story_post(story, teller_name)
        message = self.bot.get_partial_messageable(story.post.channel_id).get_partial_message(
            story.post.message_id
        )
        try:
            await message.edit(content=content, embed=embed, allowed_mentions=NO_MENTIONS)
            if story.post.is_thread:
                # A forum post is named after the story: a new title renames it.
                name = plain(story.title, 100, empty=f"Story #{story.id}")
                thread = await self._channel(story.post.channel_id)
                if isinstance(thread, discord.Thread) and thread.name != name:
                    await thread.edit(name=name)
        except discord.HTTPException as exc:
            log.warning("could not update the post of story %s: %s", story.id, exc)

    async def remove(self, post: StoryPost) -> bool:
        try:
            if post.is_thread:
                thread = await self._channel(post.channel_id)
                await thread.delete(reason="the teller withdrew this story")
            else:
                await self.bot.get_partial_messageable(post.channel_id).get_partial_message(
                    post.message_id
                ).delete()
        except discord.NotFound:
            return True
        except discord.HTTPException as exc:
            log.warning("could not delete story post %s: %s", post, exc)
            return False
        return True


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
