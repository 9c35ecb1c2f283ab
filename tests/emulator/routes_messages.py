"""Messages (JSON and multipart), DMs, edits, deletes and reactions."""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from tests.emulator import limits, mentions
from tests.emulator.errors import ApiError, missing_permissions, unknown
from tests.emulator.gateway import Intents
from tests.emulator.http_util import UploadedFile, json_response, no_content, read_body
from tests.emulator.permissions import P
from tests.emulator.state import (
    AttachmentState,
    ChannelState,
    ChannelType,
    MessageState,
    ReactionState,
    UserState,
    snowflake,
)

if TYPE_CHECKING:
    from tests.emulator.server import DiscordEmulator


#: What Discord reports as an attachment's content type, by extension. discord.py uploads
#: every file as application/octet-stream; Discord labels it from the file's name (and adds
#: the charset to text). Fixed here so a test does not depend on the host's mime.types.
DISCORD_CONTENT_TYPES = {
    ".ics": "text/calendar; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
}


def attachment_content_type(filename: str, sent: str | None) -> str | None:
    if sent and sent != "application/octet-stream":
        return sent
    dot = filename.rfind(".")
    known = DISCORD_CONTENT_TYPES.get(filename[dot:].lower()) if dot >= 0 else None
    return known or mimetypes.guess_type(filename)[0] or sent


def make_attachments(body: dict[str, Any], files: list[UploadedFile]) -> list[AttachmentState]:
    meta = {int(a["id"]): a for a in body.get("attachments") or [] if str(a.get("id")).isdigit()}
    out = []
    for f in files:
        m = meta.get(f.index, {})
        filename = m.get("filename") or f.filename
        ctype = attachment_content_type(filename, f.content_type)
        out.append(AttachmentState(id=snowflake(), filename=filename, data=f.data,
                                   content_type=ctype, description=m.get("description")))
    return out


def check_send(
    emu: DiscordEmulator,
    channel: ChannelState,
    body: dict[str, Any],
    files: list[UploadedFile],
) -> None:
    """Everything Discord checks before accepting a message from the bot in `channel`."""
    limits.check_message(body, create=True)
    if not (body.get("content") or body.get("embeds") or files or body.get("components")
            or body.get("sticker_ids") or body.get("poll")):
        raise ApiError(400, 50006, "Cannot send an empty message")
    if channel.type == ChannelType.DM:
        recipient = channel.recipients[0]
        if recipient.bot or not recipient.dms_open:
            raise ApiError(403, 50007, "Cannot send messages to this user")
        return
    guild = emu.check_not_dm(channel)
    perms = emu.bot_permissions(guild, channel)
    if not perms & P.VIEW_CHANNEL:
        raise ApiError(403, 50001, "Missing Access")
    if channel.type in (ChannelType.CATEGORY, ChannelType.FORUM):
        raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
    if channel.is_thread:
        if channel.locked and not perms & P.MANAGE_THREADS:
            raise ApiError(400, 50083, "Thread is archived")
        need = P.SEND_MESSAGES_IN_THREADS
    else:
        need = P.SEND_MESSAGES
    if not perms & need:
        raise missing_permissions()
    if files and not perms & P.ATTACH_FILES:
        raise missing_permissions()


