"""Tests for poll parsing, ballots, tallies, instant runoff and rendering."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.polls import (
    AGREEMENT_SCALE,
    EMBED_FIELD_NAME_LIMIT,
    EMBED_FIELD_VALUE_LIMIT,
    EMBED_FIELDS_TOTAL_LIMIT,
    EMBED_MAX_FIELDS,
    TABLE_LIMIT,
    PollKind,
    PollResult,
    as_clause,
    collective_statement,
    instant_runoff,
    merge_survey_answers,
    parse_options,
    parse_poll,
    percent,
    render_table,
    result_fields,
    tally,
    validate_ballot,
    validate_question,
)
from bot.errors import InvalidInput

# --------------------------------------------------------------------------- parsing


def test_parse_options_strips_and_splits() -> None:
    assert parse_options("single", " Monday ;Tuesday;  Wednesday ") == [
        "Monday",
        "Tuesday",
        "Wednesday",
    ]


def test_trailing_separator_is_not_an_empty_option() -> None:
    assert parse_options(PollKind.MULTI, "a; b;") == ["a", "b"]


@pytest.mark.parametrize(
    ("kind", "raw", "fragment"),
    [
        ("single", "only one", "at least 2"),
        ("ranked", "", "at least 2"),
        ("multi", "a;;b", "Option 2 is empty"),
        ("single", "a; ; b", "Option 2 is empty"),
        ("single", "Yes; yes", "repeats option 1"),
        ("ranked", "a; b; A ", "repeats option 1"),
        ("single", "a;" + "x" * 101, "100 characters"),
        ("multi", ";".join(f"o{i}" for i in range(26)), "at most 25"),
        ("survey", "", "at least one yes/no question"),
        ("survey", "q1;;q2", "Question 2 is empty"),
        ("agreement", "agree; disagree", "Leave options empty"),
        ("unknown", "a;b", "Unknown poll kind"),
    ],
)
def test_parse_options_refuses_bad_input(kind: str, raw: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_options(kind, raw)
    assert fragment in err.value.user_message


def test_limits_are_inclusive() -> None:
    options = [f"{i:02d}" + "x" * 98 for i in range(25)]
    assert parse_options("single", ";".join(options)) == options
    assert validate_question("q" * 300) == "q" * 300
    with pytest.raises(InvalidInput, match="300"):
        validate_question("q" * 301)
    with pytest.raises(InvalidInput):
        validate_question("   ")


def test_agreement_uses_the_fixed_scale_and_survey_allows_one_question() -> None:
    assert parse_options("agreement", "") == list(AGREEMENT_SCALE)
    assert parse_options("agreement", None) == list(AGREEMENT_SCALE)
    assert parse_options("survey", "Did you come?") == ["Did you come?"]
    spec = parse_poll("Agreement", " We need more time. ", "")
    assert spec.kind is PollKind.AGREEMENT
    assert spec.question == "We need more time."
    assert spec.options == AGREEMENT_SCALE


# --------------------------------------------------------------------------- ballots


def test_ballots_are_canonicalised() -> None:
    assert validate_ballot("single", 3, 2) == 2
    assert validate_ballot("multi", 3, [2, 0]) == frozenset({0, 2})
    assert validate_ballot("ranked", 4, [3, 1]) == (3, 1)
    assert validate_ballot("agreement", 0, 4) == 4
    assert validate_ballot("survey", 3, {2: False}) == {2: False}


@pytest.mark.parametrize(
    ("kind", "n", "ballot"),
    [
        ("single", 3, 3),
        ("single", 3, -1),
        ("single", 3, True),
        ("single", 3, "1"),
        ("multi", 3, []),
        ("multi", 3, [1, 1]),
        ("multi", 3, [0, 5]),
        ("ranked", 3, []),
        ("ranked", 3, [0, 1, 0]),
        ("ranked", 3, {0, 1}),
        ("agreement", 0, 5),
        ("survey", 2, {}),
        ("survey", 2, {0: 1}),
        ("survey", 2, {2: True}),
        ("survey", 2, [True]),
    ],
)
def test_invalid_ballots_are_refused(kind: str, n: int, ballot: object) -> None:
    with pytest.raises(InvalidInput):
        validate_ballot(kind, n, ballot)


def test_survey_answers_replace_per_question() -> None:
    first = {0: True, 1: False}
    assert merge_survey_answers(first, {1: True, 2: False}) == {0: True, 1: True, 2: False}
    assert merge_survey_answers(None, {0: False}) == {0: False}
    assert first == {0: True, 1: False}  # not mutated


# --------------------------------------------------------------------------- percent


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [(1, 8, 13), (3, 8, 38), (5, 8, 63), (1, 200, 1), (1, 3, 33), (2, 3, 67), (1, 40, 3),
     (0, 5, 0), (5, 5, 100), (3, 0, 0), (18, 24, 75), (1, 16, 6)],
)  # fmt: skip
def test_percent_rounds_half_up(num: int, den: int, expected: int) -> None:
    # round() would give 12 for 12.5 and 2 for 2.5: the point of Decimal half-up
    assert percent(num, den) == expected


@settings(max_examples=300)
@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_percent_matches_exact_integer_half_up(num: int, den: int) -> None:
    # floor(100*num/den + 1/2) computed purely in integers
    assert percent(num, den) == (200 * num + den) // (2 * den)


# --------------------------------------------------------------------------- tallies

n_options = st.integers(2, 6)


@st.composite
def single_poll(draw: st.DrawFn) -> tuple[int, list[int]]:
    n = draw(n_options)
    return n, draw(st.lists(st.integers(0, n - 1), max_size=60))


@settings(max_examples=150)
@given(single_poll(), st.integers(0, 100))
def test_single_percentages_sum_to_about_100(poll: tuple[int, list[int]], eligible: int) -> None:
    n, ballots = poll
    result = tally("single", [f"o{i}" for i in range(n)], ballots, eligible)
    assert result.voters == len(ballots)
    assert result.eligible == max(eligible, len(ballots))
    assert sum(r.count for r in result.option_results) == len(ballots)
    assert [r.count for r in result.option_results] == [ballots.count(i) for i in range(n)]
    total_pct = sum(r.percent for r in result.option_results)
    if ballots:
        assert sum(r.share for r in result.option_results) == 1
        # each displayed value is off by at most 0.5
        assert abs(total_pct - 100) <= n / 2
    else:
        assert total_pct == 0
    assert result.quorum == (Fraction(len(ballots), result.eligible) if result.eligible else 0)


def test_single_rounding_half_up_can_sum_past_100() -> None:
    # 1/8, 1/8, 1/8, 5/8 -> 12.5, 12.5, 12.5, 62.5 -> 13 + 13 + 13 + 63 = 102 (exact shares: 1)
    result = tally("single", list("abcd"), [0, 1, 2, 3, 3, 3, 3, 3], 8)
    assert [r.percent for r in result.option_results] == [13, 13, 13, 63]
    assert sum(r.percent for r in result.option_results) == 102
    assert sum(r.share for r in result.option_results) == 1


@settings(max_examples=100)
@given(st.data())
def test_multi_percent_is_of_voters(data: st.DataObject) -> None:
    n = data.draw(n_options)
    ballots = data.draw(
        st.lists(st.sets(st.integers(0, n - 1), min_size=1), max_size=40), label="ballots"
    )
    result = tally("multi", [f"o{i}" for i in range(n)], ballots, 50)
    for r in result.option_results:
        picked = sum(r.index in b for b in ballots)
        assert r.count == picked
        assert r.share == (Fraction(picked, len(ballots)) if ballots else 0)


@st.composite
def vote_events(draw: st.DrawFn, kind: str, n: int) -> list[tuple[int, object]]:
    ballot: st.SearchStrategy[Any]
    if kind == "single":
        ballot = st.integers(0, n - 1)
    elif kind == "multi":
        ballot = st.sets(st.integers(0, n - 1), min_size=1)
    elif kind == "ranked":
        ballot = st.permutations(list(range(n))).flatmap(
            lambda p: st.integers(1, n).map(lambda k: p[:k])
        )
    else:
        ballot = st.integers(0, 4)
    return draw(st.lists(st.tuples(st.integers(0, 9), ballot), max_size=40))


@settings(max_examples=100)
@given(st.data(), st.sampled_from(["single", "multi", "ranked", "agreement"]))
def test_changing_a_vote_never_counts_twice(data: st.DataObject, kind: str) -> None:
    """Model: the store keeps each member's latest ballot; the tally equals a recount of it."""
    n = data.draw(n_options)
    events = data.draw(vote_events(kind, n), label="events")
    latest: dict[int, object] = {}
    for member, ballot in events:
        latest[member] = ballot
    options = [f"o{i}" for i in range(n)]
    result = tally(kind, options, latest.values(), 10)
    assert result.voters == len(latest) == len({m for m, _ in events})
    expected: Counter[int] = Counter()
    for ballot in latest.values():
        if kind == "multi":
            assert isinstance(ballot, set)
            expected.update(ballot)
        elif kind == "ranked":
            assert isinstance(ballot, list)
            expected[ballot[0]] += 1
        else:
            assert isinstance(ballot, int)
            expected[ballot] += 1
    assert {r.index: r.count for r in result.option_results if r.count} == dict(
        (k, v) for k, v in expected.items() if v
    )
    if kind != "multi":
        assert sum(r.count for r in result.option_results) == len(latest)


