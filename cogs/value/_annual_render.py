"""The annual report's wording on Discord: the invitation, the reminder, the replies, the
report's embed. The report's own words are :mod:`bot.domain.value.annual_render`'s."""

from __future__ import annotations

import io
from datetime import datetime

import discord

from bot.domain.stories import Consent
from bot.domain.timeparse import discord_timestamp
from bot.domain.value.annual import QUESTIONS, AnnualAnswer, AnnualSummary, says_something
from bot.domain.value.annual_render import filename, question_line, summary, title
from bot.interactions import mention
from bot.text import escape_inline, plain

COLOUR = discord.Colour.from_rgb(120, 90, 160)

QUOTE_LABELS: dict[Consent, str] = {
    Consent.GROUP: "Do not quote me",
    Consent.ANONYMOUS: "Quote me without my name",
    Consent.NAMED: "Quote me with my name",
}
QUOTE_MEANING: dict[Consent, str] = {
    Consent.GROUP: "your words are counted in the report but never quoted",
    Consent.ANONYMOUS: "your words may be quoted in the report for the sponsor, without your name",
    Consent.NAMED: "your words may be quoted in the report for the sponsor, with your name",
}


def _questions() -> str:
    return "\n".join(f"• {q.label}" for q in QUESTIONS)


def invitation_embed(community: str, year: int, closes_at: datetime) -> discord.Embed:
    """The DM each member gets (and, in substance, the lounge post)."""
    return discord.Embed(
        title=plain(f"{community}: your annual report for {year}", 256),
        description=(
            f"Once a year the organisation asks every member of **{escape_inline(community)}** "
            "what taking part has meant in practice. Press the button to answer a short form:\n"
            f"{_questions()}\n\n"
            "Write a list one item per line; leave out what does not apply. Your words are "
            "**not quoted** unless you say so after answering; they are counted either way. "
            f"You can change your answer until {discord_timestamp(closes_at, 'F')} "
            f"({discord_timestamp(closes_at, 'R')})."
        ),
        colour=COLOUR,
    )


def lounge_embed(community: str, year: int, closes_at: datetime) -> discord.Embed:
    embed = invitation_embed(community, year, closes_at)
    embed.set_footer(text="Everyone was also sent this by direct message, where DMs are open.")
    return embed


def reminder_text(community: str, year: int, closes_at: datetime) -> str:
    return (
        f"A reminder from **{escape_inline(community)}**: the annual report for {year} closes "
        f"{discord_timestamp(closes_at, 'R')} and you have not answered yet. It takes a few "
        "minutes; press the button below."
    )[:2000]


def saved_text(
    community: str, year: int, answer: AnnualAnswer, closes_at: datetime, *, updated: bool
) -> str:
    answered = [q.label for q in QUESTIONS if says_something(answer.text(q.key))]
    head = "Updated" if updated else "Saved"
    return (
        f"{head} your answer to **{escape_inline(community)}**'s annual report for {year} "
        f"({len(answered)} of {len(QUESTIONS)} questions answered). To change it, press the "
        f"button again before {discord_timestamp(closes_at, 'F')}.\n"
        f"**May your words be quoted?** Now: {QUOTE_MEANING[answer.consent]}. Choose below; "
        "you can change this until the report closes."
    )[:2000]


def consent_text(consent: Consent) -> str:
    return f"Noted: {QUOTE_MEANING[consent]}. You can change this until the report closes."


def opened_reply(
    community: str,
    year: int,
    closes_at: datetime,
    invited: int,
    unreachable: int,
    lounge_id: int | None,
    remind_at: datetime | None,
    *,
    pending: int = 0,
) -> str:
    reached = invited - unreachable - pending
    parts = [
        f"Opened **{escape_inline(community)}**'s annual report for {year}; it closes "
        f"{discord_timestamp(closes_at, 'F')}. {reached} of {invited} "
        f"member{'s' if invited != 1 else ''} got it by direct message."
    ]
    if unreachable:
        parts.append(
            f"{unreachable} could not be reached (their direct messages are closed); "
            "they can answer from the post in the lounge."
        )
    if pending:
        parts.append(
            f"{pending} could not be reached for now because Discord failed; I will try "
            "again and tell you how it went."
        )
    parts.append(
        f"The post with the answer button is in <#{lounge_id}>."
        if lounge_id
        else "I could not post in the lounge, so members whose DMs are closed cannot answer."
    )
    if remind_at is not None:
        parts.append(
            f"Members who have not answered are reminded {discord_timestamp(remind_at, 'F')}."
        )
    parts.append(
        "When it closes, you and the sponsor get the report: counts, themes, and only the "
        "words members agreed to have quoted."
    )
    return " ".join(parts)[:2000]


def report_embed(s: AnnualSummary) -> discord.Embed:
    embed = discord.Embed(
        title=plain(title(s), 256), description="\n".join(summary(s))[:4000], colour=COLOUR
    )
    embed.add_field(
        name="What members reported",
        value="\n".join(question_line(q) for q in s.questions)[:1024],
        inline=False,
    )
    themes = "\n".join(f"{t.label}: {t.members}" for t in s.themes[:10]) or "none mentioned"
    embed.add_field(name="Themes (members)", value=themes[:1024], inline=False)
    embed.set_footer(
        text=(
            "The full report, with the quotes members agreed to, is attached as Markdown and "
            "HTML (open the .html file in a browser to print it)."
        )
    )
    return embed


def facilitator_note(community: str, year: int, sponsor: str) -> str:
    return (
        f"**{escape_inline(community)}**'s annual report for {year} has closed. "
        f"{sponsor} This is exactly what the sponsor gets."
    )[:2000]


def closed_embed(community: str, year: int, closed_at: datetime) -> discord.Embed:
    return discord.Embed(
        title=plain(f"{community}: the annual report for {year} is closed", 256),
        description=(
            f"Answers closed {discord_timestamp(closed_at, 'F')}. Thank you to everyone who "
            "answered; the facilitators and the sponsor have the report. Facilitators can "
            "read it again with the button below (only they see it)."
        ),
        colour=COLOUR,
    )


def report_files(s: AnnualSummary, slug: str, markdown: str, html: str) -> list[discord.File]:
    """The full report as Markdown and as a printable HTML page (fresh objects per send: a
    ``discord.File`` can be read only once)."""
    return [
        discord.File(io.BytesIO(markdown.encode("utf-8")), filename=filename(s, slug, "md")),
        discord.File(io.BytesIO(html.encode("utf-8")), filename=filename(s, slug, "html")),
    ]


def no_sponsor_text() -> str:
    return (
        "The community has no sponsor, so nobody else got it; set one with "
        f"{mention('community sponsor')}."
    )
