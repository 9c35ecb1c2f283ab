"""Gateway discovery, users, application info and DM channels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from tests.emulator.http_util import json_response, read_body
from tests.emulator.state import ChannelState, ChannelType, snowflake

if TYPE_CHECKING:
    from tests.emulator.server import DiscordEmulator


def setup(r: web.UrlDispatcher, emu: DiscordEmulator, p: str) -> None:
    async def gateway_bot(request: web.Request) -> web.Response:
        return json_response({
            "url": emu.gateway_url,
            "shards": emu.shard_count,
            "session_start_limit": {
                "total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1,
            },
        })

    async def gateway(request: web.Request) -> web.Response:
        return json_response({"url": emu.gateway_url})

    async def me(request: web.Request) -> web.Response:
        data = emu.bot_user.payload()
        data.update(verified=True, mfa_enabled=False, email=None, locale="en-GB")
        return json_response(data)

    async def app_info(request: web.Request) -> web.Response:
        owner = next((u for u in emu.users.values() if not u.bot), emu.bot_user)
        return json_response({
            "id": str(emu.application_id),
            "name": emu.bot_user.name,
            "icon": None,
            "description": "Hearth test application",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": owner.payload(),
            "team": None,
            "verify_key": "0" * 64,
            "flags": emu.application_flags,
            "bot": emu.bot_user.payload(),
            "tags": [],
            "approximate_guild_count": len(emu.guilds),
        })

    async def my_guilds(request: web.Request) -> web.Response:
        """The bot's servers as Discord lists them: partial guilds with its permissions."""
        return json_response([
            {
                "id": str(g.id), "name": g.name, "icon": None, "banner": None,
                "owner": g.owner_id == emu.bot_user.id, "features": list(g.features),
                "permissions": str(emu.bot_permissions(g)),
            }
            for g in emu.guilds.values() if emu.bot_user.id in g.members
        ])

    async def get_user(request: web.Request) -> web.Response:
        return json_response(emu.get_user(request.match_info["user_id"]).payload())

    async def open_dm(request: web.Request) -> web.Response:
        body = await read_body(request)
        user = emu.get_user(str(body.json.get("recipient_id")))
        channel = emu.dm_channel(user)
        if channel is None:
            channel = ChannelState(id=snowflake(), type=ChannelType.DM, name=None,
                                   recipients=[user])
            emu.add_channel(None, channel)
        return json_response(channel.payload())

    r.add_get(f"{p}/gateway/bot", gateway_bot)
    r.add_get(f"{p}/gateway", gateway)
    r.add_get(f"{p}/users/@me", me)
    r.add_get(f"{p}/oauth2/applications/@me", app_info)
    r.add_get(f"{p}/applications/@me", app_info)
    r.add_get(f"{p}/users/@me/guilds", my_guilds)
    r.add_post(f"{p}/users/@me/channels", open_dm)
    r.add_get(f"{p}/users/{{user_id:\\d+}}", get_user)
