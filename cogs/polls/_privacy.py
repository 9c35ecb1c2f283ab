"""Keep votes out of logs: now a core concern, see :mod:`bot.log_privacy`.

The redaction filter used to live here and applied only while this cog was loaded, and
only to discord.py's gateway and HTTP loggers. It is now installed by the logging setup
(``python -m bot``) on every root handler and on the loggers that print payloads, whatever
cogs are loaded. The cog still calls :func:`install` at load, so a bot started without
that setup (tests, embedding) gets the logger-level layer too.
"""

from __future__ import annotations

from bot import log_privacy

REDACTED = log_privacy.VOTE_REDACTED


def install() -> None:
    log_privacy.install()


def uninstall() -> None:
    """Nothing to undo: the filter is process-wide and does not depend on this cog."""
