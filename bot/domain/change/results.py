"""What the significant-change service returns: candidates, feedback, tellers' news, and
the stories other capabilities read (the value report, the digest).

Pure dataclasses. :class:`SelectedStory` is for readers OUTSIDE the community (consent-
filtered, redacted, no ids); :class:`InsideStory` is for use inside it only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.change.model import ChangeRound, ChangeStory, DomainOutcome
from bot.domain.change.views import StoryView
from bot.domain.stories.consent import Consent


@dataclass(frozen=True)
class SelectedStory:
    """A selected story of change as it may be read outside its community (the sponsor's
    digest, the value report): consent-filtered and redacted, no ids of any kind."""

    domain: str
    title: str
    changed: str
    why: str
    teller_name: str | None
    """Only for ``named`` consent."""
    reasons: tuple[str, ...]
    """The selectors' written reasons, without their names."""
    tied: bool
    selected_at: datetime
    period_start: datetime
    period_end: datetime


@dataclass(frozen=True)
class InsideStory:
    """A story of change for use inside its community (not redacted; no teller id)."""

    story_id: int
    round_id: int
    domain: str
    title: str
    changed: str
    why: str
    consent: Consent
    teller_name: str | None
    created_at: datetime
    selected: bool


@dataclass(frozen=True)
class RoundStatus:
    """Where a round stands, in counts only: stories per domain (not withdrawn), and while
    selection runs how many of how many selectors have chosen, never what."""

    round: ChangeRound
    selectors_name: str
    stories: tuple[int, ...]
    chosen: int
    selectors: int


@dataclass(frozen=True)
class Candidate:
    story_id: int
    view: StoryView


@dataclass(frozen=True)
class FeedbackDomain:
    """One domain of a closed round's feedback, for one audience. ``stories`` pairs each
    selected story id with its view; a view of None is a story its teller withdrew (or,
    outside the community, one that may not leave)."""

    outcome: DomainOutcome
    stories: tuple[tuple[int, StoryView | None], ...]


@dataclass(frozen=True)
class TellerNews:
    """What one teller is told at the close about one of their stories."""

    teller_id: int
    story: ChangeStory
    domain: FeedbackDomain
    selected: bool
