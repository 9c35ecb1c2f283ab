"""The value report: which period it covers, what it says, and its quarterly delivery record.

Between the Discord layer (``cogs/value/_report.py``: the command, packaging, DM and e-mail)
and the data: Hearth's own figures are read through the functions the digest already uses
(message counts from :class:`bot.db.activity.ActivityRepo`, meetings from
``held_for_digest``, polls and statement rounds from ``poll_outcomes_for_digest``, stories
from the stories repository), and the stories of value through typed sources
(:class:`ValueReportSources`) wired by import in :func:`default_sources`: value-creation
stories, significant-change stories and the impact log's products. A source that is not in
this build is ``None`` and is left out of the report, named in it as not installed.

The quarterly schedule lives in the database (:mod:`bot.db.value_reports`): a quarter is
claimed before it is sent, so a restart catches up a missed quarter and never sends one twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from bot.clock import Clock
from bot.db.activity import ActivityRepo
from bot.db.database import Database
from bot.db.digests import DigestRepo
from bot.db.meetings import held_for_digest
from bot.db.stories import StoryRepo
from bot.db.value_reports import ReportClaim, ValueReportRepo
from bot.domain.communities import Community
from bot.domain.digest import retry_at
from bot.domain.stories.consent import Consent, StoryRecord, shareable_view
from bot.domain.value.matrix import (
    CYCLES,
    Audience,
    Cycle,
    CycleStory,
    Indicators,
    ProductFigures,
    ProductLine,
    StoryKind,
    ValueMatrix,
    build_matrix,
)
from bot.domain.value.periods import (
    ReportPeriod,
    due_quarter,
    next_send,
    parse_range,
)
from bot.services.change_rounds import ChangeRoundService
from bot.services.polls import poll_outcomes_for_digest
from bot.services.products import ProductReader
from bot.services.value_stories import ValueStoryService
from bot.settings import HearthConfig

if TYPE_CHECKING:
    from bot.services.communities import CommunityService

log = logging.getLogger(__name__)

__all__ = ["ReportClaim", "ValueReportService", "ValueReportSources", "default_sources", "dm_run"]

NameLookup = Callable[[int], Awaitable[str | None]]
CYCLE_NAMES = frozenset(c.value for c in CYCLES)
#: The open end of "every round closed since": rounds close after the stories they select.
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


def dm_run(claim_id: int) -> str:
    """The delivery run of one quarterly report's DM to the sponsor (:mod:`bot.delivery`)."""
    return f"value-report:{claim_id}:dm"


class CycleStoriesSource(Protocol):
    """Stories told in ``[start, end)``, as the matrix reads them (all consent levels but
    withdrawn; the matrix decides per audience what may be quoted). ``names`` looks up a
    teller's display name; only ``named`` stories are credited."""

    def __call__(
        self, community_id: int, start: datetime, end: datetime, names: NameLookup, /
    ) -> Awaitable[list[CycleStory]]: ...


class ProductsSource(Protocol):
    """The impact log's figures for ``[start, end)``."""

    def __call__(
        self, community_id: int, start: datetime, end: datetime, /
    ) -> Awaitable[ProductFigures]: ...


@dataclass(frozen=True)
class ValueReportSources:
    """One source per kind of input; ``None``: not in this build, or its capability is not
    loaded (left out of the report, and named in it as not installed)."""

    value_stories: CycleStoriesSource | None
    change_stories: CycleStoriesSource | None
    products: ProductsSource | None

    def missing(self) -> list[str]:
        return [SOURCE_LABELS[f.name] for f in fields(self) if getattr(self, f.name) is None]


#: How a missing source is named in the report.
SOURCE_LABELS = {
    "value_stories": "value-creation stories",
    "change_stories": "significant-change stories",
    "products": "the impact log of products",
}


