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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from bot.clock import Clock
from bot.db.activity import ActivityBuffer, ActivityRepo
from bot.db.database import Database
from bot.db.deliveries import DeliveryRepo
from bot.db.digests import DigestRepo
from bot.domain.communities import Community, Membership
from bot.domain.digest import (
    CHART_WEEKS,
    Digest,
    DigestRecord,
    DigestSchedule,
    LinkedHighlights,
    MemberActivity,
    Period,
    WeekActivity,
    compile_digest,
    counted_hours,
    due_periods,
    is_late,
    next_due_after,
    parse_schedule,
    previous_periods,
    quiet_members,
    retry_at,
    week_of,
)
from bot.domain.digest import DigestConfig as CompileConfig
from bot.errors import InvalidInput, NotAllowed
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

        memberships = [
            m
            for m in await self.communities.members(community.id, active_only=False)
            if m.joined_at < period.end and (m.left_at is None or m.left_at >= period.start)
        ]
        opening = period.start <= community.created_at
        first, _ = counted_hours(period, opening=opening)
        hourly: dict[int, dict[datetime, int]] = defaultdict(dict)
        for hc in await self.activity.hourly_counts(community.id, first, period.end):
            hourly[hc.user_id][hc.hour_start] = hc.messages
        silent = [m.user_id for m in memberships if m.left_at is None and m.user_id not in hourly]
        last_active = await self.activity.last_active_before(community.id, silent, first)
        members = [_activity(m, "", hourly, last_active) for m in memberships]
        quiet = {
            q.member_id
            for q in quiet_members(
                [m for m in members if m.is_member_at(period.end)], period, {}, ccfg.quiet_weeks
            )
        }
        # Only the members the digest may name: those to thank (who posted) and those to
        # check in with. Who joined or left is counted, never named, so never looked up.
        needed = set(hourly) | quiet
        named: list[MemberActivity] = []
        for m in memberships:
            name = ""
            if m.user_id in needed:
                name = await names(m.user_id) or "a former member"
            named.append(_activity(m, name, hourly, last_active))

        previous = await self._previous_weeks(community, period, sched.at, tz)
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
            linked=await self._linked(community, period, record),
            late=late,
            config=ccfg,
            opening=opening,
            as_of=as_of,
        )

    async def _previous_weeks(
        self, community: Community, period: Period, at: time, tz: str
    ) -> list[WeekActivity]:
        # Only weeks the community existed in: zeros from before it was created would make
        # every new community's first digest read "up from none" against invented weeks.
        earlier = [
            p
            for p in previous_periods(period, at, tz, CHART_WEEKS - 1)
            if p.end > community.created_at
        ]
        totals = await self.activity.weekly_totals(
            community.id, [(p.start, p.end) for p in earlier]
        )
        return [
            WeekActivity(week_of(p, tz), msgs, active)
            for p, (msgs, active) in zip(earlier, totals, strict=True)
        ]

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

    async def _linked(
        self, community: Community, period: Period, record: DigestRecord | None = None
    ) -> list[LinkedHighlights]:
        """A distilling group's digest rolls up the highlights of the community it serves.

        Only what may leave that community: consent-filtered story titles (through the
        stories capability's exit function) and collective statements, never names.
        """
        if community.serves_id is None:
            return []
        served = await self.communities.get(community.serves_id)
        if served is None:
            return []

        async def no_names(_: int) -> str | None:
            return None

        highlights: list[str] = []
        src = self.sources
        if src.stories is not None:
            shared, _ = await src.stories(
                self.db, served.id, period.start, period.end, no_names,
                recipient_id=community.id, since=community.created_at,
                **await self._offer(record),
            )  # fmt: skip
            highlights += [f"Story: {s.title} ({s.stage_label})" for s in shared]
        if src.poll_outcomes is not None:
            for po in await src.poll_outcomes(self.db, served.id, period.start, period.end):
                highlights.append(po.collective_statement)
        return [LinkedHighlights(served.name, highlights)]


def _activity(
    m: Membership,
    name: str,
    hourly: Mapping[int, dict[datetime, int]],
    last_active: Mapping[int, datetime],
) -> MemberActivity:
    return MemberActivity(
        member_id=m.user_id,
        display_name=name,
        discipline=m.discipline.value,
        joined_at=m.joined_at,
        left_at=m.left_at,
        hourly_counts=hourly.get(m.user_id, {}),
        last_active_before=last_active.get(m.user_id),
    )
