"""The Discord side of value stories: their posts in the stories channel, and names.

The stories' own publisher does the work (:class:`~cogs.stories._publisher.
StoriesChannelPublisher`); a value story's post differs only in how it reads and is named.
"""

from __future__ import annotations

import discord

from bot.domain.value.stories import ValueStoryRecord
from cogs.stories._publisher import StoriesChannelPublisher
from cogs.value import _render


class DiscordValueStoryPublisher(StoriesChannelPublisher[ValueStoryRecord]):
    noun = "value story"

    def render(self, story: ValueStoryRecord, teller_name: str | None) -> tuple[str, discord.Embed]:
        return _render.story_post(story, teller_name)

    def thread_name(self, story: ValueStoryRecord) -> str:
        return _render.thread_name(story)
