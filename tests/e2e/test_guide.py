"""The way in (issue 14): the welcome a server gets once when Hearth joins it, and /help by
role, both with clickable command mentions."""

from __future__ import annotations

import re

import discord

from bot.domain.guide import commands_named
from tests.e2e.hearth import HearthWorld
from tests.emulator.permissions import DEFAULT_BOT, DEFAULT_EVERYONE, P
from tests.emulator.state import GuildState, MessageState


def command_id(world: HearthWorld, group: str) -> int:
    command = world.emu.command(group)
    assert command is not None, group
    return command.id


def welcomes(messages: list[MessageState]) -> list[MessageState]:
    return [m for m in messages if "Hello from Hearth" in m.content]


async def test_joining_a_server_posts_the_welcome_in_its_system_channel_once(
    world: HearthWorld,
) -> None:
    newcomer = world.emu.create_user("new owner")
    guild = world.emu.create_guild("Carers Trust", owner=newcomer, system_channel="general",
                                   bot_permissions=DEFAULT_BOT & ~P.MANAGE_ROLES)
    general = world.emu.channel_by_name(guild, "general")
    assert general is not None
    posted = await world.emu.wait_for(lambda: welcomes(world.emu.messages_in(general)))
    text = posted[0].content
    community = command_id(world, "community")
    # the three steps, as links to the commands
    assert "1. Invite Hearth to the server: done." in text
    assert f"</community create:{community}>" in text
    assert f"</community add:{community}>" in text
    assert f"</help:{command_id(world, 'help')}>" in text
    # what the permissions check found, in plain words
    assert "missing 1 permission" in text
    assert "**Manage Roles**, to give members their community roles" in text
    assert not welcomes(world.emu.dms_to(newcomer)), "the channel, not also the owner"

    await world.restart()  # never twice, even after a restart
    assert len(welcomes(world.emu.messages_in(general))) == 1


async def test_a_server_without_a_system_channel_welcomes_its_owner_by_dm_once(
    world: HearthWorld,
) -> None:
    # The test server existed before the bot started: welcomed at start, by DM (no system
    # channel in it), with every permission present.
    [dm] = welcomes(world.emu.dms_to(world.owner))
    assert "Hearth has every permission it needs" in dm.content
    assert "Health Charity" in dm.content
    await world.restart()
    assert len(welcomes(world.emu.dms_to(world.owner))) == 1


async def test_a_system_channel_hearth_cannot_post_in_falls_back_to_the_owner(
    world: HearthWorld,
) -> None:
    newcomer = world.emu.create_user("quiet owner")
    guild: GuildState = world.emu.create_guild(
        "Nurses Network", owner=newcomer, system_channel="general",
        bot_permissions=DEFAULT_BOT & ~P.SEND_MESSAGES,
        everyone_permissions=DEFAULT_EVERYONE & ~P.SEND_MESSAGES,
    )
    [dm] = await world.emu.wait_for(lambda: welcomes(world.emu.dms_to(newcomer)))
    assert "**Send Messages**, to post prompts" in dm.content
    general = world.emu.channel_by_name(guild, "general")
    assert general is not None and not world.emu.messages_in(general)
    assert world.bot is not None and world.db is not None
    guide = world.bot.get_cog("GuideCog")
    joined = world.bot.get_guild(guild.id)
    assert guide is not None and joined is not None
    assert await guide.welcome(joined) is False  # type: ignore[attr-defined]  # (waits its turn)
    assert (await world.db.fetchval(
        "SELECT value FROM app_state WHERE key = :key", {"key": f"welcome:{guild.id}"}
    ) or "").endswith(f"owner:{newcomer.id}")


def section_titles(embed: dict[str, object]) -> list[str]:
    return [str(f["name"]) for f in embed.get("fields", [])]  # type: ignore[attr-defined]


async def test_help_shows_what_each_person_can_do_by_role(world: HearthWorld) -> None:
    member, facilitator, outsider = (world.person(n) for n in ("pat", "fay", "olly"))
    await world.create_community(members={member: "patient"})
    added = await world.slash(world.owner, "community add", community="Carers Voice",
                              member=facilitator, discipline="nurse", facilitator=True)
    assert "Added" in added.content, added.content
    story = command_id(world, "story")
    community = command_id(world, "community")

    rec = await world.slash(member, "help")
    assert rec.ephemeral
    [embed] = rec.embeds
    assert section_titles(embed) == ["Anyone in this server", "As a member in **Carers Voice**"]
    assert f"</story share:{story}>" in rec.all_text
    assert "community create" not in rec.all_text and "poll create" not in rec.all_text

    rec = await world.slash(facilitator, "help")
    titles = section_titles(rec.embeds[0])
    assert titles[1:] == ["As a member in **Carers Voice**",
                          "As a facilitator of **Carers Voice**"]
    assert f"</community add:{community}>" in rec.all_text
    assert "community create" not in rec.all_text

    rec = await world.slash(world.owner, "help")  # the owner manages the server
    titles = section_titles(rec.embeds[0])
    assert titles[-1] == "As a server manager"
    assert f"</community create:{community}>" in rec.all_text

    rec = await world.slash(outsider, "help")
    assert section_titles(rec.embeds[0]) == ["Anyone in this server", "Not in a community yet"]
    assert not re.search(r"`/[a-z]", rec.all_text), "no command left as code"


async def test_help_names_only_real_commands(world: HearthWorld) -> None:
    assert world.bot is not None
    tree = {c.qualified_name for c in world.bot.tree.walk_commands()
            if isinstance(c, discord.app_commands.Command)}
    assert commands_named() <= tree, sorted(commands_named() - tree)
