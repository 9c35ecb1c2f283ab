"""What people see: story posts, prompt messages, list pages, consent questions."""

from __future__ import annotations

from datetime import datetime

import discord

from bot.domain.communities import Community
from bot.domain.stories import (
    CONSENT_DESCRIPTIONS,
    NO_STAGE_LABEL,
    Consent,
    StoryPost,
    StoryRecord,
    credit_inside,
)
from bot.interactions import mention
from bot.services.stories import PAGE_SIZE, Change, ConsentOutcome
from bot.text import escape_inline, plain

EMBED_COLOUR = discord.Colour.from_rgb(201, 110, 58)
_PREVIEW = 180


def ts(when: datetime, style: str = "D") -> str:
    return f"<t:{int(when.timestamp())}:{style}>"


def story_post(story: StoryRecord, teller_name: str | None) -> tuple[str, discord.Embed]:
    """The bot's post of a story inside the community: credit line and the story itself
    (an embed, because a story may be 4000 characters and a message only 2000)."""
    credit = credit_inside(story.consent, teller_name)
    stage = story.stage_label or NO_STAGE_LABEL
    content = f"Story #{story.id} · shared by {escape_inline(credit)} · {escape_inline(stage)}"
    embed = discord.Embed(
        title=plain(story.title, 256), description=story.text or "", colour=EMBED_COLOUR
    )
    embed.set_footer(
        text=plain(f"Shared by {credit}. Only the teller can change who may see it.", 2048)
    )
    return content, embed


def prompt_message(text: str) -> str:
    return (
        "**Story prompt**\n"
        f"> {text}\n"
        f"Share yours with the button below (or {mention('story share')}). Your story stays "
        "in this "
        "community unless you choose otherwise."
    )


def consent_question(story: StoryRecord, community: Community, captured_by: str) -> str:
    title = escape_inline(story.title, 100)
    return (
        f"{escape_inline(captured_by)} saved your message in **{escape_inline(community.name)}** "
        f"as story #{story.id}, "
        f"“{title}”. It is posted in the community's stories channel.\n"
        "Who may hear it beyond the community? Until you answer it stays **within the "
        f"community** (group). You can change this any time with {mention('story consent')}."
    )


def _where_told(kind: str, place: str) -> str:
    return f"the circle {place}" if kind == "circle" else f"the private thread {place}"


def audience_question(
    story: StoryRecord, community: Community, captured_by: str, kind: str, place: str
) -> str:
    """A facilitator saved the teller's message from a circle: ask about both who in the
    community may read it and who beyond it may hear it."""
    title = escape_inline(story.title, 100)
    return (
        f"{escape_inline(captured_by)} saved your message in **{escape_inline(community.name)}** "
        f"as story #{story.id}, “{title}”. You wrote it in {_where_told(kind, place)}, so it is "
        "**not posted** anywhere: only people who can read that "
        f"{'circle' if kind == 'circle' else 'thread'} can see it in {mention('story list')}.\n"
        "May it be shared with **the whole community** (posted in its stories channel, where "
        "every member can read it), and may it go beyond the community? Until you choose, it "
        "stays where you wrote it and nothing of it leaves. You can change this any time with "
        f"{mention('story consent')}."
    )


def audience_confirm(story: StoryRecord, kind: str, place: str, stories_id: int | None) -> str:
    """The author saved their own message from a circle: confirm the wider audience first."""
    where = f"<#{stories_id}>" if stories_id else "the community's stories channel"
    return (
        f"Saved as story #{story.id}, “{escape_inline(story.title, 100)}”, but **not posted "
        f"yet**: you wrote it in {_where_told(kind, place)}. Posting it puts it in {where}, "
        "where **the whole community** can read it, not only the people in that "
        f"{'circle' if kind == 'circle' else 'thread'}.\n"
        "Share it with the whole community? Until you choose, only people who can read the "
        f"{'circle' if kind == 'circle' else 'thread'} see it in {mention('story list')}, and "
        "nothing of "
        "it leaves the community."
    )


