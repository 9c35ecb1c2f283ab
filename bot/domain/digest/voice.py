"""What a closed poll or statement round found, as counts the digest can word plainly.

The collective statement stored at close is written for the community's own channel and
packs every figure into one or two sentences. The sponsor's digest words each finding on
its own (:mod:`bot.domain.digest_words`), so here a result becomes a few
:class:`~bot.domain.digest.Finding` values: counts and members' words, no sentences.
"""

from __future__ import annotations

from bot.domain.digest.model import Finding
from bot.domain.polls.ballots import PollKind
from bot.domain.polls.tally import PollResult
from bot.domain.statements.model import StatementReport
from bot.text import percent_of_share

#: How many options of a multiple-choice poll the digest names (the most chosen first).
MULTI_SHOWN = 3


def poll_findings(result: PollResult) -> tuple[Finding, ...]:
    """A closed poll's result as findings, most telling first."""
    if result.voters == 0:
        return (Finding("no_votes"),)
    if result.kind is PollKind.AGREEMENT:
        return (Finding("agree", count=result.agree, of=result.eligible, disagree=result.disagree),)
    if result.kind is PollKind.SURVEY:
        return tuple(
            Finding("yes", sq.question, sq.yes, sq.responses) for sq in result.survey
        )
    if result.kind is PollKind.RANKED:
        irv = result.irv
        if irv is None or not irv.rounds:
            return (Finding("no_votes"),)
        if irv.winner is None:
            return (Finding("tie", options=tuple(result.options[o] for o in irv.tied)),)
        first = irv.rounds[0].counts.get(irv.winner, 0)
        return (Finding("won", result.options[irv.winner], first, result.voters),)
    ranked = sorted(
        (r for r in result.option_results if r.count > 0), key=lambda r: (-r.count, r.index)
    )
    if result.kind is PollKind.SINGLE and len(ranked) > 1 and ranked[0].count == ranked[1].count:
        tied = tuple(r.label for r in ranked if r.count == ranked[0].count)
        return (Finding("tie", options=tied, count=ranked[0].count),)
    shown = ranked[:MULTI_SHOWN] if result.kind is PollKind.MULTI else ranked[:1]
    return tuple(Finding("chose", r.label, r.count, result.voters) for r in shown)


def round_findings(report: StatementReport, eligible: int) -> tuple[Finding, ...]:
    """A closed statement round as findings: statements most members back (and the roles
    that all back them), then those members are split on, or that none reached the bar."""
    members = max(eligible, report.voters)
    if report.voters == 0:
        return (Finding("no_votes"),)
    across = {t.statement_id for t in report.cross_discipline_consensus}
    out = [
        Finding(
            "agree",
            t.text,
            t.counts.agree,
            members,
            roles=tuple(t.by_discipline) if t.statement_id in across else (),
        )
        for t in sorted(report.consensus, key=lambda t: (-t.counts.agree_share, t.statement_id))
    ]
    for d in report.divisive:
        by_role = d.between == "disciplines"
        out.append(
            Finding(
                "split",
                d.statement.text,
                roles=d.agreeing if by_role else (),
                others=d.disagreeing if by_role else (),
            )
        )
    if not out:
        out.append(
            Finding(
                "none_agreed",
                count=percent_of_share(report.consensus_threshold),
                of=len(report.statements),
            )
        )
    return tuple(out)
