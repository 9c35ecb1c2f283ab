"""What people see: story posts, prompt messages, list pages, consent questions."""

from __future__ import annotations

from datetime import datetime

import discord

from bot.domain.communities import Community
from bot.domain.stories import (
    CONSENT_DESCRIPTIONS,
    NO_STAGE_LABEL,
    Consent,
    StoryRecord,
    credit_inside,
)
from bot.text import escape_inline, plain

EMBED_COLOUR = discord.Colour.from_rgb(201, 110, 58)
PAGE_SIZE = 5
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
        "Share yours with the button below (or `/story share`). Your story stays in this "
        "community unless you choose otherwise."
    )


def consent_question(story: StoryRecord, community: Community, captured_by: str) -> str:
    title = escape_inline(story.title, 100)
    return (
        f"{escape_inline(captured_by)} saved your message in **{escape_inline(community.name)}** "
        f"as story #{story.id}, "
        f"“{title}”. It is posted in the community's stories channel.\n"
        "Who may hear it beyond the community? Until you answer it stays **within the "
        "community** (group). You can change this any time with `/story consent`."
    )


def consent_answer(story_id: int, consent: Consent) -> str:
    if consent is Consent.WITHDRAWN:
        return (
            f"Story #{story_id} is withdrawn: its post and its text are deleted. Only a note "
            "that a story existed remains."
        )
    return f"Story #{story_id} is now **{consent.value}**: it {CONSENT_DESCRIPTIONS[consent]}."


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
            "No stories yet. Share one with `/story share`."
            if not stage_label
            else "No stories at this stage yet."
        )
    for story in stories:
        credit = credit_inside(story.consent, names.get(story.teller_id or 0))
        yours = " (yours)" if story.teller_id == viewer_id else ""
        text = escape_inline(story.text, _PREVIEW)
        where = f" · <#{story.post.channel_id}>" if story.post and story.post.is_thread else ""
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
