"""Domain errors that carry a message safe to show to the person who acted.

Anything raised as a :class:`HearthError` is turned into an ephemeral reply by the
single error handler in :mod:`bot.app`; any other exception is logged with context
and the user sees a short apology instead of a traceback.
"""

from __future__ import annotations


class HearthError(Exception):
    """Base class: ``user_message`` is shown to the user, verbatim, ephemerally."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class InvalidInput(HearthError):
    """The user's input cannot be used; the message says what to do instead."""


class NotFound(HearthError):
    """The thing named does not exist (or not where the user can see it)."""


class NotAllowed(HearthError):
    """The user may not do this."""


class Conflict(HearthError):
    """The action clashes with stored state (duplicate name, closed poll, ...)."""


class AlreadyYourVote(Conflict):
    """The vote cast is the member's current one: nothing changed (views stay quiet on it)."""

    def __init__(self, user_message: str = (
        "That is already your vote, so nothing changed. Pick something else to change it."
    )) -> None:
        super().__init__(user_message)


class ClosedForVotes(Conflict):
    """The poll or statement round has closed, so no vote is accepted any more."""


class DuplicateCommunity(Conflict):
    """A community with that name (or channel prefix) already exists in the server.

    The repository raises it in place of the storage engine's uniqueness error, so no layer
    above storage knows which engine that is; the communities service words the message."""

    def __init__(self, user_message: str = (
        "A community with that name already exists here. Choose another name."
    )) -> None:
        super().__init__(user_message)


class MissingPermission(HearthError):
    """The bot itself lacks a Discord permission it needs."""

    def __init__(self, permission: str, action: str) -> None:
        super().__init__(
            f"I need the **{permission}** permission to {action}. "
            f"Ask a server manager to grant it to my role, then try again."
        )
        self.permission = permission
