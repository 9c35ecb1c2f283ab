"""The stories capability's operations that touch Discord: posting, consent, prompts.

Commands (``_cog``) and persistent components (``_views``) both call into this, so a story
shared from the prompt button and one shared with ``/story share`` go through the same path.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import discord

from bot.db.stories import StoryRepo
from bot.delivery import Deliveries, Destination
from bot.domain.communities import Community, require_active
from bot.domain.glossary import Glossary, format_suggestion
from bot.domain.stories import (
    Consent,
    PromptSchedule,
    Stage,
    Stages,
    StoryPost,
    StoryRecord,
    credit_inside,
    next_prompt,
)
from bot.errors import HearthError, MissingPermission, NotFound
from bot.interactions import NO_MENTIONS
from bot.text import escape_inline, plain
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


class StoriesService:
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.repo = StoryRepo(bot.db)
        self.deliveries = Deliveries(bot)
        cfg = bot.config.stories
        self.stages = Stages(Stage(s.slug, s.label) for s in cfg.stages)
        self.glossary = Glossary.from_mapping(bot.config.glossary)
        self.grace = timedelta(hours=cfg.missed_prompt_grace_hours)

    # ------------------------------------------------------------------ people
    async def display_name(self, guild_id: int, user_id: int) -> str | None:
        """A person's name as the community sees it (server nickname first)."""
        guild = self.bot.get_guild(guild_id)
        if guild is not None:
            member = guild.get_member(user_id)
            if member is not None:
                return member.display_name
            try:
                return (await guild.fetch_member(user_id)).display_name
            except discord.HTTPException:
                pass
        try:
            return (await self.bot.fetch_user(user_id)).display_name
        except discord.HTTPException:
            return None

    # ------------------------------------------------------------------ posting
    async def _channel(self, channel_id: int) -> Any:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            channel = await self.bot.fetch_channel(channel_id)
        return channel

    async def post_story(
        self, community: Community, story: StoryRecord, teller_name: str | None
    ) -> StoryPost:
        """Post the story in the community's stories forum (a thread tagged with its stage)
        or, where the stories channel is a text channel, as a message there."""
        if community.stories_id is None:
            raise NotFound(f"**{escape_inline(community.name)}** has no stories channel any more.")
        content, embed = _render.story_post(story, teller_name)
        channel = await self._channel(community.stories_id)
        try:
            if isinstance(channel, discord.ForumChannel):
                tags = []
                if story.stage:
                    tag_id = (await self.bot.communities.stage_tags(community.id)).get(story.stage)
                    tag = channel.get_tag(tag_id) if tag_id else None
                    if tag is not None:
                        tags.append(tag)
                made = await channel.create_thread(
                    name=plain(story.title, 100, empty=f"Story #{story.id}"),
                    content=content,
                    embed=embed,
                    applied_tags=tags,
                    allowed_mentions=NO_MENTIONS,
                )
                return StoryPost(made.thread.id, made.message.id, True)
            msg = await channel.send(content, embed=embed, allowed_mentions=NO_MENTIONS)
            return StoryPost(channel.id, msg.id, False)
        except discord.Forbidden as exc:
            raise MissingPermission(
                "Send Messages", f"post stories in <#{community.stories_id}> ({exc.text})"
            ) from exc

    async def save(
        self,
        community: Community,
        *,
        teller_id: int,
        teller_name: str | None,
        title: str,
        text: str,
        stage: Stage | None,
        consent: Consent,
        captured_by: int | None = None,
        source: tuple[int, int] | None = None,
        audience_channel_id: int | None = None,
    ) -> StoryRecord:
        """Store and post a validated story. If posting fails nothing stays stored.

        With ``audience_channel_id`` (saved from a circle or another channel narrower than
        the community) the story is stored but not posted: it stays visible only where it
        was told until its teller agrees to the whole community (:meth:`widen`)."""
        story = await self.repo.add(
            community_id=community.id,
            teller_id=teller_id,
            title=title,
            text=text,
            stage=stage.slug if stage else None,
            stage_label=stage.label if stage else None,
            consent=consent,
            now=self.bot.clock.now(),
            captured_by=captured_by,
            consent_request="inline" if captured_by is not None else None,
            source=source,
            audience_channel_id=audience_channel_id,
        )
        if story.is_restricted:
            return story
        try:
            post = await self.post_story(community, story, teller_name)
        except BaseException:
            await self.repo.delete(story.id)
            raise
        await self.repo.set_post(story.id, post)
        got = await self.repo.get(story.id)
        assert got is not None
        return got

    def jargon_note(self, title: str, text: str) -> str:
        return format_suggestion(self.glossary.find_jargon(f"{title}\n{text}"))

    async def _edit_post(self, story: StoryRecord, teller_name: str | None) -> None:
        if story.post is None:
            return
        content, embed = _render.story_post(story, teller_name)
        message = self.bot.get_partial_messageable(story.post.channel_id).get_partial_message(
            story.post.message_id
        )
        try:
            await message.edit(content=content, embed=embed, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("could not update the post of story %s: %s", story.id, exc)

    async def _delete_post(self, post: StoryPost) -> bool:
        try:
            if post.is_thread:
                thread = await self._channel(post.channel_id)
                await thread.delete(reason="the teller withdrew this story")
            else:
                await self.bot.get_partial_messageable(post.channel_id).get_partial_message(
                    post.message_id
                ).delete()
        except discord.NotFound:
            return True
        except discord.HTTPException as exc:
            log.warning("could not delete story post %s: %s", post, exc)
            return False
        return True

    # ------------------------------------------------------------------ audience
    async def place_of(self, story: StoryRecord) -> tuple[str, str]:
        """Where a restricted story is confined: ("circle" or "thread", its mention)."""
        channel_id = story.audience_channel_id or 0
        circles = {
            cid for cid, purpose, _ in await self.bot.communities.channels(story.community_id)
            if purpose == "circle"
        }
        return ("circle" if channel_id in circles else "thread"), f"<#{channel_id}>"

    async def readable_audiences(
        self, community: Community, user: discord.abc.User
    ) -> frozenset[int]:
        """The restricted audiences (circles, private threads) of the community whose
        stories ``user`` may see because Discord lets them read that channel. A channel the
        bot cannot see, or a private thread (whose members the bot does not track), counts
        as unreadable: such a story is then listed to its teller only."""
        wanted = await self.repo.restricted_audiences(community.id)
        guild = self.bot.get_guild(community.guild_id)
        if not wanted or guild is None:
            return frozenset()
        member = user if isinstance(user, discord.Member) else guild.get_member(user.id)
        if member is None:
            return frozenset()
        readable = set()
        for channel_id in wanted:
            channel = guild.get_channel_or_thread(channel_id)
            if channel is None or isinstance(channel, discord.Thread):
                continue
            if channel.permissions_for(member).view_channel:
                readable.add(channel_id)
        return frozenset(readable)

    async def widen(
        self, story: StoryRecord, level: Consent, community: Community
    ) -> tuple[StoryRecord | None, str]:
        """The teller agrees to the whole community (and to ``level`` beyond it): post the
        story in the stories channel. If the post fails the story stays where it was."""
        if level is Consent.WITHDRAWN or not story.is_restricted:
            return await self.change_consent(story, level, community.guild_id)
        require_active(community)  # an archived community takes no new posts
        confined_to = story.audience_channel_id
        assert confined_to is not None
        if not await self.repo.claim_widening(story.id, level):
            # Answered meanwhile (the DM and the in-app question at once): just the level.
            fresh = await self.repo.get(story.id)
            if fresh is None or fresh.is_tombstone:
                raise NotFound(f"Story #{story.id} was withdrawn; nothing of it remains.")
            return await self.change_consent(fresh, level, community.guild_id)
        opened = replace(story, audience_channel_id=None, consent=level)
        name = await self.display_name(community.guild_id, story.teller_id or 0)
        try:
            post = await self.post_story(community, opened, name)
        except BaseException:
            await self.repo.restrict(story.id, confined_to, story.consent)
            raise
        await self.repo.set_post(story.id, post)
        updated = await self.repo.set_consent(story.id, level)
        return updated, _render.widened(story.id, post, level)

    async def keep_restricted(self, story: StoryRecord) -> str:
        """The teller declines the wider audience: the story stays where it was told."""
        await self.repo.set_consent_request(story.id, None)
        _, place = await self.place_of(story)
        return _render.kept_restricted(story.id, place)

    async def question_for(
        self, story: StoryRecord, community: Community, by: str
    ) -> tuple[str, discord.ui.View]:
        """The question a facilitator's save puts to the teller: consent alone, or (for a
        story still confined to a circle) audience and consent together."""
        from cogs.stories._views import audience_view, consent_view

        if not story.is_restricted:
            return _render.consent_question(story, community, by), consent_view(story.id)
        kind, place = await self.place_of(story)
        return (
            _render.audience_question(story, community, by, kind, place),
            audience_view(story.id, kind),
        )

    # ------------------------------------------------------------------ consent
    async def change_consent(
        self, story: StoryRecord, level: Consent, guild_id: int
    ) -> tuple[StoryRecord | None, str]:
        """Apply the teller's choice (the caller has checked it is the teller). Returns the
        record (a tombstone for ``withdrawn``) and what to tell them."""
        if level is Consent.WITHDRAWN:
            removed = story.post is None or await self._delete_post(story.post)
            tomb = await self.repo.withdraw(story.id, self.bot.clock.now())
            note = _render.consent_answer(story.id, level)
            if not removed:
                note += (
                    " Discord would not let me delete its post; please ask a facilitator to "
                    "delete it."
                )
            return tomb, note
        old_credit = credit_inside(story.consent, "x")
        updated = await self.repo.set_consent(story.id, level)
        assert updated is not None
        if updated.is_restricted:
            _, place = await self.place_of(updated)
            return updated, _render.consent_answer_restricted(story.id, level, place)
        if credit_inside(level, "x") != old_credit:
            name = await self.display_name(guild_id, updated.teller_id or 0)
            await self._edit_post(updated, name)
        return updated, _render.consent_answer(story.id, level)

    async def ask_consent(
        self,
        story: StoryRecord,
        community: Community,
        author: discord.User | discord.Member,
        by: str,
    ) -> bool:
        """DM the teller the consent question; False if their DMs are closed (they are then
        asked, ephemerally, the next time they use a story command)."""
        text, view = await self.question_for(story, community, by)
        try:
            await author.send(text, view=view, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.info("consent DM to %s failed (%s); will ask in-app", author.id, exc.status)
            return False
        await self.repo.set_consent_request(story.id, "dm")
        return True

    async def offer_pending(self, interaction: discord.Interaction[Any]) -> None:
        """The in-app consent question for stories saved while the teller's DMs were closed:
        an ephemeral follow-up to whatever story command they used."""
        pending = await self.repo.pending_consent(interaction.user.id, "inline")
        for story in pending[:5]:
            community = await self.bot.communities.get(story.community_id)
            if community is None:
                continue
            by = "A facilitator"
            if story.captured_by is not None:
                by = await self.display_name(community.guild_id, story.captured_by) or by
            text, view = await self.question_for(story, community, by)
            try:
                await interaction.followup.send(
                    text,
                    view=view,
                    ephemeral=True,
                    allowed_mentions=NO_MENTIONS,
                )
            except discord.HTTPException as exc:
                log.warning("could not show pending consent for story %s: %s", story.id, exc)

    # ------------------------------------------------------------------ prompts
    async def post_prompt(self, community: Community, due: Any = None) -> str | None:
        """Post the community's next prompt in its lounge. ``due`` is the scheduled instant
        (``None`` for /story prompt). Returns the text, or None if that due time was
        already posted (never twice)."""
        if community.lounge_id is None:
            raise NotFound(f"**{escape_inline(community.name)}** has no lounge channel any more.")
        library = self.bot.config.stories.library_for(community.slug)
        _, text = next_prompt(library, await self.repo.prompt_history(community.id))
        claim = await self.repo.claim_prompt(community.id, text, due, self.bot.clock.now())
        if claim is None:
            log.info("prompt for community %s due %s already posted", community.id, due)
            return None
        try:
            await self._send_prompt(community.id, community.lounge_id, claim, text)
        except discord.HTTPException as exc:
            await self.repo.release_prompt(claim)
            await self.deliveries.forget(prompt_run(community.id, claim))
            if isinstance(exc, discord.Forbidden):
                raise MissingPermission(
                    "Send Messages", f"post prompts in <#{community.lounge_id}>"
                ) from exc
            raise
        return text

    async def _send_prompt(self, community_id: int, lounge_id: int, claim: int, text: str) -> None:
        """Post a claimed prompt exactly once (:mod:`bot.delivery`: recorded with its nonce
        before the send, so a crash before :meth:`StoryRepo.prompt_posted` is resumed by
        :meth:`resume_prompts` without a second post) and record where it went."""
        from cogs.stories._views import prompt_view

        run = prompt_run(community_id, claim)
        sent = await self.deliveries.send(
            run,
            Destination.channel(lounge_id),
            content=_render.prompt_message(text),
            view=prompt_view(community_id),
            allowed_mentions=NO_MENTIONS,
        )
        await self.repo.prompt_posted(claim, sent.channel_id or lounge_id, sent.message_id)
        await self.deliveries.finish(run)

    async def resume_prompts(self) -> None:
        """Post the prompts a crash left claimed but not posted, once each.

        Only claims younger than the missed-prompt grace: an older one would be as stale as
        a missed run (and it stays counted as used, like a skipped one).
        """
        now = self.bot.clock.now()
        for claim, community_id, text in await self.repo.unposted_prompts(now - self.grace):
            community = await self.bot.communities.get(community_id)
            if community is None or community.archived or community.lounge_id is None:
                continue
            try:
                await self._send_prompt(community_id, community.lounge_id, claim, text)
            except discord.HTTPException as exc:
                log.warning("interrupted prompt %s of community %s: %s", claim, community_id, exc)
                await self.repo.release_prompt(claim)
                await self.deliveries.forget(prompt_run(community_id, claim))
            else:
                log.info("posted prompt %s of community %s after a restart", claim, community_id)

    def arm(self, schedule: PromptSchedule, community: Community, *, start: bool) -> None:
        """(Re)arm the community's prompt job. ``start``: called at start-up, so a prompt
        missed while the bot was down (and younger than the grace) is posted first."""
        jid = job_id(community.id)
        self.bot.scheduler.cancel(jid)
        tz = ZoneInfo(community.timezone)
        now = self.bot.clock.now()
        when = schedule.catch_up(now, tz, self.grace) if start else None
        if when is None:
            when = schedule.next_after(now, tz)
        if when is None or community.archived:
            return
        due = when

        async def run() -> None:
            await self.run_scheduled(community.id, due)

        self.bot.scheduler.schedule(jid, when, run)

    async def run_scheduled(self, community_id: int, due: Any) -> None:
        schedule = await self.repo.schedule(community_id)
        community = await self.bot.communities.get(community_id)
        if schedule is None or community is None or community.archived:
            return
        if schedule.set_at >= due:
            return  # the schedule changed after this run was armed; it was re-armed then
        now = self.bot.clock.now()
        if now - due > self.grace:
            log.info("prompt for %s due %s is %s late; skipped", community_id, due, now - due)
            await self.repo.mark_handled(community_id, due)
        else:
            try:
                await self.post_prompt(community, due)
            except (discord.HTTPException, HearthError) as exc:
                # An expected outside fault (lounge deleted, permission removed): the run
                # is skipped, and the facilitators are told so they can fix it.
                log.warning("scheduled prompt for community %s failed: %s", community_id, exc)
                await self.repo.mark_handled(community_id, due)
                await self._tell_facilitators(community, _prompt_problem(community, exc))
            except Exception:
                log.exception("scheduled prompt for community %s failed", community_id)
                await self.repo.mark_handled(community_id, due)
        tz = ZoneInfo(community.timezone)
        following = schedule.next_after(due, tz)
        if following is None:
            return
        nxt = following

        async def run() -> None:
            await self.run_scheduled(community_id, nxt)

        self.bot.scheduler.schedule(job_id(community_id), following, run)

    async def _tell_facilitators(self, community: Community, text: str) -> None:
        """DM each facilitator (best effort: one with closed DMs is skipped, and logged)."""
        for m in await self.bot.communities.members(community.id):
            if not m.is_facilitator:
                continue
            try:
                user = self.bot.get_user(m.user_id) or await self.bot.fetch_user(m.user_id)
                await user.send(text[:2000], allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                log.info("could not tell facilitator %s of %s: %s", m.user_id, community.id, exc)

    async def rebuild(self) -> None:
        """At start: one job per active schedule, from the database."""
        # Schedules are only those of active communities: one read for them all, not one
        # per schedule (start-up time, benchmarks/startup.py).
        active = {c.id: c for c in await self.bot.communities.all_active()}
        for schedule in await self.repo.active_schedules():
            community = active.get(schedule.community_id)
            if community is not None:
                self.arm(schedule, community, start=True)
        # A prompt claimed before a crash but never recorded as posted: finish it first.
        self.bot.scheduler.schedule(RESUME_JOB, self.bot.clock.now(), self.resume_prompts)


def _prompt_problem(community: Community, exc: Exception) -> str:
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
