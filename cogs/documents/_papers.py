"""`/document comment`: a paper for the group's comment, and its close.

The ``/document`` cog (``_cog.py``) declares the command and hands it here (:class:`Papers`,
made by :func:`setup_papers`). Rules and storage are :class:`bot.services.papers.PaperService`'s;
this module posts the paper, and announces the close exactly once: the author's DM with the
comments and the community's collective statement go through :class:`bot.delivery.Deliveries`
(one run per paper), and a paper found closed but not announced after a restart is announced
then, without repeating anything that already went out.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import discord

from bot.delivery import Deliveries, Destination, RunState
from bot.domain.communities import Community
from bot.domain.papers import Paper, validate_file
from bot.domain.timeparse import discord_timestamp, parse_future
from bot.errors import InvalidInput
from bot.interactions import NO_MENTIONS, member_community
from bot.services.papers import PaperService
from bot.services.products import ProductService
from bot.text import escape_inline
from cogs.documents import _papers_render as render
from cogs.documents._papers_views import (
    DYNAMIC_ITEMS,
    PaperTextModal,
    closed_view,
    display_names,
    paper_view,
)

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)


#: An announcement Discord refused is retried after 15 minutes, then 30, 60... (8 times).
RETRY_AFTER = timedelta(minutes=15)
MAX_RETRIES = 8


def close_run(paper_id: int) -> str:
    return f"paper:{paper_id}:close"


class Papers:
    """Papers for comment: the ``/document comment`` part of the ``/document`` cog."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.service = PaperService(
            bot.db, bot.communities, bot.clock, bot.scheduler,
            products=lambda: bot.services.implementing(ProductService),
        )  # fmt: skip
        self.service.lifecycle.hooks = self
        self.deliveries = Deliveries(bot)
        self._retries: dict[int, int] = {}

    async def load(self) -> None:
        self.bot.services.register(self.service)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        await self.service.arm_all()
        now = self.bot.clock.now()
        for paper in await self.service.unannounced():  # resumed as jobs: load stays quick
            self.bot.scheduler.schedule(
                f"papers:announce:{paper.id}", now, partial(self._retry, paper.id),
                guild_id=self.bot.communities.guild_of(paper.community_id),
            )

    async def unload(self) -> None:
        self.service.disarm_all()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.services.unregister(self.service)

    # ------------------------------------------------------------------ the command
    async def comment(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        title: str,
        closes: str,
        file: discord.Attachment | None,
    ) -> None:
        comm, actor, _ = await member_community(interaction, community)
        closes_at = parse_future(closes, ZoneInfo(comm.timezone), self.bot.clock.now())
        cleaned = await self.service.check_new(comm, actor.user_id, title, closes_at)
        if comm.lounge_id is None:
            raise InvalidInput(
                f"**{escape_inline(comm.name)}** has no lounge channel to share the paper in; "
                "ask a facilitator."
            )
        if file is None:

            async def typed(modal_interaction: discord.Interaction[Any], text: str) -> None:
                # Whoever submits is the author, checked again (never trust the opener).
                paper = await self.service.create(
                    comm, modal_interaction.user.id, cleaned, closes_at, body=text
                )
                await modal_interaction.response.defer(ephemeral=True, thinking=True)
                await self._post(modal_interaction, comm, paper, None)

            await interaction.response.send_modal(PaperTextModal(cleaned, typed))
            return
        name = validate_file(file.filename, file.size)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except discord.HTTPException as exc:
            raise InvalidInput("Hearth could not read the attached file; attach it again.") from exc
        paper = await self.service.create(comm, actor.user_id, cleaned, closes_at, file_name=name)
        await self._post(interaction, comm, paper, data)

    async def _post(
        self,
        interaction: discord.Interaction[Any],
        comm: Community,
        paper: Paper,
        data: bytes | None,
    ) -> None:
        assert comm.lounge_id is not None
        eligible = await self.service.eligible(paper)
        channel = self.bot.get_partial_messageable(comm.lounge_id)
        extra: dict[str, Any] = {}
        if data is not None and paper.file_name is not None:
            extra["file"] = discord.File(io.BytesIO(data), filename=paper.file_name)
        elif paper.body is not None and not render.draft_fits(paper):
            # Escaped for Markdown it is longer than a message shows: the whole draft as a file.
            extra["file"] = discord.File(
                io.BytesIO(paper.body.encode()), filename=render.draft_file_name(paper)
            )
        try:
            message = await channel.send(
                embed=render.open_embed(paper, 0, eligible),
                view=paper_view(paper.id),
                allowed_mentions=NO_MENTIONS,
                **extra,
            )
        except discord.HTTPException:
            await self.service.discard(paper.id)  # nothing half-stored
            raise
        await self.service.posted(paper, comm.lounge_id, message.id)
        await interaction.followup.send(
            f"Shared **{escape_inline(paper.title)}** (paper #{paper.id}) for comment in "
            f"<#{comm.lounge_id}>. Members can answer until "
            f"{discord_timestamp(paper.closes_at, 'F')}; you will receive their comments "
            "by direct message then (named ones with names, anonymous ones without), and the "
            "group sees what it says together. You do not answer your own paper.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    # ------------------------------------------------------------------ closing
    async def before_close(self, item_id: int) -> object:
        return None

    async def after_close(self, item_id: int, closed: Paper | None, prepared: object) -> None:
        if closed is not None:
            await self._announce_safely(closed)

    async def _announce_safely(self, paper: Paper) -> None:
        try:
            await self.announce(paper)
        except discord.HTTPException as exc:
            # Left unannounced: retried later, and at the next start (nothing is sent twice:
            # the run records what went out).
            tries = self._retries[paper.id] = self._retries.get(paper.id, 0) + 1
            log.warning("paper %s: could not announce its close (%s); attempt %d", paper.id,
                        exc.status, tries)  # fmt: skip
            if tries <= MAX_RETRIES:
                when = self.bot.clock.now() + RETRY_AFTER * 2 ** (tries - 1)
                self.bot.scheduler.schedule(
                    f"papers:announce:{paper.id}", when, partial(self._retry, paper.id),
                    guild_id=self.bot.communities.guild_of(paper.community_id),
                )
            return
        self._retries.pop(paper.id, None)

    async def _retry(self, paper_id: int) -> None:
        paper = await self.service.repo.get(paper_id)
        if paper is not None and paper.closed_at is not None and not paper.announced:
            await self._announce_safely(paper)

    async def announce(self, paper: Paper) -> None:
        """The author's DM, the community's statement and the closed paper, exactly once."""
        run = close_run(paper.id)
        if await self.deliveries.start(run) is RunState.FINISHED:
            await self.service.announced(paper)
            return
        comments = await self.service.comments(paper)
        if paper.author_id is not None:
            names = await display_names(self.bot, paper, {c.user_id for c in comments if c.user_id})
            text, markdown = render.comments_for_author(paper, comments, names)
            dm: dict[str, Any] = {"content": text[:2000]}
            if markdown is not None:
                dm["file"] = discord.File(
                    io.BytesIO(markdown.encode()), filename=f"paper-{paper.id}-comments.md"
                )
            try:
                await self.deliveries.send(
                    run, Destination.member(paper.author_id), allowed_mentions=NO_MENTIONS, **dm
                )
            except discord.HTTPException as exc:
                if exc.status >= 500 or exc.status == 429:
                    raise
                log.info("paper %s: the author's DMs are closed (%s)", paper.id, exc.status)
        if paper.channel_id is not None:
            reply_to: dict[str, Any] = {}
            if paper.message_id is not None:  # shown as a reply to the paper
                reply_to["reference"] = discord.MessageReference(
                    message_id=paper.message_id, channel_id=paper.channel_id,
                    fail_if_not_exists=False,
                )  # fmt: skip
            await self.deliveries.send(
                run, Destination.channel(paper.channel_id), part="statement",
                embed=render.outcome_embed(paper), allowed_mentions=NO_MENTIONS, **reply_to,
            )  # fmt: skip
            if paper.message_id is not None:
                try:
                    await (
                        self.bot.get_partial_messageable(paper.channel_id)
                        .get_partial_message(paper.message_id)
                        .edit(embed=render.closed_embed(paper), view=closed_view(paper.id))
                    )
                except discord.HTTPException as exc:
                    log.warning(
                        "paper %s: could not mark its message closed: %s", paper.id, exc.status
                    )
        await self.deliveries.finish(run)
        await self.service.announced(paper)


def setup_papers(bot: HearthBot) -> Papers:
    """Made by the ``/document`` cog; it calls :meth:`Papers.load` / :meth:`Papers.unload`."""
    return Papers(bot)
