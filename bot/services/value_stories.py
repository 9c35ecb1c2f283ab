"""Value-creation stories' rules, between the Discord layer and :class:`ValueStoryRepo`.

Telling (a story that could not be posted is not kept), consent (withdrawal leaves only a
tombstone), the two ways out for other capabilities (:meth:`ValueStoryService.shareable_between`
for anything that leaves the community, :meth:`ValueStoryService.all_between` for the
facilitator inside it), and the invitation schedule (at most one invitation posted per due
time, at most one open at a time). No Discord here: what must happen on Discord (posting,
editing or deleting a post, a person's name) is done by the :class:`ValueStoryPublisher` the
cog passes in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.db.database import Database
from bot.db.value_stories import ValueStoryRepo
from bot.domain.communities import Community, require_active
from bot.domain.glossary import DRAFT_FOOT, Glossary, format_suggestion
from bot.domain.stories.consent import Consent, StoryPost
from bot.domain.value.invitations import (
    DEFAULT_TIMING,
    Invitation,
    InvitationCadence,
    InvitationSchedule,
    InvitationTiming,
    parse_invitation_cadence,
)
from bot.domain.value.stories import (
    RedactionPreview,
    SharedValueStory,
    ValueStoryRecord,
    ValueStoryText,
    redaction_preview,
    shareable_value_view,
)
from bot.errors import NotAllowed, NotFound
from bot.services.communities import CommunityService
from bot.text import escape_inline

log = logging.getLogger(__name__)

DRAFT_HEAD = (
    "A few words in your story may be unfamiliar to some readers. If you like, use "
    "**Edit** to put plainer ones before you submit:"
)


class ValueStoryPublisher(Protocol):
    """The Discord side of value stories (``cogs/value/_publisher.py``)."""

    async def post(
        self, community: Community, story: ValueStoryRecord, teller_name: str | None
    ) -> StoryPost: ...

    async def edit(self, story: ValueStoryRecord, teller_name: str | None) -> None: ...

    async def remove(self, post: StoryPost) -> bool:
        """Delete the post; False if Discord would not."""
        ...

    async def display_name(self, guild_id: int, user_id: int) -> str | None: ...


@dataclass(frozen=True)
class InsideValueStory:
    """A value story as the community's facilitator may read it (inside the community).

    ``texts`` maps each cycle answered (``immediate``, ``potential``, ``applied``,
    ``realized``, ``reframing``) to the teller's own words, unredacted; ``teller_name`` is
    ``None`` for an anonymous story (no name, even inside)."""

    id: int
    consent: Consent
    told_at: datetime
    texts: dict[str, str]
    teller_name: str | None

    @property
    def cycles(self) -> tuple[str, ...]:
        return tuple(self.texts)

    @property
    def may_leave(self) -> bool:
        return self.consent.may_leave_community


@dataclass(frozen=True)
class ValueConsentOutcome:
    story_id: int
    level: Consent
    story: ValueStoryRecord | None
    post_left: bool = False
    """Withdrawn, but Discord would not let its post be deleted."""


@dataclass(frozen=True)
class PostedInvitation:
    """An invitation just posted, and the earlier ones its posting closed."""

    invitation_id: int
    closed: list[Invitation]


class ValueStoryService:
    def __init__(
        self,
        db: Database,
        communities: CommunityService,
        glossary: Glossary,
        clock: Clock,
        publisher: ValueStoryPublisher,
        timing: InvitationTiming = DEFAULT_TIMING,
    ) -> None:
        self.repo = ValueStoryRepo(db)
        self.timing = timing
        self.communities = communities
        self.glossary = glossary
        self.clock = clock
        self.publisher = publisher

    # ------------------------------------------------------------------ telling
    def draft_note(self, text: ValueStoryText, limit: int = 1500) -> str:
        """The plain-language suggestions shown before the story is kept."""
        return format_suggestion(
            self.glossary.find_jargon(text.joined()),
            limit=limit,
            head=DRAFT_HEAD,
            foot=DRAFT_FOOT,
        )

    @staticmethod
    def redaction_preview(text: ValueStoryText) -> RedactionPreview:
        return redaction_preview(text)

    async def save(
        self,
        community: Community,
        *,
        teller_id: int,
        teller_name: str | None,
        text: ValueStoryText,
        consent: Consent,
        invitation_id: int | None = None,
    ) -> ValueStoryRecord:
        """Store and post a checked story. If posting fails nothing stays stored."""
        require_active(community)
        story = await self.repo.add(
            community_id=community.id,
            teller_id=teller_id,
            consent=consent,
            text=text,
            now=self.clock.now(),
            invitation_id=invitation_id,
        )
        try:
            post = await self.publisher.post(community, story, teller_name)
        except BaseException:
            await self.repo.delete(story.id)
            raise
        await self.repo.set_post(story.id, post)
        got = await self.repo.get(story.id)
        assert got is not None
        log.info("value story %s told in community %s", story.id, community.id)
        return got

    # ------------------------------------------------------------------ consent
    async def own_stories(self, user_id: int, guild_id: int, search: str) -> list[ValueStoryRecord]:
        return await self.repo.of_teller_in_guild(user_id, guild_id, search)

    async def for_teller(
        self, story_id: int, user_id: int, guild_id: int
    ) -> tuple[ValueStoryRecord, Community]:
        """The value story ``/value consent`` names, refusing anyone but its teller."""
        record = await self.repo.get(story_id)
        community = await self.communities.get(record.community_id) if record else None
        if record is None or community is None or community.guild_id != guild_id:
            raise NotFound(
                f"There is no value story #{story_id} in this server. Start typing in the "
                "`story` option to pick one of yours."
            )
        if record.is_tombstone:
            raise NotFound(
                f"Value story #{story_id} was withdrawn; nothing of it remains to change."
            )
        if record.teller_id != user_id:
            raise NotAllowed(
                f"Only the person who told value story #{story_id} can change who may hear "
                "it. You can change your own."
            )
        return record, community

    async def change_consent(
        self, story: ValueStoryRecord, level: Consent, guild_id: int
    ) -> ValueConsentOutcome:
        """Apply the teller's choice (the caller checked it is the teller). Withdrawn: the
        post is deleted and only a tombstone stays; otherwise the post's credit follows."""
        if level is Consent.WITHDRAWN:
            removed = story.post is None or await self.publisher.remove(story.post)
            tomb = await self.repo.withdraw(story.id, self.clock.now())
            log.info("value story %s withdrawn", story.id)
            return ValueConsentOutcome(story.id, level, tomb, post_left=not removed)
        updated = await self.repo.set_consent(story.id, level)
        assert updated is not None
        if (story.consent is Consent.ANONYMOUS) != (level is Consent.ANONYMOUS):
            name = await self.publisher.display_name(guild_id, updated.teller_id or 0)
            await self.publisher.edit(updated, name)
        return ValueConsentOutcome(story.id, level, updated)

    # ------------------------------------------------------------------ the ways out
    async def shareable_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[SharedValueStory]:
        """Every value story told in ``[start, end)`` that its teller lets LEAVE the
        community, as it may be shown outside (sponsor report, digest, e-mail): redacted,
        without any id, named only for ``named`` consent. ``group`` and withdrawn stories
        are never returned. Oldest first. Use this for anything leaving the community."""
        community = await self.communities.get(community_id)
        if community is None:
            return []
        shared = []
        for story in await self.repo.live_between(community_id, start, end):
            if not story.consent.may_leave_community:
                continue
            name = None
            if story.consent is Consent.NAMED and story.teller_id is not None:
                name = await self.publisher.display_name(community.guild_id, story.teller_id)
            view = shareable_value_view(story, teller_display_name=name)
            if view is not None:
                shared.append(view)
        return shared

    async def all_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[InsideValueStory]:
        """Every value story (not withdrawn) told in ``[start, end)``, for use INSIDE the
        community only (the facilitator's own report): the teller's words as told, per
        cycle, ``may_leave`` saying whether it could also go outside. Oldest first. Never
        send these outside the community: use :meth:`shareable_between` for that."""
        community = await self.communities.get(community_id)
        if community is None:
            return []
        found = []
        for story in await self.repo.live_between(community_id, start, end):
            name = None
            if story.consent is not Consent.ANONYMOUS and story.teller_id is not None:
                name = await self.publisher.display_name(community.guild_id, story.teller_id)
            found.append(
                InsideValueStory(story.id, story.consent, story.created_at, story.texts, name)
            )
        return found

    # ------------------------------------------------------------------ invitation schedule
    async def set_cadence(
        self, community: Community, cadence: str
    ) -> tuple[InvitationSchedule, datetime | None, list[Invitation]]:
        """Replace the community's invitation cadence, counted from now (never posting for
        a time before it was set). Returns the schedule, its next due time, and (for
        ``off``) the open invitation(s) it closed."""
        chosen = parse_invitation_cadence(cadence)
        now = self.clock.now()
        plan = InvitationSchedule(community.id, chosen, now)
        await self.repo.set_schedule(plan)
        following = plan.next_after(now, ZoneInfo(community.timezone), self.timing)
        closed = await self.close_open(community.id) if following is None else []
        return plan, following, closed

    async def active_schedules(self) -> list[tuple[InvitationSchedule, Community]]:
        active = {c.id: c for c in await self.communities.all_active()}
        return [
            (s, active[s.community_id])
            for s in await self.repo.active_schedules()
            if s.community_id in active
        ]

    def first_run(
        self, schedule: InvitationSchedule, community: Community, *, start: bool
    ) -> datetime | None:
        """When the community's invitation job should next run; at start-up an invitation
        missed while Hearth was down (at most the configured grace late) comes first."""
        if community.archived:
            return None
        tz = ZoneInfo(community.timezone)
        now = self.clock.now()
        when = schedule.catch_up(now, tz, self.timing) if start else None
        return when if when is not None else schedule.next_after(now, tz, self.timing)

    def next_after(
        self, schedule: InvitationSchedule, community: Community, after: datetime
    ) -> datetime | None:
        """The schedule's next due time after ``after`` (re-arming after a run)."""
        return schedule.next_after(after, ZoneInfo(community.timezone), self.timing)

    async def due_run(
        self, community_id: int, due: datetime
    ) -> tuple[InvitationSchedule, Community, bool] | None:
        """Whether the run armed for ``due`` still applies: ``None`` if the schedule is gone,
        changed since or off, or the community archived; else the schedule, the community
        and whether it is too late to post (then it is recorded as handled, skipped)."""
        schedule = await self.repo.schedule(community_id)
        community = await self.communities.get(community_id)
        if schedule is None or community is None or community.archived:
            return None
        if schedule.set_at >= due or schedule.cadence is InvitationCadence.OFF:
            return None
        late = self.clock.now() - due > self.timing.grace
        if late:
            await self.repo.mark_handled(community_id, due)
        return schedule, community, late

    async def skipped(self, community_id: int, due: datetime) -> None:
        await self.repo.mark_handled(community_id, due)

    # ------------------------------------------------------------------ invitations
    def require_lounge(self, community: Community) -> int:
        if community.lounge_id is None:
            raise NotFound(f"**{escape_inline(community.name)}** has no lounge channel any more.")
        return community.lounge_id

    async def claim_invitation(self, community: Community, due: datetime) -> int | None:
        """Claim the invitation due at ``due``; ``None`` if it was claimed already."""
        claim = await self.repo.claim_invitation(community.id, due, self.clock.now())
        if claim is None:
            log.info("value invitation of %s due %s already posted", community.id, due)
        return claim

    async def release_invitation(self, claim: int) -> None:
        await self.repo.release_invitation(claim)

    async def invitation_posted(
        self, claim: int, channel_id: int, message_id: int
    ) -> PostedInvitation:
        """Record where it went, and close every earlier open invitation of the community
        (returned, for the Discord side to edit: closed, no button)."""
        await self.repo.invitation_posted(claim, channel_id, message_id)
        invitation = await self.repo.invitation(claim)
        assert invitation is not None
        closed = await self.close_open(invitation.community_id, keep=claim)
        return PostedInvitation(claim, closed)

    async def close_open(self, community_id: int, *, keep: int | None = None) -> list[Invitation]:
        """Close every open invitation of the community but ``keep``; returns those closed."""
        closed = []
        for inv in await self.repo.open_invitations(community_id):
            if inv.id == keep:
                continue
            if await self.repo.close_invitation(inv.id, self.clock.now()):
                closed.append(inv)
        return closed

    async def interrupted_invitations(self) -> list[tuple[Invitation, Community]]:
        """Invitations a crash left claimed but not posted, at most the grace old,
        whose community can still take them."""
        found = []
        for inv in await self.repo.unposted_invitations(self.clock.now() - self.timing.grace):
            community = await self.communities.get(inv.community_id)
            if community is None or community.archived or community.lounge_id is None:
                continue
            found.append((inv, community))
        return found

    async def current_invitation(self, community_id: int) -> Invitation | None:
        found = await self.repo.open_invitations(community_id)
        return found[0] if found else None

    async def clicked_invitation(
        self, invitation_id: int
    ) -> tuple[Invitation | None, Invitation | None]:
        """The invitation a button belongs to, and the community's current open one (the
        same when the button is live)."""
        invitation = await self.repo.invitation(invitation_id)
        if invitation is None:
            return None, None
        return invitation, await self.current_invitation(invitation.community_id)


__all__ = [
    "InsideValueStory",
    "PostedInvitation",
    "ValueConsentOutcome",
    "ValueStoryPublisher",
    "ValueStoryService",
]