@settings(max_examples=100)
@given(st.data())
def test_survey_per_question_denominators(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 5))
    events = data.draw(
        st.lists(
            st.tuples(
                st.integers(0, 7),
                st.dictionaries(st.integers(0, n - 1), st.booleans(), min_size=1),
            ),
            max_size=40,
        ),
        label="events",
    )
    stored: dict[int, dict[int, bool]] = {}
    for member, answers in events:
        stored[member] = merge_survey_answers(stored.get(member), answers)
    result = tally("survey", [f"q{i}" for i in range(n)], stored.values(), 8)
    assert result.voters == len(stored)
    for q in result.survey:
        answered = [a[q.index] for a in stored.values() if q.index in a]
        # last answer per member and question, from the raw event log
        last: dict[int, bool] = {}
        for member, answers in events:
            if q.index in answers:
                last[member] = answers[q.index]
        assert q.responses == len(answered) == len(last)
        assert q.yes == sum(answered) == sum(last.values())
        assert q.no == q.responses - q.yes
        assert q.yes_percent == percent(q.yes, q.responses)


def test_survey_rounding_half_up_per_question() -> None:
    ballots = [{0: True, 1: True}] + [{0: False}] * 7 + [{1: False}]
    result = tally("survey", ["Came?", "Again?"], ballots, 20)
    came, again = result.survey
    assert (came.responses, came.yes, came.yes_percent) == (8, 1, 13)  # 12.5 -> 13
    assert (again.responses, again.yes, again.yes_percent) == (2, 1, 50)


