"""Value-story invitations on Discord: posting one exactly once, closing the previous one,
and the scheduled jobs.

Whether a run still applies and when the next is due are the service's rules
(:mod:`bot.services.value_stories`); this module posts through :mod:`bot.delivery` (recorded
with its nonce before the send, so a crash is resumed without a second post) and keeps the
scheduler's jobs in step with the database, like the story prompts
(``cogs/stories/_prompts.py``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.delivery import Deliveries, Destination
from bot.domain.communities import Community
from bot.domain.value.invitations import Invitation, InvitationSchedule
from bot.errors import HearthError
from bot.interactions import NO_MENTIONS
from bot.services.value_stories import ValueStoryService
from bot.text import escape_inline
from cogs.value import _render
from cogs.value._views import invitation_view

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

JOB_PREFIX = "value-invite:"
RESUME_JOB = "value-invite:resume"


def job_id(community_id: int) -> str:
    return f"{JOB_PREFIX}{community_id}"


def invitation_run(community_id: int, claim: int) -> str:
    """The delivery run of one claimed invitation (:mod:`bot.delivery`)."""
    return f"value-invite:{community_id}:{claim}"


class InvitationPoster:
    def __init__(self, bot: HearthBot, service: ValueStoryService) -> None:
        self.bot = bot
        self.service = service
        self.deliveries = Deliveries(bot)

    async def post(self, community: Community, due: datetime) -> int | None:
        """Post the invitation due at ``due`` in the lounge; ``None`` if it was posted
        already (never twice)."""
        lounge_id = self.service.require_lounge(community)
        claim = await self.service.claim_invitation(community, due)
        if claim is None:
            return None
        try:
            await self._send(community, lounge_id, claim)
        except discord.HTTPException:
            await self.service.release_invitation(claim)
            await self.deliveries.forget(invitation_run(community.id, claim))
            raise
        return claim

    async def _send(self, community: Community, lounge_id: int, claim: int) -> None:
        run = invitation_run(community.id, claim)
        sent = await self.deliveries.send(
            run,
            Destination.channel(lounge_id),
            content=_render.invitation_message(community.name),
            view=invitation_view(claim),
            allowed_mentions=NO_MENTIONS,
        )
        posted = await self.service.invitation_posted(
            claim, sent.channel_id or lounge_id, sent.message_id
        )
        await self.deliveries.finish(run)
        current = await self.service.current_invitation(community.id)
        url = _render.jump_url(community.guild_id, current) if current else None
        await self.close_messages(posted.closed, _render.invitation_closed(url))

    async def close_messages(self, closed: list[Invitation], text: str) -> None:
        """Edit closed invitations: say so, and take their button away (best effort: a
        deleted message is simply gone; a click on a stale button is still answered)."""
        for inv in closed:
            if inv.channel_id is None or inv.message_id is None:
                continue
            message = self.bot.get_partial_messageable(inv.channel_id).get_partial_message(
                inv.message_id
            )
            try:
                await message.edit(content=text, view=None, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                log.info("could not close value invitation %s: %s", inv.id, exc.status)

    async def resume(self) -> None:
        """Post the invitations a crash left claimed but not posted, once each."""
        for inv, community in await self.service.interrupted_invitations():
            if not self.bot.owns(community.guild_id):
                continue  # another process's (HEARTH_SHARDS)
            assert community.lounge_id is not None
            try:
                await self._send(community, community.lounge_id, inv.id)
            except discord.HTTPException as exc:
                log.warning("interrupted value invitation %s: %s", inv.id, exc.status)
                await self.service.release_invitation(inv.id)
                await self.deliveries.forget(invitation_run(community.id, inv.id))

    # ------------------------------------------------------------------ jobs
    def arm(self, schedule: InvitationSchedule, community: Community, *, start: bool) -> None:
        self.bot.scheduler.cancel(job_id(community.id))
        when = self.service.first_run(schedule, community, start=start)
        if when is not None:
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
                await self.post(community, due)
            except (discord.HTTPException, HearthError) as exc:
                log.warning(
                    "value invitation for community %s failed: %s", community_id, type(exc).__name__
                )
                await self.service.skipped(community_id, due)
                await self._tell_facilitators(community)
            except Exception:
                log.exception("value invitation for community %s failed", community_id)
                await self.service.skipped(community_id, due)
        following = self.service.next_after(schedule, community, due)
        if following is not None:
            self._schedule(community_id, following)

    async def _tell_facilitators(self, community: Community) -> None:
        text = (
            f"I could not post the value story invitation in **{escape_inline(community.name)}**"
            " (its lounge channel is gone or I may not post there). Check the lounge and my "
            "permissions there; the schedule continues."
        )
        for user_id in await self.bot.communities.facilitators(community.id):
            try:
                user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
                await user.send(text, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                log.info("could not tell a facilitator of %s: %s", community.id, exc.status)

    async def rebuild(self) -> None:
        """At start: one job per active schedule, from the database, and the resume."""
        for schedule, community in await self.service.active_schedules():
            if self.bot.owns(community.guild_id):  # the others are other processes' jobs
                self.arm(schedule, community, start=True)
        self.bot.scheduler.schedule(
            RESUME_JOB, self.bot.clock.now(), self.resume, guild_id=None, per_process=True
        )
