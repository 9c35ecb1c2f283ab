"""Statement rounds: the report (counts, disciplines, consensus, divisive statements).

Rules in :mod:`bot.domain.statements`; opinion groups in :mod:`.groups`. Aggregates only.

The votes are turned into arrays once (:func:`latest_votes`) and every count is a
``numpy.bincount`` over them: at 1,000 voters x 100 statements the Python loops over the
100,000 votes were ~0.4 s of a report that must take under a second. numpy is imported
inside the functions, as in :mod:`.groups` (start-up time).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import islice
from typing import TYPE_CHECKING

from bot.domain.statements.groups import opinion_groups
from bot.domain.statements.model import (
    Counts,
    Divisive,
    StatementReport,
    StatementTally,
    Vote,
)

if TYPE_CHECKING:
    import numpy as np

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


#: Column of each vote in the count arrays; a ``Vote`` hashes and compares as its text.
_SLOT: dict[str, int] = {"agree": 0, "disagree": 1, "pass": 2}
#: The same columns as the opinion matrix's values (agree 1, disagree -1, pass 0).
_VALUE_OF_SLOT = (1.0, -1.0, 0.0)
#: Votes converted to arrays per step (see latest_votes).
_CHUNK = 5000


@dataclass(frozen=True)
class LatestVotes:
    """Each member's latest vote per statement, as parallel arrays (one entry per vote).

    ``members`` are the distinct member ids in ascending order; ``member_at`` indexes them,
    ``column_at`` indexes the statements in ascending id order, ``slot_at`` is 0 agree,
    1 disagree, 2 pass. Counting is then ``numpy.bincount`` over these arrays instead of a
    Python loop over 100,000 votes (benchmarks/statements.py)."""

    members: np.ndarray
    member_at: np.ndarray
    column_at: np.ndarray
    slot_at: np.ndarray

    @property
    def value_at(self) -> np.ndarray:
        import numpy as np

        return np.asarray(_VALUE_OF_SLOT)[self.slot_at]

    def counts(self, group_at: np.ndarray, groups: int, columns: int) -> np.ndarray:
        """(column, group, slot) counts of the votes whose member is in group ``group_at``
        (a group index per vote; -1 for none)."""
        import numpy as np

        inside = group_at >= 0
        flat = (self.column_at[inside] * groups + group_at[inside]) * 3 + self.slot_at[inside]
        return np.bincount(flat, minlength=columns * groups * 3).reshape(columns, groups, 3)


def latest_votes(
    statement_ids: Sequence[int], votes: Iterable[tuple[int, int, Vote | str]]
) -> LatestVotes:
    """The votes as arrays, a later vote of a member on a statement replacing the earlier.

    ``statement_ids`` must be ascending; a vote on any other statement, or a vote that is
    not agree/disagree/pass, is a programming error (ValueError)."""
    import numpy as np

    known = set(statement_ids)
    member_parts, sid_parts, slot_parts = [], [], []
    # In chunks: each conversion below is one C call that holds the GIL throughout, and the
    # report runs in a thread beside the event loop (100,000 votes at once stalled the loop
    # for ~100 ms; a chunk's calls take a few ms each).
    iterator = iter(votes)
    while chunk := list(islice(iterator, _CHUNK)):
        member_col, sid_col, vote_col = zip(*chunk, strict=True)
        if not known.issuperset(sid_col):
            unknown = next(sid for sid in sid_col if sid not in known)
            raise ValueError(f"vote for unknown statement {unknown}")
        try:
            slot_parts.append(
                np.fromiter(map(_SLOT.__getitem__, vote_col), dtype=np.int64, count=len(chunk))
            )
        except KeyError as exc:
            raise ValueError(f"{exc.args[0]!r} is not a vote") from None
        member_parts.append(np.asarray(member_col, dtype=np.int64))
        sid_parts.append(np.asarray(sid_col, dtype=np.int64))
    if not slot_parts:
        empty = np.zeros(0, dtype=np.int64)
        return LatestVotes(empty, empty, empty, empty)
    slots = np.concatenate(slot_parts)
    sids = np.concatenate(sid_parts)
    columns = np.searchsorted(np.asarray(statement_ids, dtype=np.int64), sids)
    members, member_at = np.unique(np.concatenate(member_parts), return_inverse=True)
    # The last vote of each (member, statement): the first of each key in reversed order.
    # Scattered in vote order, so each cell keeps its last vote's index (numpy assigns the
    # last of repeated indices); then the cells in (member, statement) order. A sort with
    # np.unique did the same in one ~25 ms call holding the GIL.
    key = member_at.astype(np.int64) * len(statement_ids) + columns
    cells = len(members) * len(statement_ids)
    if cells <= 4 * len(key) + 1_000_000:
        last_at = np.full(cells, -1, dtype=np.int64)
        last_at[key] = np.arange(len(key))
        last = last_at[last_at >= 0]
    else:  # very sparse (many members, few votes each): sort instead of a huge scatter
        _, first_reversed = np.unique(key[::-1], return_index=True)
        last = len(key) - 1 - first_reversed
    return LatestVotes(members, member_at[last], columns[last], slots[last])


def _counts_by_name(found: np.ndarray, names: Sequence[str]) -> dict[str, Counts]:
    """Counts per name from a (name, slot) array, for names with at least one vote."""
    return {
        name: Counts(int(a), int(d), int(p))
        for name, (a, d, p) in zip(names, found.tolist(), strict=True)
        if a + d + p
    }


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
    import numpy as np

    texts = dict(sorted(dict(statements).items()))
    sids = list(texts)
    threshold = Fraction(str(consensus_threshold))
    latest = latest_votes(sids, votes)

    # Counts per statement, overall and per discipline: one bincount each.
    overall = latest.counts(np.zeros_like(latest.member_at), 1, len(sids))[:, 0, :].tolist()
    names = sorted({disciplines[int(m)] for m in latest.members if int(m) in disciplines})
    index = {name: i for i, name in enumerate(names)}
    found = (disciplines.get(int(m)) for m in latest.members)
    discipline_of = np.asarray(
        [-1 if d is None else index.get(d, -1) for d in found], dtype=np.int64
    )
    per_disc = latest.counts(discipline_of[latest.member_at], len(names), len(sids))

    tallies = []
    for j, (sid, text) in enumerate(texts.items()):
        counts = Counts(*overall[j])
        shown = _counts_by_name(per_disc[j], names)
        tallies.append(
            StatementTally(
                sid, text, counts, _reportable_disciplines(shown, counts.total, min_group_size)
            )
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
        tallies, latest.members, latest.member_at, latest.column_at, latest.value_at,
        min_opinion_voters, min_statements_per_voter, min_group_size,
    )  # fmt: skip
    labels = sorted(set(membership.values()))
    label_index = {label: i for i, label in enumerate(labels)}
    in_group = (membership.get(int(m)) for m in latest.members)
    group_of = np.asarray([-1 if g is None else label_index[g] for g in in_group], dtype=np.int64)
    per_group = (
        latest.counts(group_of[latest.member_at], len(labels), len(sids)) if labels else None
    )

    divisive: list[Divisive] = []
    for j, t in enumerate(tallies):
        agreeing = tuple(d for d, c in t.by_discipline.items() if c.majority_agrees)
        disagreeing = tuple(d for d, c in t.by_discipline.items() if c.majority_disagrees)
        if agreeing and disagreeing:
            divisive.append(Divisive(t, "disciplines", agreeing, disagreeing))
            continue
        if per_group is not None:
            by_group = _counts_by_name(per_group[j], labels)
            big = {g: c for g, c in by_group.items() if c.total >= min_group_size}
            g_agree = tuple(g for g, c in big.items() if c.majority_agrees)
            g_disagree = tuple(g for g, c in big.items() if c.majority_disagrees)
            if g_agree and g_disagree:
                divisive.append(Divisive(t, "opinion groups", g_agree, g_disagree))

    return StatementReport(
        statements=tuple(tallies),
        voters=len(latest.members),
        consensus=consensus,
        cross_discipline_consensus=cross,
        divisive=tuple(divisive),
        opinion_groups=groups,
        opinion_groups_note=note,
        consensus_threshold=consensus_threshold,
        min_votes=min_votes,
        min_group_size=min_group_size,
    )
