"""/community commands: a thin layer between interactions and the communities service.

This file is longer than 400 lines because each command does its Discord work (roles,
overwrites, channels) itself, in order, with a rollback; the rules are in the service.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import server_manager_only
from bot.choices import COMMUNITY_KINDS, DISCIPLINES
from bot.domain.communities import (
    Community,
    Discipline,
    Kind,
    Membership,
    clean_name,
    parse_circles,
    parse_discipline,
    parse_kind,
)
from bot.errors import DuplicateCommunity, InvalidInput, MissingPermission
from bot.interactions import (
    NO_MENTIONS,
    actor_of,
    community_autocomplete,
    facilitated_community,
    mention,
    resolve_community,
)
from bot.services.communities import CommunityService, NewCommunity
from bot.text import escape_inline
from cogs.communities import _spaces
from cogs.communities._render import info_embed, list_embed

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)



class CommunitiesCog(commands.GroupCog, group_name="community"):
    """Community spaces: each gets a category, channels, roles and private overwrites."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.service: CommunityService = bot.communities

    async def cog_load(self) -> None:
        self.bot.services.register(self.service)

    async def cog_unload(self) -> None:
        self.bot.services.unregister(self.service)

    # ------------------------------------------------------------------ create
    @app_commands.command(name="create", description="Create a community space (server managers)")
    @app_commands.describe(
        name="The community's name, e.g. Carers Voice",
        kind="What kind of group: reference group, community of practice or distilling group",
        sponsor="Who receives the weekly digest (reads, does not post)",
        circles="Private per-discipline channels: 'all' or e.g. 'gp, nurse'",
    )
    @app_commands.choices(kind=COMMUNITY_KINDS)
    @server_manager_only("create a community")
    @app_commands.guild_only()
    async def create(
        self,
        interaction: discord.Interaction[HearthBot],
        name: str,
        kind: str,
        sponsor: discord.Member | None = None,
        circles: str | None = None,
    ) -> None:
        actor = actor_of(interaction)
        clean = clean_name(name)
        if sponsor is not None and sponsor.bot:
            raise InvalidInput("A bot cannot be a sponsor.")
        parsed_kind = parse_kind(kind)
        circle_list = parse_circles(circles)
        slug = (await self.service.plan_name(actor.guild_id, clean)).slug
        guild = interaction.guild
        assert guild is not None
        _spaces.check_bot_can_build(guild)
        await interaction.response.defer(ephemeral=True, thinking=True)
        reason = f"/community create by {interaction.user} ({interaction.user.id})"
        built = await _spaces.build(
            guild,
            name=clean,
            slug=slug,
            circles=circle_list,
            stages=list(self.bot.config.stories.stages),
            sponsor=sponsor,
            reason=reason,
        )
        try:
            assert built.member_role and built.facilitator_role and built.category
            creator = guild.get_member(interaction.user.id) or interaction.user
            if isinstance(creator, discord.Member):
                await creator.add_roles(built.member_role, built.facilitator_role, reason=reason)
            community = await self.service.create(
                NewCommunity(
                    guild_id=guild.id,
                    name=clean,
                    slug=slug,
                    kind=parsed_kind,
                    timezone=self.bot.config.community.timezone,
                    created_by=interaction.user.id,
                    created_at=self.bot.clock.now(),
                    category_id=built.category.id,
                    lounge_id=built.channels["lounge"].id,
                    stories_id=built.channels["stories"].id,
                    stories_is_forum=built.stories_is_forum,
                    voice_id=built.channels["voice"].id,
                    meetings_id=built.channels["meetings"].id,
                    member_role_id=built.member_role.id,
                    facilitator_role_id=built.facilitator_role.id,
                    sponsor_id=sponsor.id if sponsor else None,
                    circles=[(d, ch.id) for d, ch in built.circles.items()],
                    stage_tags=list(built.stage_tags.items()),
                ),
                facilitator_discipline=Discipline.OTHER,
            )
        except discord.Forbidden as exc:
            await _spaces.destroy(built, reason="rolling back an incomplete community")
            raise MissingPermission(
                "Manage Roles", f"give you the community's roles ({exc.text})"
            ) from exc
        except DuplicateCommunity:
            # Another /community create with the same name won the race since our check.
            await _spaces.destroy(built, reason="rolling back a duplicate community")
            raise
        except BaseException:
            await _spaces.destroy(built, reason="rolling back an incomplete community")
            raise
        lines = [
            f"Created **{escape_inline(community.name)}** ({community.kind.value}).",
            f"Channels: <#{community.lounge_id}>, <#{community.stories_id}>"
            + (
                ""
                if community.stories_is_forum
                else " (a text channel: forums need a Community server)"
            )
            + f", <#{community.voice_id}>, <#{community.meetings_id}>.",
            f"You are its facilitator. Add members with {mention('community add')}.",
        ]
        if built.circles:
            lines.append("Circles: " + ", ".join(f"<#{c.id}>" for c in built.circles.values()))
        if sponsor:
            lines.append(
                f"Sponsor: {sponsor.mention} (reads the conversation, not the stories; "
                "cannot post)."
            )
        await interaction.followup.send(
            "\n".join(lines), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    # ------------------------------------------------------------------ add / remove
    @app_commands.command(name="add", description="Add a member to a community (facilitators)")
    @app_commands.describe(
        community="The community",
        member="The person to add",
        discipline="Their discipline",
        region="Their region (optional; used for regional meetings; kept if left out)",
        facilitator="Also make them a facilitator of this community",
    )
    @app_commands.choices(discipline=DISCIPLINES)
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def add(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        member: discord.Member,
        discipline: str,
        region: str | None = None,
        facilitator: bool = False,
    ) -> None:
        comm, _ = await facilitated_community(interaction, community)
        if member.bot:
            raise InvalidInput("Bots cannot be community members.")
        disc = parse_discipline(discipline)
        given_region = self.service.clean_region(region)
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        joining = await self.service.plan_join(
            comm, member.id, given_region, region_given=region is not None
        )
        existing, rejoining, clean_reg = joining.previous, joining.rejoining, joining.region
        roles = [r for r in (guild.get_role(comm.member_role_id or 0),) if r]
        # Deleted by hand in Discord: the member is still added (votes, reminders, digests
        # work), and the facilitator is told why they cannot see the community's channels.
        role_gone = (
            f"\nThe community's member role no longer exists in this server (it was "
            f"deleted), so {escape_inline(member.display_name)} cannot see the community's "
            "channels. A "
            "server manager needs to restore access."
            if not roles
            else ""
        )
        fac_role = guild.get_role(comm.facilitator_role_id or 0)
        if facilitator and fac_role:
            roles.append(fac_role)
        reason = f"/community add by {interaction.user} ({interaction.user.id})"
        try:
            await member.add_roles(*roles, reason=reason)
            await self._sync_circles(guild, comm, member, disc, previous=existing, reason=reason)
        except discord.Forbidden as exc:
            raise MissingPermission(
                "Manage Roles",
                f"give {escape_inline(member.display_name)} the community's roles (my role "
                "must be above "
                f"them; Discord said: {exc.text})",
            ) from exc
        await self.service.join(comm, member.id, disc, clean_reg, facilitator=facilitator)
        if rejoining:
            msg = f"Updated {member.mention} in **{escape_inline(comm.name)}**: {disc.value}"
            msg += f", {escape_inline(clean_reg)}." if clean_reg else "."
            await interaction.followup.send(
                msg + role_gone, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        dm_ok = await self._welcome(comm, member, interaction.user)
        msg = f"Added {member.mention} to **{escape_inline(comm.name)}** as {disc.value}"
        msg += f" ({escape_inline(clean_reg)})." if clean_reg else "."
        if facilitator:
            msg += " They are also a facilitator."
        if not dm_ok:
            msg += (
                f"\nI could not send {escape_inline(member.display_name)} the welcome message: "
                "their direct "
                "messages are closed. You may want to welcome them in the lounge."
            )
        await interaction.followup.send(
            msg + role_gone, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def _sync_circles(
        self,
        guild: discord.Guild,
        comm: Community,
        member: discord.Member,
        discipline: Discipline,
        *,
        previous: Membership | None,
        reason: str,
    ) -> None:
        if previous is not None and previous.active and previous.discipline != discipline:
            old = await self.service.circle_channel(comm.id, previous.discipline)
            if old and (ch := guild.get_channel(old)):
                await _spaces.set_overwrite(ch, member, None, reason)
        circle = await self.service.circle_channel(comm.id, discipline)
        if circle and (ch := guild.get_channel(circle)):
            await _spaces.set_overwrite(ch, member, _spaces.MEMBER_ALLOW, reason)

    async def _welcome(
        self, comm: Community, member: discord.Member, facilitator: discord.abc.User
    ) -> bool:
        text = (
            self.bot.config.induction.text.strip()
            .replace("{community}", comm.name)
            .replace("{facilitator}", facilitator.display_name)
        )
        try:
            await member.send(text[:2000], allowed_mentions=NO_MENTIONS)
        except discord.Forbidden:
            return False
        except discord.HTTPException as exc:
            log.warning("welcome DM to %s failed: %s", member.id, exc)
            return False
        return True

    @app_commands.command(name="remove", description="Remove a member from a community")
    @app_commands.describe(community="The community", member="The person to remove")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def remove(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        member: discord.Member,
    ) -> None:
        comm, _ = await facilitated_community(interaction, community)
        existing = await self.service.active_membership(comm, member.id, member.display_name)
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        reason = f"/community remove by {interaction.user} ({interaction.user.id})"
        roles = [
            r
            for r in (
                guild.get_role(comm.member_role_id or 0),
                guild.get_role(comm.facilitator_role_id or 0),
            )
            if r is not None
        ]
        try:
            await member.remove_roles(*roles, reason=reason)
            circle = await self.service.circle_channel(comm.id, existing.discipline)
            if circle and (ch := guild.get_channel(circle)):
                await _spaces.set_overwrite(ch, member, None, reason)
        except discord.Forbidden as exc:
            raise MissingPermission(
                "Manage Roles",
                f"take the community's roles from {escape_inline(member.display_name)}",
            ) from exc
        await self.service.leave(comm, member.id)
        await interaction.followup.send(
            f"Removed {member.mention} from **{escape_inline(comm.name)}**. Their stories and "
            "past votes "
            f"stay with the community unless they use {mention('privacy forget')}.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    # ------------------------------------------------------------------ sponsor / link
    @app_commands.command(name="sponsor", description="Set the community's sponsor")
    @app_commands.describe(
        community="The community",
        member="The sponsor (reads the conversation, receives the digest)",
        email="Optional e-mail address for the digest",
    )
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def sponsor(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        member: discord.Member,
        email: str | None = None,
    ) -> None:
        comm, _ = await facilitated_community(interaction, community)
        if member.bot:
            raise InvalidInput("A bot cannot be a sponsor.")
        address = self.service.sponsor_email(email)
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        reason = f"/community sponsor by {interaction.user} ({interaction.user.id})"
        channels = await self._sponsor_channels(guild, comm)
        if comm.sponsor_id and comm.sponsor_id != member.id:
            old = discord.Object(id=comm.sponsor_id)
            for ch, _purpose in channels:
                await _spaces.set_overwrite(ch, old, None, reason)
        for ch, purpose in channels:
            await _spaces.set_overwrite(ch, member, _spaces.sponsor_overwrite(purpose), reason)
        await self.service.set_sponsor(comm, member.id, address)
        note = f" Digests will also be e-mailed to {escape_inline(address)}." if address else ""
        await interaction.followup.send(
            f"{member.mention} is now the sponsor of **{escape_inline(comm.name)}**: they can "
            "read its "
            f"channels except the stories and the circles, cannot post, and receive the digest."
            f"{note}",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    async def _sponsor_channels(
        self, guild: discord.Guild, comm: Community
    ) -> list[tuple[discord.abc.GuildChannel, str]]:
        """Every channel the sponsor has an overwrite on (circles are never theirs)."""
        ids = [(comm.category_id, "category")] + [
            (cid, purpose)
            for cid, purpose, _ in await self.service.channels(comm.id)
            if purpose != "circle"
        ]
        return [
            (ch, purpose)
            for cid, purpose in ids
            if cid and (ch := guild.get_channel(cid)) is not None
        ]

    @app_commands.command(
        name="link", description="Link a distilling group to the community it serves"
    )
    @app_commands.describe(
        community="The distilling community", serves="The community whose voice it distils"
    )
    @app_commands.autocomplete(community=community_autocomplete, serves=community_autocomplete)
    @app_commands.guild_only()
    async def link(
        self, interaction: discord.Interaction[HearthBot], community: str, serves: str
    ) -> None:
        comm, _ = await facilitated_community(interaction, community)
        target = await resolve_community(interaction, serves)
        await self.service.link(comm, target)
        await interaction.response.send_message(
            f"**{escape_inline(comm.name)}** now distils the voice of "
            f"**{escape_inline(target.name)}**: its digest will "
            f"include {escape_inline(target.name)}'s highlights.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    # ------------------------------------------------------------------ info / list
    @app_commands.command(name="info", description="About a community")
    @app_commands.describe(community="The community (start typing its name)")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def info(self, interaction: discord.Interaction[HearthBot], community: str) -> None:
        comm = await resolve_community(interaction, community)
        about = await self.service.info(comm)
        await interaction.response.send_message(
            embed=info_embed(comm, about.members, about.serves, about.served_by),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="list", description="All communities in this server")
    @app_commands.guild_only()
    async def list_(self, interaction: discord.Interaction[HearthBot]) -> None:
        actor = actor_of(interaction)
        comms, counts = await self.service.listing(actor.guild_id)
        await interaction.response.send_message(
            embed=list_embed(comms, counts), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    # ------------------------------------------------------------------ archive
    @app_commands.command(
        name="archive", description="Archive a community: lock channels, keep data"
    )
    @app_commands.describe(community="The community to archive")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def archive(self, interaction: discord.Interaction[HearthBot], community: str) -> None:
        comm, _ = await facilitated_community(interaction, community)
        guild = interaction.guild
        assert guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        reason = f"/community archive by {interaction.user} ({interaction.user.id})"
        channels = [(comm.category_id, "category")] + [
            (cid, purpose) for cid, purpose, _ in await self.service.channels(comm.id)
        ]
        await _spaces.lock_for_archive(guild, comm, channels, reason)
        await self.service.archive(comm)
        self.bot.dispatch("community_archived", comm.id)
        await interaction.followup.send(
            f"Archived **{escape_inline(comm.name)}**: its channels are read-only and every "
            "story, vote and "
            "note is kept.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


__all__ = ["CommunitiesCog", "Kind"]
