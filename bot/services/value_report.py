"""The value report: which period it covers, what it says, and its quarterly delivery record.

Between the Discord layer (``cogs/value/_report.py``: the command, packaging, DM and e-mail)
and the data: Hearth's own figures are read through the functions the digest already uses
(message counts from :class:`bot.db.activity.ActivityRepo`, meetings from
``held_for_digest``, polls and statement rounds from ``poll_outcomes_for_digest``, stories
from the stories repository), and the stories of value through typed sources wired by
import in :mod:`bot.services.value_report_sources`: value-creation stories,
significant-change stories and the impact log's products. A source that is not loaded is
``None`` and is left out of the report, named in it as not installed.

The schedule lives in the database: each community's cadence (quarterly unless a
facilitator chose another with ``/value schedule``, :mod:`bot.db.value_report_schedules`) and
each report's claim (:mod:`bot.db.value_reports`). A report's window is claimed before it is
sent, so a restart catches up a missed report and never sends one twice; the windows follow
each other without overlap, also across a change of cadence (the rules:
:mod:`bot.domain.value.periods`). A report skipped because the community had no sponsor goes
once a sponsor is set, if it is still the latest one due.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.db.activity import ActivityRepo
from bot.db.database import Database
from bot.db.digests import DigestRepo
from bot.db.meetings import held_for_digest
from bot.db.stories import StoryRepo
from bot.db.value_report_schedules import NO_SPONSOR, ArmingFacts, ValueReportScheduleRepo
from bot.db.value_reports import ReportClaim, ValueReportRepo
from bot.domain.communities import Community
from bot.domain.digest import retry_at
from bot.domain.value.matrix import Audience, CycleStory, Indicators, ValueMatrix, build_matrix
from bot.domain.value.periods import (
    Cadence,
    ReportPeriod,
    ReportSchedule,
    change_schedule,
    due_window,
    latest_due,
    next_report_at,
    next_run_at,
    parse_cadence,
    parse_range,
)
from bot.services.polls import poll_outcomes_for_digest
from bot.services.value_report_sources import (
    NameLookup,
    ValueReportSources,
    default_sources,
)
from bot.settings import HearthConfig

if TYPE_CHECKING:
    from bot.services.communities import CommunityService

log = logging.getLogger(__name__)

__all__ = [
    "NameLookup",
    "ReportClaim",
    "ValueReportService",
    "ValueReportSources",
    "default_sources",
    "dm_run",
]


def dm_run(claim_id: int) -> str:
    """The delivery run of one quarterly report's DM to the sponsor (:mod:`bot.delivery`)."""
    return f"value-report:{claim_id}:dm"


@dataclass(frozen=True)
class Schedule:
    """What ``/value report`` and ``/value schedule`` tell the facilitator about the
    sponsor's scheduled report. ``next_at``/``next_period``: ``None`` when it is off."""

    next_at: datetime | None
    has_sponsor: bool
    emails: bool
    last: ReportClaim | None
    timezone: str = "UTC"
    cadence: Cadence = Cadence.QUARTERLY
    next_period: ReportPeriod | None = None
    sponsor_id: int | None = None


