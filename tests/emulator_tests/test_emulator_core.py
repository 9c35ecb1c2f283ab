"""The emulator against the real discord.py client: handshake, slash commands, permissions,
messages and components."""

from __future__ import annotations

import discord
import pytest

from tests.emulator.permissions import DEFAULT_BOT, P
from tests.emulator.server import DiscordEmulator
from tests.emulator.state import ChannelType
from tests.emulator_tests.bot_under_test import TestBot
from tests.emulator_tests.conftest import World

pytestmark = pytest.mark.e2e


async def test_ready_with_guild_cache_and_only_the_bot_member(world: World, bot: TestBot) -> None:
    guild = bot.get_guild(world.guild.id)
    assert guild is not None and guild.name == "Charity"
    assert guild.me.id == world.emu.bot_user.id
    assert [m.id for m in guild.members] == [world.emu.bot_user.id]  # no members intent
    assert guild.me.guild_permissions.manage_channels
    assert not guild.me.guild_permissions.administrator
    assert discord.utils.get(guild.text_channels, name="general") is not None
    calls = {(r.method, r.path) for r in world.emu.requests}
    assert ("GET", "/gateway/bot") in calls
    assert ("PUT", f"/applications/{world.emu.application_id}/commands") in calls


async def test_json_content_type_is_exact(emu: DiscordEmulator) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.get(
        f"{emu.api_base}/users/@me", headers={"Authorization": "Bot x"}
    ) as resp:
        assert resp.headers["Content-Type"] == "application/json"
    async with aiohttp.ClientSession() as s, s.get(f"{emu.api_base}/users/@me") as resp:
        assert resp.status == 401


async def test_slash_ephemeral_embed_reply(world: World, bot: TestBot) -> None:
    rec = await world.emu.slash(world.guild, world.alice, "community info", name="Carers")
    assert rec.response_type == 4
    assert rec.ephemeral
    assert rec.embeds[0]["title"] == "Carers"
    assert "Members 3" in rec.all_text
    # ephemeral replies are not channel messages anyone else sees
    assert world.emu.messages_in(rec.channel) == []


async def test_slash_option_conversion_and_driver_errors(world: World, bot: TestBot) -> None:
    emu = world.emu
    with pytest.raises(AssertionError, match="not one of"):
        await emu.slash(world.guild, world.owner, "community create", name="X", kind="bogus")
    with pytest.raises(AssertionError, match="requires option 'kind'"):
        await emu.slash(world.guild, world.owner, "community create", name="X")
    with pytest.raises(AssertionError, match="no option 'colour'"):
        await emu.slash(world.guild, world.owner, "community create", name="X",
                        kind="practice", colour="red")
    with pytest.raises(AssertionError, match="no subcommand 'nope'"):
        await emu.slash(world.guild, world.owner, "community nope")
    with pytest.raises(AssertionError, match=r"outside 1\.\.500"):
        await emu.slash(world.guild, world.owner, "community create", name="X",
                        kind="practice", size=900)


async def test_create_builds_category_channels_roles_and_overwrites(
    world: World, bot: TestBot
) -> None:
    emu, guild = world.emu, world.guild
    rec = await emu.slash(guild, world.owner, "community create", name="Carers Group",
                          kind="practice", sponsor=world.alice, size=12)
    assert rec.response_type == 5 and rec.ephemeral
    assert rec.content == "Created Carers Group (practice, size 12)."
    role = emu.role_by_name(guild, "Carers Group member")
    category = emu.channel_by_name(guild, "Carers Group")
    assert role is not None and category is not None and category.type == ChannelType.CATEGORY
    lounge = emu.channel_by_name(guild, "lounge", parent=category)
    stories = emu.channel_by_name(guild, "stories", parent=category)
    voice = emu.channel_by_name(guild, "voice", parent=category)
    assert lounge and stories and voice
    assert stories.type == ChannelType.FORUM
    assert [t.name for t in stories.available_tags] == ["diagnosis", "treatment"]
    assert voice.type == ChannelType.VOICE
    # children synced with the category's overwrites
    assert emu.overwrite_for(lounge, guild.everyone).deny & P.VIEW_CHANNEL  # type: ignore[union-attr]
    assert not emu.can(guild, world.bob, P.VIEW_CHANNEL, lounge)
    assert emu.can(guild, world.alice, P.VIEW_CHANNEL, lounge)  # sponsor reads
    assert not emu.can(guild, world.alice, P.SEND_MESSAGES, lounge)  # ... without posting
    rec2 = await emu.slash(guild, world.owner, "community join", member=world.bob, role=role)
    assert rec2.content == "bob joined Carers Group member"
    assert role in emu.roles_of(guild, world.bob)
    assert emu.can(guild, world.bob, P.VIEW_CHANNEL | P.SEND_MESSAGES, lounge)
    # the bot's cache saw everything through the gateway
    dguild = bot.get_guild(guild.id)
    assert dguild is not None
    assert discord.utils.get(dguild.categories, name="Carers Group") is not None
    assert discord.utils.get(dguild.roles, name="Carers Group member") is not None


