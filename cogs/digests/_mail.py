"""Sending the digest e-mail with aiosmtplib, configured by ``HEARTH_SMTP_URL``."""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 30.0
#: What a failed send can raise: SMTP replies, sockets, timeouts.
MAIL_ERRORS = (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError)


async def send_email(url: str, message: EmailMessage) -> None:
    """``smtp://user:pass@host:587`` (STARTTLS when offered) or ``smtps://host:465`` (TLS)."""
    parts = urlsplit(url)
    implicit_tls = parts.scheme == "smtps"
    await aiosmtplib.send(
        message,
        hostname=parts.hostname,
        port=parts.port or (465 if implicit_tls else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=implicit_tls,
        start_tls=False if implicit_tls else None,
        timeout=SMTP_TIMEOUT,
    )
    log.info("digest e-mail sent to %s via %s", message["To"], parts.hostname)
