"""The digests capability: which period a digest covers, what it says, and its record.

Between the Discord layer (``cogs/digests``: commands, the message counter, delivery by DM
and e-mail) and the repositories (:mod:`bot.db.digests`, :mod:`bot.db.activity`, and the
other capabilities' read-outs wired in :mod:`bot.services.digest_sources`). Why one service
for preview, send and the schedule: ``/digest preview`` must show exactly what the next
scheduled digest will contain, so both compile through :meth:`DigestService.compile` over
the period :meth:`DigestService.next_period` names; a manual send covers the time since the
last digest, claimed like a scheduled one so nothing is ever sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.clock import Clock
from bot.db.activity import ActivityBuffer, ActivityRepo
from bot.db.database import Database
from bot.db.deliveries import DeliveryRepo
from bot.db.digests import DigestRepo
from bot.domain.communities import Community
from bot.domain.digest import (
    Digest,
    DigestRecord,
    DigestSchedule,
    Period,
    compile_digest,
    due_periods,
    is_late,
    next_due_after,
    parse_schedule,
    retry_at,
    week_of,
)
from bot.domain.digest import DigestConfig as CompileConfig
from bot.errors import InvalidInput, NotAllowed
from bot.services.digest_reading import linked_highlights, previous_weeks, read_members
from bot.services.digest_sources import DigestSources, NameLookup, default_sources
from bot.settings import WEEKDAYS, HearthConfig
from bot.text import escape_inline

if TYPE_CHECKING:
    from bot.services.communities import CommunityService

log = logging.getLogger(__name__)

__all__ = ["ActivityBuffer", "DigestService", "ManualClaim", "dm_run"]


def dm_run(digest_id: int) -> str:
    """The delivery run of one digest's DM to the sponsor (:mod:`bot.delivery`)."""
    return f"digest:{digest_id}:dm"


async def _nothing() -> None:
    return None


@dataclass(frozen=True)
class ManualClaim:
    """What ``/digest send`` may deliver once nothing scheduled is due: the claimed
    record of the time since the last digest, or nothing because nothing has happened
    since ``nothing_since``; and the digest sent before it."""

    record: DigestRecord | None
    previous: DigestRecord | None
    nothing_since: datetime | None = None


