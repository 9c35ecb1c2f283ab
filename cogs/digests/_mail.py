"""Sending the digest e-mail with aiosmtplib, configured by ``HEARTH_SMTP_URL``.

Never in clear unless asked. ``smtps://`` is TLS from the first byte; ``smtp://`` must be
upgraded with STARTTLS before the password or the digest is sent, and a server that does
not offer STARTTLS gets neither: anyone on the path can strip that offer from the server's
reply, so "STARTTLS when offered" would hand them both. Only ``smtp://host?tls=none``, for
a relay on the same machine or private network, sends in clear (see
:class:`bot.settings.SmtpEndpoint`). Certificates are verified against the system's CAs and
``HEARTH_SMTP_CA_FILE``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from bot.settings import parse_smtp_url

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 30.0


class EncryptionNotOffered(aiosmtplib.SMTPException):
    """The server did not offer STARTTLS, so nothing (password, digest) was sent to it."""


#: What a failed send can raise: SMTP replies, sockets and TLS (``ssl.SSLError`` is an
#: ``OSError``), timeouts, and :class:`EncryptionNotOffered`.
MAIL_ERRORS = (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError)


def tls_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """Verifying context: the system's CAs, plus ``ca_file`` when given."""
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


async def send_email(url: str, message: EmailMessage, *, ca_file: Path | None = None) -> None:
    """Send ``message`` through the server ``url`` names, encrypted unless ``?tls=none``.

    Raises :class:`EncryptionNotOffered` (after logging why) when an ``smtp://`` server does
    not offer STARTTLS; the caller reports it like any other failed delivery.
    """
    endpoint = parse_smtp_url(url)
    context = None
    if endpoint.security != "none":
        context = await asyncio.to_thread(tls_context, ca_file)
    client = aiosmtplib.SMTP(
        hostname=endpoint.hostname,
        port=endpoint.port,
        use_tls=endpoint.security == "tls",
        start_tls=False,  # upgraded below, where a missing offer is an error, not a shrug
        tls_context=context,
        timeout=SMTP_TIMEOUT,
    )
    async with client:
        if endpoint.security == "starttls":
            await client.ehlo()
            if not client.supports_extension("starttls"):
                log.error(
                    "mail server %s:%d does not offer STARTTLS: the digest e-mail was not "
                    "sent, so that neither the SMTP password nor the digest crosses the "
                    "network in clear. Use smtps:// if the server has implicit TLS "
                    "(port 465), or smtp://host:25?tls=none only for a relay on this "
                    "machine or a private network.",
                    endpoint.hostname,
                    endpoint.port,
                )
                raise EncryptionNotOffered(
                    f"{endpoint.hostname}:{endpoint.port} does not offer STARTTLS"
                )
            await client.starttls()
        if endpoint.username is not None:
            await client.login(endpoint.username, endpoint.password or "")
        await client.send_message(message)
    log.info(
        "digest e-mail sent via %s (%s)",  # not the address: the sponsor's is personal data
        endpoint.hostname,
        "in clear, tls=none" if endpoint.security == "none" else endpoint.security,
    )
