"""Statement rounds: adding statements, choosing what to show next, and the round's report.

Pure logic; repositories supply ids and votes, cogs render the report. The report contains
aggregates only: counts per statement, per discipline (large enough groups only) and per
opinion group (by size, never by member).

Adding statements (:func:`validate_statement`)
    Stripped text of 1..280 characters. A statement is refused as a duplicate when its
    normalised form (NFKC, case-folded, apostrophes dropped, other punctuation and symbols
    turned into spaces, whitespace collapsed) equals an existing one, or when it is a
    *near-duplicate*: the Jaccard similarity of the two sets of words is >= 0.9 (for a
    ten-word statement that is "one extra word"), unless the words that differ include a
    negation ("not", "never", "dont", ...), because "X should not happen" is the opposite of
    "X should happen", not a copy of it.

Order of statements (:func:`next_statement_for`)
    Never the member's own, never one they have voted on; among the rest the one with the
    fewest votes so far, so votes spread across statements. Ties are broken by a stable hash
    of (member, statement) and then the statement id: deterministic, yet members who start
    together at a meeting do not all get the same statement first.

Report (:func:`statement_report`)
    Vote shares are of **all** votes on the statement, passes included: a pass is not
    support, and "75% agree" must mean three in four of those who saw it and voted.

    * consensus: at least ``min_votes`` votes and agree share >= ``consensus_threshold``
      (default 0.7).
    * per-discipline breakdown: only disciplines with at least ``min_group_size`` voters on
      that statement are reported. Smaller disciplines are left out entirely (their name does
      not appear). If what is left out (small disciplines plus members with no discipline)
      is non-empty but smaller than ``min_group_size``, the smallest reported discipline is
      left out too, repeatedly, so nobody can subtract reported groups from the total and read
      a small group's votes.
    * cross-discipline consensus: consensus overall, at least two disciplines reported for the
      statement, and agree share >= threshold in every reported discipline.
    * divisive: among reported disciplines, or among opinion groups with at least
      ``min_group_size`` voters on the statement, one group has a strict majority agreeing
      while another has a strict majority disagreeing.
    * opinion groups: only when at least ``min_opinion_voters`` (default 12) members each voted
      on at least ``min_statements_per_voter`` (default 3) statements; otherwise the report
      says there are too few voters. Method: matrix of those members x all statements with
      agree = +1, disagree = -1, pass or no vote = 0; columns centred; projected onto the first
      two principal components (numpy SVD); k-means (k-means++ seeding, fixed seed, 10
      restarts) for k = 2, 3, 4; the k with the best mean silhouette wins, among solutions
      whose every group has at least ``min_group_size`` members and whose silhouette is at
      least :data:`MIN_SILHOUETTE` (0.25). The winner must also beat a null model: the same
      matrix with each statement's column shuffled across voters (seeded), 19 times; groups
      are reported only if their silhouette is higher than every shuffled copy's best (in
      simulations with purely random votes this reported groups in under 1 run in 10).
      Otherwise the report says no clear groups were found. Groups are labelled A, B, ... by
      size and described by their most distinctive statements (largest difference between
      the group's and everyone else's mean vote, at least 0.5 on the -1..+1 scale, among
      statements that at least ``min_group_size`` of the group voted on).
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # At run time numpy is imported by the functions that compute opinion groups: loading
    # it was ~0.15 s of every start-up (benchmarks/startup.py), for a rarely used result.
    import numpy as np

from bot.domain.polls import as_clause, percent, share
from bot.errors import InvalidInput
from bot.text import clean_line, escape_inline

log = logging.getLogger(__name__)

MAX_STATEMENT_CHARS = 280
NEAR_DUPLICATE_SIMILARITY = 0.9
NEGATIONS = frozenset(
    {
        "not", "no", "never", "nor", "none", "nobody", "nothing", "neither", "without",
        "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent",
        "wont", "wouldnt", "shouldnt", "couldnt", "mustnt", "hasnt", "havent", "hadnt",
    }
)  # fmt: skip

DEFAULT_CONSENSUS_THRESHOLD = 0.7
DEFAULT_MIN_VOTES = 5
DEFAULT_MIN_GROUP_SIZE = 5
DEFAULT_MIN_OPINION_VOTERS = 12
DEFAULT_MIN_STATEMENTS_PER_VOTER = 3
#: Groups must have a mean silhouette above this and above every shuffled copy's.
MIN_SILHOUETTE = 0.25
NULL_SHUFFLES = 19
KMEANS_SEED = 20240601
KMEANS_RESTARTS = 10
KMEANS_MAX_ITER = 100
DISTINCTIVE_PER_GROUP = 3


class Vote(StrEnum):
    AGREE = "agree"
    DISAGREE = "disagree"
    PASS = "pass"


_VOTE_VALUE = {Vote.AGREE: 1, Vote.DISAGREE: -1, Vote.PASS: 0}


# --------------------------------------------------------------------------- adding


def normalise(text: str) -> str:
    """Comparable form of a statement: case, punctuation and spacing do not matter."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("'", "").replace("’", "").replace("‘", "")
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(text.split())


