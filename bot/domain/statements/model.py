"""Statement rounds: the vote, the stored statement and round, and the report's shape.

The report's dataclasses live here (not beside the computation) so the opinion-group
module and the report module can both use them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from bot.domain.polls.tally import percent, share


class Vote(StrEnum):
    AGREE = "agree"
    DISAGREE = "disagree"
    PASS = "pass"


VOTE_VALUE = {Vote.AGREE: 1, Vote.DISAGREE: -1, Vote.PASS: 0}



@dataclass(frozen=True)
class Counts:
    agree: int = 0
    disagree: int = 0
    passed: int = 0

    @property
    def total(self) -> int:
        return self.agree + self.disagree + self.passed

    @property
    def agree_share(self) -> Fraction:
        return share(self.agree, self.total)

    @property
    def disagree_share(self) -> Fraction:
        return share(self.disagree, self.total)

    @property
    def agree_percent(self) -> int:
        return percent(self.agree, self.total)

    @property
    def disagree_percent(self) -> int:
        return percent(self.disagree, self.total)

    @property
    def majority_agrees(self) -> bool:
        return self.agree * 2 > self.total

    @property
    def majority_disagrees(self) -> bool:
        return self.disagree * 2 > self.total

    def add(self, vote: Vote) -> Counts:
        return Counts(
            self.agree + (vote is Vote.AGREE),
            self.disagree + (vote is Vote.DISAGREE),
            self.passed + (vote is Vote.PASS),
        )


@dataclass(frozen=True)
class StatementTally:
    statement_id: int
    text: str
    counts: Counts
    #: Only disciplines large enough to report (see module docstring), name -> counts.
    by_discipline: dict[str, Counts] = field(default_factory=dict)


@dataclass(frozen=True)
class Divisive:
    statement: StatementTally
    between: str  # "disciplines" or "opinion groups"
    agreeing: tuple[str, ...]
    disagreeing: tuple[str, ...]


@dataclass(frozen=True)
class DistinctiveStatement:
    statement_id: int
    text: str
    leaning: Vote  # AGREE: the group agrees more than others; DISAGREE: less
    group_agree_percent: int
    others_agree_percent: int


@dataclass(frozen=True)
class OpinionGroup:
    label: str
    size: int
    distinctive: tuple[DistinctiveStatement, ...]


@dataclass(frozen=True)
class StatementReport:
    statements: tuple[StatementTally, ...]
    voters: int
    consensus: tuple[StatementTally, ...]
    cross_discipline_consensus: tuple[StatementTally, ...]
    divisive: tuple[Divisive, ...]
    opinion_groups: tuple[OpinionGroup, ...]
    #: Why there are no opinion groups, in plain words (None when groups were found).
    opinion_groups_note: str | None
    consensus_threshold: float
    min_votes: int
    min_group_size: int


# --------------------------------------------------------------------------- stored rows


@dataclass(frozen=True)
class Statement:
    id: int
    community_id: int
    round_id: int | None
    author_id: int
    text: str
    created_at: datetime


@dataclass(frozen=True)
class StatementRound:
    """A round: every statement of the community not yet in a closed round, voted until
    ``closes_at``. Statements added while it is open join it."""

    id: int
    community_id: int
    opened_by: int
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    channel_id: int | None = None
    message_id: int | None = None
    voters: int | None = None
    eligible: int | None = None
    collective_statement: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def accepts_votes(self, now: datetime) -> bool:
        return self.closed_at is None and now < self.closes_at



@dataclass(frozen=True)
class RoundBallots:
    """A round's votes as the repository hands them over: under per-round pseudonyms.

    ``statements`` are (id, text); ``votes`` are (pseudonym, statement id, vote);
    ``disciplines`` maps a pseudonym to its voter's discipline (when they have one).
    """

    statements: list[tuple[int, str]]
    votes: list[tuple[int, int, Vote]] = field(default_factory=list)
    disciplines: dict[int, str] = field(default_factory=dict)
