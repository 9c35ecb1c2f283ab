"""The Discord side of value stories: their posts in the stories channel, and names."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.communities import Community
from bot.domain.stories.consent import StoryPost
from bot.domain.value.stories import ValueStoryRecord
from bot.errors import MissingPermission, NotFound
from bot.interactions import NO_MENTIONS
from bot.text import escape_inline
from cogs.value import _render

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)


class DiscordValueStoryPublisher:
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
        self, community: Community, story: ValueStoryRecord, teller_name: str | None
    ) -> StoryPost:
        """Post in the community's stories channel: a forum post, or a message in a text
        channel."""
        if community.stories_id is None:
            raise NotFound(f"**{escape_inline(community.name)}** has no stories channel any more.")
        content, embed = _render.story_post(story, teller_name)
        channel = await self._channel(community.stories_id)
        try:
            if isinstance(channel, discord.ForumChannel):
                made = await channel.create_thread(
                    name=_render.thread_name(story),
                    content=content,
                    embed=embed,
                    allowed_mentions=NO_MENTIONS,
                )
                return StoryPost(made.thread.id, made.message.id, True)
            msg = await channel.send(content, embed=embed, allowed_mentions=NO_MENTIONS)
            return StoryPost(channel.id, msg.id, False)
        except discord.Forbidden as exc:
            raise MissingPermission(
                "Send Messages", f"post stories in <#{community.stories_id}>"
            ) from exc

    async def edit(self, story: ValueStoryRecord, teller_name: str | None) -> None:
        if story.post is None:
            return
        content, embed = _render.story_post(story, teller_name)
        message = self.bot.get_partial_messageable(story.post.channel_id).get_partial_message(
            story.post.message_id
        )
        try:
            await message.edit(content=content, embed=embed, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("could not update the post of value story %s: %s", story.id, exc.status)

    async def remove(self, post: StoryPost) -> bool:
        try:
            if post.is_thread:
                thread = await self._channel(post.channel_id)
                await thread.delete(reason="the teller withdrew this value story")
            else:
                await (
                    self.bot.get_partial_messageable(post.channel_id)
                    .get_partial_message(post.message_id)
                    .delete()
                )
        except discord.NotFound:
            return True
        except discord.HTTPException as exc:
            log.warning("could not delete a value story post: %s", exc.status)
            return False
        return True