def test_agreement_counts_levels_and_agree_share() -> None:
    ballots = [0] * 6 + [1] * 12 + [2] * 2 + [3] * 3 + [4]
    result = tally("agreement", [], ballots, 24)
    assert [r.count for r in result.option_results] == [6, 12, 2, 3, 1]
    assert (result.agree, result.disagree, result.agree_percent) == (18, 4, 75)
    assert result.options == AGREEMENT_SCALE


# --------------------------------------------------------------------------- instant runoff


def reference_irv(
    n: int, ballots: list[tuple[int, ...]]
) -> tuple[list[dict[int, int]], tuple[str, Any] | None]:
    """Independent, deliberately plain IRV following the documented rules.

    Returns per-round counts and either ("win", option), ("tie", sorted options) or None.
    """
    remaining = list(range(n))
    history: list[dict[int, int]] = []
    if not ballots:
        return history, None
    while True:
        tally_: dict[int, int] = {o: 0 for o in remaining}
        for b in ballots:
            for choice in b:
                if choice in tally_:
                    tally_[choice] += 1
                    break
        history.append(tally_)
        live = sum(tally_.values())
        for o in remaining:
            if 2 * tally_[o] > live:
                return history, ("win", o)
        if len(set(tally_.values())) == 1:
            return history, ("tie", sorted(remaining))
        fewest = min(tally_.values())
        tied = [o for o in remaining if tally_[o] == fewest]
        back = len(history) - 2
        while len(tied) > 1 and back >= 0:
            previous = history[back]
            least = min(previous[o] for o in tied)
            tied = [o for o in tied if previous[o] == least]
            back -= 1
        tied.sort()
        remaining.remove(tied[-1])