def _tokens(text: str) -> frozenset[str]:
    return frozenset(normalise(text).split())


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two statements' word sets."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta and not tb:
        return 1.0
    return len(ta & tb) / len(ta | tb)


def is_near_duplicate(a: str, b: str) -> bool:
    if normalise(a) == normalise(b):
        return True
    ta, tb = _tokens(a), _tokens(b)
    if (ta ^ tb) & NEGATIONS:
        return False
    return similarity(a, b) >= NEAR_DUPLICATE_SIMILARITY


def validate_statement(text: str, existing: Iterable[str]) -> str:
    """Return the statement on one line without control, bidi or zero-width characters (as
    it will be stored and shown), or explain why it cannot be added."""
    cleaned = clean_line(text)
    if not cleaned or not normalise(cleaned):
        raise InvalidInput("Write a short statement for others to agree or disagree with.")
    if len(cleaned) > MAX_STATEMENT_CHARS:
        raise InvalidInput(
            f"Your statement is {len(cleaned)} characters; keep it to {MAX_STATEMENT_CHARS} "
            "or fewer. One clear point per statement works best."
        )
    for other in existing:
        if is_near_duplicate(cleaned, other):
            raise InvalidInput(
                f"This is already a statement: “{escape_inline(other, 120)}”. Vote on that one "
                "instead, or "
                "reword yours if you mean something different."
            )
    return cleaned


# --------------------------------------------------------------------------- order


def _spread_key(member_id: int, statement_id: int) -> bytes:
    return hashlib.blake2b(f"{member_id}:{statement_id}".encode(), digest_size=8).digest()


def next_statement_for(
    member_id: int,
    statements: Iterable[tuple[int, int]],
    votes_by_member: Mapping[int, Iterable[int]],
    vote_counts: Mapping[int, int],
) -> int | None:
    """The statement id to show ``member_id`` next, or None when they have seen them all.

    ``statements`` are (statement id, author id); ``votes_by_member`` maps a member to the
    statement ids they voted on (pass included); ``vote_counts`` maps a statement id to its
    number of votes so far (missing = 0).
    """
    voted = set(votes_by_member.get(member_id, ()))
    candidates = [sid for sid, author in statements if author != member_id and sid not in voted]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda sid: (vote_counts.get(sid, 0), _spread_key(member_id, sid), sid),
    )


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Counts:
    agree: int = 0
    disagree: int = 0
    passed: int = 0

    @property
    def total(self) -> int:
        return self.agree + self.disagree + self.passed

    @property
    def agree_share(self) -> Fraction:
        return share(self.agree, self.total)

    @property
    def disagree_share(self) -> Fraction:
        return share(self.disagree, self.total)

    @property
    def agree_percent(self) -> int:
        return percent(self.agree, self.total)

    @property
    def disagree_percent(self) -> int:
        return percent(self.disagree, self.total)

    @property
    def majority_agrees(self) -> bool:
        return self.agree * 2 > self.total

    @property
    def majority_disagrees(self) -> bool:
        return self.disagree * 2 > self.total

    def add(self, vote: Vote) -> Counts:
        return Counts(
            self.agree + (vote is Vote.AGREE),
            self.disagree + (vote is Vote.DISAGREE),
            self.passed + (vote is Vote.PASS),
        )


