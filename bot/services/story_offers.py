"""Which stories a digest may take out of a community: the stories capability's digest source.

Every story goes through :func:`bot.domain.stories.shareable_view`, the single exit function,
and is returned as the digest's :class:`~bot.domain.digest.ShareableStory` (no ids of any
kind). The repository only reads candidates and records offers; the rules are here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.db import stories as story_rows
from bot.db.database import Database
from bot.db.stories import StoryRepo
from bot.domain.digest import ShareableStory
from bot.domain.stories import NO_STAGE_LABEL, Consent, StoryRecord, shareable_view

DisplayName = Callable[[int], Awaitable[str | None]]


async def _shared(story: StoryRecord, display_name: DisplayName) -> ShareableStory | None:
    """The story as the digest may show it, or ``None`` if it may not leave. The teller's
    name is asked for only for a ``named`` story."""
    name = None
    if story.consent is Consent.NAMED and story.teller_id is not None:
        name = await display_name(story.teller_id)
    view = shareable_view(story, teller_display_name=name)
    if view is None:
        return None
    return ShareableStory(
        title=view.title,
        text=view.text,
        stage_label=story.stage_label or NO_STAGE_LABEL,
        credit=view.teller_name,
    )


async def shareable_stories_for_digest(
    db: Database,
    community_id: int,
    start: datetime,
    end: datetime,
    display_name: DisplayName,
) -> tuple[list[ShareableStory], int]:
    """The stories created in ``[start, end)`` that may leave the community (consent-filtered
    and redacted by :func:`shareable_view`), and how many stayed in the group.

    ``display_name`` is asked only for ``named`` stories' tellers, so the digest never even
    looks up who told an anonymous or group story. Withdrawn stories are neither returned
    nor counted, and neither are stories still confined to a circle (or another channel
    narrower than the community): not even their existence may reach a sponsor before the
    teller opens them to the whole community.
    """
    shareable: list[ShareableStory] = []
    kept = 0
    for story in await StoryRepo(db).created_between(community_id, start, end):
        if story.consent is Consent.WITHDRAWN or story.is_restricted:
            continue
        shared = await _shared(story, display_name)
        if shared is None:
            kept += 1
        else:
            shareable.append(shared)
    return shareable, kept


async def stories_offered_by_digest(
    db: Database,
    community_id: int,
    start: datetime,
    end: datetime,
    display_name: DisplayName,
    *,
    recipient_id: int,
    digest_id: int | None = None,
    fixed: bool = False,
    since: datetime | None = None,
) -> tuple[list[ShareableStory], int]:
    """The stories a digest of ``recipient_id`` offers from ``community_id`` (the same
    community, or the one a distilling group serves), and how many stories told in
    ``[start, end)`` stayed in the group.

    Offered: every story told before ``end`` that may leave the community *now* (the single
    exit function, :func:`shareable_view`, decides, as everywhere) and that no other digest
    of ``recipient_id`` offered. So a story whose teller widens its consent after its week's
    digest went goes out in the next digest, once; a story already offered is never offered
    again, whatever its consent does later; a digest that failed with nothing delivered
    offered nothing. Only the recipient's ``story_offers`` rows are read (the stories told
    or changed since its last digest, kept there by triggers: see migration 0013), so the
    cost does not grow with the community's history.

    ``digest_id`` (a digest claimed for delivery; ``None`` for a preview, which writes
    nothing) records what this digest offers, replacing what an earlier attempt of it
    recorded; with ``fixed`` (part of it was already delivered) it offers exactly what it
    recorded then, as far as consent still allows, so a retry sends the same stories.
    ``since`` leaves out stories told before it (a distilling group's roll-up starts with
    the group, not with the whole history of the community it serves).
    """
    if fixed and digest_id is not None:
        candidates = await story_rows.offered_in(db, digest_id, community_id)
    else:
        candidates = await story_rows.offer_candidates(
            db, recipient_id, community_id, end, since, digest_id
        )
    offered: list[ShareableStory] = []
    offered_ids: list[int] = []
    not_shareable: list[int] = []
    for story in candidates:
        shared = await _shared(story, display_name)
        if shared is None:
            not_shareable.append(story.id)
            continue
        offered_ids.append(story.id)
        offered.append(shared)
    if digest_id is not None and not fixed:
        await story_rows.record_offers(
            db, digest_id, community_id, recipient_id, offered_ids, not_shareable
        )

    async def nobody(_: int) -> str | None:
        return None

    # The count of stories kept within the group stays the period's (the window function,
    # which also keeps a circle's stories out of it); no name is looked up for it.
    _, kept = await shareable_stories_for_digest(db, community_id, start, end, nobody)
    return offered, kept
