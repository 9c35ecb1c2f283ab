"""/help, and the one welcome per server.

The welcome goes to the server's system channel when Hearth may post there, else to the
server owner by DM. It is sent once per server: on joining, and at start for servers Hearth
was already in before this existed. ``app_state`` remembers each server welcomed, so a
restart or a second shard never repeats it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import is_server_manager
from bot.domain.guide import Person, help_sections, welcome_text
from bot.interactions import NO_MENTIONS, hearth, mention
from bot.permissions import HEARTH_PERMISSIONS, missing
from bot.text import escape_inline

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

HELP_COLOUR = discord.Colour.from_rgb(201, 110, 58)


def welcome_key(guild_id: int) -> str:
    return f"welcome:{guild_id}"


class GuideCog(commands.Cog):
    """The way in for a new server and a new person."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.state = bot.app_state
        self._lock = asyncio.Lock()
        #: Set once the servers Hearth was already in have had their welcome (tests wait).
        self.caught_up = asyncio.Event()

    # ------------------------------------------------------------------ /help
    @app_commands.command(name="help", description="What you can do with Hearth here")
    async def help_(self, interaction: discord.Interaction[HearthBot]) -> None:
        person = await self._person(interaction)
        embed = discord.Embed(title="What you can do with Hearth", colour=HELP_COLOUR)
        for section in help_sections(person, mention):
            embed.add_field(name=section.title, value="\n".join(section.lines)[:1024],
                            inline=False)
        if interaction.guild_id is None:
            embed.description = "In a server, this list also shows what your roles let you do."
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def _person(self, interaction: discord.Interaction[HearthBot]) -> Person:
        guild_id = interaction.guild_id
        if guild_id is None:
            return Person()
        communities = {
            c.id: c for c in await hearth(interaction).communities.in_guild(
                guild_id, include_archived=False
            )
        }
        mine = [
            m for m in await hearth(interaction).communities.memberships_of(interaction.user.id)
            if m.active and m.community_id in communities
        ]
        name = {cid: escape_inline(c.name) for cid, c in communities.items()}
        return Person(
            member_of=sorted(name[m.community_id] for m in mine),
            facilitator_of=sorted(name[m.community_id] for m in mine if m.is_facilitator),
            is_manager=is_server_manager(interaction),
        )

    # ------------------------------------------------------------------ the welcome
    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.welcome(guild)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Servers joined before welcomes existed (or while Hearth was down) get theirs now."""
        try:
            for guild in list(self.bot.guilds):
                await self.welcome(guild)
        finally:
            self.caught_up.set()

    async def welcome(self, guild: discord.Guild) -> bool:
        """Send the welcome unless this server already had it; True if sent now."""
        async with self._lock:
            if await self.state.get(welcome_key(guild.id)) is not None:
                return False
            where = await self._deliver(guild)
            if where is None:
                return False
            sent = f"{self.bot.clock.now().isoformat()} {where}"
            await self.state.set(welcome_key(guild.id), sent)
            return True

    async def _deliver(self, guild: discord.Guild) -> str | None:
        """Post in the system channel if allowed, else DM the owner. Where it went, or None
        when it could not go anywhere for a passing reason (tried again at the next start)."""
        have = guild.me.guild_permissions if guild.me else discord.Permissions.none()
        text = welcome_text(escape_inline(guild.name), missing(have, HEARTH_PERMISSIONS), mention)
        channel = guild.system_channel
        if channel is not None and guild.me is not None:
            can = channel.permissions_for(guild.me)
            if can.view_channel and can.send_messages:
                try:
                    await channel.send(text, allowed_mentions=NO_MENTIONS)
                    return f"channel:{channel.id}"
                except discord.HTTPException as exc:
                    log.info("welcome: could not post in %s's system channel (%s)", guild.id, exc)
        try:
            owner = guild.owner or await self.bot.fetch_user(guild.owner_id or 0)
            await owner.send(text, allowed_mentions=NO_MENTIONS)
            return f"owner:{owner.id}"
        except discord.Forbidden:
            # DMs closed and no system channel to post in: nowhere to say it; not retried.
            log.info("welcome: server %s has no usable system channel and its owner's DMs "
                     "are closed", guild.id)
            return "nowhere"
        except discord.HTTPException as exc:
            log.warning("welcome: could not reach server %s's owner (%s); trying again at the "
                        "next start", guild.id, exc)
            return None
