"""What polls look like in Discord: the poll message, results, and a voter's own receipt.

Only aggregates reach anything public. A voter's own ballot is rendered only for the
ephemeral acknowledgement, which Discord shows to that voter alone.
"""

from __future__ import annotations

import discord

from bot.domain.polls import (
    AGREEMENT_SCALE,
    Ballot,
    Poll,
    PollKind,
    PollResult,
    result_fields,
)
from bot.domain.timeparse import discord_timestamp
from bot.text import escape_block, escape_inline, plain

KIND_WORDS = {
    PollKind.SINGLE: "Pick one option.",
    PollKind.MULTI: "Pick as many options as you like.",
    PollKind.RANKED: "Rank the options in order of preference (instant runoff).",
    PollKind.AGREEMENT: "How much do you agree?",
    PollKind.SURVEY: "Answer yes or no to each question; skip any you like.",
}
COLOUR = discord.Colour.from_rgb(196, 98, 45)


def privacy_line(poll: Poll, *, closed: bool = False) -> str:
    if poll.anonymous:
        if closed:
            return "Anonymous: no one, facilitators included, can see how anyone voted."
        return (
            "Anonymous: no one, facilitators included, can see how you vote. "
            "You can change your vote until the poll closes."
        )
    return "Not anonymous: members can see who voted for what once results are shown."


def poll_embed(poll: Poll, community_name: str) -> discord.Embed:
    lines = [KIND_WORDS[poll.kind], ""]
    if poll.kind is PollKind.AGREEMENT:
        lines.append("Choose a point on the scale below.")
    else:
        noun = "Q" if poll.kind is PollKind.SURVEY else ""
        for i, label in enumerate(poll.options, start=1):
            lines.append(f"**{noun}{i}.** {escape_inline(label)}")
    lines.append("")
    if poll.closed_at is not None:
        # The poll message stays in the channel after closing: it must not keep inviting
        # votes ("Closes in 2 days", "You can change your vote") that can no longer be cast.
        lines.append(
            f"Closed {discord_timestamp(poll.closed_at, 'F')}. The results are posted below."
        )
    elif poll.closes_at is not None:
        lines.append(
            f"Closes {discord_timestamp(poll.closes_at, 'F')} "
            f"({discord_timestamp(poll.closes_at, 'R')})."
        )
    else:
        lines.append("Open until a facilitator closes it.")
    title = ("Closed poll: " if poll.closed_at else "Poll: ") + poll.question
    embed = discord.Embed(
        title=plain(title, 256), description="\n".join(lines)[:4000], colour=COLOUR
    )
    privacy = privacy_line(poll, closed=poll.closed_at is not None)
    embed.set_footer(text=plain(f"{community_name} · poll #{poll.id} · {privacy}", 2048))
    return embed


def results_embed(
    poll: Poll, result: PollResult, statement: str | None, *, final: bool
) -> discord.Embed:
    title = ("Results: " if final else "Results so far: ") + poll.question
    embed = discord.Embed(
        title=plain(title, 256), description=escape_block(statement)[:4000], colour=COLOUR
    )
    for name, value in result_fields(result):
        embed.add_field(name=plain(name, 256, empty="-"), value=value, inline=False)
    footer = f"poll #{poll.id} · {'anonymous' if poll.anonymous else 'not anonymous'}"
    if final and poll.closed_at is not None:
        footer += " · closed"
    embed.set_footer(text=footer)
    return embed


def describe_ballot(poll: Poll, ballot: Ballot) -> str:
    """The voter's own ballot in words (ephemeral, to that voter only)."""
    if poll.kind is PollKind.AGREEMENT:
        assert isinstance(ballot, int)
        return AGREEMENT_SCALE[ballot]
    if poll.kind is PollKind.SINGLE:
        assert isinstance(ballot, int)
        return escape_inline(poll.options[ballot])
    if poll.kind is PollKind.MULTI:
        assert isinstance(ballot, frozenset)
        return "; ".join(escape_inline(poll.options[i]) for i in sorted(ballot))
    if poll.kind is PollKind.RANKED:
        assert isinstance(ballot, tuple)
        return " › ".join(
            f"{n}. {escape_inline(poll.options[i])}" for n, i in enumerate(ballot, start=1)
        )
    assert isinstance(ballot, dict)
    return "; ".join(f"Q{q + 1} {'yes' if a else 'no'}" for q, a in sorted(ballot.items()))
