"""Significant-change rounds: the stored round, story and choice, and what a close froze.

A round (Davies & Dart 2005, "Most Significant Change") has domains of change, a reporting
period, a collection deadline and a selection deadline. It moves ``collecting`` →
``selecting`` → ``closed``, each step once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.stories.consent import Consent


class RoundState(StrEnum):
    COLLECTING = "collecting"
    SELECTING = "selecting"
    CLOSED = "closed"


class DomainResult(StrEnum):
    """What became of one domain at the close."""

    SELECTED = "selected"  # one story had the most choices
    TIED = "tied"  # several stories shared the most choices: all are selected together
    TOO_FEW = "too_few"  # fewer choices than the round's minimum: no selection
    NO_STORIES = "no_stories"  # nobody told a story in this domain


@dataclass(frozen=True)
class ChangeRound:
    id: int
    community_id: int
    selector_id: int
    """The community whose members select: this one, or the distilling group serving it."""
    opened_by: int
    domains: tuple[str, ...]
    period_start: datetime
    period_end: datetime
    collect_until: datetime
    select_until: datetime
    min_choices: int
    state: RoundState
    created_at: datetime
    channel_id: int | None = None
    message_id: int | None = None
    selection_channel_id: int | None = None
    selection_message_id: int | None = None
    selection_opened_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: RoundOutcome | None = None

    @property
    def distilled(self) -> bool:
        """True when a distilling group (another community) selects for this one."""
        return self.selector_id != self.community_id

    def accepts_stories(self, now: datetime) -> bool:
        return self.state is RoundState.COLLECTING and now < self.collect_until

    def accepts_choices(self, now: datetime) -> bool:
        return self.state is RoundState.SELECTING and now < self.select_until

    @property
    def reminder_at(self) -> datetime | None:
        """When selectors who have not chosen yet are reminded: :data:`REMIND_BEFORE` the
        selection deadline; ``None`` when selection is shorter than that (the invitation
        itself is the reminder) or the round is not selecting."""
        if self.state is not RoundState.SELECTING:
            return None
        at = self.select_until - REMIND_BEFORE
        opened = self.selection_opened_at or self.collect_until
        return at if at > opened else None


#: How long before the selection deadline the reminder goes.
REMIND_BEFORE = timedelta(days=1)


@dataclass(frozen=True)
class ChangeStory:
    """A story of change as stored. Withdrawn: a tombstone (no teller, no words)."""

    id: int
    round_id: int
    community_id: int
    domain: int
    teller_id: int | None
    title: str | None
    changed: str | None
    why: str | None
    consent: Consent
    created_at: datetime
    withdrawn_at: datetime | None = None

    @property
    def is_tombstone(self) -> bool:
        return self.consent is Consent.WITHDRAWN


@dataclass(frozen=True)
class Choice:
    """One selector's choice in one domain, with their reason (never shown with a name)."""

    domain: int
    selector_id: int
    story_id: int
    reason: str


@dataclass(frozen=True)
class DomainOutcome:
    """One domain's frozen selection: the selected stories and the reasons for each."""

    domain: int
    name: str
    result: DomainResult
    choices: int
    """How many selectors chose in this domain."""
    candidates: int
    selected: tuple[int, ...] = ()
    """Story ids (several when tied; none when too few or no stories)."""
    reasons: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """Reasons per selected story id, in the order they were written, without names."""
    votes: dict[int, int] = field(default_factory=dict)
    """Choices per selected story id."""

    def to_json(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "name": self.name,
            "result": self.result.value,
            "choices": self.choices,
            "candidates": self.candidates,
            "selected": list(self.selected),
            "reasons": {str(k): list(v) for k, v in self.reasons.items()},
            "votes": {str(k): v for k, v in self.votes.items()},
        }

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> DomainOutcome:
        reasons = raw.get("reasons") or {}
        votes = raw.get("votes") or {}
        assert isinstance(reasons, dict) and isinstance(votes, dict)
        selected = raw.get("selected") or []
        assert isinstance(selected, list)
        return cls(
            domain=int(str(raw["domain"])),
            name=str(raw["name"]),
            result=DomainResult(str(raw["result"])),
            choices=int(str(raw["choices"])),
            candidates=int(str(raw["candidates"])),
            selected=tuple(int(s) for s in selected),
            reasons={int(k): tuple(str(r) for r in v) for k, v in reasons.items()},
            votes={int(k): int(v) for k, v in votes.items()},
        )


@dataclass(frozen=True)
class RoundOutcome:
    """A closed round's selection, frozen at the close."""

    domains: tuple[DomainOutcome, ...]
    selectors: int
    """How many people chose in at least one domain."""

    def dumps(self) -> str:
        return json.dumps(
            {"selectors": self.selectors, "domains": [d.to_json() for d in self.domains]},
            ensure_ascii=False,
        )

    @classmethod
    def loads(cls, raw: str) -> RoundOutcome:
        data = json.loads(raw)
        return cls(
            domains=tuple(DomainOutcome.from_json(d) for d in data["domains"]),
            selectors=int(data["selectors"]),
        )

    def selected_ids(self) -> set[int]:
        return {sid for d in self.domains for sid in d.selected}
