"""Compiling, packaging and delivering digests, exactly once per community and period.

Why one service for preview, send and the schedule: ``/digest preview`` must show exactly
what the sponsor gets, so all three go through :meth:`DigestService.package`; and every
delivery goes through :meth:`DigestService.deliver`, which records progress in the database
before and after each step so that a crash, a restart or a closed DM never loses a digest
and never sends one twice.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import discord

from bot.db.activity import ActivityRepo
from bot.db.deliveries import RunState
from bot.db.digests import DigestRepo
from bot.delivery import Deliveries, Destination
from bot.domain.chart import activity_chart_png
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
    is_full_week,
    is_late,
    next_due_after,
    previous_periods,
    quiet_members,
    retry_at,
    week_of,
)
from bot.domain.digest import DigestConfig as CompileConfig
from bot.domain.digest_render import long_date, render_embeds, render_markdown
from bot.domain.email_message import CHART_FILENAME, build_digest_email
from bot.errors import InvalidInput
from bot.interactions import NO_MENTIONS
from bot.text import escape_inline
from cogs.digests import _sources
from cogs.digests._counter import MessageCounter
from cogs.digests._mail import MAIL_ERRORS, send_email

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

JOB_PREFIX = "digest:"
SWEEP_JOB = "digest:sweep"


def job_id(community_id: int) -> str:
    return f"{JOB_PREFIX}{community_id}"


def dm_run(digest_id: int) -> str:
    """The delivery run of one digest's DM to the sponsor (:mod:`bot.delivery`)."""
    return f"digest:{digest_id}:dm"


