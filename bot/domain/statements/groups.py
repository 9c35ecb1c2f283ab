"""Statement rounds: opinion groups (PCA, k-means, silhouette, a shuffled null model).

Method in :mod:`bot.domain.statements`. numpy is imported inside the functions: loading it
was ~0.15 s of every start-up (benchmarks/startup.py), for a rarely used result.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.domain.polls.tally import percent
from bot.domain.statements.model import (
    DistinctiveStatement,
    OpinionGroup,
    StatementTally,
    Vote,
)

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

MIN_SILHOUETTE = 0.25
NULL_SHUFFLES = 19
NULL_SAMPLE = 300
KMEANS_SEED = 20240601
KMEANS_RESTARTS = 10
KMEANS_MAX_ITER = 100
KMEANS_TOLERANCE = 1e-6
DISTINCTIVE_PER_GROUP = 3


# --------------------------------------------------------------------------- opinion groups


def _kmeans(
    points: np.ndarray, k: int, rng: np.random.Generator, restarts: int = KMEANS_RESTARTS
) -> tuple[np.ndarray, float]:
    """``restarts`` k-means++ seeded Lloyd runs, all at once: the best run's (labels, inertia).

    The runs are seeded one after another from ``rng`` (as separate runs would be), then
    iterated together as one array, so the cost is a few numpy calls per iteration instead
    of a few per run. A run that has converged is left as it is (its fixed point)."""
    import numpy as np

    n, dims = points.shape
    seeds = np.empty((restarts, k, dims))
    for r in range(restarts):
        centres = [points[rng.integers(n)]]
        for _ in range(1, k):
            d2 = np.min([((points - c) ** 2).sum(axis=1) for c in centres], axis=0)
            total = d2.sum()
            if total <= 0:
                centres.append(points[rng.integers(n)])
            else:
                centres.append(points[rng.choice(n, p=d2 / total)])
        seeds[r] = centres
    c = seeds
    tolerance = KMEANS_TOLERANCE * float(points.var(axis=0).sum()) * k
    labels = np.zeros((restarts, n), dtype=int)
    done = np.zeros(restarts, dtype=bool)
    offsets = (np.arange(restarts) * k)[:, None]
    tiled = [np.tile(points[:, j], restarts) for j in range(dims)]
    columns = [points[None, :, j, None] for j in range(dims)]  # (1, n, 1) per dimension
    for iteration in range(KMEANS_MAX_ITER):
        dist = (columns[0] - c[:, None, :, 0]) ** 2
        for j in range(1, dims):
            dist += (columns[j] - c[:, None, :, j]) ** 2
        new = dist.argmin(axis=2)
        flat = (new + offsets).ravel()
        counts = np.bincount(flat, minlength=restarts * k).reshape(restarts, k)
        sums = np.stack(
            [
                np.bincount(flat, weights=t, minlength=restarts * k).reshape(restarts, k)
                for t in tiled
            ],
            axis=2,
        )
        means = sums / np.maximum(counts, 1)[:, :, None]
        moved = np.where(counts[:, :, None] > 0, means, c)  # an empty group keeps its centre
        shift = ((moved - c) ** 2).sum(axis=(1, 2))
        c = np.where(done[:, None, None], c, moved)
        if iteration > 0:
            # Converged: no label changed, or the centres moved by less than a millionth of
            # the points' spread (Lloyd's long tail of single-point swaps on unstructured
            # data; the shuffled copies of the null model are exactly that).
            done |= (new == labels).all(axis=1) | (shift <= tolerance)
        labels = np.where(done[:, None], labels, new)
        if done.all():
            break
    inertia = (points[None, :, :] - np.take_along_axis(c, labels[:, :, None], axis=1)) ** 2
    per_run = inertia.sum(axis=(1, 2))
    best = int(np.argmin(per_run))
    return labels[best], float(per_run[best])


def _distances(points: np.ndarray) -> np.ndarray:
    """All pairwise Euclidean distances (computed once per set of points)."""
    import numpy as np

    squared = np.zeros((len(points), len(points)))
    for j in range(points.shape[1]):
        column = points[:, j]
        squared += (column[:, None] - column[None, :]) ** 2
    return np.sqrt(squared)


def _silhouette(dist: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette; a point alone in its cluster scores 0 (the usual convention)."""
    import numpy as np

    clusters = np.unique(labels)
    if len(clusters) < 2:
        return -1.0
    onehot = (labels[:, None] == clusters[None, :]).astype(float)
    sizes = onehot.sum(axis=0)
    # summed distance from every point to every cluster (its own includes a 0 to itself)
    sums = dist @ onehot
    own = np.searchsorted(clusters, labels)
    idx = np.arange(len(labels))
    own_size = sizes[own]
    a = np.where(own_size > 1, sums[idx, own] / np.maximum(own_size - 1, 1), 0.0)
    other = sums / sizes
    other[idx, own] = np.inf
    b = other.min(axis=1)
    denom = np.maximum(a, b)
    scores = np.where((own_size > 1) & (denom > 0), (b - a) / np.where(denom > 0, denom, 1), 0.0)
    return float(scores.mean())


