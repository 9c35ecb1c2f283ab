"""Export delivery, erasure follow-up on Discord, and retention.

The database erasure is one transaction (:meth:`bot.db.privacy.PrivacyRepo.erase`); what
Discord holds is tidied afterwards, best effort: every failure is logged, and a story post
that could not be deleted is reported to the member so they can ask for it to be removed.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from bot.db.privacy import PrivacyRepo
from bot.domain.privacy import (
    ErasureResult,
    StoryPostRef,
    export_bytes,
    export_document,
    export_filename,
    facilitator_notice,
    next_retention_run,
    retention_cutoff_day,
)
from bot.interactions import NO_MENTIONS

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

RETENTION_JOB = "privacy:retention"
JOB_PREFIX = "privacy:"
DM_CLOSED = 50007


@dataclass
class ForgetOutcome:
    result: ErasureResult
    posts_left: list[StoryPostRef] = field(default_factory=list)
    roles_left: list[str] = field(default_factory=list)


class PrivacyService:
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.repo = PrivacyRepo(bot.db)

    # ------------------------------------------------------------------ export
    async def export_file(self, user_id: int) -> discord.File:
        now = self.bot.clock.now()
        await self._flush_counts()
        doc = export_document(await self.repo.export_data(user_id), now)
        return discord.File(io.BytesIO(export_bytes(doc)), filename=export_filename(now))

    async def _flush_counts(self) -> None:
        """Write buffered message counts so the export and the erasure see them."""
        counter = self._counter()
        if counter is not None:
            try:
                await counter.flush()
            except Exception:
                log.warning("could not flush message counts before a privacy request")

    def _counter(self) -> Any:
        cog = self.bot.get_cog("DigestsCog")
        return getattr(cog, "counter", None)

    # ------------------------------------------------------------------ forget
    async def forget(self, user_id: int) -> ForgetOutcome:
        await self._flush_counts()
        result = await self.repo.erase(user_id)  # one transaction: the point of no return
        outcome = ForgetOutcome(result)
        await self._forget_in_memory(user_id)
        for post in result.story_posts:
            if not await self._delete_post(post):
                outcome.posts_left.append(post)
        for cid in sorted({c.community_id for c in result.communities} | set(result.sponsor_of)):
            await self._tidy_community(cid, user_id, outcome)
        return outcome

    async def _forget_in_memory(self, user_id: int) -> None:
        counter = self._counter()
        if counter is None:
            return
        counter.forget_member(user_id)  # their cached name and unwritten counts
        # A flush that drained the buffer before the erasure may have written since.
        await self._flush_counts()
        await self.repo.purge_activity(user_id)

    async def _delete_post(self, post: StoryPostRef) -> bool:
        reason = "a story's teller asked Hearth to erase their data"
        try:
            if post.is_thread:
                await self.bot.http.delete_channel(post.channel_id, reason=reason)
            else:
                await self.bot.http.delete_message(
                    post.channel_id, post.message_id, reason=reason
                )
        except discord.NotFound:
            return True
        except discord.HTTPException as exc:
            log.warning("could not delete the post of erased story %s: %s", post.story_id, exc)
            return False
        return True

    async def _tidy_community(self, community_id: int, user_id: int, out: ForgetOutcome) -> None:
        community = await self.bot.communities.get(community_id)
        if community is None:
            return
        reason = "a member asked Hearth to erase their data"
        membership = next(
            (c for c in out.result.communities if c.community_id == community_id), None
        )
        for role_id in (community.member_role_id, community.facilitator_role_id):
            if role_id is None or membership is None:
                continue
            try:
                await self.bot.http.remove_role(
                    community.guild_id, user_id, role_id, reason=reason
                )
            except discord.NotFound:
                pass  # no longer in the server, or the role is gone
            except discord.HTTPException as exc:
                log.warning("could not remove role %s from an erased member: %s", role_id, exc)
                out.roles_left.append(community.name)
        # Member overwrites (circle channel for members, read-only access for sponsors).
        channel_ids = [community.category_id] + [
            cid for cid, _, _ in await self.bot.communities.channels(community.id)
        ]
        for channel_id in channel_ids:
            if channel_id is None:
                continue
            try:
                await self.bot.http.delete_channel_permissions(channel_id, user_id, reason=reason)
            except discord.NotFound:
                pass
            except discord.HTTPException as exc:
                log.warning("could not clear an overwrite on channel %s: %s", channel_id, exc)
        member_left = membership is not None and membership.was_active
        sponsor_gone = community_id in out.result.sponsor_of
        if member_left or sponsor_gone:
            await self._tell_facilitators(
                community.id,
                community.lounge_id,
                facilitator_notice(community.name, member_left=member_left,
                                   sponsor_gone=sponsor_gone),
            )

    async def _tell_facilitators(
        self, community_id: int, lounge_id: int | None, text: str
    ) -> None:
        """DM every facilitator; if none could be reached, say it once in the lounge."""
        reached = 0
        for uid in await self.repo.active_facilitators(community_id):
            try:
                user = self.bot.get_user(uid) or await self.bot.fetch_user(uid)
                await user.send(text, allowed_mentions=NO_MENTIONS)
                reached += 1
            except discord.HTTPException as exc:
                log.info("could not DM facilitator %s (%s)", uid, exc.status)
        if reached or lounge_id is None:
            return
        try:
            await self.bot.get_partial_messageable(lounge_id).send(
                text, allowed_mentions=NO_MENTIONS
            )
        except discord.HTTPException as exc:
            log.warning("could not tell community %s that a member left: %s", community_id, exc)

    # ------------------------------------------------------------------ retention
    def arm_retention(self, *, first: bool = False) -> None:
        now = self.bot.clock.now()
        when = now if first else next_retention_run(now)
        self.bot.scheduler.schedule(RETENTION_JOB, when, self.run_retention)

    async def run_retention(self) -> None:
        try:
            cutoff = retention_cutoff_day(
                self.bot.clock.now(), self.bot.config.privacy.retention_days
            )
            deleted = await self.repo.delete_activity_before(cutoff)
            if deleted:
                log.info("retention: deleted %d message-count rows before %s", deleted, cutoff)
        finally:
            self.arm_retention()
