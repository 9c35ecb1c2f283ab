"""Polls: option parsing, ballot validation, tallies, instant runoff and result rendering.

Pure logic: repositories store ballots, cogs render what this module returns. Nothing here
knows who cast a ballot, so nothing here can leak it: every function takes ballots as an
anonymous iterable and returns aggregates only.

Decisions (each made once, here, so every surface shows the same numbers):

Limits
    question: 1..300 characters (it is shown in an embed description and a table header;
    longer questions make results unreadable). Options: 2..25 (Discord allows 25 options in a
    select menu), each 1..100 characters (Discord's select option label limit; buttons allow
    only 80, so a cog that uses buttons must shorten labels itself). Duplicates are compared
    case-insensitively after stripping.

Kinds and their options
    ``single``/``multi``/``ranked``: 2..25 options separated by ``;``.
    ``agreement``: the question *is* the statement and the options are the fixed five-point
    scale :data:`AGREEMENT_SCALE`. Typed options are refused (not silently ignored) so nobody
    believes their own options will be used; leave ``options`` empty.
    ``survey``: each ``;``-separated entry is one yes/no question, 1..25 of them.

Ballots (canonical forms returned by :func:`validate_ballot`)
    single -> ``int`` option index; multi -> ``frozenset[int]`` (at least one);
    ranked -> ``tuple[int, ...]`` of distinct indices, most preferred first, partial rankings
    allowed; agreement -> ``int`` 0..4 (0 = strongly agree .. 4 = strongly disagree);
    survey -> ``dict[int, bool]`` question index -> yes/no, at least one answer. A later survey
    ballot from the same member replaces answers per question (:func:`merge_survey_answers`).

Percentages
    Exact shares are kept as :class:`fractions.Fraction`; for display every percentage is the
    exact share times 100 rounded **half up to a whole percent** with :mod:`decimal`
    (:func:`percent`): 1/8 -> 12.5 -> 13. A zero denominator shows 0%. Rounded percentages of a
    single-choice poll may therefore sum to 99..101; the exact shares sum to exactly 1.
    Denominators: single, ranked first preferences and agreement levels -> voters (each voter
    has exactly one vote); multi -> voters (one voter may pick several, so these can sum to
    more than 100%); survey -> the number of members who answered *that* question; quorum ->
    voters / eligible members.

Instant runoff (:func:`instant_runoff`)
    Each round counts every ballot for its highest-ranked continuing option; ballots with no
    continuing option are *exhausted* and reported per round. An option with a strict majority
    of the continuing (non-exhausted) ballots wins. If every continuing option has the same
    count the poll ends in a tie between them. Otherwise one option with the fewest votes is
    eliminated; when several share the fewest, the tie is broken by the fewest votes in the
    previous round, then the round before that, back to round 1 (first preferences); if still
    tied, the option listed *later* in the poll is eliminated. Options are eliminated one at a
    time, including options with no votes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from fractions import Fraction
from typing import Any, TypeAlias

from bot.errors import InvalidInput
from bot.text import clean_line, echo

log = logging.getLogger(__name__)

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

#: Discord limits the renderers respect.
MESSAGE_LIMIT = 2000
#: ``render_table`` output stays within this so a cog can wrap it in a code fence
#: (```` ```\n ... \n``` ```` adds 8 characters) plus a short heading line.
TABLE_LIMIT = 1900
EMBED_MAX_FIELDS = 25
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
#: Total budget for all field names and values; Discord's whole-embed limit is 6000, the rest
#: is left for the title, description and footer the cog adds.
EMBED_FIELDS_TOTAL_LIMIT = 5000


class PollKind(StrEnum):
    SINGLE = "single"
    MULTI = "multi"
    RANKED = "ranked"
    AGREEMENT = "agreement"
    SURVEY = "survey"


Ballot: TypeAlias = int | frozenset[int] | tuple[int, ...] | dict[int, bool]


def as_kind(kind: PollKind | str) -> PollKind:
    """Accept the kind as typed by a user or stored in a row."""
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


# --------------------------------------------------------------------------- percentages


def percent(numerator: int, denominator: int) -> int:
    """Whole percent of ``numerator/denominator``, rounded half up; 0 when nothing to divide.

    Decimal (not ``round()``, which rounds half to even and works on binary floats) so that
    12.5% shows as 13% everywhere. The precision is raised far beyond what any
    ``denominator`` here can need, so the division is exact wherever the quotient has a .5.
    """
    if denominator <= 0:
        return 0
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(numerator * 100) / Decimal(denominator)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


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


# --------------------------------------------------------------------------- wording


def as_clause(statement: str) -> str:
    """Turn "The clinic should open later." into "the clinic should open later" for "agree that …".

    The first letter is lowered only when the second is lower case, so "NHS …" and "GPs …"
    keep their capitals.
    """
    text = " ".join(statement.split()).rstrip(" .!?;:")
    if len(text) >= 2 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def _quoted(text: str) -> str:
    return f"“{text}”"


def _members(n: int) -> str:
    return "member" if n == 1 else "members"


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def collective_statement(question: str, result: PollResult) -> str:
    """The poll's outcome in plain words with its support; aggregates only, never names."""
    q = " ".join(question.split())
    turnout = f"{result.voters} of {result.eligible} {_members(result.eligible)} voted"
    if result.voters == 0:
        return f"Asked {_quoted(q)}, no one voted ({turnout})."

    if result.kind is PollKind.AGREEMENT:
        agree_of_members = percent(result.agree, result.eligible)
        return (
            f"{result.agree} of {result.eligible} {_members(result.eligible)} "
            f"({agree_of_members}%) agree that {as_clause(q)}. "
            f"{turnout}; {result.agree} of {result.voters} who voted "
            f"({result.agree_percent}%) agree and {result.disagree} ({result.disagree_percent}%) "
            "disagree."
        )

    if result.kind is PollKind.SURVEY:
        lines = [f"Asked {_quoted(q)}:"]
        for sq in result.survey:
            if sq.responses == 0:
                lines.append(f"- {_quoted(sq.question)}: no one answered.")
            else:
                lines.append(
                    f"- {_quoted(sq.question)}: {sq.yes} of {sq.responses} {_members(sq.responses)}"
                    f" who answered ({sq.yes_percent}%) said yes."
                )
        lines.append(f"{result.voters} of {result.eligible} {_members(result.eligible)} took part.")
        return "\n".join(lines)

    if result.kind is PollKind.RANKED:
        irv = result.irv
        assert irv is not None
        if irv.winner is not None:
            last = irv.rounds[-1]
            won = last.counts[irv.winner]
            rounds = len(irv.rounds)
            how = "on first preferences" if rounds == 1 else f"after {rounds} rounds of counting"
            return (
                f"Asked {_quoted(q)}, {turnout} and ranked the options; "
                f"{_quoted(result.options[irv.winner])} won {how} with {won} of "
                f"{last.continuing_ballots} continuing votes "
                f"({percent(won, last.continuing_ballots)}%)."
            )
        names = _join([_quoted(result.options[o]) for o in irv.tied])
        return (
            f"Asked {_quoted(q)}, {turnout} and ranked the options; "
            f"it ended in a tie between {names}."
        )

    leaders = result.leaders()
    if result.kind is PollKind.MULTI:
        ranked = sorted(
            (r for r in result.option_results if r.count > 0), key=lambda r: (-r.count, r.index)
        )[:3]
        parts = [f"{_quoted(r.label)} ({r.count} of {result.voters}, {r.percent}%)" for r in ranked]
        return f"Asked {_quoted(q)}, {turnout}; most often chosen: {_join(parts)}."

    top = leaders[0]
    if len(leaders) == 1:
        return (
            f"Asked {_quoted(q)}, {turnout}; {top.count} of {result.voters} chose "
            f"{_quoted(top.label)} ({top.percent}%)."
        )
    names = _join([_quoted(r.label) for r in leaders])
    return (
        f"Asked {_quoted(q)}, {turnout}; it was a tie: {names} each had {top.count} of "
        f"{result.voters} votes ({top.percent}%)."
    )