async def test_missing_manage_channels_is_a_403_and_cleanup_happens(
    world: World, bot: TestBot
) -> None:
    emu, guild = world.emu, world.guild
    emu.set_bot_permissions(guild, DEFAULT_BOT & ~P.MANAGE_CHANNELS)
    await emu.wait_for(lambda: not bot.get_guild(guild.id).me.guild_permissions.manage_channels)  # type: ignore[union-attr]
    rec = await emu.slash(guild, world.owner, "community create", name="Nurses", kind="practice")
    assert rec.content == "I need the Manage Channels permission (50013)."
    assert any(r.status == 403 and r.path.endswith("/channels") for r in emu.requests)
    assert emu.role_by_name(guild, "Nurses member") is None  # rolled back
    assert emu.channel_by_name(guild, "Nurses") is None


async def test_role_hierarchy_is_enforced(world: World, bot: TestBot) -> None:
    emu, guild = world.emu, world.guild
    high = emu.create_role(guild, "Moderator", P.MANAGE_MESSAGES, position=5)
    rec = await emu.slash(guild, world.owner, "community join", member=world.alice, role=high)
    assert rec.content == "forbidden 50013"
    assert high not in emu.roles_of(guild, world.alice)


async def test_forum_refused_without_community_feature(emu: DiscordEmulator) -> None:
    owner = emu.create_user("owner")
    guild = emu.create_guild("Small", owner=owner, features=())
    async with __import__("tests.emulator.harness", fromlist=["run_client"]).run_client(
        emu, TestBot()
    ) as client:
        dguild = client.get_guild(guild.id)
        assert dguild is not None
        with pytest.raises(discord.HTTPException) as info:
            await dguild.create_forum("stories")
        assert info.value.code == 50024
        await emu.wait_for(lambda: emu.command("community"))
        rec = await emu.slash(guild, owner, "community create", name="Tiny", kind="reference")
        assert rec.content.startswith("Created Tiny")
        stories = emu.channel_by_name(guild, "stories")
        assert stories is not None and stories.type == ChannelType.TEXT


async def test_messages_with_files_defer_edit_and_followup(world: World, bot: TestBot) -> None:
    emu, guild = world.emu, world.guild
    general = emu.channel_by_name(guild, "general")
    assert general is not None
    rec = await emu.slash(guild, world.alice, "community post", channel=general, text="Hello")
    posted = emu.messages_in(general)
    user_msgs = [m for m in posted if m.interaction_id is None]
    assert len(user_msgs) == 1
    msg = user_msgs[0]
    assert msg.content == "Hello"
    assert msg.attachments[0].filename == "data.csv"
    assert msg.attachments[0].data == b"a,b\n1,2\n"
    assert rec.content == f"posted {msg.id}"
    assert not rec.ephemeral
    followups = await rec.wait_followups(1)
    assert followups[0].content == "second" and followups[0].ephemeral


async def test_send_without_permission_in_channel(world: World, bot: TestBot) -> None:
    emu, guild = world.emu, world.guild
    from tests.emulator.state import Overwrite

    locked = emu.create_channel(guild, "locked", overwrites=[
        Overwrite(id=guild.bot_role_id or 0, type=0, deny=P.SEND_MESSAGES)])
    await emu.wait_for(lambda: bot.get_channel(locked.id))
    rec = await emu.slash(guild, world.alice, "community post", channel=locked, text="hi")
    assert rec.content == "failed 403 50013"
    assert [m for m in emu.messages_in(locked) if m.interaction_id is None] == []


