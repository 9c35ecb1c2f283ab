"""fail_route(after=N): let N matching calls through, then fail (e.g. "the 3rd channel")."""

from __future__ import annotations

import aiohttp

from tests.emulator.server import DiscordEmulator


async def test_fail_route_after_lets_earlier_calls_through() -> None:
    async with DiscordEmulator() as emu:
        guild = emu.create_guild("Charity")
        emu.fail_route(
            "POST", r"^/guilds/\d+/channels$", 403, after=2,
            json={"message": "Missing Permissions", "code": 50013},
        )
        statuses = []
        async with aiohttp.ClientSession(headers={"Authorization": "Bot x"}) as http:
            for n in range(4):
                async with http.post(
                    f"{emu.api_base}/guilds/{guild.id}/channels", json={"name": f"c{n}", "type": 0}
                ) as resp:
                    statuses.append(resp.status)
                    if resp.status == 403:
                        assert (await resp.json())["code"] == 50013
        assert statuses == [201, 201, 403, 201]
        assert sorted(c.name or "" for c in emu.channels_in(guild)) == ["c0", "c1", "c3"]
