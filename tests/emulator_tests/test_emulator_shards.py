"""The emulator shards as Discord does: the recommended count, guilds and events routed to the
session of their shard, DMs on shard 0, IDENTIFY refused with 4010 / 4011."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.emulator.gateway import GatewaySession
from tests.emulator.harness import run_client
from tests.emulator.server import DiscordEmulator
from tests.emulator.state import ChannelState, ChannelType, snowflake

pytestmark = pytest.mark.e2e


@pytest.fixture
async def emu2() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(shard_count=2) as emulator:
        yield emulator


async def identify(emu: DiscordEmulator, shard: Any) -> tuple[int | None, dict[str, Any] | None]:
    """IDENTIFY over a raw websocket: (close code, None) if refused, else (None, READY's d)."""
    async with aiohttp.ClientSession() as http, http.ws_connect(emu.gateway_url) as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["op"] == 10
        d: dict[str, Any] = {"token": "emulator-token", "intents": 1, "properties": {}}
        if shard is not None:
            d["shard"] = shard
        await ws.send_str(json.dumps({"op": 2, "d": d}))
        msg = await ws.receive(timeout=5)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return ws.close_code or int(msg.data), None
        frame = json.loads(msg.data)
        assert frame["t"] == "READY"
        return None, frame["d"]


def session_of(emu: DiscordEmulator, shard_id: int) -> GatewaySession:
    return next(s for s in emu.sessions if s.shard[0] == shard_id)


def events(session: GatewaySession, name: str) -> list[dict[str, Any]]:
    return [f["d"] for f in session.sent if f["t"] == name]


async def test_gateway_bot_recommends_the_configured_shard_count(emu2: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as http, http.get(
        f"{emu2.api_base}/gateway/bot", headers={"Authorization": "Bot x"}
    ) as resp:
        assert (await resp.json())["shards"] == 2


async def test_a_guild_made_for_a_shard_is_on_it(emu2: DiscordEmulator) -> None:
    for shard in (0, 1, 0, 1):
        guild = emu2.create_guild(f"g{shard}", shard=shard)
        assert (guild.id >> 22) % 2 == shard
    with pytest.raises(ValueError, match=r"not one of 0\.\.1"):
        emu2.create_guild("nowhere", shard=2)


@pytest.mark.parametrize(
    ("shard", "code"),
    [
        ([2, 2], 4010),  # id outside 0..total-1
        ([-1, 2], 4010),
        ([0, 0], 4010),  # no shards at all
        (["0", 2], 4010),  # not integers
        ([0], 4010),
        ([0, 1], 4011),  # fewer shards than Discord requires: too many guilds per session
        (None, 4011),  # no shard at all is [0, 1]
    ],
)
async def test_identify_with_an_invalid_shard_is_refused(
    emu2: DiscordEmulator, shard: Any, code: int
) -> None:
    closed, ready = await identify(emu2, shard)
    assert (closed, ready) == (code, None)
    assert emu2.sessions == []


async def test_over_sharding_is_accepted_and_routes_by_the_sessions_own_total(
    emu2: DiscordEmulator,
) -> None:
    on = [emu2.create_guild(f"g{i}") for i in range(6)]
    closed, ready = await identify(emu2, [1, 3])
    assert closed is None and ready is not None
    assert ready["shard"] == [1, 3]
    assert {int(g["id"]) for g in ready["guilds"]} == {g.id for g in on if (g.id >> 22) % 3 == 1}


async def test_each_shard_gets_only_its_guilds_and_their_events(emu2: DiscordEmulator) -> None:
    g0 = emu2.create_guild("Zero", shard=0)
    g1 = emu2.create_guild("One", shard=1)
    user = emu2.create_user("alice")
    zero = discord.Client(intents=discord.Intents.default(), shard_id=0, shard_count=2)
    one = discord.Client(intents=discord.Intents.default(), shard_id=1, shard_count=2)
    async with run_client(emu2, zero), run_client(emu2, one):
        assert [g.id for g in zero.guilds] == [g0.id]
        assert [g.id for g in one.guilds] == [g1.id]
        s0, s1 = session_of(emu2, 0), session_of(emu2, 1)
        assert [int(g["id"]) for g in events(s0, "READY")[0]["guilds"]] == [g0.id]
        assert [int(g["id"]) for g in events(s1, "GUILD_CREATE")] == [g1.id]

        # A guild event goes to its shard's session only.
        emu2.create_channel(g1, "news")
        await emu2.wait_for(lambda: one.get_guild(g1.id) and one.get_guild(g1.id).channels)  # type: ignore[union-attr]
        assert events(s0, "CHANNEL_CREATE") == []
        assert len(events(s1, "CHANNEL_CREATE")) == 1

        # A guild joined later: GUILD_CREATE to its shard only.
        joined = emu2.create_guild("Later", shard=0)
        await emu2.wait_for(lambda: zero.get_guild(joined.id))
        assert one.get_guild(joined.id) is None
        assert [int(g["id"]) for g in events(s1, "GUILD_CREATE")] == [g1.id]

        # A DM reaches shard 0 only, as on Discord.
        dm = ChannelState(id=snowflake(), type=ChannelType.DM, name="", recipients=[user])
        emu2.add_channel(None, dm)
        await emu2.post_message(dm, user, "hello")
        assert len(events(s0, "MESSAGE_CREATE")) == 1
        assert events(s1, "MESSAGE_CREATE") == []


async def test_an_interaction_goes_to_the_session_of_its_guild(emu2: DiscordEmulator) -> None:
    g0 = emu2.create_guild("Zero", shard=0)
    g1 = emu2.create_guild("One", shard=1)

    def client(shard_id: int) -> discord.Client:
        c = discord.Client(intents=discord.Intents.default(), shard_id=shard_id, shard_count=2)
        tree = discord.app_commands.CommandTree(c)

        @tree.command(name="which", description="Which shard answers")
        async def which(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_message(f"shard {shard_id}")

        c.tree = tree  # type: ignore[attr-defined]
        return c

    zero, one = client(0), client(1)
    async with run_client(emu2, zero), run_client(emu2, one):
        await zero.tree.sync()  # type: ignore[attr-defined]
        for guild, shard_id in ((g0, 0), (g1, 1), (g0, 0)):
            owner = emu2.users[guild.owner_id]
            rec = await emu2.slash(guild, owner, "which")
            assert rec.content == f"shard {shard_id}"
