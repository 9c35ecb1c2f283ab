"""Guilds: channels, members, roles and scheduled events, with Discord's permission rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.emulator import limits
from tests.emulator.errors import ApiError, form_error, missing_permissions, unknown
from tests.emulator.http_util import json_response, no_content, read_body
from tests.emulator.permissions import P, top_position
from tests.emulator.state import (
    ChannelState,
    ChannelType,
    ForumTag,
    GuildState,
    MemberState,
    Overwrite,
    RoleState,
    ScheduledEventState,
    snowflake,
)

if TYPE_CHECKING:
    from tests.emulator.server import DiscordEmulator

VALID_CREATE_TYPES = (0, 2, 4, 5, 13, 14, 15, 16)


def normalise_channel_name(name: str, ctype: int) -> str:
    """Discord lower-cases text-like channel names and turns spaces into dashes."""
    if ctype in (ChannelType.TEXT, ChannelType.NEWS, ChannelType.FORUM):
        return re.sub(r"\s+", "-", name.strip().lower())
    return name


def check_overwrite_grants(
    emu: DiscordEmulator, guild: GuildState, overwrites: list[Overwrite],
    channel: ChannelState | None = None,
) -> None:
    """The bot may only allow/deny what it has itself; MANAGE_ROLES only as administrator."""
    bot_base = emu.bot_permissions(guild)
    if bot_base & P.ADMINISTRATOR:
        return
    have = bot_base
    if channel is not None:
        have |= emu.bot_permissions(guild, channel)
        mine = emu.overwrites(channel).get(emu.bot_user.id)
        bot_roles = set(emu.bot_member(guild).roles)
        if (mine and mine.allow & P.MANAGE_ROLES) or any(
            o.id in bot_roles and o.allow & P.MANAGE_ROLES for o in channel.overwrites
        ):
            return
    for ow in overwrites:
        touched = ow.allow | ow.deny
        if touched & P.MANAGE_ROLES or touched & ~have:
            raise missing_permissions()


def parse_overwrites(guild: GuildState, raw: list[dict[str, Any]] | None) -> list[Overwrite]:
    result = []
    for i, o in enumerate(raw or []):
        oid = int(o["id"])
        otype = int(o.get("type", 0))
        if otype == 0 and oid not in guild.roles:
            raise form_error(["permission_overwrites", i, "id"], "UNKNOWN_ROLE", "Unknown role")
        if otype == 1 and oid not in guild.members:
            raise form_error(["permission_overwrites", i, "id"], "UNKNOWN_USER", "Unknown user")
        result.append(Overwrite(id=oid, type=otype, allow=int(o.get("allow") or 0),
                                deny=int(o.get("deny") or 0)))
    return result


def parse_tags(raw: list[dict[str, Any]] | None, existing: list[ForumTag] | None = None
               ) -> list[ForumTag]:
    raw = raw or []
    if len(raw) > 20:
        raise form_error(["available_tags"], "BASE_TYPE_MAX_LENGTH",
                         "Must be 20 or fewer in length.")
    old = {t.id: t for t in existing or []}
    tags = []
    for i, t in enumerate(raw):
        name = t.get("name") or ""
        if not 1 <= len(name) <= 20:
            raise form_error(["available_tags", i, "name"], "BASE_TYPE_BAD_LENGTH",
                             "Must be between 1 and 20 in length.")
        tid = int(t["id"]) if t.get("id") and int(t["id"]) in old else snowflake()
        tags.append(ForumTag(id=tid, name=name, moderated=bool(t.get("moderated")),
                             emoji_name=t.get("emoji_name")))
    return tags


def check_role_manageable(emu: DiscordEmulator, guild: GuildState, role: RoleState) -> None:
    emu.require(guild, P.MANAGE_ROLES)
    if role.position >= top_position(guild, emu.bot_member(guild)):
        raise missing_permissions()


def parse_time(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise form_error([field], "DATE_TIME_TYPE_PARSE", "Could not parse date") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def setup(r: web.UrlDispatcher, emu: DiscordEmulator, p: str) -> None:
    def guild_from(request: web.Request) -> GuildState:
        return emu.get_guild(request.match_info["guild_id"])

    # -- guild ---------------------------------------------------------------------------------

    async def get_guild(request: web.Request) -> web.Response:
        guild = guild_from(request)
        data = guild.payload()
        data["approximate_member_count"] = len(guild.members)
        return json_response(data)

    async def list_channels(request: web.Request) -> web.Response:
        guild = guild_from(request)
        return json_response([c.payload() for c in guild.channels.values() if not c.is_thread])

    async def create_channel(request: web.Request) -> web.Response:
        guild = guild_from(request)
        body = (await read_body(request)).json
        ctype = int(body.get("type") or 0)
        if ctype not in VALID_CREATE_TYPES:
            raise form_error(["type"], "BASE_TYPE_CHOICES",
                             "Value must be one of {0, 2, 4, 5, 13, 14, 15, 16}.")
        name = str(body.get("name") or "")
        limits.check_name(name)
        parent = None
        if body.get("parent_id"):
            parent = guild.channels.get(int(body["parent_id"]))
            if (parent is None or parent.type != ChannelType.CATEGORY
                    or ctype == ChannelType.CATEGORY):
                raise form_error(["parent_id"], "CHANNEL_PARENT_INVALID", "Not a category")
        emu.require(guild, P.MANAGE_CHANNELS, parent)
        overwrites = parse_overwrites(guild, body.get("permission_overwrites"))
        if overwrites:
            check_overwrite_grants(emu, guild, overwrites)
        if ctype in (ChannelType.FORUM, ChannelType.STAGE) and not guild.forums_allowed:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if len([c for c in guild.channels.values() if not c.is_thread]) >= guild.max_channels:
            raise ApiError(400, 30013, "Maximum number of guild channels reached (500)")
        if body.get("topic") is not None:
            limits.check_name(body["topic"], "topic", 1024 if ctype != 15 else 4096, 0)
        channel = ChannelState(
            id=snowflake(), type=ctype, name=normalise_channel_name(name, ctype),
            guild_id=guild.id, parent_id=parent.id if parent else None,
            position=int(body.get("position") or len(guild.channels)),
            topic=body.get("topic"), nsfw=bool(body.get("nsfw")), overwrites=overwrites,
            available_tags=parse_tags(body.get("available_tags")) if ctype == 15 else [],
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
        )
        if parent is not None and not overwrites:
            # Discord syncs a child created without overwrites with its category
            channel.overwrites = [Overwrite(o.id, o.type, o.allow, o.deny)
                                  for o in parent.overwrites]
        emu.add_channel(guild, channel)
        emu.dispatch_channel("CHANNEL_CREATE", channel)
        return json_response(channel.payload(), 201)

    async def move_channels(request: web.Request) -> web.Response:
        guild = guild_from(request)
        emu.require(guild, P.MANAGE_CHANNELS)
        body = (await read_body(request)).json
        for item in body.get("__list__", []):
            channel = guild.channels.get(int(item["id"]))
            if channel is None:
                raise unknown("Channel")
            if "position" in item and item["position"] is not None:
                channel.position = int(item["position"])
            if item.get("parent_id") is not None:
                channel.parent_id = int(item["parent_id"])
            emu.dispatch_channel("CHANNEL_UPDATE", channel)
        return no_content()

    # -- members -------------------------------------------------------------------------------

    async def get_member(request: web.Request) -> web.Response:
        guild = guild_from(request)
        return json_response(emu.get_member(guild, request.match_info["user_id"]).payload())

    async def list_members(request: web.Request) -> web.Response:
        guild = guild_from(request)
        if not emu.granted_intents & 2:
            raise ApiError(403, 50001, "Missing Access")
        limit = int(request.query.get("limit", 1))
        after = int(request.query.get("after", 0))
        members = sorted(guild.members.values(), key=lambda m: m.user.id)
        members = [m for m in members if m.user.id > after][:limit]
        return json_response([m.payload() for m in members])

    def check_member_manageable(guild: GuildState, member: MemberState) -> None:
        if member.user.id == guild.owner_id:
            raise missing_permissions()
        if member.user.id != emu.bot_user.id and top_position(guild, member) >= top_position(
            guild, emu.bot_member(guild)
        ):
            raise missing_permissions()

    async def patch_member(request: web.Request) -> web.Response:
        guild = guild_from(request)
        member = emu.get_member(guild, request.match_info["user_id"])
        body = (await read_body(request)).json
        if "nick" in body:
            emu.require(guild, P.MANAGE_NICKNAMES if member.user.id != emu.bot_user.id else 0)
            if member.user.id != emu.bot_user.id:
                check_member_manageable(guild, member)
            if body["nick"] is not None:
                limits.check_name(body["nick"], "nick", 32, 1)
            member.nick = body["nick"] or None
        if "roles" in body:
            new = [int(x) for x in body["roles"] or []]
            for rid in new:
                if rid not in guild.roles:
                    raise form_error(["roles"], "UNKNOWN_ROLE", "Unknown role")
            changed = set(new) ^ set(member.roles)
            for rid in changed:
                role = guild.roles[rid]
                check_role_manageable(emu, guild, role)
                if role.managed:
                    raise missing_permissions()
            member.roles = new
        emu.dispatch_member_update(guild, member)
        return json_response(member.payload())

    async def add_member_role(request: web.Request) -> web.Response:
        guild = guild_from(request)
        member = emu.get_member(guild, request.match_info["user_id"])
        role = guild.roles.get(int(request.match_info["role_id"]))
        if role is None:
            raise unknown("Role")
        check_role_manageable(emu, guild, role)
        if role.managed or role.id == guild.id:
            raise missing_permissions()
        if role.id not in member.roles:
            member.roles.append(role.id)
            emu.dispatch_member_update(guild, member)
        return no_content()

    async def remove_member_role(request: web.Request) -> web.Response:
        guild = guild_from(request)
        member = emu.get_member(guild, request.match_info["user_id"])
        role = guild.roles.get(int(request.match_info["role_id"]))
        if role is None:
            raise unknown("Role")
        check_role_manageable(emu, guild, role)
        if role.managed:
            raise missing_permissions()
        if role.id in member.roles:
            member.roles.remove(role.id)
            emu.dispatch_member_update(guild, member)
        return no_content()

    async def kick_member(request: web.Request) -> web.Response:
        guild = guild_from(request)
        member = emu.get_member(guild, request.match_info["user_id"])
        emu.require(guild, P.KICK_MEMBERS)
        check_member_manageable(guild, member)
        del guild.members[member.user.id]
        emu.dispatch("GUILD_MEMBER_REMOVE", {"guild_id": str(guild.id),
                                             "user": member.user.payload()}, guild_id=guild.id)
        return no_content()

    # -- roles ---------------------------------------------------------------------------------

    async def list_roles(request: web.Request) -> web.Response:
        guild = guild_from(request)
        return json_response([r.payload() for r in guild.roles.values()])

    async def get_role(request: web.Request) -> web.Response:
        guild = guild_from(request)
        role = guild.roles.get(int(request.match_info["role_id"]))
        if role is None:
            raise unknown("Role")
        return json_response(role.payload())

    def check_role_permissions(guild: GuildState, perms: int) -> None:
        have = emu.bot_permissions(guild)
        if not have & P.ADMINISTRATOR and perms & ~have:
            raise missing_permissions()

    async def create_role(request: web.Request) -> web.Response:
        guild = guild_from(request)
        body = (await read_body(request)).json
        emu.require(guild, P.MANAGE_ROLES)
        name = body.get("name") or "new role"
        limits.check_name(name)
        perms = int(body.get("permissions") or guild.everyone.permissions)
        check_role_permissions(guild, perms)
        if len(guild.roles) >= guild.max_roles:
            raise ApiError(400, 30005, "Maximum number of guild roles reached (250)")
        color = body.get("color")
        if color is None and body.get("colors"):
            color = body["colors"].get("primary_color")
        role = RoleState(id=snowflake(), guild_id=guild.id, name=name, permissions=perms,
                         color=int(color or 0), hoist=bool(body.get("hoist")),
                         mentionable=bool(body.get("mentionable")))
        emu.insert_role(guild, role, 1)
        emu.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()},
                     guild_id=guild.id)
        return json_response(role.payload())

    async def patch_role(request: web.Request) -> web.Response:
        guild = guild_from(request)
        role = guild.roles.get(int(request.match_info["role_id"]))
        if role is None:
            raise unknown("Role")
        body = (await read_body(request)).json
        check_role_manageable(emu, guild, role)
        if "name" in body:
            limits.check_name(body["name"])
            role.name = body["name"]
        if "permissions" in body and body["permissions"] is not None:
            perms = int(body["permissions"])
            check_role_permissions(guild, perms & ~role.permissions)
            role.permissions = perms
        for key in ("hoist", "mentionable"):
            if key in body:
                setattr(role, key, bool(body[key]))
        if "color" in body:
            role.color = int(body["color"] or 0)
        emu.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": role.payload()},
                     guild_id=guild.id)
        return json_response(role.payload())

    async def move_roles(request: web.Request) -> web.Response:
        guild = guild_from(request)
        emu.require(guild, P.MANAGE_ROLES)
        body = (await read_body(request)).json
        top = top_position(guild, emu.bot_member(guild))
        for item in body.get("__list__", []):
            role = guild.roles.get(int(item["id"]))
            if role is None:
                raise unknown("Role")
            if role.position >= top or int(item["position"]) >= top:
                raise missing_permissions()
            role.position = int(item["position"])
            emu.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id),
                                               "role": role.payload()}, guild_id=guild.id)
        return json_response([r.payload() for r in guild.roles.values()])

    async def delete_role(request: web.Request) -> web.Response:
        guild = guild_from(request)
        role = guild.roles.get(int(request.match_info["role_id"]))
        if role is None:
            raise unknown("Role")
        check_role_manageable(emu, guild, role)
        if role.managed or role.id == guild.id:
            raise ApiError(400, 50028, "Invalid role")
        del guild.roles[role.id]
        for member in guild.members.values():
            if role.id in member.roles:
                member.roles.remove(role.id)
        for channel in guild.channels.values():
            channel.overwrites = [o for o in channel.overwrites if o.id != role.id]
        emu.dispatch("GUILD_ROLE_DELETE", {"guild_id": str(guild.id), "role_id": str(role.id)},
                     guild_id=guild.id)
        return no_content()

    # -- scheduled events ----------------------------------------------------------------------

    def event_from(guild: GuildState, request: web.Request) -> ScheduledEventState:
        ev = guild.events.get(int(request.match_info["event_id"]))
        if ev is None or ev.deleted:
            raise unknown("Guild Scheduled Event")
        return ev

    def require_events(guild: GuildState, ev: ScheduledEventState | None = None) -> None:
        have = emu.bot_permissions(guild)
        if have & P.MANAGE_EVENTS:
            return
        if have & P.CREATE_EVENTS and (ev is None or ev.creator_id == emu.bot_user.id):
            return
        raise missing_permissions()

    def validate_event(body: dict[str, Any], ev: ScheduledEventState | None) -> None:
        errors = []
        if "name" in body or ev is None:
            try:
                limits.check_name(body.get("name"), "name", 100, 1)
            except ApiError as e:
                errors.append(e)
        if body.get("description") is not None:
            try:
                limits.check_name(body["description"], "description", 1000, 0)
            except ApiError as e:
                errors.append(e)
        if errors:
            raise errors[0]
        start = parse_time(body.get("scheduled_start_time"), "scheduled_start_time")
        end = parse_time(body.get("scheduled_end_time"), "scheduled_end_time")
        now = emu.clock()
        if start is not None and start < now and (ev is None or ev.status == 1):
            raise form_error(["scheduled_start_time"], "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
                             "Cannot schedule event in the past.")
        if ev is None and start is None:
            raise form_error(["scheduled_start_time"], "BASE_TYPE_REQUIRED",
                             "This field is required")
        etype = int(body.get("entity_type") or (ev.entity_type if ev else 0))
        if etype == 3:
            loc = (body.get("entity_metadata") or {}).get("location") or (
                ev.location if ev else None)
            if not loc:
                raise form_error(["entity_metadata", "location"], "BASE_TYPE_REQUIRED",
                                 "This field is required")
            end_final = end or (parse_time(ev.scheduled_end_time, "x") if ev and
                                ev.scheduled_end_time else None)
            if end_final is None:
                raise form_error(["scheduled_end_time"], "BASE_TYPE_REQUIRED",
                                 "This field is required")
        start_final = start or (parse_time(ev.scheduled_start_time, "x") if ev else None)
        if end is not None and start_final is not None and end <= start_final:
            raise form_error(["scheduled_end_time"], "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                             "Cannot schedule an event to end before it starts.")

    async def list_events(request: web.Request) -> web.Response:
        guild = guild_from(request)
        return json_response([e.payload() for e in emu.scheduled_events(guild)])

    async def get_event(request: web.Request) -> web.Response:
        guild = guild_from(request)
        return json_response(event_from(guild, request).payload())

    async def create_event(request: web.Request) -> web.Response:
        guild = guild_from(request)
        body = (await read_body(request)).json
        require_events(guild)
        validate_event(body, None)
        if len([e for e in guild.events.values() if e.active]) >= guild.max_scheduled_events:
            raise ApiError(400, 30038,
                           "Maximum number of uncompleted guild scheduled events reached (100)")
        channel_id = int(body["channel_id"]) if body.get("channel_id") else None
        if channel_id is not None:
            channel = emu.get_channel(channel_id)
            emu.require(guild, P.VIEW_CHANNEL, channel)
        ev = ScheduledEventState(
            id=snowflake(), guild_id=guild.id, name=body["name"],
            scheduled_start_time=body["scheduled_start_time"],
            scheduled_end_time=body.get("scheduled_end_time"),
            entity_type=int(body.get("entity_type") or 3), creator_id=emu.bot_user.id,
            description=body.get("description"), channel_id=channel_id,
            location=(body.get("entity_metadata") or {}).get("location"),
            privacy_level=int(body.get("privacy_level") or 2),
        )
        guild.events[ev.id] = ev
        emu.dispatch("GUILD_SCHEDULED_EVENT_CREATE", ev.payload(), guild_id=guild.id)
        return json_response(ev.payload())

    async def patch_event(request: web.Request) -> web.Response:
        guild = guild_from(request)
        ev = event_from(guild, request)
        body = (await read_body(request)).json
        require_events(guild, ev)
        validate_event(body, ev)
        if "status" in body:
            new = int(body["status"])
            allowed = {1: {2, 4}, 2: {3}}.get(ev.status, set())
            if new != ev.status and new not in allowed:
                raise ApiError(400, 180000, "Cannot update event status")
            ev.status = new
        for key in ("name", "description", "scheduled_start_time", "scheduled_end_time"):
            if key in body:
                setattr(ev, key, body[key])
        if "entity_type" in body and body["entity_type"] is not None:
            ev.entity_type = int(body["entity_type"])
        if "channel_id" in body:
            ev.channel_id = int(body["channel_id"]) if body["channel_id"] else None
        if "entity_metadata" in body:
            ev.location = (body["entity_metadata"] or {}).get("location")
        emu.dispatch("GUILD_SCHEDULED_EVENT_UPDATE", ev.payload(), guild_id=guild.id)
        return json_response(ev.payload())

    async def delete_event(request: web.Request) -> web.Response:
        guild = guild_from(request)
        ev = event_from(guild, request)
        require_events(guild, ev)
        ev.deleted = True
        emu.dispatch("GUILD_SCHEDULED_EVENT_DELETE", ev.payload(), guild_id=guild.id)
        return no_content()

    g = f"{p}/guilds/{{guild_id:\\d+}}"
    r.add_get(g, get_guild)
    r.add_get(f"{g}/channels", list_channels)
    r.add_post(f"{g}/channels", create_channel)
    r.add_patch(f"{g}/channels", move_channels)
    r.add_get(f"{g}/members", list_members)
    r.add_get(f"{g}/members/{{user_id:\\d+}}", get_member)
    r.add_patch(f"{g}/members/{{user_id:\\d+}}", patch_member)
    r.add_delete(f"{g}/members/{{user_id:\\d+}}", kick_member)
    r.add_put(f"{g}/members/{{user_id:\\d+}}/roles/{{role_id:\\d+}}", add_member_role)
    r.add_delete(f"{g}/members/{{user_id:\\d+}}/roles/{{role_id:\\d+}}", remove_member_role)
    r.add_get(f"{g}/roles", list_roles)
    r.add_post(f"{g}/roles", create_role)
    r.add_patch(f"{g}/roles", move_roles)
    r.add_get(f"{g}/roles/{{role_id:\\d+}}", get_role)
    r.add_patch(f"{g}/roles/{{role_id:\\d+}}", patch_role)
    r.add_delete(f"{g}/roles/{{role_id:\\d+}}", delete_role)
    r.add_get(f"{g}/scheduled-events", list_events)
    r.add_post(f"{g}/scheduled-events", create_event)
    r.add_get(f"{g}/scheduled-events/{{event_id:\\d+}}", get_event)
    r.add_patch(f"{g}/scheduled-events/{{event_id:\\d+}}", patch_event)
    r.add_delete(f"{g}/scheduled-events/{{event_id:\\d+}}", delete_event)
