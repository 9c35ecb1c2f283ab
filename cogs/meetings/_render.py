"""What people see: announcement embeds, reminder and cancellation texts, lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord

from bot.domain.communities import Community
from bot.domain.meeting_reminders import starts_in_words
from bot.domain.meetings import RSVP, AttendancePage, Meeting
from bot.domain.timeparse import discord_timestamp, format_duration
from bot.interactions import mention
from bot.text import escape_inline, plain

GOING_COLOUR = discord.Colour.teal()
CANCELLED_COLOUR = discord.Colour.dark_grey()


def where(meeting: Meeting) -> str:
    if meeting.channel_id is not None:
        return f"<#{meeting.channel_id}>"
    return escape_inline(meeting.location)


def event_name(meeting: Meeting) -> str:
    """The scheduled event's name: Discord shows it literally, 1-100 characters."""
    return plain(meeting.title, 100, empty="Meeting")


def counts_line(counts: dict[RSVP, int]) -> str:
    return " · ".join(f"{answer.label}: **{counts[answer]}**" for answer in RSVP)


def local_time(meeting: Meeting) -> str:
    local = meeting.start_utc.astimezone(meeting.tz)
    # No inner brackets: callers often put this inside brackets of their own.
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()}, {meeting.timezone}"


def announcement_embed(
    meeting: Meeting, community: Community, counts: dict[RSVP, int]
) -> discord.Embed:
    """The meetings-channel card; RSVP counts live in a field so each click can refresh it."""
    cancelled = meeting.cancelled
    prefix = "Cancelled: " if cancelled else ""
    embed = discord.Embed(
        title=prefix + plain(meeting.title, 256 - len(prefix), empty="Meeting"),
        colour=CANCELLED_COLOUR if cancelled else GOING_COLOUR,
    )
    lines = [
        f"**When:** {discord_timestamp(meeting.start_utc, 'F')} "
        f"({discord_timestamp(meeting.start_utc, 'R')})",
        f"**Local time:** {local_time(meeting)}",
        f"**Length:** {format_duration(meeting.end_utc - meeting.start_utc)}",
        f"**Where:** {where(meeting)}",
    ]
    if meeting.region:
        lines.append(f"**Regional meeting:** members in {escape_inline(meeting.region)}")
    lines.append(f"**Community:** {escape_inline(community.name)}")
    if cancelled:
        lines.insert(0, "This meeting has been **cancelled**.")
    embed.description = "\n".join(lines)[:4096]
    embed.add_field(name="RSVPs", value=counts_line(counts), inline=False)
    footer = "The attached .ics file adds it to your calendar."
    if not cancelled:
        footer = "Say whether you can come with the buttons below. " + footer
    embed.set_footer(text=f"{footer} Meeting #{meeting.id}")
    return embed


def reminder_text(
    meeting: Meeting, community: Community, now: datetime, link: str | None
) -> str:
    """Worded from the real time left when it is sent (a late catch-up says "in 20 hours",
    not the notice it was meant to give)."""
    text = (
        f"Reminder: **{escape_inline(meeting.title)}** ({escape_inline(community.name)}) starts "
        f"{starts_in_words(meeting.start_utc, now, meeting.tz)} "
        f"(your time: {discord_timestamp(meeting.start_utc, 'F')}).\nWhere: {where(meeting)}"
    )
    if link:
        text += f"\nSay whether you can come: {link}"
    return text[:2000]


def fallback_text(meeting: Meeting, mentions: Sequence[int]) -> str:
    people = " ".join(f"<@{uid}>" for uid in mentions)
    return (
        f"{people} reminder: **{escape_inline(meeting.title)}** starts "
        f"{discord_timestamp(meeting.start_utc, 'F')} "
        f"({discord_timestamp(meeting.start_utc, 'R')}). "
        "(I could not send you a direct message.)"
    )


def cancel_text(meeting: Meeting, community: Community) -> str:
    return (
        f"**{escape_inline(meeting.title)}** ({escape_inline(community.name)}), planned for "
        f"{discord_timestamp(meeting.start_utc, 'F')}, has been cancelled. "
        "Sorry for the change of plans. If you added it to your calendar, open the "
        "attached file to remove it."
    )[:2000]


def who_is_coming_text(meeting: Meeting, people: dict[RSVP, list[int]]) -> str:
    """Names per answer (mentions render as names and, sent without allowed mentions, ping
    nobody), cut to Discord's 2000 characters with a count of who is left out."""
    lines = [f"Answers for **{escape_inline(meeting.title)}** (only you can see this):"]
    for answer in RSVP:
        ids = people.get(answer, [])
        names = " ".join(f"<@{u}>" for u in ids) if ids else "nobody yet"
        lines.append(f"**{answer.label}** ({len(ids)}): {names}")
    text = "\n".join(lines)
    if len(text) > 2000:
        text = text[:1900].rsplit(" ", 1)[0] + "\n… and more (the list is too long to show whole)."
    return text


def notes_prompt_text(meeting: Meeting, community: Community) -> str:
    return (
        f"**{escape_inline(meeting.title)}** ({escape_inline(community.name)}) has finished. "
        "When you are ready, record what "
        f"was discussed and who came with {mention('meeting notes')} (pick "
        f"“{escape_inline(meeting.title, 60)}”). "
        "The notes feed the sponsor's digest."
    )


def list_embed(
    community: Community, rows: Sequence[tuple[Meeting, dict[RSVP, int]]], now: datetime
) -> discord.Embed:
    embed = discord.Embed(
        title=plain(f"Upcoming meetings: {community.name}", 256), colour=GOING_COLOUR
    )
    if not rows:
        embed.description = (
            f"No meetings are planned. A facilitator can add one with "
            f"{mention('meeting schedule')}."
        )
        return embed
    for meeting, counts in rows[:25]:
        started = " (happening now)" if meeting.start_utc <= now else ""
        value = (
            f"{discord_timestamp(meeting.start_utc, 'F')}{started}\n{where(meeting)}"
            + (f" · region {escape_inline(meeting.region)}" if meeting.region else "")
            + f"\n{counts_line(counts)}"
        )
        embed.add_field(name=plain(meeting.title, 256, empty="Meeting"), value=value[:1024],
                        inline=False)
    if len(rows) > 25:
        embed.set_footer(text=f"and {len(rows) - 25} more")
    return embed


_RSVP_REPLIES = {
    RSVP.GOING: "See you there.",
    RSVP.MAYBE: "Noted as maybe; you will still get the reminders.",
    RSVP.CANT: "Noted that you can't come; you won't get reminders for it.",
}


def rsvp_reply(meeting: Meeting, answer: RSVP) -> str:
    return (
        f"**{escape_inline(meeting.title)}**: you answered *{answer.label}*. "
        f"{_RSVP_REPLIES[answer]}"
    )


def notes_saved_text(
    meeting: Meeting, length: int, going: int, pages: Sequence[AttendancePage]
) -> str:
    text = (
        f"Saved the notes for **{escape_inline(meeting.title)}** ({length} characters). "
        f"{going} said they were going. Now mark who was present (you can pick again to "
        "correct it):"
    )
    if len(pages) > 1:
        people = sum(len(page.people) for page in pages)
        text += (
            f"\nThe {people} people are split into {len(pages)} lists of up to 25. Each list "
            "shows who is marked present among its people: untick someone to remove them, "
            "pick anyone to add them."
        )
    return text
