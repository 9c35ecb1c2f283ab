"""Significant-change rounds (Davies & Dart 2005, "Most Significant Change").

Pure logic. :mod:`.model`: the round, story, choice and frozen outcome; :mod:`.rules`:
reading a facilitator's input, limits and the close's tally (ties, too few choices);
:mod:`.views`: what of a story each audience may see (inside the community, or outside it
through :func:`bot.domain.stories.consent.shareable_view`).
"""

from __future__ import annotations

from bot.domain.change.model import (
    ChangeRound,
    ChangeStory,
    Choice,
    DomainOutcome,
    DomainResult,
    RoundOutcome,
    RoundState,
)
from bot.domain.change.rules import (
    CHANGED_LIMIT,
    DOMAIN_LIMIT,
    MAX_CANDIDATES,
    MAX_DOMAINS,
    REASON_LIMIT,
    TITLE_LIMIT,
    WHY_LIMIT,
    check_deadlines,
    parse_domains,
    parse_period,
    tally,
    tally_domain,
    validate_change_story,
    validate_reason,
)
from bot.domain.change.views import StoryView, may_be_seen, view_for, view_inside, view_outside

__all__ = [
    "CHANGED_LIMIT", "DOMAIN_LIMIT", "MAX_CANDIDATES", "MAX_DOMAINS", "REASON_LIMIT",
    "TITLE_LIMIT", "WHY_LIMIT", "ChangeRound", "ChangeStory", "Choice", "DomainOutcome",
    "DomainResult", "RoundOutcome", "RoundState", "StoryView", "check_deadlines",
    "may_be_seen", "parse_domains", "parse_period", "tally", "tally_domain",
    "validate_change_story", "validate_reason", "view_for", "view_inside", "view_outside",
]  # fmt: skip
