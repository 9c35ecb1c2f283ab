"""The gateway websocket: HELLO, IDENTIFY/READY, RESUME with replay, intents-filtered dispatch.

Sharding as Discord does it: ``emu.shard_count`` is what ``GET /gateway/bot`` recommends; a
session identifies as ``shard: [id, total]`` and gets the guilds with
``(guild_id >> 22) % total == id`` only (in READY, GUILD_CREATE and every guild event), and
DMs only on shard 0. IDENTIFY is refused with close 4010 (Invalid shard) for a malformed
shard or an id outside ``0..total-1``, and with 4011 (Sharding required) for a total below
the shard count (the session would have handled too many guilds); a higher total is
accepted, as Discord accepts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.emulator.server import DiscordEmulator

log = logging.getLogger(__name__)


class Intents:
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MODERATION = 1 << 2
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15
    GUILD_SCHEDULED_EVENTS = 1 << 16

    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


GUILD_EVENT_INTENTS: dict[str, int] = {
    "CHANNEL_CREATE": Intents.GUILDS,
    "CHANNEL_UPDATE": Intents.GUILDS,
    "CHANNEL_DELETE": Intents.GUILDS,
    "THREAD_CREATE": Intents.GUILDS,
    "THREAD_UPDATE": Intents.GUILDS,
    "THREAD_DELETE": Intents.GUILDS,
    "GUILD_UPDATE": Intents.GUILDS,
    "GUILD_ROLE_CREATE": Intents.GUILDS,
    "GUILD_ROLE_UPDATE": Intents.GUILDS,
    "GUILD_ROLE_DELETE": Intents.GUILDS,
    "GUILD_MEMBER_ADD": Intents.GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": Intents.GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": Intents.GUILD_MEMBERS,
    "MESSAGE_CREATE": Intents.GUILD_MESSAGES,
    "MESSAGE_UPDATE": Intents.GUILD_MESSAGES,
    "MESSAGE_DELETE": Intents.GUILD_MESSAGES,
    "MESSAGE_REACTION_ADD": Intents.GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": Intents.GUILD_MESSAGE_REACTIONS,
    "GUILD_SCHEDULED_EVENT_CREATE": Intents.GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_UPDATE": Intents.GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_DELETE": Intents.GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_USER_ADD": Intents.GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_USER_REMOVE": Intents.GUILD_SCHEDULED_EVENTS,
}
DM_EVENT_INTENTS: dict[str, int] = {
    "MESSAGE_CREATE": Intents.DIRECT_MESSAGES,
    "MESSAGE_UPDATE": Intents.DIRECT_MESSAGES,
    "MESSAGE_DELETE": Intents.DIRECT_MESSAGES,
    "CHANNEL_PINS_UPDATE": Intents.DIRECT_MESSAGES,
    "MESSAGE_REACTION_ADD": Intents.DIRECT_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": Intents.DIRECT_MESSAGE_REACTIONS,
}


@dataclass(eq=False)
class GatewaySession:
    """One identified session; outlives its socket so that RESUME can replay what was missed."""

    id: str
    intents: int
    shard: list[int]
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    invalid: bool = False

    def owns(self, guild_id: int) -> bool:
        """Is ``guild_id`` on this session's shard (Discord's formula)?"""
        shard_id, total = self.shard
        return (guild_id >> 22) % total == shard_id

    def takes(self, *, dm: bool, guild_id: int | None) -> bool:
        """Does an event of this guild (or a DM: shard 0 only) go to this session?"""
        if guild_id is not None:
            return self.owns(guild_id)
        return self.shard[0] == 0 if dm else True

    def wants(self, event: str, *, dm: bool, guild_id: int | None) -> bool:
        if event == "GUILD_MEMBER_UPDATE" and guild_id is not None:
            return True  # filtered per-payload by the emulator (own member always arrives)
        table = DM_EVENT_INTENTS if dm else GUILD_EVENT_INTENTS
        need = table.get(event)
        return need is None or bool(self.intents & need)

    def push(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        frame = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.sent.append(frame)
        if self.ws is not None:
            self.queue.put_nowait(frame)


class Gateway:
    """Owns the websocket endpoint and every session."""

    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.sessions: dict[str, GatewaySession] = {}
        self.sockets: set[web.WebSocketResponse] = set()
        self.heartbeat_interval_ms = 41250
        self.identify_count = 0
        self.resume_count = 0
        #: every websocket handshake, as the URL the client asked for (host, path and query)
        self.connections: list[str] = []
        #: READY's ``resume_gateway_url``. Discord sends a regional host of its own
        #: (``wss://gateway-us-east1-b.discord.gg``) whatever gateway the client dialled; a test
        #: of a bot behind a proxy sets that here. ``None``: this emulator's own URL, as a
        #: proxy that rewrites READY would send (what plain discord.py test clients need).
        self.resume_gateway_url: str | None = None

    # -- dispatch ----------------------------------------------------------------------------

    def dispatch(
        self,
        event: str,
        data: dict[str, Any] | None = None,
        *,
        guild_id: int | None = None,
        dm: bool = False,
        build: Any = None,
    ) -> None:
        """Send one event to every live or resumable session whose intents cover it.

        `build(session)` may return a per-session payload (e.g. message content redaction),
        or None to skip that session.
        """
        for session in list(self.sessions.values()):
            if session.invalid or not session.takes(dm=dm, guild_id=guild_id):
                continue
            if not session.wants(event, dm=dm, guild_id=guild_id):
                continue
            payload = build(session) if build is not None else data
            if payload is None:
                continue
            session.push(event, payload)

    # -- websocket handler -------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self.sockets.add(ws)
        self.connections.append(str(request.url))
        session: GatewaySession | None = None
        writer: asyncio.Task[None] | None = None
        try:
            await self._send(ws, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                                  "s": None, "t": None})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                d = frame.get("d")
                if op == 1:
                    await self._send(ws, {"op": 11, "d": None, "s": None, "t": None})
                elif op == 2:
                    session = await self._identify(ws, d)
                    if session is None:
                        break
                    writer = asyncio.create_task(self._writer(session, ws))
                elif op == 6:
                    session = await self._resume(ws, d)
                    if session is None:
                        continue
                    writer = asyncio.create_task(self._writer(session, ws))
                # presence updates (3), voice (4), member requests (8) are accepted silently
        finally:
            self.sockets.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
                session.queue.put_nowait(None)
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await writer
            if not ws.closed:
                await ws.close()
            self.emu.notify()
        return ws

    async def _send(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        await ws.send_str(json.dumps(frame))

    async def _writer(self, session: GatewaySession, ws: web.WebSocketResponse) -> None:
        while True:
            frame = await session.queue.get()
            if frame is None or ws.closed:
                return
            try:
                await ws.send_str(json.dumps(frame))
            except (ConnectionError, RuntimeError):
                return

    async def _identify(
        self, ws: web.WebSocketResponse, d: dict[str, Any]
    ) -> GatewaySession | None:
        emu = self.emu
        intents = int(d.get("intents", 0))
        not_granted = intents & Intents.PRIVILEGED & ~emu.granted_intents
        if not_granted:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return None
        shard = d.get("shard") or [0, 1]
        valid = (
            isinstance(shard, list) and len(shard) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
            and shard[1] >= 1 and 0 <= shard[0] < shard[1]
        )  # fmt: skip
        if not valid:
            await ws.close(code=4010, message=b"Invalid shard.")
            return None
        if shard[1] < emu.shard_count:
            await ws.close(code=4011, message=b"Sharding required.")
            return None
        self.identify_count += 1
        session = GatewaySession(id=secrets.token_hex(16), intents=intents, shard=list(shard))
        session.ws = ws
        self.sessions[session.id] = session
        bot = emu.bot_user
        ready = {
            "v": 10,
            "user": {**bot.payload(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [
                {"id": str(g.id), "unavailable": True}
                for g in emu.guilds.values() if session.owns(g.id)
            ],
            "session_id": session.id,
            "resume_gateway_url": self.resume_gateway_url or emu.gateway_url,
            "session_type": "normal",
            "application": {"id": str(emu.application_id), "flags": emu.application_flags},
            "shard": session.shard,
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "_trace": ["emulator"],
        }
        session.push("READY", ready)
        for guild in emu.guilds.values():
            if session.owns(guild.id):
                session.push("GUILD_CREATE", emu.guild_create_payload(guild, session.intents))
        emu.notify()
        return session

    async def _resume(
        self, ws: web.WebSocketResponse, d: dict[str, Any]
    ) -> GatewaySession | None:
        session = self.sessions.get(str(d.get("session_id")))
        if session is None or session.invalid:
            await self._send(ws, {"op": 9, "d": False, "s": None, "t": None})
            return None
        if session.ws is not None and not session.ws.closed:
            await session.ws.close(code=4000)
        self.resume_count += 1
        last = int(d.get("seq") or 0)
        session.queue = asyncio.Queue()
        session.ws = ws
        for frame in session.sent:
            if frame["s"] > last:
                session.queue.put_nowait(frame)
        session.push("RESUMED", {"_trace": ["emulator"]})
        self.emu.notify()
        return session

    # -- faults and shutdown -----------------------------------------------------------------

    async def drop(self, code: int = 4000) -> None:
        """Close every socket abruptly; sessions remain resumable."""
        for ws in list(self.sockets):
            await ws.close(code=code, message=b"emulator drop")

    def invalidate_sessions(self) -> None:
        for session in self.sessions.values():
            session.invalid = True

    async def send_invalid_session(self, *, resumable: bool = False) -> None:
        """Op 9 Invalid Session on every live socket, as Discord sends when it ends a session.

        With ``resumable=False`` (``d: false``) the sessions are gone: the client must open a
        new connection and IDENTIFY. Discord leaves closing the socket to the client.
        """
        for session in list(self.sessions.values()):
            if session.ws is None or session.ws.closed:
                continue
            if not resumable:
                session.invalid = True
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self._send(session.ws, {"op": 9, "d": resumable, "s": None, "t": None})

    async def time_out_sessions(self) -> None:
        """Close 4009 Session timed out: the sessions are gone, a RESUME gets op 9 ``d: false``."""
        self.invalidate_sessions()
        for ws in list(self.sockets):
            await ws.close(code=4009, message=b"Session timed out.")

    async def close_all(self) -> None:
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"emulator stopping")
