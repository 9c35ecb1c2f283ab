"""Persistent paper components and the two forms: the typed draft, and an answer's comment
with the choice of named or anonymous.

State lives in ``custom_id``: ``paper:<id>:v:<a|c|d>`` (an answer) and ``paper:<id>:close``;
logs show an answer's component as ``paper:<id> (v)`` only (:mod:`bot.log_privacy`).

An answer button opens a form: an optional comment and whether the author may see the name
(anonymous unless the member chooses otherwise). Nothing is stored until it is submitted.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.components import HearthItem, services_of
from bot.domain.papers import COMMENT_MAX, TEXT_MAX, Answer, Paper, SealedAnswer
from bot.errors_handler import HearthModal, guarded
from bot.interactions import NO_MENTIONS, actor_of
from bot.services.papers import PaperService
from cogs.documents import _papers_render as render

log = logging.getLogger(__name__)

_STYLES = {
    Answer.AGREE: discord.ButtonStyle.success,
    Answer.CHANGES: discord.ButtonStyle.primary,
    Answer.DISAGREE: discord.ButtonStyle.danger,
}


def paper_view(paper_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for answer in Answer:
        view.add_item(AnswerButton(paper_id, answer.code))
    view.add_item(ClosePaper(paper_id))
    return view


def closed_view(paper_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AuthorComments(paper_id))
    return view


async def display_names(client: Any, paper: Paper, user_ids: set[int]) -> dict[int, str]:
    """Display names of named commenters (only they are ever looked up)."""
    community = await client.communities.get(paper.community_id)
    guild = client.get_guild(community.guild_id) if community is not None else None
    names: dict[int, str] = {}
    for uid in user_ids:
        member = guild.get_member(uid) if guild is not None else None
        if member is not None:
            names[uid] = member.display_name
            continue
        try:
            user = client.get_user(uid) or await client.fetch_user(uid)
            names[uid] = user.display_name
        except discord.HTTPException:
            names[uid] = "a member"
    return names


#: One count update at a time per paper: two answers at once must not leave the older
#: count on the message (a lock per paper answered since start: a few bytes each).
_count_locks: dict[int, asyncio.Lock] = {}


async def refresh_count(client: Any, service: PaperService, paper: Paper) -> None:
    """Show the new number of answers on the paper's message (never how anyone answered)."""
    if paper.channel_id is None or paper.message_id is None:
        return
    lock = _count_locks.setdefault(paper.id, asyncio.Lock())
    async with lock:
        embed = render.open_embed(
            paper, await service.answered(paper.id), await service.eligible(paper)
        )
        try:
            channel = client.get_partial_messageable(paper.channel_id)
            await channel.get_partial_message(paper.message_id).edit(embed=embed)
        except discord.HTTPException as exc:
            log.warning("paper %s: could not update its count: %s", paper.id, exc.status)