@dataclass(frozen=True)
class DigestPackage:
    """Everything a recipient gets: embed messages, the Markdown file and the chart."""

    digest: Digest
    messages: list[list[dict[str, Any]]]
    markdown: bytes
    markdown_filename: str
    chart_png: bytes

    def discord_messages(self) -> list[tuple[list[discord.Embed], list[discord.File]]]:
        """Fresh discord objects per send (a ``discord.File`` can be read only once)."""
        out: list[tuple[list[discord.Embed], list[discord.File]]] = []
        for i, batch in enumerate(self.messages):
            embeds = [discord.Embed.from_dict(e) for e in batch]
            files = []
            if i == 0:
                files = [
                    discord.File(io.BytesIO(self.markdown), filename=self.markdown_filename),
                    discord.File(io.BytesIO(self.chart_png), filename=CHART_FILENAME),
                ]
            out.append((embeds, files))
        return out


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt achieved, for the reply to ``/digest send``."""

    record: DigestRecord
    state: str
    errors: tuple[str, ...] = ()
    retry_at: datetime | None = None
    email_sent: bool = False


@dataclass(frozen=True)
class ManualSend:
    """What ``/digest send`` did, for its reply: the digests it delivered (catch-up of
    scheduled weeks, or the time since the last digest), or nothing because nothing has
    happened since ``nothing_since``; and the digest sent before, so the facilitator sees
    what the sponsor already has."""

    outcomes: list[Outcome]
    previous: DigestRecord | None
    nothing_since: datetime | None = None


class DigestService:
    def __init__(self, bot: HearthBot, counter: MessageCounter) -> None:
        self.bot = bot
        self.counter = counter
        self.repo = DigestRepo(bot.db)
        self.activity = ActivityRepo(bot.db)
        self.deliveries = Deliveries(bot)
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    # ------------------------------------------------------------------ schedule

    def default_schedule(self) -> DigestSchedule:
        cfg = self.bot.config.digest
        from bot.settings import WEEKDAYS

        return DigestSchedule(WEEKDAYS.index(cfg.weekday), cfg.time, cfg.timezone)

    async def schedule_for(self, community_id: int) -> DigestSchedule:
        return await self.repo.schedule(community_id) or self.default_schedule()

    async def arm(self, community: Community) -> datetime | None:
        """(Re)arm the community's one job at its next due time or pending retry."""
        if community.archived:
            self.bot.scheduler.cancel(job_id(community.id))
            return None
        return self._arm_from(
            community,
            await self.schedule_for(community.id),
            await self.repo.last_period_end(community.id),
            await self.repo.pending(community.id),
        )

    def _arm_from(
        self,
        community: Community,
        sched: DigestSchedule,
        last_end: datetime | None,
        pending: list[DigestRecord],
    ) -> datetime:
        now = self.bot.clock.now()
        when = next_due_after(now, sched.weekday, sched.at, sched.timezone)
        anchor = last_end or community.created_at
        if due_periods(anchor, now, sched.weekday, sched.at, sched.timezone):
            when = now  # missed while down: catch up at once
        for rec in pending:
            when = min(when, rec.next_attempt_at or now)
        cid = community.id
        self.bot.scheduler.schedule(job_id(cid), when, lambda: self.run_job(cid))
        return when

    async def arm_all(self) -> None:
        """Arm every active community without a job, reading their facts in one go."""
        todo = [
            c for c in await self.bot.communities.all_active()
            if self.bot.scheduler.next_run(job_id(c.id)) is None
        ]
        if not todo:
            return
        schedules, ends, pending = await self.repo.arming_facts([c.id for c in todo])
        default = self.default_schedule()
        for community in todo:
            self._arm_from(
                community,
                schedules.get(community.id, default),
                ends.get(community.id),
                pending.get(community.id, []),
            )

    async def sweep(self) -> None:
        """Hourly: arm communities created since start (the database is the truth)."""
        try:
            await self.arm_all()
            await self.counter.flush()
        finally:
            now = self.bot.clock.now()
            from datetime import timedelta

            self.bot.scheduler.schedule(SWEEP_JOB, now + timedelta(hours=1), self.sweep)

    # ------------------------------------------------------------------ the job

    async def run_job(self, community_id: int) -> None:
        community = await self.bot.communities.get(community_id)
        if community is None or community.archived:
            return
        try:
            await self.run_due(community)
        finally:
            await self.arm(community)

    async def run_due(self, community: Community) -> list[Outcome]:
        """Finish pending digests whose retry is due, then deliver every period now due."""
        outcomes: list[Outcome] = []
        async with self._locks[community.id]:
            now = self.bot.clock.now()
            for rec in await self.repo.pending(community.id):
                if rec.next_attempt_at is None or rec.next_attempt_at <= now:
                    outcomes.append(await self.deliver(community, rec))
            sched = await self.schedule_for(community.id)
            anchor = await self.repo.last_period_end(community.id) or community.created_at
            for period in due_periods(anchor, now, sched.weekday, sched.at, sched.timezone):
                claimed = await self.repo.claim(
                    community.id, period, late=is_late(period, now), now=now
                )
                if claimed is not None:
                    outcomes.append(await self.deliver(community, claimed))
        return outcomes

    async def send_now(self, community: Community) -> ManualSend:
        """``/digest send``: catch up anything due; else send what happened since the last
        digest, now, as a period of its own (from the end of the last one to now, claimed
        like a scheduled one, so the next scheduled digest starts where it ends); or
        nothing, if nothing happened. Never a period, or a story, twice."""
        if community.sponsor_id is None:
            raise InvalidInput(
                f"**{escape_inline(community.name)}** has no sponsor yet, so there is no one "
                "to send the "
                "digest to. Set one with `/community sponsor`; `/digest preview` works meanwhile."
            )
        history = await self.repo.history(community.id, limit=1)
        previous = history[-1] if history else None
        outcomes = await self.run_due(community)
        if outcomes:
            return ManualSend(outcomes, previous)
        async with self._locks[community.id]:
            history = await self.repo.history(community.id, limit=1)
            previous = history[-1] if history else None
            now = self.bot.clock.now()
            start = previous.period.end if previous else community.created_at
            if start >= now:
                return ManualSend([], previous, nothing_since=start)
            period, late = Period(start, now), False
            if not (await self.compile(community, period, late=late)).has_news:
                return ManualSend([], previous, nothing_since=period.start)
            rec = await self.repo.claim(community.id, period, late=late, now=now)
            if rec is None:
                return ManualSend([], previous, nothing_since=period.end)
            return ManualSend([await self.deliver(community, rec)], previous)

    async def next_period(self, community: Community) -> tuple[Period, bool]:
        """The period the next digest covers (what preview shows): a digest already due,
        else the one the schedule will send next, from where the last one ended (or the
        community began) to its due time. Never "the last five minutes": on a Monday after
        the digest went, the preview is next Monday's digest, with what is known so far."""
        now = self.bot.clock.now()
        sched = await self.schedule_for(community.id)
        anchor = await self.repo.last_period_end(community.id) or community.created_at
        due = due_periods(anchor, now, sched.weekday, sched.at, sched.timezone)
        if due:
            return due[-1], is_late(due[-1], now)
        upcoming = next_due_after(now, sched.weekday, sched.at, sched.timezone)
        return due_periods(anchor, upcoming, sched.weekday, sched.at, sched.timezone)[-1], False

    # ------------------------------------------------------------------ compile

    async def _names(self, guild_id: int) -> Any:
        cache: dict[int, str | None] = {}
        guild = self.bot.get_guild(guild_id)

        async def lookup(user_id: int) -> str | None:
            if user_id in cache:
                return cache[user_id]
            name: str | None = self.counter.names.get(user_id)
            if name is None and guild is not None:
                member = guild.get_member(user_id)
                if member is None:
                    try:
                        member = await guild.fetch_member(user_id)
                    except discord.HTTPException:
                        member = None
                if member is not None:
                    name = member.display_name
            if name is None:
                try:
                    user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
                    name = user.display_name
                except discord.HTTPException:
                    name = None
            cache[user_id] = name
            return name

        return lookup

    async def compile(
        self,
        community: Community,
        period: Period,
        *,
        late: bool,
        record: DigestRecord | None = None,
    ) -> Digest:
        """Read the period's data (bounded, indexed) and compile the digest.

        ``record`` is the claimed digest being delivered: the stories it offers are recorded
        against it, so none is offered twice. A preview passes none and writes nothing.
        """
        await self.counter.flush()
        now = self.bot.clock.now()
        as_of = min(now, period.end)
        cfg = self.bot.config.digest
        sched = await self.schedule_for(community.id)
        tz = sched.timezone
        ccfg = CompileConfig(
            min_discipline_size=cfg.min_discipline_size,
            quiet_weeks=cfg.quiet_weeks,
            top_contributors=cfg.top_contributors,
            late_night_hours=(cfg.late_night_start, cfg.late_night_end),
        )
        names = await self._names(community.guild_id)

        memberships = [
            m
            for m in await self.bot.communities.members(community.id, active_only=False)
            if m.joined_at < period.end and (m.left_at is None or m.left_at >= period.start)
        ]
        hourly: dict[int, dict[datetime, int]] = defaultdict(dict)
        opening = period.start <= community.created_at
        first, _ = counted_hours(period, opening=opening)
        for hc in await self.activity.hourly_counts(community.id, first, period.end):
            hourly[hc.user_id][hc.hour_start] = hc.messages
        silent = [
            m.user_id for m in memberships if m.left_at is None and m.user_id not in hourly
        ]
        last_active = await self.activity.last_active_before(
            community.id, silent, period.start
        )
        members = [self._activity(m, "", hourly, last_active) for m in memberships]
        quiet = {
            q.member_id
            for q in quiet_members(
                [m for m in members if m.is_member_at(period.end)],
                period,
                {},
                ccfg.quiet_weeks,
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
            named.append(self._activity(m, name, hourly, last_active))

        # Only weeks the community existed in: zeros from before it was created would make
        # every new community's first digest read "up from none" against invented weeks.
        earlier = [
            p
            for p in previous_periods(period, sched.at, tz, CHART_WEEKS - 1)
            if p.end > community.created_at
        ]
        totals = await self.activity.weekly_totals(
            community.id, [(p.start, p.end) for p in earlier]
        )
        previous = [
            WeekActivity(week_of(p, tz), msgs, active)
            for p, (msgs, active) in zip(earlier, totals, strict=True)
        ]

        stage_labels = {s.slug: s.label for s in self.bot.config.stories.stages}
        db = self.bot.db
        offer = await self._offer(record)
        stories = await _sources.stories(
            db, community.id, period.start, period.end, names, stage_labels, **offer
        )
        outcomes = await _sources.poll_outcomes(db, community.id, period.start, period.end)
        linked = await self._linked(community, period, stage_labels, record)
        return compile_digest(
            community.name,
            period,
            named,
            previous,
            tz=tz,
            stories=None if stories is None else stories.stories,
            kept_story_count=0 if stories is None else stories.kept,
            poll_outcomes=outcomes,
            open_polls=await _sources.open_polls(db, community.id, as_of),
            upcoming_meetings=await _sources.upcoming_meetings(db, community.id, as_of),
            held_meetings=await _sources.held_meetings(db, community.id, period.start, as_of),
            linked=linked,
            late=late,
            config=ccfg,
            opening=opening,
            as_of=as_of,
        )

    @staticmethod
    def _activity(
        m: Membership,
        name: str,
        hourly: dict[int, dict[datetime, int]],
        last_active: dict[int, datetime],
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

    async def _offer(self, record: DigestRecord | None) -> dict[str, Any]:
        """How the stories source records what a digest offers: against the claimed
        ``record``, fixed once any of it may have gone out (the e-mail, or the DM's run
        started), so a retry offers the same stories; nothing for a preview."""
        if record is None:
            return {}
        fixed = (
            record.dm_done
            or record.email_done
            or await self.deliveries.repo.state(dm_run(record.id)) is not None
        )
        return {"digest_id": record.id, "fixed": fixed}

    async def _linked(
        self,
        community: Community,
        period: Period,
        stage_labels: dict[str, str],
        record: DigestRecord | None = None,
    ) -> list[LinkedHighlights]:
        """A distilling group's digest rolls up the highlights of the community it serves.

        Only what may leave that community: consent-filtered story titles (through the
        stories capability's exit function) and collective statements, never names.
        """
        if community.serves_id is None:
            return []
        served = await self.bot.communities.get(community.serves_id)
        if served is None:
            return []

        async def no_names(_: int) -> str | None:
            return None

        highlights: list[str] = []
        section = await _sources.stories(
            self.bot.db, served.id, period.start, period.end, no_names, stage_labels,
            recipient_id=community.id, since=community.created_at,
            **await self._offer(record),
        )  # fmt: skip
        for story in section.stories if section else ():
            highlights.append(f"Story: {story.title} ({story.stage_label})")
        for po in await _sources.poll_outcomes(
            self.bot.db, served.id, period.start, period.end
        ) or ():
            highlights.append(po.collective_statement)
        return [LinkedHighlights(served.name, highlights)]

    async def package(self, digest: Digest, slug: str) -> DigestPackage:
        title = f"{digest.community_name}: weekly activity"
        weeks = [(w.week_start, w.messages, w.active_members) for w in digest.weekly_activity]
        chart = await asyncio.to_thread(activity_chart_png, weeks, title)
        messages = render_embeds(digest)
        messages[0][0]["image"] = {"url": f"attachment://{CHART_FILENAME}"}
        return DigestPackage(
            digest=digest,
            messages=messages,
            markdown=render_markdown(digest).encode("utf-8"),
            markdown_filename=self._filename(digest, slug),
            chart_png=chart,
        )

    @staticmethod
    def _filename(digest: Digest, slug: str) -> str:
        """By the week for a whole digest week; otherwise by the local start and end, so two
        digests never share an attachment name."""
        if is_full_week(digest.period, digest.timezone):
            return f"hearth-digest-{slug}-{digest.week_of.isoformat()}.md"
        zone = ZoneInfo(digest.timezone)
        start, end = (t.astimezone(zone) for t in (digest.period.start, digest.period.end))
        return f"hearth-digest-{slug}-{start:%Y-%m-%d-%H%M}-to-{end:%Y-%m-%d-%H%M}.md"

    async def build(
        self,
        community: Community,
        period: Period,
        *,
        late: bool,
        record: DigestRecord | None = None,
    ) -> DigestPackage:
        digest = await self.compile(community, period, late=late, record=record)
        return await self.package(digest, community.slug)

    # ------------------------------------------------------------------ delivery

    async def deliver(self, community: Community, rec: DigestRecord) -> Outcome:
        """Deliver one recorded digest; record each channel as done, retry what failed."""
        if community.sponsor_id is None:
            reason = "no sponsor is set"
            await self.repo.mark_skipped(rec.id, reason)
            await self.tell_facilitators(
                community,
                f"The weekly digest of **{escape_inline(community.name)}** (week of "
                f"{await self._week(rec)})"
                " was not sent: the community has no sponsor. Set one with `/community sponsor`;"
                " `/digest preview` shows what they would receive.",
            )
            return Outcome(rec, "skipped", (reason,))

        errors: list[str] = []
        email_sent = False
        try:
            package = await self.build(community, rec.period, late=rec.late, record=rec)
        except Exception as exc:
            log.exception("digest %s for community %s could not be compiled", rec.id, community.id)
            errors.append(f"the digest could not be compiled ({type(exc).__name__})")
            package = None
        if package is not None and not rec.dm_done:
            try:
                await self.send_dm(rec, community.sponsor_id, package)
                await self.repo.mark_channel_done(rec.id, dm=True)
            except discord.HTTPException as exc:
                errors.append(self._dm_error(exc))
        smtp_url = self.bot.settings.hearth_smtp_url
        if package is not None and community.sponsor_email and smtp_url and not rec.email_done:
            try:
                msg = build_digest_email(
                    package.digest,
                    sender=self.bot.settings.hearth_smtp_from,
                    recipient=community.sponsor_email,
                    chart_png=package.chart_png,
                    sent_at=self.bot.clock.now(),
                )
                await send_email(
                    smtp_url.get_secret_value(),
                    msg,
                    ca_file=self.bot.settings.hearth_smtp_ca_file,
                )
                await self.repo.mark_channel_done(rec.id, email=True)
                email_sent = True
            except MAIL_ERRORS as exc:
                # the class only: SMTP errors quote the recipient's address
                log.warning(
                    "digest e-mail for community %s failed: %s", community.id, type(exc).__name__
                )
                errors.append(f"the e-mail could not be sent ({type(exc).__name__})")

        now = self.bot.clock.now()
        if not errors:
            await self.repo.mark_sent(rec.id, now)
            log.info("digest %s for %s sent (late=%s)", rec.id, community.name, rec.late)
            return Outcome(rec, "sent", email_sent=email_sent)

        attempts = rec.attempts + 1
        problem = "; ".join(errors)
        nxt = retry_at(attempts, self.bot.config.digest.retry_backoff_seconds, now)
        week = await self._week(rec)
        if nxt is None:
            await self.repo.mark_failed(rec.id, attempts, problem)
            await self.deliveries.finish(dm_run(rec.id))  # given up: never resumed
            await self.tell_facilitators(
                community,
                f"I gave up delivering the digest of **{escape_inline(community.name)}** (week "
                f"of {week}) "
                f"to its sponsor after {attempts} attempts: {problem}. Use `/digest preview` "
                "to read it and pass it on.",
            )
            return Outcome(rec, "failed", tuple(errors), email_sent=email_sent)
        await self.repo.mark_retry(rec.id, attempts, nxt, problem)
        if attempts == 1:
            await self.tell_facilitators(
                community,
                f"The digest of **{escape_inline(community.name)}** (week of {week}) could not "
                "be delivered "
                f"to its sponsor: {problem}. I will keep retrying (next at "
                f"{discord.utils.format_dt(nxt, 'f')}).",
            )
        return Outcome(rec, "retrying", tuple(errors), nxt, email_sent)

    async def _week(self, rec: DigestRecord) -> str:
        tz = (await self.schedule_for(rec.community_id)).timezone
        return long_date(week_of(rec.period, tz))

    @staticmethod
    def _dm_error(exc: discord.HTTPException) -> str:
        if exc.code == 50007:
            return (
                "the sponsor does not accept direct messages from this server "
                "(ask them to allow DMs from server members)"
            )
        return f"Discord refused the direct message ({exc.status} {exc.code})"

    async def send_dm(self, rec: DigestRecord, user_id: int, package: DigestPackage) -> None:
        """Each message of the digest DM (its embeds; the first also carries the Markdown
        file and the chart) exactly once, through :mod:`bot.delivery`. A part sent before a
        crash or a refusal is not sent again when the digest is retried: recorded as sent,
        or, if the crash came before it was recorded, answered by Discord from its nonce."""
        run = dm_run(rec.id)
        if await self.deliveries.start(run) is RunState.FINISHED:
            return  # delivered; only the digest's own record was not updated
        for i, (embeds, files) in enumerate(package.discord_messages()):
            await self.deliveries.send(
                run, Destination.member(user_id), part=str(i),
                embeds=embeds, files=files, allowed_mentions=NO_MENTIONS,
            )  # fmt: skip
        await self.deliveries.finish(run)

    async def tell_facilitators(self, community: Community, text: str) -> None:
        """DM every facilitator; if none can be reached, say it in the community's lounge.

        The text never carries digest content (no names, no stories), so the lounge fallback
        shows members nothing meant for the sponsor's eyes only.
        """
        facilitators = [
            m.user_id
            for m in await self.bot.communities.members(community.id)
            if m.is_facilitator
        ]
        reached = False
        for uid in facilitators:
            try:
                user = self.bot.get_user(uid) or await self.bot.fetch_user(uid)
                await user.send(text, allowed_mentions=NO_MENTIONS)
                reached = True
            except discord.HTTPException as exc:
                log.info("could not DM facilitator %s: %s", uid, exc)
        if reached or community.lounge_id is None:
            if not reached:
                log.warning("no facilitator of %s reachable: %s", community.name, text)
            return
        channel = self.bot.get_channel(community.lounge_id)
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("lounge of %s unavailable; facilitators not told: %s", community.name, text)
            return
        mentions = " ".join(f"<@{uid}>" for uid in facilitators)
        try:
            await channel.send(
                f"{mentions} (facilitators) {text}".strip(),
                allowed_mentions=discord.AllowedMentions(
                    everyone=False, roles=False,
                    users=[discord.Object(id=uid) for uid in facilitators],
                ),
            )  # fmt: skip
        except discord.HTTPException:
            log.exception("could not tell the facilitators of %s", community.name)
