"""Polls: option parsing, ballot validation, tallies, instant runoff and result wording.

Pure logic, in three modules along its seams: :mod:`.ballots` (kinds, limits, parsing,
ballots, the stored poll, who may vote), :mod:`.tally` (shares, percentages, tallies, instant
runoff) and :mod:`.wording` (collective statement, table, embed fields). Everything is
re-exported here, so ``from bot.domain.polls import tally`` keeps working. Repositories store
ballots, services decide, cogs render what this package returns. Nothing here
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

from bot.domain.polls.ballots import (
    AGREEMENT_SCALE,
    DELETED_POLL,
    MAX_OPTION_CHARS,
    MAX_OPTIONS,
    MAX_QUESTION_CHARS,
    MEMBERS_ONLY,
    MIN_OPTIONS,
    MIN_POLL_DURATION,
    MIN_SURVEY_QUESTIONS,
    POLL_CLOSED,
    Ballot,
    Poll,
    PollKind,
    PollSpec,
    as_kind,
    check_changed,
    check_closes,
    check_vote,
    is_withdrawal,
    merge_survey_answers,
    parse_options,
    parse_poll,
    validate_ballot,
    validate_question,
    withdraw_survey_answer,
)
from bot.domain.polls.tally import (
    IrvResult,
    IrvRound,
    OptionResult,
    PollResult,
    SurveyQuestionResult,
    instant_runoff,
    percent,
    share,
    tally,
)
from bot.domain.polls.wording import (
    EMBED_FIELD_NAME_LIMIT,
    EMBED_FIELD_VALUE_LIMIT,
    EMBED_FIELDS_TOTAL_LIMIT,
    EMBED_MAX_FIELDS,
    MESSAGE_LIMIT,
    TABLE_LIMIT,
    as_clause,
    collective_statement,
    poll_outcome,
    render_table,
    result_fields,
)

__all__ = [
    "AGREEMENT_SCALE", "DELETED_POLL", "EMBED_FIELDS_TOTAL_LIMIT", "EMBED_FIELD_NAME_LIMIT",
    "EMBED_FIELD_VALUE_LIMIT", "EMBED_MAX_FIELDS", "MAX_OPTIONS", "MAX_OPTION_CHARS",
    "MAX_QUESTION_CHARS", "MEMBERS_ONLY", "MESSAGE_LIMIT", "MIN_OPTIONS", "MIN_POLL_DURATION",
    "MIN_SURVEY_QUESTIONS", "POLL_CLOSED", "TABLE_LIMIT", "Ballot", "IrvResult", "IrvRound",
    "OptionResult", "Poll", "PollKind", "PollResult", "PollSpec", "SurveyQuestionResult",
    "as_clause", "as_kind", "check_changed", "check_closes", "check_vote",
    "collective_statement", "instant_runoff", "is_withdrawal", "merge_survey_answers",
    "parse_options", "parse_poll", "percent", "poll_outcome", "render_table", "result_fields",
    "share", "tally",
    "validate_ballot", "validate_question", "withdraw_survey_answer",
]  # fmt: skip
