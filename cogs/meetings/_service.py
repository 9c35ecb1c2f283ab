"""Carrying out meeting decisions on Discord: events, announcements, reminders, jobs.

The domain (``bot.domain.meetings``) decides *what* should happen; the repository stores it;
this module does the Discord side and keeps the scheduler in step with the database. Every
job is derived from stored rows, so :meth:`MeetingService.rebuild` after a restart re-arms
exactly what is still pending, and the stored reminder/notes markers stop anything from
going out twice. Reminder and notes-prompt DMs, and their fallback mentions, go out through
:class:`bot.delivery.Deliveries`: recorded with a nonce before the send, so a run a crash
interrupted resumes without losing anyone's message or sending anyone a second one.

Job ids: ``meeting:<id>:remind``, ``meeting:<id>:notes`` and ``series:<community id>``.
Delivery runs: ``meeting:<id>:remind:<offset seconds>`` and ``meeting:<id>:notes``.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot.db.deliveries import RunState
from bot.db.meetings import MeetingRepo, NewMeeting
from bot.delivery import Deliveries, Destination
from bot.domain.calendar_ics import meeting_ics, meeting_uid
from bot.domain.communities import Community
from bot.domain.meetings import (
    NOTES_PROMPT_WINDOW,
    Meeting,
    MeetingDraft,
    Series,
    ensure_upcoming,
    next_reminder_at,
    notes_prompt_due,
    nth_weekday,
    reminder_plan,
    reminder_recipients,
    series_title,
)
from bot.domain.timeparse import to_utc
from bot.interactions import NO_MENTIONS
from bot.text import escape_inline, plain
from cogs.meetings import _render
from cogs.meetings._views import rsvp_view

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

MENTIONS_PER_MESSAGE = 60
"""A user mention is at most ~22 characters; 60 of them stay well inside 2000."""


@dataclass
class Outcome:
    """What happened on Discord, so the facilitator can be told plainly."""

    meeting: Meeting
    problems: list[str] = field(default_factory=list)


def reminder_run(meeting_id: int, offset: timedelta) -> str:
    """The delivery run of one reminder of one meeting."""
    return f"meeting:{meeting_id}:remind:{int(offset.total_seconds())}"


def notes_run(meeting_id: int) -> str:
    return f"meeting:{meeting_id}:notes"


_NOTES_RUN = re.compile(r"^meeting:(\d+):notes$")


def event_problem_text(exc: discord.HTTPException) -> str:
    if isinstance(exc, discord.Forbidden):
        return (
            "I could not create the Discord event: I need the **Manage Events** permission "
            "(ask a server manager to grant it to my role)."
        )
    if exc.code == 30038:
        return (
            "I could not create the Discord event: this server already has the maximum of "
            "100 upcoming events."
        )
    return f"I could not create the Discord event (Discord said: {exc.text or exc.status})."


EVENT_DESCRIPTION_MAX = 1000
"""Discord's limit on a guild scheduled event's description."""

NOT_READY_RETRY = timedelta(seconds=5)
"""How soon a job that fell due before the guild cache was ready tries again."""

EVENT_RETRY = timedelta(hours=1)
"""How long to wait before asking Discord again to edit an event it refused to edit."""

_MARKER = re.compile(r"^Hearth meeting #(\d{1,18})$", re.MULTILINE)


def event_marker(meeting_id: int) -> str:
    """The line that makes an event recognisably Hearth's, and which meeting's it is.

    Stored in the event itself, so after a crash between creating the event and storing its
    id the start-up reconcile can still tell whose event it is.
    """
    return f"Hearth meeting #{meeting_id}"


def event_description(community_name: str, meeting_id: int) -> str:
    marker = event_marker(meeting_id)
    body = (
        f"{plain(community_name, 100)} meeting. RSVP and get the calendar file in the "
        "community's meetings channel."
    )
    room = EVENT_DESCRIPTION_MAX - len(marker) - 2
    if len(body) > room:
        body = body[: room - 1] + "…"
    return f"{body}\n\n{marker}"


def marked_meeting_id(description: str | None) -> int | None:
    """The meeting id in an event's marker line, or None for an event without one."""
    found = _MARKER.findall(description or "")
    return int(found[-1]) if found else None


def _event_matches(event: discord.ScheduledEvent, meeting: Meeting) -> bool:
    return (
        event.name == _render.event_name(meeting)
        and event.start_time == meeting.start_utc
        and event.end_time == meeting.end_utc
    )


