"""Polls in words: the collective statement, the results table and the embed fields.

Worded here, in the domain, so storage never formats text for people and every surface
(results post, `/poll results`, the digest) says the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.closing import Outcome
from bot.domain.polls.ballots import Ballot, Poll, PollKind
from bot.domain.polls.tally import (
    IrvRound,
    OptionResult,
    PollResult,
    SurveyQuestionResult,
    percent,
    tally,
)
from bot.text import echo

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


# Results in an embed carry no text bars (``███░░░``): a screen reader reads each block
# aloud ("full block, full block, …") and Discord has no way to hide decoration from it.
# Each line says its numbers in words first, so it reads the same aloud as on screen.


def _votes(n: int) -> str:
    return f"{n} vote" if n == 1 else f"{n} votes"


def _option_value(r: OptionResult, voters: int, *, leader: bool) -> str:
    if voters == 0:
        return "no votes yet"
    line = f"{_votes(r.count)} of {voters} ({r.percent}%)"
    return line + (" · most votes" if leader and r.count > 0 else "")


def _survey_value(sq: SurveyQuestionResult) -> str:
    if sq.responses == 0:
        return "No answers yet."
    return (
        f"{sq.yes} of {sq.responses} who answered said yes ({sq.yes_percent}%); "
        f"{sq.no} said no."
    )


def _final_round_value(result: PollResult, rnd: IrvRound) -> str:
    lines = [
        f"{echo(result.options[o], 80)}: {_votes(c)} of {rnd.continuing_ballots} "
        f"({percent(c, rnd.continuing_ballots)}%)"
        for o, c in sorted(rnd.counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return "\n".join(lines)


def _fields(result: PollResult) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    if result.kind is PollKind.RANKED and result.irv is not None and result.irv.rounds:
        # The winner and the final round first: first preferences alone can show a loser
        # ahead of the winner, which is the point of counting in rounds.
        irv = result.irv
        outcome = _outcome_line(result)
        if outcome:
            fields.append(("Result", outcome))
        last = irv.rounds[-1]
        name = "Final count" if len(irv.rounds) == 1 else f"Final round (round {len(irv.rounds)})"
        fields.append((name, _final_round_value(result, last)))
    fields.append(
        (
            "Turnout",
            f"{result.voters} of {result.eligible} {_members(result.eligible)} "
            f"({result.quorum_percent}%)",
        )
    )
    if result.kind is PollKind.SURVEY:
        fields.extend((sq.question, _survey_value(sq)) for sq in result.survey)
        return fields
    if result.kind is PollKind.AGREEMENT:
        agree = (
            "no votes yet" if result.voters == 0
            else f"{result.agree} of {result.voters} ({result.agree_percent}%)"
        )
        fields.append(("Agree overall", agree))
    if result.kind is PollKind.RANKED:
        if result.irv is not None and len(result.irv.rounds) > 1:
            chunk: list[str] = []
            for number, rnd in enumerate(result.irv.rounds[:-1], start=1):
                line = _cut(_round_line(result, number, rnd), EMBED_FIELD_VALUE_LIMIT)
                if chunk and len("\n".join([*chunk, line])) > EMBED_FIELD_VALUE_LIMIT:
                    fields.append(("Earlier rounds", "\n".join(chunk)))
                    chunk = []
                chunk.append(line)
            fields.append(("Earlier rounds", "\n".join(chunk)))
        fields.extend(
            (f"First preference: {r.label}", _option_value(r, result.voters, leader=False))
            for r in result.option_results
        )
        return fields
    top = {r.index for r in result.leaders()} if result.voters else set()
    fields.extend(
        (r.label, _option_value(r, result.voters, leader=r.index in top))
        for r in result.option_results
    )
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
        return (more_name, f"{n} more not shown here (Discord limits a message's size).")

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


def poll_outcome(poll: Poll, ballots: Sequence[Ballot], eligible: int) -> Outcome[PollResult]:
    """Decide a closing poll from its ballots (pure: the close runs it in its transaction)."""
    result = tally(poll.kind, poll.options, ballots, eligible)
    return Outcome(
        result.voters, result.eligible, collective_statement(poll.question, result), result
    )