def store_message(
    emu: DiscordEmulator,
    channel: ChannelState,
    author: UserState,
    body: dict[str, Any],
    files: list[UploadedFile],
    *,
    flags: int | None = None,
    message_id: int | None = None,
    msg_type: int = 0,
    interaction_id: int | None = None,
    webhook_id: int | None = None,
    visible_to: int | None = None,
) -> MessageState:
    embeds = list(body.get("embeds") or [])
    guild = emu.guild_of(channel)
    # without EMBED_LINKS Discord accepts the bot's message but drops its embeds
    if (guild is not None and author.id == emu.bot_user.id and webhook_id is None
            and not emu.bot_permissions(guild, channel) & P.EMBED_LINKS):
        embeds = []
    for e in embeds:
        e.setdefault("type", "rich")
    ref = (body.get("message_reference") or {}).get("message_id")
    msg = MessageState(
        id=message_id or snowflake(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author=author,
        content=body.get("content") or "",
        embeds=embeds,
        components=list(body.get("components") or []),
        attachments=make_attachments(body, files),
        allowed_mentions=body.get("allowed_mentions"),
        flags=int(body.get("flags") or 0) if flags is None else flags,
        tts=bool(body.get("tts")),
        type=msg_type or (19 if ref else 0),
        interaction_id=interaction_id,
        webhook_id=webhook_id,
        reference_id=int(ref) if ref else None,
        visible_to=visible_to,
    )
    emu.messages[msg.id] = msg
    if author.id == emu.bot_user.id:
        emu.mention_log.append(mentions.record(
            msg.id, channel.id, "create", body, msg.content, msg.components,
            interaction=interaction_id is not None,
        ))
    channel.last_message_id = msg.id
    channel.message_count += 1
    return msg


def apply_edit(
    emu: DiscordEmulator, msg: MessageState, body: dict[str, Any], files: list[UploadedFile]
) -> None:
    """Apply a message PATCH: only the given fields change; `attachments` lists what is kept."""
    merged = {
        "content": body.get("content", msg.content),
        "embeds": body.get("embeds", msg.embeds),
        "components": body.get("components", msg.components),
    }
    limits.check_message(merged)
    if "content" in body:
        msg.content = body["content"] or ""
    if "embeds" in body:
        msg.embeds = [dict(e, type=e.get("type", "rich")) for e in body["embeds"] or []]
    if "components" in body:
        msg.components = list(body["components"] or [])
    if "attachments" in body or files:
        keep_ids = {int(a["id"]) for a in body.get("attachments") or []
                    if str(a.get("id")).isdigit()}
        kept = [a for a in msg.attachments if a.id in keep_ids] if "attachments" in body else list(
            msg.attachments)
        msg.attachments = kept + make_attachments(body, files)
    if "flags" in body and body["flags"] is not None:
        msg.flags = (msg.flags & (64 | 128)) | (int(body["flags"]) & ~(64 | 128))
    if "allowed_mentions" in body:
        msg.allowed_mentions = body["allowed_mentions"]
    if msg.author.id == emu.bot_user.id and ("content" in body or "components" in body):
        # Discord parses an edit afresh with the edit request's allowed_mentions (or defaults)
        emu.mention_log.append(mentions.record(
            msg.id, msg.channel_id, "edit", body, msg.content, msg.components,
            interaction=msg.interaction_id is not None,
        ))
    msg.flags &= ~128
    msg.edited_at = datetime.now(UTC).isoformat()


def created_payload(emu: DiscordEmulator, msg: MessageState) -> dict[str, Any]:
    """The answer to a message create: the message, with the nonce it was created with."""
    data = emu.message_payload(msg)
    if msg.nonce is not None:
        data["nonce"] = msg.nonce
    return data


def rest_payload(emu: DiscordEmulator, msg: MessageState) -> dict[str, Any]:
    """REST reads are subject to the message content intent like gateway events."""
    redact = not (emu.granted_intents & Intents.MESSAGE_CONTENT) and not (
        msg.guild_id is None or msg.author.id == emu.bot_user.id
        or emu.bot_user.id in msg.mention_ids()
    )
    return emu.message_payload(msg, redact=redact)


def setup(r: web.UrlDispatcher, emu: DiscordEmulator, p: str) -> None:
    def channel_from(request: web.Request) -> ChannelState:
        return emu.get_channel(request.match_info["channel_id"])

    def require_read(channel: ChannelState) -> None:
        guild = emu.guild_of(channel)
        if guild is not None:
            emu.require(guild, P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY, channel)

    async def create_message(request: web.Request) -> web.Response:
        channel = channel_from(request)
        body = await read_body(request)
        check_send(emu, channel, body.json, body.files)
        nonce = body.json.get("nonce")
        if nonce is not None and body.json.get("enforce_nonce"):
            # Discord: the same author and nonce within the past few minutes returns the
            # message already created, and creates nothing.
            earlier = emu.message_with_nonce(emu.bot_user, nonce)
            if earlier is not None:
                if earlier.deleted:
                    # discord.py documents NotFound for a nonce whose message was deleted
                    raise unknown("Message")
                return json_response(created_payload(emu, earlier))
        msg = store_message(emu, channel, emu.bot_user, body.json, body.files)
        if nonce is not None:
            emu.remember_nonce(emu.bot_user, nonce, msg)
        emu.dispatch_message("MESSAGE_CREATE", msg)
        return json_response(created_payload(emu, msg))

    async def get_message(request: web.Request) -> web.Response:
        channel = channel_from(request)
        require_read(channel)
        msg = emu.get_message(channel, request.match_info["message_id"])
        return json_response(rest_payload(emu, msg))

    async def list_messages(request: web.Request) -> web.Response:
        channel = channel_from(request)
        require_read(channel)
        limit = min(int(request.query.get("limit", 50)), 100)
        msgs = sorted(emu.messages_in(channel), key=lambda m: m.id, reverse=True)
        if "before" in request.query:
            msgs = [m for m in msgs if m.id < int(request.query["before"])]
        if "after" in request.query:
            msgs = [m for m in msgs if m.id > int(request.query["after"])][-limit:]
        return json_response([rest_payload(emu, m) for m in msgs[:limit]])

    async def edit_message(request: web.Request) -> web.Response:
        channel = channel_from(request)
        msg = emu.get_message(channel, request.match_info["message_id"])
        body = await read_body(request)
        if msg.author.id != emu.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        apply_edit(emu, msg, body.json, body.files)
        emu.dispatch_message("MESSAGE_UPDATE", msg)
        return json_response(emu.message_payload(msg))

    async def delete_message(request: web.Request) -> web.Response:
        channel = channel_from(request)
        msg = emu.get_message(channel, request.match_info["message_id"])
        guild = emu.guild_of(channel)
        if msg.author.id != emu.bot_user.id:
            if guild is None:
                raise ApiError(403, 50003, "Cannot execute action on a DM channel")
            emu.require(guild, P.MANAGE_MESSAGES, channel)
        msg.deleted = True
        data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(channel.id)}
        if guild is not None:
            data["guild_id"] = str(guild.id)
        emu.gateway.dispatch("MESSAGE_DELETE", data, guild_id=channel.guild_id,
                             dm=guild is None)
        return no_content()

    def reaction_event(msg: MessageState, emoji: str, user_id: int) -> dict[str, Any]:
        data: dict[str, Any] = {
            "user_id": str(user_id), "channel_id": str(msg.channel_id),
            "message_id": str(msg.id), "emoji": {"id": None, "name": emoji},
            "burst": False, "type": 0,
        }
        if msg.guild_id:
            data["guild_id"] = str(msg.guild_id)
        return data

    async def add_reaction(request: web.Request) -> web.Response:
        channel = channel_from(request)
        msg = emu.get_message(channel, request.match_info["message_id"])
        emoji = unquote(request.match_info["emoji"])
        guild = emu.guild_of(channel)
        if guild is not None:
            emu.require(guild, P.READ_MESSAGE_HISTORY, channel)
            existing = next((x for x in msg.reactions if x.emoji == emoji), None)
            if existing is None or not existing.users:
                emu.require(guild, P.ADD_REACTIONS, channel)
        add_reaction_state(msg, emoji, emu.bot_user.id)
        emu.gateway.dispatch("MESSAGE_REACTION_ADD", reaction_event(msg, emoji, emu.bot_user.id),
                             guild_id=msg.guild_id, dm=guild is None)
        return no_content()

    async def remove_reaction(request: web.Request) -> web.Response:
        channel = channel_from(request)
        msg = emu.get_message(channel, request.match_info["message_id"])
        emoji = unquote(request.match_info["emoji"])
        target = request.match_info["user"]
        uid = emu.bot_user.id if target == "@me" else int(target)
        guild = emu.guild_of(channel)
        if uid != emu.bot_user.id and guild is not None:
            emu.require(guild, P.MANAGE_MESSAGES, channel)
        for reaction in msg.reactions:
            if reaction.emoji == emoji and uid in reaction.users:
                reaction.users.remove(uid)
        emu.gateway.dispatch("MESSAGE_REACTION_REMOVE", reaction_event(msg, emoji, uid),
                             guild_id=msg.guild_id, dm=guild is None)
        return no_content()

    async def reaction_users(request: web.Request) -> web.Response:
        channel = channel_from(request)
        msg = emu.get_message(channel, request.match_info["message_id"])
        emoji = unquote(request.match_info["emoji"])
        users = next((x.users for x in msg.reactions if x.emoji == emoji), [])
        return json_response([emu.get_user(u).payload() for u in users])

    async def unknown_message_thing(request: web.Request) -> web.Response:
        raise unknown("Message")

    c = f"{p}/channels/{{channel_id:\\d+}}/messages"
    r.add_post(c, create_message)
    r.add_get(c, list_messages)
    r.add_get(f"{c}/{{message_id:\\d+}}", get_message)
    r.add_patch(f"{c}/{{message_id:\\d+}}", edit_message)
    r.add_delete(f"{c}/{{message_id:\\d+}}", delete_message)
    rx = f"{c}/{{message_id:\\d+}}/reactions/{{emoji}}"
    r.add_put(f"{rx}/@me", add_reaction)
    r.add_delete(f"{rx}/{{user}}", remove_reaction)
    r.add_get(rx, reaction_users)


def add_reaction_state(msg: MessageState, emoji: str, user_id: int) -> None:
    reaction = next((x for x in msg.reactions if x.emoji == emoji), None)
    if reaction is None:
        reaction = ReactionState(emoji=emoji)
        msg.reactions.append(reaction)
    if user_id not in reaction.users:
        reaction.users.append(user_id)