class AnswerButton(
    HearthItem[PaperService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"paper:(?P<paper_id>[0-9]+):v:(?P<code>[acd])",
):
    service_type = PaperService

    def __init__(self, paper_id: int, code: str) -> None:
        answer = Answer.from_code(code)
        super().__init__(
            discord.ui.Button(
                label=answer.label, style=_STYLES[answer], custom_id=f"paper:{paper_id}:v:{code}"
            )
        )
        self.paper_id, self.answer = paper_id, answer

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        await self.service.paper_for_answer(self.paper_id, interaction.user.id)
        previous = await self.service.my_answer(self.paper_id, interaction.user.id)
        await interaction.response.send_modal(AnswerModal(self.paper_id, self.answer, previous))


class ClosePaper(
    HearthItem[PaperService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"paper:(?P<paper_id>[0-9]+):close",
):
    service_type = PaperService

    def __init__(self, paper_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Close now (author or facilitator)",
                style=discord.ButtonStyle.secondary,
                custom_id=f"paper:{paper_id}:close",
            )
        )
        self.paper_id = paper_id

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        actor = actor_of(interaction)
        await self.service.require_closer(self.paper_id, actor)  # before anything is shown
        await interaction.response.defer(ephemeral=True, thinking=True)
        closed = await self.service.close(self.paper_id, actor)
        text = (
            f"Closed paper #{self.paper_id}: the author has the comments, and what the group "
            "says is posted below the paper."
            if closed is not None
            else f"Paper #{self.paper_id} was already closed."
        )
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


class AuthorComments(
    HearthItem[PaperService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"paper:(?P<paper_id>[0-9]+):comments",
):
    """On a closed paper: its author reads the comments again (the DM may have been lost)."""

    service_type = PaperService

    def __init__(self, paper_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Comments (the author only)",
                style=discord.ButtonStyle.secondary,
                custom_id=f"paper:{paper_id}:comments",
            )
        )
        self.paper_id = paper_id

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        paper, comments = await self.service.comments_for_author(self.paper_id, interaction.user.id)
        names = await display_names(
            interaction.client, paper, {c.user_id for c in comments if c.user_id}
        )
        text, markdown = render.comments_for_author(paper, comments, names)
        extra: dict[str, Any] = {}
        if markdown is not None:
            extra["file"] = discord.File(
                io.BytesIO(markdown.encode()), filename=f"paper-{paper.id}-comments.md"
            )
        await interaction.response.send_message(
            text[:2000], ephemeral=True, allowed_mentions=NO_MENTIONS, **extra
        )


class AnswerModal(HearthModal):
    """An optional comment, and named or anonymous (anonymous unless chosen otherwise)."""

    def __init__(self, paper_id: int, answer: Answer, previous: SealedAnswer | None) -> None:
        super().__init__(title=f"{answer.label} (paper #{paper_id})"[:45], timeout=15 * 60)
        self.paper_id, self.answer = paper_id, answer
        self.comment: discord.ui.TextInput[AnswerModal] = discord.ui.TextInput(
            label="Comment for the author (optional)",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=COMMENT_MAX,
            default=(previous.comment if previous is not None else None) or None,
            custom_id="comment",
        )
        named = previous is not None and previous.named
        self.credit: discord.ui.Select[AnswerModal] = discord.ui.Select(
            custom_id="credit",
            options=[
                discord.SelectOption(
                    label="Anonymous: the author sees my comment without my name",
                    value="anonymous", default=not named,
                ),
                discord.SelectOption(
                    label="Named: the author sees my name with my comment",
                    value="named", default=named,
                ),
            ],
            min_values=1,
            max_values=1,
        )  # fmt: skip
        self.add_item(self.comment)
        self.add_item(discord.ui.Label(text="Show the author your name?", component=self.credit))

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        service = services_of(interaction).get(PaperService)
        named = "named" in (self.credit.values or [])
        saved = await service.answer(
            self.paper_id, interaction.user.id, self.answer, self.comment.value, named
        )
        paper = await service.get(self.paper_id)
        if not saved.changed:  # one more answer: the count on the paper (a quick edit)
            await refresh_count(interaction.client, service, paper)
        await interaction.response.send_message(
            render.answer_saved(self.answer, named, saved.changed, paper),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class PaperTextModal(HearthModal):
    """The draft typed or pasted, when no file is attached."""

    def __init__(
        self,
        title: str,
        on_text: Callable[[discord.Interaction[Any], str], Awaitable[None]],
    ) -> None:
        super().__init__(title="Paper for comment", timeout=30 * 60)
        self._on_text = on_text
        self.text: discord.ui.TextInput[PaperTextModal] = discord.ui.TextInput(
            label=f"The draft: {title}"[:45],
            style=discord.TextStyle.paragraph,
            max_length=TEXT_MAX,
            custom_id="text",
            placeholder="Type or paste the draft; for a longer one attach a file instead.",
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self._on_text(interaction, self.text.value)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    AnswerButton,
    ClosePaper,
    AuthorComments,
)
