"""The digest's content sources (stories, polls, meetings), found at call time.

Why looked up dynamically: each source belongs to another capability's repository and may
not exist in a given build. A missing source gives ``None`` and the digest leaves that
section out altogether; it never shows placeholder text. Stories only ever come through the
stories capability's consent function (``stories_offered_by_digest``, which goes through
``shareable_view``): this module never reads the stories table itself.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db.database import Database
from bot.domain.digest import (
    HeldMeeting,
    OpenPoll,
    PollOutcome,
    ShareableStory,
    UpcomingMeeting,
)

log = logging.getLogger(__name__)

NameLookup = Callable[[int], Awaitable[str | None]]


def _source(module: str, name: str) -> Callable[..., Awaitable[Any]] | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    fn = getattr(mod, name, None)
    return fn if callable(fn) else None


def _as_story(item: Any, stage_labels: Mapping[str, str]) -> ShareableStory:
    """Accept the digest's own dataclass or the stories domain's ``SharedStory``."""
    if isinstance(item, ShareableStory):
        return item
    stage = getattr(item, "stage_label", None) or getattr(item, "stage", None) or ""
    credit = getattr(item, "credit", None)
    if credit is None:
        credit = getattr(item, "teller_name", None)
    return ShareableStory(
        title=str(item.title),
        text=str(item.text),
        stage_label=stage_labels.get(stage, stage),
        credit=credit,
    )


@dataclass(frozen=True)
class StoriesSection:
    stories: list[ShareableStory]
    kept: int


async def stories(
    db: Database,
    community_id: int,
    start: datetime,
    end: datetime,
    display_name: NameLookup,
    stage_labels: Mapping[str, str],
    *,
    recipient_id: int | None = None,
    digest_id: int | None = None,
    fixed: bool = False,
    since: datetime | None = None,
) -> StoriesSection | None:
    """The stories a digest of ``recipient_id`` (default: ``community_id`` itself) offers:
    every story that may leave the community now and that no earlier digest of the
    recipient offered (so widened consent takes effect in the next digest, once). A
    ``digest_id`` records what that claimed digest offers; a preview passes none and
    records nothing. ``since`` leaves out stories told before it."""
    fn = _source("bot.db.stories", "stories_offered_by_digest")
    if fn is None:
        return None
    shared, kept = await fn(
        db, community_id, start, end, display_name,
        recipient_id=community_id if recipient_id is None else recipient_id,
        digest_id=digest_id, fixed=fixed, since=since,
    )  # fmt: skip
    return StoriesSection([_as_story(s, stage_labels) for s in shared], int(kept))


async def poll_outcomes(
    db: Database, community_id: int, start: datetime, end: datetime
) -> list[PollOutcome] | None:
    fn = _source("bot.services.polls", "poll_outcomes_for_digest")
    return None if fn is None else list(await fn(db, community_id, start, end))


async def open_polls(db: Database, community_id: int, now: datetime) -> list[OpenPoll] | None:
    fn = _source("bot.services.polls", "open_polls_for_digest")
    return None if fn is None else list(await fn(db, community_id, now))


async def upcoming_meetings(
    db: Database, community_id: int, now: datetime
) -> list[UpcomingMeeting] | None:
    fn = _source("bot.db.meetings", "upcoming_for_digest")
    return None if fn is None else list(await fn(db, community_id, now, horizon_days=60))


async def held_meetings(
    db: Database, community_id: int, start: datetime, end: datetime
) -> list[HeldMeeting] | None:
    fn = _source("bot.db.meetings", "held_for_digest")
    return None if fn is None else list(await fn(db, community_id, start, end))
