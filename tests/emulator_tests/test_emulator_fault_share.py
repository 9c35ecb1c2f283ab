"""fail_route(every=N) fails a share of matching calls; request_hooks see each finished call."""

from __future__ import annotations

import aiohttp

from tests.emulator.server import DiscordEmulator, RequestLog


async def test_every_nth_matching_call_fails_and_hooks_see_each_call() -> None:
    async with DiscordEmulator() as emu:
        guild = emu.create_guild("Charity")
        rule = emu.rate_limit("POST", r"^/guilds/\d+/channels$", retry_after=0.01, times=2,
                              every=3)
        seen: list[tuple[str, int]] = []

        def hook(entry: RequestLog) -> None:
            seen.append((entry.method, entry.status))

        emu.request_hooks.append(hook)
        statuses = []
        async with aiohttp.ClientSession(headers={"Authorization": "Bot x"}) as http:
            for n in range(9):
                async with http.post(
                    f"{emu.api_base}/guilds/{guild.id}/channels", json={"name": f"c{n}", "type": 0}
                ) as resp:
                    statuses.append(resp.status)
                    if resp.status == 429:
                        body = await resp.json()
                        assert body["retry_after"] == 0.01 and body["global"] is False
        # one in three, until `times` failures were spent
        assert statuses == [201, 201, 429, 201, 201, 429, 201, 201, 201]
        assert rule.times == 0
        assert seen == [("POST", s) for s in statuses]
        assert len(emu.channels_in(guild)) == 7
