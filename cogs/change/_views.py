"""Significant-change rounds' components: shared helpers and the list of persistent items.

Persistent components (state in ``custom_id``, ``chg:<round>:...``; each a
:class:`bot.components.HearthItem` bound to :class:`ChangeRoundService`): the lounge's
**Tell a story of change** button and its domain menu (:mod:`cogs.change._telling`); the
selectors' **Choose stories** button, its domain menu, the candidate pages and the pick menu
(:mod:`cogs.change._choosing`).
"""

from __future__ import annotations

import contextlib
from typing import Any

import discord

from bot.errors import InvalidInput
from bot.services.change_rounds import NameLookup
from bot.text import plain


def names_for(interaction: discord.Interaction[Any]) -> NameLookup:
    """Display names in this server (members first, then users)."""
    client = interaction.client
    guild = interaction.guild

    async def lookup(user_id: int) -> str | None:
        member = guild.get_member(user_id) if guild is not None else None
        if member is not None:
            return member.display_name
        with contextlib.suppress(discord.HTTPException):
            user = client.get_user(user_id) or await client.fetch_user(user_id)
            return str(user.display_name)
        return None

    return lookup


def domain_options(
    domains: tuple[str, ...], counts: list[int] | None = None
) -> list[discord.SelectOption]:
    return [
        discord.SelectOption(
            label=plain(f"{i + 1}. {d}", 100, empty=f"Domain {i + 1}"),
            value=str(i),
            description=(f"{counts[i]} stories" if counts is not None else None),
        )
        for i, d in enumerate(domains[:25])
    ]


def copy_options(made: Any, item: discord.ui.Item[Any]) -> None:
    if isinstance(item, discord.ui.Select):
        made.item.options = list(item.options)


def picked(select: discord.ui.Select[Any]) -> int:
    try:
        return int(select.values[0])
    except (ValueError, IndexError):
        raise InvalidInput("That choice is not part of this round; choose from the menu.") from None
