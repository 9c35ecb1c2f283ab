"""``python -m bot invite`` and ``python -m bot check``: the two steps between a bot token and a
first community, through Discord's REST API and one gateway handshake (no cogs, no commands
synced, nothing changed in any server or in the database).

``check`` reports, in plain words, what would stop Hearth working:

* the token (Discord accepts it) and the connection (REST, then the gateway says hello);
* in each server: the permissions of Hearth's role (:data:`bot.permissions.HEARTH_PERMISSIONS`)
  and its position: Discord lets a bot give or take only roles *below* its own top role, so every
  community's member and facilitator role must sit under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import discord
import yarl
from discord.http import HTTPClient

from bot.permissions import HEARTH_PERMISSIONS, invite_url, missing

GATEWAY_HELLO = 10


@dataclass
class GuildReport:
    name: str
    missing_permissions: list[str] = field(default_factory=list)
    #: (community role name, Hearth's top role name) pairs where Hearth's is not above.
    roles_above: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing_permissions and not self.roles_above


@dataclass
class CheckReport:
    bot_name: str
    application_id: int
    guilds: list[GuildReport]

    @property
    def ok(self) -> bool:
        return bool(self.guilds) and all(g.ok for g in self.guilds)

    def lines(self) -> list[str]:
        out = [
            f"✓ token: Discord accepts it (bot {self.bot_name})",
            "✓ connection: Discord's API and gateway answer",
        ]
        if not self.guilds:
            out.append(
                "✗ the bot is in no server yet: open the link `python -m bot invite` prints, "
                "choose your server and press Authorise"
            )
        for g in self.guilds:
            if g.ok:
                out.append(f"✓ {g.name}: every permission Hearth needs; its role is high enough")
                continue
            if g.missing_permissions:
                out.append(
                    f"✗ {g.name}: Hearth's role lacks {_and(g.missing_permissions)}. In Server "
                    "Settings → Roles → the Hearth role, turn "
                    + ("it" if len(g.missing_permissions) == 1 else "them")
                    + " on (or invite the bot again with the link `python -m bot invite` prints)"
                )
            for community_role, own_role in g.roles_above:
                out.append(
                    f"✗ {g.name}: the role “{community_role}” is not below Hearth's role "
                    f"“{own_role}”, so Hearth cannot give or take it. In Server Settings → Roles, "
                    f"drag “{own_role}” above it"
                )
        out.append("all is well" if self.ok else "something needs fixing (see ✗ above)")
        return out


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


async def _login(token: str) -> tuple[HTTPClient, dict[str, Any]]:
    http = HTTPClient(asyncio.get_running_loop())
    try:
        me = await http.static_login(token)
    except BaseException:
        await http.close()
        raise
    return http, dict(me)


async def application_id(token: str) -> int:
    """The application's id, as Discord itself states it (GET /oauth2/applications/@me).

    Not the token's first segment: that is the bot *user's* id, which differs from the
    application id for some older applications.
    """
    http, _ = await _login(token)
    try:
        return int((await http.application_info())["id"])
    finally:
        await http.close()


async def run_check(token: str, db_path: Path | str | None) -> CheckReport:
    """``db_path``: the SQLite file, or a PostgreSQL URL, whose communities' roles to check."""
    http, me = await _login(token)
    try:
        app_id = int((await http.application_info())["id"])
        await _gateway_says_hello(http)
        bot_id = int(me["id"])
        guilds = []
        for partial in await http.get_guilds(200):
            guilds.append(await _guild_report(http, int(partial["id"]), bot_id, db_path))
        return CheckReport(bot_name=str(me.get("username")), application_id=app_id, guilds=guilds)
    finally:
        await http.close()


async def _gateway_says_hello(http: HTTPClient) -> None:
    """Open the gateway connection the bot would use and wait for Discord's Hello (op 10)."""
    _, url, _ = await http.get_bot_gateway()
    ws = await http.ws_connect(str(yarl.URL(url).with_query(v=10, encoding="json")))
    try:
        msg = await ws.receive(timeout=30)
        if msg.type is not aiohttp.WSMsgType.TEXT or msg.json().get("op") != GATEWAY_HELLO:
            raise discord.GatewayNotFound()
    finally:
        await ws.close()


async def _guild_report(
    http: HTTPClient, guild_id: int, bot_id: int, db_path: Path | str | None
) -> GuildReport:
    guild = await http.get_guild(guild_id)
    member = await http.get_member(guild_id, bot_id)
    roles = {int(r["id"]): r for r in guild["roles"]}
    report = GuildReport(name=str(guild["name"]))
    mine = [roles[int(r)] for r in member["roles"] if int(r) in roles]
    if int(guild["owner_id"]) == bot_id:
        return report
    have = discord.Permissions(int(roles[guild_id]["permissions"]))
    for role in mine:
        have.value |= int(role["permissions"])
    report.missing_permissions = missing(have, HEARTH_PERMISSIONS)
    top = max(mine, key=lambda r: (int(r["position"]), -int(r["id"])), default=roles[guild_id])
    for role_id in await _community_role_ids(db_path, guild_id):
        theirs = roles.get(role_id)
        if theirs is not None and (int(theirs["position"]), -int(theirs["id"])) >= (
            int(top["position"]),
            -int(top["id"]),
        ):
            report.roles_above.append((str(theirs["name"]), str(top["name"])))
    return report


_ROLES_SQL = (
    "SELECT member_role_id, facilitator_role_id FROM communities "
    "WHERE guild_id = {} AND archived_at IS NULL"
)


async def _community_role_ids(db_path: Path | str | None, guild_id: int) -> list[int]:
    """The member and facilitator roles of the server's active communities, read-only (a check
    creates no database and no key file; none yet means no communities yet)."""
    if isinstance(db_path, str):
        import asyncpg

        from bot.db.postgres import asyncpg_url

        try:
            conn = await asyncpg.connect(asyncpg_url(db_path))
            try:
                rows = [tuple(r) for r in await conn.fetch(_ROLES_SQL.format("$1"), guild_id)]
            finally:
                await conn.close()
        except (OSError, asyncpg.PostgresError):
            return []
    else:
        rows = _sqlite_role_rows(db_path, guild_id)
    return [int(r) for row in rows for r in row if r is not None]


def _sqlite_role_rows(db_path: Path | None, guild_id: int) -> list[tuple[object, ...]]:
    if db_path is None or not db_path.is_file():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            return list(conn.execute(_ROLES_SQL.format("?"), (guild_id,)).fetchall())
    except sqlite3.Error:
        return []


__all__ = ["CheckReport", "GuildReport", "application_id", "invite_url", "run_check"]
