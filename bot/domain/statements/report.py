"""Statement rounds: the report (counts, disciplines, consensus, divisive statements).

Rules in :mod:`bot.domain.statements`; opinion groups in :mod:`.groups`. Aggregates only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from fractions import Fraction

from bot.domain.statements.groups import opinion_groups
from bot.domain.statements.model import (
    Counts,
    Divisive,
    StatementReport,
    StatementTally,
    Vote,
)

DEFAULT_CONSENSUS_THRESHOLD = 0.7
DEFAULT_MIN_VOTES = 5
DEFAULT_MIN_GROUP_SIZE = 5
DEFAULT_MIN_OPINION_VOTERS = 12
DEFAULT_MIN_STATEMENTS_PER_VOTER = 3


def _reportable_disciplines(
    per_discipline: Mapping[str, Counts], total: int, min_group_size: int
) -> dict[str, Counts]:
    shown = {d: c for d, c in per_discipline.items() if c.total >= min_group_size}
    while shown:
        hidden = total - sum(c.total for c in shown.values())
        if hidden == 0 or hidden >= min_group_size:
            break
        smallest = min(shown, key=lambda d: (shown[d].total, d))
        del shown[smallest]
    return dict(sorted(shown.items()))


def _meets(counts: Counts, threshold: Fraction) -> bool:
    return counts.total > 0 and counts.agree_share >= threshold


_SLOT = {Vote.AGREE: 0, Vote.DISAGREE: 1, Vote.PASS: 2}


def statement_report(
    statements: Iterable[tuple[int, str]],
    votes: Iterable[tuple[int, int, Vote | str]],
    disciplines: Mapping[int, str],
    *,
    consensus_threshold: float = DEFAULT_CONSENSUS_THRESHOLD,
    min_votes: int = DEFAULT_MIN_VOTES,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    min_opinion_voters: int = DEFAULT_MIN_OPINION_VOTERS,
    min_statements_per_voter: int = DEFAULT_MIN_STATEMENTS_PER_VOTER,
) -> StatementReport:
    """Summarise a round. ``statements`` are (id, text); ``votes`` are (member, statement, vote).

    A member's later vote on the same statement replaces the earlier one. ``disciplines``
    maps member id to discipline; members missing from it count overall only.
    """
    texts = dict(statements)
    threshold = Fraction(str(consensus_threshold))
    latest: dict[tuple[int, int], Vote] = {}
    as_vote = {v: v for v in Vote} | {v.value: v for v in Vote}
    for member, sid, vote in votes:
        if sid not in texts:
            raise ValueError(f"vote for unknown statement {sid}")
        found = as_vote.get(vote)
        latest[(member, sid)] = found if found is not None else Vote(vote)

    # Plain counters first (one pass, no object per vote), then Counts per statement.
    by_statement: dict[int, list[tuple[int, Vote]]] = defaultdict(list)
    raw_overall: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    raw_disc: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for (member, sid), vote in latest.items():
        slot = _SLOT[vote]
        by_statement[sid].append((member, vote))
        raw_overall[sid][slot] += 1
        disc = disciplines.get(member)
        if disc is not None:
            raw_disc[sid][disc][slot] += 1
    overall: dict[int, Counts] = defaultdict(Counts)
    overall.update({sid: Counts(*c) for sid, c in raw_overall.items()})
    per_disc: dict[int, dict[str, Counts]] = defaultdict(dict)
    per_disc.update(
        {sid: {d: Counts(*c) for d, c in found.items()} for sid, found in raw_disc.items()}
    )

    tallies = tuple(
        StatementTally(
            sid,
            text,
            overall[sid],
            _reportable_disciplines(per_disc[sid], overall[sid].total, min_group_size),
        )
        for sid, text in sorted(texts.items())
    )

    consensus = tuple(
        t for t in tallies if t.counts.total >= min_votes and _meets(t.counts, threshold)
    )
    cross = tuple(
        t
        for t in consensus
        if len(t.by_discipline) >= 2 and all(_meets(c, threshold) for c in t.by_discipline.values())
    )

    groups, note, membership = opinion_groups(
        tallies, latest, min_opinion_voters, min_statements_per_voter, min_group_size
    )

    divisive: list[Divisive] = []
    for t in tallies:
        agreeing = tuple(d for d, c in t.by_discipline.items() if c.majority_agrees)
        disagreeing = tuple(d for d, c in t.by_discipline.items() if c.majority_disagrees)
        if agreeing and disagreeing:
            divisive.append(Divisive(t, "disciplines", agreeing, disagreeing))
            continue
        if membership:
            raw_group: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
            for member, vote in by_statement.get(t.statement_id, ()):
                label = membership.get(member)
                if label is not None:
                    raw_group[label][_SLOT[vote]] += 1
            by_group = {g: Counts(*c) for g, c in raw_group.items()}
            big = {g: c for g, c in sorted(by_group.items()) if c.total >= min_group_size}
            g_agree = tuple(g for g, c in big.items() if c.majority_agrees)
            g_disagree = tuple(g for g, c in big.items() if c.majority_disagrees)
            if g_agree and g_disagree:
                divisive.append(Divisive(t, "opinion groups", g_agree, g_disagree))

    return StatementReport(
        statements=tallies,
        voters=len({member for member, _ in latest}),
        consensus=consensus,
        cross_discipline_consensus=cross,
        divisive=tuple(divisive),
        opinion_groups=groups,
        opinion_groups_note=note,
        consensus_threshold=consensus_threshold,
        min_votes=min_votes,
        min_group_size=min_group_size,
    )