@st.composite
def ranked_poll(draw: st.DrawFn) -> tuple[int, list[tuple[int, ...]]]:
    n = draw(st.integers(2, 5))
    ranking = st.permutations(list(range(n))).flatmap(
        lambda p: st.integers(1, n).map(lambda k: tuple(p[:k]))
    )
    return n, draw(st.lists(ranking, max_size=25))


@settings(max_examples=300)
@given(ranked_poll())
def test_instant_runoff_matches_reference(poll: tuple[int, list[tuple[int, ...]]]) -> None:
    n, ballots = poll
    result = instant_runoff(n, ballots)
    history, outcome = reference_irv(n, ballots)
    assert [r.counts for r in result.rounds] == history
    if outcome is None:
        assert result.winner is None and result.tied == ()
    elif outcome[0] == "win":
        assert result.winner == outcome[1] and result.tied == ()
    else:
        assert result.winner is None and list(result.tied) == outcome[1]
    for rnd in result.rounds:
        exhausted = sum(not any(o in rnd.counts for o in b) for b in ballots)
        assert rnd.exhausted == exhausted
        assert rnd.continuing_ballots + rnd.exhausted == len(ballots)
    # every round but the last eliminates exactly one option
    assert all(r.eliminated is not None for r in result.rounds[:-1])
    if result.rounds:
        assert result.rounds[-1].eliminated is None


def test_irv_transfer_changes_the_winner() -> None:
    # A leads on first preferences but C's voters prefer B.
    ballots = [(0,)] * 8 + [(1, 0)] * 5 + [(2, 1)] * 4
    result = tally("ranked", ["A", "B", "C"], ballots, 20)
    assert [r.count for r in result.option_results] == [8, 5, 4]
    irv = result.irv
    assert irv is not None
    assert [r.counts for r in irv.rounds] == [{0: 8, 1: 5, 2: 4}, {0: 8, 1: 9}]
    assert [r.eliminated for r in irv.rounds] == [2, None]
    assert irv.winner == 1
    assert "“B” won after 2 rounds of counting with 9 of 17 continuing votes (53%)" in (
        collective_statement("Where?", result)
    )


def test_irv_reports_exhausted_ballots_and_tie_break_by_previous_round() -> None:
    # Round 1: A3 B2 C2 D1 -> D out; D's ballot exhausts.
    # Round 2: A3 B2 C2 tie for last, both had 2 in round 1 -> later option (C) goes out.
    ballots = [(0,)] * 3 + [(1,)] * 2 + [(2, 1)] * 2 + [(3,)]
    irv = instant_runoff(4, ballots)
    assert [(r.counts, r.eliminated, r.exhausted, r.tie_broken) for r in irv.rounds] == [
        ({0: 3, 1: 2, 2: 2, 3: 1}, 3, 0, False),
        ({0: 3, 1: 2, 2: 2}, 2, 1, True),
        ({0: 3, 1: 4}, None, 1, False),
    ]
    assert irv.winner == 1


