"""The members' annual report on Discord: ``/value annual``, its invitations, reminder and close.

Thin around :class:`bot.services.value_annual.AnnualService`. Every message that must go
once goes through :mod:`bot.delivery` in a run per effect: ``annual:<id>:invite`` (the DMs
and the lounge post when it opens), ``annual:<id>:remind`` and ``annual:<id>:report`` (the
report to the sponsor and the facilitators). A run a restart interrupted is resumed at load
and sends only what had not gone; the close itself happens once in the database
(:meth:`AnnualService.close`), and the report run is recorded before it, so a crash between
the two still delivers the report after the restart, once.

Members whose DMs are closed: the facilitator is told how many, not who. Whether someone
accepts DMs is their own setting, the lounge post reaches them the same, and so the bot
never stores or shows a list of them.

This module is longer than 400 lines because it holds the annual report's whole Discord
lifecycle (open, invitations with their retries, reminder, close and the report to the
sponsor), each an exactly-once run a restart resumes; the wording is in its own modules.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord

from bot.delivery import Deliveries, Destination, RunState
from bot.domain.communities import Community
from bot.domain.timeparse import parse_future
from bot.domain.value.annual import AnnualSummary, themes_from_config
from bot.domain.value.annual_render import (
    build_annual_email,
    render_html,
    render_markdown,
)
from bot.interactions import NO_MENTIONS, facilitated_community
from bot.services.value_annual import AnnualReport, AnnualService
from bot.sharding import UNKNOWN_GUILD
from cogs.digests._mail import MAIL_ERRORS, send_email
from cogs.value import _annual_render as words
from cogs.value._annual_views import DYNAMIC_ITEMS, answer_view, name_lookup, report_view

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

#: A report the sponsor could not get for now is tried again after this, this many times.
RETRY_AFTER = timedelta(minutes=15)
RETRY_ATTEMPTS = 5

_RUN = re.compile(r"^annual:(\d+):(invite|remind|report)$")


def run_name(report_id: int, what: str) -> str:
    return f"annual:{report_id}:{what}"


class AnnualReports:
    """The annual-report part of the /value cog."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        cfg = bot.config.annual
        self.service = AnnualService(
            bot.db, bot.communities, bot.clock,
            remind_before=lambda: timedelta(days=self.bot.config.annual.remind_days_before),
            themes=lambda: themes_from_config(self.bot.config.annual.themes),
            min_theme_members=lambda: self.bot.config.annual.min_theme_members,
        )  # fmt: skip
        self.default_open = timedelta(days=cfg.open_days)
        self.deliveries = Deliveries(bot)
        #: Delivery and invitation attempts of each report since this start.
        self._attempts: dict[int, int] = {}
        self._invites: dict[int, int] = {}

    # ------------------------------------------------------------------ lifecycle
    async def load(self) -> None:
        self.bot.services.register(self.service)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        for report in await self.service.open_reports():
            self.arm(report)
        now = self.bot.clock.now()
        for run in await self.deliveries.running("annual:"):
            found = _RUN.match(run)
            if found is None:
                continue
            report_id, what = int(found.group(1)), found.group(2)
            job = {"invite": self._resume_invite, "remind": self._remind_due,
                   "report": self._deliver}[what]  # fmt: skip
            self.bot.scheduler.schedule(
                f"annual:resume:{run}", now, partial(job, report_id),
                guild_id=await self._guild_of(report_id),
            )  # fmt: skip

    async def _guild_of(self, report_id: int) -> int:
        """The guild of the report's community (which process runs the report's jobs)."""
        report = await self.service.get(report_id)
        return self.bot.communities.guild_of(report.community_id) if report else UNKNOWN_GUILD

    async def unload(self) -> None:
        self.bot.scheduler.cancel_prefix("annual:")
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.services.unregister(self.service)

    def arm(self, report: AnnualReport) -> None:
        """(Re)arm the report's close and reminder from its row."""
        if not report.is_open:
            return
        guild_id = self.bot.communities.guild_of(report.community_id)
        self.bot.scheduler.schedule(
            f"annual:close:{report.id}", report.closes_at, partial(self._close_due, report.id),
            guild_id=guild_id,
        )
        if report.remind_at is not None and report.reminded_at is None:
            self.bot.scheduler.schedule(
                f"annual:remind:{report.id}", report.remind_at,
                partial(self._remind_due, report.id), guild_id=guild_id,
            )  # fmt: skip

    # ------------------------------------------------------------------ /value annual
    async def open(
        self, interaction: discord.Interaction[HearthBot], community: str, closes: str | None
    ) -> None:
        comm, actor = await facilitated_community(interaction, community)
        now = self.bot.clock.now()
        if closes and closes.strip():
            closes_at = parse_future(closes, ZoneInfo(comm.timezone), now)
        else:
            closes_at = now + self.default_open
        self.service.check_closes(closes_at)
        report = await self.service.open(comm, actor.user_id, closes_at)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            invited, unreachable, lounge, pending = await self._invite(report, comm)
        except Exception:
            # Some invitations may have gone (each is recorded): the rest follow shortly, and
            # after a restart; the opener is told then.
            self.arm(report)
            self.bot.scheduler.schedule(
                f"annual:resume:{run_name(report.id, 'invite')}",
                self.bot.clock.now() + timedelta(minutes=1),
                partial(self._resume_invite, report.id),
                guild_id=comm.guild_id,
            )
            raise
        self.arm(report)
        await interaction.followup.send(
            words.opened_reply(
                comm.name, report.year, report.closes_at, invited, unreachable, lounge,
                report.remind_at, pending=pending,
            ),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip

    async def _invite(
        self, report: AnnualReport, community: Community
    ) -> tuple[int, int, int | None, int]:
        """DM every member the invitation with its button, post it in the lounge, once each:
        (members asked, of whom not reachable by DM, the lounge channel or None, of whom
        Discord failed for now: tried again after :data:`RETRY_AFTER`)."""
        run = run_name(report.id, "invite")
        await self.deliveries.start(run)
        members = await self.service.members(community.id)
        unreachable = pending = 0
        for user_id in members:
            try:
                await self.deliveries.send(
                    run, Destination.member(user_id),
                    embed=words.invitation_embed(community.name, report.year, report.closes_at),
                    view=answer_view(report.id), allowed_mentions=NO_MENTIONS,
                )  # fmt: skip
            except discord.HTTPException as exc:
                transient = exc.status >= 500 or exc.status == 429  # not a closed DM
                pending, unreachable = pending + transient, unreachable + (not transient)
                log.info("annual report %s: a member could not be DMed (%s)", report.id, exc.code)
        lounge: tuple[int, int] | None = None
        if community.lounge_id is not None:
            try:
                sent = await self.deliveries.send(
                    run, Destination.channel(community.lounge_id),
                    embed=words.lounge_embed(community.name, report.year, report.closes_at),
                    view=answer_view(report.id), allowed_mentions=NO_MENTIONS,
                )  # fmt: skip
                lounge = (community.lounge_id, sent.message_id)
            except discord.HTTPException as exc:
                log.warning("annual report %s: could not post in the lounge: %s", report.id, exc)
        attempt = self._invites[report.id] = self._invites.get(report.id, 0) + 1
        if pending and attempt >= RETRY_ATTEMPTS:
            unreachable, pending = unreachable + pending, 0
        await self.service.invited(report.id, len(members), unreachable + pending, lounge)
        if pending:
            self.bot.scheduler.schedule(
                f"annual:resume:{run}", self.bot.clock.now() + RETRY_AFTER,
                partial(self._resume_invite, report.id), guild_id=community.guild_id,
            )  # fmt: skip
        else:
            self._invites.pop(report.id, None)
            await self.deliveries.finish(run)
        log.info(
            "annual report %s opened: %d member(s) asked, %d not reachable by DM, %d for now",
            report.id, len(members), unreachable, pending,
        )  # fmt: skip
        return len(members), unreachable, lounge[0] if lounge else None, pending

    async def _resume_invite(self, report_id: int) -> None:
        """An opening a restart interrupted: finish the invitations, tell who opened it."""
        report = await self.service.get(report_id)
        community = await self.service.community_of(report) if report else None
        if report is None or community is None or not report.is_open:
            await self.deliveries.finish(run_name(report_id, "invite"))
            return
        invited, unreachable, lounge, pending = await self._invite(report, community)
        self.arm(report)
        if pending:
            return  # tried again later; the opener is told once everyone has it
        await self._dm(
            report.opened_by,
            words.opened_reply(
                community.name, report.year, report.closes_at, invited, unreachable, lounge,
                report.remind_at,
            ),
        )  # fmt: skip

    # ------------------------------------------------------------------ the reminder
    async def _remind_due(self, report_id: int) -> None:
        """DM each member who has not answered, once (:mod:`bot.delivery`); it says nothing
        about anyone else."""
        run = run_name(report_id, "remind")
        report = await self.service.get(report_id)
        # Past the deadline (the bot was down across it) nobody is asked to answer: the
        # close, due too, delivers the report.
        if report is None or not report.is_open or self.bot.clock.now() >= report.closes_at:
            if await self.deliveries.is_running(run):
                await self.deliveries.finish(run)
            return
        if report.reminded_at is not None:
            if not await self.deliveries.is_running(run):
                return  # reminded before (a restart)
        else:
            if await self.deliveries.start(run) is RunState.FINISHED:
                return
            if not await self.service.claim_reminder(report_id):
                return
        community = await self.service.community_of(report)
        if community is None:
            await self.deliveries.finish(run)
            return
        waiting = await self.service.not_answered(report)
        text = words.reminder_text(community.name, report.year, report.closes_at)
        failed = 0
        for user_id in waiting:
            try:
                await self.deliveries.send(
                    run, Destination.member(user_id), content=text, view=answer_view(report.id),
                    allowed_mentions=NO_MENTIONS,
                )  # fmt: skip
            except discord.HTTPException:
                failed += 1
        await self.deliveries.finish(run)
        log.info(
            "annual report %s: reminded %d member(s), %d not reachable",
            report_id, len(waiting) - failed, failed,
        )  # fmt: skip

    # ------------------------------------------------------------------ the close
    async def _close_due(self, report_id: int) -> None:
        await self.close(report_id)

    async def close(self, report_id: int) -> bool:
        """Close the report and deliver it; False if it was closed already."""
        run = run_name(report_id, "report")
        state = await self.deliveries.start(run)  # before the close: a crash still delivers
        closed = await self.service.close(report_id)
        self.bot.scheduler.cancel(f"annual:close:{report_id}")
        self.bot.scheduler.cancel(f"annual:remind:{report_id}")
        if not closed:
            if state is RunState.NEW:
                await self.deliveries.forget(run)  # closed before: not ours to deliver
            return False
        await self._deliver(report_id)
        return True

    async def _deliver(self, report_id: int) -> None:
        """The report to the sponsor (DM, and e-mail when set) and to each facilitator, each
        message once; then the lounge post says it is closed."""
        run = run_name(report_id, "report")
        report = await self.service.get(report_id)
        community = await self.service.community_of(report) if report else None
        if report is None or community is None:
            await self.deliveries.finish(run)
            return
        if report.is_open:
            return  # the crash came before the close: the close job delivers it
        summary = await self.service.summary(report, community, name_lookup(self.bot, community))
        markdown = render_markdown(summary, timezone=community.timezone)
        html = render_html(summary, timezone=community.timezone)
        retry = False
        if community.sponsor_id is None:
            sponsor_note = words.no_sponsor_text()
        else:
            problems, transient = await self._to_sponsor(report, community, summary, markdown, html)
            fresh = await self.service.get(report.id)
            emailed = fresh is not None and fresh.emailed_at is not None
            attempt = self._attempts[report_id] = self._attempts.get(report_id, 0) + 1
            retry = transient and attempt < RETRY_ATTEMPTS
            sponsor_note = (
                f"The sponsor has it by direct message{' and e-mail' if emailed else ''}."
                if not problems
                else "It could not all be delivered to the sponsor: "
                + "; ".join(problems)
                + ("; I will try again." if retry else ".")
            )
        note = words.facilitator_note(community.name, report.year, sponsor_note)
        for user_id in await self.service.facilitators(community.id):
            try:
                await self.deliveries.send(
                    run, Destination.member(user_id), content=note,
                    embed=words.report_embed(summary),
                    files=words.report_files(summary, community.slug, markdown, html),
                    allowed_mentions=NO_MENTIONS,
                )  # fmt: skip
            except discord.HTTPException as exc:
                log.info(
                    "annual report %s: a facilitator could not be DMed (%s)", report_id, exc.code
                )
        await self.close_lounge_post(report, community)
        if retry:
            # Discord or the mail server failed for now: the run stays open (a restart resumes
            # it too); what went already is not sent again.
            self.bot.scheduler.schedule(
                f"annual:retry:{report_id}", self.bot.clock.now() + RETRY_AFTER,
                partial(self._deliver, report_id), guild_id=community.guild_id,
            )  # fmt: skip
            return
        self._attempts.pop(report_id, None)
        await self.deliveries.finish(run)

    async def _to_sponsor(
        self,
        report: AnnualReport,
        community: Community,
        summary: AnnualSummary,
        markdown: str,
        html: str,
    ) -> tuple[list[str], bool]:
        """What went wrong delivering to the sponsor, and whether it is worth trying again
        (Discord or the mail server failing for now, not a closed DM)."""
        assert community.sponsor_id is not None
        problems = []
        transient = False
        try:
            await self.deliveries.send(
                run_name(report.id, "report"), Destination.member(community.sponsor_id),
                embed=words.report_embed(summary),
                files=words.report_files(summary, community.slug, markdown, html),
                allowed_mentions=NO_MENTIONS,
            )  # fmt: skip
        except discord.HTTPException as exc:
            transient = exc.status >= 500 or exc.status == 429
            problems.append(
                "they do not accept direct messages from this server"
                if exc.code == 50007
                else f"Discord refused the direct message ({exc.status} {exc.code})"
            )
        smtp_url = self.bot.settings.hearth_smtp_url
        if (
            community.sponsor_email
            and smtp_url
            and report.emailed_at is None
            and not await self.service.emails_stopped(community.id)
        ):
            try:
                message = build_annual_email(
                    summary,
                    sender=self.bot.settings.hearth_smtp_from,
                    recipient=community.sponsor_email,
                    timezone=community.timezone,
                    sent_at=self.bot.clock.now(),
                )
                await send_email(
                    smtp_url.get_secret_value(), message,
                    ca_file=self.bot.settings.hearth_smtp_ca_file,
                )  # fmt: skip
                await self.service.mark_emailed(report.id)
            except MAIL_ERRORS as exc:
                # the class only: SMTP errors quote the recipient's address
                log.warning("annual report %s: e-mail failed: %s", report.id, type(exc).__name__)
                problems.append(f"the e-mail could not be sent ({type(exc).__name__})")
                transient = True
        return problems, transient

    async def close_lounge_post(self, report: AnnualReport, community: Community) -> None:
        if report.lounge_channel_id is None or report.lounge_message_id is None:
            return
        channel = self.bot.get_partial_messageable(report.lounge_channel_id)
        try:
            await channel.get_partial_message(report.lounge_message_id).edit(
                embed=words.closed_embed(
                    community.name, report.year, report.closed_at or self.bot.clock.now()
                ),
                view=report_view(report.id),
            )
        except discord.HTTPException as exc:
            log.warning("annual report %s: could not update the lounge post: %s", report.id, exc)

    async def _dm(self, user_id: int, text: str) -> None:
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(text, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.info("could not DM the opener of an annual report (%s)", exc.code)
