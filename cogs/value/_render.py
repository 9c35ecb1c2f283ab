"""What people see of value stories: the post, the preview, replies, the invitations."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import datetime

import discord

from bot.domain.stories.capture import credit_inside
from bot.domain.stories.consent import Consent
from bot.domain.timeparse import discord_timestamp
from bot.domain.value.invitations import Invitation, InvitationCadence, InvitationTiming
from bot.domain.value.stories import QUESTIONS, RedactionPreview, ValueStoryRecord, ValueStoryText
from bot.interactions import mention
from bot.text import escape_inline, plain

COLOUR = discord.Colour.from_rgb(74, 140, 110)
PREVIEW_COLOUR = discord.Colour.light_grey()

#: Who may hear it, in the words a teller sees, and how far that lets it travel.
CONSENT_CHOICES: list[tuple[Consent, str, str]] = [
    (Consent.GROUP, "Keep it in the group", "Only members of this community see it."),
    (
        Consent.ANONYMOUS,
        "Share beyond the group without my name",
        "The charity may use it outside the group, with no name on it.",
    ),
    (
        Consent.NAMED,
        "Share with my name",
        "The charity may use it outside the group, with your display name.",
    ),
]
CONSENT_WORDS: Mapping[Consent, str] = {c: label for c, label, _ in CONSENT_CHOICES}
HOW_FAR: Mapping[Consent, str] = {
    Consent.GROUP: "it stays inside the community: only its members can read it",
    Consent.ANONYMOUS: "it may travel beyond the community (for example into the sponsor's "
    "report), without your name and with personal details such as phone numbers hidden",
    Consent.NAMED: "it may travel beyond the community (for example into the sponsor's "
    "report) with your display name, with personal details such as phone numbers hidden",
    Consent.WITHDRAWN: "it is removed; only a note that it existed remains",
}

_KIND_WORDS: Mapping[str, tuple[str, str]] = {
    "email": ("an e-mail address", "e-mail addresses"),
    "phone": ("a phone number", "phone numbers"),
    "nhs_number": ("an NHS number", "NHS numbers"),
    "date": ("a date", "dates"),
    "postcode": ("a postcode", "postcodes"),
    "discord": ("a Discord mention or link", "Discord mentions or links"),
}


def _embed_fields(embed: discord.Embed, text: ValueStoryText) -> None:
    for q in QUESTIONS:
        answer = text.texts.get(q.cycle)
        if answer:
            embed.add_field(name=q.heading, value=answer[:1024], inline=False)


# ---------------------------------------------------------------------- the post


def story_post(story: ValueStoryRecord, teller_name: str | None) -> tuple[str, discord.Embed]:
    """The post inside the community: credit per consent (anonymous: no name, even here)."""
    credit = credit_inside(story.consent, teller_name)
    content = f"Value story #{story.id} · told by {escape_inline(credit)}"
    embed = discord.Embed(
        title="What taking part has been worth",
        colour=COLOUR,
    )
    if story.text is not None:
        _embed_fields(embed, story.text)
    embed.set_footer(
        text=plain(f"Told by {credit}. Only the teller can change who may hear it.", 2048)
    )
    return content, embed


def thread_name(story: ValueStoryRecord) -> str:
    return plain(f"Value story: {story.summary(80)}", 100, empty=f"Value story #{story.id}")


# ---------------------------------------------------------------------- the preview


def redaction_note(preview: RedactionPreview, consent: Consent) -> str:
    if preview.total == 0:
        return (
            "If it ever leaves the community, nothing in it would need hiding: I found no "
            "phone numbers, e-mail addresses, NHS numbers, dates or postcodes."
        )
    parts = []
    for kind, n in preview.counts.items():
        one, many = _KIND_WORDS.get(kind, (kind, kind))
        parts.append(one if n == 1 else f"{n} {many}")
    listed = ", ".join(parts)
    when = (
        "If you later let it leave the community"
        if not consent.may_leave_community
        else "When it leaves the community"
    )
    return (
        f"{when}, I will hide {listed} (shown as [redacted]). Inside the community it "
        "reads as you wrote it."
    )


def preview_message(
    community_name: str,
    text: ValueStoryText,
    consent: Consent,
    jargon: str,
    preview: RedactionPreview,
) -> tuple[str, discord.Embed]:
    lines = [
        "**Your value story is not saved yet.** Check how it reads and who may hear it, then "
        "press **Submit**."
    ]
    if jargon:
        lines += ["", jargon]
    embed = discord.Embed(title="What taking part has been worth", colour=PREVIEW_COLOUR)
    _embed_fields(embed, text)
    embed.add_field(
        name="Who may hear it",
        value=f"{CONSENT_WORDS[consent]}: {HOW_FAR[consent]}.",
        inline=False,
    )
    embed.add_field(
        name="Outside the community", value=redaction_note(preview, consent)[:1024], inline=False
    )
    embed.set_footer(text=plain(f"Draft for {community_name} · not saved", 2048))
    return "\n".join(lines)[:2000], embed


def submitted(story: ValueStoryRecord) -> str:
    where = f" and posted in <#{story.post.channel_id}>" if story.post else ""
    return (
        f"Thank you. Your value story is saved as #{story.id}{where}.\n"
        f"How far it may travel: **{CONSENT_WORDS.get(story.consent, story.consent.value)}**"
        f" ({HOW_FAR[story.consent]}). You can change this, or withdraw the story, any time "
        f"with {mention('value consent')} (story {story.id})."
    )


def expired() -> str:
    return (
        "This draft expired after 14 minutes without a click, and nothing was saved. Start "
        f"again with {mention('value story')}."
    )


# ---------------------------------------------------------------------- consent


def consent_changed(story_id: int, level: Consent, post_left: bool) -> str:
    if level is Consent.WITHDRAWN:
        text = (
            f"Value story #{story_id} is withdrawn: its words are deleted and only a note "
            "that it existed remains."
        )
        if post_left:
            text += (
                " I could not delete its post in the stories channel; please ask a "
                "facilitator to remove it."
            )
        else:
            text += " Its post is removed."
        return text
    return f"Value story #{story_id} is now **{CONSENT_WORDS[level]}**: {HOW_FAR[level]}."


def unchanged(story_id: int, level: Consent) -> str:
    return f"Value story #{story_id} is already **{CONSENT_WORDS[level]}**; nothing changed."


def autocomplete_name(story: ValueStoryRecord) -> str:
    return plain(f"#{story.id} {story.summary(70)} ({story.consent.value})", 100)


# ---------------------------------------------------------------------- invitations


def invitation_message(community_name: str) -> str:
    return (
        f"**What has {escape_inline(community_name)} been worth to you?**\n"
        "Tell a short *value story*: what you took part in, what you got from it (an idea, a "
        "contact, a document, more confidence), and, if you like, what you did with it and "
        "what difference it made. It takes a few minutes; only the first two questions are "
        "needed. Your story stays in this community unless you choose otherwise.\n"
        f"Press the button below (or use {mention('value story')} any time)."
    )


def invitation_closed(current_url: str | None) -> str:
    newer = f" The current one is here: {current_url}" if current_url else ""
    return (
        "~~Value story invitation~~: **closed**, a newer invitation replaced it."
        f"{newer} You can always tell a value story with {mention('value story')}."
    )


def invitations_stopped() -> str:
    return (
        "~~Value story invitation~~: **closed**, invitations are paused. You can still tell "
        f"a value story any time with {mention('value story')}."
    )


def old_invitation(current_url: str | None) -> str:
    if current_url:
        return (
            "Thank you for wanting to tell a value story. This invitation is closed; please "
            f"use the current one: {current_url} (or {mention('value story')})."
        )
    return (
        "Thank you for wanting to tell a value story. This invitation is closed, but you can "
        f"tell one any time with {mention('value story')}."
    )


def jump_url(guild_id: int, invitation: Invitation) -> str | None:
    if invitation.channel_id is None or invitation.message_id is None:
        return None
    return (
        f"https://discord.com/channels/{guild_id}/{invitation.channel_id}/{invitation.message_id}"
    )


def cadence_set(
    community_name: str,
    cadence: InvitationCadence,
    timezone: str,
    following: datetime | None,
    closed: int,
    timing: InvitationTiming,
) -> str:
    name = escape_inline(community_name)
    when = f"the first {calendar.day_name[timing.weekday]} at {timing.at:%H:%M}"
    how_often = (
        f"every month, on {when}"
        if cadence is InvitationCadence.MONTHLY
        else f"every quarter (January, April, July, October), on {when}"
    )
    if cadence is InvitationCadence.OFF or following is None:
        text = f"Value story invitations in **{name}** are off."
        if closed:
            text += " The open invitation in the lounge is closed."
        return text + f" Members can still tell one any time with {mention('value story')}."
    return (
        f"Value story invitations in **{name}**: {how_often} "
        f"({escape_inline(timezone)}), in the lounge, with a button that opens the form. "
        "Posting one closes the previous one, so only one is open at a time.\n"
        f"The next invitation will be posted {discord_timestamp(following, 'F')} "
        f"({discord_timestamp(following, 'R')})."
    )
