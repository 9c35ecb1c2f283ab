"""The stories capability's rules, between the Discord layer and :class:`StoryRepo`.

This file is longer than 400 lines for now: telling, consent and audience, and the prompt
schedule share one repository; the prompt half is the next thing to split off.

Telling, listing, consent and audience, and the prompt schedule. No Discord here: what must
happen on Discord (posting a story, editing or deleting its post, a person's display name)
is done by a :class:`StoryPublisher` the stories cog passes in, so the rules that matter
(a story that could not be posted is not kept; a widened story that could not be posted goes
back where it was; withdrawal leaves only a tombstone) read top to bottom here. Results are
domain objects (:class:`ConsentOutcome`, :class:`StoryPage`); ``cogs/stories/_render.py``
words them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.db.database import Database
from bot.db.stories import StoryRepo
from bot.domain.communities import Community, require_active
from bot.domain.glossary import DRAFT_FOOT, DRAFT_HEAD, Glossary, format_suggestion
from bot.domain.stories import (
    Cadence,
    Consent,
    PromptSchedule,
    Stage,
    Stages,
    StoryPost,
    StoryRecord,
    credit_inside,
    next_prompt,
    parse_cadence,
    parse_time_of_day,
    parse_weekday,
)
from bot.errors import Conflict, NotAllowed, NotFound
from bot.services.communities import CommunityService
from bot.settings import StoriesConfig
from bot.text import escape_inline

log = logging.getLogger(__name__)

PAGE_SIZE = 5
FACILITATOR = "A facilitator"


class StoryPublisher(Protocol):
    """The Discord side of stories (``cogs/stories/_publisher.py``)."""

    async def post(
        self, community: Community, story: StoryRecord, teller_name: str | None
    ) -> StoryPost: ...

    async def edit(self, story: StoryRecord, teller_name: str | None) -> None: ...

    async def remove(self, post: StoryPost) -> bool:
        """Delete the post; False if Discord would not (it is then reported)."""
        ...

    async def display_name(self, guild_id: int, user_id: int) -> str | None: ...


@dataclass(frozen=True)
class StoryPlace:
    """Where a restricted story is confined: a circle, or a private thread."""

    kind: str  # "circle" | "thread"
    channel_id: int

    @property
    def mention(self) -> str:
        return f"<#{self.channel_id}>"


class Change(StrEnum):
    CHANGED = "changed"  # a new consent level
    RESTRICTED = "restricted"  # a new level, but still confined to its circle
    WITHDRAWN = "withdrawn"  # only a tombstone remains
    WIDENED = "widened"  # posted for the whole community
    KEPT = "kept"  # the teller keeps it where it was told


@dataclass(frozen=True)
class ConsentOutcome:
    """What a teller's choice did (``cogs/stories/_render.consent_outcome`` words it)."""

    change: Change
    story_id: int
    level: Consent
    story: StoryRecord | None
    place: StoryPlace | None = None
    post: StoryPost | None = None
    post_left: bool = False
    """Withdrawn, but Discord would not let its post be deleted."""


@dataclass(frozen=True)
class StoryPage:
    stories: list[StoryRecord]
    total: int
    page: int
    last: int
    names: dict[int, str | None]
    stage: str | None
    stage_label: str | None


@dataclass(frozen=True)
class PendingQuestion:
    story: StoryRecord
    community: Community
    asked_by: str


class ConsentListener:
    """A capability that keeps honouring a story's consent after it used the story
    (documents quoting it). Subclass and override; the stories cog finds registered
    services that are listeners and :meth:`StoryService.change_consent` calls them."""

    async def story_consent_changed(self, story_id: int, before: Consent, after: Consent) -> None:
        return None


