"""Tests for statement validation, vote order and the statement-round report."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.statements import (
    Vote,
    collective_statements,
    is_near_duplicate,
    next_statement_for,
    normalise,
    statement_report,
    validate_statement,
)
from bot.errors import InvalidInput

# --------------------------------------------------------------------------- adding


def test_statement_is_stripped_and_length_checked() -> None:
    assert validate_statement("  We need evening clinics.  ", []) == "We need evening clinics."
    assert validate_statement("x" * 280, []) == "x" * 280
    with pytest.raises(InvalidInput, match="280"):
        validate_statement("x" * 281, [])
    for empty in ("", "   ", "?!"):
        with pytest.raises(InvalidInput, match="short statement"):
            validate_statement(empty, [])


@pytest.mark.parametrize(
    "variant",
    [
        "we need evening clinics",
        "We need EVENING clinics!!",
        "  We   need evening\tclinics. ",
        "We need evening-clinics",
    ],
)
def test_exact_duplicates_ignore_case_punctuation_and_spacing(variant: str) -> None:
    with pytest.raises(InvalidInput, match="already a statement"):
        validate_statement(variant, ["We need evening clinics."])


def test_near_duplicates() -> None:
    base = "Patients should be able to see the same GP at every single appointment"
    # one extra word on a 13-word statement: Jaccard 13/14 = 0.93
    assert is_near_duplicate(base + " please", base)
    with pytest.raises(InvalidInput):
        validate_statement(base + " please", [base])
    # a negation flips the meaning: not a duplicate even though the words barely differ
    negated = "Patients should not be able to see the same GP at every single appointment"
    assert not is_near_duplicate(negated, base)
    assert validate_statement(negated, [base]) == negated
    # "dont" after apostrophe removal counts as a negation too
    assert not is_near_duplicate("I don't want longer waits", "I want longer waits")
    # clearly different statements pass
    assert validate_statement("Nurses need more time off", ["Nurses need more time"])


def test_normalise() -> None:
    assert normalise("  Don’t  STOP—now! ") == "dont stop now"


# --------------------------------------------------------------------------- order


@st.composite
def round_state(draw: st.DrawFn) -> tuple[list[tuple[int, int]], dict[int, set[int]], int]:
    members = list(range(1, draw(st.integers(1, 8)) + 1))
    n = draw(st.integers(0, 12))
    statements = [(100 + i, draw(st.sampled_from(members))) for i in range(n)]
    votes: dict[int, set[int]] = {}
    for m in members:
        votes[m] = set(
            draw(st.lists(st.sampled_from([s for s, _ in statements]), unique=True))
            if statements
            else []
        )
    return statements, votes, draw(st.sampled_from(members))


@settings(max_examples=200)
@given(round_state())
def test_next_statement_never_own_or_already_voted(
    state: tuple[list[tuple[int, int]], dict[int, set[int]], int],
) -> None:
    statements, votes, member = state
    counts: dict[int, int] = {}
    for voted in votes.values():
        for sid in voted:
            counts[sid] = counts.get(sid, 0) + 1
    chosen = next_statement_for(member, statements, votes, counts)
    candidates = [s for s, a in statements if a != member and s not in votes[member]]
    if not candidates:
        assert chosen is None
        return
    assert chosen in candidates
    assert dict(statements)[chosen] != member
    assert chosen not in votes[member]
    # fewest votes first
    assert counts.get(chosen, 0) == min(counts.get(s, 0) for s in candidates)
    # deterministic, also when the inputs arrive in another order
    assert next_statement_for(member, list(reversed(statements)), votes, counts) == chosen


def test_votes_spread_and_every_member_sees_every_other_statement_once() -> None:
    rng = random.Random(7)
    members = list(range(1, 21))
    statements = [(1000 + i, rng.choice(members)) for i in range(15)]
    votes: dict[int, set[int]] = {m: set() for m in members}
    counts: dict[int, int] = {}
    shown: list[tuple[int, int]] = []
    active = list(members)
    while active:
        member = rng.choice(active)
        sid = next_statement_for(member, statements, votes, counts)
        if sid is None:
            active.remove(member)
            continue
        shown.append((member, sid))
        votes[member].add(sid)
        counts[sid] = counts.get(sid, 0) + 1
    assert len(shown) == len(set(shown))
    for m in members:
        assert votes[m] == {s for s, a in statements if a != m}


def test_members_starting_together_get_different_first_statements() -> None:
    statements = [(i, 0) for i in range(1, 11)]
    firsts = {next_statement_for(m, statements, {}, {}) for m in range(1, 31)}
    assert len(firsts) > 3


# --------------------------------------------------------------------------- report

GP, NURSE, CARER = "gp", "nurse", "carer"


def _votes(spec: dict[int, list[tuple[range, str]]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for sid, blocks in spec.items():
        for members, vote in blocks:
            out.extend((m, sid, vote) for m in members)
    return out


def test_counts_consensus_and_threshold_includes_passes() -> None:
    statements = [(1, "Evening clinics help."), (2, "Parking is fine."), (3, "Rare topic.")]
    votes = _votes(
        {
            1: [(range(0, 7), "agree"), (range(7, 10), "pass")],  # 7/10 = 0.7 -> consensus
            2: [(range(0, 6), "agree"), (range(6, 8), "pass"), (range(8, 10), "disagree")],
            3: [(range(0, 4), "agree")],  # 100% but only 4 votes < min_votes
        }
    )
    report = statement_report(statements, votes, {}, min_votes=5)
    counts = {t.statement_id: t.counts for t in report.statements}
    assert (counts[1].agree, counts[1].disagree, counts[1].passed) == (7, 0, 3)
    assert (counts[2].agree, counts[2].disagree, counts[2].passed) == (6, 2, 2)
    assert [t.statement_id for t in report.consensus] == [1]
    assert report.voters == 10


def test_a_changed_vote_replaces_the_earlier_one() -> None:
    votes = [(1, 1, "disagree"), (2, 1, "agree"), (1, 1, Vote.AGREE)]
    report = statement_report([(1, "S")], votes, {})
    c = report.statements[0].counts
    assert (c.agree, c.disagree, c.total) == (2, 0, 2)


def test_unknown_statement_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        statement_report([(1, "S")], [(1, 2, "agree")], {})


def test_small_disciplines_are_not_reported_anywhere() -> None:
    disciplines = {m: GP for m in range(0, 6)}
    disciplines |= {m: NURSE for m in range(6, 12)}
    disciplines |= {m: CARER for m in range(12, 17)}  # 5 carers, but only 2 vote
    statements = [(1, "We should meet in the evening.")]
    votes = _votes(
        {1: [(range(0, 12), "agree"), (range(12, 14), "disagree"), (range(14, 20), "agree")]}
    )
    report = statement_report(statements, votes, disciplines, min_group_size=5)
    tally_ = report.statements[0]
    assert set(tally_.by_discipline) == {GP, NURSE}
    everything = repr(report) + "\n".join(collective_statements(report, 30))
    assert CARER not in everything
    assert tally_ in report.cross_discipline_consensus


def test_complementary_suppression_prevents_subtraction() -> None:
    # gp 6 and nurse 5 are big enough, carer 1 and everyone else are not. Showing gp and nurse
    # would let anyone compute the single carer's vote from the total, so the smallest shown
    # group (nurse) is hidden too; the hidden remainder is then 6 people, and gp stays.
    disciplines = {m: GP for m in range(0, 6)} | {m: NURSE for m in range(6, 11)} | {11: CARER}
    votes = _votes({1: [(range(0, 11), "agree"), (range(11, 12), "disagree")]})
    report = statement_report([(1, "S")], votes, disciplines, min_group_size=5)
    assert set(report.statements[0].by_discipline) == {GP}
    assert report.cross_discipline_consensus == ()  # one discipline shown is not "across"
    assert NURSE not in repr(report) and CARER not in repr(report)
    assert CARER not in repr(report)
    # with enough people outside the reported groups, both are shown
    disciplines |= {m: CARER for m in range(12, 17)}
    votes = _votes({1: [(range(0, 11), "agree"), (range(11, 17), "disagree")]})
    report = statement_report([(1, "S")], votes, disciplines, min_group_size=5)
    assert set(report.statements[0].by_discipline) == {CARER, GP, NURSE}


@settings(max_examples=150)
@given(
    st.dictionaries(st.integers(0, 40), st.sampled_from(["gp", "nurse", "carer", "other"])),
    st.lists(
        st.tuples(st.integers(0, 45), st.integers(1, 3), st.sampled_from(list(Vote))),
        max_size=120,
    ),
    st.integers(2, 6),
)
def test_reported_disciplines_never_expose_a_small_group(
    disciplines: dict[int, str], votes: list[tuple[int, int, Vote]], min_group: int
) -> None:
    report = statement_report(
        [(1, "a"), (2, "b"), (3, "c")], votes, disciplines, min_group_size=min_group
    )
    for t in report.statements:
        shown = sum(c.total for c in t.by_discipline.values())
        hidden = t.counts.total - shown
        assert all(c.total >= min_group for c in t.by_discipline.values())
        if t.by_discipline:  # nothing shown means nothing to subtract from the total
            assert hidden == 0 or hidden >= min_group
        voters = {d: 0 for d in t.by_discipline}
        latest = {(m, sid): v for m, sid, v in votes}
        for (m, sid), _v in latest.items():
            if sid == t.statement_id and disciplines.get(m) in voters:
                voters[disciplines[m]] += 1
        assert voters == {d: c.total for d, c in t.by_discipline.items()}


def test_cross_discipline_consensus_needs_every_reported_discipline() -> None:
    disciplines = {m: GP for m in range(0, 10)} | {m: NURSE for m in range(10, 16)}
    votes = _votes(
        {
            1: [(range(0, 16), "agree")],
            # 10 gps agree, nurses 3 agree 3 disagree: 13/16 overall, not in every discipline
            2: [(range(0, 13), "agree"), (range(13, 16), "disagree")],
        }
    )
    report = statement_report([(1, "A"), (2, "B")], votes, disciplines, min_group_size=5)
    assert [t.statement_id for t in report.consensus] == [1, 2]
    assert [t.statement_id for t in report.cross_discipline_consensus] == [1]


def test_divisive_between_disciplines() -> None:
    disciplines = {m: GP for m in range(0, 6)} | {m: NURSE for m in range(6, 12)}
    votes = _votes({1: [(range(0, 5), "agree"), (range(5, 7), "pass"), (range(7, 12), "disagree")]})
    report = statement_report([(1, "Home visits should stop.")], votes, disciplines)
    [d] = report.divisive
    assert (d.between, d.agreeing, d.disagreeing) == ("disciplines", (GP,), (NURSE,))
    lines = collective_statements(report, 12)
    assert lines == [
        "Members are divided on whether home visits should stop: 42% agree and 42% disagree "
        "(12 voted); most in gp agree while most in nurse disagree."
    ]


def test_collective_statement_wording() -> None:
    votes = _votes({1: [(range(0, 18), "agree"), (range(18, 20), "disagree")]})
    report = statement_report([(1, "The clinic should open later.")], votes, {})
    assert collective_statements(report, 24) == [
        "18 of 24 members (75%) agree that the clinic should open later "
        "(18 of the 20 who voted on it, 90%)."
    ]


# --------------------------------------------------------------------------- opinion groups

MEMBER_BASE = 987_650_000  # ids that would stand out if they leaked into the report


def two_camps(n_per_camp: int, seed: int = 3) -> tuple[list[tuple[int, str]], list[tuple]]:
    """Camp 1 agrees with statements 1-4 and rejects 5-8; camp 2 the opposite; 9-10 shared."""
    rng = random.Random(seed)
    statements = [(i, f"Statement number {i}") for i in range(1, 11)]
    votes = []
    for k in range(2 * n_per_camp):
        member = MEMBER_BASE + k
        camp = k % 2
        for sid, _ in statements:
            if rng.random() < 0.2:
                continue  # skipped
            if sid >= 9:
                vote = "agree"
            else:
                likes = (sid <= 4) == (camp == 0)
                vote = "agree" if likes else "disagree"
            if rng.random() < 0.1:
                vote = rng.choice(["agree", "disagree", "pass"])
            votes.append((member, sid, vote))
    return statements, votes


def test_opinion_groups_found_on_two_camps() -> None:
    statements, votes = two_camps(15)
    report = statement_report(statements, votes, {}, min_group_size=5)
    assert report.opinion_groups_note is None
    assert [g.size for g in report.opinion_groups] == [15, 15]
    assert [g.label for g in report.opinion_groups] == ["Group A", "Group B"]
    for group in report.opinion_groups:
        assert group.distinctive
        leanings = {d.statement_id: d.leaning for d in group.distinctive}
        # every distinctive statement is one of the contested ones, consistently within a camp
        assert set(leanings) <= set(range(1, 9))
        sides = {(sid <= 4) == (lean is Vote.AGREE) for sid, lean in leanings.items()}
        assert len(sides) == 1
    # the contested statements are divisive between opinion groups, the shared ones are consensus
    divisive = {d.statement.statement_id: d for d in report.divisive}
    assert set(divisive) == set(range(1, 9))
    assert all(d.between == "opinion groups" for d in divisive.values())
    assert {t.statement_id for t in report.consensus} == {9, 10}
    # groups are described by size and statements only, never by member
    text = repr(report) + "\n".join(collective_statements(report, 30))
    assert str(MEMBER_BASE)[:6] not in text


def test_opinion_groups_are_deterministic() -> None:
    statements, votes = two_camps(15)
    first = statement_report(statements, votes, {}, min_group_size=5)
    shuffled = list(votes)
    random.Random(1).shuffle(shuffled)
    second = statement_report(list(reversed(statements)), shuffled, {}, min_group_size=5)
    assert first == second


def test_too_few_voters_for_opinion_groups() -> None:
    statements, votes = two_camps(6)  # 12 members, but some vote on fewer statements below
    votes = [v for v in votes if not (v[0] == MEMBER_BASE and v[1] > 2)]
    report = statement_report(statements, votes, {}, min_group_size=3)
    assert report.opinion_groups == ()
    assert report.opinion_groups_note is not None
    assert report.opinion_groups_note.startswith("Too few voters to identify opinion groups")
    assert "(11 so far)" in report.opinion_groups_note
    assert all(d.between != "opinion groups" for d in report.divisive)


def test_no_groups_invented_when_everyone_broadly_agrees() -> None:
    rng = random.Random(5)
    votes = [
        (m, sid, "agree" if rng.random() < 0.85 else rng.choice(["disagree", "pass"]))
        for m in range(40)
        for sid in range(1, 9)
    ]
    report = statement_report([(i, f"S{i}") for i in range(1, 9)], votes, {})
    assert report.opinion_groups == ()
    assert report.opinion_groups_note is not None
    assert "No clear opinion groups" in report.opinion_groups_note


def test_round_summary_says_when_nothing_reached_consensus() -> None:
    from bot.domain.statements import round_summary, statement_report

    report = statement_report(
        [(1, "Meet monthly"), (2, "Meet weekly")],
        [(10, 1, "agree"), (11, 1, "disagree"), (12, 2, "pass")],
        {},
        min_votes=1,
    )
    assert round_summary(report, 5) == (
        "3 of 5 members voted on 2 statements; none reached 70% agreement."
    )
    agreed = statement_report([(1, "Meet monthly")], [(10, 1, "agree")], {}, min_votes=1)
    assert round_summary(agreed, 4).startswith("1 of 4 members (25%) agree that meet monthly")
