"""The value report: which period it covers, what it says, and its quarterly delivery record.

Between the Discord layer (``cogs/value/_report.py``: the command, packaging, DM and e-mail)
and the data: Hearth's own figures are read through the functions the digest already uses
(message counts from :class:`bot.db.activity.ActivityRepo`, meetings from
``held_for_digest``, polls and statement rounds from ``poll_outcomes_for_digest``, stories
from the stories repository), and the stories of value through typed sources wired by
import in :mod:`bot.services.value_report_sources`: value-creation stories,
significant-change stories and the impact log's products. A source that is not loaded is
``None`` and is left out of the report, named in it as not installed.

The quarterly schedule lives in the database (:mod:`bot.db.value_reports`): a quarter is
claimed before it is sent, so a restart catches up a missed quarter and never sends one twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.db.activity import ActivityRepo
from bot.db.database import Database
from bot.db.digests import DigestRepo
from bot.db.meetings import held_for_digest
from bot.db.stories import StoryRepo
from bot.db.value_reports import ReportClaim, ValueReportRepo
from bot.domain.communities import Community
from bot.domain.digest import retry_at
from bot.domain.value.matrix import Audience, CycleStory, Indicators, ValueMatrix, build_matrix
from bot.domain.value.periods import ReportPeriod, due_quarter, next_send, parse_range
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
    """What ``/value report`` tells the facilitator about the sponsor's quarterly report."""

    next_at: datetime
    has_sponsor: bool
    emails: bool
    last: ReportClaim | None
    timezone: str = "UTC"


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

    async def schedule(self, community: Community) -> Schedule:
        return Schedule(
            next_at=await self.next_run(community),
            has_sponsor=community.sponsor_id is not None,
            emails=bool(community.sponsor_email and self.smtp_configured)
            and not await self.emails_stopped(community.id),
            last=await self.repo.latest(community.id),
            timezone=community.timezone,
        )

    async def due_now(self, community: Community) -> bool:
        """A quarter is due and not yet claimed, or a pending retry is."""
        return (await self.next_run(community)) <= self.clock.now()

    async def next_run(self, community: Community) -> datetime:
        """When the community's job should run: now for an unclaimed due quarter (catch-up
        after downtime) or a due retry, else the next quarter's send time or retry."""
        now = self.clock.now()
        when = next_send(now, community.timezone, community.created_at)
        due = due_quarter(now, community.timezone, community.created_at)
        if due is not None and await self.repo.for_period(community.id, due.start) is None:
            when = now
        for claim in await self.repo.pending([community.id]):
            when = min(when, claim.next_attempt_at or now)
        return when

    async def due_claims(self, community: Community) -> list[ReportClaim]:
        """Pending claims whose retry is due, then the due quarter claimed (if unclaimed)."""
        now = self.clock.now()
        out = [
            c
            for c in await self.repo.pending([community.id])
            if c.next_attempt_at is None or c.next_attempt_at <= now
        ]
        due = due_quarter(now, community.timezone, community.created_at)
        if due is not None:
            claimed = await self.repo.claim(community.id, due.start, due.end, now)
            if claimed is not None:
                out.append(claimed)
        return out

    async def emails_stopped(self, community_id: int) -> bool:
        """The sponsor's own choice under a digest DM stops every Hearth e-mail to them."""
        return await DigestRepo(self.db).email_stopped(community_id)

    async def mark_channel_done(self, claim: ReportClaim, *, dm: bool) -> None:
        await self.repo.mark_channel_done(claim.id, dm=dm)

    async def mark_sent(self, claim: ReportClaim) -> None:
        await self.repo.mark_sent(claim.id, self.clock.now())

    async def mark_skipped(self, claim: ReportClaim, reason: str) -> None:
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
