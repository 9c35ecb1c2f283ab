"""What closing something members voted on freezes: one shape for polls and statement rounds.

A poll and a statement round close the same way (:mod:`bot.services.lifecycle`): the
repository, inside one transaction, reads the ballots and hands them to a pure *decide*
function from the domain, which returns an :class:`Outcome` (turnout, the collective
statement in plain words, the full result); the repository stores it with the close and
drops the sealed ballots and key. Deciding and wording stay in the domain; storage only
stores what it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """Turnout, the collective statement and the full result (a tally or a report)."""

    voters: int
    #: Members who could vote at close, never fewer than ``voters``.
    eligible: int
    statement: str
    result: R


@dataclass(frozen=True)
class Closed(Generic[T, R]):
    """The closed item as stored after the close, and what its close decided."""

    item: T
    outcome: Outcome[R]

    @property
    def result(self) -> R:
        return self.outcome.result
