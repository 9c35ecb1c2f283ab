"""Significant-change rounds: opening, collecting, selecting, the close, and what they offer.

Between the Discord layer (``cogs/change``) and the repository (:mod:`bot.db.change_rounds`).
A round moves collecting → selecting (at ``collect_until``) → closed (at ``select_until``);
each step is a compare-and-set in the database, run by a scheduled job rebuilt from the rows
at load (:meth:`ChangeRoundService.arm`). The Discord side of each step (posting the
selection invitation, the feedback, the tellers' DMs) is the cog's, through
:class:`ChangeHooks`, and goes through :mod:`bot.delivery` so it happens exactly once.

Who selects: the community's members, unless a distilling group is linked to serve the
community (``/community link``) when the round opens; then that group's members select, in
their own channel, and see only the stories whose consent lets them leave the community,
redacted, anonymous ones without names (:mod:`bot.domain.change.views`).

For other capabilities (the value report):
:meth:`ChangeRoundService.selected_between`
(selected stories for readers OUTSIDE the community, consent-filtered and redacted) and
:meth:`ChangeRoundService.stories_between` (every story still told, for use INSIDE the
community). No story text, choice or reason is ever logged.

This module is longer than 400 lines because it is one round's whole lifecycle (open,
collect, select, close, feedback, and the reads other capabilities make) over one
repository; the pure parts (rules, tally, audiences, result shapes) are already in
:mod:`bot.domain.change`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.db.change_deadlines import ChangeDeadlinesRepo
from bot.db.change_rounds import ChangeRoundRepo, DomainFull
from bot.db.database import Database
from bot.domain.change import (
    MAX_CANDIDATES,
    ChangeRound,
    ChangeStory,
    Choice,
    RoundOutcome,
    RoundState,
    check_deadlines,
    parse_domains,
    parse_period,
    tally,
    validate_change_story,
    validate_reason,
    view_for,
)
from bot.domain.change.results import (
    Candidate,
    FeedbackDomain,
    InsideStory,
    RoundStatus,
    SelectedStory,
    TellerNews,
)
from bot.domain.communities import Community, Kind
from bot.domain.glossary import DRAFT_FOOT, DRAFT_HEAD, Glossary, format_suggestion
from bot.domain.stories.consent import Consent
from bot.domain.timeparse import parse_future
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.scheduling import Scheduler
from bot.services.change_reading import NameLookup, feedback_of, selected_between
from bot.services.lifecycle import Communities
from bot.text import escape_inline

log = logging.getLogger(__name__)


async def _no_names(_user_id: int) -> str | None:
    return None


class ChangeCommunities(Communities, Protocol):
    """What rounds ask of the communities capability (its service)."""

    async def served_by(self, community_id: int) -> list[Community]: ...

    async def in_guild(
        self, guild_id: int, *, include_archived: bool = True
    ) -> list[Community]: ...


class ChangeHooks(Protocol):
    """The Discord side of a round's scheduled steps (the cog)."""

    async def selection_due(self, round_id: int) -> None: ...

    async def close_due(self, round_id: int) -> None: ...

    async def reminder_due(self, round_id: int) -> None: ...

    async def feedback_changed(self, rnd: ChangeRound) -> None: ...


@dataclass(frozen=True)
class RoundDefaults:
    domains: tuple[str, ...]
    collect: timedelta
    select: timedelta
    min_choices: int