def test_irv_tie_break_uses_earlier_round_before_option_order() -> None:
    # Round 1: A4 B3 C2 D2 E1 (E out). E's voter goes to C.
    # Round 2: A4 B3 C3 D2 -> D out; D voters -> B and C.
    # Round 3: A4 B4 C4 -> all tied -> tie.
    ballots = [(0,)] * 4 + [(1,)] * 3 + [(2,)] * 2 + [(3, 1)] + [(3, 2)] + [(4, 2)]
    irv = instant_runoff(5, ballots)
    assert irv.winner is None
    assert irv.tied == (0, 1, 2)
    # The previous round decides against poll order: round 1 A5 B2 C3 D1 (D out, to B);
    # round 2 A5 B3 C3: B and C tie, B had fewer in round 1, so B (listed earlier) goes out.
    ballots = [(0,)] * 5 + [(1,)] * 2 + [(2,)] * 3 + [(3, 1)]
    irv = instant_runoff(4, ballots)
    assert [r.eliminated for r in irv.rounds] == [3, 1, None]
    assert irv.rounds[1].tie_broken
    assert irv.rounds[2].counts == {0: 5, 2: 3}
    assert irv.rounds[2].exhausted == 3
    assert irv.winner == 0


def test_irv_without_ballots() -> None:
    result = tally("ranked", ["A", "B"], [], 5)
    assert result.irv is not None and result.irv.rounds == ()
    assert result.irv.winner is None
    assert "no one voted" in collective_statement("Which?", result)


# --------------------------------------------------------------------------- wording


def test_agreement_collective_statement() -> None:
    ballots = [0] * 6 + [1] * 12 + [3] * 6
    text = collective_statement(
        "The clinic should open later.", tally("agreement", [], ballots, 24)
    )
    assert text.startswith("18 of 24 members (75%) agree that the clinic should open later. ")
    assert "24 of 24 members voted; 18 of 24 who voted (75%) agree and 6 (25%) disagree." in text


def test_single_and_tie_collective_statements() -> None:
    result = tally("single", ["Mon", "Tue", "Wed"], [1, 1, 1, 0, 2], 8)
    assert collective_statement("Which day?", result) == (
        "Asked “Which day?”, 5 of 8 members voted; 3 of 5 chose “Tue” (60%)."
    )
    tie = tally("single", ["Mon", "Tue"], [0, 1], 2)
    assert "tie: “Mon” and “Tue” each had 1 of 2 votes (50%)" in collective_statement("Q", tie)


def test_survey_collective_statement_is_per_question() -> None:
    ballots = [{0: True, 1: True}] + [{0: False}] * 7
    text = collective_statement("Feedback", tally("survey", ["Came?", "Again?"], ballots, 10))
    assert text.splitlines() == [
        "Asked “Feedback”:",
        "- “Came?”: 1 of 8 members who answered (13%) said yes.",
        "- “Again?”: 1 of 1 member who answered (100%) said yes.",
        "8 of 10 members took part.",
    ]


def test_as_clause_keeps_acronyms() -> None:
    assert as_clause("The NHS should fund this.") == "the NHS should fund this"
    assert as_clause("NHS funding matters!") == "NHS funding matters"
    assert as_clause("GPs need time") == "GPs need time"


# --------------------------------------------------------------------------- rendering


def _long_ranked_result() -> PollResult:
    options = [f"{i:02d} " + "option with a long descriptive label " * 2 for i in range(25)]
    options = [o[:100] for o in options]
    # every option gets one first preference, so the count runs 24 rounds
    ballots = [tuple([i, *[j for j in range(25) if j != i]]) for i in range(25)]
    ballots += [(0, 1)] * 2
    return tally("ranked", options, ballots, 300)


def test_render_table_truncates_with_a_note() -> None:
    result = _long_ranked_result()
    table = render_table(result)
    assert len(table) <= TABLE_LIMIT
    assert table.splitlines()[-1].startswith("… ")
    assert "more lines not shown" in table
    assert len("```\n" + table + "\n```") < 2000


