"""The digest's content sources, typed and wired explicitly.

Each section of the digest (stories, poll outcomes, open polls, upcoming and held meetings)
is read by another capability's function. They used to be looked up by name as strings at
call time, so renaming one silently dropped its section from every sponsor's digest. Here
each is a typed callable (a :class:`~typing.Protocol` mypy checks the real function
against), wired in :func:`default_sources` by import: a rename fails at import and in
mypy, and ``tests/test_digest_sources_typed.py`` checks that every section has a source.

A source set to ``None`` (a deployment without that capability) leaves its section out of
the digest altogether; it never shows placeholder text. Stories only ever come through
the stories capability's consent function (``stories_offered_by_digest``, which goes
through ``shareable_view``): the digest never reads the stories table itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Protocol

from bot.db.database import Database
from bot.domain.digest import (
    HeldMeeting,
    OpenPoll,
    PollOutcome,
    ProductNews,
    ShareableStory,
    SignificantChange,
    UpcomingMeeting,
)

NameLookup = Callable[[int], Awaitable[str | None]]


class StoriesSource(Protocol):
    """Stories a digest of ``recipient_id`` may offer, and how many stayed in the group."""

    def __call__(
        self,
        db: Database,
        community_id: int,
        start: datetime,
        end: datetime,
        display_name: NameLookup,
        /,
        *,
        recipient_id: int,
        digest_id: int | None = ...,
        fixed: bool = ...,
        since: datetime | None = ...,
    ) -> Awaitable[tuple[list[ShareableStory], int]]: ...


class PollOutcomesSource(Protocol):
    """Polls and statement rounds closed in ``[start, end)``."""

    def __call__(
        self, db: Database, community_id: int, start: datetime, end: datetime, /
    ) -> Awaitable[list[PollOutcome]]: ...


class OpenPollsSource(Protocol):
    """Polls and statement rounds open at ``now``, with turnout so far."""

    def __call__(
        self, db: Database, community_id: int, now: datetime, /
    ) -> Awaitable[list[OpenPoll]]: ...


class UpcomingMeetingsSource(Protocol):
    """Meetings starting after ``now`` (within ``horizon_days``)."""

    def __call__(
        self, db: Database, community_id: int, now: datetime, /, horizon_days: int = ...
    ) -> Awaitable[list[UpcomingMeeting]]: ...


class HeldMeetingsSource(Protocol):
    """Meetings held in ``[start, end)``, or whose notes arrived then."""

    def __call__(
        self, db: Database, community_id: int, start: datetime, end: datetime, /
    ) -> Awaitable[list[HeldMeeting]]: ...


class ProductsSource(Protocol):
    """The group's products made, moved on or used in ``[start, end)``, outside-safe."""

    def __call__(
        self, db: Database, community_id: int, start: datetime, end: datetime, /
    ) -> Awaitable[list[ProductNews]]: ...


class ChangesSource(Protocol):
    """Stories significant-change rounds closed in ``[start, end)`` selected, outside-safe
    (consent-filtered and redacted by the change-rounds capability)."""

    def __call__(
        self,
        db: Database,
        community_id: int,
        start: datetime,
        end: datetime,
        display_name: NameLookup,
        /,
    ) -> Awaitable[list[SignificantChange]]: ...


@dataclass(frozen=True)
class DigestSources:
    """One source per digest section, named as the :class:`~bot.domain.digest.Digest`
    field it fills (``None``: the section is left out)."""

    stories: StoriesSource | None
    poll_outcomes: PollOutcomesSource | None
    open_polls: OpenPollsSource | None
    upcoming_meetings: UpcomingMeetingsSource | None
    held_meetings: HeldMeetingsSource | None
    products: ProductsSource | None = None
    changes: ChangesSource | None = None

    @classmethod
    def sections(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def missing(self) -> list[str]:
        """Sections without a source (each is left out of every digest)."""
        return [name for name in self.sections() if getattr(self, name) is None]


def default_sources() -> DigestSources:
    """Every section's source in this build, wired by import (checked by mypy)."""
    from bot.db.meetings import held_for_digest, upcoming_for_digest
    from bot.services.change_reading import changes_for_digest
    from bot.services.polls import open_polls_for_digest, poll_outcomes_for_digest
    from bot.services.products import products_for_digest
    from bot.services.story_offers import stories_offered_by_digest

    return DigestSources(
        stories=stories_offered_by_digest,
        poll_outcomes=poll_outcomes_for_digest,
        open_polls=open_polls_for_digest,
        upcoming_meetings=upcoming_for_digest,
        held_meetings=held_for_digest,
        products=products_for_digest,
        changes=changes_for_digest,
    )
