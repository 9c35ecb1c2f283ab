"""Wording of papers for comment: the paper's message, replies, the author's DM, the outcome.

While a paper is open its message shows how many members have answered, never how.
"""

from __future__ import annotations

import discord

from bot.domain.papers import (
    COMMENT_MAX,
    FILE_MAX_BYTES,
    LONG_COMMENTS,
    Answer,
    Comment,
    Paper,
    collective_statement,
    comments_markdown,
    file_types_text,
)
from bot.domain.timeparse import discord_timestamp
from bot.interactions import mention
from bot.text import escape_block, escape_inline

COLOUR = discord.Colour.from_rgb(0x5B, 0x7F, 0x95)
CLOSED_COLOUR = discord.Colour.from_rgb(0x7A, 0x86, 0x8C)


def _members(n: int) -> str:
    return f"{n} member{'s' if n != 1 else ''}"


#: Discord's limit for an embed's description.
DESCRIPTION_MAX = 4096
_CONTINUED = "\n\n*The draft continues in the attached file.*"
#: What the closed paper's message says above the draft takes at most this many characters.
_CLOSED_NOTICE_ROOM = 300


def draft_fits(paper: Paper) -> bool:
    """Whether a typed draft, escaped for Markdown (which makes it longer), fits the paper's
    message; if not, Hearth attaches the whole draft as a file (:func:`draft_file_name`)."""
    room = DESCRIPTION_MAX - _CLOSED_NOTICE_ROOM  # the closed message says more above it
    return paper.file_name is not None or len(escape_block(paper.body or "")) <= room


def draft_file_name(paper: Paper) -> str:
    return f"paper-{paper.id}-draft.md"


def _draft(paper: Paper, room: int) -> str:
    """The typed draft in ``room`` characters: whole, or cut at a line with a pointer to the
    attached file (never silently shortened)."""
    body = escape_block(paper.body or "")
    if len(body) <= room:
        return body
    cut = body[: room - len(_CONTINUED)]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut.rstrip("\\")
    return cut + _CONTINUED


def open_embed(paper: Paper, answered: int, eligible: int) -> discord.Embed:
    """The paper as members see it while it is open: the draft, the deadline, the count."""
    if paper.file_name is not None:
        body = (
            f"The draft is the attached file **{escape_inline(paper.file_name)}**: open it, "
            "then answer with a button below."
        )
    else:
        body = _draft(paper, DESCRIPTION_MAX)
    embed = discord.Embed(
        title=f"For comment: {paper.title}"[:256], description=body, colour=COLOUR
    )
    if paper.author_id is not None:
        embed.add_field(name="Shared by", value=f"<@{paper.author_id}>", inline=True)
    embed.add_field(
        name="Comments close",
        value=(
            f"{discord_timestamp(paper.closes_at, 'F')} ({discord_timestamp(paper.closes_at, 'R')})"
        ),
        inline=True,
    )
    embed.add_field(
        name="Answers so far",
        value=f"{answered} of {_members(eligible)}"
        + " (how each answered stays sealed until the close)",
        inline=False,
    )
    embed.add_field(
        name="How to answer",
        value=(
            "Press **Agree**, **Agree with changes** or **Disagree**, add a comment if you "
            "like, and choose whether the author sees your name (anonymous unless you choose "
            "otherwise). You can change your answer until the paper closes. At the close the "
            "author receives the comments and the group sees what it says together."
        ),
        inline=False,
    )
    embed.set_footer(text=f"paper #{paper.id} · the author and facilitators can close it early")
    return embed


def closed_embed(paper: Paper) -> discord.Embed:
    """The paper's message once it has closed: the draft stays, the buttons go."""
    notice = (
        f"Comments closed {discord_timestamp(paper.closed_at or paper.closes_at, 'F')}. "
        "What the group says together is posted below; the author can read the comments "
        "again with the button."
    )
    if paper.file_name is None and paper.body:  # the draft stays whole (or in its file)
        notice += "\n\n" + _draft(paper, DESCRIPTION_MAX - len(notice) - 2)
    embed = discord.Embed(
        title=f"Closed for comment: {paper.title}"[:256], description=notice, colour=CLOSED_COLOUR
    )
    embed.set_footer(text=f"paper #{paper.id}")
    return embed


def outcome_embed(paper: Paper) -> discord.Embed:
    """The collective statement the community sees at close."""
    assert paper.tally is not None
    embed = discord.Embed(
        title=f"What the group says of \u201c{paper.title}\u201d"[:256],
        description=collective_statement(paper.tally),
        colour=COLOUR,
    )
    embed.set_footer(
        text=f"paper #{paper.id} · comments go to the author; anonymous ones without names"
    )
    return embed


def answer_saved(answer: Answer, named: bool, changed: bool, paper: Paper) -> str:
    how = "with your name" if named else "anonymously"
    verb = "Changed your answer to" if changed else "Saved your answer:"
    return (
        f"{verb} **{answer.label}**, {how}. Nobody, facilitators included, can see how you "
        "answered while the paper is open; at the close the author receives the comments"
        + (" with your name" if named else " without any name")
        + ". You can change your answer until "
        f"{discord_timestamp(paper.closes_at, 'F')}."
    )


def comments_for_author(
    paper: Paper, comments: list[Comment], names: dict[int, str]
) -> tuple[str, str | None]:
    """The author's DM: (message, Markdown file or None when the comments fit the message)."""
    assert paper.tally is not None
    head = (
        f"Your paper **{escape_inline(paper.title)}** has closed for comment. "
        f"{collective_statement(paper.tally)}"
    )
    if not comments:
        return head + "\nNobody left a comment.", None
    lines = []
    for c in comments:
        if c.user_id is not None:
            who = f"**{escape_inline(names.get(c.user_id, 'a member'))}**"
        else:
            who = "*anonymous*"
        lines.append(f"- {c.answer.label}, {who}: {escape_block(c.text)}")
    text = head + f"\n\n**Comments ({len(comments)})**\n" + "\n".join(lines)
    if len(text) <= LONG_COMMENTS:
        return text, None
    return (
        head + f"\n\nThe {len(comments)} comments are in the attached file (named ones with "
        "their writer's name, anonymous ones without).",
        comments_markdown(paper.title, comments, names),
    )


def how_to_share() -> str:
    return (
        f"Attach the draft ({file_types_text()}, up to {FILE_MAX_BYTES // (1024 * 1024)} MB) "
        f"with {mention('document comment')}, or leave `file` empty to type or paste it "
        f"(up to 4000 characters). Comments are up to {COMMENT_MAX} characters."
    )