def value_stories_from(service: ValueStoryService) -> CycleStoriesSource:
    """Value-creation stories (``/value story``): one text per cycle the teller answered,
    read INSIDE through ``all_between``; what may leave is decided by the matrix's one
    audience function (through ``shareable_view``). The service names tellers itself."""

    async def read(
        community_id: int, start: datetime, end: datetime, names: NameLookup, /
    ) -> list[CycleStory]:
        del names
        out = []
        for story in await service.all_between(community_id, start, end):
            texts = {Cycle(k): v for k, v in story.texts.items() if k in CYCLE_NAMES and v}
            out.append(
                CycleStory(
                    kind=StoryKind.VALUE,
                    consent=story.consent,
                    told_at=story.told_at,
                    texts=texts,
                    teller_name=story.teller_name if story.consent is Consent.NAMED else None,
                )
            )
        return out

    return read


def change_stories_from(service: ChangeRoundService) -> CycleStoriesSource:
    """Stories of significant change (``/change round``): what changed and why it matters,
    reported as realized value; a story the selectors chose carries their reasons (as they
    may be read outside: from ``selected_between``, matched by domain and redacted title)."""

    async def read(
        community_id: int, start: datetime, end: datetime, names: NameLookup, /
    ) -> list[CycleStory]:
        inside = await service.stories_between(community_id, start, end, names)
        if not inside:
            return []
        reasons: dict[tuple[str, str], tuple[str, ...]] = {}
        # Rounds closing after the period can still select a story told in it.
        for sel in await service.selected_between(community_id, start, FOREVER, names):
            reasons[(sel.domain, sel.title)] = sel.reasons
        out = []
        for story in inside:
            text = story.changed.strip()
            if story.why.strip():
                text += f"\nWhy it matters: {story.why.strip()}"
            reason = None
            if story.selected:
                found = reasons.get((story.domain, outside_title(story.title, story.consent)), ())
                reason = "; ".join(found[:2]) or None
            out.append(
                CycleStory(
                    kind=StoryKind.CHANGE,
                    consent=story.consent,
                    told_at=story.created_at,
                    texts={Cycle.REALIZED: text},
                    title=story.title,
                    teller_name=story.teller_name,
                    selected=story.selected,
                    selected_reason=reason,
                    domain=story.domain,
                )
            )
        return out

    return read


def outside_title(title: str, consent: Consent) -> str:
    """A title as ``shareable_view`` lets it leave (to match a selection's outside view)."""
    record = StoryRecord(
        id=0, community_id=0, teller_id=None, title=title, text=".", stage=None,
        consent=Consent.ANONYMOUS if consent is Consent.GROUP else consent,
        created_at=FOREVER,
    )  # fmt: skip
    view = shareable_view(record, teller_display_name=None)
    return view.title if view is not None else title


def products_from(db: Database) -> ProductsSource:
    """The impact log (``/product``): products made, status changes and uses in the period,
    read through the products capability's outside-safe ``activity_between``."""

    async def read(community_id: int, start: datetime, end: datetime, /) -> ProductFigures:
        activity = await ProductReader(db).activity_between(community_id, start, end)
        return ProductFigures(
            made=sum(1 for a in activity if a.created_in_period),
            uses=sum(len(a.uses) for a in activity),
            status_changes=sum(len(a.status_changes) for a in activity),
            items=tuple(
                ProductLine(
                    title=a.title,
                    kind=a.kind.label,
                    status=a.status.value,
                    uses=len(a.uses),
                    made_in_period=a.created_in_period,
                )
                for a in activity
            ),
        )

    return read


def default_sources(
    db: Database,
    value: ValueStoryService | None = None,
    change: ChangeRoundService | None = None,
) -> ValueReportSources:
    """Every source in this build, wired by import (mypy checks each against its Protocol);
    the stories' services are those the running bot registered (``None``: not loaded)."""
    return ValueReportSources(
        value_stories=value_stories_from(value) if value is not None else None,
        change_stories=change_stories_from(change) if change is not None else None,
        products=products_from(db),
    )


@dataclass(frozen=True)
class Schedule:
    """What ``/value report`` tells the facilitator about the sponsor's quarterly report."""

    next_at: datetime
    has_sponsor: bool
    emails: bool
    last: ReportClaim | None


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
            emails=bool(community.sponsor_email and self.smtp_configured),
            last=await self.repo.latest(community.id),
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
