"""Application commands, interaction callbacks and the interaction webhook (follow-ups, edits)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.emulator import limits
from tests.emulator.errors import ApiError, form_error, unknown
from tests.emulator.http_util import json_response, no_content, read_body
from tests.emulator.routes_messages import apply_edit, store_message
from tests.emulator.state import CommandState, MessageState, snowflake

if TYPE_CHECKING:
    from tests.emulator.interactions import InteractionRecord
    from tests.emulator.server import DiscordEmulator

NAME_RE = re.compile(r"^[-_'\w]{1,32}$")


def validate_command(data: dict[str, Any], idx: int) -> None:
    ctype = int(data.get("type") or 1)
    name = data.get("name") or ""
    if ctype == 1:
        if not NAME_RE.match(name) or name.lower() != name:
            raise form_error([idx, "name"], "APPLICATION_COMMAND_INVALID_NAME",
                             "Command name is invalid")
        limits.check_name(data.get("description"), "description", 100, 1)
    else:
        limits.check_name(name, "name", 32, 1)

    def walk(options: list[dict[str, Any]], path: list[str | int]) -> None:
        if len(options) > 25:
            raise form_error([*path, "options"], "BASE_TYPE_MAX_LENGTH",
                             "Must be 25 or fewer in length.")
        seen_optional = False
        for i, o in enumerate(options):
            p: list[str | int] = [*path, "options", i]
            if not NAME_RE.match(o.get("name") or ""):
                raise form_error([*p, "name"], "APPLICATION_COMMAND_INVALID_NAME",
                                 "Command name is invalid")
            limits.check_name(o.get("description"), "description", 100, 1)
            if len(o.get("choices") or []) > 25:
                raise form_error([*p, "choices"], "BASE_TYPE_MAX_LENGTH",
                                 "Must be 25 or fewer in length.")
            if o.get("type") in (1, 2):
                walk(o.get("options") or [], p)
            else:
                if o.get("required") and seen_optional:
                    raise form_error([*p, "required"],
                                     "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                                     "Required options must be placed before non-required options")
                seen_optional = seen_optional or not o.get("required")

    walk(data.get("options") or [], [idx])


def setup(r: web.UrlDispatcher, emu: DiscordEmulator, p: str) -> None:
    def scope(request: web.Request) -> int | None:
        if int(request.match_info["app_id"]) != emu.application_id:
            raise ApiError(403, 50001, "Missing Access")
        gid = request.match_info.get("guild_id")
        if gid is not None:
            emu.get_guild(gid)
            return int(gid)
        return None

    def scoped(gid: int | None) -> list[CommandState]:
        return [c for c in emu.commands.values() if c.guild_id == gid]

    def upsert(gid: int | None, data: dict[str, Any]) -> CommandState:
        ctype = int(data.get("type") or 1)
        existing = next((c for c in scoped(gid) if c.name == data["name"] and c.type == ctype),
                        None)
        cid = existing.id if existing else snowflake()
        cmd = CommandState(id=cid, application_id=emu.application_id, name=data["name"],
                           type=ctype, data=dict(data), guild_id=gid)
        emu.commands[cid] = cmd
        return cmd

    async def bulk_overwrite(request: web.Request) -> web.Response:
        gid = scope(request)
        items = (await read_body(request)).json.get("__list__", [])
        for i, item in enumerate(items):
            validate_command(item, i)
        keep = []
        for item in items:
            keep.append(upsert(gid, item))
        keep_ids = {c.id for c in keep}
        for c in scoped(gid):
            if c.id not in keep_ids:
                del emu.commands[c.id]
        return json_response([c.payload() for c in keep])

    async def list_commands(request: web.Request) -> web.Response:
        gid = scope(request)
        return json_response([c.payload() for c in scoped(gid)])

    async def create_command(request: web.Request) -> web.Response:
        gid = scope(request)
        body = (await read_body(request)).json
        validate_command(body, 0)
        return json_response(upsert(gid, body).payload(), 201)

    async def delete_command(request: web.Request) -> web.Response:
        gid = scope(request)
        cid = int(request.match_info["command_id"])
        cmd = emu.commands.get(cid)
        if cmd is None or cmd.guild_id != gid:
            raise unknown("Application Command")
        del emu.commands[cid]
        return no_content()

    async def get_command(request: web.Request) -> web.Response:
        gid = scope(request)
        cmd = emu.commands.get(int(request.match_info["command_id"]))
        if cmd is None or cmd.guild_id != gid:
            raise unknown("Application Command")
        return json_response(cmd.payload())

    # -- interaction callback ------------------------------------------------------------------

    def record_from(request: web.Request) -> InteractionRecord:
        rec = emu.interactions.get(int(request.match_info["interaction_id"]))
        if rec is None or rec.token != request.match_info["token"]:
            raise unknown("Interaction")
        return rec

    async def callback(request: web.Request) -> web.Response:
        rec = record_from(request)
        body = await read_body(request)
        if rec.response is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        rtype = int(body.json.get("type") or 0)
        data = body.json.get("data") or {}
        allowed = {
            2: {4, 5, 9},
            3: {4, 5, 6, 7, 9},
            4: {8},
            5: {4, 5, 6, 7},
        }.get(rec.type, set())
        if rec.type == 5 and rec.source_message is None:
            allowed = {4, 5}
        if rtype not in allowed:
            raise form_error(["type"], "INTERACTION_RESPONSE_TYPE_INVALID",
                             "Interaction response type is invalid for this interaction")
        message: MessageState | None = None
        if rtype in (4, 5):
            if rtype == 4:
                limits.check_message(data, ["data"])
            flags = int(data.get("flags") or 0)
            ephemeral = flags & 64
            body_data = data if rtype == 4 else {}
            message = store_message(
                emu, rec.channel, emu.bot_user, body_data, body.files if rtype == 4 else [],
                flags=(flags & (64 | 4 | 4096)) | (128 if rtype == 5 else 0),
                msg_type=20 if rec.type == 2 else 19, interaction_id=rec.id,
                webhook_id=emu.application_id,
                visible_to=rec.user.id if ephemeral else None,
            )
            rec.original = message
            if (rtype == 4 and not ephemeral) or (rtype == 5 and not ephemeral):
                emu.dispatch_message("MESSAGE_CREATE", message)
        elif rtype in (6, 7):
            rec.original = rec.source_message
            if rtype == 7 and rec.source_message is not None:
                apply_edit(emu, rec.source_message, data, body.files)
                emu.dispatch_message("MESSAGE_UPDATE", rec.source_message)
            message = rec.source_message if rtype == 7 else None
        elif rtype == 8:
            choices = list(data.get("choices") or [])
            limits.check_choices(choices)
            rec.choices = choices
        elif rtype == 9:
            limits.check_modal(data, ["data"])
            rec.modal = data
        rec.response = {"type": rtype, "data": data}
        if request.query.get("with_response", "false").lower() not in ("true", "1"):
            return no_content()
        out: dict[str, Any] = {
            "interaction": {
                "id": str(rec.id),
                "type": rec.type,
                "response_message_id": str(message.id) if message else None,
                "response_message_loading": rtype == 5,
                "response_message_ephemeral": bool(message and message.ephemeral),
            },
            "resource": {"type": rtype},
        }
        if message is not None:
            out["resource"]["message"] = emu.message_payload(message)
        return json_response(out)

    # -- interaction webhook -------------------------------------------------------------------

    def webhook_record(request: web.Request) -> InteractionRecord:
        if int(request.match_info["app_id"]) != emu.application_id:
            raise unknown("Webhook")
        token = request.match_info["token"]
        rec = next((i for i in emu.interactions.values() if i.token == token), None)
        if rec is None or rec.response is None:
            raise unknown("Webhook")
        return rec

    def webhook_message(rec: InteractionRecord, mid: str) -> MessageState:
        if mid == "@original":
            if rec.original is None or rec.original.deleted:
                raise unknown("Message")
            return rec.original
        msg = emu.messages.get(int(mid))
        if msg is None or msg.deleted or (msg.interaction_id != rec.id and msg is not rec.original):
            raise unknown("Message")
        return msg

    async def followup(request: web.Request) -> web.Response:
        rec = webhook_record(request)
        body = await read_body(request)
        limits.check_message(body.json)
        if not (body.json.get("content") or body.json.get("embeds") or body.files
                or body.json.get("components")):
            raise ApiError(400, 50006, "Cannot send an empty message")
        original = rec.original
        if original is not None and original.loading and original.interaction_id == rec.id:
            # Discord: the first follow-up after a deferral replaces the "thinking" message
            apply_edit(emu, original, body.json, body.files)
            rec.followups.append(original)
            emu.dispatch_message("MESSAGE_UPDATE", original)
            return json_response(emu.message_payload(original))
        flags = int(body.json.get("flags") or 0)
        msg = store_message(
            emu, rec.channel, emu.bot_user, body.json, body.files,
            flags=flags & (64 | 4 | 4096), msg_type=19 if rec.type != 2 else 20,
            interaction_id=rec.id, webhook_id=emu.application_id,
            visible_to=rec.user.id if flags & 64 else None,
        )
        rec.followups.append(msg)
        emu.dispatch_message("MESSAGE_CREATE", msg)
        if request.query.get("wait", "false").lower() not in ("true", "1"):
            return no_content()
        return json_response(emu.message_payload(msg))

    async def get_webhook_message(request: web.Request) -> web.Response:
        rec = webhook_record(request)
        msg = webhook_message(rec, request.match_info["message_id"])
        return json_response(emu.message_payload(msg))

    async def edit_webhook_message(request: web.Request) -> web.Response:
        rec = webhook_record(request)
        msg = webhook_message(rec, request.match_info["message_id"])
        body = await read_body(request)
        apply_edit(emu, msg, body.json, body.files)
        rec.edits += 1
        emu.dispatch_message("MESSAGE_UPDATE", msg)
        return json_response(emu.message_payload(msg))

    async def delete_webhook_message(request: web.Request) -> web.Response:
        rec = webhook_record(request)
        msg = webhook_message(rec, request.match_info["message_id"])
        msg.deleted = True
        if not msg.ephemeral:
            data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
            emu.gateway.dispatch("MESSAGE_DELETE", data, guild_id=msg.guild_id,
                                 dm=msg.guild_id is None)
        return no_content()

    a = f"{p}/applications/{{app_id:\\d+}}"
    for base in (f"{a}/commands", f"{a}/guilds/{{guild_id:\\d+}}/commands"):
        r.add_put(base, bulk_overwrite)
        r.add_get(base, list_commands)
        r.add_post(base, create_command)
        r.add_get(f"{base}/{{command_id:\\d+}}", get_command)
        r.add_delete(f"{base}/{{command_id:\\d+}}", delete_command)
    r.add_post(f"{p}/interactions/{{interaction_id:\\d+}}/{{token}}/callback", callback)
    w = f"{p}/webhooks/{{app_id:\\d+}}/{{token}}"
    r.add_post(w, followup)
    r.add_get(f"{w}/messages/{{message_id}}", get_webhook_message)
    r.add_patch(f"{w}/messages/{{message_id}}", edit_webhook_message)
    r.add_delete(f"{w}/messages/{{message_id}}", delete_webhook_message)
