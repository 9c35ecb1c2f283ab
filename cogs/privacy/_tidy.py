"""The Discord side of a privacy request: the export file, tidying Discord after an erasure,
and the daily retention job.

The database erasure is one transaction (:meth:`bot.services.privacy.PrivacyService.erase`);
what Discord holds is tidied afterwards, best effort: every failure is logged, and a story post
that could not be deleted is reported to the member so they can ask for it to be removed.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.privacy import ErasureResult, StoryPostRef, facilitator_notice
from bot.domain.privacy_summary import export_summary
from bot.interactions import NO_MENTIONS
from bot.services.privacy import PrivacyService

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


class DigestCounts:
    """The digests' message counter, as :class:`~bot.services.privacy.MessageCounts` (none
    when the digests cog is not loaded: then nothing is buffered)."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    def _counter(self) -> Any:
        return getattr(self.bot.get_cog("DigestsCog"), "counter", None)

    async def flush(self) -> None:
        counter = self._counter()
        if counter is not None:
            await counter.flush()

    def forget(self, user_id: int) -> None:
        counter = self._counter()
        if counter is not None:
            counter.forget_member(user_id)


class PrivacyDiscord:
    def __init__(self, bot: HearthBot, service: PrivacyService) -> None:
        self.bot = bot
        self.service = service

    # ------------------------------------------------------------------ export
    async def export_file(self, user_id: int) -> list[discord.File]:
        """The JSON export, and beside it the same in plain words (Markdown)."""
        made = await self.service.export(user_id)
        summary = export_summary(json.loads(made.data)).encode("utf-8")
        stem = made.filename.rsplit(".", 1)[0]
        return [
            discord.File(io.BytesIO(made.data), filename=made.filename,
                         description="Your data, complete, for computers (JSON)"),
            discord.File(io.BytesIO(summary), filename=f"{stem}-summary.md",
                         description="Your data in plain words"),
        ]

    # ------------------------------------------------------------------ forget
    async def forget(self, user_id: int) -> ForgetOutcome:
        result = await self.service.erase(user_id)
        outcome = ForgetOutcome(result)
        for post in result.story_posts:
            if not await self._delete_post(post):
                outcome.posts_left.append(post)
        for cid in sorted({c.community_id for c in result.communities} | set(result.sponsor_of)):
            await self._tidy_community(cid, user_id, outcome)
        from bot.services.documents import DocumentService

        for documents in self.bot.services.implementing(DocumentService):
            await documents.reconcile()  # quotes of the member: out of the shown version too
        from bot.services.change_rounds import ChangeRoundService

        for rounds in self.bot.services.implementing(ChangeRoundService):
            # stories of change now tombstones: out of the feedback already posted too
            await rounds.after_erasure(sorted({c.community_id for c in result.communities}))
        return outcome

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
        for uid in await self.service.active_facilitators(community_id):
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
        when = self.service.next_retention(first=first)
        # Global (no guild): one process at a time runs it, the holder of its lease.
        self.bot.scheduler.schedule(RETENTION_JOB, when, self.run_retention, guild_id=None)

    async def run_retention(self) -> None:
        try:
            await self.service.run_retention()
        finally:
            self.arm_retention()
