"""The statement report counts with numpy arrays: the same answers as counting vote by vote.

``latest_votes`` turns the votes into arrays once and every tally is a ``bincount``
(benchmarks/statements.py: the per-vote Python loops were ~0.4 s at 100,000 votes). These
tests pin the array path to a plain per-vote count written the obvious way, on seeded random
rounds with changed votes, members without a discipline, huge Discord-sized ids and votes
given as text or as ``Vote``.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from bot.domain.statements import Vote, statement_report
from bot.domain.statements.report import latest_votes


def _by_hand(
    statements: list[tuple[int, str]],
    votes: list[tuple[int, int, Vote | str]],
    disciplines: dict[int, str],
) -> tuple[dict[int, tuple[int, int, int]], dict[int, dict[str, tuple[int, int, int]]], int]:
    latest: dict[tuple[int, int], Vote] = {}
    for member, sid, vote in votes:
        latest[(member, sid)] = Vote(vote)
    slot = {Vote.AGREE: 0, Vote.DISAGREE: 1, Vote.PASS: 2}
    overall: dict[int, list[int]] = {sid: [0, 0, 0] for sid, _ in statements}
    per_disc: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for (member, sid), vote in latest.items():
        overall[sid][slot[vote]] += 1
        if member in disciplines:
            per_disc[sid][disciplines[member]][slot[vote]] += 1
    return (
        {sid: (a, d, p) for sid, (a, d, p) in overall.items()},
        {sid: {n: (a, d, p) for n, (a, d, p) in found.items()} for sid, found in per_disc.items()},
        len({m for m, _ in latest}),
    )


@pytest.mark.parametrize("seed", range(25))
def test_array_counts_equal_counting_vote_by_vote(seed: int) -> None:
    rng = random.Random(seed)
    statements = [(sid, f"Statement {sid}") for sid in rng.sample(range(1, 200), 8)]
    members = [rng.randrange(1, 10**18) if rng.random() < 0.5 else n for n in range(1, 30)]
    choices: list[Vote | str] = [Vote.AGREE, Vote.DISAGREE, Vote.PASS, "agree", "disagree", "pass"]
    votes = [
        (rng.choice(members), rng.choice(statements)[0], rng.choice(choices))
        for _ in range(rng.randrange(0, 400))
    ]
    disciplines = {m: rng.choice(("gp", "nurse", "carer")) for m in members if rng.random() < 0.7}
    overall, per_disc, voters = _by_hand(statements, votes, disciplines)

    # min_group_size 1: every discipline with a vote is reportable, so all counts are visible
    report = statement_report(statements, votes, disciplines, min_group_size=1)

    assert report.voters == voters
    assert [t.statement_id for t in report.statements] == sorted(sid for sid, _ in statements)
    for t in report.statements:
        assert (t.counts.agree, t.counts.disagree, t.counts.passed) == overall[t.statement_id]
        shown = {n: (c.agree, c.disagree, c.passed) for n, c in t.by_discipline.items()}
        expected = per_disc.get(t.statement_id, {})
        # complementary suppression may hide one more discipline, never show a wrong count
        assert all(expected[n] == counts for n, counts in shown.items())
        if sum(map(sum, expected.values())) == t.counts.total:
            assert shown == dict(sorted(expected.items()))


def test_latest_votes_keeps_each_members_last_vote_per_statement() -> None:
    latest = latest_votes(
        [3, 7], [(5, 7, "agree"), (9, 3, "pass"), (5, 7, Vote.DISAGREE), (5, 3, "agree")]
    )
    assert latest.members.tolist() == [5, 9]
    cells = sorted(
        zip(
            latest.member_at.tolist(),
            latest.column_at.tolist(),
            latest.slot_at.tolist(),
            strict=True,
        )
    )
    # member 5 (index 0): statement 3 agree, statement 7 disagree (the later vote); 9: pass
    assert cells == [(0, 0, 0), (0, 1, 1), (1, 0, 2)]
    assert latest.value_at.tolist() == [
        {0: 1.0, 1: -1.0, 2: 0.0}[s] for s in latest.slot_at.tolist()
    ]


def test_latest_votes_of_nothing_is_empty() -> None:
    latest = latest_votes([1], [])
    assert len(latest.members) == 0 and len(latest.slot_at) == 0
    report = statement_report([(1, "S")], [], {})
    assert report.voters == 0 and report.statements[0].counts.total == 0


def test_a_vote_that_is_not_a_vote_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a vote"):
        latest_votes([1], [(1, 1, "maybe")])
    with pytest.raises(ValueError, match="unknown statement 4"):
        latest_votes([1], [(1, 1, "agree"), (1, 4, "agree")])


def test_sparse_votes_take_the_sorting_path_with_the_same_answer() -> None:
    # 3,000 members on 400 statements with one or two votes each: too sparse to scatter
    statement_ids = list(range(1, 401))
    votes: list[tuple[int, int, Vote | str]] = [
        (m, 1 + (m * 7) % 400, "agree") for m in range(3000)
    ]
    votes += [(m, 1 + (m * 7) % 400, "pass") for m in range(0, 3000, 3)]  # changed votes
    latest = latest_votes(statement_ids, votes)
    assert len(latest.slot_at) == 3000
    by_member = dict(zip(latest.member_at.tolist(), latest.slot_at.tolist(), strict=True))
    assert all(by_member[m] == (2 if m % 3 == 0 else 0) for m in range(3000))