def widened(story_id: int, post: StoryPost, consent: Consent) -> str:
    return (
        f"Story #{story_id} is now posted in <#{post.channel_id}> for the whole community. "
        f"Consent: **{consent.value}** (it {CONSENT_DESCRIPTIONS[consent]}). Change it any "
        f"time with {mention('story consent')} (story {story_id})."
    )


def kept_restricted(story_id: int, place: str) -> str:
    return (
        f"Story #{story_id} stays in {place}: only people who can read it see it in "
        f"{mention('story list')}; it is not posted for the whole community and nothing of it "
        f"leaves. To share it more widely later, use {mention('story consent')} "
        f"(story {story_id})."
    )


def consent_answer_restricted(story_id: int, consent: Consent, place: str) -> str:
    return (
        f"Story #{story_id} is now **{consent.value}**, but it is still visible only in "
        f"{place}: it is not posted for the whole community, and nothing of it leaves the "
        "community while that is so."
    )


def consent_answer(story_id: int, consent: Consent) -> str:
    if consent is Consent.WITHDRAWN:
        return (
            f"Story #{story_id} is withdrawn: its post and its text are deleted. Only a note "
            "that a story existed remains."
        )
    return f"Story #{story_id} is now **{consent.value}**: it {CONSENT_DESCRIPTIONS[consent]}."


WITHDRAWN_POST_LEFT = (
    " Discord would not let me delete its post; please ask a facilitator to delete it."
)


def consent_outcome(outcome: ConsentOutcome) -> str:
    """What the teller is told after choosing (a button, or ``/story consent``)."""
    if outcome.change is Change.WIDENED:
        assert outcome.post is not None
        return widened(outcome.story_id, outcome.post, outcome.level)
    if outcome.change is Change.KEPT:
        assert outcome.place is not None
        return kept_restricted(outcome.story_id, outcome.place.mention)
    if outcome.change is Change.RESTRICTED:
        assert outcome.place is not None
        return consent_answer_restricted(outcome.story_id, outcome.level, outcome.place.mention)
    note = consent_answer(outcome.story_id, outcome.level)
    if outcome.change is Change.WITHDRAWN and outcome.post_left:
        note += WITHDRAWN_POST_LEFT
    return note


def list_page(
    community: Community,
    stories: list[StoryRecord],
    names: dict[int, str | None],
    *,
    page: int,
    total: int,
    viewer_id: int,
    stage_label: str | None,
) -> discord.Embed:
    pages = max(1, -(-total // PAGE_SIZE))
    heading = f"Stories in {community.name}"
    if stage_label:
        heading += f" · {stage_label}"
    embed = discord.Embed(title=plain(heading, 256), colour=EMBED_COLOUR)
    if not stories:
        embed.description = (
            f"No stories yet. Share one with {mention('story share')}."
            if not stage_label
            else "No stories at this stage yet."
        )
    for story in stories:
        credit = credit_inside(story.consent, names.get(story.teller_id or 0))
        yours = " (yours)" if story.teller_id == viewer_id else ""
        text = escape_inline(story.text, _PREVIEW)
        where = f" · <#{story.post.channel_id}>" if story.post and story.post.is_thread else ""
        if story.audience_channel_id is not None:
            where = f" · only in <#{story.audience_channel_id}>"
        embed.add_field(
            name=plain(f"#{story.id} {story.title or ''}", 256),
            value=(
                f"{escape_inline(story.stage_label or NO_STAGE_LABEL)} · "
                f"by {escape_inline(credit)}{yours} · "
                f"{story.consent.value} · {ts(story.created_at)}{where}\n{text}"
            )[:1024],
            inline=False,
        )
    noun = "story" if total == 1 else "stories"
    embed.set_footer(text=f"Page {page + 1} of {pages} · {total} {noun}")
    return embed