@dataclass(frozen=True)
class StatementTally:
    statement_id: int
    text: str
    counts: Counts
    #: Only disciplines large enough to report (see module docstring), name -> counts.
    by_discipline: dict[str, Counts] = field(default_factory=dict)


@dataclass(frozen=True)
class Divisive:
    statement: StatementTally
    between: str  # "disciplines" or "opinion groups"
    agreeing: tuple[str, ...]
    disagreeing: tuple[str, ...]


@dataclass(frozen=True)
class DistinctiveStatement:
    statement_id: int
    text: str
    leaning: Vote  # AGREE: the group agrees more than others; DISAGREE: less
    group_agree_percent: int
    others_agree_percent: int


@dataclass(frozen=True)
class OpinionGroup:
    label: str
    size: int
    distinctive: tuple[DistinctiveStatement, ...]


@dataclass(frozen=True)
class StatementReport:
    statements: tuple[StatementTally, ...]
    voters: int
    consensus: tuple[StatementTally, ...]
    cross_discipline_consensus: tuple[StatementTally, ...]
    divisive: tuple[Divisive, ...]
    opinion_groups: tuple[OpinionGroup, ...]
    #: Why there are no opinion groups, in plain words (None when groups were found).
    opinion_groups_note: str | None
    consensus_threshold: float
    min_votes: int
    min_group_size: int


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
    for member, sid, vote in votes:
        if sid not in texts:
            raise ValueError(f"vote for unknown statement {sid}")
        latest[(member, sid)] = Vote(vote)

    overall: dict[int, Counts] = defaultdict(Counts)
    per_disc: dict[int, dict[str, Counts]] = defaultdict(lambda: defaultdict(Counts))
    for (member, sid), vote in latest.items():
        overall[sid] = overall[sid].add(vote)
        disc = disciplines.get(member)
        if disc is not None:
            per_disc[sid][disc] = per_disc[sid][disc].add(vote)

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

    groups, note, membership = _opinion_groups(
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
            by_group: dict[str, Counts] = defaultdict(Counts)
            for (member, sid), vote in latest.items():
                if sid == t.statement_id and member in membership:
                    label = membership[member]
                    by_group[label] = by_group[label].add(vote)
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


# --------------------------------------------------------------------------- opinion groups


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """One k-means++ seeded Lloyd run: (labels, inertia)."""
    import numpy as np

    n = len(points)
    centres = [points[rng.integers(n)]]
    for _ in range(1, k):
        d2 = np.min([((points - c) ** 2).sum(axis=1) for c in centres], axis=0)
        total = d2.sum()
        if total <= 0:
            centres.append(points[rng.integers(n)])
        else:
            centres.append(points[rng.choice(n, p=d2 / total)])
    c = np.array(centres, dtype=float)
    labels = np.zeros(n, dtype=int)
    for iteration in range(KMEANS_MAX_ITER):
        dist = ((points[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        new = dist.argmin(axis=1)
        for j in range(k):
            members = points[new == j]
            if len(members):
                c[j] = members.mean(axis=0)
        if iteration > 0 and np.array_equal(new, labels):
            break
        labels = new
    inertia = float(((points - c[labels]) ** 2).sum())
    return labels, inertia


def _silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette; a point alone in its cluster scores 0 (the usual convention)."""
    import numpy as np

    clusters = np.unique(labels)
    if len(clusters) < 2:
        return -1.0
    dist = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    sizes = np.array([(labels == c).sum() for c in clusters])
    # mean distance from every point to every cluster (own cluster excludes the point itself)
    sums = np.column_stack([dist[:, labels == c].sum(axis=1) for c in clusters])
    own = np.searchsorted(clusters, labels)
    idx = np.arange(len(points))
    own_size = sizes[own]
    a = np.where(own_size > 1, sums[idx, own] / np.maximum(own_size - 1, 1), 0.0)
    other = sums / sizes
    other[idx, own] = np.inf
    b = other.min(axis=1)
    denom = np.maximum(a, b)
    scores = np.where((own_size > 1) & (denom > 0), (b - a) / np.where(denom > 0, denom, 1), 0.0)
    return float(scores.mean())


def _project(matrix: np.ndarray) -> np.ndarray:
    """Voters' coordinates on the first two principal components of the centred matrix."""
    import numpy as np

    centred = matrix - matrix.mean(axis=0)
    u, s, _vt = np.linalg.svd(centred, full_matrices=False)
    dims = min(2, len(s))
    return np.asarray(u[:, :dims] * s[:dims])


def _best_clustering(
    points: np.ndarray, min_group_size: int
) -> tuple[float, int, np.ndarray] | None:
    """(silhouette, k, labels) of the best k in 2..4 whose groups all have min_group_size."""
    import numpy as np

    best: tuple[float, int, np.ndarray] | None = None
    for k in range(2, 5):
        if k * min_group_size > len(points):
            break
        rng = np.random.default_rng(KMEANS_SEED + k)
        runs = [_kmeans(points, k, rng) for _ in range(KMEANS_RESTARTS)]
        labels, _inertia = min(runs, key=lambda r: r[1])
        sizes = np.bincount(labels, minlength=k)
        if sizes.min() < min_group_size:
            continue
        score = _silhouette(points, labels)
        if best is None or score > best[0] + 1e-12:
            best = (score, k, labels)
    return best


def _opinion_groups(
    tallies: Sequence[StatementTally],
    latest: Mapping[tuple[int, int], Vote],
    min_voters: int,
    min_statements: int,
    min_group_size: int,
) -> tuple[tuple[OpinionGroup, ...], str | None, dict[int, str]]:
    import numpy as np

    per_member: dict[int, int] = defaultdict(int)
    for member, _ in latest:
        per_member[member] += 1
    members = sorted(m for m, n in per_member.items() if n >= min_statements)
    if len(members) < min_voters:
        return (
            (),
            f"Too few voters to identify opinion groups: this needs at least {min_voters} "
            f"members who each voted on {min_statements} or more statements "
            f"({len(members)} so far).",
            {},
        )
    sids = [t.statement_id for t in tallies]
    col = {sid: j for j, sid in enumerate(sids)}
    row = {m: i for i, m in enumerate(members)}
    matrix = np.zeros((len(members), len(sids)))
    for (member, sid), vote in latest.items():
        if member in row:
            matrix[row[member], col[sid]] = _VOTE_VALUE[vote]
    points = _project(matrix)
    if not np.any(points):
        return (), "Everyone voted the same way, so there are no separate opinion groups.", {}
    best = _best_clustering(points, min_group_size)
    if best is not None:
        # Null model: the same votes with each statement's column shuffled across voters keep
        # every statement's totals but lose any link between statements. Real groups must
        # separate more clearly than every shuffled copy does.
        rng = np.random.default_rng(KMEANS_SEED)
        null_best = MIN_SILHOUETTE
        for _ in range(NULL_SHUFFLES):
            shuffled = np.column_stack([rng.permutation(c) for c in matrix.T])
            null = _best_clustering(_project(shuffled), min_group_size)
            if null is not None:
                null_best = max(null_best, null[0])
        log.debug("opinion groups: best %.3f, shuffled best %.3f", best[0], null_best)
        if best[0] <= null_best:
            best = None
    if best is None:
        return (), "No clear opinion groups: members' votes do not fall into distinct camps.", {}

    _score, k, labels = best
    # Label by size (largest first), then by the first member row, for a stable order.
    order = sorted(range(k), key=lambda j: (-int((labels == j).sum()), int(np.argmax(labels == j))))
    groups: list[OpinionGroup] = []
    membership: dict[int, str] = {}
    voted = np.zeros_like(matrix, dtype=bool)
    for (member, sid), _vote in latest.items():
        if member in row:
            voted[row[member], col[sid]] = True
    for rank, j in enumerate(order):
        label = f"Group {chr(ord('A') + rank)}"
        inside = labels == j
        for m in members:
            if inside[row[m]]:
                membership[m] = label
        groups.append(
            OpinionGroup(
                label,
                int(inside.sum()),
                _distinctive(tallies, matrix, voted, inside, min_group_size),
            )
        )
    return tuple(groups), None, membership


def _distinctive(
    tallies: Sequence[StatementTally],
    matrix: np.ndarray,
    voted: np.ndarray,
    inside: np.ndarray,
    min_group_size: int,
) -> tuple[DistinctiveStatement, ...]:
    found: list[tuple[float, int, DistinctiveStatement]] = []
    for j, t in enumerate(tallies):
        g_votes, o_votes = voted[inside, j], voted[~inside, j]
        if g_votes.sum() < min_group_size or o_votes.sum() == 0:
            continue
        g, o = matrix[inside, j][g_votes], matrix[~inside, j][o_votes]
        diff = float(g.mean() - o.mean())
        if abs(diff) < 0.5:
            continue
        found.append(
            (
                -abs(diff),
                t.statement_id,
                DistinctiveStatement(
                    t.statement_id,
                    t.text,
                    Vote.AGREE if diff > 0 else Vote.DISAGREE,
                    percent(int((g == 1).sum()), len(g)),
                    percent(int((o == 1).sum()), len(o)),
                ),
            )
        )
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(d for _, _, d in found[:DISTINCTIVE_PER_GROUP])


# --------------------------------------------------------------------------- wording


def _members(n: int) -> str:
    return "member" if n == 1 else "members"


def round_heading(statements: int) -> str:
    """How a closed statement round is headed where polls are listed (the sponsor digest).

    Worded here, not in the repository that reads the round, so storage never formats text
    for people."""
    return f"Statement round ({statements} statement{'s' if statements != 1 else ''})"


def collective_statements(report: StatementReport, total_members: int) -> list[str]:
    """Plain-word statements with their support, consensus first, then divisive ones."""
    total_members = max(total_members, report.voters)
    cross_ids = {t.statement_id for t in report.cross_discipline_consensus}
    lines: list[str] = []
    for t in sorted(report.consensus, key=lambda t: (-t.counts.agree_share, t.statement_id)):
        c = t.counts
        line = (
            f"{c.agree} of {total_members} {_members(total_members)} "
            f"({percent(c.agree, total_members)}%) agree that {as_clause(t.text)} "
            f"({c.agree} of the {c.total} who voted on it, {c.agree_percent}%)."
        )
        if t.statement_id in cross_ids:
            line += (
                " This holds in every discipline large enough to report: "
                + ", ".join(t.by_discipline)
                + "."
            )
        lines.append(line)
    for d in report.divisive:
        c = d.statement.counts
        lines.append(
            f"Members are divided on whether {as_clause(d.statement.text)}: "
            f"{c.agree_percent}% agree and {c.disagree_percent}% disagree "
            f"({c.total} voted); most in {', '.join(d.agreeing)} agree while most in "
            f"{', '.join(d.disagreeing)} disagree."
        )
    return lines


# --------------------------------------------------------------------------- stored rows


@dataclass(frozen=True)
class Statement:
    id: int
    community_id: int
    round_id: int | None
    author_id: int
    text: str
    created_at: datetime


@dataclass(frozen=True)
class StatementRound:
    """A round: every statement of the community not yet in a closed round, voted until
    ``closes_at``. Statements added while it is open join it."""

    id: int
    community_id: int
    opened_by: int
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    channel_id: int | None = None
    message_id: int | None = None
    voters: int | None = None
    eligible: int | None = None
    collective_statement: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def accepts_votes(self, now: datetime) -> bool:
        return self.closed_at is None and now < self.closes_at


def round_summary(report: StatementReport, total_members: int) -> str:
    """The round's collective statement(s) for the digest, or a plain 'no consensus' line."""
    lines = collective_statements(report, total_members)
    if lines:
        return "\n".join(lines)
    n = len(report.statements)
    return (
        f"{report.voters} of {max(total_members, report.voters)} "
        f"{_members(max(total_members, report.voters))} voted on {n} "
        f"statement{'s' if n != 1 else ''}; none reached "
        f"{round(report.consensus_threshold * 100)}% agreement."
    )
