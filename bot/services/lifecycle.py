"""The one lifecycle of what members vote on until it closes: polls and statement rounds.

Open: the item's row is stored, and its close job is armed from the row (the database is the
source of truth: jobs are rebuilt at load, cancelled at unload). Close, by its job or by a
facilitator, always through :meth:`VotingLifecycle.close`: the repository closes atomically
(the domain's pure *decide* turns the ballots into turnout, the collective statement and the
result inside the close's transaction, :mod:`bot.domain.closing`), the close job is
cancelled, and the Discord layer is told (:class:`CloseHooks`) so it can post the outcome.
A second close finds nothing to close and says so (None), however the two race.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Generic, Protocol, TypeVar

from bot.clock import Clock
from bot.domain.communities import Community, Membership
from bot.scheduling import Scheduler

log = logging.getLogger(__name__)

C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)

#: The repository's atomic close: (id, now, closed by) -> the closed item, or None.
StoreClose = Callable[[int, datetime, int | None], Awaitable[C | None]]


class Communities(Protocol):
    """What a voting service asks of the communities capability (its service or repository)."""

    async def get(self, community_id: int) -> Community | None: ...

    def guild_of(self, community_id: int) -> int:
        """The community's guild, which decides the process that schedules its jobs."""
        ...

    async def membership(self, community_id: int, user_id: int) -> Membership | None: ...

    async def members(
        self, community_id: int, *, active_only: bool = True
    ) -> list[Membership]: ...


class CloseHooks(Protocol[C_contra]):
    """What the Discord layer does around a close (record a results post, then make it)."""

    async def before_close(self, item_id: int) -> object:
        """Runs before the close; its return value is handed to :meth:`after_close`."""
        ...

    async def after_close(self, item_id: int, closed: C_contra | None, prepared: object) -> None:
        """Runs after the close; ``closed`` is None when it was already closed."""
        ...


class VotingLifecycle(Generic[C]):
    """Close jobs and the close itself for one kind of votable item (``prefix``)."""

    def __init__(
        self, prefix: str, scheduler: Scheduler, clock: Clock, store_close: StoreClose[C]
    ) -> None:
        self.prefix = prefix
        self.scheduler = scheduler
        self.clock = clock
        self._store_close = store_close
        self.hooks: CloseHooks[C] | None = None

    def close_job(self, item_id: int) -> str:
        return f"{self.prefix}:close:{item_id}"

    def arm(self, item_id: int, closes_at: datetime | None, *, guild_id: int) -> None:
        """(Re)arm the close job of an open item with a deadline (in the process owning
        ``guild_id``, the guild of the item's community)."""
        if closes_at is not None:
            self.scheduler.schedule(self.close_job(item_id), closes_at,
                                    partial(self._close_due, item_id), guild_id=guild_id)

    def disarm_all(self) -> None:
        """Cancel every job of this kind (at unload; they are rebuilt from rows at load)."""
        self.scheduler.cancel_prefix(f"{self.prefix}:")

    async def _close_due(self, item_id: int) -> None:
        await self.close(item_id, closed_by=None)

    async def close(self, item_id: int, *, closed_by: int | None = None) -> C | None:
        """Close now: the one way an item closes. None if it was already closed."""
        hooks = self.hooks
        prepared = await hooks.before_close(item_id) if hooks is not None else None
        closed = await self._store_close(item_id, self.clock.now(), closed_by)
        self.scheduler.cancel(self.close_job(item_id))
        if hooks is not None:
            await hooks.after_close(item_id, closed, prepared)
        return closed
