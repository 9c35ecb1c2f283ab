"""Discord's permission arithmetic: guild base permissions, channel overwrites, role hierarchy."""

from __future__ import annotations

from tests.emulator.state import ChannelState, GuildState, MemberState, RoleState


class P:
    """Permission bits, named as in Discord's documentation."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40
    CREATE_EVENTS = 1 << 44

    ALL = (1 << 53) - 1


DEFAULT_EVERYONE = (
    P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.READ_MESSAGE_HISTORY
    | P.ADD_REACTIONS
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.USE_APPLICATION_COMMANDS
    | P.CONNECT
    | P.SPEAK
    | P.SEND_MESSAGES_IN_THREADS
    | P.CREATE_PUBLIC_THREADS
)

DEFAULT_BOT = (
    P.MANAGE_CHANNELS
    | P.MANAGE_ROLES
    | P.MANAGE_EVENTS
    | P.VIEW_CHANNEL
    | P.SEND_MESSAGES
    | P.EMBED_LINKS
    | P.ATTACH_FILES
    | P.MANAGE_THREADS
    | P.CREATE_PUBLIC_THREADS
    | P.SEND_MESSAGES_IN_THREADS
    | P.READ_MESSAGE_HISTORY
    | P.ADD_REACTIONS
)


def member_roles(guild: GuildState, member: MemberState) -> list[RoleState]:
    return [guild.roles[r] for r in member.roles if r in guild.roles]


def top_position(guild: GuildState, member: MemberState) -> int:
    """Highest role position of a member; the owner outranks everyone."""
    if member.user.id == guild.owner_id:
        return 1 << 30
    return max([r.position for r in member_roles(guild, member)] + [0])


def base_permissions(guild: GuildState, member: MemberState) -> int:
    if member.user.id == guild.owner_id:
        return P.ALL
    perms = guild.everyone.permissions
    for role in member_roles(guild, member):
        perms |= role.permissions
    if perms & P.ADMINISTRATOR:
        return P.ALL
    return perms


def apply_overwrites(
    guild: GuildState, member: MemberState, channel: ChannelState, base: int
) -> int:
    if base & P.ADMINISTRATOR:
        return P.ALL
    by_id = {o.id: o for o in channel.overwrites}
    perms = base
    everyone = by_id.get(guild.id)
    if everyone:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for rid in member.roles:
        ow = by_id.get(rid)
        if ow and ow.type == 0:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    mine = by_id.get(member.user.id)
    if mine and mine.type == 1:
        perms = (perms & ~mine.deny) | mine.allow
    return perms


def compute_permissions(
    guild: GuildState, member: MemberState, channel: ChannelState | None = None
) -> int:
    """Effective permissions as Discord computes them (threads inherit from their parent)."""
    base = base_permissions(guild, member)
    if channel is None:
        return base
    target = channel
    if channel.is_thread and channel.parent_id in guild.channels:
        target = guild.channels[channel.parent_id]
    perms = apply_overwrites(guild, member, target, base)
    if base & P.ADMINISTRATOR or member.user.id == guild.owner_id:
        return P.ALL
    # Without VIEW_CHANNEL, nothing else in the channel applies.
    if not perms & P.VIEW_CHANNEL:
        return 0
    # Without SEND_MESSAGES, the send-dependent permissions are implicitly denied.
    if not perms & P.SEND_MESSAGES and not channel.is_thread:
        perms &= ~(P.MENTION_EVERYONE | P.EMBED_LINKS | P.ATTACH_FILES)
    return perms


def names(perms: int) -> list[str]:
    return [k for k, v in vars(P).items() if k.isupper() and k != "ALL" and perms & v]
