"""Forums, scheduled events, limits, rate limits, injected faults, resume and intents."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from tests.emulator.gateway import Intents
from tests.emulator.harness import run_client
from tests.emulator.permissions import DEFAULT_BOT, P
from tests.emulator.server import DiscordEmulator
from tests.emulator.state import ChannelType
from tests.emulator_tests.bot_under_test import TestBot, hearth_intents
from tests.emulator_tests.conftest import World

pytestmark = pytest.mark.e2e


async def test_forum_post_with_tags_and_file_then_thread_delete(
    world: World, bot: TestBot
) -> None:
    emu, guild = world.emu, world.guild
    forum = emu.create_channel(guild, "stories", ChannelType.FORUM, tags=["diagnosis", "care"])
    await emu.wait_for(lambda: bot.get_channel(forum.id))
    rec = await emu.slash(guild, world.alice, "community story", forum=forum, title="My day")
    [thread] = emu.threads_in(forum)
    assert thread.name == "My day" and thread.type == ChannelType.PUBLIC_THREAD
    assert thread.applied_tags == [forum.available_tags[0].id]
    [starter] = emu.messages_in(thread)
    assert starter.id == thread.id
    assert starter.content == "Once upon a time"
    assert starter.attachments[0].data == b"story"
    assert rec.content == f"thread {thread.id} msg {starter.id}"
    dthread = await emu.wait_for(lambda: bot.get_channel(thread.id))
    assert isinstance(dthread, discord.Thread)
    await dthread.delete()
    assert emu.threads_in(forum) == []
    await emu.wait_for(lambda: bot.get_channel(thread.id) is None)


async def test_scheduled_events_created_limited_and_permission_checked(
    world: World, bot: TestBot
) -> None:
    emu, guild = world.emu, world.guild
    rec = await emu.slash(guild, world.owner, "community event", title="Spring meeting")
    [ev] = emu.scheduled_events(guild)
    assert rec.content == f"event {ev.id}"
    assert ev.location == "Leeds" and ev.entity_type == 3 and ev.status == 1
    dguild = bot.get_guild(guild.id)
    assert dguild is not None
    await emu.wait_for(lambda: dguild.get_scheduled_event(ev.id))
    guild.max_scheduled_events = 1  # Discord's limit is 100 uncompleted events
    rec = await emu.slash(guild, world.owner, "community event", title="Autumn meeting")
    assert rec.content == "failed 400 30038"
    rec = await emu.slash(guild, world.owner, "community event", title="Past", days=-1)
    assert rec.content == "failed 400 50035"
    guild.max_scheduled_events = 100
    emu.set_bot_permissions(guild, DEFAULT_BOT & ~P.MANAGE_EVENTS)
    rec = await emu.slash(guild, world.owner, "community event", title="Nope")
    assert rec.content == "failed 403 50013"
    assert len(emu.scheduled_events(guild)) == 1


async def test_length_limits_use_discords_error_shape(world: World, bot: TestBot) -> None:
    emu, guild = world.emu, world.guild
    general = emu.channel_by_name(guild, "general")
    assert general is not None
    async with aiohttp.ClientSession(headers={"Authorization": "Bot t"}) as s:
        url = f"{emu.api_base}/channels/{general.id}/messages"
        async with s.post(url, json={"content": "x" * 2001}) as resp:
            assert resp.status == 400
            body = await resp.json()
        assert body["code"] == 50035 and body["message"] == "Invalid Form Body"
        assert body["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"
        embed = {"title": "t" * 257, "fields": [{"name": "n", "value": "v" * 1025}]}
        async with s.post(url, json={"embeds": [embed]}) as resp:
            body = await resp.json()
        assert set(body["errors"]["embeds"]["0"]) == {"title", "fields"}
        async with s.post(url, json={"content": ""}) as resp:
            assert (await resp.json())["code"] == 50006
    rec = await emu.slash(guild, world.alice, "community admin say", length=2001, wait=False)
    await emu.wait_for(lambda: bot.errors)
    assert isinstance(bot.errors[0], discord.HTTPException) and bot.errors[0].code == 50035
    assert rec.response is None
    rec = await emu.slash(guild, world.alice, "community admin say", length=2000)
    assert len(rec.content) == 2000
    dchannel = bot.get_channel(general.id)
    assert isinstance(dchannel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as info:
        await dchannel.send(embed=discord.Embed(description="d" * 4097))
    assert info.value.code == 50035 and "embeds.0.description" in info.value.text


async def test_rate_limit_is_retried_by_the_client(world: World, bot: TestBot) -> None:
    emu, guild = world.emu, world.guild
    general = emu.channel_by_name(guild, "general")
    assert general is not None
    emu.rate_limit("POST", r"^/channels/\d+/messages$", retry_after=0.05, times=1)
    rec = await emu.slash(guild, world.alice, "community post", channel=general, text="hi")
    assert rec.content.startswith("posted ")
    statuses = [r.status for r in emu.calls("POST", r"^/channels/\d+/messages$")]
    assert statuses == [429, 200]


async def test_injected_failure_on_a_route(world: World, bot: TestBot) -> None:
    emu, guild = world.emu, world.guild
    emu.fail_route("POST", r"/roles$", 403, json={"message": "Missing Permissions",
                                                  "code": 50013})
    rec = await emu.slash(guild, world.owner, "community create", name="Carers", kind="practice")
    assert rec.content == "I need the Manage Roles permission (50013)."
    assert emu.role_by_name(guild, "Carers member") is None


async def test_gateway_drop_resumes_and_replays_missed_events(world: World, bot: TestBot) -> None:
    emu, guild = world.emu, world.guild
    general = emu.channel_by_name(guild, "general")
    assert general is not None
    await emu.drop_gateway()
    msg = await emu.post_message(general, world.alice, f"hello {emu.bot_user.mention}")
    await emu.wait_for(lambda: emu.gateway.resume_count == 1)
    seen = await emu.wait_for(lambda: [m for m in bot.seen_messages if m.id == msg.id])
    assert seen[0].content == msg.content  # mentions the bot, so content is visible
    assert emu.gateway.identify_count == 1
    rec = await emu.slash(guild, world.alice, "community info", name="After resume")
    assert rec.embeds[0]["title"] == "After resume"


async def test_invalid_session_makes_the_client_identify_again(
    world: World, bot: TestBot
) -> None:
    emu, guild = world.emu, world.guild
    await emu.invalidate_sessions()
    await emu.wait_for(lambda: emu.gateway.identify_count == 2)
    await emu.wait_for(lambda: bot.get_guild(guild.id))
    rec = await emu.slash(guild, world.alice, "community info", name="Again")
    assert rec.embeds[0]["title"] == "Again"


async def test_message_content_needs_the_intent(world: World, bot: TestBot) -> None:
    emu, guild = world.emu, world.guild
    general = emu.channel_by_name(guild, "general")
    assert general is not None
    plain = await emu.post_message(general, world.alice, "secret chat")
    seen = await emu.wait_for(lambda: [m for m in bot.seen_messages if m.id == plain.id])
    assert seen[0].content == ""
    assert seen[0].author.id == world.alice.id


async def test_privileged_intent_not_granted_fails_fast(emu: DiscordEmulator) -> None:
    emu.create_guild("G")
    intents = hearth_intents()
    intents.message_content = True
    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with run_client(emu, TestBot(intents)):
            pass


async def test_granted_content_intent_shows_content(emu: DiscordEmulator) -> None:
    emu.granted_intents = Intents.MESSAGE_CONTENT | Intents.GUILD_MEMBERS
    owner = emu.create_user("owner")
    guild = emu.create_guild("G", owner=owner)
    general = emu.create_channel(guild, "general")
    intents = hearth_intents()
    intents.message_content = True
    intents.members = True
    async with run_client(emu, TestBot(intents)) as client:
        dguild = client.get_guild(guild.id)
        assert dguild is not None and {m.id for m in dguild.members} == set(guild.members)
        msg = await emu.post_message(general, owner, "visible now")
        seen = await emu.wait_for(lambda: [m for m in client.seen_messages if m.id == msg.id])
        assert seen[0].content == "visible now"
