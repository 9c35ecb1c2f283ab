"""Delivering digests in Discord (and by e-mail), exactly once per community and period.

The Discord side of :mod:`bot.services.digests`: the service decides which period a
digest covers, compiles it and keeps its record; this module packages it (embeds, the
text file, the chart), sends it, arms the scheduler and tells facilitators when a
delivery fails. Every delivery goes through :meth:`DigestDelivery.deliver`, which records
progress before and after each step so that a crash, a restart or a closed DM never loses
a digest and never sends one twice.

This file is longer than 400 lines because delivery is one sequence (record, package, send
each part, mark, retry or give up, tell facilitators) whose exactly-once guarantee is easier
to check when every step is read in order in one place.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import discord

from bot.delivery import Deliveries, Destination, RunState
from bot.domain.chart import activity_chart_png, chart_alt_text
from bot.domain.communities import Community
from bot.domain.digest import Digest, DigestRecord, Period, is_full_week
from bot.domain.digest_embeds import render_embeds
from bot.domain.digest_render import long_date, render_text
from bot.domain.email_message import CHART_FILENAME, build_digest_email
from bot.interactions import NO_MENTIONS, linkify
from bot.services.digest_sources import NameLookup
from bot.services.digests import DigestService, dm_run
from bot.text import escape_inline
from cogs.digests._counter import MessageCounter
from cogs.digests._mail import MAIL_ERRORS, send_email
from cogs.digests._views import email_view

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

JOB_PREFIX = "digest:"
SWEEP_JOB = "digest:sweep"


def job_id(community_id: int) -> str:
    return f"{JOB_PREFIX}{community_id}"


@dataclass(frozen=True)
class DigestPackage:
    """Everything a recipient gets: embed messages (the summary first), the full digest as
    a text file and the chart.

    Why a text file: Discord shows a ``.txt`` attachment inline, on desktop and in the
    phone apps, so the full digest opens in one click and reads as it is. A Markdown file
    needs a viewer (raw, it is full of escapes and quote marks), and an HTML file is only
    downloaded. The text is the e-mail's text part: the same words as the embeds."""

    digest: Digest
    messages: list[list[dict[str, Any]]]
    text: bytes
    text_filename: str
    chart_png: bytes
    #: The chart in words with its numbers: the attachment's description, the e-mail's alt.
    chart_alt: str = ""

    def discord_messages(self) -> list[tuple[list[discord.Embed], list[discord.File]]]:
        """Fresh discord objects per send (a ``discord.File`` can be read only once)."""
        out: list[tuple[list[discord.Embed], list[discord.File]]] = []
        for i, batch in enumerate(self.messages):
            embeds = [discord.Embed.from_dict(e) for e in batch]
            files = []
            if i == 0:
                files = [
                    discord.File(io.BytesIO(self.text), filename=self.text_filename),
                    discord.File(
                        io.BytesIO(self.chart_png),
                        filename=CHART_FILENAME,
                        description=self.chart_alt or None,
                    ),
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


def package(digest: Digest, slug: str) -> DigestPackage:
    title = f"{digest.community_name}: weekly activity"
    weeks = [(w.week_start, w.messages, w.active_members) for w in digest.weekly_activity]
    total = digest.participation.total_members
    chart = activity_chart_png(weeks, title, total_members=total)
    messages = render_embeds(digest)
    messages[0][0]["image"] = {"url": f"attachment://{CHART_FILENAME}"}
    return DigestPackage(
        digest=digest,
        messages=messages,
        text=render_text(digest).encode("utf-8"),
        text_filename=filename(digest, slug),
        chart_png=chart,
        chart_alt=chart_alt_text(weeks, total, digest.community_name),
    )


def filename(digest: Digest, slug: str) -> str:
    """By the week for a whole digest week; otherwise by the local start and end, so two
    digests never share an attachment name."""
    if is_full_week(digest.period, digest.timezone):
        return f"hearth-digest-{slug}-{digest.week_of.isoformat()}.txt"
    zone = ZoneInfo(digest.timezone)
    start, end = (t.astimezone(zone) for t in (digest.period.start, digest.period.end))
    return f"hearth-digest-{slug}-{start:%Y-%m-%d-%H%M}-to-{end:%Y-%m-%d-%H%M}.txt"


def dm_error(exc: discord.HTTPException) -> str:
    if exc.code == 50007:
        return (
            "the sponsor does not accept direct messages from this server "
            "(ask them to allow DMs from server members)"
        )
    return f"Discord refused the direct message ({exc.status} {exc.code})"


class DigestDelivery:
    def __init__(self, bot: HearthBot, service: DigestService, counter: MessageCounter) -> None:
        self.bot = bot
        self.service = service
        self.counter = counter
        self.deliveries = Deliveries(bot)

    # ------------------------------------------------------------------ the schedule

    async def arm(self, community: Community) -> datetime | None:
        """(Re)arm the community's one job at its next due time or pending retry."""
        if community.archived:
            self.bot.scheduler.cancel(job_id(community.id))
            return None
        return self._arm_at(community, await self.service.next_run(community))

    def _arm_at(self, community: Community, when: datetime) -> datetime:
        cid = community.id
        self.bot.scheduler.schedule(
            job_id(cid), when, lambda: self.run_job(cid), guild_id=community.guild_id
        )
        return when

    async def arm_all(self) -> None:
        """Arm every active community without a job, reading their facts in one go."""
        todo = [
            c for c in await self.bot.communities.all_active()
            if self.bot.owns(c.guild_id) and self.bot.scheduler.next_run(job_id(c.id)) is None
        ]  # fmt: skip
        if not todo:
            return
        schedules, ends, pending = await self.service.arming_facts([c.id for c in todo])
        default = self.service.default_schedule()
        for c in todo:
            when = self.service.next_run_from(
                c, schedules.get(c.id, default), ends.get(c.id), pending.get(c.id, [])
            )
            self._arm_at(c, when)

    async def sweep(self) -> None:
        """Hourly: arm communities created since start (the database is the truth)."""
        try:
            await self.arm_all()
            await self.counter.flush()
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
            await self.run_due(community)
        finally:
            await self.arm(community)

    async def run_due(self, community: Community) -> list[Outcome]:
        """Finish pending digests whose retry is due, then deliver every period now due."""
        async with self.service.exclusive(community.id):
            return [
                await self.deliver(community, rec)
                for rec in await self.service.due_records(community)
            ]

    async def send_now(self, community: Community) -> ManualSend:
        """``/digest send``: catch up anything due; else send what happened since the last
        digest (see :meth:`DigestService.claim_manual`); never a period, or a story, twice."""
        self.service.require_sponsor(community)
        previous = await self.service.last_digest(community.id)
        outcomes = await self.run_due(community)
        if outcomes:
            return ManualSend(outcomes, previous)
        async with self.service.exclusive(community.id):
            claim = await self.service.claim_manual(community, await self.names(community))
            if claim.record is None:
                return ManualSend([], claim.previous, nothing_since=claim.nothing_since)
            return ManualSend([await self.deliver(community, claim.record)], claim.previous)

    # ------------------------------------------------------------------ building

    async def names(self, community: Community) -> NameLookup:
        """Display names: the counter's cache of recent authors, then Discord."""
        cache: dict[int, str | None] = {}
        guild = self.bot.get_guild(community.guild_id)

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

    async def build(
        self,
        community: Community,
        period: Period,
        *,
        late: bool,
        record: DigestRecord | None = None,
    ) -> DigestPackage:
        names = await self.names(community)
        digest = await self.service.compile(community, period, names, late=late, record=record)
        return await asyncio.to_thread(package, digest, community.slug)

    # ------------------------------------------------------------------ delivery

    async def deliver(self, community: Community, rec: DigestRecord) -> Outcome:
        """Deliver one recorded digest; record each channel as done, retry what failed."""
        if community.sponsor_id is None:
            reason = "no sponsor is set"
            await self.service.mark_skipped(rec, reason)
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
        smtp_url = self.bot.settings.hearth_smtp_url
        # The sponsor's own choice (the button under each digest DM): the DM always goes.
        emails_stopped = await self.service.emails_stopped(community.id)
        emails_apply = bool(community.sponsor_email and smtp_url)
        try:
            pkg: DigestPackage | None = await self.build(
                community, rec.period, late=rec.late, record=rec
            )
        except Exception as exc:
            log.exception("digest %s for community %s could not be compiled", rec.id, community.id)
            errors.append(f"the digest could not be compiled ({type(exc).__name__})")
            pkg = None
        if pkg is not None and not rec.dm_done:
            try:
                view = email_view(community.id, stopped=emails_stopped) if emails_apply else None
                await self.send_dm(rec, community.sponsor_id, pkg, view=view)
                await self.service.mark_channel_done(rec, dm=True)
            except discord.HTTPException as exc:
                errors.append(dm_error(exc))
        if emails_stopped and not rec.email_done:
            log.info("digest %s: the sponsor has stopped e-mails; DM only", rec.id)
        elif pkg is not None and community.sponsor_email and smtp_url and not rec.email_done:
            try:
                msg = build_digest_email(
                    pkg.digest,
                    sender=self.bot.settings.hearth_smtp_from,
                    recipient=community.sponsor_email,
                    chart_png=pkg.chart_png,
                    chart_alt=pkg.chart_alt,
                    sent_at=self.bot.clock.now(),
                )
                await send_email(
                    smtp_url.get_secret_value(), msg, ca_file=self.bot.settings.hearth_smtp_ca_file
                )
                await self.service.mark_channel_done(rec, dm=False)
                email_sent = True
            except MAIL_ERRORS as exc:
                # the class only: SMTP errors quote the recipient's address
                log.warning(
                    "digest e-mail for community %s failed: %s", community.id, type(exc).__name__
                )
                errors.append(f"the e-mail could not be sent ({type(exc).__name__})")

        if not errors:
            await self.service.mark_sent(rec)
            log.info("digest %s for %s sent (late=%s)", rec.id, community.name, rec.late)
            return Outcome(rec, "sent", email_sent=email_sent)
        return await self._failed(community, rec, errors, email_sent)

    async def _failed(
        self, community: Community, rec: DigestRecord, errors: list[str], email_sent: bool
    ) -> Outcome:
        problem = "; ".join(errors)
        attempts, nxt = await self.service.record_failure(rec, problem)
        week = await self._week(rec)
        name = escape_inline(community.name)
        if nxt is None:
            await self.deliveries.finish(dm_run(rec.id))  # given up: never resumed
            await self.tell_facilitators(
                community,
                f"I gave up delivering the digest of **{name}** (week of {week}) to its sponsor "
                f"after {attempts} attempts: {problem}. Use `/digest preview` to read it and "
                "pass it on.",
            )
            return Outcome(rec, "failed", tuple(errors), email_sent=email_sent)
        if attempts == 1:
            await self.tell_facilitators(
                community,
                f"The digest of **{name}** (week of {week}) could not be delivered to its "
                f"sponsor: {problem}. I will keep retrying (next at "
                f"{discord.utils.format_dt(nxt, 'f')}).",
            )
        return Outcome(rec, "retrying", tuple(errors), nxt, email_sent)

    async def _week(self, rec: DigestRecord) -> str:
        return long_date(await self.service.week_label_date(rec))

    async def send_dm(
        self,
        rec: DigestRecord,
        user_id: int,
        pkg: DigestPackage,
        *,
        view: discord.ui.View | None = None,
    ) -> None:
        """Each message of the digest DM (its embeds; the first also carries the text file
        and the chart, the last the ``view``: the e-mail button) exactly once, through
        :mod:`bot.delivery`. A part sent before a
        crash or a refusal is not sent again when the digest is retried: recorded as sent,
        or, if the crash came before it was recorded, answered by Discord from its nonce."""
        run = dm_run(rec.id)
        if await self.deliveries.start(run) is RunState.FINISHED:
            return  # delivered; only the digest's own record was not updated
        messages = pkg.discord_messages()
        for i, (embeds, files) in enumerate(messages):
            extra: dict[str, Any] = {"view": view} if view and i == len(messages) - 1 else {}
            await self.deliveries.send(
                run, Destination.member(user_id), part=str(i),
                embeds=embeds, files=files, allowed_mentions=NO_MENTIONS, **extra,
            )  # fmt: skip
        await self.deliveries.finish(run)

    async def tell_facilitators(self, community: Community, text: str) -> None:
        """DM every facilitator; if none can be reached, say it in the community's lounge.

        The text never carries digest content (no names, no stories), so the lounge fallback
        shows members nothing meant for the sponsor's eyes only.
        """
        text = linkify(text)  # "`/digest preview`" becomes a clickable command
        facilitators = [
            m.user_id for m in await self.bot.communities.members(community.id) if m.is_facilitator
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