class DigestService:
    def __init__(
        self,
        db: Database,
        communities: CommunityService,
        config: HearthConfig,
        clock: Clock,
        *,
        sources: DigestSources | None = None,
        flush: Callable[[], Awaitable[None]] = _nothing,
    ) -> None:
        self.db = db
        self.communities = communities
        self.config = config
        self.clock = clock
        self.sources = default_sources() if sources is None else sources
        #: Writes buffered message counts before a digest reads them.
        self.flush = flush
        self.repo = DigestRepo(db)
        self.activity = ActivityRepo(db)
        self.delivery_runs = DeliveryRepo(db)
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    # ------------------------------------------------------------------ message counts

    async def community_for_channel(self, channel_id: int) -> int | None:
        """The community a channel (or a thread's parent) belongs to, for the counter."""
        return await self.activity.community_for_channel(channel_id)

    async def add_counts(self, batch: dict[tuple[int, int, int], int]) -> None:
        """Write a drained buffer of ``(community, member, epoch hour) -> messages``."""
        await self.activity.add_counts(batch)

    def exclusive(self, community_id: int) -> asyncio.Lock:
        """One claim-and-deliver at a time per community (schedule, retry, manual send)."""
        return self._locks[community_id]

    # ------------------------------------------------------------------ schedule

    def default_schedule(self) -> DigestSchedule:
        cfg = self.config.digest
        return DigestSchedule(WEEKDAYS.index(cfg.weekday), cfg.time, cfg.timezone)

    async def schedule_for(self, community_id: int) -> DigestSchedule:
        return await self.repo.schedule(community_id) or self.default_schedule()

    async def set_schedule(
        self, community_id: int, weekday: str, at: str, timezone: str | None, actor_id: int
    ) -> DigestSchedule:
        sched = parse_schedule(weekday, at, timezone or self.config.digest.timezone)
        await self.repo.set_schedule(community_id, sched, actor_id, self.clock.now())
        return sched

    async def next_run(self, community: Community) -> datetime:
        """When the community's job should run next: its next due time, now if a period
        was missed while Hearth was down, or an earlier pending retry."""
        return self.next_run_from(
            community,
            await self.schedule_for(community.id),
            await self.repo.last_period_end(community.id),
            await self.repo.pending(community.id),
        )

    def next_run_from(
        self,
        community: Community,
        sched: DigestSchedule,
        last_end: datetime | None,
        pending: list[DigestRecord],
    ) -> datetime:
        now = self.clock.now()
        when = next_due_after(now, sched.weekday, sched.at, sched.timezone)
        anchor = last_end or community.created_at
        if due_periods(anchor, now, sched.weekday, sched.at, sched.timezone):
            when = now  # missed while down: catch up at once
        for rec in pending:
            when = min(when, rec.next_attempt_at or now)
        return when

    async def arming_facts(
        self, community_ids: list[int]
    ) -> tuple[dict[int, DigestSchedule], dict[int, datetime], dict[int, list[DigestRecord]]]:
        return await self.repo.arming_facts(community_ids)

    # ------------------------------------------------------------------ periods

    async def due_records(self, community: Community) -> list[DigestRecord]:
        """Pending digests whose retry is due, then a claimed record for every period now
        due (hold :meth:`exclusive` while delivering them)."""
        now = self.clock.now()
        out = [
            rec
            for rec in await self.repo.pending(community.id)
            if rec.next_attempt_at is None or rec.next_attempt_at <= now
        ]
        sched = await self.schedule_for(community.id)
        anchor = await self.repo.last_period_end(community.id) or community.created_at
        for period in due_periods(anchor, now, sched.weekday, sched.at, sched.timezone):
            claimed = await self.repo.claim(
                community.id, period, late=is_late(period, now), now=now
            )
            if claimed is not None:
                out.append(claimed)
        return out

    async def last_digest(self, community_id: int) -> DigestRecord | None:
        history = await self.repo.history(community_id, limit=1)
        return history[-1] if history else None

    def require_sponsor(self, community: Community) -> None:
        if community.sponsor_id is None:
            raise InvalidInput(
                f"**{escape_inline(community.name)}** has no sponsor yet, so there is no one "
                "to send the digest to. Set one with `/community sponsor`; `/digest preview` "
                "works meanwhile."
            )

    async def claim_manual(self, community: Community, names: NameLookup) -> ManualClaim:
        """``/digest send`` once nothing scheduled is due: the time since the last digest
        (or since the community began) to now, claimed like a scheduled period so the next
        one starts where it ends; nothing if nothing happened. Hold :meth:`exclusive`."""
        previous = await self.last_digest(community.id)
        now = self.clock.now()
        start = previous.period.end if previous else community.created_at
        if start >= now:
            return ManualClaim(None, previous, nothing_since=start)
        period = Period(start, now)
        if not (await self.compile(community, period, names, late=False)).has_news:
            return ManualClaim(None, previous, nothing_since=period.start)
        rec = await self.repo.claim(community.id, period, late=False, now=now)
        if rec is None:
            return ManualClaim(None, previous, nothing_since=period.end)
        return ManualClaim(rec, previous)

    async def next_period(self, community: Community) -> tuple[Period, bool]:
        """The period the next digest covers (what preview shows): a digest already due,
        else the one the schedule will send next, from where the last one ended (or the
        community began) to its due time. Never "the last five minutes": on a Monday after
        the digest went, the preview is next Monday's digest, with what is known so far."""
        now = self.clock.now()
        sched = await self.schedule_for(community.id)
        anchor = await self.repo.last_period_end(community.id) or community.created_at
        due = due_periods(anchor, now, sched.weekday, sched.at, sched.timezone)
        if due:
            return due[-1], is_late(due[-1], now)
        upcoming = next_due_after(now, sched.weekday, sched.at, sched.timezone)
        return due_periods(anchor, upcoming, sched.weekday, sched.at, sched.timezone)[-1], False

    async def week_label_date(self, rec: DigestRecord) -> Any:
        tz = (await self.schedule_for(rec.community_id)).timezone
        return week_of(rec.period, tz)

    # ------------------------------------------------------------------ the sponsor's e-mails

    async def emails_stopped(self, community_id: int) -> bool:
        """Whether the sponsor stopped the digest e-mails (the DM is sent regardless)."""
        return await self.repo.email_stopped(community_id)

    async def set_sponsor_emails(self, community_id: int, user_id: int, *, on: bool) -> Community:
        """The sponsor stops (``on=False``) or restarts their digest e-mails; no one else
        may, not even a facilitator (they change the address with ``/community sponsor``)."""
        community = await self.communities.get(community_id)
        if community is None:
            raise InvalidInput("That community no longer exists, so it sends no e-mails.")
        if community.sponsor_id != user_id or not await self.repo.set_email_stopped(
            community_id, user_id, not on, self.clock.now()
        ):
            raise NotAllowed(
                f"Only the sponsor of **{escape_inline(community.name)}** can stop or start "
                "its digest e-mails."
            )
        return community

    # ------------------------------------------------------------------ records

    async def mark_channel_done(self, rec: DigestRecord, *, dm: bool = False) -> None:
        await self.repo.mark_channel_done(rec.id, dm=dm, email=not dm)

    async def mark_sent(self, rec: DigestRecord) -> None:
        await self.repo.mark_sent(rec.id, self.clock.now())

    async def mark_skipped(self, rec: DigestRecord, reason: str) -> None:
        await self.repo.mark_skipped(rec.id, reason)

    async def record_failure(self, rec: DigestRecord, problem: str) -> tuple[int, datetime | None]:
        """Record a failed attempt: ``(attempts, next retry)``, no retry once backoff is
        used up (then the record is failed for good)."""
        attempts = rec.attempts + 1
        nxt = retry_at(attempts, self.config.digest.retry_backoff_seconds, self.clock.now())
        if nxt is None:
            await self.repo.mark_failed(rec.id, attempts, problem)
        else:
            await self.repo.mark_retry(rec.id, attempts, nxt, problem)
        return attempts, nxt

    # ------------------------------------------------------------------ compile

    def compile_config(self) -> CompileConfig:
        cfg = self.config.digest
        return CompileConfig(
            min_discipline_size=cfg.min_discipline_size,
            quiet_weeks=cfg.quiet_weeks,
            top_contributors=cfg.top_contributors,
            late_night_hours=(cfg.late_night_start, cfg.late_night_end),
        )

    async def compile(
        self,
        community: Community,
        period: Period,
        names: NameLookup,
        *,
        late: bool,
        record: DigestRecord | None = None,
    ) -> Digest:
        """Read the period's data (bounded, indexed) and compile the digest.

        ``record`` is the claimed digest being delivered: the stories it offers are recorded
        against it, so none is offered twice. A preview passes none and writes nothing. A
        period still running (a preview) is compiled with what is known now.
        """
        await self.flush()
        as_of = min(self.clock.now(), period.end)
        sched = await self.schedule_for(community.id)
        tz = sched.timezone
        ccfg = self.compile_config()

        named = await read_members(
            self.communities, self.activity, community, period, names, ccfg.quiet_weeks
        )
        previous = await previous_weeks(self.activity, community, period, sched.at, tz)
        src = self.sources
        cid = community.id
        offer = await self._offer(record)
        stories = None
        if src.stories is not None:
            stories = await src.stories(
                self.db, cid, period.start, period.end, names, recipient_id=cid, **offer
            )
        db = self.db
        outcomes = opened = upcoming = held = None
        if src.poll_outcomes is not None:
            outcomes = await src.poll_outcomes(db, cid, period.start, period.end)
        if src.open_polls is not None:
            opened = await src.open_polls(db, cid, as_of)
        if src.upcoming_meetings is not None:
            upcoming = await src.upcoming_meetings(db, cid, as_of, horizon_days=60)
        if src.held_meetings is not None:
            held = await src.held_meetings(db, cid, period.start, as_of)
        made = None
        if src.products is not None:
            made = await src.products(db, cid, period.start, as_of)
        changes = None
        if src.changes is not None:
            changes = await src.changes(db, cid, period.start, as_of, names)
        return compile_digest(
            community.name,
            period,
            named,
            previous,
            tz=tz,
            stories=None if stories is None else stories[0],
            kept_story_count=0 if stories is None else int(stories[1]),
            poll_outcomes=outcomes,
            open_polls=opened,
            upcoming_meetings=upcoming,
            held_meetings=held,
            linked=await linked_highlights(db, self.communities, src, community, period, offer),
            late=late,
            config=ccfg,
            opening=period.start <= community.created_at,
            as_of=as_of,
            guild_id=community.guild_id,
            products=made,
            changes=changes,
        )

    async def _offer(self, record: DigestRecord | None) -> dict[str, Any]:
        """How the stories source records what a digest offers: against the claimed
        ``record``, fixed once any of it may have gone out (the e-mail, or the DM's run
        started), so a retry offers the same stories; nothing for a preview."""
        if record is None:
            return {}
        fixed = (
            record.dm_done
            or record.email_done
            or await self.delivery_runs.state(dm_run(record.id)) is not None
        )
        return {"digest_id": record.id, "fixed": fixed}