@dataclass
class ReconcileReport:
    """What one start-up reconcile changed, for the log (and the tests)."""

    deleted: list[int] = field(default_factory=list)
    relinked: list[tuple[int, int]] = field(default_factory=list)
    unlinked: list[tuple[int, int]] = field(default_factory=list)
    failed_guilds: list[int] = field(default_factory=list)


class MeetingService:
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.repo = MeetingRepo(bot.db)
        self.deliveries = Deliveries(bot)

    # ------------------------------------------------------------------ helpers
    @property
    def offsets(self) -> tuple[timedelta, ...]:
        return tuple(timedelta(seconds=s) for s in self.bot.config.meetings.reminder_seconds())

    def now(self) -> datetime:
        return self.bot.clock.now()

    async def community(self, meeting: Meeting) -> Community:
        community = await self.bot.communities.get(meeting.community_id)
        assert community is not None
        return community

    def ics_file(self, meeting: Meeting, community: Community) -> discord.File:
        data = meeting_ics(
            meeting_uid(meeting.id),
            meeting.title,
            meeting.start_utc,
            meeting.end_utc,
            meeting.timezone,
            meeting.location,
            f"{community.name} meeting, arranged with Hearth.",
            sequence=meeting.sequence,
            status="CANCELLED" if meeting.cancelled else "CONFIRMED",
            stamp=self.now(),
        )
        return discord.File(io.BytesIO(data), filename=f"meeting-{meeting.id}.ics")

    def _guild(self, community: Community) -> discord.Guild | None:
        return self.bot.get_guild(community.guild_id)

    def _channel(self, channel_id: int | None) -> discord.abc.Messageable | None:
        if channel_id is None:
            return None
        ch = self.bot.get_channel(channel_id)
        return ch if isinstance(ch, discord.abc.Messageable) else None

    # ------------------------------------------------------------------ create
    async def create(
        self,
        community: Community,
        draft: MeetingDraft,
        tz_name: str,
        *,
        region: str | None,
        channel: discord.VoiceChannel | discord.StageChannel | None,
        in_series: bool,
        by: int,
    ) -> Outcome:
        """Store the meeting, mirror it as a Discord event, announce it and arm its jobs.

        The meeting row exists first; the event id is stored right after the event is made,
        and if that store fails the event is deleted again, so no Discord event is left
        without a meeting. Discord refusing the event (permission, 100-event limit) is not an
        error: the meeting stands and the facilitator is told.
        """
        meeting = await self.repo.create(
            NewMeeting(
                community_id=community.id,
                title=draft.title,
                start_utc=draft.start_utc,
                end_utc=draft.end_utc,
                timezone=tz_name,
                location=channel.name if channel is not None else draft.location,
                channel_id=channel.id if channel is not None else None,
                region=region,
                in_series=in_series,
                created_by=by,
                created_at=self.now(),
            )
        )
        outcome = Outcome(meeting)
        try:
            await self._create_event(community, meeting, channel, outcome)
        except BaseException:
            await self.repo.delete(meeting.id)
            raise
        await self._announce(community, outcome)
        outcome.meeting = await self._reload(meeting.id)
        self.arm(outcome.meeting)
        return outcome

    async def _reload(self, meeting_id: int) -> Meeting:
        got = await self.repo.get(meeting_id)
        assert got is not None
        return got

    async def _create_event(
        self,
        community: Community,
        meeting: Meeting,
        channel: discord.VoiceChannel | discord.StageChannel | None,
        outcome: Outcome,
    ) -> None:
        guild = self._guild(community)
        if guild is None:
            problem = "I could not create the Discord event: the server is unavailable."
            await self.repo.set_event(meeting.id, None, problem)
            outcome.problems.append(problem)
            return
        description = event_description(community.name, meeting.id)
        reason = event_marker(meeting.id)
        try:
            if channel is not None:
                event = await guild.create_scheduled_event(
                    name=_render.event_name(meeting),
                    start_time=meeting.start_utc,
                    end_time=meeting.end_utc,
                    channel=channel,
                    entity_type=(
                        discord.EntityType.stage_instance
                        if isinstance(channel, discord.StageChannel)
                        else discord.EntityType.voice
                    ),
                    privacy_level=discord.PrivacyLevel.guild_only,
                    description=description,
                    reason=reason,
                )
            else:
                event = await guild.create_scheduled_event(
                    name=_render.event_name(meeting),
                    start_time=meeting.start_utc,
                    end_time=meeting.end_utc,
                    entity_type=discord.EntityType.external,
                    location=plain(meeting.location, 100, empty="Online"),
                    privacy_level=discord.PrivacyLevel.guild_only,
                    description=description,
                    reason=reason,
                )
        except discord.HTTPException as exc:
            log.warning("no scheduled event for meeting %s: %s", meeting.id, exc)
            problem = event_problem_text(exc)
            await self.repo.set_event(meeting.id, None, problem)
            outcome.problems.append(problem)
            return
        try:
            await self.repo.set_event(meeting.id, event.id, None)
        except BaseException:
            try:
                await event.delete(reason="rolling back a meeting that could not be stored")
            except discord.HTTPException:
                log.exception("could not delete orphan scheduled event %s", event.id)
            raise

    async def _announce(self, community: Community, outcome: Outcome) -> None:
        meeting = outcome.meeting
        channel = self._channel(community.meetings_id)
        if channel is None:
            outcome.problems.append("I could not find the community's meetings channel.")
            return
        counts = await self.repo.counts(meeting.id)
        mentions: list[int] = []
        if meeting.region:
            members = await self.bot.communities.members(community.id)
            mentions = [m.user_id for m in reminder_recipients(members, {}, meeting.region)]
        content = None
        if meeting.region:
            content = f"A regional meeting for members in **{escape_inline(meeting.region)}**."
            if mentions:
                content += " " + " ".join(f"<@{u}>" for u in mentions[:MENTIONS_PER_MESSAGE])
        try:
            message = await channel.send(
                content=content,
                embed=_render.announcement_embed(meeting, community, counts),
                file=self.ics_file(meeting, community),
                view=rsvp_view(meeting.id),
                allowed_mentions=discord.AllowedMentions(
                    users=[discord.Object(u) for u in mentions[:MENTIONS_PER_MESSAGE]],
                    everyone=False,
                    roles=False,
                ),
            )
            for start in range(MENTIONS_PER_MESSAGE, len(mentions), MENTIONS_PER_MESSAGE):
                chunk = mentions[start : start + MENTIONS_PER_MESSAGE]
                await channel.send(
                    " ".join(f"<@{u}>" for u in chunk)
                    + f" (regional meeting: {escape_inline(meeting.title)})",
                    allowed_mentions=discord.AllowedMentions(
                        users=[discord.Object(u) for u in chunk], everyone=False, roles=False
                    ),
                )
        except discord.HTTPException as exc:
            log.warning("could not announce meeting %s: %s", meeting.id, exc)
            outcome.problems.append(
                "I could not post the announcement in the meetings channel "
                f"(Discord said: {exc.text or exc.status}). Check my permissions there."
            )
            return
        await self.repo.set_announcement(meeting.id, message.channel.id, message.id)

    async def refresh_announcement(self, meeting: Meeting, *, with_file: bool = False) -> None:
        """Re-render the announcement (counts, a new time, or cancelled)."""
        channel = self._channel(meeting.announcement_channel_id)
        if channel is None or meeting.announcement_id is None:
            return
        community = await self.community(meeting)
        embed = _render.announcement_embed(meeting, community, await self.repo.counts(meeting.id))
        partial = discord.PartialMessage(channel=channel, id=meeting.announcement_id)  # type: ignore[arg-type]
        try:
            if with_file:
                await partial.edit(
                    embed=embed,
                    attachments=[self.ics_file(meeting, community)],
                    view=None if meeting.cancelled else rsvp_view(meeting.id),
                )
            else:
                await partial.edit(
                    embed=embed, view=None if meeting.cancelled else rsvp_view(meeting.id)
                )
        except discord.HTTPException as exc:
            log.warning("could not update the announcement of meeting %s: %s", meeting.id, exc)

    # ------------------------------------------------------------------ events
    async def _event(self, community: Community, event_id: int) -> discord.ScheduledEvent | None:
        guild = self._guild(community)
        if guild is None:
            return None
        event = guild.get_scheduled_event(event_id)
        if event is None:
            try:
                event = await guild.fetch_scheduled_event(event_id)
            except discord.NotFound:
                return None
        return event

    async def cancel_event(self, meeting: Meeting) -> None:
        """Cancel the Discord event first; a Forbidden here stops the whole cancellation."""
        if meeting.event_id is None:
            return
        community = await self.community(meeting)
        event = await self._event(community, meeting.event_id)
        if event is None:
            return
        try:
            if event.status is discord.EventStatus.scheduled:
                await event.cancel(reason=f"Hearth meeting #{meeting.id} cancelled")
            else:
                await event.delete(reason=f"Hearth meeting #{meeting.id} cancelled")
        except discord.NotFound:
            return

    async def move_event(self, meeting: Meeting) -> str | None:
        """Bring the Discord event in line with a moved meeting; returns a problem, if any.

        A refused edit is recorded (the event is out of date) and retried by
        :meth:`run_event_retry` until it goes through; only this first answer tells the
        facilitator, the retries do not.
        """
        result = await self.sync_event(meeting)
        if result == "gone":
            return "The meeting's Discord event had been deleted; the meeting itself stands."
        if isinstance(result, discord.HTTPException):
            return (
                f"I could not update the Discord event of **{escape_inline(meeting.title)}** "
                f"(Discord said: {result.text or result.status}), so it still shows the old "
                "time; I will keep trying and fix it as soon as Discord lets me."
            )
        return None

    async def sync_event(self, meeting: Meeting) -> str | discord.HTTPException | None:
        """Edit the event to the meeting's title and times.

        Returns None when the event is in step (or there is none), ``"gone"`` when it had
        been deleted (the meeting stops pointing at it), or Discord's refusal, in which case
        the meeting is marked as having an out-of-date event.
        """
        if meeting.event_id is None:
            await self.repo.clear_event_stale(meeting.id)
            return None
        community = await self.community(meeting)
        try:
            event = await self._event(community, meeting.event_id)
        except discord.HTTPException as exc:
            await self.repo.mark_event_stale(meeting.id, self.now())
            return exc
        if event is None:
            await self.repo.unlink_event(
                meeting.id, meeting.event_id, "The Discord event was deleted."
            )
            return "gone"
        if _event_matches(event, meeting):
            await self.repo.clear_event_stale(meeting.id)
            return None
        try:
            await event.edit(
                name=_render.event_name(meeting),
                start_time=meeting.start_utc,
                end_time=meeting.end_utc,
                reason=f"{event_marker(meeting.id)} moved",
            )
        except discord.NotFound:
            await self.repo.unlink_event(
                meeting.id, meeting.event_id, "The Discord event was deleted."
            )
            return "gone"
        except discord.HTTPException as exc:
            log.warning("meeting %s: Discord refused to edit event %s: %s",
                        meeting.id, meeting.event_id, exc)
            await self.repo.mark_event_stale(meeting.id, self.now())
            return exc
        await self.repo.clear_event_stale(meeting.id)
        return None

    def arm_event_retry(self, meeting_id: int, when: datetime) -> None:
        self.bot.scheduler.schedule(
            f"meeting:{meeting_id}:event", when, lambda: self.run_event_retry(meeting_id)
        )

    async def run_event_retry(self, meeting_id: int) -> None:
        """Ask Discord again to edit an out-of-date event; re-arm while it still refuses.

        Silent: the facilitator was told when the first edit was refused. Once the meeting
        has started an old time on the event no longer misleads anyone, so retrying stops.
        """
        job = f"meeting:{meeting_id}:event"
        if self._not_ready_yet(job, lambda: self.run_event_retry(meeting_id)):
            return
        if await self.repo.event_stale_since(meeting_id) is None:
            return
        meeting = await self.repo.get(meeting_id)
        if meeting is None:
            return
        if meeting.cancelled or meeting.start_utc <= self.now():
            await self.repo.clear_event_stale(meeting_id)
            return
        result = await self.sync_event(meeting)
        if isinstance(result, discord.HTTPException):
            self.arm_event_retry(meeting_id, self.now() + EVENT_RETRY)
        else:
            log.info("meeting %s: its Discord event is up to date again", meeting_id)

    # ------------------------------------------------------------------ reconcile
    def arm_reconcile(self) -> None:
        self.bot.scheduler.schedule("meeting:reconcile", self.now(), self.run_reconcile)

    async def run_reconcile(self) -> None:
        if self._not_ready_yet("meeting:reconcile", self.run_reconcile):
            return
        report = await self.reconcile()
        if report.deleted or report.relinked or report.unlinked:
            log.info(
                "reconciled Discord events: deleted orphans %s, re-linked %s, forgot %s",
                report.deleted, report.relinked, report.unlinked,
            )

    async def reconcile(self) -> ReconcileReport:
        """Make each guild's Discord events and the stored meetings agree again.

        After a crash between creating an event and storing its id, the event carries the
        meeting's marker line but no meeting points at it. Only events Hearth created (its
        own user is the creator) with a marker line are ever touched: one whose meeting
        lost its id and is still scheduled is re-linked (and brought up to date); one whose
        meeting is gone, cancelled or already has another event is deleted. A meeting
        pointing at an event that no longer exists stops pointing at it.
        """
        report = ReconcileReport()
        me = self.bot.user.id if self.bot.user is not None else None
        for guild_id in await self.repo.community_guilds():
            guild = self.bot.get_guild(guild_id)
            if guild is None or me is None:
                continue
            # Read the links first: an event made after this snapshot is not "missing".
            links = await self.repo.event_links(guild_id, self.now())
            try:
                events = await guild.fetch_scheduled_events(with_counts=False)
            except discord.HTTPException as exc:
                log.warning("could not list scheduled events of guild %s: %s", guild_id, exc)
                report.failed_guilds.append(guild_id)
                continue
            live = {
                e.id: e
                for e in events
                if e.status in (discord.EventStatus.scheduled, discord.EventStatus.active)
            }
            for meeting_id, event_id in links:
                if event_id not in live and await self.repo.unlink_event(
                    meeting_id, event_id, "The Discord event was deleted."
                ):
                    report.unlinked.append((meeting_id, event_id))
            for event in live.values():
                marked = marked_meeting_id(event.description)
                if event.creator_id != me or marked is None:
                    continue
                await self._reconcile_event(guild_id, event, marked, report)
        return report

    async def _reconcile_event(
        self, guild_id: int, event: discord.ScheduledEvent, meeting_id: int,
        report: ReconcileReport,
    ) -> None:
        meeting = await self.repo.get(meeting_id)
        if meeting is not None and await self.repo.guild_of(meeting_id) != guild_id:
            meeting = None
        if meeting is not None and meeting.event_id == event.id:
            return
        if (
            meeting is not None
            and not meeting.cancelled
            and meeting.event_id is None
            and await self.repo.link_event(meeting.id, event.id)
        ):
            report.relinked.append((meeting.id, event.id))
            relinked = await self._reload(meeting.id)
            needs_edit = not _event_matches(event, relinked) and relinked.start_utc > self.now()
            if needs_edit and isinstance(await self.sync_event(relinked), discord.HTTPException):
                self.arm_event_retry(relinked.id, self.now() + EVENT_RETRY)
            return
        if event.status is not discord.EventStatus.scheduled:
            return  # an orphan already under way: Discord ends it by itself
        try:
            await event.delete(reason=f"{event_marker(meeting_id)}: no such meeting any more")
        except discord.NotFound:
            pass
        except discord.HTTPException as exc:
            log.warning("could not delete orphan scheduled event %s: %s", event.id, exc)
            return
        report.deleted.append(event.id)

    # ------------------------------------------------------------------ cancel / move
    async def cancel(self, meeting: Meeting, by: int) -> tuple[Meeting, int]:
        """Cancel: Discord event, stored state, announcement, and a DM to going/maybe people.

        Returns the cancelled meeting and how many people were told.
        """
        await self.cancel_event(meeting)
        if not await self.repo.cancel(meeting.id, by, self.now()):
            return await self._reload(meeting.id), 0
        self.bot.scheduler.cancel_prefix(f"meeting:{meeting.id}:")
        cancelled = await self._reload(meeting.id)
        await self.refresh_announcement(cancelled, with_file=True)
        community = await self.community(cancelled)
        told = 0
        rsvps = await self.repo.rsvps(meeting.id)
        for user_id, answer in rsvps.items():
            if answer.value == "cant":
                continue
            if await self._dm(user_id, _render.cancel_text(cancelled, community)):
                told += 1
        return cancelled, told

    async def move(
        self, meeting: Meeting, title: str, start: datetime, end: datetime, tz_name: str
    ) -> list[str]:
        """Move a meeting (a changed series rule): stored, event, announcement, jobs."""
        await self.repo.reschedule(meeting.id, title, start, end, tz_name)
        moved = await self._reload(meeting.id)
        problems = [p for p in [await self.move_event(moved)] if p]
        await self.refresh_announcement(moved, with_file=True)
        self.bot.scheduler.cancel_prefix(f"meeting:{meeting.id}:")
        self.arm(moved)
        if await self.repo.event_stale_since(meeting.id) is not None:
            self.arm_event_retry(meeting.id, self.now() + EVENT_RETRY)
        return problems

    # ------------------------------------------------------------------ messaging
    async def _dm(self, user_id: int, text: str) -> bool:
        """Send a DM; False when the person's DMs are closed (or the send failed)."""
        try:
            channel = await self.bot.create_dm(discord.Object(user_id))
            await channel.send(text, allowed_mentions=NO_MENTIONS)
        except discord.Forbidden:
            return False
        except discord.HTTPException as exc:
            log.warning("DM to %s failed: %s", user_id, exc)
            return False
        return True

    async def _dm_once(self, run: str, user_id: int, text: str) -> bool:
        """One scheduled DM of ``run``, sent exactly once (:mod:`bot.delivery`); False when
        the person's DMs are closed (or Discord refused it)."""
        try:
            await self.deliveries.send(
                run, Destination.member(user_id), content=text, allowed_mentions=NO_MENTIONS
            )
        except discord.Forbidden:
            return False
        except discord.HTTPException as exc:
            log.warning("DM to %s failed: %s", user_id, exc)
            return False
        return True

    def _jump(self, meeting: Meeting, community: Community) -> str | None:
        if meeting.announcement_id is None or meeting.announcement_channel_id is None:
            return None
        return (
            f"https://discord.com/channels/{community.guild_id}/"
            f"{meeting.announcement_channel_id}/{meeting.announcement_id}"
        )

    async def _post_mentions(
        self,
        run: str,
        community: Community,
        users: list[int],
        text_for: Callable[[list[int]], str],
    ) -> None:
        """Mention, in the meetings channel, those a DM of ``run`` could not reach. Each
        chunk is one delivery of the run, so a resumed run posts only what is missing."""
        channel = self._channel(community.meetings_id)
        if channel is None or community.meetings_id is None or not users:
            return
        users = sorted(users)  # the same chunks (and keys) when a run resumes
        for start in range(0, len(users), MENTIONS_PER_MESSAGE):
            chunk = users[start : start + MENTIONS_PER_MESSAGE]
            try:
                await self.deliveries.send(
                    run,
                    Destination.channel(community.meetings_id),
                    part=f"mention:{start}",
                    content=text_for(chunk)[:2000],
                    allowed_mentions=discord.AllowedMentions(
                        users=[discord.Object(u) for u in chunk], everyone=False, roles=False
                    ),
                )
            except discord.HTTPException as exc:
                log.warning("could not post a fallback mention in %s: %s", channel, exc)

    # ------------------------------------------------------------------ jobs
    def _not_ready_yet(self, job_id: str, func: Callable[[], Awaitable[None]]) -> bool:
        """Jobs armed in cog_load may fall due before the guild cache is ready: try again
        shortly instead of awaiting ``wait_until_ready``. A job blocked on that wait would
        never finish in a run that never gets ready (``python -m bot sync``, a stop before
        READY), and the scheduler's shutdown waits for running jobs, so it would hang.
        """
        if self.bot.is_ready():
            return False
        self.bot.scheduler.schedule(job_id, self.now() + NOT_READY_RETRY, func)
        return True

    def arm(self, meeting: Meeting, sent: set[timedelta] | None = None) -> None:
        """Arm the meeting's reminder and notes jobs from its stored state."""
        if meeting.cancelled:
            return
        now = self.now()
        self._arm_reminders(meeting, now, sent)
        if meeting.notes_prompted_at is None and now < meeting.end_utc + NOTES_PROMPT_WINDOW:
            meeting_id = meeting.id
            self.bot.scheduler.schedule(
                f"meeting:{meeting_id}:notes",
                max(meeting.end_utc, now),
                lambda: self.run_notes_prompt(meeting_id),
            )

    def _arm_reminders(self, meeting: Meeting, now: datetime, sent: set[timedelta] | None) -> None:
        when = next_reminder_at(meeting.start_utc, self.offsets, now, sent or set())
        job_id = f"meeting:{meeting.id}:remind"
        if when is None:
            self.bot.scheduler.cancel(job_id)
            return
        meeting_id = meeting.id
        self.bot.scheduler.schedule(job_id, when, lambda: self.run_reminders(meeting_id))

    async def rebuild(self) -> None:
        """Re-arm every pending job from the database (start-up, after a restart)."""
        now = self.now()
        live = await self.repo.live(now - NOTES_PROMPT_WINDOW)
        all_states = await self.repo.reminder_states_of([m.id for m in live])
        for meeting in live:
            states = all_states.get(meeting.id, {})
            if any(state == "sending" for state in states.values()):
                # A reminder was interrupted mid-way: finish it (for those not yet told).
                self._arm_reminders_now(meeting.id, now)
                if meeting.notes_prompted_at is None:
                    self.arm_notes_only(meeting, now)
                continue
            self.arm(meeting, set(states))
        for run in await self.deliveries.running("meeting:"):
            # A notes prompt a crash interrupted (claimed, not every message settled).
            found = _NOTES_RUN.match(run)
            if found:
                self.arm_notes_now(int(found.group(1)), now)
        for series in await self.repo.all_series():
            self.arm_series(series.community_id, now)
        for meeting_id in await self.repo.stale_events():
            self.arm_event_retry(meeting_id, now)
        self.arm_reconcile()

    def _arm_reminders_now(self, meeting_id: int, now: datetime) -> None:
        self.bot.scheduler.schedule(
            f"meeting:{meeting_id}:remind", now, lambda: self.run_reminders(meeting_id)
        )

    def arm_notes_only(self, meeting: Meeting, now: datetime) -> None:
        if now < meeting.end_utc + NOTES_PROMPT_WINDOW:
            meeting_id = meeting.id
            self.bot.scheduler.schedule(
                f"meeting:{meeting_id}:notes",
                max(meeting.end_utc, now),
                lambda: self.run_notes_prompt(meeting_id),
            )

    async def run_reminders(self, meeting_id: int) -> None:
        """Send whichever reminder is due (at most one), finish an interrupted one, record
        those passed over as skipped, re-arm."""
        job = f"meeting:{meeting_id}:remind"
        if self._not_ready_yet(job, lambda: self.run_reminders(meeting_id)):
            return
        meeting = await self.repo.get(meeting_id)
        if meeting is None or meeting.cancelled:
            return
        now = self.now()
        states = await self.repo.reminder_states(meeting_id)
        plan = reminder_plan(meeting.start_utc, self.offsets, now, states)
        for offset, state in sorted(states.items()):
            if state != "sending":
                continue
            if offset == plan.current:
                await self._deliver(meeting, offset)  # interrupted: finish it for the rest
            else:
                # Interrupted, and by now a later reminder is due (or the meeting began):
                # those it did not reach get that one instead, worded for the time left.
                await self.deliveries.finish(reminder_run(meeting_id, offset))
                await self.repo.finish_reminder(meeting_id, offset, now, state="skipped")
                log.info("meeting %s: interrupted %s reminder superseded", meeting_id, offset)
        for offset in plan.skip:
            if await self.repo.skip_reminder(meeting_id, offset, now):
                log.info("meeting %s: %s reminder skipped (a later one is due)", meeting_id, offset)
        if plan.send is not None and await self.repo.claim_reminder(meeting_id, plan.send, now):
            await self._deliver(meeting, plan.send)
        states = await self.repo.reminder_states(meeting_id)
        self._arm_reminders(meeting, self.now(), set(states))

    async def _deliver(self, meeting: Meeting, offset: timedelta) -> None:
        """Send a claimed reminder to everyone not told yet, then close it.

        Resumable: each DM goes out exactly once through the delivery run (a member whose
        DM was in flight at a crash is sent it again with the same nonce), each member's
        outcome is recorded once their DM is settled, and the fallback mentions for closed
        DMs are deliveries of the same run.
        """
        run = reminder_run(meeting.id, offset)
        if await self.deliveries.start(run) is not RunState.FINISHED:
            community = await self.community(meeting)
            members = await self.bot.communities.members(community.id)
            rsvps = await self.repo.rsvps(meeting.id)
            told = await self.repo.reminder_outcomes(meeting.id, offset)
            text = _render.reminder_text(
                meeting, community, self.now(), self._jump(meeting, community)
            )
            for member in reminder_recipients(members, rsvps, meeting.region):
                if member.user_id in told:
                    continue
                outcome = "dm" if await self._dm_once(run, member.user_id, text) else "fallback"
                await self.repo.record_delivery(meeting.id, offset, member.user_id, outcome)
                told[member.user_id] = outcome
            closed = [user for user, outcome in told.items() if outcome == "fallback"]
            await self._post_mentions(
                run, community, closed, lambda chunk: _render.fallback_text(meeting, chunk)
            )
            await self.deliveries.finish(run)
        await self.repo.finish_reminder(meeting.id, offset, self.now())
        log.info("meeting %s: %s reminder done", meeting.id, offset)

    def arm_notes_now(self, meeting_id: int, now: datetime) -> None:
        self.bot.scheduler.schedule(
            f"meeting:{meeting_id}:notes", now, lambda: self.run_notes_prompt(meeting_id)
        )

    async def run_notes_prompt(self, meeting_id: int) -> None:
        job = f"meeting:{meeting_id}:notes"
        if self._not_ready_yet(job, lambda: self.run_notes_prompt(meeting_id)):
            return
        meeting = await self.repo.get(meeting_id)
        if meeting is None:
            return
        now = self.now()
        run = notes_run(meeting_id)
        if meeting.notes_prompted_at is not None:
            # Claimed already: carry on only if its messages were interrupted (a crash).
            if not await self.deliveries.is_running(run):
                return
        else:
            if not notes_prompt_due(meeting.end_utc, now, cancelled=meeting.cancelled):
                if not meeting.cancelled and now < meeting.end_utc:
                    self.arm_notes_only(meeting, now)
                return
            # The run is recorded before the claim, so a crash between the two resumes it.
            if await self.deliveries.start(run) is RunState.FINISHED:
                return
            if not await self.repo.mark_notes_prompted(meeting_id, now):
                return
        community = await self.community(meeting)
        text = _render.notes_prompt_text(meeting, community)
        # The person who scheduled it, while they still facilitate; otherwise (they left,
        # or were erased) every current facilitator, so the prompt is never lost.
        facilitators = [
            m.user_id for m in await self.bot.communities.members(community.id) if m.is_facilitator
        ]
        recipients = [meeting.created_by] if meeting.created_by in facilitators else facilitators
        unreachable = [u for u in recipients if not await self._dm_once(run, u, text)]
        if unreachable:
            await self._post_mentions(
                run,
                community,
                unreachable,
                lambda chunk: " ".join(f"<@{u}>" for u in chunk) + f" {text}",
            )
        await self.deliveries.finish(run)

    # ------------------------------------------------------------------ series
    def arm_series(self, community_id: int, when: datetime) -> None:
        self.bot.scheduler.schedule(
            f"series:{community_id}", when, lambda: self.run_series(community_id)
        )

    async def run_series(self, community_id: int) -> None:
        # Jobs re-armed in cog_load may fire before the guilds are cached.
        if self._not_ready_yet(f"series:{community_id}", lambda: self.run_series(community_id)):
            return
        try:
            await self.keep_series(community_id)
        finally:
            await self._rearm_series(community_id)

    async def _rearm_series(self, community_id: int) -> None:
        series = await self.repo.series(community_id)
        if series is None:
            return
        now = self.now()
        future = [
            m.start_utc for m in await self.repo.series_meetings(community_id) if m.start_utc > now
        ]
        # Wake when the next occurrence starts: it then "passes" and the next one is added.
        self.arm_series(community_id, min(future) if future else now + timedelta(days=1))

    async def keep_series(self, community_id: int) -> list[Outcome]:
        """Add whatever occurrences are missing so the next two are always scheduled."""
        series = await self.repo.series(community_id)
        community = await self.bot.communities.get(community_id)
        if series is None or community is None or community.archived:
            return []
        now = self.now()
        existing = [m.start_utc for m in await self.repo.series_meetings(community_id)]
        outcomes = []
        for start in ensure_upcoming(series.rule, existing, now):
            draft = MeetingDraft(
                title=series_title(community.name, start, series.rule.tz),
                start_utc=start,
                end_utc=start + timedelta(minutes=series.duration_minutes),
                duration_minutes=series.duration_minutes,
                location=series.location,
                online=series.location == "Online",
            )
            outcomes.append(
                await self.create(
                    community,
                    draft,
                    series.rule.tz.key,
                    region=None,
                    channel=None,
                    in_series=True,
                    by=series.created_by,
                )
            )
        return outcomes

    async def apply_series(
        self, community: Community, series: Series
    ) -> tuple[list[Meeting], list[Meeting], list[Outcome], list[str]]:
        """A (re)set series: move future occurrences to the new rule, cancel those in months
        no longer chosen, then add what is missing. Returns (moved, cancelled, added, problems).
        """
        now = self.now()
        moved: list[Meeting] = []
        cancelled: list[Meeting] = []
        problems: list[str] = []
        rule = series.rule
        for meeting in await self.repo.series_meetings(community.id):
            if meeting.cancelled or meeting.start_utc <= now:
                continue
            local = meeting.start_utc.astimezone(rule.tz)
            if local.month not in rule.months:
                try:
                    done, _ = await self.cancel(meeting, series.created_by)
                except discord.HTTPException as exc:
                    problems.append(
                        f"I could not cancel **{escape_inline(meeting.title)}**'s Discord "
                        "event, so the "
                        f"meeting stays (Discord said: {exc.text or exc.status})."
                    )
                    continue
                cancelled.append(done)
                continue
            day = nth_weekday(local.year, local.month, rule.weekday, rule.nth)
            start = to_utc(datetime.combine(day, rule.time), rule.tz).utc
            end = start + timedelta(minutes=series.duration_minutes)
            if start <= now:
                continue
            if (start, end) != (meeting.start_utc, meeting.end_utc) or (
                meeting.timezone != rule.tz.key
            ):
                problems += await self.move(
                    meeting, series_title(community.name, start, rule.tz), start, end, rule.tz.key
                )
                moved.append(await self._reload(meeting.id))
        added = await self.keep_series(community.id)
        await self._rearm_series(community.id)
        return moved, cancelled, added, problems