def _project(matrix: np.ndarray) -> np.ndarray:
    """Voters' coordinates on the first two principal components of the centred matrix.

    From the eigenvectors of the statements' covariance (statements x statements, small)
    rather than an SVD of the whole voters x statements matrix: the same components (up to
    sign, which no distance sees) at a fraction of the cost."""
    import numpy as np

    centred = matrix - matrix.mean(axis=0)
    dims = min(2, *centred.shape)
    values, vectors = np.linalg.eigh(centred.T @ centred)
    top = np.argsort(values)[::-1][:dims]
    return np.asarray(centred @ vectors[:, top])


def _best_clustering(
    points: np.ndarray, min_group_size: int
) -> tuple[float, int, np.ndarray] | None:
    """(silhouette, k, labels) of the best k in 2..4 whose groups all have min_group_size."""
    import numpy as np

    best: tuple[float, int, np.ndarray] | None = None
    dist: np.ndarray | None = None
    for k in range(2, 5):
        if k * min_group_size > len(points):
            break
        rng = np.random.default_rng(KMEANS_SEED + k)
        labels, _inertia = _kmeans(points, k, rng)
        sizes = np.bincount(labels, minlength=k)
        if sizes.min() < min_group_size:
            continue
        if dist is None:
            dist = _distances(points)
        score = _silhouette(dist, labels)
        if best is None or score > best[0] + 1e-12:
            best = (score, k, labels)
    return best


def opinion_groups(
    tallies: Sequence[StatementTally],
    members: np.ndarray,
    member_at: np.ndarray,
    column_at: np.ndarray,
    value_at: np.ndarray,
    min_voters: int,
    min_statements: int,
    min_group_size: int,
) -> tuple[tuple[OpinionGroup, ...], str | None, dict[int, str]]:
    """Opinion groups from each member's latest votes, given as parallel arrays.

    ``members`` are the distinct member ids (ascending); per vote, ``member_at`` indexes
    them, ``column_at`` indexes ``tallies`` and ``value_at`` is 1 agree, -1 disagree, 0 pass
    (see :func:`bot.domain.statements.report.latest_votes`). Returns the groups, a note when
    there are none, and each grouped member's group label."""
    import numpy as np

    per_member = np.bincount(member_at, minlength=len(members))
    kept = per_member >= min_statements
    if int(kept.sum()) < min_voters:
        return (
            (),
            f"Too few voters to identify opinion groups: this needs at least {min_voters} "
            f"members who each voted on {min_statements} or more statements "
            f"({int(kept.sum())} so far).",
            {},
        )
    # One row per kept member (ascending id), one column per statement.
    row_of = np.cumsum(kept) - 1
    inside_rows = kept[member_at]
    rows_at = row_of[member_at[inside_rows]]
    cols_at = column_at[inside_rows]
    matrix = np.zeros((int(kept.sum()), len(tallies)))
    matrix[rows_at, cols_at] = value_at[inside_rows]
    row_members = [int(m) for m in members[kept]]
    points = _project(matrix)
    if not np.any(points):
        return (), "Everyone voted the same way, so there are no separate opinion groups.", {}
    best = _best_clustering(points, min_group_size)
    if best is not None:
        # Null model: the same votes with each statement's column shuffled across voters keep
        # every statement's totals but lose any link between statements. Real groups must
        # separate more clearly than every shuffled copy does.
        # Above NULL_SAMPLE voters each shuffled copy is drawn from a fixed sample of them:
        # a silhouette is a mean over voters, so a sample of a few hundred estimates the
        # copy's best as well, at a tenth of the cost (k-means is linear in voters, the
        # silhouette quadratic); 19 copies of 1,000 voters were most of a report's time.
        rng = np.random.default_rng(KMEANS_SEED)
        base = matrix
        if len(matrix) > NULL_SAMPLE:
            base = matrix[np.sort(rng.choice(len(matrix), size=NULL_SAMPLE, replace=False))]
        null_best = MIN_SILHOUETTE
        for _ in range(NULL_SHUFFLES):
            shuffled = np.column_stack([rng.permutation(c) for c in base.T])
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
    voted[rows_at, cols_at] = True
    for rank, j in enumerate(order):
        label = f"Group {chr(ord('A') + rank)}"
        inside = labels == j
        membership.update(
            (m, label) for m, grouped in zip(row_members, inside, strict=True) if grouped
        )
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
