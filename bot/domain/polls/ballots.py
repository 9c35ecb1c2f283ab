"""Polls: kinds, limits, option parsing, ballot validation and the stored poll.

The rules are written once in :mod:`bot.domain.polls` (the package docstring).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeAlias

from bot.errors import AlreadyYourVote, ClosedForVotes, Conflict, InvalidInput, NotAllowed, NotFound
from bot.text import clean_line, echo

MAX_QUESTION_CHARS = 300
MAX_OPTION_CHARS = 100
MAX_OPTIONS = 25
MIN_OPTIONS = 2
MIN_SURVEY_QUESTIONS = 1

#: Agreement scale, index 0..4, the order ballots use.
AGREEMENT_SCALE: tuple[str, ...] = (
    "Strongly agree",
    "Agree",
    "Neither agree nor disagree",
    "Disagree",
    "Strongly disagree",
)

class PollKind(StrEnum):
    SINGLE = "single"
    MULTI = "multi"
    RANKED = "ranked"
    AGREEMENT = "agreement"
    SURVEY = "survey"


Ballot: TypeAlias = int | frozenset[int] | tuple[int, ...] | dict[int, bool]


def as_kind(kind: PollKind | str) -> PollKind:
    """Accept the kind as typed by a user or stored in a row."""
    if type(kind) is PollKind:  # already one (every vote's ballot check passes one)
        return kind
    try:
        return PollKind(str(kind).strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in PollKind)
        raise InvalidInput(f"Unknown poll kind `{echo(kind)}`. Choose one of: {kinds}.") from None


# --------------------------------------------------------------------------- parsing


def validate_question(question: str) -> str:
    """Return the question on one line without control, bidi or zero-width characters (as
    it will be stored and shown), or explain why it cannot be used."""
    text = clean_line(question)
    if not text:
        raise InvalidInput("The poll needs a question. Type the question you want to ask.")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidInput(
            f"The question is {len(text)} characters long; keep it to {MAX_QUESTION_CHARS} "
            "or fewer and put any background in the channel instead."
        )
    return text


def parse_options(kind: PollKind | str, raw: str | None) -> list[str]:
    """Split ``raw`` on ``;`` into option labels (survey: questions) for a poll of ``kind``.

    Agreement polls return the fixed scale; typed options for them are refused.
    """
    kind = as_kind(kind)
    raw = raw or ""
    if kind is PollKind.AGREEMENT:
        if clean_line(raw.replace(";", "")):
            raise InvalidInput(
                "An agreement poll always uses the scale strongly agree … strongly disagree, "
                "and the question is the statement people rate. Leave options empty."
            )
        return list(AGREEMENT_SCALE)

    noun = "question" if kind is PollKind.SURVEY else "option"
    if not clean_line(raw):
        if kind is PollKind.SURVEY:
            raise InvalidInput(
                "A survey needs at least one yes/no question. Separate questions with ';', "
                "e.g. 'Did you attend?; Would you come again?'."
            )
        raise InvalidInput(
            "This poll needs at least 2 options. Separate them with ';', e.g. 'Monday; Tuesday'."
        )
    # cleaned as stored: one line, no control, bidi or zero-width characters (so "Monday"
    # and "Monday" plus a zero-width space are the same option)
    entries = [clean_line(part) for part in raw.split(";")]
    # A single trailing ';' is a common slip, not an empty option.
    if len(entries) > 1 and entries[-1] == "":
        entries.pop()
    for position, entry in enumerate(entries, start=1):
        if not entry:
            raise InvalidInput(
                f"{noun.capitalize()} {position} is empty. Remove the extra ';' or type "
                f"the missing {noun}."
            )
        if len(entry) > MAX_OPTION_CHARS:
            raise InvalidInput(
                f"{noun.capitalize()} {position} is {len(entry)} characters long; keep each "
                f"{noun} to {MAX_OPTION_CHARS} characters or fewer."
            )
    minimum = MIN_SURVEY_QUESTIONS if kind is PollKind.SURVEY else MIN_OPTIONS
    if len(entries) < minimum:
        raise InvalidInput(
            f"This poll needs at least {minimum} {noun}s; you gave {len(entries)}. "
            "Separate them with ';'."
        )
    if len(entries) > MAX_OPTIONS:
        raise InvalidInput(
            f"You gave {len(entries)} {noun}s; Discord allows at most {MAX_OPTIONS}. "
            "Merge or drop some, or split them over two polls."
        )
    seen: dict[str, int] = {}
    for position, entry in enumerate(entries, start=1):
        key = entry.casefold()
        if key in seen:
            raise InvalidInput(
                f"{noun.capitalize()} {position} (`{echo(entry)}`) repeats {noun} {seen[key]}. "
                f"Each {noun} must be different."
            )
        seen[key] = position
    return entries


# --------------------------------------------------------------------------- ballots


def _index(value: Any, n_options: int, what: str) -> int:
    # bool is an int subclass; a True/False index is always a bug upstream.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"That {what} is not valid. Pick one from the list.")
    if not 0 <= value < n_options:
        raise InvalidInput(f"That {what} is not part of this poll. Pick one from the list.")
    return value


def validate_ballot(kind: PollKind | str, n_options: int, ballot: Any) -> Ballot:
    """Check a ballot for a poll with ``n_options`` options and return its canonical form."""
    kind = as_kind(kind)
    if kind is PollKind.AGREEMENT:
        n_options = len(AGREEMENT_SCALE)
    if kind in (PollKind.SINGLE, PollKind.AGREEMENT):
        what = "point on the scale" if kind is PollKind.AGREEMENT else "option"
        return _index(ballot, n_options, what)
    if kind is PollKind.MULTI:
        if isinstance(ballot, (str, bytes, Mapping)) or not isinstance(ballot, Iterable):
            raise InvalidInput("Pick at least one option from the list.")
        picked = [_index(v, n_options, "option") for v in ballot]
        if not picked:
            raise InvalidInput("Pick at least one option.")
        if len(set(picked)) != len(picked):
            raise InvalidInput("You picked the same option twice; pick each option once.")
        return frozenset(picked)
    if kind is PollKind.RANKED:
        if isinstance(ballot, (str, bytes, Mapping, set, frozenset)) or not isinstance(
            ballot, Iterable
        ):
            raise InvalidInput("Rank the options in order of preference.")
        ranking = tuple(_index(v, n_options, "option") for v in ballot)
        if not ranking:
            raise InvalidInput("Rank at least one option.")
        if len(set(ranking)) != len(ranking):
            raise InvalidInput("Each option can appear only once in your ranking.")
        return ranking
    # survey
    if not isinstance(ballot, Mapping):
        raise InvalidInput("Answer yes or no to at least one question.")
    answers: dict[int, bool] = {}
    for question, answer in ballot.items():
        _index(question, n_options, "question")
        if not isinstance(answer, bool):
            raise InvalidInput("Each survey answer must be yes or no.")
        answers[question] = answer
    if not answers:
        raise InvalidInput("Answer yes or no to at least one question.")
    return answers


def merge_survey_answers(
    previous: Mapping[int, bool] | None, new: Mapping[int, bool]
) -> dict[int, bool]:
    """A member's changed survey answers replace earlier ones per question; others stay."""
    merged = dict(previous or {})
    merged.update(new)
    return merged



