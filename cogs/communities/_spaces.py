"""The Discord side of a community: category, channels, roles and overwrites.

Creation is all-or-nothing: every object made is remembered, and if any step fails
(most often a missing permission) they are deleted again in reverse order, so no
half-made community is left in the server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.domain.communities import CHANNEL_PURPOSES, Community, Discipline, channel_name
from bot.errors import MissingPermission
from bot.permissions import BUILD_PERMISSIONS, missing
from bot.settings import Stage

log = logging.getLogger(__name__)

MEMBER_ALLOW = discord.PermissionOverwrite(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    add_reactions=True,
    attach_files=True,
    embed_links=True,
)
LOCKED = discord.PermissionOverwrite(
    view_channel=True,
    read_message_history=True,
    send_messages=False,
    send_messages_in_threads=False,
    create_public_threads=False,
    add_reactions=False,
)
SPONSOR_READ_ONLY = LOCKED
HIDDEN = discord.PermissionOverwrite(view_channel=False)


def bot_overwrite() -> discord.PermissionOverwrite:
    """The bot must keep seeing what it hides from @everyone, or Discord refuses it."""
    return discord.PermissionOverwrite(
        view_channel=True,
        send_messages=True,
        read_message_history=True,
        embed_links=True,
        attach_files=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        manage_threads=True,
    )


@dataclass
class Built:
    category: discord.CategoryChannel | None = None
    member_role: discord.Role | None = None
    facilitator_role: discord.Role | None = None
    channels: dict[str, discord.abc.GuildChannel] = field(default_factory=dict)
    circles: dict[Discipline, discord.TextChannel] = field(default_factory=dict)
    stories_is_forum: bool = False
    stage_tags: dict[str, int] = field(default_factory=dict)

    def created(self) -> list[Any]:
        """Everything made, newest first (deletion order)."""
        objs: list[Any] = [*self.circles.values(), *self.channels.values()]
        objs.reverse()
        for extra in (self.category, self.facilitator_role, self.member_role):
            if extra is not None:
                objs.append(extra)
        return objs


def check_bot_can_build(guild: discord.Guild) -> None:
    lacking = missing(guild.me.guild_permissions, BUILD_PERMISSIONS)
    if lacking:
        raise MissingPermission(
            " and ".join(lacking), "create the community's roles and channels"
        )


def base_overwrites(
    guild: discord.Guild,
    member_role: discord.Role,
    facilitator_role: discord.Role,
    sponsor: discord.abc.Snowflake | None,
) -> dict[Any, discord.PermissionOverwrite]:
    ow: dict[Any, discord.PermissionOverwrite] = {
        guild.default_role: HIDDEN,
        guild.me: bot_overwrite(),
        member_role: MEMBER_ALLOW,
        facilitator_role: MEMBER_ALLOW,
    }
    if sponsor is not None:
        ow[sponsor] = SPONSOR_READ_ONLY
    return ow


def sponsor_overwrite(purpose: str) -> discord.PermissionOverwrite:
    """The sponsor reads the conversation but never the stories channel.

    Stories with ``group`` consent stay inside the community; the sponsor belongs to the
    organisation, so stories reach them only through the consent-filtered, redacted digest.
    """
    return HIDDEN if purpose == "stories" else SPONSOR_READ_ONLY


def channel_overwrites(
    base: dict[Any, discord.PermissionOverwrite],
    sponsor: discord.abc.Snowflake | None,
    purpose: str,
) -> dict[Any, discord.PermissionOverwrite]:
    if sponsor is None:
        return base
    return {**base, sponsor: sponsor_overwrite(purpose)}


def circle_overwrites(
    guild: discord.Guild, facilitator_role: discord.Role
) -> dict[Any, discord.PermissionOverwrite]:
    """Circles are private to one discipline: members are allowed one by one as they join."""
    return {
        guild.default_role: HIDDEN,
        guild.me: bot_overwrite(),
        facilitator_role: MEMBER_ALLOW,
    }


async def build(
    guild: discord.Guild,
    *,
    name: str,
    slug: str,
    circles: list[Discipline],
    stages: list[Stage],
    sponsor: discord.abc.Snowflake | None,
    reason: str,
) -> Built:
    built = Built()
    try:
        built.member_role = await guild.create_role(name=f"{name} member", reason=reason)
        built.facilitator_role = await guild.create_role(name=f"{name} facilitator", reason=reason)
        overwrites = base_overwrites(guild, built.member_role, built.facilitator_role, sponsor)
        built.category = await guild.create_category(name, overwrites=overwrites, reason=reason)
        for purpose in CHANNEL_PURPOSES:
            cname = channel_name(slug, purpose)
            ch_overwrites = channel_overwrites(overwrites, sponsor, purpose)
            if purpose == "stories" and "COMMUNITY" in guild.features:
                try:
                    forum = await guild.create_forum(
                        cname,
                        category=built.category,
                        overwrites=ch_overwrites,
                        available_tags=[discord.ForumTag(name=s.label) for s in stages],
                        topic="Stories shared by members. Each post's tag is its stage.",
                        reason=reason,
                    )
                except discord.HTTPException as exc:
                    if exc.status != 400:
                        raise
                    log.info("forum unavailable in guild %s (%s); using text", guild.id, exc)
                else:
                    built.channels[purpose] = forum
                    built.stories_is_forum = True
                    by_label = {t.name: t.id for t in forum.available_tags}
                    built.stage_tags = {
                        s.slug: by_label[s.label] for s in stages if s.label in by_label
                    }
                    continue
            built.channels[purpose] = await guild.create_text_channel(
                cname, category=built.category, overwrites=ch_overwrites, reason=reason
            )
        for discipline in circles:
            built.circles[discipline] = await guild.create_text_channel(
                channel_name(slug, f"{discipline.value}-circle"),
                category=built.category,
                overwrites=circle_overwrites(guild, built.facilitator_role),
                topic=f"A private circle for {discipline.value} members of {name}.",
                reason=reason,
            )
    except discord.Forbidden as exc:
        await destroy(built, reason="rolling back a community that could not be completed")
        raise MissingPermission(
            "Manage Channels and Manage Roles",
            f"set up the community (Discord said: {exc.text or 'Missing Permissions'})",
        ) from exc
    except BaseException:
        await destroy(built, reason="rolling back a community that could not be completed")
        raise
    return built


async def destroy(built: Built, *, reason: str) -> None:
    for obj in built.created():
        try:
            await obj.delete(reason=reason)
        except discord.HTTPException as exc:
            log.warning("could not delete %r while rolling back: %s", obj, exc)


async def set_overwrite(
    channel: discord.abc.GuildChannel,
    target: discord.abc.Snowflake,
    overwrite: discord.PermissionOverwrite | None,
    reason: str,
) -> None:
    """Set or clear one overwrite; a missing channel is logged, not fatal.

    ``target`` may be a bare ``discord.Object`` (a member known only by id: a former
    sponsor, or a member not in the cache since Hearth asks for no member intent).
    discord.py's ``set_permissions`` refuses those, so they go through the same REST
    route directly, as member overwrites.
    """
    try:
        if isinstance(target, discord.Role | discord.Member):
            await channel.set_permissions(target, overwrite=overwrite, reason=reason)
        elif overwrite is None:
            await channel._state.http.delete_channel_permissions(
                channel.id, target.id, reason=reason
            )
        else:
            allow, deny = overwrite.pair()
            await channel._state.http.edit_channel_permissions(
                channel.id, target.id, str(allow.value), str(deny.value), 1, reason=reason
            )
    except discord.NotFound:
        log.warning("channel %s disappeared; skipping overwrite", channel.id)
    except discord.Forbidden as exc:
        raise MissingPermission(
            "Manage Roles", f"change who can see #{channel.name} ({exc.text})"
        ) from exc


async def lock_for_archive(
    guild: discord.Guild,
    comm: Community,
    channels: list[tuple[int | None, str]],
    reason: str,
) -> None:
    """Make every channel of an archived community read-only for those who could post."""
    member_role = guild.get_role(comm.member_role_id or 0)
    fac_role = guild.get_role(comm.facilitator_role_id or 0)
    for cid, purpose in channels:
        ch = guild.get_channel(cid or 0)
        if ch is None:
            continue
        targets: list[discord.abc.Snowflake]
        if purpose == "circle":
            # Circles are opened member by member: lock each of those overwrites (a
            # member overwrite beats a role's) and never open a circle to the whole
            # member role, or archiving would reveal every circle to every member.
            targets = [
                t
                for t, ow in ch.overwrites.items()
                if not isinstance(t, discord.Role) and t.id != guild.me.id and ow.view_channel
            ]
            targets += [fac_role] if fac_role else []
        else:
            targets = [r for r in (member_role, fac_role) if r]
        for target in targets:
            await set_overwrite(ch, target, LOCKED, reason)
