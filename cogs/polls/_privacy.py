"""Keep votes out of logs, including discord.py's own DEBUG logging.

discord.py logs every gateway event at DEBUG (``WebSocket Event: {...}``), and every HTTP
request body. For a vote that is the voter's id next to the clicked ``custom_id`` (which
encodes the option), and the interaction reply's text: at ``HEARTH_LOG_LEVEL=DEBUG`` that
would link a member to their vote in an anonymous poll. This filter, attached to those two
loggers while the polls cog is loaded, replaces such payloads with a placeholder.
"""

from __future__ import annotations

import logging
import re
from typing import Any

VOTE_PREFIXES = ("poll:", "stmt:")
_INTERACTION_URL = re.compile(r"/(interactions|webhooks)/")
REDACTED = "<vote interaction redacted>"


def _is_vote_event(arg: Any) -> bool:
    if not isinstance(arg, dict):
        return False
    payload = arg.get("d", arg) if "t" in arg else arg
    if not isinstance(payload, dict):
        return False
    data = payload.get("data")
    custom_id = data.get("custom_id") if isinstance(data, dict) else None
    return isinstance(custom_id, str) and custom_id.startswith(VOTE_PREFIXES)


class VoteRedactor(logging.Filter):
    """Redact vote interactions (gateway) and interaction reply bodies (HTTP)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or not args:
            return True
        if record.name == "discord.gateway":
            if any(_is_vote_event(a) for a in args):
                record.args = tuple(REDACTED if _is_vote_event(a) else a for a in args)
        elif record.name == "discord.http" and any(
            isinstance(a, str) and _INTERACTION_URL.search(a) for a in args
        ):
            # (method, url, data, status) / (method, url, data): keep method, url, status
            record.args = tuple(
                a if i < 2 or isinstance(a, int) else REDACTED for i, a in enumerate(args)
            )
        return True


_FILTER = VoteRedactor()
_LOGGERS = ("discord.gateway", "discord.http")


def install() -> None:
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def uninstall() -> None:
    for name in _LOGGERS:
        logging.getLogger(name).removeFilter(_FILTER)
