"""Reading what significant-change rounds selected, for the feedback and for readers outside.

Functions over the repository (no service state), so the round's service, the sponsor's
digest (:func:`changes_for_digest`, a typed digest source) and the value report read the
selection the same way: each selected story through :func:`bot.domain.change.view_for`,
which for readers outside the community goes through the one exit,
:func:`bot.domain.stories.consent.shareable_view` (only ``anonymous`` and ``named`` stories,
redacted, a name only for ``named``; withdrawn stories never).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.db.change_rounds import ChangeRoundRepo
from bot.db.database import Database
from bot.domain.change import ChangeRound, DomainResult, StoryView, view_for
from bot.domain.change.results import FeedbackDomain, SelectedStory
from bot.domain.digest.model import SignificantChange
from bot.domain.stories.consent import Consent

NameLookup = Callable[[int], Awaitable[str | None]]


async def feedback_of(
    repo: ChangeRoundRepo, rnd: ChangeRound, names: NameLookup, *, outside: bool
) -> list[FeedbackDomain]:
    """Each domain's selection as ``outside`` (or inside) readers may see it, read now: a
    story withdrawn since (or one that may not leave, outside) has no view (a tombstone)."""
    if rnd.outcome is None:
        return []
    stories = await repo.stories_by_ids(sorted(rnd.outcome.selected_ids()))
    out: list[FeedbackDomain] = []
    for dom in rnd.outcome.domains:
        pairs: list[tuple[int, StoryView | None]] = []
        for sid in dom.selected:
            story = stories.get(sid)
            view = None
            if story is not None:
                name = (
                    await names(story.teller_id)
                    if story.teller_id is not None and story.consent is Consent.NAMED
                    else None
                )
                view = view_for(story, name, outside=outside)
            pairs.append((sid, view))
        out.append(FeedbackDomain(dom, tuple(pairs)))
    return out


async def selected_between(
    repo: ChangeRoundRepo,
    community_id: int,
    start: datetime,
    end: datetime,
    names: NameLookup,
) -> list[SelectedStory]:
    """Stories selected in rounds of ``community_id`` closed in ``[start, end)``, as readers
    OUTSIDE the community may see them (see the module docstring), with their domain, the
    selectors' reasons (never their names) and whether they tied; by close time, then
    domain."""
    out: list[SelectedStory] = []
    for rnd in await repo.closed_between(community_id, start, end):
        assert rnd.closed_at is not None
        for fb in await feedback_of(repo, rnd, names, outside=True):
            for sid, view in fb.stories:
                if view is None:
                    continue
                out.append(
                    SelectedStory(
                        domain=fb.outcome.name, title=view.title, changed=view.changed,
                        why=view.why, teller_name=view.teller_name,
                        reasons=fb.outcome.reasons.get(sid, ()),
                        tied=fb.outcome.result is DomainResult.TIED,
                        selected_at=rnd.closed_at, period_start=rnd.period_start,
                        period_end=rnd.period_end,
                    )
                )  # fmt: skip
    return out


async def changes_for_digest(
    db: Database,
    community_id: int,
    start: datetime,
    end: datetime,
    display_name: NameLookup,
    /,
) -> list[SignificantChange]:
    """The digest's "Stories of significant change": what rounds closed in ``[start, end)``
    selected, consent permitting (see :func:`selected_between`)."""
    return [
        SignificantChange(
            domain=s.domain,
            title=s.title,
            changed=s.changed,
            why=s.why,
            teller_name=s.teller_name,
            reasons=s.reasons,
            tied=s.tied,
        )
        for s in await selected_between(ChangeRoundRepo(db), community_id, start, end, display_name)
    ]
