"""Keep votes and personal data out of every log line, at every level.

Threat model: whoever can read the logs (the operator, a volunteer helping them debug, a
log service) must not learn how a member voted in an anonymous poll or statement round,
and at ``INFO`` must not read member names, e-mail addresses or what anyone wrote. Even
``HEARTH_LOG_LEVEL=DEBUG``, which turns on discord.py's and aiosqlite's chatter, must not
print message bodies or a voter next to their choice.

Three layers, from the most to the least specific:

1. Call sites log what they need, not what they have: the error handler names a component
   by its kind and poll id (:func:`describe_custom_id`), never the rest of its custom_id
   (which, for a vote, *is* the choice) and never who clicked a vote.
2. :class:`PrivacyFilter`, attached by :func:`install` to the loggers that print payloads
   (discord.py's gateway and HTTP, aiosqlite's SQL, asyncio's task reprs, the error
   handler), so every handler sees their records redacted, pytest's too.
3. The same filter on every handler of the root logger, set up by
   :func:`configure_logging` (what ``python -m bot`` uses): whatever logger a record comes
   from, what is written out has gone through it.

The filter rewrites a record in place (message formatted and redacted, ``args`` dropped,
traceback formatted and redacted), so handlers after it see only the redacted text:

* a vote interaction (a component whose custom_id starts ``poll:`` or ``stmt:``) becomes a
  placeholder: it carries the voter next to the clicked option or picked values;
* discord.py HTTP bodies of messages, threads, interaction replies and follow-ups (which
  carry message and DM text, and a voter's receipt) are dropped, as are the ``content``,
  ``embeds``, ``attachments`` and entered ``value(s)`` of any payload (gateway events,
  modal text such as a story, command options such as an e-mail address);
* SQL parameters are dropped from aiosqlite's ``executing ...`` lines (they hold user ids
  next to ballots, and story text);
* in the final text, tracebacks included: every vote custom_id is cut to its poll or
  round id, select values are dropped, e-mail addresses are replaced.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Iterable
from typing import IO, Any

#: paper: an answer to a paper for comment; chg: a significant-change round (a selector's
#: choice, and the candidates' titles in the menu the interaction carries).
VOTE_PREFIXES = ("poll:", "stmt:", "paper:", "chg:")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

VOTE_REDACTED = "<vote interaction redacted>"
BODY_REDACTED = "<redacted>"
EMAIL_REDACTED = "<e-mail>"

#: Loggers whose records carry payloads: the filter sits on them directly, so it applies
#: to every handler (not only to those configure_logging set up).
PAYLOAD_LOGGERS = (
    "discord.gateway",
    "discord.http",
    "discord.client",
    "discord.state",
    "discord.webhook.async_",
    "discord.ui.view",
    "discord.ui.modal",
    "discord.app_commands.tree",
    "aiosqlite",
    "asyncio",
    "bot.errors_handler",
)

#: Keys whose values are what someone wrote or picked, wherever they appear in a payload.
BODY_KEYS = frozenset(
    {"content", "embeds", "attachments", "value", "values", "message_snapshots", "poll"}
)

#: discord.py routes whose request and response bodies are messages (channel posts, DMs,
#: forum posts) or interaction replies and follow-ups.
_BODY_ROUTE = re.compile(r"/channels/\d+/(messages|threads)|/interactions/|/webhooks/")
#: A vote custom_id (``poll:12:v:3``, ``stmt:4:v:17:a``, ``poll:12:r:`` ...): keep the id.
_VOTE_ID = re.compile(r"(?<![0-9A-Za-z_])(poll|stmt|paper|chg):([0-9]+):[0-9A-Za-z_:]*")
_SELECT_VALUES = re.compile(r"""(["']values["']\s*:\s*)\[[^\]]*\]""")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_MAX_DEPTH = 40
_MARK = "hearth_redacted"


def is_vote_custom_id(custom_id: object) -> bool:
    return isinstance(custom_id, str) and custom_id.startswith(VOTE_PREFIXES)


def describe_custom_id(custom_id: str) -> str:
    """What a log line may say about a component: its feature and object id, never the rest.

    ``poll:12:v:3`` -> ``poll:12 (v)``: the poll and the component kind, not the option;
    ``story:consent:5:named`` -> ``story:consent:5``. Whatever follows the first numeric
    id is state that may be a member's choice, so it is left out.
    """
    parts = custom_id.split(":")
    head: list[str] = []
    for i, part in enumerate(parts):
        head.append(part[:40])
        if part.isdigit():
            if is_vote_custom_id(custom_id) and i + 1 < len(parts) and parts[i + 1]:
                return f"{':'.join(head)} ({parts[i + 1][:10]})"
            break
        if i >= 2:
            break
    return ":".join(head) or "?"


def redact_text(text: str) -> str:
    """Cut vote custom_ids to their poll/round id, drop select values and e-mail addresses."""
    if "poll:" in text or "stmt:" in text or "paper:" in text or "chg:" in text:
        text = _VOTE_ID.sub(r"\1:\2:" + BODY_REDACTED, text)
    if "values" in text:
        text = _SELECT_VALUES.sub(r"\1[" + BODY_REDACTED + "]", text)
    if "@" in text:
        text = _EMAIL.sub(EMAIL_REDACTED, text)
    return text


def _is_vote_interaction(payload: dict[Any, Any]) -> bool:
    data = payload.get("data")
    return isinstance(data, dict) and is_vote_custom_id(data.get("custom_id"))


def redact_payload(obj: Any, _depth: int = 0) -> Any:
    """A copy of a JSON-like payload without bodies or vote interactions (never mutates)."""
    if _depth > _MAX_DEPTH:
        return BODY_REDACTED
    if isinstance(obj, dict):
        if _is_vote_interaction(obj):
            return VOTE_REDACTED
        return {
            k: (BODY_REDACTED if k in BODY_KEYS and v not in (None, "", [], {})
                else redact_payload(v, _depth + 1))
            for k, v in obj.items()
        }  # fmt: skip
    if isinstance(obj, list | tuple):
        return [redact_payload(v, _depth + 1) for v in obj]
    return obj


def _describe_call(call: functools.partial[Any]) -> str:
    """aiosqlite's queued call without its parameters: ``execute('INSERT ...', <redacted>)``."""
    name = getattr(call.func, "__name__", type(call.func).__name__)
    # the SQL (values are always bound, never formatted in); anything else may be data
    shown = [repr(a) if isinstance(a, str) or a is None else BODY_REDACTED for a in call.args]
    if call.keywords:
        shown.append(BODY_REDACTED)
    return f"{name}({', '.join(shown)})"


def _redact_arg(arg: Any) -> Any:
    if isinstance(arg, functools.partial):
        return _describe_call(arg)
    if isinstance(arg, dict | list | tuple):
        return redact_payload(arg)
    return arg


def _redact_args(record: logging.LogRecord) -> None:
    args = record.args
    if not args:
        return
    if isinstance(args, dict):  # log.info("%(x)s", {"x": ...})
        record.args = redact_payload(args)
        return
    body_route = record.name.startswith("discord.http") and any(
        isinstance(a, str) and _BODY_ROUTE.search(a) for a in args
    )
    if body_route:
        # (method, url, body[, status]): keep the method and the route, drop the body
        record.args = tuple(
            a if i < 2 or isinstance(a, int) else BODY_REDACTED for i, a in enumerate(args)
        )
    else:
        record.args = tuple(_redact_arg(a) for a in args)


def redact_record(record: logging.LogRecord) -> None:
    """Rewrite ``record`` in place so that formatting it can only produce redacted text."""
    if getattr(record, _MARK, False):
        return
    try:
        _redact_args(record)
        message = record.getMessage()
    except Exception:  # a broken format string must not print its raw arguments
        message = f"<unformattable log message from {record.name}>"
    record.msg = redact_text(message)
    record.args = None
    if record.exc_info:
        record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    setattr(record, _MARK, True)  # LogRecord takes extra attributes; mypy knows none


class PrivacyFilter(logging.Filter):
    """Redacts, never drops: a record still says what happened, without who chose what."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


FILTER = PrivacyFilter()


def install(loggers: Iterable[str] = PAYLOAD_LOGGERS) -> None:
    """Put the filter on the payload loggers (idempotent; independent of loaded cogs)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)


def uninstall(loggers: Iterable[str] = PAYLOAD_LOGGERS) -> None:
    for name in loggers:
        logging.getLogger(name).removeFilter(FILTER)


def configure_logging(level: int | str, *, stream: IO[str] | None = None) -> logging.Handler:
    """Hearth's logging: one stream handler on the root logger, every root handler filtered.

    Used by ``python -m bot`` instead of ``logging.basicConfig``, and by the tests that
    check what a ``HEARTH_LOG_LEVEL=DEBUG`` run writes. Returns the handler it added.
    """
    install()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(FILTER)
    root = logging.getLogger()
    for existing in root.handlers:
        if FILTER not in existing.filters:
            existing.addFilter(FILTER)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