async def test_dm_open_and_closed(world: World, bot: TestBot) -> None:
    emu, guild = world.emu, world.guild
    rec = await emu.slash(guild, world.owner, "community welcome", member=world.alice)
    assert rec.content == "sent"
    dms = emu.dms_to(world.alice)
    assert [m.content for m in dms] == ["Welcome!"]
    assert dms[0].attachments[0].text == "# Induction"
    rec = await emu.slash(guild, world.owner, "community welcome", member=world.bob)
    assert rec.content == "DMs closed (50007)"
    assert emu.dms_to(world.bob) == []


async def test_buttons_modal_and_select(world: World, bot: TestBot) -> None:
    emu, guild = world.emu, world.guild
    rec = await emu.slash(guild, world.alice, "community panel")
    panel = rec.reply
    assert panel is not None and not panel.ephemeral
    clicked = await emu.click(world.bob, panel, "panel:share")
    assert clicked.modal is not None and clicked.modal["title"] == "Share a story"
    submitted = await emu.submit_modal(world.bob, clicked, {
        "story:title": "Day one", "story:text": "It began..."})
    assert submitted.content == "Saved 'Day one': It began..."
    assert submitted.ephemeral
    with pytest.raises(AssertionError, match="required"):
        await emu.submit_modal(world.bob, clicked, {"story:title": "only title"})
    updated = await emu.click(world.alice, panel, "panel:count")
    assert updated.response_type == 7
    assert panel.content == "clicked by alice"
    picked = await emu.select(world.alice, panel, "panel:pick", ["maybe"])
    assert picked.content == "you picked maybe"
    with pytest.raises(AssertionError, match="no component"):
        await emu.click(world.alice, panel, "panel:nothing")


async def test_context_menus_and_autocomplete(world: World, bot: TestBot) -> None:
    emu, guild = world.emu, world.guild
    general = emu.channel_by_name(guild, "general")
    assert general is not None
    msg = await emu.post_message(general, world.alice, "My story about the clinic")
    rec = await emu.message_command(guild, world.alice, "Save as story", msg)
    assert rec.content == "saved: My story about the clinic"  # payload carries the content
    rec = await emu.user_command(guild, world.owner, "Profile", world.alice)
    assert rec.content == "profile of alice"
    choices = await emu.autocomplete(guild, world.alice, "community info", focused="name",
                                     value="nur")
    assert choices == [{"name": "Nurses", "value": "Nurses"}]


async def test_reactions_role_edits_and_hidden_channels(world: World, bot: TestBot) -> None:
    emu, guild = world.emu, world.guild
    from tests.emulator.state import Overwrite

    general = emu.channel_by_name(guild, "general")
    assert general is not None
    msg = await emu.post_message(general, world.alice, "react to me")
    dchannel = bot.get_channel(general.id)
    assert isinstance(dchannel, discord.TextChannel)
    dmsg = await dchannel.fetch_message(msg.id)
    assert dmsg.content == ""  # REST reads honour the content intent too
    await dmsg.add_reaction("👍")
    assert msg.reactions[0].emoji == "👍" and msg.reactions[0].users == [emu.bot_user.id]
    dguild = bot.get_guild(guild.id)
    assert dguild is not None
    role = await dguild.create_role(name="Temp")
    await role.edit(name="Renamed")
    assert emu.role_by_name(guild, "Renamed") is not None
    with pytest.raises(discord.Forbidden):
        await dguild.create_role(name="Admins", permissions=discord.Permissions(administrator=True))
    hidden = emu.create_channel(guild, "hidden", overwrites=[
        Overwrite(id=guild.id, type=0, deny=P.VIEW_CHANNEL)])
    secret = await emu.post_message(hidden, world.alice, "psst")
    visible = await emu.post_message(general, world.alice, "hello")
    await emu.wait_for(lambda: any(m.id == visible.id for m in bot.seen_messages))
    assert all(m.id != secret.id for m in bot.seen_messages)
