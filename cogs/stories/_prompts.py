"""Story prompts on Discord: posting one exactly once, and the scheduled jobs.

Which prompt, whether a run still applies and when the next one is due are the stories
service's rules (:mod:`bot.services.stories`); this module posts through
:mod:`bot.delivery` and keeps the scheduler's jobs in step with the database.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord

from bot.delivery import Deliveries, Destination
from bot.domain.communities import Community
from bot.domain.stories import PromptSchedule
from bot.errors import HearthError, MissingPermission
from bot.interactions import NO_MENTIONS
from bot.services.stories import StoryService
from bot.text import escape_inline
from cogs.stories import _render

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

JOB_PREFIX = "prompt:"
RESUME_JOB = "prompt:resume"


def job_id(community_id: int) -> str:
    return f"{JOB_PREFIX}{community_id}"


def prompt_run(community_id: int, claim: int) -> str:
    """The delivery run of one claimed prompt (:mod:`bot.delivery`)."""
    return f"prompt:{community_id}:{claim}"


class PromptPoster:
    def __init__(self, bot: HearthBot, service: StoryService) -> None:
        self.bot = bot
        self.service = service
        self.deliveries = Deliveries(bot)

    async def post_prompt(self, community: Community, due: datetime | None = None) -> str | None:
        """Post the community's next prompt in its lounge. ``due`` is the scheduled instant
        (``None`` for /story prompt). Returns the text, or None if that due time was
        already posted (never twice)."""
        lounge_id = self.service.require_lounge(community)
        claimed = await self.service.claim_prompt(community, due)
        if claimed is None:
            return None
        claim, text = claimed
        try:
            await self._send(community.id, lounge_id, claim, text)
        except discord.HTTPException as exc:
            await self.service.release_prompt(claim)
            await self.deliveries.forget(prompt_run(community.id, claim))
            if isinstance(exc, discord.Forbidden):
                raise MissingPermission(
                    "Send Messages", f"post prompts in <#{lounge_id}>"
                ) from exc
            raise
        return text

    async def _send(self, community_id: int, lounge_id: int, claim: int, text: str) -> None:
        """Post a claimed prompt exactly once (:mod:`bot.delivery`: recorded with its nonce
        before the send, so a crash before it is recorded as posted is resumed by
        :meth:`resume` without a second post) and record where it went."""
        from cogs.stories._views import prompt_view

        run = prompt_run(community_id, claim)
        sent = await self.deliveries.send(
            run,
            Destination.channel(lounge_id),
            content=_render.prompt_message(text),
            view=prompt_view(community_id),
            allowed_mentions=NO_MENTIONS,
        )
        await self.service.prompt_posted(claim, sent.channel_id or lounge_id, sent.message_id)
        await self.deliveries.finish(run)

    async def resume(self) -> None:
        """Post the prompts a crash left claimed but not posted, once each."""
        for claim, community, text in await self.service.interrupted_prompts():
            if not self.bot.owns(community.guild_id):
                continue  # another process's (HEARTH_SHARDS)
            assert community.lounge_id is not None
            try:
                await self._send(community.id, community.lounge_id, claim, text)
            except discord.HTTPException as exc:
                log.warning("interrupted prompt %s of community %s: %s", claim, community.id, exc)
                await self.service.release_prompt(claim)
                await self.deliveries.forget(prompt_run(community.id, claim))
            else:
                log.info("posted prompt %s of community %s after a restart", claim, community.id)

    # ------------------------------------------------------------------ jobs
    def arm(self, schedule: PromptSchedule, community: Community, *, start: bool) -> None:
        """(Re)arm the community's prompt job. ``start``: called at start-up, so a prompt
        missed while the bot was down (and younger than the grace) is posted first."""
        jid = job_id(community.id)
        self.bot.scheduler.cancel(jid)
        when = self.service.first_run(schedule, community, start=start)
        if when is None:
            return
        self._schedule(community.id, when)

    def _schedule(self, community_id: int, due: datetime) -> None:
        async def run() -> None:
            await self.run_scheduled(community_id, due)

        self.bot.scheduler.schedule(
            job_id(community_id), due, run, guild_id=self.bot.communities.guild_of(community_id)
        )

    async def run_scheduled(self, community_id: int, due: datetime) -> None:
        applies = await self.service.due_run(community_id, due)
        if applies is None:
            return
        schedule, community, late = applies
        if not late:
            try:
                await self.post_prompt(community, due)
            except (discord.HTTPException, HearthError) as exc:
                # An expected outside fault (lounge deleted, permission removed): the run
                # is skipped, and the facilitators are told so they can fix it.
                log.warning("scheduled prompt for community %s failed: %s", community_id, exc)
                await self.service.skipped(community_id, due)
                await self._tell_facilitators(community, _prompt_problem(community, exc))
            except Exception:
                log.exception("scheduled prompt for community %s failed", community_id)
                await self.service.skipped(community_id, due)
        following = schedule.next_after(due, ZoneInfo(community.timezone))
        if following is not None:
            self._schedule(community_id, following)

    async def _tell_facilitators(self, community: Community, text: str) -> None:
        """DM each facilitator (best effort: one with closed DMs is skipped, and logged)."""
        for user_id in await self.bot.communities.facilitators(community.id):
            try:
                user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
                await user.send(text[:2000], allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                log.info("could not tell facilitator %s of %s: %s", user_id, community.id, exc)

    async def rebuild(self) -> None:
        """At start: one job per active schedule, from the database."""
        # One read for all active communities, not one per schedule (start-up time,
        # benchmarks/startup.py).
        for schedule, community in await self.service.active_schedules():
            if self.bot.owns(community.guild_id):  # the others are other processes' jobs
                self.arm(schedule, community, start=True)
        # A prompt claimed before a crash but never recorded as posted: finish it first.
        self.bot.scheduler.schedule(
            RESUME_JOB, self.bot.clock.now(), self.resume, guild_id=None, per_process=True
        )


def _prompt_problem(community: Community, exc: Exception) -> str:
    # Display only: a typed error's own message, or what kind of Discord refusal it was.
    why = (
        exc.user_message if isinstance(exc, HearthError)
        else "its lounge channel is gone or I may not post there"
        if isinstance(exc, discord.Forbidden | discord.NotFound)
        else f"Discord said: {exc}"
    )
    return (
        f"I could not post this week's story prompt in **{escape_inline(community.name)}** "
        f"({why}). "
        "Check the lounge channel and my permissions there; the schedule continues."
    )
