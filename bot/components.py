"""One small base for Hearth's persistent components.

Every button and select that must keep working after a restart is a ``DynamicItem`` whose
state lives in its ``custom_id`` (discord.py ``examples/views/persistent.py``). They all
did the same two things by hand: parse the template's groups into constructor arguments,
and look their cog up by name on every click. :class:`HearthItem` does both once: the
template's named groups become keyword arguments (digits as ``int``), and the capability's
*service* (``service_type``, registered by its cog at load) is resolved, typed, before the
callback runs, so a view calls ``self.service`` and nothing else.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import discord

from bot.errors import Conflict

if TYPE_CHECKING:
    from typing import Self

S = TypeVar("S")


class ServiceRegistry:
    """The capability services of one bot, by type (a cog registers its own at load)."""

    def __init__(self) -> None:
        self._services: dict[type[Any], Any] = {}

    def register(self, service: object) -> None:
        self._services[type(service)] = service

    def unregister(self, service: object) -> None:
        if self._services.get(type(service)) is service:
            del self._services[type(service)]

    def get(self, kind: type[S]) -> S:
        found = self._services.get(kind)
        if found is None:
            for registered in self._services.values():
                if isinstance(registered, kind):
                    return registered
            raise Conflict("That feature is not available right now; try again in a moment.")
        return found

    def implementing(self, kind: type[S]) -> list[S]:
        """Every registered service that is a ``kind`` (listeners of another capability)."""
        return [s for s in self._services.values() if isinstance(s, kind)]


def services_of(interaction: discord.Interaction[Any]) -> ServiceRegistry:
    registry = getattr(interaction.client, "services", None)
    if not isinstance(registry, ServiceRegistry):
        raise Conflict("Hearth is still starting; try again in a moment.")
    return registry


def match_arguments(match: re.Match[str]) -> dict[str, Any]:
    """The template's named groups as keyword arguments: digits become ``int``."""
    return {
        name: int(value) if value.isascii() and value.isdigit() else value
        for name, value in match.groupdict().items()
        if value is not None
    }


class HearthItem(Generic[S]):
    """A persistent component bound to its capability's service (a mixin, listed first).

    ``class VoteButton(HearthItem[PollService], discord.ui.DynamicItem[discord.ui.Button],
    template=r"poll:(?P<poll_id>\\d+):v:(?P<option>\\d+)")``: the subclass sets
    ``service_type`` and a ``template`` whose named groups match its ``__init__`` keyword
    arguments. A component that must carry more from the clicked item (a select's options,
    say) overrides :meth:`from_match`.
    """

    service_type: ClassVar[type[Any]]
    service: S

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> Self:
        return cls(**match_arguments(match))

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        made = cls.from_match(match, item)
        made.service = services_of(interaction).get(cls.service_type)
        return made
