"""Statement rounds in words: collective statements, the round summary, its heading.

Worded here, not in the repository that stores the round, so storage never formats text.
"""

from __future__ import annotations

from typing import Any

from bot.domain.closing import Outcome
from bot.domain.polls.tally import percent
from bot.domain.polls.wording import as_clause
from bot.domain.statements.model import RoundBallots, StatementReport, StatementRound
from bot.domain.statements.report import statement_report
from bot.text import percent_of_share

#: How a statement round still open is listed where polls are (the sponsor digest).
OPEN_ROUND_HEADING = "Statement round: vote on members' statements"

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
        f"{percent_of_share(report.consensus_threshold)}% agreement."
    )


def round_outcome(
    rnd: StatementRound, ballots: RoundBallots, eligible: int, **params: Any
) -> Outcome[StatementReport]:
    """Decide a closing round from its votes: the report and the collective statement.

    Pure and slow-ish (PCA and k-means): the close runs it in a worker thread."""
    report = statement_report(ballots.statements, ballots.votes, ballots.disciplines, **params)
    return Outcome(
        report.voters, max(eligible, report.voters), round_summary(report, eligible), report
    )