NOTHING_TO_WITHDRAW = (
    "You have not answered that question, so there is nothing to withdraw."
)


def withdraw_survey_answer(previous: Mapping[int, bool] | None, question: int) -> dict[int, bool]:
    """The member's survey answers without ``question``; an empty result withdraws the
    whole ballot (the member then no longer counts as having answered the survey)."""
    if not previous or question not in previous:
        raise Conflict(NOTHING_TO_WITHDRAW)
    return {q: a for q, a in previous.items() if q != question}


def is_withdrawal(kind: PollKind, built: object) -> bool:
    """A survey ballot with no answers left is no ballot: stored as none at all."""
    return kind is PollKind.SURVEY and isinstance(built, dict) and not built


@dataclass(frozen=True)
class PollSpec:
    """A validated poll definition, ready for a repository to store."""

    kind: PollKind
    question: str
    options: tuple[str, ...] = field(default_factory=tuple)


def parse_poll(kind: PollKind | str, question: str, raw_options: str | None) -> PollSpec:
    """Validate everything a `/poll create` needs in one call, so nothing is half-stored."""
    k = as_kind(kind)
    return PollSpec(k, validate_question(question), tuple(parse_options(k, raw_options)))


# --------------------------------------------------------------------------- stored polls


@dataclass(frozen=True)
class Poll:
    """A stored poll as the repository returns it (no ballots, no secret)."""

    id: int
    community_id: int
    kind: PollKind
    question: str
    options: tuple[str, ...]
    anonymous: bool
    created_by: int
    created_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None
    channel_id: int | None = None
    message_id: int | None = None
    nudged_at: datetime | None = None
    voters: int | None = None
    eligible: int | None = None
    collective_statement: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def counts_hidden(self) -> bool:
        """Counts of an open anonymous poll are withheld until it closes: anyone who sees a
        count move as a particular member votes (and facilitators see who has voted) could
        work out that member's vote. Turnout is shown instead."""
        return self.closed_at is None and self.anonymous

    def accepts_votes(self, now: datetime) -> bool:
        """Open and not past its deadline (a late close job must not let late votes in)."""
        return self.closed_at is None and (self.closes_at is None or now < self.closes_at)

    def nudge_at(self, before: timedelta) -> datetime | None:
        """When to nudge non-voters, or None (no deadline, or the deadline is too close)."""
        if self.closes_at is None:
            return None
        at = self.closes_at - before
        return at if at > self.created_at else None


def check_closes(closes_at: datetime | None, now: datetime) -> None:
    """A deadline must leave time to vote; parse_future already refuses the past."""
    if closes_at is not None and closes_at - now < MIN_POLL_DURATION:
        raise InvalidInput(
            "Give people at least 5 minutes to vote: choose a later closing time, "
            'such as "in 2 hours" or "in 3 days".'
        )


MIN_POLL_DURATION = timedelta(minutes=5)


# --------------------------------------------------------------------------- who may vote

DELETED_POLL = (
    "This poll no longer exists (it was deleted), so votes on it cannot be counted. "
    "Ask a facilitator if you expected it to be open."
)
POLL_CLOSED = "This poll has closed, so votes are no longer accepted."
MEMBERS_ONLY = "Only members of this poll's community can vote in it."


def check_vote(poll: Poll | None, now: datetime, *, member: bool, key: bool = True) -> Poll:
    """The one rule for casting a vote, applied by the early check and again by the write.

    ``key`` is False once the poll's ballot key is gone (closed while the vote was queued).
    """
    if poll is None:
        raise NotFound(DELETED_POLL)
    if not poll.accepts_votes(now) or not key:
        raise ClosedForVotes(POLL_CLOSED)
    if not member:
        raise NotAllowed(MEMBERS_ONLY)
    return poll


def check_changed(previous: Ballot | None, ballot: Ballot) -> None:
    """A vote equal to the member's current one changes nothing and says so (typed)."""
    if previous is not None and ballot == previous:
        raise AlreadyYourVote()