class ValueReportService:
    def __init__(
        self,
        db: Database,
        communities: CommunityService,
        config: HearthConfig,
        clock: Clock,
        *,
        smtp_configured: bool = False,
        sources: ValueReportSources | None = None,
        resolve: Callable[[], ValueReportSources] | None = None,
        flush: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.db = db
        self.communities = communities
        self.config = config
        self.clock = clock
        self.smtp_configured = smtp_configured
        #: Fixed sources (tests); otherwise ``resolve`` finds them at each report, so a
        #: capability loaded (or reloaded) after this one is read.
        self.sources = sources
        self.resolve = resolve or (lambda: default_sources(db))
        #: Writes buffered message counts before a report reads them (the digest's counter).
        self.flush = flush
        self.repo = ValueReportRepo(db)
        self.schedules = ValueReportScheduleRepo(db)
        self.activity = ActivityRepo(db)

    def current_sources(self) -> ValueReportSources:
        return self.sources if self.sources is not None else self.resolve()

    # ------------------------------------------------------------------ periods

    def period_for(self, community: Community, start: str | None, end: str | None) -> ReportPeriod:
        """``/value report``'s period: the last quarter by default, or ``from``/``to``."""
        return parse_range(
            start, end, now=self.clock.now(), tz=community.timezone, began=community.created_at
        )

    # ------------------------------------------------------------------ the matrix

    async def figures(self, community: Community, period: ReportPeriod) -> Indicators:
        """Hearth's own counts for the period, read as the digest reads them."""
        if self.flush is not None:
            await self.flush()
        cid, start, end = community.id, period.start, period.end
        ((messages, active),) = await self.activity.weekly_totals(cid, [(start, end)])
        members = [
            m
            for m in await self.communities.members(cid, active_only=False)
            if m.joined_at < end and (m.left_at is None or m.left_at >= end)
        ]
        held = [h for h in await held_for_digest(self.db, cid, start, end) if h.starts_at >= start]
        marked = [h for h in held if h.attended is not None]
        outcomes = await poll_outcomes_for_digest(self.db, cid, start, end)
        rounds = [o for o in outcomes if o.is_round]
        stories = await StoryRepo(self.db).created_between(cid, start, end)
        products = None
        source = self.current_sources().products
        if source is not None:
            products = await source(cid, start, end)
        return Indicators(
            members_total=len(members),
            members_active=active,
            messages=messages,
            meetings_held=len(held),
            meeting_attendance=sum(h.attended or 0 for h in marked),
            meetings_with_attendance=len(marked),
            stories_told=sum(1 for s in stories if not s.is_tombstone),
            statements_agreed=sum(1 for o in rounds for f in o.findings if f.kind == "agree"),
            rounds_closed=len(rounds),
            polls_closed=len(outcomes) - len(rounds),
            products=products,
        )

    async def stories(
        self, community: Community, period: ReportPeriod, names: NameLookup
    ) -> list[CycleStory]:
        out: list[CycleStory] = []
        sources = self.current_sources()
        for source in (sources.value_stories, sources.change_stories):
            if source is not None:
                out += await source(community.id, period.start, period.end, names)
        return out

    async def compile(
        self,
        community: Community,
        period: ReportPeriod,
        audience: Audience,
        names: NameLookup,
    ) -> ValueMatrix:
        """The matrix for ``audience``; read-only (a preview and a delivery compile alike)."""
        return build_matrix(
            community_name=community.name,
            start=period.start,
            end=period.end,
            timezone=period.timezone,
            audience=audience,
            indicators=await self.figures(community, period),
            stories=await self.stories(community, period, names),
            sources_missing=self.current_sources().missing(),
        )

    # ------------------------------------------------------------------ the schedule

    async def report_schedule(self, community: Community) -> ReportSchedule:
        return await self.schedules.get(community.id)

    async def set_cadence(self, community: Community, cadence: str) -> tuple[bool, Schedule]:
        """A facilitator's ``/value schedule``: (changed, the schedule now). Choosing the
        cadence already in force changes nothing (the next report stays as it was)."""
        chosen = parse_cadence(cadence)
        old = await self.schedules.get(community.id)
        if chosen is old.cadence:
            return False, await self.schedule(community)
        new = change_schedule(
            old, chosen, self.clock.now(), community.timezone, community.created_at,
            await self.schedules.last_end(community.id),
        )  # fmt: skip
        await self.schedules.set(community.id, new)
        log.info("value report schedule of community %s: %s", community.id, chosen.value)
        return True, await self.schedule(community)

    async def schedule(self, community: Community) -> Schedule:
        sched = await self.schedules.get(community.id)
        nxt = next_report_at(
            self.clock.now(), sched, community.timezone, community.created_at,
            await self.schedules.last_end(community.id),
        )  # fmt: skip
        return Schedule(
            next_at=None if nxt is None else nxt[0],
            has_sponsor=community.sponsor_id is not None,
            emails=bool(community.sponsor_email and self.smtp_configured)
            and not await self.emails_stopped(community.id),
            last=await self.repo.latest(community.id),
            timezone=community.timezone,
            cadence=sched.cadence,
            next_period=None if nxt is None else nxt[1],
            sponsor_id=community.sponsor_id,
        )

    async def due_now(self, community: Community) -> bool:
        """A report is due and not yet claimed, or a pending retry is."""
        when = await self.next_run(community)
        return when is not None and when <= self.clock.now()

    async def next_run(self, community: Community) -> datetime | None:
        """When the community's job should run: now for an unclaimed due report (catch-up
        after downtime) or one skipped for want of a sponsor that now has one, or a due
        retry; else the next report's send time or retry. ``None``: nothing to run (off,
        and no retry pending)."""
        now = self.clock.now()
        sched = await self.schedules.get(community.id)
        last_end = await self.schedules.last_end(community.id)
        tz, began = community.timezone, community.created_at
        nxt = next_report_at(now, sched, tz, began, last_end)
        when = None if nxt is None else nxt[0]
        due = due_window(now, sched, tz, began, last_end)
        if due is not None or await self._reopenable(community, sched) is not None:
            when = now
        for claim in await self.repo.pending([community.id]):
            retry = claim.next_attempt_at or now
            when = retry if when is None else min(when, retry)
        return when

    async def arming_facts(self, community_ids: Sequence[int]) -> dict[int, ArmingFacts]:
        """What :meth:`next_run_from` needs for many communities, read in one go (start-up
        and the hourly sweep arm every community from it)."""
        return await self.schedules.arming_facts(community_ids)

    async def next_runs(self, communities: Sequence[Community]) -> dict[int, datetime | None]:
        """:meth:`next_run` of each community, by id, from one batched read."""
        facts = await self.arming_facts([c.id for c in communities])
        return {c.id: self.next_run_from(c, facts.get(c.id, ArmingFacts())) for c in communities}

    def next_run_from(self, community: Community, facts: ArmingFacts) -> datetime | None:
        """:meth:`next_run` from facts already read (:meth:`arming_facts`): the same answer,
        computed without a query."""
        skipped = facts.latest_end if facts.skipped_for_sponsor else None
        return next_run_at(
            self.clock.now(), facts.schedule, community.timezone, community.created_at,
            facts.last_end,
            skipped_end=skipped if community.sponsor_id is not None else None,
            retries=facts.retries,
        )  # fmt: skip

    async def _reopenable(self, community: Community, sched: ReportSchedule) -> ReportClaim | None:
        """The latest report, if it was skipped for want of a sponsor, the community has
        one now, and it is still the most recent due (a later one would go instead)."""
        if community.sponsor_id is None or sched.cadence is Cadence.OFF:
            return None
        latest = await self.repo.latest(community.id)
        if latest is None or latest.state != "skipped" or latest.problem != NO_SPONSOR:
            return None
        due = latest_due(self.clock.now(), sched.cadence, community.timezone)
        return latest if latest.end >= due.end else None

    async def due_claims(self, community: Community) -> list[ReportClaim]:
        """Pending claims whose retry is due, then the due report claimed (if unclaimed),
        or the latest one skipped for want of a sponsor, reopened now there is one."""
        now = self.clock.now()
        out = [
            c
            for c in await self.repo.pending([community.id])
            if c.next_attempt_at is None or c.next_attempt_at <= now
        ]
        sched = await self.schedules.get(community.id)
        last_end = await self.schedules.last_end(community.id)
        due = due_window(now, sched, community.timezone, community.created_at, last_end)
        claimed: ReportClaim | None = None
        if due is not None:
            claim_id = await self.schedules.claim_window(community.id, due.start, due.end, now)
            if claim_id is not None:
                claimed = await self.repo.get(claim_id)
        else:
            skipped = await self._reopenable(community, sched)
            if skipped is not None and await self.schedules.reopen_skipped(skipped.id):
                log.info("value report %s: the community has a sponsor now", skipped.id)
                claimed = await self.repo.get(skipped.id)
        if claimed is not None and all(c.id != claimed.id for c in out):
            out.append(claimed)
        return out

    async def emails_stopped(self, community_id: int) -> bool:
        """The sponsor's own choice under a digest DM stops every Hearth e-mail to them."""
        return await DigestRepo(self.db).email_stopped(community_id)

    async def mark_channel_done(self, claim: ReportClaim, *, dm: bool) -> None:
        await self.repo.mark_channel_done(claim.id, dm=dm)

    async def mark_sent(self, claim: ReportClaim) -> None:
        await self.repo.mark_sent(claim.id, self.clock.now())

    async def mark_skipped(self, claim: ReportClaim, reason: str = NO_SPONSOR) -> None:
        await self.repo.mark_skipped(claim.id, reason)

    async def record_failure(self, claim: ReportClaim, problem: str) -> tuple[int, datetime | None]:
        """``(attempts, next retry)``; no retry once the digest's backoff is used up."""
        attempts = claim.attempts + 1
        nxt = retry_at(attempts, self.config.digest.retry_backoff_seconds, self.clock.now())
        if nxt is None:
            await self.repo.mark_failed(claim.id, attempts, problem)
        else:
            await self.repo.mark_retry(claim.id, attempts, nxt, problem)
        return attempts, nxt
