# ruff: noqa: ASYNC109  (wait_for takes a timeout by design)
"""The emulator: aiohttp app, middleware (auth, faults, rate limits, request log), seeding and
inspection API used by tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aiohttp import web

from tests.emulator import (
    routes_channels,
    routes_core,
    routes_guilds,
    routes_interactions,
    routes_messages,
)
from tests.emulator.errors import ApiError, missing_access, missing_permissions, unknown
from tests.emulator.gateway import Gateway, GatewaySession, Intents
from tests.emulator.http_util import error_response, json_response, read_body
from tests.emulator.interactions import InteractionDriver, InteractionRecord
from tests.emulator.mentions import MentionRecord
from tests.emulator.permissions import DEFAULT_BOT, DEFAULT_EVERYONE, P, compute_permissions
from tests.emulator.state import (
    AttachmentState,
    ChannelState,
    ChannelType,
    CommandState,
    ForumTag,
    GuildState,
    MemberState,
    MessageState,
    Overwrite,
    RoleState,
    ScheduledEventState,
    UserState,
    snowflake,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
API_PREFIX = "/api/v10"


@dataclass
class RequestLog:
    """One REST call as the emulator saw it."""

    method: str
    path: str
    status: int
    json: dict[str, Any] | None
    query: dict[str, str]
    files: list[str] = field(default_factory=list)


@dataclass
class FaultRule:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    retry_after: float | None = None
    json: dict[str, Any] | None = None
    #: matching calls still to let through before failing (fail "the 3rd channel")
    after: int = 0
    #: fail only every Nth matching call (a share of the traffic: 3 = one call in three)
    every: int = 1
    _seen: int = 0

    def matches(self, method: str, path: str) -> bool:
        hit = self.times > 0 and (self.method in ("*", method)) and bool(
            self.pattern.search(path)
        )
        if hit and self.after > 0:
            self.after -= 1
            return False
        if hit and self.every > 1:
            self._seen += 1
            return self._seen % self.every == 0
        return hit


@dataclass(eq=False)
class PausedRoute:
    """A REST call held on its way in (see :meth:`DiscordEmulator.pause_route`).

    While held, Discord has received the request but done nothing with it; a test can kill
    the bot then and decide with :meth:`release` whether the request goes on to take effect
    (``land=True``: the message exists, its sender never heard back) or is lost
    (``land=False``: as if the connection dropped before Discord read it).
    """

    method: str
    pattern: re.Pattern[str]
    when: Callable[[dict[str, Any] | None], bool] | None = None
    entry: RequestLog | None = None
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    _land: asyncio.Future[bool] | None = None

    def matches(self, method: str, path: str, body: dict[str, Any] | None) -> bool:
        return (
            self.entry is None
            and self.method in ("*", method)
            and bool(self.pattern.search(path))
            and (self.when is None or self.when(body))
        )

    def release(self, *, land: bool) -> None:
        assert self._land is not None, "nothing is held yet"
        if not self._land.done():
            self._land.set_result(land)

    async def hold(self, entry: RequestLog) -> bool:
        self.entry = entry
        self._land = asyncio.get_running_loop().create_future()
        self.reached.set()
        return await self._land


class DiscordEmulator(InteractionDriver):
    """A loopback Discord: REST under `api_base` and a gateway the real discord.py client uses."""

    def __init__(
        self,
        *,
        granted_intents: int = 0,
        bot_name: str = "Hearth",
        heartbeat_interval_ms: int = 41250,
        shard_count: int = 1,
    ) -> None:
        if shard_count < 1:
            raise ValueError("shard_count must be at least 1")
        #: What GET /gateway/bot recommends; IDENTIFY with a lower total is refused (4011).
        self.shard_count = shard_count
        self.application_id = snowflake()
        self.application_flags = 0
        #: privileged intents the application has been granted (Intents.GUILD_MEMBERS, ...)
        self.granted_intents = granted_intents
        self.bot_user = UserState(id=self.application_id, name=bot_name, bot=True)
        self.users: dict[int, UserState] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, GuildState] = {}
        self.channels: dict[int, ChannelState] = {}
        self.messages: dict[int, MessageState] = {}
        self.commands: dict[int, CommandState] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.uploads: dict[int, AttachmentState] = {}
        self.requests: list[RequestLog] = []
        self.faults: list[FaultRule] = []
        self.paused: list[PausedRoute] = []
        #: how long Discord remembers a message's nonce for ``enforce_nonce`` ("the past
        #: few minutes" in Discord's documentation), measured on :attr:`clock`
        self.nonce_window = timedelta(minutes=5)
        self._nonces: dict[tuple[int, str], tuple[int, datetime]] = {}
        #: called with each finished REST call, synchronously, before anything else runs
        #: (e.g. a crash test kills the bot process the moment its Nth answer arrives)
        self.request_hooks: list[Callable[[RequestLog], None]] = []
        #: every message the bot created or edited, with the mentions Discord would notify
        self.mention_log: list[MentionRecord] = []
        #: Discord's "now" (e.g. for "Cannot schedule event in the past"); a test driving a
        #: fake clock points this at it so the emulator and the bot agree on the time.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.gateway = Gateway(self)
        self.gateway.heartbeat_interval_ms = heartbeat_interval_ms
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.app = self._build_app()

    # -- lifecycle -----------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        r = app.router
        r.add_get("/gateway", self.gateway.handle)
        r.add_get("/attachments/{att_id}/{filename}", self._serve_attachment)
        for module in (
            routes_core,
            routes_guilds,
            routes_channels,
            routes_messages,
            routes_interactions,
        ):
            module.setup(r, self, API_PREFIX)
        return app

    async def start(self) -> DiscordEmulator:
        self._changed = asyncio.Event()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(self.app, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.SockSite(self._runner, sock)
        await site.start()
        return self

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for `discord.http.Route.BASE`."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- change notification -------------------------------------------------------------------

    def notify(self) -> None:
        """Wake every `wait_for`; called after each state change."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,
        message: str | None = None,
    ) -> T:
        """Wait until `predicate()` is truthy (re-checked on every state change); return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                what = message or getattr(predicate, "__name__", repr(predicate))
                recent = [f"{r.method} {r.path} -> {r.status}" for r in self.requests[-8:]]
                raise AssertionError(
                    f"emulator: condition not met within {timeout}s: {what}; "
                    f"last requests: {recent}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.02))

    # -- middleware ----------------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        path = request.path
        if not path.startswith(API_PREFIX):
            return await handler(request)
        rel = path[len(API_PREFIX):]
        entry = RequestLog(request.method, rel, 0, None, dict(request.query))
        self.requests.append(entry)
        try:
            try:
                body = await read_body(request)
                entry.json = body.json
                entry.files = [f.filename for f in body.files]
            except ApiError:
                pass
            resp = await self._paused(request.method, rel, entry)
            if resp is None:
                resp = self._injected_fault(request.method, rel)
            if resp is None:
                auth = request.headers.get("Authorization", "")
                public = rel.startswith(("/webhooks/", "/interactions/"))
                if not public and not auth.startswith("Bot "):
                    resp = json_response({"message": "401: Unauthorized", "code": 0}, 401)
                else:
                    try:
                        resp = await handler(request)
                    except ApiError as err:
                        resp = error_response(err)
            entry.status = resp.status
            # Discord answers through Google's load balancer; discord.py treats a 429 without
            # this header as a Cloudflare ban and does not retry
            resp.headers["Via"] = "1.1 google"
            for hook in list(self.request_hooks):
                hook(entry)
            return resp
        finally:
            self.notify()

    async def _paused(
        self, method: str, path: str, entry: RequestLog
    ) -> web.Response | None:
        for pause in self.paused:
            if pause.matches(method, path, entry.json):
                self.paused.remove(pause)
                self.notify()
                if await pause.hold(entry):
                    return None  # goes on to the handler and takes effect
                return json_response({"message": "Connection lost (emulated)", "code": 0}, 503)
        return None

    def _injected_fault(self, method: str, path: str) -> web.Response | None:
        for rule in self.faults:
            if not rule.matches(method, path):
                continue
            rule.times -= 1
            if rule.status == 429:
                retry = rule.retry_after if rule.retry_after is not None else 0.05
                body = rule.json or {
                    "message": "You are being rate limited.",
                    "retry_after": retry,
                    "global": False,
                }
                headers = {
                    "Retry-After": str(max(1, round(retry))),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
                    "X-RateLimit-Reset-After": f"{retry:.3f}",
                    "X-RateLimit-Bucket": f"emu-{abs(hash(rule.pattern.pattern)):x}",
                    "X-RateLimit-Scope": "user",
                }
                return json_response(body, 429, headers)
            body = rule.json or {"message": f"Injected failure {rule.status}", "code": 0}
            return json_response(body, rule.status)
        return None

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        att_id = int(request.match_info["att_id"])
        candidates = [a for m in self.messages.values() for a in m.attachments]
        for att in [*candidates, *self.uploads.values()]:
                if att.id == att_id:
                    # headers, not content_type=: aiohttp refuses a charset in content_type
                    return web.Response(body=att.data, headers={
                        "Content-Type": att.content_type or "application/octet-stream"})
        raise web.HTTPNotFound()

    # -- fault injection -----------------------------------------------------------------------

    def pause_route(
        self,
        method: str,
        path_regex: str,
        *,
        when: Callable[[dict[str, Any] | None], bool] | None = None,
    ) -> PausedRoute:
        """Hold the next call matching METHOD, the path regex and ``when(json body)`` before
        Discord acts on it, until the test calls ``release(land=...)`` (one call only)."""
        pause = PausedRoute(method.upper(), re.compile(path_regex), when)
        self.paused.append(pause)
        return pause

    def fail_route(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        retry_after: float | None = None,
        json: dict[str, Any] | None = None,
        after: int = 0,
        every: int = 1,
    ) -> FaultRule:
        """Answer the next `times` calls matching METHOD and regex (on the path after /api/v10),
        once `after` matching calls have gone through normally; with `every=N` only one
        matching call in N fails (the others go through)."""
        rule = FaultRule(
            method.upper(), re.compile(path_regex), status, times, retry_after, json, after,
            every,
        )
        self.faults.append(rule)
        return rule

    def rate_limit(
        self, method: str, path_regex: str, retry_after: float = 0.05, times: int = 1,
        every: int = 1,
    ) -> FaultRule:
        """Answer matching calls with Discord's 429 body and X-RateLimit-* headers."""
        return self.fail_route(
            method, path_regex, 429, times=times, retry_after=retry_after, every=every
        )

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close every gateway socket; clients are expected to RESUME."""
        await self.gateway.drop(code)

    async def invalidate_sessions(self) -> None:
        """Make sessions non-resumable and drop sockets: clients must IDENTIFY afresh."""
        self.gateway.invalidate_sessions()
        await self.gateway.drop(4000)

    # -- lookups (raise Discord's 404s) --------------------------------------------------------

    def get_user(self, user_id: int | str) -> UserState:
        try:
            return self.users[int(user_id)]
        except (KeyError, ValueError):
            raise unknown("User") from None

    def get_guild(self, guild_id: int | str) -> GuildState:
        try:
            return self.guilds[int(guild_id)]
        except (KeyError, ValueError):
            raise unknown("Guild") from None

    def get_channel(self, channel_id: int | str) -> ChannelState:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise unknown("Channel") from None

    def get_member(self, guild: GuildState, user_id: int | str) -> MemberState:
        try:
            return guild.members[int(user_id)]
        except (KeyError, ValueError):
            raise unknown("Member") from None

    def get_message(self, channel: ChannelState, message_id: int | str) -> MessageState:
        msg = self.messages.get(int(message_id))
        if msg is None or msg.deleted or msg.channel_id != channel.id:
            raise unknown("Message")
        return msg

    def guild_of(self, channel: ChannelState) -> GuildState | None:
        return self.guilds.get(channel.guild_id) if channel.guild_id else None

    # -- the bot's own permissions -------------------------------------------------------------

    def bot_member(self, guild: GuildState) -> MemberState:
        return guild.members[self.bot_user.id]

    def bot_permissions(self, guild: GuildState, channel: ChannelState | None = None) -> int:
        return compute_permissions(guild, self.bot_member(guild), channel)

    def require(self, guild: GuildState, perms: int, channel: ChannelState | None = None) -> None:
        """403 50001 if the bot cannot see the channel, 50013 if it lacks `perms`."""
        have = self.bot_permissions(guild, channel)
        if channel is not None and not have & P.VIEW_CHANNEL:
            raise missing_access()
        if have & perms != perms:
            raise missing_permissions()

    # -- gateway helpers -----------------------------------------------------------------------

    def guild_create_payload(self, guild: GuildState, intents: int) -> dict[str, Any]:
        data = guild.payload()
        members = list(guild.members.values())
        if not intents & Intents.GUILD_MEMBERS:
            members = [m for m in members if m.user.id == self.bot_user.id]
        channels = [c for c in guild.channels.values() if not c.is_thread]
        threads = [c for c in guild.channels.values() if c.is_thread and not c.archived]
        data.update(
            unavailable=False,
            large=False,
            joined_at=self.bot_member(guild).joined_at,
            member_count=len(members),
            members=[m.payload() for m in members],
            channels=[c.payload() for c in channels],
            threads=[c.payload() for c in threads],
            voice_states=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[e.payload() for e in guild.events.values() if not e.deleted],
            soundboard_sounds=[],
        )
        # with the members intent the client expects member_count members (else it chunks)
        if intents & Intents.GUILD_MEMBERS:
            data["member_count"] = len(guild.members)
        else:
            data["member_count"] = len(guild.members)
            data["large"] = False
        return data

    def dispatch(self, event: str, data: dict[str, Any], *, guild_id: int | None = None) -> None:
        self.gateway.dispatch(event, data, guild_id=guild_id)
        self.notify()

    def dispatch_channel(self, event: str, channel: ChannelState) -> None:
        if channel.type == ChannelType.DM:
            return
        self.dispatch(event, channel.payload(), guild_id=channel.guild_id)

    def dispatch_member_update(self, guild: GuildState, member: MemberState) -> None:
        data = {"guild_id": str(guild.id), **member.payload()}

        def build(session: GatewaySession) -> dict[str, Any] | None:
            if session.intents & Intents.GUILD_MEMBERS or member.user.id == self.bot_user.id:
                return data
            return None

        self.gateway.dispatch("GUILD_MEMBER_UPDATE", guild_id=guild.id, build=build)
        self.notify()

    def can_read_content(self, session: GatewaySession, msg: MessageState) -> bool:
        if session.intents & Intents.MESSAGE_CONTENT:
            return True
        if msg.guild_id is None or msg.author.id == self.bot_user.id:
            return True
        return self.bot_user.id in msg.mention_ids()

    def remember_nonce(self, author: UserState, nonce: int | str, msg: MessageState) -> None:
        """Every created message's nonce is remembered (with or without enforce_nonce): a
        later message that enforces the same nonce is checked against it."""
        msg.nonce = nonce
        self._nonces[(author.id, str(nonce))] = (msg.id, self.clock())

    def message_with_nonce(self, author: UserState, nonce: int | str) -> MessageState | None:
        """The message ``author`` created with ``nonce`` within :attr:`nonce_window`."""
        found = self._nonces.get((author.id, str(nonce)))
        if found is None or self.clock() - found[1] > self.nonce_window:
            return None
        return self.messages.get(found[0])

    def message_payload(self, msg: MessageState, *, redact: bool = False) -> dict[str, Any]:
        data = msg.payload(self.base_url, redact=redact)
        if msg.guild_id:
            guild = self.guilds.get(msg.guild_id)
            member = guild.members.get(msg.author.id) if guild else None
            if member is not None:
                data["member"] = member.payload(with_user=False)
        return data

    def dispatch_message(self, event: str, msg: MessageState) -> None:
        """MESSAGE_CREATE/UPDATE honouring the message content intent; ephemerals stay private."""
        if msg.ephemeral:
            return
        channel = self.channels.get(msg.channel_id)
        dm = channel is not None and channel.type == ChannelType.DM
        guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
        if guild is not None and channel is not None and not (
            self.bot_permissions(guild, channel) & P.VIEW_CHANNEL
        ):
            return  # Discord only sends messages from channels the bot can see

        def build(session: GatewaySession) -> dict[str, Any]:
            data = self.message_payload(msg, redact=not self.can_read_content(session, msg))
            if event == "MESSAGE_CREATE" and msg.nonce is not None:
                data["nonce"] = msg.nonce
            return data

        self.gateway.dispatch(event, dm=dm, guild_id=msg.guild_id, build=build)
        self.notify()

    # -- seeding -------------------------------------------------------------------------------

    def create_user(
        self, name: str, *, bot: bool = False, dms_open: bool = True
    ) -> UserState:
        user = UserState(id=snowflake(), name=name, bot=bot, dms_open=dms_open)
        self.users[user.id] = user
        return user

    def create_guild(
        self,
        name: str,
        owner: UserState | None = None,
        features: Iterable[str] = ("COMMUNITY",),
        bot_permissions: int = DEFAULT_BOT,
        everyone_permissions: int = DEFAULT_EVERYONE,
        system_channel: str | None = None,
        shard: int | None = None,
    ) -> GuildState:
        """A guild with @everyone, the bot as member with its managed role, and the owner;
        ``system_channel`` names a text channel made the guild's system channel; ``shard``:
        an id on that shard of :attr:`shard_count` (``(id >> 22) % count == shard``)."""
        owner = owner or self.create_user(f"{name} owner")
        gid = snowflake()
        if shard is not None:
            if not 0 <= shard < self.shard_count:
                raise ValueError(f"shard {shard} is not one of 0..{self.shard_count - 1}")
            # The low 22 bits (a global counter) keep the id unique; the timestamp moves.
            while (gid >> 22) % self.shard_count != shard:
                gid += 1 << 22
        guild = GuildState(id=gid, name=name, owner_id=owner.id, features=list(features))
        guild.roles[gid] = RoleState(
            id=gid, guild_id=gid, name="@everyone", permissions=everyone_permissions
        )
        bot_role = RoleState(
            id=snowflake(), guild_id=gid, name=self.bot_user.name, permissions=bot_permissions,
            position=1, managed=True, bot_id=self.bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.bot_role_id = bot_role.id
        guild.members[self.bot_user.id] = MemberState(
            user=self.bot_user, guild_id=gid, roles=[bot_role.id]
        )
        guild.members[owner.id] = MemberState(user=owner, guild_id=gid)
        if system_channel is not None:
            channel = ChannelState(id=snowflake(), type=ChannelType.TEXT, name=system_channel,
                                   guild_id=gid, position=0)
            self.add_channel(guild, channel)
            guild.system_channel_id = channel.id
        self.guilds[gid] = guild
        if self.gateway.sessions:
            for session in self.gateway.sessions.values():
                if not session.invalid and session.owns(gid):
                    # Joining: Discord sends no `unavailable` (discord.py then dispatches
                    # on_guild_join; `false` would read as an outage ending).
                    payload = self.guild_create_payload(guild, session.intents)
                    payload.pop("unavailable", None)
                    session.push("GUILD_CREATE", payload)
            self.notify()
        return guild

    def bot_role(self, guild: GuildState) -> RoleState:
        assert guild.bot_role_id is not None
        return guild.roles[guild.bot_role_id]

    def set_bot_permissions(self, guild: GuildState, permissions: int) -> None:
        """Set the permissions of the bot's managed role (dispatches GUILD_ROLE_UPDATE)."""
        role = self.bot_role(guild)
        role.permissions = int(permissions)
        self.dispatch(
            "GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": role.payload()},
            guild_id=guild.id,
        )

    def set_everyone_permissions(self, guild: GuildState, permissions: int) -> None:
        role = guild.everyone
        role.permissions = int(permissions)
        self.dispatch(
            "GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": role.payload()},
            guild_id=guild.id,
        )

    def add_member(
        self,
        guild: GuildState,
        user: UserState,
        roles: Iterable[RoleState] = (),
        permissions: int | None = None,
        nick: str | None = None,
    ) -> MemberState:
        """Add a person; `permissions` gives them a personal role with those permissions."""
        member = MemberState(user=user, guild_id=guild.id, roles=[r.id for r in roles], nick=nick)
        if permissions is not None:
            role = self.create_role(guild, f"{user.name} perms", permissions)
            member.roles.append(role.id)
        guild.members[user.id] = member
        data = {"guild_id": str(guild.id), **member.payload()}
        self.dispatch("GUILD_MEMBER_ADD", data, guild_id=guild.id)
        return member

    def create_role(
        self,
        guild: GuildState,
        name: str,
        permissions: int = 0,
        *,
        position: int | None = None,
    ) -> RoleState:
        """Seed a role; by default just above @everyone (Discord's position for new roles)."""
        role = RoleState(id=snowflake(), guild_id=guild.id, name=name, permissions=permissions)
        self.insert_role(guild, role, position if position is not None else 1)
        self.dispatch(
            "GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()},
            guild_id=guild.id,
        )
        return role

    def insert_role(self, guild: GuildState, role: RoleState, position: int) -> None:
        for other in guild.roles.values():
            if other.id != guild.id and other.position >= position:
                other.position += 1
        role.position = position
        guild.roles[role.id] = role

    def create_channel(
        self,
        guild: GuildState,
        name: str,
        type: int = ChannelType.TEXT,
        *,
        parent: ChannelState | None = None,
        overwrites: Iterable[Overwrite] = (),
        tags: Iterable[str] = (),
    ) -> ChannelState:
        """Seed a channel (no permission checks: this is the server admin acting)."""
        channel = ChannelState(
            id=snowflake(), type=type, name=name, guild_id=guild.id,
            parent_id=parent.id if parent else None, overwrites=list(overwrites),
            position=len(guild.channels),
            available_tags=[ForumTag(id=snowflake(), name=t) for t in tags],
        )
        self.add_channel(guild, channel)
        self.dispatch_channel("CHANNEL_CREATE", channel)
        return channel

    def add_channel(self, guild: GuildState | None, channel: ChannelState) -> None:
        self.channels[channel.id] = channel
        if guild is not None:
            guild.channels[channel.id] = channel

    async def post_message(
        self,
        channel: ChannelState,
        author: UserState,
        content: str,
        *,
        embeds: list[dict[str, Any]] | None = None,
    ) -> MessageState:
        """A person posts in a channel (MESSAGE_CREATE honours the content intent)."""
        msg = routes_messages.store_message(
            self, channel, author, {"content": content, "embeds": embeds or []}, []
        )
        self.dispatch_message("MESSAGE_CREATE", msg)
        await asyncio.sleep(0)
        return msg

    # -- inspection ----------------------------------------------------------------------------

    def channels_in(self, guild: GuildState, type: int | None = None) -> list[ChannelState]:
        return [
            c for c in guild.channels.values() if type is None or c.type == type
        ]

    def channel_by_name(
        self, guild: GuildState, name: str, parent: ChannelState | None = None
    ) -> ChannelState | None:
        for c in guild.channels.values():
            if c.name == name and (parent is None or c.parent_id == parent.id):
                return c
        return None

    def children_of(self, category: ChannelState) -> list[ChannelState]:
        return [
            c for c in self.channels.values()
            if c.parent_id == category.id and not c.is_thread
        ]

    def threads_in(self, channel: ChannelState) -> list[ChannelState]:
        return [c for c in self.channels.values() if c.is_thread and c.parent_id == channel.id]

    def messages_in(
        self, channel: ChannelState, *, include_ephemeral: bool = False
    ) -> list[MessageState]:
        return [
            m for m in self.messages.values()
            if m.channel_id == channel.id and not m.deleted
            and (include_ephemeral or not m.ephemeral)
        ]

    def dm_channel(self, user: UserState) -> ChannelState | None:
        for c in self.channels.values():
            if c.type == ChannelType.DM and any(u.id == user.id for u in c.recipients):
                return c
        return None

    def dms_to(self, user: UserState) -> list[MessageState]:
        channel = self.dm_channel(user)
        return self.messages_in(channel) if channel else []

    def roles_of(self, guild: GuildState, user: UserState | MemberState) -> list[RoleState]:
        uid = user.user.id if isinstance(user, MemberState) else user.id
        member = guild.members.get(uid)
        if member is None:
            return []
        return [guild.roles[r] for r in member.roles if r in guild.roles]

    def role_by_name(self, guild: GuildState, name: str) -> RoleState | None:
        return next((r for r in guild.roles.values() if r.name == name), None)

    def overwrites(self, channel: ChannelState) -> dict[int, Overwrite]:
        return {o.id: o for o in channel.overwrites}

    def overwrite_for(
        self, channel: ChannelState, target: RoleState | UserState | GuildState
    ) -> Overwrite | None:
        return self.overwrites(channel).get(target.id)

    def scheduled_events(self, guild: GuildState) -> list[ScheduledEventState]:
        return [e for e in guild.events.values() if not e.deleted]

    def mark_interested(
        self, user: UserState, event: ScheduledEventState, interested: bool = True
    ) -> None:
        """A member clicks "Interested" on an event (or takes it back), as in the Discord
        client: GUILD_SCHEDULED_EVENT_USER_ADD/REMOVE to sessions with the
        GUILD_SCHEDULED_EVENTS intent. A repeated click changes nothing and sends nothing."""
        if event.deleted or (user.id in event.interested) == interested:
            return
        if interested:
            event.interested.add(user.id)
        else:
            event.interested.discard(user.id)
        kind = "ADD" if interested else "REMOVE"
        self.dispatch(
            f"GUILD_SCHEDULED_EVENT_USER_{kind}",
            {
                "guild_scheduled_event_id": str(event.id),
                "user_id": str(user.id),
                "guild_id": str(event.guild_id),
            },
            guild_id=event.guild_id,
        )

    def effective_permissions(
        self,
        guild: GuildState,
        user: UserState | MemberState,
        channel: ChannelState | None = None,
    ) -> int:
        member = user if isinstance(user, MemberState) else self.get_member(guild, user.id)
        return compute_permissions(guild, member, channel)

    def can(
        self,
        guild: GuildState,
        user: UserState | MemberState,
        perms: int,
        channel: ChannelState | None = None,
    ) -> bool:
        return self.effective_permissions(guild, user, channel) & perms == perms

    def calls(self, method: str | None = None, path_regex: str | None = None) -> list[RequestLog]:
        """REST calls filtered by method and a regex on the path (after /api/v10)."""
        return [
            r for r in self.requests
            if (method is None or r.method == method.upper())
            and (path_regex is None or re.search(path_regex, r.path))
        ]

    def mutating_calls(self) -> list[RequestLog]:
        """Every POST/PUT/PATCH/DELETE that is not an interaction reply (for 'nothing done')."""
        return [
            r for r in self.requests
            if r.method != "GET" and not r.path.startswith(("/interactions/", "/webhooks/"))
            and not r.path.endswith("/commands")
        ]

    def command(self, name: str, guild: GuildState | None = None) -> CommandState | None:
        matches = [c for c in self.commands.values() if c.name == name]
        if guild is not None:
            scoped = [c for c in matches if c.guild_id == guild.id]
            if scoped:
                return scoped[0]
        globals_ = [c for c in matches if c.guild_id is None]
        return globals_[0] if globals_ else None

    @property
    def sessions(self) -> list[GatewaySession]:
        return [s for s in self.gateway.sessions.values() if not s.invalid]

    def require_view(self, guild: GuildState, channel: ChannelState) -> None:
        if not self.bot_permissions(guild, channel) & P.VIEW_CHANNEL:
            raise missing_access()

    def check_not_dm(self, channel: ChannelState) -> GuildState:
        guild = self.guild_of(channel)
        if guild is None:
            raise ApiError(400, 50003, "Cannot execute action on a DM channel")
        return guild
