"""Polls: exact shares, whole percentages, tallies and the instant runoff.

Rules (denominators, rounding, runoff elimination order) in :mod:`bot.domain.polls`.
Every function takes ballots as an anonymous iterable and returns aggregates only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from bot.domain.polls.ballots import AGREEMENT_SCALE, PollKind, as_kind, validate_ballot
from bot.text import percent  # the project's one percentage rule (re-exported)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- percentages


def share(numerator: int, denominator: int) -> Fraction:
    """Exact share; 0 when the denominator is 0."""
    return Fraction(numerator, denominator) if denominator > 0 else Fraction(0)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class OptionResult:
    index: int
    label: str
    count: int
    share: Fraction  # of voters (see module docstring)

    @property
    def percent(self) -> int:
        return percent(self.share.numerator, self.share.denominator)


@dataclass(frozen=True)
class SurveyQuestionResult:
    index: int
    question: str
    responses: int
    yes: int

    @property
    def no(self) -> int:
        return self.responses - self.yes

    @property
    def yes_share(self) -> Fraction:
        return share(self.yes, self.responses)

    @property
    def yes_percent(self) -> int:
        return percent(self.yes, self.responses)


@dataclass(frozen=True)
class IrvRound:
    """One instant-runoff round: votes per continuing option, who went out, and why."""

    counts: dict[int, int]
    eliminated: int | None
    exhausted: int
    tie_broken: bool = False

    @property
    def continuing_ballots(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class IrvResult:
    rounds: tuple[IrvRound, ...]
    winner: int | None
    tied: tuple[int, ...] = ()


@dataclass(frozen=True)
class PollResult:
    kind: PollKind
    options: tuple[str, ...]
    voters: int
    eligible: int
    option_results: tuple[OptionResult, ...] = ()
    survey: tuple[SurveyQuestionResult, ...] = ()
    irv: IrvResult | None = None
    agree: int = 0
    disagree: int = 0

    @property
    def quorum(self) -> Fraction:
        return share(self.voters, self.eligible)

    @property
    def quorum_percent(self) -> int:
        return percent(self.voters, self.eligible)

    @property
    def agree_share(self) -> Fraction:
        return share(self.agree, self.voters)

    @property
    def agree_percent(self) -> int:
        return percent(self.agree, self.voters)

    @property
    def disagree_percent(self) -> int:
        return percent(self.disagree, self.voters)

    def leaders(self) -> tuple[OptionResult, ...]:
        """Options sharing the highest count (none when no one voted)."""
        if not self.option_results or self.voters == 0:
            return ()
        top = max(r.count for r in self.option_results)
        return tuple(r for r in self.option_results if r.count == top and top > 0)


def instant_runoff(n_options: int, ballots: Sequence[Sequence[int]]) -> IrvResult:
    """Instant-runoff count; rules in the module docstring."""
    if not ballots:
        return IrvResult(rounds=(), winner=None, tied=())
    continuing = list(range(n_options))
    rounds: list[IrvRound] = []
    while True:
        alive = set(continuing)
        counts = dict.fromkeys(continuing, 0)
        exhausted = 0
        for ballot in ballots:
            choice = next((o for o in ballot if o in alive), None)
            if choice is None:
                exhausted += 1
            else:
                counts[choice] += 1
        active = sum(counts.values())
        top = max(counts.values())
        if active > 0 and top * 2 > active:
            winner = next(o for o in continuing if counts[o] == top)
            rounds.append(IrvRound(counts, None, exhausted))
            return IrvResult(tuple(rounds), winner, ())
        low = min(counts.values())
        if low == top:
            rounds.append(IrvRound(counts, None, exhausted))
            return IrvResult(tuple(rounds), None, tuple(continuing))
        lowest = [o for o in continuing if counts[o] == low]
        tie_broken = len(lowest) > 1
        for earlier in reversed(rounds):
            if len(lowest) == 1:
                break
            fewest = min(earlier.counts[o] for o in lowest)
            lowest = [o for o in lowest if earlier.counts[o] == fewest]
        out = max(lowest)  # still tied: the option listed later in the poll goes out
        rounds.append(IrvRound(counts, out, exhausted, tie_broken))
        continuing.remove(out)


def tally(
    kind: PollKind | str,
    options: Sequence[str],
    ballots: Iterable[Any],
    eligible: int,
) -> PollResult:
    """Aggregate one ballot per voter (the repository keeps only each member's latest ballot).

    ``eligible`` is the number of members who could vote. It is raised to the number of
    voters if smaller: everyone who voted was eligible when they did, and a quorum above 100%
    would only confuse.
    """
    kind = as_kind(kind)
    labels = tuple(AGREEMENT_SCALE if kind is PollKind.AGREEMENT else options)
    n = len(labels)
    valid = [validate_ballot(kind, n, b) for b in ballots]
    voters = len(valid)
    if eligible < voters:
        log.debug("eligible (%d) below voters (%d); using voters", eligible, voters)
        eligible = voters

    if kind is PollKind.SURVEY:
        responses = [0] * n
        yes = [0] * n
        for answers in valid:
            assert isinstance(answers, dict)
            for q, a in answers.items():
                responses[q] += 1
                yes[q] += int(a)
        questions = tuple(
            SurveyQuestionResult(i, labels[i], responses[i], yes[i]) for i in range(n)
        )
        return PollResult(kind, labels, voters, eligible, survey=questions)

    counts = [0] * n
    irv: IrvResult | None = None
    if kind is PollKind.MULTI:
        for picked in valid:
            assert isinstance(picked, frozenset)
            for o in picked:
                counts[o] += 1
    elif kind is PollKind.RANKED:
        rankings = [b for b in valid if isinstance(b, tuple)]
        for ranking in rankings:
            counts[ranking[0]] += 1
        irv = instant_runoff(n, rankings)
    else:
        for choice in valid:
            assert isinstance(choice, int)
            counts[choice] += 1
    option_results = tuple(
        OptionResult(i, labels[i], counts[i], share(counts[i], voters)) for i in range(n)
    )
    agree = disagree = 0
    if kind is PollKind.AGREEMENT:
        agree, disagree = counts[0] + counts[1], counts[3] + counts[4]
    return PollResult(
        kind,
        labels,
        voters,
        eligible,
        option_results=option_results,
        irv=irv,
        agree=agree,
        disagree=disagree,
    )