class StoryService:
    def __init__(
        self,
        db: Database,
        communities: CommunityService,
        config: StoriesConfig,
        glossary: Glossary,
        clock: Clock,
        publisher: StoryPublisher,
        listeners: Callable[[], Iterable[ConsentListener]] | None = None,
    ) -> None:
        self.listeners = listeners or (lambda: ())
        self.repo = StoryRepo(db)
        self.communities = communities
        self.config = config
        self.glossary = glossary
        self.clock = clock
        self.publisher = publisher
        self.stages = Stages(Stage(s.slug, s.label) for s in config.stages)
        self.grace = timedelta(hours=config.missed_prompt_grace_hours)

    # ------------------------------------------------------------------ reading
    async def get(self, story_id: int) -> StoryRecord | None:
        return await self.repo.get(story_id)

    async def own_stories(self, user_id: int, guild_id: int, search: str) -> list[StoryRecord]:
        return await self.repo.of_teller_in_guild(user_id, guild_id, search)

    async def restricted_audiences(self, community_id: int) -> list[int]:
        return await self.repo.restricted_audiences(community_id)

    async def page(
        self,
        community: Community,
        page: int,
        stage: str | None,
        *,
        viewer_id: int,
        audiences: Collection[int],
    ) -> StoryPage:
        """A page of the stories the viewer may see: the community's, plus those still
        confined to a circle they can read (``audiences``) or that they told."""
        size = PAGE_SIZE
        stories, total = await self.repo.list_visible(
            community.id, stage=stage, offset=page * size, limit=size,
            viewer_id=viewer_id, audiences=audiences,
        )
        last = max(0, (total - 1) // size)
        if page > last:
            page = last
            stories, total = await self.repo.list_visible(
                community.id, stage=stage, offset=page * size, limit=size,
                viewer_id=viewer_id, audiences=audiences,
            )
        names: dict[int, str | None] = {}
        for story in stories:
            if story.teller_id is not None and story.teller_id not in names:
                names[story.teller_id] = await self.publisher.display_name(
                    community.guild_id, story.teller_id
                )
        label = self.stages.resolve(stage).label if stage else None
        return StoryPage(stories, total, page, last, names, stage, label)

    def jargon_note(self, title: str, text: str) -> str:
        return format_suggestion(self.glossary.find_jargon(f"{title}\n{text}"))

    def draft_note(self, title: str, text: str, limit: int = 1500) -> str:
        """The plain-language suggestions shown on a draft, before anything is posted."""
        return format_suggestion(
            self.glossary.find_jargon(f"{title}\n{text}"), limit=limit, head=DRAFT_HEAD,
            foot=DRAFT_FOOT,
        )

    async def edit_words(
        self, story: StoryRecord, title: str, text: str, teller_name: str | None
    ) -> StoryRecord:
        """The teller's new title and text (validated): stored, and the post updated. What
        leaves the community is redacted from the stored text when it leaves (digest,
        offers), so the next digest carries the current words."""
        await self.repo.set_words(story.id, title, text)
        updated = await self.repo.get(story.id)
        if updated is None or updated.is_tombstone:
            raise NotFound(f"Story #{story.id} was withdrawn; nothing of it remains to edit.")
        await self.publisher.edit(updated, teller_name)
        return updated

    async def place_of(self, story: StoryRecord) -> StoryPlace:
        """Where a restricted story is confined."""
        channel_id = story.audience_channel_id or 0
        circles = await self.communities.circles(story.community_id)
        return StoryPlace("circle" if channel_id in circles else "thread", channel_id)

    # ------------------------------------------------------------------ telling
    async def require_unsaved(self, message_id: int) -> None:
        """Conflict if the message is (or was) already a story."""
        existing = await self.repo.by_source_message(message_id)
        if existing is not None:
            raise Conflict(
                f"That message is already saved as story #{existing.id}."
                if not existing.is_tombstone
                else "That message was saved as a story and then withdrawn by its teller."
            )

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
            now=self.clock.now(),
            captured_by=captured_by,
            consent_request="inline" if captured_by is not None else None,
            source=source,
            audience_channel_id=audience_channel_id,
        )
        if story.is_restricted:
            return story
        try:
            post = await self.publisher.post(community, story, teller_name)
        except BaseException:
            await self.repo.delete(story.id)
            raise
        await self.repo.set_post(story.id, post)
        got = await self.repo.get(story.id)
        assert got is not None
        return got

    # ------------------------------------------------------------------ consent
    async def for_teller(
        self, story_id: int, user_id: int, guild_id: int, *, action: str = "change its consent"
    ) -> tuple[StoryRecord, Community]:
        """The story ``/story consent`` names, refusing anyone but its teller."""
        record = await self.repo.get(story_id)
        community = await self.communities.get(record.community_id) if record else None
        if record is None or community is None or community.guild_id != guild_id:
            raise NotFound(
                f"There is no story #{story_id} in this server. `/story list` shows the "
                "stories of your communities."
            )
        if record.is_tombstone:
            raise NotFound(f"Story #{story_id} was withdrawn; nothing of it remains to change.")
        if record.teller_id != user_id:
            raise NotAllowed(
                f"Only the person who told story #{story_id} can {action}. You can "
                f"{action.replace('its', 'your own stories’')}."
            )
        return record, community

    async def for_answer(
        self, story_id: int, user_id: int
    ) -> tuple[StoryRecord, Community] | None:
        """The story a consent or audience button asks about; ``None`` if it was withdrawn
        meanwhile (nothing left to decide), NotAllowed for anyone but its teller."""
        story = await self.repo.get(story_id)
        if story is None or story.is_tombstone:
            return None
        if story.teller_id != user_id:
            raise NotAllowed(f"Only the person who told story #{story.id} can choose this.")
        community = await self.communities.get(story.community_id)
        assert community is not None
        return story, community

    @staticmethod
    def unchanged(record: StoryRecord, level: Consent) -> bool:
        """Choosing the level it has, with no question pending and no audience to widen."""
        return level is record.consent and not record.consent_pending \
            and not record.is_restricted

    async def change_consent(
        self, story: StoryRecord, level: Consent, guild_id: int
    ) -> ConsentOutcome:
        """Apply the teller's choice (the caller has checked it is the teller), then let
        the listeners (documents quoting the story) honour it."""
        outcome = await self._change_consent(story, level, guild_id)
        if level is not story.consent:
            for listener in self.listeners():
                try:
                    await listener.story_consent_changed(story.id, story.consent, level)
                except Exception:
                    log.exception("story %s: a consent listener failed", story.id)
        return outcome

    async def _change_consent(
        self, story: StoryRecord, level: Consent, guild_id: int
    ) -> ConsentOutcome:
        if level is Consent.WITHDRAWN:
            removed = story.post is None or await self.publisher.remove(story.post)
            tomb = await self.repo.withdraw(story.id, self.clock.now())
            return ConsentOutcome(Change.WITHDRAWN, story.id, level, tomb, post_left=not removed)
        old_credit = credit_inside(story.consent, "x")
        updated = await self.repo.set_consent(story.id, level)
        assert updated is not None
        if updated.is_restricted:
            place = await self.place_of(updated)
            return ConsentOutcome(Change.RESTRICTED, story.id, level, updated, place)
        if credit_inside(level, "x") != old_credit:
            name = await self.publisher.display_name(guild_id, updated.teller_id or 0)
            await self.publisher.edit(updated, name)
        return ConsentOutcome(Change.CHANGED, story.id, level, updated)

    async def widen(
        self, story: StoryRecord, level: Consent, community: Community
    ) -> ConsentOutcome:
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
        name = await self.publisher.display_name(community.guild_id, story.teller_id or 0)
        try:
            post = await self.publisher.post(community, opened, name)
        except BaseException:
            await self.repo.restrict(story.id, confined_to, story.consent)
            raise
        await self.repo.set_post(story.id, post)
        updated = await self.repo.set_consent(story.id, level)
        return ConsentOutcome(Change.WIDENED, story.id, level, updated, post=post)

    async def keep_restricted(self, story: StoryRecord) -> ConsentOutcome:
        """The teller declines the wider audience: the story stays where it was told."""
        await self.repo.set_consent_request(story.id, None)
        place = await self.place_of(story)
        return ConsentOutcome(Change.KEPT, story.id, story.consent, story, place)

    async def asked_by_dm(self, story: StoryRecord) -> None:
        """The consent question reached the teller by DM (no in-app question then)."""
        await self.repo.set_consent_request(story.id, "dm")

    async def pending_questions(self, user_id: int, limit: int = 5) -> list[PendingQuestion]:
        """Stories saved while their teller's DMs were closed: ask in-app instead."""
        found = []
        for story in (await self.repo.pending_consent(user_id, "inline"))[:limit]:
            community = await self.communities.get(story.community_id)
            if community is None:
                continue
            by = FACILITATOR
            if story.captured_by is not None:
                by = await self.publisher.display_name(
                    community.guild_id, story.captured_by
                ) or by
            found.append(PendingQuestion(story, community, by))
        return found

    # ------------------------------------------------------------------ prompt schedule
    async def set_schedule(
        self, community: Community, cadence: str, weekday: str | None, at: str | None
    ) -> PromptSchedule:
        """Replace the community's prompt schedule; it counts from now (a new schedule
        never posts for a time before it existed)."""
        chosen = parse_cadence(cadence)
        # The call site for the shared weekday/time parser (bot.domain.timeparse, issue 13).
        day = parse_weekday(weekday or self.config.default_weekday)
        when: time = parse_time_of_day(at) if at and at.strip() else self.config.default_time
        now = self.clock.now()
        plan = PromptSchedule(
            community_id=community.id,
            cadence=chosen,
            weekday=day,
            time_of_day=when,
            anchor=now.astimezone(ZoneInfo(community.timezone)).date(),
            set_at=now,
        )
        await self.repo.set_schedule(plan)
        return plan

    async def schedule(self, community_id: int) -> PromptSchedule | None:
        return await self.repo.schedule(community_id)

    async def active_schedules(self) -> list[tuple[PromptSchedule, Community]]:
        """Every active schedule with its (active) community, in one read of each."""
        active = {c.id: c for c in await self.communities.all_active()}
        return [
            (s, active[s.community_id])
            for s in await self.repo.active_schedules()
            if s.community_id in active
        ]

    def first_run(
        self, schedule: PromptSchedule, community: Community, *, start: bool
    ) -> datetime | None:
        """When the community's prompt job should next run. ``start``: at start-up, a prompt
        missed while the bot was down (and younger than the grace) comes first."""
        if community.archived:
            return None
        tz = ZoneInfo(community.timezone)
        now = self.clock.now()
        when = schedule.catch_up(now, tz, self.grace) if start else None
        return when if when is not None else schedule.next_after(now, tz)

    async def due_run(
        self, community_id: int, due: datetime
    ) -> tuple[PromptSchedule, Community, bool] | None:
        """Whether the run armed for ``due`` still applies: ``None`` if the schedule is gone
        or changed since (it was re-armed then) or the community archived; else the
        schedule, the community, and whether the run is too late to post (then it is
        recorded as handled, and skipped)."""
        schedule = await self.repo.schedule(community_id)
        community = await self.communities.get(community_id)
        if schedule is None or community is None or community.archived:
            return None
        if schedule.set_at >= due:
            return None
        now = self.clock.now()
        late = now - due > self.grace
        if late:
            log.info("prompt for %s due %s is %s late; skipped", community_id, due, now - due)
            await self.repo.mark_handled(community_id, due)
        return schedule, community, late

    async def skipped(self, community_id: int, due: datetime) -> None:
        """The run due at ``due`` could not post: it counts as handled (never retried)."""
        await self.repo.mark_handled(community_id, due)

    # ------------------------------------------------------------------ prompts
    def require_lounge(self, community: Community) -> int:
        if community.lounge_id is None:
            raise NotFound(f"**{escape_inline(community.name)}** has no lounge channel any more.")
        return community.lounge_id

    async def claim_prompt(
        self, community: Community, due: datetime | None
    ) -> tuple[int, str] | None:
        """Choose the community's next prompt and claim it for ``due`` (``None``: now, by
        hand); ``None`` if that due time was already claimed (never twice)."""
        library = self.config.library_for(community.slug)
        _, text = next_prompt(library, await self.repo.prompt_history(community.id))
        claim = await self.repo.claim_prompt(community.id, text, due, self.clock.now())
        if claim is None:
            log.info("prompt for community %s due %s already posted", community.id, due)
            return None
        return claim, text

    async def release_prompt(self, claim: int) -> None:
        """Posting failed: the prompt is not counted as used."""
        await self.repo.release_prompt(claim)

    async def prompt_posted(self, claim: int, channel_id: int, message_id: int) -> None:
        await self.repo.prompt_posted(claim, channel_id, message_id)

    async def interrupted_prompts(self) -> list[tuple[int, Community, str]]:
        """Prompts a crash left claimed but not posted, younger than the missed-prompt
        grace (an older one would be as stale as a missed run, and stays counted as used),
        whose community can still take them: (claim, community, text)."""
        found = []
        since = self.clock.now() - self.grace
        for claim, community_id, text in await self.repo.unposted_prompts(since):
            community = await self.communities.get(community_id)
            if community is None or community.archived or community.lounge_id is None:
                continue
            found.append((claim, community, text))
        return found


__all__ = [
    "Cadence", "Change", "ConsentOutcome", "PendingQuestion", "StoryPage", "StoryPlace",
    "StoryPublisher", "StoryService",
]
