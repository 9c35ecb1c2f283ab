"""Helpers every cog uses to turn an interaction into domain inputs.

Kept in the core so that each capability resolves "which community", "who is acting"
and "is this a facilitator" the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.domain.communities import (
    Actor,
    Community,
    Membership,
    require_active,
    require_facilitator,
    require_member,
)
from bot.errors import InvalidInput
from bot.text import plain

if TYPE_CHECKING:
    from bot.app import HearthBot

NO_MENTIONS = discord.AllowedMentions.none()

#: Slash command ids by qualified name ("community create"), from the synced tree. One bot
#: per process, so one table; empty until :func:`remember_commands` (then names fall back to
#: plain text).
_COMMAND_IDS: dict[str, int] = {}
#: "`/community add`" or "`/story consent story:4`" in a reply: a command written as code.
_CODE_COMMAND = re.compile(r"`/([a-z][-_a-z]*(?: [a-z][-_a-z]*)?)((?: [a-z_]+:[^`\s]*)*)`")


def remember_commands(commands: Iterable[app_commands.AppCommand]) -> None:
    """Keep the ids Discord gave the commands (after a sync, or fetched once at start)."""
    _COMMAND_IDS.clear()
    for command in commands:
        if command.type is not discord.AppCommandType.chat_input:
            continue
        _COMMAND_IDS[command.name] = command.id
        groups = [o for o in command.options if isinstance(o, app_commands.AppCommandGroup)]
        while groups:
            group = groups.pop()
            _COMMAND_IDS[group.qualified_name] = command.id
            groups += [o for o in group.options if isinstance(o, app_commands.AppCommandGroup)]


def mention(name: str) -> str:
    """A clickable command: ``</community create:ID>``; ``/community create`` when the id is
    not known yet (Discord renders an unknown id as plain text, so the fallback is honest)."""
    command_id = _COMMAND_IDS.get(name)
    return f"</{name}:{command_id}>" if command_id else f"`/{name}`"


def linkify(text: str) -> str:
    """Turn every "`/name sub`" in ``text`` into a clickable mention.

    The domain and the services word some replies without Discord (errors such as "Set one
    with `/community sponsor`"); they are shown through this, once, where they are sent.
    Options written after the name stay as code: a mention cannot carry them.
    """

    def swap(match: re.Match[str]) -> str:
        name, options = match.group(1), match.group(2).strip()
        if name not in _COMMAND_IDS:
            return match.group(0)
        return mention(name) + (f" `{options}`" if options else "")

    return _CODE_COMMAND.sub(swap, text)


def hearth(interaction: discord.Interaction[Any]) -> HearthBot:
    return interaction.client


def actor_of(interaction: discord.Interaction[Any]) -> Actor:
    if interaction.guild_id is None:
        raise InvalidInput("Use this command in a server, not in a direct message.")
    user = interaction.user
    perms = getattr(user, "guild_permissions", None)
    is_manager = bool(perms and (perms.manage_guild or perms.administrator))
    return Actor(
        user_id=user.id,
        guild_id=interaction.guild_id,
        is_manager=is_manager,
        display_name=user.display_name,
    )


async def resolve_community(
    interaction: discord.Interaction[Any], value: str | None
) -> Community:
    """Find the community named (autocomplete sends its name; an id works) in this server,
    through the communities service (``bot.communities``)."""
    if interaction.guild_id is None:
        raise InvalidInput("Use this command in a server, not in a direct message.")
    return await hearth(interaction).communities.resolve(interaction.guild_id, value)


async def _membership(
    interaction: discord.Interaction[Any], community: Community
) -> Membership | None:
    return await hearth(interaction).communities.membership(community.id, interaction.user.id)


async def facilitated_community(
    interaction: discord.Interaction[Any], value: str | None, *, allow_archived: bool = False
) -> tuple[Community, Actor]:
    """Resolve the community and refuse unless the user facilitates it (or manages the server)."""
    actor = actor_of(interaction)
    community = await resolve_community(interaction, value)
    require_facilitator(actor, community, await _membership(interaction, community))
    if not allow_archived:
        require_active(community)
    return community, actor


async def member_community(
    interaction: discord.Interaction[Any], value: str | None, *, allow_archived: bool = False
) -> tuple[Community, Actor, Membership | None]:
    """Resolve the community and refuse unless the user is a member (or manages the server)."""
    actor = actor_of(interaction)
    community = await resolve_community(interaction, value)
    membership = await _membership(interaction, community)
    require_member(actor, community, membership)
    if not allow_archived:
        require_active(community)
    return community, actor, membership


async def community_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    found = await hearth(interaction).communities.search(interaction.guild_id, current.strip())
    return [
        app_commands.Choice(
            name=plain(c.name + (" (archived)" if c.archived else ""), 100, empty="community"),
            value=c.name,
        )
        for c in found[:25]
    ]


def is_http_status(exc: BaseException, *codes: int) -> bool:
    return isinstance(exc, discord.HTTPException) and exc.code in codes
