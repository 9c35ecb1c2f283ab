"""The statement report as embeds (aggregates only: counts, disciplines, group sizes), and
the turnout-only answer while a round is open."""

from __future__ import annotations

import discord

from bot.domain.statements import StatementReport, StatementRound, StatementTally
from bot.domain.timeparse import discord_timestamp
from bot.text import escape_inline, percent_of_share

COLOUR = discord.Colour.from_rgb(45, 120, 160)
EMBED_DESCRIPTION = 4000
EMBEDS_TOTAL = 5800
MAX_EMBEDS = 10


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _counts(t: StatementTally) -> str:
    c = t.counts
    return (
        f"agree {c.agree} · disagree {c.disagree} · pass {c.passed} "
        f"({c.agree_percent}% agree of {c.total})"
    )


def open_round_text(rnd: StatementRound, voters: int, eligible: int, statements: int) -> str:
    """What `/statement report` says while a round is open: turnout only.

    No per-statement count, share, consensus, divisive statement, opinion group or discipline
    figure is shown until the round closes: anyone who saw a figure move just after a colleague
    voted (and turnout tells them when someone votes) could work out that colleague's vote."""
    eligible = max(eligible, voters)
    return (
        f"Statement round #{rnd.id} ({statements} statement{'s' if statements != 1 else ''}) "
        f"is open: {voters} of {eligible} member{'s' if eligible != 1 else ''} "
        f"{'has' if voters == 1 else 'have'} voted so far; results appear when the round "
        f"closes on {discord_timestamp(rnd.closes_at, 'F')}.\n"
        "Counts are shown only once the round has closed, so that no one can work out how "
        "anyone voted from how the figures change."
    )


def report_lines(report: StatementReport, rnd: StatementRound, eligible: int) -> list[str]:
    state = (
        f"closed {discord_timestamp(rnd.closed_at, 'f')}"
        if rnd.closed_at
        else f"open until {discord_timestamp(rnd.closes_at, 'f')}"
    )
    pct = percent_of_share(report.consensus_threshold)
    lines = [
        f"Round #{rnd.id} ({state}): {report.voters} of {max(eligible, report.voters)} members "
        f"voted on {len(report.statements)} statements.",
        f"Consensus means at least {pct}% agree among at least {report.min_votes} votes; "
        f"disciplines with fewer than {report.min_group_size} voters on a statement are not "
        "shown, so no one can be identified.",
        "",
        "**Consensus overall**",
    ]
    lines += [(
        f"• {escape_inline(t.text, 200)} — "
        f"{_counts(t)}"
    ) for t in report.consensus] or ["• none yet"]
    lines += ["", "**Consensus across disciplines**"]
    lines += [
        f"• {escape_inline(t.text, 200)} — in "
        + ", ".join(f"{d} {c.agree_percent}%" for d, c in t.by_discipline.items())
        for t in report.cross_discipline_consensus
    ] or ["• none (needs at least two disciplines large enough to report)"]
    lines += ["", "**Divisive**"]
    lines += [
        f"• {escape_inline(d.statement.text, 200)} — most of {', '.join(d.agreeing)} agree; "
        "most of "
        f"{', '.join(d.disagreeing)} disagree ({d.between})"
        for d in report.divisive
    ] or ["• none"]
    lines += ["", "**Opinion groups**"]
    if report.opinion_groups:
        for g in report.opinion_groups:
            lines.append(f"• {g.label}: {g.size} members")
            for s in g.distinctive:
                lean = "agree more" if s.leaning.value == "agree" else "agree less"
                lines.append(
                    f"  – {lean} than others with “{escape_inline(s.text, 120)}” "
                    f"({s.group_agree_percent}% vs {s.others_agree_percent}%)"
                )
    else:
        lines.append(f"• {report.opinion_groups_note or 'none found'}")
    lines += ["", "**Every statement**"]
    lines += [f"• {escape_inline(t.text, 200)} — {_counts(t)}" for t in report.statements]
    return lines


def report_embeds(
    report: StatementReport, rnd: StatementRound, eligible: int
) -> list[discord.Embed]:
    """Pack the lines into embeds within Discord's limits (4096 per description, 6000 for
    all embeds of a message); lines that do not fit are replaced by a note saying so."""
    lines = [_cut(line, 1000) for line in report_lines(report, rnd, eligible)]
    descriptions: list[str] = []
    chunk: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        budget = min(EMBED_DESCRIPTION, EMBEDS_TOTAL - used)
        if len("\n".join([*chunk, line])) > budget - 60:
            note = f"… {len(lines) - i} more lines not shown."
            if EMBEDS_TOTAL - used - len("\n".join(chunk)) < EMBED_DESCRIPTION // 2 or (
                len(descriptions) >= MAX_EMBEDS - 1
            ):
                chunk.append(note)
                break
            descriptions.append("\n".join(chunk))
            used += len(descriptions[-1])
            chunk = []
        chunk.append(line)
    if chunk:
        descriptions.append("\n".join(chunk))
    embeds = [discord.Embed(description=d, colour=COLOUR) for d in descriptions]
    embeds[0].title = "Statement report"
    return embeds
