"""In-memory Discord state with payload builders that match what discord.py parses."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
_counter = itertools.count(1)


def snowflake() -> int:
    """A fresh, strictly increasing snowflake (timestamp part is the real clock)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_counter) & 0x3FFFFF)


def iso(dt: datetime | None = None) -> str:
    return (dt or datetime.now(UTC)).isoformat()


class ChannelType:
    TEXT = 0
    DM = 1
    VOICE = 2
    CATEGORY = 4
    NEWS = 5
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    STAGE = 13
    FORUM = 15

    THREADS = (10, 11, 12)


@dataclass(eq=False)
class UserState:
    id: int
    name: str
    bot: bool = False
    dms_open: bool = True
    global_name: str | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class RoleState:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color, "secondary_color": None, "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass(eq=False)
class MemberState:
    user: UserState
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso)

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass(eq=False)
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny),
        }


@dataclass(eq=False)
class ForumTag:
    id: int
    name: str
    moderated: bool = False
    emoji_name: str | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "moderated": self.moderated,
            "emoji_id": None,
            "emoji_name": self.emoji_name,
        }


@dataclass(eq=False)
class ChannelState:
    id: int
    type: int
    name: str | None
    guild_id: int | None = None
    parent_id: int | None = None
    position: int = 0
    topic: str | None = None
    nsfw: bool = False
    overwrites: list[Overwrite] = field(default_factory=list)
    available_tags: list[ForumTag] = field(default_factory=list)
    applied_tags: list[int] = field(default_factory=list)
    owner_id: int | None = None
    recipients: list[UserState] = field(default_factory=list)
    archived: bool = False
    locked: bool = False
    rate_limit_per_user: int = 0
    bitrate: int = 64000
    user_limit: int = 0
    last_message_id: int | None = None
    message_count: int = 0
    auto_archive_duration: int = 4320
    created_at: str = field(default_factory=iso)

    @property
    def is_thread(self) -> bool:
        return self.type in ChannelType.THREADS

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "flags": 0,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
        }
        if self.type == ChannelType.DM:
            data["recipients"] = [u.payload() for u in self.recipients]
            return data
        data["guild_id"] = str(self.guild_id)
        data["name"] = self.name
        data["parent_id"] = str(self.parent_id) if self.parent_id else None
        data["rate_limit_per_user"] = self.rate_limit_per_user
        if self.is_thread:
            data.update(
                owner_id=str(self.owner_id) if self.owner_id else None,
                message_count=self.message_count,
                total_message_sent=self.message_count,
                member_count=1,
                applied_tags=[str(t) for t in self.applied_tags],
                thread_metadata={
                    "archived": self.archived,
                    "locked": self.locked,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": self.created_at,
                    "create_timestamp": self.created_at,
                },
            )
            return data
        data["position"] = self.position
        data["permission_overwrites"] = [o.payload() for o in self.overwrites]
        data["nsfw"] = self.nsfw
        if self.type in (ChannelType.TEXT, ChannelType.NEWS, ChannelType.FORUM):
            data["topic"] = self.topic
            data["default_auto_archive_duration"] = 4320
        if self.type in (ChannelType.VOICE, ChannelType.STAGE):
            data.update(bitrate=self.bitrate, user_limit=self.user_limit, rtc_region=None)
        if self.type == ChannelType.FORUM:
            data.update(
                available_tags=[t.payload() for t in self.available_tags],
                default_reaction_emoji=None,
                default_thread_rate_limit_per_user=0,
                default_sort_order=None,
                default_forum_layout=0,
            )
        return data


@dataclass(eq=False)
class AttachmentState:
    id: int
    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None

    def payload(self, base: str) -> dict[str, Any]:
        url = f"{base}/attachments/{self.id}/{self.filename}"
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": url,
            "proxy_url": url,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description:
            data["description"] = self.description
        return data

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


@dataclass(eq=False)
class ReactionState:
    emoji: str
    users: list[int] = field(default_factory=list)


