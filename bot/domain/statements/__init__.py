"""Statement rounds: adding statements, choosing what to show next, and the round's report.

Pure logic, split along its seams: :mod:`.model` (votes, rows, the report's shape),
:mod:`.adding` (validation, order), :mod:`.report` (counts, consensus, divisive),
:mod:`.groups` (opinion groups) and :mod:`.wording` (collective statements). Everything is
re-exported here. Repositories supply ids and votes, services decide, cogs render the
report. The report contains aggregates only: counts per statement, per discipline (large
enough groups only) and per opinion group (by size, never by member).

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
      are reported only if their silhouette is higher than every shuffled copy's best; above
      300 voters each copy is drawn from a fixed sample of 300 of them (in simulations with
      purely random votes this reported groups in under 1 run in 10).
      Otherwise the report says no clear groups were found. Groups are labelled A, B, ... by
      size and described by their most distinctive statements (largest difference between
      the group's and everyone else's mean vote, at least 0.5 on the -1..+1 scale, among
      statements that at least ``min_group_size`` of the group voted on).
"""

from __future__ import annotations

from bot.domain.statements.adding import (
    MAX_STATEMENT_CHARS,
    NEAR_DUPLICATE_SIMILARITY,
    NEGATIONS,
    is_near_duplicate,
    next_statement_for,
    normalise,
    similarity,
    validate_statement,
)
from bot.domain.statements.groups import (
    DISTINCTIVE_PER_GROUP,
    KMEANS_MAX_ITER,
    KMEANS_RESTARTS,
    KMEANS_SEED,
    MIN_SILHOUETTE,
    NULL_SHUFFLES,
)
from bot.domain.statements.model import (
    Counts,
    DistinctiveStatement,
    Divisive,
    OpinionGroup,
    RoundBallots,
    Statement,
    StatementReport,
    StatementRound,
    StatementTally,
    Vote,
)
from bot.domain.statements.report import (
    DEFAULT_CONSENSUS_THRESHOLD,
    DEFAULT_MIN_GROUP_SIZE,
    DEFAULT_MIN_OPINION_VOTERS,
    DEFAULT_MIN_STATEMENTS_PER_VOTER,
    DEFAULT_MIN_VOTES,
    statement_report,
)
from bot.domain.statements.wording import (
    OPEN_ROUND_HEADING,
    collective_statements,
    round_heading,
    round_outcome,
    round_summary,
)

__all__ = [
    "DEFAULT_CONSENSUS_THRESHOLD",
    "DEFAULT_MIN_GROUP_SIZE",
    "DEFAULT_MIN_OPINION_VOTERS",
    "DEFAULT_MIN_STATEMENTS_PER_VOTER",
    "DEFAULT_MIN_VOTES",
    "DISTINCTIVE_PER_GROUP",
    "KMEANS_MAX_ITER",
    "KMEANS_RESTARTS",
    "KMEANS_SEED",
    "MAX_STATEMENT_CHARS",
    "MIN_SILHOUETTE",
    "NEAR_DUPLICATE_SIMILARITY",
    "NEGATIONS",
    "NULL_SHUFFLES",
    "OPEN_ROUND_HEADING",
    "Counts",
    "DistinctiveStatement",
    "Divisive",
    "OpinionGroup",
    "RoundBallots",
    "Statement",
    "StatementReport",
    "StatementRound",
    "StatementTally",
    "Vote",
    "collective_statements",
    "is_near_duplicate",
    "next_statement_for",
    "normalise",
    "round_heading",
    "round_outcome",
    "round_summary",
    "similarity",
    "statement_report",
    "validate_statement",
]  # fmt: skip
