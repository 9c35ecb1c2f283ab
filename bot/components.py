"""One small base for Hearth's persistent components.

Every button and select that must keep working after a restart is a ``DynamicItem`` whose
state lives in its ``custom_id`` (discord.py ``examples/views/persistent.py``). They all
did the same two things by hand: parse the template's groups into constructor arguments,
and look their cog up by name on every click. :class:`HearthItem` does both once: the
template's named groups become keyword arguments (digits as ``int``), and the capability's
*service* (``service_type``, registered by its cog at load) is resolved, typed, before the
callback runs, so a view calls ``self.service`` and nothing else.

**The one exception to discord.py's dispatch: direct clicks** (:class:`ClickRoutes`). For
every click on a ``DynamicItem`` discord.py tries each registered template (about 35 in
Hearth) and then rebuilds the clicked message's whole view (``View.from_message``: every
button constructed again) before the item's callback runs. For a poll's vote button that is
most of what Hearth adds to a click on top of discord.py's own work (benchmarks/votes.py,
benchmarks/RESULTS.md "vote burst"), and a vote burst is Hearth's hottest path. A
component class that defines ``answer_click`` (:class:`DirectClick`) and is added to the
bot's :class:`ClickRoutes` is answered straight from the INTERACTION_CREATE event instead:
its template is matched once (indexed by the custom_id's first segment) and the clicked
message is checked to carry that button, as discord.py checks; then ``answer_click`` runs,
with the same service, rules, error handler and reply as its callback. Everything else
(every other component, and a routed one whose button is not on the message) takes
discord.py's path unchanged, and the class stays a registered ``DynamicItem``, so removing
the route changes nothing but speed. The ``interaction`` event is dispatched as discord.py
would.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

import discord

from bot.errors import Conflict

if TYPE_CHECKING:
    from typing import Self

    from discord.state import ConnectionState

S = TypeVar("S")
log = logging.getLogger(__name__)


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


class DirectClick(Protocol):
    """A button class answered by :class:`ClickRoutes` without discord.py's view rebuild."""

    __discord_ui_compiled_template__: ClassVar[re.Pattern[str]]

    @classmethod
    async def answer_click(
        cls, interaction: discord.Interaction[Any], match: re.Match[str], /
    ) -> None:
        """The click's whole answer; errors go to the one error handler (never raise)."""
        ...


def _first_segment(template: re.Pattern[str]) -> str:
    head, sep, _ = template.pattern.partition(":")
    if not sep or not head.isidentifier():
        raise ValueError(f"a routed template needs a literal first segment: {template.pattern!r}")
    return head


def _carries_button(message: discord.Message | None, custom_id: str) -> bool:
    """The clicked message has this button (discord.py finds the item the same way)."""
    if message is None:
        return False
    for row in message.components:
        for child in row.children if isinstance(row, discord.ActionRow) else (row,):
            if (
                child.type is discord.ComponentType.button
                and getattr(child, "custom_id", None) == custom_id
            ):
                return True
    return False


class ClickRoutes:
    """Button clicks answered straight from INTERACTION_CREATE (see the module docstring)."""

    def __init__(self) -> None:
        self._routes: dict[str, list[type[DirectClick]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, *items: type[DirectClick]) -> None:
        for item in items:
            routes = self._routes.setdefault(
                _first_segment(item.__discord_ui_compiled_template__), []
            )
            if item not in routes:
                routes.append(item)

    def remove(self, *items: type[DirectClick]) -> None:
        for item in items:
            routes = self._routes.get(_first_segment(item.__discord_ui_compiled_template__))
            if routes and item in routes:
                routes.remove(item)

    def install(self, client: discord.Client) -> None:
        """Put the routes in front of discord.py's INTERACTION_CREATE parser.

        discord.py has no public hook before its component dispatch (``on_interaction`` runs
        after it), so the parser table of the client's connection state, which the gateway
        reads each event from, gets a wrapper; unrouted events go to discord.py's parser.
        """
        state: ConnectionState = client._connection
        parse: Callable[[Any], None] = state.parsers["INTERACTION_CREATE"]

        def parse_interaction_create(data: Any) -> None:
            if not self.dispatch(state, data):
                parse(data)

        state.parsers["INTERACTION_CREATE"] = parse_interaction_create

    def dispatch(self, state: ConnectionState, data: Any) -> bool:
        """Answer a routed button click; False leaves the event to discord.py."""
        if not self._routes or data.get("type") != 3:
            return False
        inner = data.get("data") or {}
        custom_id = inner.get("custom_id")
        if inner.get("component_type") != 2 or not isinstance(custom_id, str):
            return False
        for item in self._routes.get(custom_id.partition(":")[0], ()):
            match = item.__discord_ui_compiled_template__.fullmatch(custom_id)
            if match is not None:
                break
        else:
            return False
        interaction: discord.Interaction[Any] = discord.Interaction(data=data, state=state)
        if not _carries_button(interaction.message, custom_id):
            return False
        task = asyncio.create_task(self._answer(item, interaction, match), name="hearth-click")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        state.dispatch("interaction", interaction)
        return True

    @staticmethod
    async def _answer(
        item: type[DirectClick], interaction: discord.Interaction[Any], match: re.Match[str]
    ) -> None:
        try:
            await item.answer_click(interaction, match)
        except Exception:
            # answer_click routes errors to the error handler; this is a last resort, and it
            # names the component class only (a vote's custom_id is the voter's choice).
            log.exception("unexpected error answering a %s click", item.__name__)
