"""Permission decorators: one per permission, each setting the runtime check *and* the
command's default permissions (ARCHITECTURE habit 6, after RoboDanny's ``checks.py``).

Keeping both in one decorator means what Discord's client hides and what the bot refuses
cannot drift apart. Two Discord facts shape it:

* default permissions are only defaults: a server's admins can grant the command to anyone
  under Server Settings → Integrations, so the runtime check is what actually protects;
* Discord applies default permissions to top-level commands only; on a subcommand (every
  Hearth command lives in a group such as ``/community``) discord.py ignores them. The
  decorator still records them so a command moved to the top level keeps its default, and
  the runtime check is the part that always applies.

Per-community roles (facilitator, member) are not Discord permissions, so they cannot be
defaults; they are checked by :func:`bot.interactions.facilitated_community` and
:func:`bot.interactions.member_community` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

T = TypeVar("T")


def is_server_manager(interaction: discord.Interaction[Any]) -> bool:
    """Manage Server or Administrator in the guild where the interaction happened."""
    perms = getattr(interaction.user, "guild_permissions", None)
    return bool(
        interaction.guild_id is not None and perms and (perms.manage_guild or perms.administrator)
    )


def server_manager_only(action: str) -> Callable[[T], T]:
    """Only server managers may run the command: runtime check plus ``manage_guild`` default.

    ``action`` completes the refusal, e.g. "create a community".
    """

    async def predicate(interaction: discord.Interaction[Any]) -> bool:
        if is_server_manager(interaction):
            return True
        raise app_commands.CheckFailure(f"Only a server manager (Manage Server) can {action}.")

    def decorator(func: T) -> T:
        checked = app_commands.check(predicate)(func)
        return app_commands.default_permissions(manage_guild=True)(checked)

    return decorator
