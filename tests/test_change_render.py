"""Significant-change rounds' messages stay within Discord's limits at their largest: ten
tied stories with long reasons in one feedback message, and 25 longest candidates paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.change import (
    CHANGED_LIMIT,
    REASON_LIMIT,
    TITLE_LIMIT,
    WHY_LIMIT,
    ChangeRound,
    DomainOutcome,
    DomainResult,
    RoundState,
    StoryView,
)
from bot.domain.stories.consent import Consent
from bot.services.change_rounds import Candidate, FeedbackDomain
from cogs.change._render import candidate_embeds, candidate_pages, feedback_message

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
# Markdown characters escape to two characters each: the worst case for length.
WORST = "*_" * 2000


def view(i: int) -> StoryView:
    return StoryView(("T" * TITLE_LIMIT)[:TITLE_LIMIT], WORST[:CHANGED_LIMIT],
                     WORST[:WHY_LIMIT], "N" * 32, Consent.NAMED, T0, i)  # fmt: skip


def test_ten_tied_stories_with_long_reasons_fit_one_message() -> None:
    ids = tuple(range(1, 11))
    reasons: dict[int, tuple[str, ...]] = {i: ("r" * REASON_LIMIT,) * 3 for i in ids}
    outcome = DomainOutcome(0, "Care", DomainResult.TIED, 30, 12, ids, reasons,
                            {i: 3 for i in ids})  # fmt: skip
    rnd = ChangeRound(1, 1, 1, 1, ("Care",), T0, T0, T0, T0 + timedelta(days=1), 2,
                      RoundState.CLOSED, T0)  # fmt: skip
    text, embeds = feedback_message(rnd, FeedbackDomain(outcome, tuple((i, view(i)) for i in ids)))
    assert len(text) <= 2000 and len(embeds) == 10
    assert sum(len(e) for e in embeds) <= 6000
    assert all(len(e.description or "") <= 4096 for e in embeds)
    assert all(len(f.value or "") <= 1024 for e in embeds for f in e.fields)


def test_the_longest_candidates_are_paged_and_shown_whole() -> None:
    candidates = [Candidate(i, view(i)) for i in range(25)]
    pages = candidate_pages(candidates)
    assert sorted(i for p in pages for i in p) == list(range(25))
    for page in pages:
        embeds = candidate_embeds(candidates, page)
        assert len(embeds) <= 10 and sum(len(e) for e in embeds) <= 6000
    short = [Candidate(i, StoryView("t", "c", "w", None, Consent.GROUP, T0)) for i in range(25)]
    assert [len(p) for p in candidate_pages(short)] == [10, 10, 5]
