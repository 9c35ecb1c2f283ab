"""``/value report``, ``/value schedule`` and the sponsor's scheduled value report (DM and
e-mail).

The Discord side of :mod:`bot.services.value_report`: the facilitator's command (a private,
ephemeral reply with the summary and the files), the facilitator's choice of cadence
(quarterly by default; monthly, half-yearly, yearly or off), and the scheduled delivery to
the sponsor. The schedule is the database: at start every community's job is armed from its
claims (a report missed while Hearth was down is caught up at once), an hourly sweep re-arms
every community (new ones, and one whose skipped report can go now that it has a sponsor;
``/community sponsor`` re-arms at once), and each report is claimed before it is sent so it
never goes out twice. The
DM goes through :mod:`bot.delivery` (exactly once, even across a crash mid-send); the e-mail
through the digest's mail sender, honouring the sponsor's "Stop e-mails" choice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import discord

from bot.delivery import Deliveries, Destination, RunState
from bot.domain.communities import Community
from bot.domain.value.matrix import Audience
from bot.domain.value.periods import ReportPeriod
from bot.domain.value.report_email import build_report_email
from bot.errors import Conflict
from bot.interactions import NO_MENTIONS, facilitated_community
from bot.services.change_rounds import ChangeRoundService
from bot.services.digests import DigestService
from bot.services.value_report import (
    NameLookup,
    ReportClaim,
    ValueReportService,
    ValueReportSources,
    default_sources,
    dm_run,
)
from bot.services.value_stories import ValueStoryService
from bot.text import escape_inline
from cogs.digests._mail import MAIL_ERRORS, send_email
from cogs.value._report_render import (
    ReportPackage,
    package,
    reply_text,
    report_noun,
    schedule_reply,
)

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

S = TypeVar("S")

JOB_PREFIX = "value-report:"
SWEEP_JOB = "value-report:sweep"


def job_id(community_id: int) -> str:
    return f"{JOB_PREFIX}{community_id}"


class ValueReports:
    """The value report's part of the ``/value`` cog."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.service = ValueReportService(
            bot.db,
            bot.communities,
            bot.config,
            bot.clock,
            smtp_configured=bot.settings.hearth_smtp_url is not None,
            resolve=self._sources,
            flush=self._flush,
        )
        self.deliveries = Deliveries(bot)
        self._locks: dict[int, asyncio.Lock] = {}

    async def load(self) -> None:
        self.bot.services.register(self.service)
        await self.arm_all()
        self.bot.scheduler.schedule(
            SWEEP_JOB, self.bot.clock.now() + timedelta(hours=1), self.sweep,
            guild_id=None, per_process=True,
        )  # fmt: skip

    async def unload(self) -> None:
        self.bot.scheduler.cancel_prefix(JOB_PREFIX)
        self.bot.services.unregister(self.service)

    def _find(self, kind: type[S]) -> S | None:
        try:
            return self.bot.services.get(kind)
        except Conflict:
            return None

    def _sources(self) -> ValueReportSources:
        """The stories' services as the running bot registered them (``None``: not loaded,
        and the report says so)."""
        return default_sources(
            self.bot.db,
            value=self._find(ValueStoryService),
            change=self._find(ChangeRoundService),
        )

    async def _flush(self) -> None:
        """Write the digest counter's buffered message counts before counting them."""
        digests = self._find(DigestService)
        if digests is not None:
            await digests.flush()

    # ------------------------------------------------------------------ the command

    async def report(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        start: str | None,
        end: str | None,
    ) -> None:
        comm, _ = await facilitated_community(interaction, community, allow_archived=True)
        period = self.service.period_for(comm, start, end)
        await interaction.response.defer(ephemeral=True, thinking=True)
        pkg = await self.build(comm, period, Audience.FACILITATOR)
        schedule = await self.service.schedule(comm)
        await interaction.followup.send(
            reply_text(escape_inline(comm.name), pkg.period_label, schedule),
            embed=pkg.embed(),
            files=pkg.files(),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    async def set_schedule(
        self, interaction: discord.Interaction[HearthBot], community: str, cadence: str
    ) -> None:
        """``/value schedule``: the facilitator's choice of cadence, confirmed privately with
        when the next report goes and to whom."""
        comm, _ = await facilitated_community(interaction, community)
        changed, schedule = await self.service.set_cadence(comm, cadence)
        await self.arm(comm)
        await interaction.response.send_message(
            schedule_reply(escape_inline(comm.name), schedule, changed=changed),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    async def build(
        self, community: Community, period: ReportPeriod, audience: Audience
    ) -> ReportPackage:
        matrix = await self.service.compile(community, period, audience, self.names(community))
        return await asyncio.to_thread(package, matrix, period, community.slug)

    def names(self, community: Community) -> NameLookup:
        """Display names (only ``named`` tellers are ever looked up)."""
        guild = self.bot.get_guild(community.guild_id)

        async def lookup(user_id: int) -> str | None:
            member = guild.get_member(user_id) if guild is not None else None
            if member is not None:
                return member.display_name
            try:
                user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            except discord.HTTPException:
                return None
            return user.display_name

        return lookup

    # ------------------------------------------------------------------ the schedule

    async def arm(self, community: Community) -> None:
        if community.archived:
            self.bot.scheduler.cancel(job_id(community.id))
            return
        self._arm_at(community, await self.service.next_run(community))

    def _arm_at(self, community: Community, when: datetime | None) -> None:
        cid = community.id
        if when is None:  # off, and nothing pending
            self.bot.scheduler.cancel(job_id(cid))
            return
        self.bot.scheduler.schedule(
            job_id(cid), when, lambda: self.run_job(cid), guild_id=community.guild_id
        )

    async def arm_all(self, *, again: bool = False) -> None:
        """Arm each community without a job (``again``: every community), reading what
        their next runs depend on in one go (not three or four queries per community)."""
        todo = [
            c for c in await self.bot.communities.all_active()
            if self.bot.owns(c.guild_id)  # else another process's (HEARTH_SHARDS)
            and (again or self.bot.scheduler.next_run(job_id(c.id)) is None)
        ]  # fmt: skip
        if not todo:
            return
        runs = await self.service.next_runs(todo)
        for c in todo:
            self._arm_at(c, runs[c.id])

    async def arm_guild(self, guild_id: int) -> None:
        """Re-arm the guild's communities (a sponsor was just set: a skipped report may go)."""
        for community in await self.bot.communities.all_active():
            if community.guild_id == guild_id and self.bot.owns(guild_id):
                await self.arm(community)

    async def sweep(self) -> None:
        """Hourly: re-arm every community (the database is the truth): new communities,
        and a report skipped for want of a sponsor that can go now."""
        try:
            await self.arm_all(again=True)
        finally:
            now = self.bot.clock.now()
            self.bot.scheduler.schedule(
                SWEEP_JOB, now + timedelta(hours=1), self.sweep, guild_id=None, per_process=True
            )

    async def run_job(self, community_id: int) -> None:
        community = await self.bot.communities.get(community_id)
        if community is None or community.archived:
            return
        try:
            lock = self._locks.setdefault(community_id, asyncio.Lock())
            async with lock:
                for claim in await self.service.due_claims(community):
                    await self.deliver(community, claim)
        finally:
            await self.arm(community)

    # ------------------------------------------------------------------ delivery

    async def deliver(self, community: Community, claim: ReportClaim) -> str:
        """Deliver one claimed report: each channel recorded as done, failures retried."""
        if community.sponsor_id is None:
            await self.service.mark_skipped(claim)
            log.info("value report %s for community %s: no sponsor", claim.id, community.id)
            return "skipped"
        period = ReportPeriod(claim.start, claim.end, community.timezone)
        noun = report_noun((await self.service.report_schedule(community)).cadence)
        errors: list[str] = []
        try:
            pkg: ReportPackage | None = await self.build(community, period, Audience.SPONSOR)
        except Exception as exc:
            log.exception("value report %s could not be compiled", claim.id)
            errors.append(f"the report could not be compiled ({type(exc).__name__})")
            pkg = None
        if pkg is not None and not claim.dm_done:
            try:
                await self.send_dm(claim, community.sponsor_id, pkg, noun)
                await self.service.mark_channel_done(claim, dm=True)
            except discord.HTTPException as exc:
                errors.append(f"Discord refused the direct message ({exc.status} {exc.code})")
        smtp = self.bot.settings.hearth_smtp_url
        if pkg is not None and community.sponsor_email and smtp and not claim.email_done:
            if await self.service.emails_stopped(community.id):
                log.info("value report %s: the sponsor has stopped e-mails; DM only", claim.id)
            else:
                try:
                    msg = build_report_email(
                        pkg.matrix, pkg.period_label,
                        sender=self.bot.settings.hearth_smtp_from,
                        recipient=community.sponsor_email,
                        chart_png=pkg.chart_png, chart_alt=pkg.chart_alt,
                        sent_at=self.bot.clock.now(),
                    )  # fmt: skip
                    await send_email(
                        smtp.get_secret_value(), msg, ca_file=self.bot.settings.hearth_smtp_ca_file
                    )
                    await self.service.mark_channel_done(claim, dm=False)
                except MAIL_ERRORS as exc:
                    log.warning("value report e-mail failed: %s", type(exc).__name__)
                    errors.append(f"the e-mail could not be sent ({type(exc).__name__})")
        if not errors:
            await self.service.mark_sent(claim)
            log.info("value report %s for community %s sent", claim.id, community.id)
            return "sent"
        attempts, nxt = await self.service.record_failure(claim, "; ".join(errors))
        if nxt is None:
            await self.deliveries.finish(dm_run(claim.id))
        if attempts == 1 or nxt is None:
            await self.tell_facilitators(community, period, errors, nxt is not None, noun)
        return "retrying" if nxt is not None else "failed"

    async def send_dm(
        self, claim: ReportClaim, user_id: int, pkg: ReportPackage, noun: str = "value report"
    ) -> None:
        run = dm_run(claim.id)
        if await self.deliveries.start(run) is RunState.FINISHED:
            return
        await self.deliveries.send(
            run,
            Destination.member(user_id),
            content=(
                f"Your {noun} for **{escape_inline(pkg.matrix.community_name)}**. "
                "Open the .html file to read it on any screen or print it."
            ),
            embed=pkg.embed(),
            files=pkg.files(),
            allowed_mentions=NO_MENTIONS,
        )
        await self.deliveries.finish(run)

    async def tell_facilitators(
        self,
        community: Community,
        period: ReportPeriod,
        errors: list[str],
        retrying: bool,
        noun: str = "value report",
    ) -> None:
        """DM each facilitator what went wrong (never the report's content)."""
        what = "I will keep retrying." if retrying else "I have given up; use /value report."
        text = (
            f"The {noun} of **{escape_inline(community.name)}** "
            f"({period.label}) could not be delivered to its sponsor: {'; '.join(errors)}. {what}"
        )
        for uid in await self.bot.communities.facilitators(community.id):
            try:
                user = self.bot.get_user(uid) or await self.bot.fetch_user(uid)
                await user.send(text, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                log.info("could not DM facilitator %s: %s", uid, exc.status)
