"""The one error handler (python-discord's order of precedence, written down).

1. ``HearthError`` (domain errors, bot permission problems): the user message, ephemeral.
2. ``app_commands.CheckFailure``: the check's message, ephemeral.
3. ``discord.Forbidden`` that escaped a cog: the bot lacks a permission; say so plainly.
4. Anything else: logged with context (command, user, guild, channel), and the user gets
   a short apology with no traceback. A component is named by its kind and object id only
   (never the rest of its custom_id), and a vote's log line does not name the voter:
   see :mod:`bot.log_privacy`.

Slash commands reach it through ``tree.on_error``; components and modals through
:func:`guarded` (DynamicItem callbacks) and :class:`HearthModal` / :class:`HearthView`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import discord
from discord import app_commands

from bot.errors import HearthError
from bot.interactions import NO_MENTIONS, linkify
from bot.log_privacy import describe_custom_id, is_vote_custom_id

log = logging.getLogger(__name__)

APOLOGY = (
    "Sorry, something went wrong on my side and that did not complete. "
    "Nothing was half-saved; please try again in a moment. If it keeps happening, tell a "
    "facilitator."
)


def _unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        inner = error.__cause__ or getattr(error, "original", None)
        if inner is None or inner is error:
            break
        error = inner
    return error


async def reply_ephemeral(interaction: discord.Interaction[Any], content: str) -> None:
    """Answer ephemerally whether or not the interaction was already responded to.

    Commands named in the message ("`/community add`") become clickable mentions."""
    content = linkify(content)[:2000]
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                content, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
    except discord.HTTPException:
        log.warning("could not deliver an error reply for interaction %s", interaction.id)


async def handle_interaction_error(
    interaction: discord.Interaction[Any], error: BaseException
) -> None:
    error = _unwrap(error)
    if isinstance(error, HearthError):
        await reply_ephemeral(interaction, error.user_message)
        return
    if isinstance(error, app_commands.CheckFailure):
        await reply_ephemeral(interaction, str(error) or "You cannot use this command here.")
        return
    if isinstance(error, discord.Forbidden):
        log.warning(
            "forbidden during %s (%sguild %s): %s",
            _what(interaction), _who(interaction), interaction.guild_id, error.text,
        )
        await reply_ephemeral(
            interaction,
            "Discord refused me permission to do part of that "
            f"({error.text or 'Missing Permissions'}). Ask a server manager to check my role's "
            "permissions, then try again.",
        )
        return
    log.error(
        "unexpected error in %s (%sguild %s, channel %s)",
        _what(interaction), _who(interaction), interaction.guild_id, interaction.channel_id,
        exc_info=error,
    )
    await reply_ephemeral(interaction, APOLOGY)


def _custom_id(interaction: discord.Interaction[Any]) -> str:
    data: dict[str, Any] = dict(interaction.data or {})
    return str(data.get("custom_id") or "?")


def _what(interaction: discord.Interaction[Any]) -> str:
    """The command, or the component's kind and object id: never a vote's option.

    A component's custom_id carries its state, and for a vote that state is the choice
    (``poll:12:v:3``); logged next to the clicker it would link a voter to a choice.
    """
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    kind = "modal" if interaction.type is discord.InteractionType.modal_submit else "component"
    return f"{kind} {describe_custom_id(_custom_id(interaction))}"


def _who(interaction: discord.Interaction[Any]) -> str:
    """``user <id>, `` except for a vote: who voted is not needed to debug a failed vote."""
    if interaction.command is None and is_vote_custom_id(_custom_id(interaction)):
        return ""
    return f"user {interaction.user.id}, "


P = ParamSpec("P")
S = TypeVar("S")
IX = TypeVar("IX", bound=discord.Interaction[Any])


def guarded(
    func: Callable[Concatenate[S, IX, P], Awaitable[None]],
) -> Callable[Concatenate[S, IX, P], Awaitable[None]]:
    """Route errors from a component callback (self, interaction) to the one handler."""

    @functools.wraps(func)
    async def wrapper(self: S, interaction: IX, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await func(self, interaction, *args, **kwargs)
        except Exception as exc:
            await handle_interaction_error(interaction, exc)

    return wrapper


class HearthModal(discord.ui.Modal):
    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception
    ) -> None:
        await handle_interaction_error(interaction, error)


class HearthView(discord.ui.View):
    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await handle_interaction_error(interaction, error)