# --------------------------------------------------------------------------- rendering


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _turnout_line(result: PollResult) -> str:
    return (
        f"Voters: {result.voters} of {result.eligible} {_members(result.eligible)} "
        f"({result.quorum_percent}%)"
    )


def _round_line(result: PollResult, number: int, rnd: IrvRound) -> str:
    parts = [
        f"{echo(result.options[o], 24)} {c} ({percent(c, rnd.continuing_ballots)}%)"
        for o, c in sorted(rnd.counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    line = f"Round {number}: " + ", ".join(parts) + f"; exhausted {rnd.exhausted}"
    if rnd.eliminated is not None:
        how = " (tie broken)" if rnd.tie_broken else ""
        line += f"; out: {echo(result.options[rnd.eliminated], 24)}{how}"
    return line


def _outcome_line(result: PollResult) -> str | None:
    irv = result.irv
    if irv is None or not irv.rounds:
        return None
    if irv.winner is not None:
        return f"Winner: {echo(result.options[irv.winner], 100)}"
    return "Tie between: " + ", ".join(echo(result.options[o], 100) for o in irv.tied)


def _table_lines(result: PollResult) -> list[str]:
    label_width = 40
    if result.kind is PollKind.SURVEY:
        header = f"{'Question':<{label_width}} {'Yes':>4} {'No':>4} {'Yes%':>5} {'Answered':>8}"
        lines = [header, "-" * len(header)]
        for sq in result.survey:
            lines.append(
                f"{echo(sq.question, label_width):<{label_width}} {sq.yes:>4} {sq.no:>4} "
                f"{sq.yes_percent:>4}% {sq.responses:>8}"
            )
        lines.append(_turnout_line(result))
        return lines
    title = "First preference" if result.kind is PollKind.RANKED else "Option"
    header = f"{title:<{label_width}} {'Votes':>5} {'%':>4}"
    lines = [header, "-" * len(header)]
    for r in result.option_results:
        lines.append(f"{echo(r.label, label_width):<{label_width}} {r.count:>5} {r.percent:>3}%")
    lines.append(_turnout_line(result))
    if result.kind is PollKind.MULTI:
        lines.append("Voters could pick several options; % is of voters.")
    if result.kind is PollKind.AGREEMENT:
        lines.append(f"Agree overall: {result.agree} of {result.voters} ({result.agree_percent}%)")
    if result.irv is not None:
        for number, rnd in enumerate(result.irv.rounds, start=1):
            lines.append(_round_line(result, number, rnd))
        outcome = _outcome_line(result)
        if outcome:
            lines.append(outcome)
    return lines


def render_table(result: PollResult, limit: int = TABLE_LIMIT) -> str:
    """A monospace table for a Discord code block; at most ``limit`` characters.

    Rows that do not fit are dropped from the end and replaced by a note saying how many.
    """
    lines = [_cut(line, limit) for line in _table_lines(result)]
    if len("\n".join(lines)) <= limit:
        return "\n".join(lines)

    def note(n: int) -> str:
        return f"… {n} more lines not shown; see the embed for the full result."

    kept: list[str] = []
    for i, line in enumerate(lines):
        rest = len(lines) - i - 1
        needed = len("\n".join([*kept, line])) + (1 + len(note(rest)) if rest else 0)
        if needed > limit:
            # kept plus this note fitted when the previous line was added
            return "\n".join([*kept, note(len(lines) - i)])
        kept.append(line)
    return "\n".join(kept)


def _bar(frac: Fraction, width: int = 10) -> str:
    # Any non-zero share shows at least one block so small minorities stay visible.
    filled = int(frac * width + Fraction(1, 2)) if frac > 0 else 0
    filled = min(max(filled, 1 if frac > 0 else 0), width)
    return "█" * filled + "░" * (width - filled)


def _option_field(r: OptionResult) -> tuple[str, str]:
    votes = "vote" if r.count == 1 else "votes"
    return (r.label, f"{_bar(r.share)} {r.count} {votes} · {r.percent}%")


def _fields(result: PollResult) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = [
        (
            "Turnout",
            f"{result.voters} of {result.eligible} {_members(result.eligible)} "
            f"({result.quorum_percent}%)",
        )
    ]
    if result.kind is PollKind.SURVEY:
        for sq in result.survey:
            fields.append(
                (
                    sq.question,
                    f"{_bar(sq.yes_share)} {sq.yes_percent}% yes · {sq.yes} yes, {sq.no} no "
                    f"({sq.responses} answered)",
                )
            )
        return fields
    if result.kind is PollKind.AGREEMENT:
        fields.append(
            ("Agree overall", f"{result.agree} of {result.voters} ({result.agree_percent}%)")
        )
    if result.kind is PollKind.RANKED:
        outcome = _outcome_line(result)
        if outcome:
            fields.append(("Result", outcome))
    fields.extend(_option_field(r) for r in result.option_results)
    if result.irv is not None and result.irv.rounds:
        chunk: list[str] = []
        for number, rnd in enumerate(result.irv.rounds, start=1):
            line = _cut(_round_line(result, number, rnd), EMBED_FIELD_VALUE_LIMIT)
            if chunk and len("\n".join([*chunk, line])) > EMBED_FIELD_VALUE_LIMIT:
                fields.append(("Rounds", "\n".join(chunk)))
                chunk = []
            chunk.append(line)
        fields.append(("Rounds", "\n".join(chunk)))
    return fields


def result_fields(result: PollResult) -> list[tuple[str, str]]:
    """(name, value) pairs for an embed within Discord's limits.

    At most 25 fields, names <= 256 and values <= 1024 characters, and all fields together at
    most :data:`EMBED_FIELDS_TOTAL_LIMIT` characters; whatever does not fit is summarised in a
    final "More" field pointing at the table.
    """
    fields = [
        (_cut(name, EMBED_FIELD_NAME_LIMIT) or "-", _cut(value, EMBED_FIELD_VALUE_LIMIT) or "-")
        for name, value in _fields(result)
    ]
    more_name = "More"

    def more(n: int) -> tuple[str, str]:
        return (more_name, f"{n} more not shown here; see the results table.")

    kept: list[tuple[str, str]] = []
    total = 0
    for i, (name, value) in enumerate(fields):
        remaining_after = len(fields) - i - 1
        size = len(name) + len(value)
        reserve = len(more_name) + len(more(len(fields))[1]) if remaining_after else 0
        slots = EMBED_MAX_FIELDS - (1 if remaining_after else 0)
        if len(kept) >= slots or total + size + reserve > EMBED_FIELDS_TOTAL_LIMIT:
            kept.append(more(len(fields) - i))
            return kept
        kept.append((name, value))
        total += size
    return kept


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