class ChangeRoundService:
    def __init__(
        self,
        db: Database,
        communities: ChangeCommunities,
        clock: Clock,
        scheduler: Scheduler,
        glossary: Glossary,
        defaults: Callable[[], RoundDefaults],
    ) -> None:
        self.repo = ChangeRoundRepo(db)
        self.deadlines = ChangeDeadlinesRepo(db)
        self.communities = communities
        self.clock = clock
        self.scheduler = scheduler
        self.glossary = glossary
        self.defaults = defaults
        self.hooks: ChangeHooks | None = None

    # ------------------------------------------------------------------ jobs
    @staticmethod
    def selection_job(round_id: int) -> str:
        return f"change:select:{round_id}"

    @staticmethod
    def close_job(round_id: int) -> str:
        return f"change:close:{round_id}"

    @staticmethod
    def reminder_job(round_id: int) -> str:
        return f"change:remind:{round_id}"

    def arm(self, rnd: ChangeRound) -> None:
        """(Re)arm the round's next step from its row."""
        if self.hooks is None:
            return
        guild_id = self.communities.guild_of(rnd.community_id)
        if rnd.state is RoundState.COLLECTING:
            self.scheduler.schedule(
                self.selection_job(rnd.id), rnd.collect_until,
                partial(self.hooks.selection_due, rnd.id), guild_id=guild_id,
            )  # fmt: skip
        elif rnd.state is RoundState.SELECTING:
            self.scheduler.schedule(
                self.close_job(rnd.id),
                rnd.select_until,
                partial(self.hooks.close_due, rnd.id),
                guild_id=guild_id,
            )
            if rnd.reminder_at is not None:
                self.scheduler.schedule(
                    self.reminder_job(rnd.id), rnd.reminder_at,
                    partial(self.hooks.reminder_due, rnd.id), guild_id=guild_id,
                )  # fmt: skip

    def disarm_all(self) -> None:
        self.scheduler.cancel_prefix("change:")

    async def unfinished_rounds(self) -> list[ChangeRound]:
        return await self.repo.unfinished_rounds()

    # ------------------------------------------------------------------ opening
    async def selectors_for(self, community: Community) -> Community:
        """The distilling group linked to serve ``community`` (the earliest linked, if
        several), or the community itself."""
        if community.kind is not Kind.DISTILLING:
            for group in await self.communities.served_by(community.id):
                if not group.archived:
                    return group
        return community

    async def open_round(
        self,
        community: Community,
        opened_by: int,
        *,
        domains: str | None,
        period: str | None,
        collect_until: str | None,
        select_until: str | None,
    ) -> tuple[ChangeRound, Community]:
        """Validate everything, then store the round: (round, selecting community). Nothing
        is stored when any input is refused."""
        cfg = self.defaults()
        now = self.clock.now()
        tz = ZoneInfo(community.timezone)
        names = parse_domains(domains, cfg.domains)
        start, end = parse_period(period, tz, now)
        collect = (
            parse_future(collect_until, tz, now)
            if collect_until and collect_until.strip()
            else now + cfg.collect
        )
        select = (
            parse_future(select_until, tz, now)
            if select_until and select_until.strip()
            else collect + cfg.select
        )
        check_deadlines(now, collect, select)
        if community.lounge_id is None:
            raise InvalidInput(
                f"**{escape_inline(community.name)}** has no lounge channel to announce the "
                "round in."
            )
        selectors = await self.selectors_for(community)
        if selectors.id != community.id and selectors.lounge_id is None:
            raise InvalidInput(
                f"The distilling group **{escape_inline(selectors.name)}** that selects for "
                "this community has no lounge channel to select in."
            )
        rnd = await self.repo.create_round(
            community_id=community.id, selector_id=selectors.id, opened_by=opened_by,
            domains=names, period=(start, end), collect_until=collect, select_until=select,
            min_choices=cfg.min_choices, now=now,
        )  # fmt: skip
        if rnd is None:
            current = await self.repo.current_round(community.id)
            raise Conflict(
                f"**{escape_inline(community.name)}** already has a significant-change round "
                + (f"(#{current.id}, {current.state.value}) " if current else "")
                + "that is not closed yet; open the next one after it closes."
            )
        log.info("change round %s opened for community %s", rnd.id, community.id)
        return rnd, selectors

    async def posted(self, rnd: ChangeRound, channel_id: int, message_id: int) -> None:
        await self.repo.set_message(rnd.id, channel_id, message_id)
        self.arm(rnd)

    async def discard(self, round_id: int) -> None:
        await self.repo.delete_round(round_id)

    async def get(self, round_id: int) -> ChangeRound:
        rnd = await self.repo.get_round(round_id)
        if rnd is None:
            raise NotFound("This significant-change round no longer exists.")
        return rnd

    async def current(self, community: Community) -> ChangeRound:
        rnd = await self.repo.current_round(community.id) or await self.repo.latest_round(
            community.id
        )
        if rnd is None:
            raise NotFound(
                f"**{escape_inline(community.name)}** has had no significant-change round yet."
                " A facilitator opens one with `/change round`."
            )
        return rnd

    async def status(self, community: Community) -> RoundStatus:
        """The current (or latest) round in counts only (see :class:`RoundStatus`)."""
        rnd = await self.current(community)
        counts = [0] * len(rnd.domains)
        for story in await self.repo.stories_of_round(rnd.id):
            if not story.is_tombstone and story.domain < len(counts):
                counts[story.domain] += 1
        selectors = await self.communities.get(rnd.selector_id)
        members = await self.communities.members(rnd.selector_id)
        return RoundStatus(
            rnd, selectors.name if selectors else community.name, tuple(counts),
            await self.repo.selector_count(rnd.id), len(members),
        )  # fmt: skip

    # ------------------------------------------------------------------ collecting
    async def _active_member(self, community_id: int, user_id: int) -> bool:
        membership = await self.communities.membership(community_id, user_id)
        return membership is not None and membership.active

    async def round_for_story(self, round_id: int, user_id: int) -> ChangeRound:
        rnd = await self.get(round_id)
        if not await self._active_member(rnd.community_id, user_id):
            raise NotAllowed("Only members of this community can tell a story in its round.")
        if not rnd.accepts_stories(self.clock.now()):
            raise Conflict(
                "Collection for this round has closed, so it takes no more stories. Thank you "
                "for wanting to tell one: keep it for the next round."
            )
        return rnd

    def check_domain(self, rnd: ChangeRound, domain: int) -> str:
        if not 0 <= domain < len(rnd.domains):
            raise InvalidInput("That domain is not part of this round; choose one from the list.")
        return rnd.domains[domain]

    def check_story(self, changed: str, why: str, title: str) -> tuple[str, str, str]:
        return validate_change_story(changed, why, title)

    def draft_note(self, title: str, changed: str, why: str, limit: int = 1500) -> str:
        """Plain-language suggestions shown on the private preview before anything is kept."""
        return format_suggestion(
            self.glossary.find_jargon(f"{title}\n{changed}\n{why}"), limit=limit,
            head=DRAFT_HEAD, foot=DRAFT_FOOT,
        )  # fmt: skip

    async def tell(
        self,
        round_id: int,
        teller_id: int,
        domain: int,
        *,
        title: str,
        changed: str,
        why: str,
        consent: Consent,
    ) -> ChangeStory:
        rnd = await self.round_for_story(round_id, teller_id)
        self.check_domain(rnd, domain)
        title, changed, why = validate_change_story(changed, why, title)
        if consent is Consent.WITHDRAWN:
            raise InvalidInput("Choose who may read your story: group, anonymous or named.")
        try:
            story = await self.repo.add_story(
                rnd, domain=domain, teller_id=teller_id, title=title, changed=changed, why=why,
                consent=consent, now=self.clock.now(), max_per_domain=MAX_CANDIDATES,
            )  # fmt: skip
        except DomainFull:
            raise Conflict(
                f"This domain already has {MAX_CANDIDATES} stories, as many as selectors can "
                "choose from in one list; tell yours in another domain or the next round."
            ) from None
        if story is None:
            raise Conflict("Collection for this round closed just now; your story was not kept.")
        log.info("change story %s told in round %s", story.id, rnd.id)
        return story

    async def my_stories(self, teller_id: int, guild_id: int) -> list[ChangeStory]:
        ids = [c.id for c in await self.served_in_guild(guild_id)]
        return await self.repo.stories_of_teller(teller_id, ids)

    async def served_in_guild(self, guild_id: int) -> list[Community]:
        return await self.communities.in_guild(guild_id)

    async def story_of_teller(self, story_id: int, teller_id: int) -> ChangeStory:
        story = await self.repo.get_story(story_id)
        if story is not None and not story.is_tombstone and story.teller_id != teller_id:
            raise NotAllowed(
                f"Only its teller can change story of change #{story_id}. Pick one of yours "
                "from the list."
            )
        if story is None or story.teller_id != teller_id:
            raise NotFound(
                f"You have no story of change #{story_id}. Pick one of yours from the list."
            )
        return story

    async def set_consent(
        self, story_id: int, teller_id: int, consent: Consent
    ) -> tuple[ChangeStory, ChangeRound]:
        """A teller's new consent. Withdrawing deletes the words (a tombstone remains);
        the cog then edits the story out of any feedback already posted."""
        story = await self.story_of_teller(story_id, teller_id)
        await self.repo.set_consent(story.id, consent, self.clock.now())
        updated = await self.repo.get_story(story.id)
        assert updated is not None
        return updated, await self.get(story.round_id)

    # ------------------------------------------------------------------ selecting
    async def open_selection(self, round_id: int) -> ChangeRound | None:
        """collecting → selecting, once; None if it had already moved on."""
        if not await self.repo.open_selection(round_id, self.clock.now()):
            return None
        rnd = await self.get(round_id)
        self.arm(rnd)
        log.info("change round %s: selection open", round_id)
        return rnd

    async def selection_posted(self, rnd: ChangeRound, channel_id: int, message_id: int) -> None:
        await self.repo.set_selection_message(rnd.id, channel_id, message_id)

    async def round_for_selection(self, round_id: int, user_id: int) -> ChangeRound:
        rnd = await self.get(round_id)
        if not await self._active_member(rnd.selector_id, user_id):
            raise NotAllowed(
                "Only the selectors of this round (members of the group that "
                "selects) can choose stories."
            )
        if rnd.state is RoundState.COLLECTING:
            raise Conflict("Selection has not opened yet: stories are still being collected.")
        if not rnd.accepts_choices(self.clock.now()):
            raise Conflict("Selection for this round has closed; its feedback is posted.")
        return rnd

    async def candidates(self, rnd: ChangeRound, domain: int, names: NameLookup) -> list[Candidate]:
        """The stories of ``domain`` the selectors may read (see the module docstring)."""
        self.check_domain(rnd, domain)
        out: list[Candidate] = []
        for story in await self.repo.stories_of_round(rnd.id):
            if story.domain != domain:
                continue
            name = (
                await names(story.teller_id)
                if story.consent is Consent.NAMED and (story.teller_id is not None)
                else None
            )
            view = view_for(story, name, outside=rnd.distilled)
            if view is not None:
                out.append(Candidate(story.id, view))
        return out

    async def candidate_counts(self, rnd: ChangeRound) -> list[int]:
        counts = [0] * len(rnd.domains)
        for story in await self.repo.stories_of_round(rnd.id):
            view = view_for(story, None, outside=rnd.distilled)
            if view is not None and story.domain < len(counts):
                counts[story.domain] += 1
        return counts

    async def my_choices(self, rnd: ChangeRound, selector_id: int) -> dict[int, Choice]:
        return {c.domain: c for c in await self.repo.choices_of(rnd.id, selector_id)}

    async def check_not_own(self, story_id: int, selector_id: int) -> None:
        """Selectors choose among other people's stories, never their own."""
        story = await self.repo.get_story(story_id)
        if story is not None and story.teller_id == selector_id:
            raise NotAllowed(
                "You told this story, so choose among the others: selection asks which of "
                "other people's stories matters most."
            )

    async def choose(
        self, round_id: int, selector_id: int, domain: int, story_id: int, reason: str
    ) -> bool:
        """Store a selector's choice with their reason; True when it replaced an earlier one."""
        rnd = await self.round_for_selection(round_id, selector_id)
        self.check_domain(rnd, domain)
        cleaned = validate_reason(reason)
        story = await self.repo.get_story(story_id)
        if (
            story is None
            or story.round_id != rnd.id
            or story.domain != domain
            or view_for(story, None, outside=rnd.distilled) is None
        ):
            raise NotFound("That story is no longer among this domain's candidates.")
        await self.check_not_own(story.id, selector_id)
        stored, changed = await self.repo.choose(
            rnd, Choice(domain, selector_id, story_id, cleaned), self.clock.now()
        )
        if not stored:
            raise Conflict("Selection closed just now; your choice was not kept.")
        return changed

    # ------------------------------------------------------------------ closing
    def _decide(
        self, rnd: ChangeRound, stories: list[ChangeStory], choices: list[Choice]
    ) -> RoundOutcome:
        candidates: dict[int, list[int]] = {}
        for story in stories:
            if view_for(story, None, outside=rnd.distilled) is not None:
                candidates.setdefault(story.domain, []).append(story.id)
        return tally(rnd.domains, candidates, choices, rnd.min_choices)

    async def close(self, round_id: int) -> ChangeRound | None:
        """selecting → closed with the outcome frozen; None if it was already closed."""
        closed = await self.repo.close_round(round_id, self.clock.now(), self._decide)
        self.scheduler.cancel(self.close_job(round_id))
        self.scheduler.cancel(self.reminder_job(round_id))
        if closed is not None:
            log.info("change round %s closed", round_id)
        return closed

    # ------------------------------------------------------------------ closing early
    async def round_to_close(self, community: Community) -> ChangeRound:
        """The community's round that is collecting or selecting (``/change close``)."""
        rnd = await self.repo.current_round(community.id)
        if rnd is None or rnd.state is RoundState.CLOSED:
            raise NotFound(
                f"**{escape_inline(community.name)}** has no significant-change round "
                "collecting or selecting, so there is nothing to close. A facilitator opens "
                "one with `/change round`."
            )
        return rnd

    async def close_early(self, round_id: int, step: RoundState) -> bool:
        """End ``step`` (collecting or selecting) of the round now, once: True when this
        call ended it; False when it had ended already (another facilitator, the deadline).
        The caller then runs the step as at its deadline (exactly once there too)."""
        now = self.clock.now()
        if step is RoundState.COLLECTING:
            ended = await self.deadlines.end_collection_now(round_id, now)
            if ended:
                self.scheduler.cancel(self.selection_job(round_id))
        elif step is RoundState.SELECTING:
            ended = await self.deadlines.end_selection_now(round_id, now)
            if ended:
                self.scheduler.cancel(self.close_job(round_id))
                self.scheduler.cancel(self.reminder_job(round_id))
        else:
            raise InvalidInput("Only collecting or selecting can be closed early.")
        if ended:
            log.info("change round %s: %s closed early", round_id, step.value)
        return ended

    async def to_remind(self, rnd: ChangeRound) -> list[int]:
        """The selectors who have not chosen a story in any domain yet (the reminder's
        recipients; read when it is sent, so whoever chose since is left out)."""
        chose = await self.deadlines.choosers(rnd.id)
        members = await self.communities.members(rnd.selector_id)
        return [m.user_id for m in members if m.user_id not in chose]

    async def feedback(
        self, rnd: ChangeRound, names: NameLookup, *, outside: bool
    ) -> list[FeedbackDomain]:
        """Each domain's selection as ``outside`` (or inside) readers may see it, read now:
        a story withdrawn since shows as a tombstone."""
        return await feedback_of(self.repo, rnd, names, outside=outside)

    async def teller_news(self, rnd: ChangeRound, names: NameLookup) -> list[TellerNews]:
        """One item per story still told in the round: its teller, and its domain's result."""
        inside = await self.feedback(rnd, names, outside=False)
        news: list[TellerNews] = []
        for story in await self.repo.stories_of_round(rnd.id):
            if story.teller_id is None or story.is_tombstone or story.domain >= len(inside):
                continue
            domain = inside[story.domain]
            news.append(
                TellerNews(story.teller_id, story, domain, story.id in domain.outcome.selected)
            )
        return news

    async def after_erasure(self, community_ids: list[int]) -> None:
        """A member was erased (``/privacy forget``): their stories of change are tombstones
        now, so the feedback already posted in these communities is drawn again without
        them (the privacy capability calls this after its erasure)."""
        if self.hooks is None:
            return
        for community_id in community_ids:
            for rnd in await self.repo.closed_rounds_with_feedback(community_id):
                await self.hooks.feedback_changed(rnd)

    async def feedback_posts(self, round_id: int) -> list[tuple[int, str, int, int]]:
        return await self.repo.feedback_posts(round_id)

    async def feedback_posted(
        self, round_id: int, domain: int, audience: str, channel_id: int, message_id: int
    ) -> None:
        await self.repo.add_feedback_post(round_id, domain, audience, channel_id, message_id)

    # ------------------------------------------------------------------ for other capabilities
    async def selected_between(
        self,
        community_id: int,
        start: datetime,
        end: datetime,
        names: NameLookup = _no_names,
    ) -> list[SelectedStory]:
        """Stories SELECTED in rounds of ``community_id`` closed in ``[start, end)``, as they
        may be read OUTSIDE the community (the sponsor's digest, the value report).

        Consent-filtered through the one exit (``shareable_view``): only ``anonymous`` and
        ``named`` stories, redacted, a name only for ``named`` (looked up with ``names``);
        withdrawn stories are left out. Each carries its domain, the selectors' reasons
        (never their names) and whether it tied. Ordered by close time, then domain."""
        return await selected_between(self.repo, community_id, start, end, names)

    async def stories_between(
        self,
        community_id: int,
        start: datetime,
        end: datetime,
        names: NameLookup = _no_names,
    ) -> list[InsideStory]:
        """Every story of change told in ``community_id`` in ``[start, end)`` and not
        withdrawn, for use INSIDE the community only (not redacted; a name only for
        ``named``; no teller ids), with whether a closed round selected it."""
        stories = await self.repo.stories_between(community_id, start, end)
        rounds: dict[int, ChangeRound] = {}
        out: list[InsideStory] = []
        for story in stories:
            if story.round_id not in rounds:
                rounds[story.round_id] = await self.get(story.round_id)
            rnd = rounds[story.round_id]
            name = (
                await names(story.teller_id)
                if story.teller_id is not None and story.consent is Consent.NAMED
                else None
            )
            out.append(
                InsideStory(
                    story_id=story.id, round_id=rnd.id,
                    domain=rnd.domains[story.domain] if story.domain < len(rnd.domains) else "",
                    title=story.title or "", changed=story.changed or "", why=story.why or "",
                    consent=story.consent, teller_name=name, created_at=story.created_at,
                    selected=rnd.outcome is not None and story.id in rnd.outcome.selected_ids(),
                )
            )  # fmt: skip
        return out
