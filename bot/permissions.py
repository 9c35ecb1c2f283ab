"""The Discord permissions Hearth's own role needs: one set, used by the invite link
(``python -m bot invite``), by ``python -m bot check`` and by the cogs before they build.

Why each one:

* Manage Roles: the ``<name> member`` / ``<name> facilitator`` roles, giving and taking them,
  and the channel overwrites that keep a community private;
* Manage Channels: the community's category and channels, locking them on archive;
* Manage Events: each meeting is also a guild scheduled event;
* View Channels, Send Messages, Read Message History, Embed Links, Attach Files: prompts,
  polls, announcements, digests (embeds, a chart and a file), ``.ics`` calendar files;
* Create Public Threads, Send Messages in Threads, Manage Threads: stories become forum posts
  (threads) that Hearth also removes when a teller withdraws consent;
* Add Reactions: the members' overwrite allows it, and Discord lets a role grant in an
  overwrite only what it holds itself.

Nothing else: no Administrator, no Manage Server, no Mention Everyone, no message content.
"""

from __future__ import annotations

import discord

#: Exactly what Hearth asks for in the invite link. A test keeps it a superset of every
#: permission Hearth grants in its channel overwrites (Discord refuses to let a bot grant a
#: permission it lacks).
HEARTH_PERMISSIONS = discord.Permissions(
    manage_roles=True,
    manage_channels=True,
    manage_events=True,
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    manage_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
)

#: What creating a community needs before anything is made (the cogs check these first).
BUILD_PERMISSIONS = discord.Permissions(manage_roles=True, manage_channels=True)

#: Discord's names, as a server manager sees them under Server Settings → Roles.
_LABELS = {
    "manage_roles": "Manage Roles",
    "manage_channels": "Manage Channels",
    "manage_events": "Manage Events",
    "view_channel": "View Channels",
    "send_messages": "Send Messages",
    "send_messages_in_threads": "Send Messages in Threads",
    "create_public_threads": "Create Public Threads",
    "manage_threads": "Manage Threads",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
    "read_message_history": "Read Message History",
    "add_reactions": "Add Reactions",
}


def label(flag: str) -> str:
    """'manage_roles' -> 'Manage Roles' (Discord's own wording)."""
    return _LABELS.get(flag) or flag.replace("_", " ").title()


def missing(have: discord.Permissions, need: discord.Permissions = HEARTH_PERMISSIONS) -> list[str]:
    """Discord's names of the permissions in ``need`` that ``have`` lacks (none if admin)."""
    if have.administrator:
        return []
    return [label(flag) for flag, wanted in need if wanted and not getattr(have, flag)]


def invite_url(application_id: int, permissions: discord.Permissions = HEARTH_PERMISSIONS) -> str:
    """The OAuth2 link that adds the bot with its slash commands and these permissions."""
    return (
        f"https://discord.com/oauth2/authorize?client_id={application_id}"
        f"&scope=bot+applications.commands&permissions={permissions.value}"
    )
