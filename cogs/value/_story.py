"""/value story, /value consent and /value prompt: the Discord handlers (thin).

Rules are :class:`bot.services.value_stories.ValueStoryService`'s; the form and preview are
in :mod:`cogs.value._views`, wording in :mod:`cogs.value._render`, the invitations'
posting and jobs in :mod:`cogs.value._invitations`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.domain.glossary import Glossary
from bot.domain.stories.consent import Consent, parse_consent
from bot.domain.timeparse import parse_weekday
from bot.domain.value.invitations import InvitationTiming
from bot.errors import InvalidInput
from bot.interactions import NO_MENTIONS, facilitated_community, member_community
from bot.services.value_stories import ValueStoryService
from cogs.value import _render, _views
from cogs.value._invitations import JOB_PREFIX, InvitationPoster
from cogs.value._publisher import DiscordValueStoryPublisher

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

INVITATION_CADENCES = [
    app_commands.Choice(name="Every quarter", value="quarterly"),
    app_commands.Choice(name="Every month", value="monthly"),
    app_commands.Choice(name="Stop the invitations", value="off"),
]


def timing_of(bot: HearthBot) -> InvitationTiming:
    """The invitation day, time and grace from ``[value_stories]``."""
    cfg = bot.config.value_stories
    return InvitationTiming(
        weekday=parse_weekday(cfg.invitation_weekday),
        at=cfg.invitation_time,
        grace=timedelta(days=cfg.missed_invitation_grace_days),
    )


class ValueStories:
    """The value-story half of the /value cog: its service, its jobs, its handlers."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.service = ValueStoryService(
            bot.db,
            bot.communities,
            Glossary.from_mapping(bot.config.glossary),
            bot.clock,
            DiscordValueStoryPublisher(bot),
            timing_of(bot),
        )
        self.invitations = InvitationPoster(bot, self.service)

    async def load(self) -> None:
        self.bot.services.register(self.service)
        self.bot.add_dynamic_items(*_views.DYNAMIC_ITEMS)
        await self.invitations.rebuild()

    async def unload(self) -> None:
        self.bot.scheduler.cancel_prefix(JOB_PREFIX)
        self.bot.remove_dynamic_items(*_views.DYNAMIC_ITEMS)
        self.bot.services.unregister(self.service)

    # ------------------------------------------------------------------ /value story
    async def tell(
        self, interaction: discord.Interaction[HearthBot], community: str, consent: str
    ) -> None:
        comm, _, membership = await member_community(interaction, community)
        from cogs.stories._views import require_teller

        require_teller(comm, membership)
        level = parse_consent(consent)
        if level is Consent.WITHDRAWN:
            raise InvalidInput(
                "A new value story cannot start withdrawn; choose group, anonymous or named."
            )
        await interaction.response.send_modal(_views.ValueStoryModal(comm, level))

    # ------------------------------------------------------------------ /value consent
    async def own_autocomplete(
        self, interaction: discord.Interaction[HearthBot], current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        stories = await self.service.own_stories(
            interaction.user.id, interaction.guild_id, current.strip().lstrip("#")
        )
        return [app_commands.Choice(name=_render.autocomplete_name(s), value=s.id) for s in stories]

    async def change_consent(
        self, interaction: discord.Interaction[HearthBot], story: int, level: str
    ) -> None:
        if interaction.guild_id is None:
            raise InvalidInput("Use this command in a server, not in a direct message.")
        record, _ = await self.service.for_teller(story, interaction.user.id, interaction.guild_id)
        chosen = parse_consent(level)
        if chosen is record.consent:
            await interaction.response.send_message(
                _render.unchanged(story, chosen), ephemeral=True
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.service.change_consent(record, chosen, interaction.guild_id)
        await interaction.followup.send(
            _render.consent_changed(story, chosen, outcome.post_left),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    # ------------------------------------------------------------------ /value prompt
    async def set_prompt(
        self, interaction: discord.Interaction[HearthBot], community: str, cadence: str
    ) -> None:
        comm, _ = await facilitated_community(interaction, community)
        await interaction.response.defer(ephemeral=True, thinking=True)
        schedule, following, closed = await self.service.set_cadence(comm, cadence)
        self.invitations.arm(schedule, comm, start=False)
        if closed:
            await self.invitations.close_messages(closed, _render.invitations_stopped())
        await interaction.followup.send(
            _render.cadence_set(
                comm.name,
                schedule.cadence,
                comm.timezone,
                following,
                len(closed),
                self.service.timing,
            ),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
