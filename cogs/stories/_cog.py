"""/story commands and the "Save as story" message context menu: thin Discord layer.

This file is longer than 400 lines because "Save as story" needs the Discord facts (the
channel, its parent, a private thread) to decide who may already read a message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import ANY_CONSENT, PROMPT_CADENCES, SHARE_CONSENT, WEEKDAYS
from bot.domain.communities import (
    Community,
    require_active,
    require_facilitator,
    require_member,
)
from bot.domain.glossary import Glossary
from bot.domain.stories import (
    Cadence,
    Consent,
    StoryRecord,
    audience_channel,
    describe_schedule,
    parse_consent,
    validate_captured,
)
from bot.errors import InvalidInput
from bot.interactions import (
    NO_MENTIONS,
    actor_of,
    community_autocomplete,
    facilitated_community,
    member_community,
)
from bot.services.stories import ConsentListener, StoryService
from bot.text import escape_inline, plain
from cogs.stories import _draft, _render, _views
from cogs.stories._prompts import JOB_PREFIX, PromptPoster, job_id
from cogs.stories._publisher import DiscordStoryPublisher, ask_consent, offer_pending
from cogs.stories._render import ts

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)



class StoriesCog(commands.GroupCog, group_name="story"):
    """Story prompts, sharing, listing and consent."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.service = StoryService(
            bot.db,
            bot.communities,
            bot.config.stories,
            Glossary.from_mapping(bot.config.glossary),
            bot.clock,
            DiscordStoryPublisher(bot),
            listeners=lambda: bot.services.implementing(ConsentListener),
        )
        self.prompts = PromptPoster(bot, self.service)
        self.save_menu = app_commands.ContextMenu(
            name="Save as story", callback=self.save_as_story
        )
        self.save_menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.services.register(self.service)
        self.bot.add_dynamic_items(*_views.DYNAMIC_ITEMS)
        self.bot.tree.add_command(self.save_menu)
        await self.prompts.rebuild()

    async def cog_unload(self) -> None:
        self.bot.scheduler.cancel_prefix(JOB_PREFIX)
        self.bot.tree.remove_command(self.save_menu.name, type=self.save_menu.type)
        self.bot.remove_dynamic_items(*_views.DYNAMIC_ITEMS)
        self.bot.services.unregister(self.service)

    # ------------------------------------------------------------------ autocomplete
    async def stage_autocomplete(
        self, interaction: discord.Interaction[HearthBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=plain(s.label, 100, empty=s.slug), value=s.slug)
            for s in self.service.stages.autocomplete(current)
        ]

    async def own_story_autocomplete(
        self, interaction: discord.Interaction[HearthBot], current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        stories = await self.service.own_stories(
            interaction.user.id, interaction.guild_id, current.strip().lstrip("#")
        )
        return [
            app_commands.Choice(
                name=plain(
                    f"#{s.id} {plain(s.title, 70)} ({s.consent.value}"
                    f"{', not posted' if s.is_restricted else ''})",
                    100,
                ),
                value=s.id,
            )
            for s in stories
        ]

    # ------------------------------------------------------------------ share
    @app_commands.command(name="share", description="Share a story with your community")
    @app_commands.describe(
        community="Your community",
        stage="Which stage of the journey it is about",
        consent="Who may hear it (if left out, it stays in the group)",
    )
    @app_commands.choices(consent=SHARE_CONSENT)
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def share(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        stage: str | None = None,
        consent: str = "group",
    ) -> None:
        comm, _, membership = await member_community(interaction, community)
        _views.require_teller(comm, membership)
        level = parse_consent(consent)
        if level is Consent.WITHDRAWN:
            raise InvalidInput(
                "A new story cannot start withdrawn; choose group, anonymous or named."
            )
        chosen = self.service.stages.resolve(stage) if stage and stage.strip() else None
        await interaction.response.send_modal(_draft.ShareModal(comm, chosen, level))

    share.autocomplete("stage")(stage_autocomplete)

    # ------------------------------------------------------------------ save as story
    async def save_as_story(
        self, interaction: discord.Interaction[HearthBot], message: discord.Message
    ) -> None:
        actor = actor_of(interaction)
        if message.author.bot or message.webhook_id is not None:
            raise InvalidInput(
                "Only people's messages can be saved as stories, not messages from bots or "
                "integrations."
            )
        channel: discord.abc.MessageableChannel | discord.abc.Snowflake = message.channel
        if isinstance(channel, discord.PartialMessageable) and interaction.channel is not None \
                and interaction.channel.id == channel.id:
            # A thread the cache has not seen: the interaction says what it is (its parent,
            # whether it is private), which decides who may already read the message.
            channel = interaction.channel
        community = await self._community_of_channel(channel)
        if community is None or community.guild_id != actor.guild_id:
            raise InvalidInput(
                "Save as story works on messages in a community's channels (its lounge, "
                "stories, voice, meetings or circles). This message is not in one."
            )
        require_active(community)
        communities = self.bot.communities
        author = message.author
        is_author = author.id == actor.user_id
        if is_author:
            own = await communities.membership(community.id, actor.user_id)
            require_member(actor, community, own)
            _views.require_teller(community, own)
        else:
            require_facilitator(
                actor, community, await communities.membership(community.id, actor.user_id)
            )
            teller = await communities.membership(community.id, author.id)
            if teller is None or not teller.active:
                raise InvalidInput(
                    f"{escape_inline(author.display_name)} is not a member of "
                    f"**{escape_inline(community.name)}**, so their "
                    "message cannot become one of its stories."
                )
        await self.service.require_unsaved(message.id)
        title, text = validate_captured(message.content, self.service.stages)
        audience = await self._audience_of(community, channel)
        if is_author:
            # The teller's own words go through the same draft as /story share: they choose
            # who may hear it and its stage, and see the plain-language suggestions, before
            # anything is kept or posted.
            draft = _draft.Draft(
                community.id, community.name, actor.user_id, title, text, None, Consent.GROUP,
                source=(message.channel.id, message.id), audience_channel_id=audience,
            )
            await _draft.open_draft(interaction, draft, self.service)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        story = await self.service.save(
            community,
            teller_id=author.id,
            teller_name=author.display_name,
            title=title,
            text=text,
            stage=None,
            consent=Consent.GROUP,
            captured_by=actor.user_id,
            source=(message.channel.id, message.id),
            audience_channel_id=audience,
        )
        if story.is_restricted:
            await self._saved_restricted(interaction, story, community, author)
            return
        assert story.post is not None
        asked = await ask_consent(
            self.service, story, community, author, interaction.user.display_name
        )
        who = escape_inline(author.display_name)
        await interaction.followup.send(
            f"Saved as story #{story.id}, “{escape_inline(title)}”, posted in "
            f"<#{story.post.channel_id}>.\n"
            + (
                f"I have asked {who} by direct message who may hear it; until they answer it "
                "stays within the community."
                if asked
                else f"{who}'s direct messages are closed, so I will ask them the next time "
                "they use a story command; until then it stays within the community."
            ),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await offer_pending(self.service, interaction)

    async def _audience_of(
        self, community: Community, channel: discord.abc.MessageableChannel | discord.abc.Snowflake
    ) -> int | None:
        """``None`` if the whole community can read ``channel``; else the channel (a circle,
        a private thread) whose readers alone may see a story saved from it."""
        circles = await self.bot.communities.circles(community.id)
        return audience_channel(
            channel.id,
            getattr(channel, "parent_id", None),
            private_thread=getattr(channel, "type", None) is discord.ChannelType.private_thread,
            circles=circles,
        )

    async def _saved_restricted(
        self,
        interaction: discord.Interaction[HearthBot],
        story: StoryRecord,
        community: Community,
        author: discord.User | discord.Member,
    ) -> None:
        """A facilitator saved a member's message told in a circle: nothing is posted until
        the teller agrees to the whole community; they are asked by DM (or at their next
        story command). (An author saving their own goes through the draft, which asks.)"""
        where = await self.service.place_of(story)
        place = where.mention
        asked = await ask_consent(
            self.service, story, community, author, interaction.user.display_name
        )
        who = escape_inline(author.display_name)
        await interaction.followup.send(
            f"Saved as story #{story.id}, “{escape_inline(story.title or '')}”. It was told "
            f"in {place}, so it is **not posted** for the whole community: "
            + (
                f"I have asked {who} by direct message whether it may be; "
                if asked
                else f"{who}'s direct messages are closed, so I will ask them the next "
                "time they use a story command; "
            )
            + f"until they agree, only people who can read {place} see it.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await offer_pending(self.service, interaction)

    async def _community_of_channel(
        self, channel: discord.abc.MessageableChannel | discord.abc.Snowflake
    ) -> Community | None:
        found = await self.bot.communities.for_channel(channel.id)
        parent_id = getattr(channel, "parent_id", None)
        if found is None and parent_id:
            found = await self.bot.communities.for_channel(parent_id)
        return found

    # ------------------------------------------------------------------ list
    @app_commands.command(name="list", description="Stories shared in a community")
    @app_commands.describe(community="The community", stage="Only stories at this stage")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def list_(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        stage: str | None = None,
    ) -> None:
        comm, _, _ = await member_community(interaction, community, allow_archived=True)
        slug = self.service.stages.resolve(stage).slug if stage and stage.strip() else None
        embed, view = await _views.list_page(self.service, comm, 0, slug, interaction)
        await interaction.response.send_message(
            embed=embed, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await offer_pending(self.service, interaction)

    list_.autocomplete("stage")(stage_autocomplete)

    # ------------------------------------------------------------------ consent
    @app_commands.command(name="consent", description="Change who may hear one of your stories")
    @app_commands.describe(
        story="One of your stories (start typing its title or number)",
        level="Who may hear it now (withdrawing deletes it)",
    )
    @app_commands.choices(level=ANY_CONSENT)
    @app_commands.autocomplete(story=own_story_autocomplete)
    @app_commands.guild_only()
    async def consent(
        self, interaction: discord.Interaction[HearthBot], story: int, level: str
    ) -> None:
        if interaction.guild_id is None:
            raise InvalidInput("Use this command in a server, not in a direct message.")
        record, community = await self.service.for_teller(
            story, interaction.user.id, interaction.guild_id
        )
        chosen = parse_consent(level)
        if self.service.unchanged(record, chosen):
            await interaction.response.send_message(
                f"Story #{story} is already **{chosen.value}**; nothing changed.",
                ephemeral=True,
            )
            await offer_pending(self.service, interaction)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.service.change_consent(record, chosen, community.guild_id)
        note = _render.consent_outcome(outcome)
        updated = outcome.story
        if updated is not None and updated.is_restricted:
            # Still confined to its circle: say so, and offer the wider audience explicitly.
            where = await self.service.place_of(updated)
            await interaction.followup.send(
                note + " Share it with the whole community?",
                view=_views.audience_view(updated.id, where.kind),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
        else:
            await interaction.followup.send(note, ephemeral=True, allowed_mentions=NO_MENTIONS)
        await offer_pending(self.service, interaction)

    # ------------------------------------------------------------------ edit
    @app_commands.command(name="edit", description="Change the words of one of your stories")
    @app_commands.describe(story="One of your stories (start typing its title or number)")
    @app_commands.autocomplete(story=own_story_autocomplete)
    @app_commands.guild_only()
    async def edit(self, interaction: discord.Interaction[HearthBot], story: int) -> None:
        if interaction.guild_id is None:
            raise InvalidInput("Use this command in a server, not in a direct message.")
        record, _ = await self.service.for_teller(
            story, interaction.user.id, interaction.guild_id, action="edit its words"
        )
        await interaction.response.send_modal(_draft.EditStoryModal(record))

    # ------------------------------------------------------------------ prompts
    @app_commands.command(name="prompt", description="Post a story prompt in the lounge now")
    @app_commands.describe(community="The community")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def prompt(self, interaction: discord.Interaction[HearthBot], community: str) -> None:
        comm, _ = await facilitated_community(interaction, community)
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await self.prompts.post_prompt(comm)
        await interaction.followup.send(
            f"Posted in <#{comm.lounge_id}>: “{text}”", ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        await offer_pending(self.service, interaction)

    @app_commands.command(name="schedule", description="Set how often story prompts are posted")
    @app_commands.describe(
        community="The community",
        cadence="How often (monthly: the first such weekday of the month)",
        weekday="Day of the week (default from config)",
        time="Time of day, 24-hour, in the community's timezone, e.g. 10:00",
    )
    @app_commands.choices(cadence=PROMPT_CADENCES, weekday=WEEKDAYS)
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def schedule(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        cadence: str,
        weekday: str | None = None,
        time: str | None = None,
    ) -> None:
        comm, _ = await facilitated_community(interaction, community)
        plan = await self.service.set_schedule(comm, cadence, weekday, time)
        self.bot.scheduler.cancel(job_id(comm.id))
        msg = (
            f"Story prompts for **{escape_inline(comm.name)}**: "
            f"{describe_schedule(plan, comm.timezone)}."
        )
        if plan.cadence is not Cadence.OFF:
            self.prompts.arm(plan, comm, start=False)
            nxt = plan.next_after(plan.set_at, ZoneInfo(comm.timezone))
            if nxt is not None:
                msg += f" Next prompt: {ts(nxt, 'F')} in <#{comm.lounge_id}>."
        await interaction.response.send_message(msg, ephemeral=True, allowed_mentions=NO_MENTIONS)
        await offer_pending(self.service, interaction)