def test_render_table_small_poll() -> None:
    table = render_table(tally("single", ["Mon", "Tue"], [0, 0, 0, 1], 8))
    lines = table.splitlines()
    assert lines[0].split() == ["Option", "Votes", "%"]
    assert lines[2].split() == ["Mon", "3", "75%"]
    assert lines[3].split() == ["Tue", "1", "25%"]
    assert lines[4] == "Voters: 4 of 8 members (50%)"


@st.composite
def any_result(draw: st.DrawFn) -> PollResult:
    kind = draw(st.sampled_from(list(PollKind)))
    n = draw(st.integers(2, 25))
    width = draw(st.integers(1, 100))
    options = [f"{i:02d}" + "x" * (width - 2) if width > 2 else f"{i:02d}" for i in range(n)]
    ballots: list[Any]
    if kind is PollKind.SURVEY:
        ballots = draw(
            st.lists(st.dictionaries(st.integers(0, n - 1), st.booleans(), min_size=1), max_size=30)
        )
    elif kind is PollKind.RANKED:
        ballots = draw(st.lists(st.permutations(list(range(n))), max_size=30))
    elif kind is PollKind.MULTI:
        ballots = draw(st.lists(st.sets(st.integers(0, n - 1), min_size=1), max_size=30))
    elif kind is PollKind.AGREEMENT:
        ballots = draw(st.lists(st.integers(0, 4), max_size=30))
    else:
        ballots = draw(st.lists(st.integers(0, n - 1), max_size=30))
    return tally(kind, options, ballots, draw(st.integers(0, 400)))


@settings(max_examples=60, deadline=None)
@given(any_result())
def test_renderers_stay_within_discord_limits(result: PollResult) -> None:
    table = render_table(result)
    assert len(table) <= TABLE_LIMIT
    fields = result_fields(result)
    assert 1 <= len(fields) <= EMBED_MAX_FIELDS
    assert all(0 < len(n) <= EMBED_FIELD_NAME_LIMIT for n, _ in fields)
    assert all(0 < len(v) <= EMBED_FIELD_VALUE_LIMIT for _, v in fields)
    assert sum(len(n) + len(v) for n, v in fields) <= EMBED_FIELDS_TOTAL_LIMIT


def test_result_fields_summarise_overflow() -> None:
    fields = result_fields(_long_ranked_result())
    assert len(fields) <= EMBED_MAX_FIELDS
    # the winner and the final round lead (issue 14), then the turnout
    assert fields[0][0] == "Result"
    assert fields[1][0].startswith("Final round")
    assert fields[2] == ("Turnout", "27 of 300 members (9%)")
    assert fields[-1][0] == "More"
    assert "not shown here" in fields[-1][1]


# --------------------------------------------------------------------------- stored polls


def test_poll_accepts_votes_until_its_deadline_and_nudge_time() -> None:
    from datetime import UTC, datetime, timedelta

    from bot.domain.polls import Poll, PollKind, check_closes

    t0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
    poll = Poll(1, 1, PollKind.SINGLE, "Q", ("a", "b"), True, 5, t0, t0 + timedelta(days=3), None)
    assert poll.accepts_votes(t0 + timedelta(days=3) - timedelta(seconds=1))
    assert not poll.accepts_votes(t0 + timedelta(days=3))
    assert poll.nudge_at(timedelta(days=1)) == t0 + timedelta(days=2)
    assert poll.nudge_at(timedelta(days=3)) is None  # would be at creation: no nudge
    open_ended = Poll(2, 1, PollKind.SINGLE, "Q", ("a", "b"), True, 5, t0, None, None)
    assert open_ended.accepts_votes(t0 + timedelta(days=999)) and open_ended.nudge_at(
        timedelta(days=1)
    ) is None
    closed = Poll(3, 1, PollKind.SINGLE, "Q", ("a", "b"), True, 5, t0, None, t0)
    assert not closed.accepts_votes(t0) and not closed.is_open
    with pytest.raises(InvalidInput, match="at least 5 minutes"):
        check_closes(t0 + timedelta(minutes=4), t0)
    check_closes(t0 + timedelta(minutes=5), t0)
    check_closes(None, t0)
