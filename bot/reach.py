"""Every way of failing to reach Discord, said in one line that names what to check.

``python -m bot`` (and ``sync``, ``check``) turn these exceptions into that line on stderr and
exit code 2, instead of a traceback a facilitator cannot read. ``None`` means "not a failure
to reach Discord": the caller lets it propagate.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

import aiohttp
import discord

DISCORD_API = "https://discord.com/api/v10"


def where(api_base: str | None) -> str:
    """The API base in words: the value of DISCORD_API_BASE, or Discord itself."""
    return f"DISCORD_API_BASE={api_base}" if api_base else f"Discord ({DISCORD_API})"


def explain_unreachable(exc: BaseException, api_base: str | None) -> str | None:
    at = where(api_base)
    proxy_hint = "check DISCORD_API_BASE" if api_base else "check the network"
    if isinstance(exc, discord.LoginFailure):
        return (
            "Discord rejected DISCORD_TOKEN; check the bot token (Developer Portal → your "
            "application → Bot → Reset Token)."
        )
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return "Discord refused the gateway connection: a privileged intent was asked for."
    if isinstance(exc, discord.RateLimited):
        return (
            f"{at} is rate limiting this bot for {exc.retry_after:.0f} s; wait and start "
            "it again (a token shared by two running bots causes this)."
        )
    if isinstance(exc, discord.DiscordServerError):
        return (
            f"{at} answered HTTP {exc.status} (a server error); Discord may be down: see "
            "https://discordstatus.com, then try again."
        )
    if isinstance(exc, discord.HTTPException):
        if exc.status == 404:
            return (
                f"HTTP 404 at {at}: no Discord API there; check DISCORD_API_BASE (it must "
                "end in /api/v10, or be unset to use Discord itself)."
            )
        if exc.status == 429:
            return (
                f"{at} is rate limiting this bot (HTTP 429); wait a few minutes and start "
                "it again (a token shared by two running bots causes this)."
            )
        return f"{at} answered HTTP {exc.status} ({exc.text or 'no reason given'}); {proxy_hint}."
    if isinstance(exc, discord.GatewayNotFound):
        if exc.__cause__ is not None and (inner := explain_unreachable(exc.__cause__, api_base)):
            return inner
        return f"could not find Discord's gateway through {at}; {proxy_hint} and try again."
    if isinstance(exc, discord.ConnectionClosed):
        return f"Discord's gateway closed the connection (code {exc.code}); try again."
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or _os_error(exc, socket.gaierror):
        host = getattr(exc, "host", None) or "the host"
        return f"cannot look up {host} (DNS): check the network connection" + (
            " and the host name in DISCORD_API_BASE." if api_base else "."
        )
    tls_errors = (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError, ssl.SSLError)
    if isinstance(exc, tls_errors):
        return (
            f"TLS failed talking to {at} ({_reason(exc)}): check the system's CA certificates "
            "and clock, or a proxy that intercepts HTTPS."
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_err = exc.os_error
        if isinstance(os_err, ConnectionRefusedError) or "refused" in str(exc).lower():
            return (
                f"connection refused at {exc.host}:{exc.port} ({at}): nothing is listening "
                f"there; {proxy_hint}."
            )
        if isinstance(os_err, TimeoutError):
            return f"timed out connecting to {exc.host}:{exc.port} ({at}); {proxy_hint}."
        return f"cannot connect to {exc.host}:{exc.port} ({at}): {_reason(exc)}; {proxy_hint}."
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return f"timed out waiting for {at}; check the network connection and try again."
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{at} answered HTTP {exc.status} ({exc.message}); {proxy_hint}."
    if isinstance(exc, aiohttp.ClientError | ConnectionError):
        return f"lost the connection to {at} ({_reason(exc)}); {proxy_hint} and try again."
    return None


def _os_error(exc: BaseException, kind: type[BaseException]) -> bool:
    return isinstance(getattr(exc, "os_error", None), kind)


def _reason(exc: BaseException) -> str:
    os_err = getattr(exc, "os_error", None)
    text = str(os_err if os_err is not None else exc) or type(exc).__name__
    return text.splitlines()[0]
