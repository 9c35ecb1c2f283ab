"""Message nonces as Discord handles them on POST /channels/{id}/messages.

Discord: "enforce_nonce: if true and nonce is present, it will be checked for uniqueness in
the past few minutes; if another message was created by the same author with the same nonce,
that message will be returned and no new message will be created". A nonce is an integer or
a string of at most 25 characters. discord.py 2.7 sends ``enforce_nonce: true`` with every
nonce (``handle_message_parameters``), so these tests drive the real ``send`` where they can
and a raw route only to send a nonce *without* enforcement.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import pytest

from tests.emulator.server import DiscordEmulator
from tests.emulator.state import ChannelState
from tests.emulator_tests.bot_under_test import TestBot
from tests.emulator_tests.conftest import World

pytestmark = pytest.mark.e2e


def general(world: World) -> ChannelState:
    channel = world.emu.channel_by_name(world.guild, "general")
    assert channel is not None
    return channel


def text_channel(bot: TestBot, world: World) -> discord.TextChannel:
    channel = bot.get_channel(general(world).id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_discord_py_sends_enforce_nonce_with_every_nonce(world: World, bot: TestBot) -> None:
    await text_channel(bot, world).send("hello", nonce="hearth-1")
    [call] = world.emu.calls("POST", r"^/channels/\d+/messages$")
    assert call.json is not None
    assert call.json["nonce"] == "hearth-1" and call.json["enforce_nonce"] is True


async def test_same_nonce_returns_the_existing_message_and_creates_none(
    world: World, bot: TestBot
) -> None:
    channel = text_channel(bot, world)
    first = await channel.send("Reminder: tomorrow", nonce="abc")
    again = await channel.send("Reminder: in 20 hours", nonce="abc")
    assert again.id == first.id
    assert again.content == "Reminder: tomorrow", "the existing message, not the new body"
    assert again.nonce == "abc"
    assert [m.content for m in world.emu.messages_in(general(world))] == ["Reminder: tomorrow"]
    other = await channel.send("Reminder: tomorrow", nonce="abd")
    assert other.id != first.id
    # The gateway keeps order: once the last message's event is in, every earlier one is.
    await world.emu.wait_for(lambda: any(m.id == other.id for m in bot.seen_messages))
    assert [(m.id, m.nonce) for m in bot.seen_messages] == [(first.id, "abc"), (other.id, "abd")]


async def test_nonce_is_per_author_not_per_channel(world: World, bot: TestBot) -> None:
    """Discord checks the author and the nonce: a DM with a nonce already used in a channel
    returns the channel's message (Hearth's keys name the destination to avoid this)."""
    first = await text_channel(bot, world).send("in a channel", nonce="shared")
    alice = await bot.fetch_user(world.alice.id)
    again = await alice.send("in a DM", nonce="shared")
    assert again.id == first.id
    assert world.emu.dms_to(world.alice) == []


async def test_nonce_is_remembered_only_for_the_window(world: World, bot: TestBot) -> None:
    emu = world.emu
    now = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
    emu.clock = lambda: now
    channel = text_channel(bot, world)
    first = await channel.send("one", nonce="window")
    now += emu.nonce_window
    assert (await channel.send("two", nonce="window")).id == first.id, "still within it"
    now += timedelta(seconds=1)
    later = await channel.send("three", nonce="window")
    assert later.id != first.id
    assert [m.content for m in emu.messages_in(general(world))] == ["one", "three"]


async def test_without_enforce_nonce_a_repeated_nonce_creates_another_message(
    world: World, bot: TestBot
) -> None:
    route = discord.http.Route("POST", "/channels/{channel_id}/messages",
                               channel_id=general(world).id)
    a = await bot.http.request(route, json={"content": "a", "nonce": "loose"})
    b = await bot.http.request(route, json={"content": "b", "nonce": "loose"})
    assert a["id"] != b["id"] and b["nonce"] == "loose"
    # ...but a later enforced send with that nonce finds the newest one
    c = await bot.http.request(
        route, json={"content": "c", "nonce": "loose", "enforce_nonce": True}
    )
    assert c["id"] == b["id"]
    assert [m.content for m in world.emu.messages_in(general(world))] == ["a", "b"]


async def test_nonce_longer_than_25_characters_is_refused(world: World, bot: TestBot) -> None:
    channel = text_channel(bot, world)
    with pytest.raises(discord.HTTPException) as err:
        await channel.send("too long", nonce="x" * 26)
    assert err.value.status == 400 and err.value.code == 50035
    assert "nonce" in err.value.text
    assert world.emu.messages_in(general(world)) == []
    await channel.send("just right", nonce="x" * 25)
    route = discord.http.Route("POST", "/channels/{channel_id}/messages",
                               channel_id=general(world).id)
    with pytest.raises(discord.HTTPException) as err:
        await bot.http.request(route, json={"content": "odd", "nonce": {"a": 1}})
    assert err.value.code == 50035
    # an integer nonce is fine and compares as its text
    d = await bot.http.request(route, json={"content": "int", "nonce": 12345})
    e = await channel.send("str", nonce="12345")
    assert e.id == int(d["id"])


async def test_nonce_of_a_deleted_message_is_not_found(world: World, bot: TestBot) -> None:
    channel = text_channel(bot, world)
    first = await channel.send("soon gone", nonce="gone")
    await first.delete()
    with pytest.raises(discord.NotFound):
        await channel.send("again", nonce="gone")


async def _post(emu: DiscordEmulator, channel_id: int, body: dict[str, Any]) -> int:
    async with aiohttp.ClientSession(headers={"Authorization": "Bot x"}) as http, http.post(
        f"{emu.api_base}/channels/{channel_id}/messages", json=body
    ) as resp:
        return resp.status


@pytest.mark.parametrize("land", [True, False])
async def test_pause_route_holds_a_call_until_released(world: World, land: bool) -> None:
    """A crash test holds the bot's send, kills the bot, then lets it land or not."""
    emu, channel = world.emu, general(world)
    pause = emu.pause_route(
        "POST", r"^/channels/\d+/messages$", when=lambda body: (body or {}).get("content") == "b"
    )
    assert await _post(emu, channel.id, {"content": "a"}) == 200, "not matched: not held"
    task = asyncio.create_task(_post(emu, channel.id, {"content": "b", "nonce": "n"}))
    await asyncio.wait_for(pause.reached.wait(), 5)
    assert [m.content for m in emu.messages_in(channel)] == ["a"], "held: nothing done yet"
    pause.release(land=land)
    assert await task == (200 if land else 503)
    assert [m.content for m in emu.messages_in(channel)] == (["a", "b"] if land else ["a"])
    assert await _post(emu, channel.id, {"content": "b"}) == 200, "one call only"