@dataclass(eq=False)
class MessageState:
    id: int
    channel_id: int
    author: UserState
    content: str = ""
    guild_id: int | None = None
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[AttachmentState] = field(default_factory=list)
    allowed_mentions: dict[str, Any] | None = None
    flags: int = 0
    type: int = 0
    tts: bool = False
    edited_at: str | None = None
    timestamp: str = field(default_factory=iso)
    reactions: list[ReactionState] = field(default_factory=list)
    interaction_id: int | None = None
    webhook_id: int | None = None
    reference_id: int | None = None
    deleted: bool = False
    pinned: bool = False
    #: the nonce it was created with (echoed on creation only, as Discord does)
    nonce: int | str | None = None
    # the user an ephemeral interaction message is visible to
    visible_to: int | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    @property
    def loading(self) -> bool:
        return bool(self.flags & 128)

    @property
    def files(self) -> list[AttachmentState]:
        return self.attachments

    def mention_ids(self) -> list[int]:
        import re

        return [int(m) for m in re.findall(r"<@!?(\d+)>", self.content or "")]

    def payload(self, base: str, *, redact: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": "" if redact else self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_at,
            "tts": self.tts,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [] if redact else [a.payload(base) for a in self.attachments],
            "embeds": [] if redact else list(self.embeds),
            "components": [] if redact else list(self.components),
            "reactions": [
                {"emoji": {"id": None, "name": r.emoji}, "count": len(r.users), "me": False,
                 "count_details": {"burst": 0, "normal": len(r.users)}, "burst_colors": [],
                 "me_burst": False}
                for r in self.reactions
                if r.users
            ],
            "pinned": self.pinned,
            "type": self.type,
            "flags": self.flags,
        }
        if self.guild_id:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.reference_id:
            data["message_reference"] = {"message_id": str(self.reference_id),
                                         "channel_id": str(self.channel_id)}
        return data


@dataclass(eq=False)
class ScheduledEventState:
    id: int
    guild_id: int
    name: str
    scheduled_start_time: str
    entity_type: int
    creator_id: int
    scheduled_end_time: str | None = None
    description: str | None = None
    channel_id: int | None = None
    location: str | None = None
    status: int = 1  # 1 scheduled, 2 active, 3 completed, 4 canceled
    privacy_level: int = 2
    deleted: bool = False
    #: who marked "Interested" (Discord's own RSVP on the event)
    interested: set[int] = field(default_factory=set)

    @property
    def active(self) -> bool:
        return not self.deleted and self.status in (1, 2)

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id) if self.channel_id else None,
            "creator_id": str(self.creator_id),
            "name": self.name,
            "description": self.description,
            "scheduled_start_time": self.scheduled_start_time,
            "scheduled_end_time": self.scheduled_end_time,
            "privacy_level": self.privacy_level,
            "status": self.status,
            "entity_type": self.entity_type,
            "entity_id": None,
            "entity_metadata": {"location": self.location} if self.location else None,
            "user_count": len(self.interested),
            "image": None,
            "recurrence_rule": None,
        }


@dataclass(eq=False)
class GuildState:
    id: int
    name: str
    owner_id: int
    features: list[str] = field(default_factory=list)
    roles: dict[int, RoleState] = field(default_factory=dict)
    members: dict[int, MemberState] = field(default_factory=dict)
    channels: dict[int, ChannelState] = field(default_factory=dict)
    events: dict[int, ScheduledEventState] = field(default_factory=dict)
    bot_role_id: int | None = None
    system_channel_id: int | None = None
    max_scheduled_events: int = 100
    max_roles: int = 250
    max_channels: int = 500

    @property
    def everyone(self) -> RoleState:
        return self.roles[self.id]

    @property
    def forums_allowed(self) -> bool:
        return "COMMUNITY" in self.features

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": list(self.features),
            "mfa_level": 0,
            "system_channel_id": str(self.system_channel_id) if self.system_channel_id else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-GB",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "max_members": 500000,
            "max_video_channel_users": 25,
        }


@dataclass(eq=False)
class CommandState:
    id: int
    application_id: int
    name: str
    type: int
    data: dict[str, Any]
    guild_id: int | None = None

    def payload(self) -> dict[str, Any]:
        out = dict(self.data)
        out.update(
            id=str(self.id),
            application_id=str(self.application_id),
            name=self.name,
            type=self.type,
            version=str(self.id),
            default_member_permissions=self.data.get("default_member_permissions"),
            dm_permission=self.data.get("dm_permission", True),
            nsfw=self.data.get("nsfw", False),
            description=self.data.get("description", ""),
            options=self.data.get("options", []),
        )
        if self.guild_id is not None:
            out["guild_id"] = str(self.guild_id)
        return out
