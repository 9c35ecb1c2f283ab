"""Channels: get/edit/delete, permission overwrites and threads (incl. forum posts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.emulator import limits
from tests.emulator.errors import ApiError, form_error, missing_permissions
from tests.emulator.http_util import json_response, no_content, read_body
from tests.emulator.permissions import P
from tests.emulator.routes_guilds import (
    check_overwrite_grants,
    normalise_channel_name,
    parse_overwrites,
    parse_tags,
)
from tests.emulator.routes_messages import check_send, store_message
from tests.emulator.state import ChannelState, ChannelType, GuildState, Overwrite, snowflake

if TYPE_CHECKING:
    from tests.emulator.server import DiscordEmulator


def thread_delete_payload(channel: ChannelState) -> dict[str, Any]:
    return {"id": str(channel.id), "guild_id": str(channel.guild_id),
            "parent_id": str(channel.parent_id), "type": channel.type}


def setup(r: web.UrlDispatcher, emu: DiscordEmulator, p: str) -> None:
    def channel_from(request: web.Request) -> ChannelState:
        return emu.get_channel(request.match_info["channel_id"])

    async def get_channel(request: web.Request) -> web.Response:
        channel = channel_from(request)
        guild = emu.guild_of(channel)
        if guild is not None:
            emu.require_view(guild, channel)
        return json_response(channel.payload())

    def require_thread_manage(guild: GuildState, channel: ChannelState) -> None:
        perms = emu.bot_permissions(guild, channel)
        if not perms & P.VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        if not perms & P.MANAGE_THREADS and channel.owner_id != emu.bot_user.id:
            raise missing_permissions()

    async def patch_channel(request: web.Request) -> web.Response:
        channel = channel_from(request)
        guild = emu.check_not_dm(channel)
        body = (await read_body(request)).json
        if channel.is_thread:
            require_thread_manage(guild, channel)
            parent = guild.channels.get(channel.parent_id or 0)
            if "name" in body:
                limits.check_name(body["name"])
                channel.name = body["name"]
            for key in ("archived", "locked"):
                if key in body and body[key] is not None:
                    setattr(channel, key, bool(body[key]))
            if "applied_tags" in body:
                channel.applied_tags = check_applied_tags(parent, body["applied_tags"])
            emu.dispatch("THREAD_UPDATE", channel.payload(), guild_id=guild.id)
            return json_response(channel.payload())
        emu.require(guild, P.MANAGE_CHANNELS, channel)
        if "permission_overwrites" in body:
            emu.require(guild, P.MANAGE_ROLES, channel)
            overwrites = parse_overwrites(guild, body["permission_overwrites"])
            old = emu.overwrites(channel)
            changed = [o for o in overwrites
                       if (old.get(o.id) is None
                           or (old[o.id].allow, old[o.id].deny) != (o.allow, o.deny))]
            check_overwrite_grants(emu, guild, changed, channel)
            channel.overwrites = overwrites
        if "name" in body:
            limits.check_name(body["name"])
            channel.name = normalise_channel_name(body["name"], channel.type)
        if "topic" in body:
            if body["topic"] is not None:
                limits.check_name(body["topic"], "topic", 1024 if channel.type != 15 else 4096, 0)
            channel.topic = body["topic"]
        if "position" in body and body["position"] is not None:
            channel.position = int(body["position"])
        if "nsfw" in body:
            channel.nsfw = bool(body["nsfw"])
        if "parent_id" in body:
            pid = body["parent_id"]
            if pid is not None:
                parent = guild.channels.get(int(pid))
                if parent is None or parent.type != ChannelType.CATEGORY:
                    raise form_error(["parent_id"], "CHANNEL_PARENT_INVALID", "Not a category")
                emu.require(guild, P.MANAGE_CHANNELS, parent)
            channel.parent_id = int(pid) if pid else None
            if body.get("lock_permissions") and channel.parent_id:
                parent = guild.channels[channel.parent_id]
                channel.overwrites = [Overwrite(o.id, o.type, o.allow, o.deny)
                                      for o in parent.overwrites]
        if "available_tags" in body and channel.type == ChannelType.FORUM:
            channel.available_tags = parse_tags(body["available_tags"], channel.available_tags)
        if "rate_limit_per_user" in body:
            channel.rate_limit_per_user = int(body["rate_limit_per_user"] or 0)
        emu.dispatch_channel("CHANNEL_UPDATE", channel)
        return json_response(channel.payload())

    async def delete_channel(request: web.Request) -> web.Response:
        channel = channel_from(request)
        guild = emu.check_not_dm(channel)
        if channel.is_thread:
            require_thread_manage(guild, channel)
            if not emu.bot_permissions(guild, channel) & P.MANAGE_THREADS:
                raise missing_permissions()
            del guild.channels[channel.id]
            del emu.channels[channel.id]
            emu.dispatch("THREAD_DELETE", thread_delete_payload(channel), guild_id=guild.id)
            return json_response(channel.payload())
        emu.require(guild, P.MANAGE_CHANNELS, channel)
        del guild.channels[channel.id]
        del emu.channels[channel.id]
        for thread in [c for c in guild.channels.values() if c.parent_id == channel.id]:
            if thread.is_thread:
                del guild.channels[thread.id]
                del emu.channels[thread.id]
            else:
                thread.parent_id = None
                emu.dispatch_channel("CHANNEL_UPDATE", thread)
        emu.dispatch_channel("CHANNEL_DELETE", channel)
        return json_response(channel.payload())

    async def put_permission(request: web.Request) -> web.Response:
        channel = channel_from(request)
        guild = emu.check_not_dm(channel)
        body = (await read_body(request)).json
        emu.require(guild, P.MANAGE_ROLES, channel)
        target = int(request.match_info["target"])
        otype = int(body.get("type", 0))
        ow = parse_overwrites(guild, [{"id": target, "type": otype, "allow": body.get("allow"),
                                       "deny": body.get("deny")}])[0]
        check_overwrite_grants(emu, guild, [ow], channel)
        channel.overwrites = [o for o in channel.overwrites if o.id != target] + [ow]
        emu.dispatch_channel("CHANNEL_UPDATE", channel)
        return no_content()

    async def delete_permission(request: web.Request) -> web.Response:
        channel = channel_from(request)
        guild = emu.check_not_dm(channel)
        emu.require(guild, P.MANAGE_ROLES, channel)
        target = int(request.match_info["target"])
        channel.overwrites = [o for o in channel.overwrites if o.id != target]
        emu.dispatch_channel("CHANNEL_UPDATE", channel)
        return no_content()

    def check_applied_tags(parent: ChannelState | None, raw: list[Any] | None) -> list[int]:
        tags = [int(t) for t in raw or []]
        if len(tags) > 5:
            raise form_error(["applied_tags"], "BASE_TYPE_MAX_LENGTH",
                             "Must be 5 or fewer in length.")
        valid = {t.id for t in parent.available_tags} if parent else set()
        for i, t in enumerate(tags):
            if t not in valid:
                raise form_error(["applied_tags", i], "UNKNOWN_TAG", "Unknown tag")
        return tags

    async def create_thread(request: web.Request) -> web.Response:
        parent = channel_from(request)
        guild = emu.check_not_dm(parent)
        body = await read_body(request)
        data = body.json
        limits.check_name(data.get("name"))
        if parent.type == ChannelType.FORUM:
            emu.require(guild, P.SEND_MESSAGES, parent)
            message = data.get("message")
            if not message:
                raise form_error(["message"], "BASE_TYPE_REQUIRED", "This field is required")
            limits.check_message(message, ["message"])
            tags = check_applied_tags(parent, data.get("applied_tags"))
            thread = ChannelState(
                id=snowflake(), type=ChannelType.PUBLIC_THREAD, name=data["name"],
                guild_id=guild.id, parent_id=parent.id, owner_id=emu.bot_user.id,
                applied_tags=tags,
                auto_archive_duration=int(data.get("auto_archive_duration") or 4320),
            )
        elif parent.type in (ChannelType.TEXT, ChannelType.NEWS):
            ttype = int(data.get("type") or ChannelType.PRIVATE_THREAD)
            need = P.CREATE_PUBLIC_THREADS if ttype == 11 else P.CREATE_PRIVATE_THREADS
            emu.require(guild, need, parent)
            thread = ChannelState(
                id=snowflake(), type=ttype, name=data["name"], guild_id=guild.id,
                parent_id=parent.id, owner_id=emu.bot_user.id,
            )
            message = None
        else:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        emu.add_channel(guild, thread)
        payload = thread.payload()
        emu.dispatch("THREAD_CREATE", {**payload, "newly_created": True}, guild_id=guild.id)
        if message is not None:
            check_send(emu, thread, message, body.files)
            # the starter message of a forum post shares the thread's id
            msg = store_message(emu, thread, emu.bot_user, message, body.files,
                                message_id=thread.id)
            emu.dispatch_message("MESSAGE_CREATE", msg)
            payload["message"] = emu.message_payload(msg)
        return json_response(payload, 201)

    async def thread_from_message(request: web.Request) -> web.Response:
        parent = channel_from(request)
        guild = emu.check_not_dm(parent)
        data = (await read_body(request)).json
        limits.check_name(data.get("name"))
        emu.require(guild, P.CREATE_PUBLIC_THREADS, parent)
        source = emu.get_message(parent, request.match_info["message_id"])
        thread = ChannelState(id=source.id, type=ChannelType.PUBLIC_THREAD, name=data["name"],
                              guild_id=guild.id, parent_id=parent.id, owner_id=emu.bot_user.id)
        if thread.id in emu.channels:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        emu.add_channel(guild, thread)
        emu.dispatch("THREAD_CREATE", {**thread.payload(), "newly_created": True},
                     guild_id=guild.id)
        return json_response(thread.payload(), 201)

    async def active_threads(request: web.Request) -> web.Response:
        guild = emu.get_guild(request.match_info["guild_id"])
        threads = [c for c in guild.channels.values() if c.is_thread and not c.archived]
        return json_response({"threads": [t.payload() for t in threads], "members": []})

    async def join_thread(request: web.Request) -> web.Response:
        channel_from(request)
        return no_content()

    c = f"{p}/channels/{{channel_id:\\d+}}"
    r.add_get(c, get_channel)
    r.add_patch(c, patch_channel)
    r.add_delete(c, delete_channel)
    r.add_put(f"{c}/permissions/{{target:\\d+}}", put_permission)
    r.add_delete(f"{c}/permissions/{{target:\\d+}}", delete_permission)
    r.add_post(f"{c}/threads", create_thread)
    r.add_post(f"{c}/messages/{{message_id:\\d+}}/threads", thread_from_message)
    r.add_put(f"{c}/thread-members/@me", join_thread)
    r.add_get(f"{p}/guilds/{{guild_id:\\d+}}/threads/active", active_threads)
