"""Reminder and notes-prompt jobs: armed from stored state, sent exactly once.

Every job is derived from stored rows, so :meth:`Reminders.rebuild` after a restart
re-arms exactly what is still pending, and the stored reminder/notes markers stop anything
from going out twice. Reminder and notes-prompt DMs, and their fallback mentions, go out
through :class:`bot.delivery.Deliveries`: recorded with a nonce before the send, so a run a
crash interrupted resumes without losing anyone's message or sending anyone a second one.
Which reminder is due (after downtime too) is the domain's decision
(:func:`bot.domain.meeting_reminders.reminder_plan`, through the service).

Job ids: ``meeting:<id>:remind`` and ``meeting:<id>:notes``.
Delivery runs: ``meeting:<id>:remind:<offset seconds>`` and ``meeting:<id>:notes``.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from bot.delivery import RunState
from bot.domain.meeting_reminders import NOTES_PROMPT_WINDOW, notes_prompt_due
from bot.domain.meetings import Meeting
from cogs.meetings import _render
from cogs.meetings._discord import DiscordSide

log = logging.getLogger(__name__)


def reminder_run(meeting_id: int, offset: timedelta) -> str:
    """The delivery run of one reminder of one meeting."""
    return f"meeting:{meeting_id}:remind:{int(offset.total_seconds())}"


def notes_run(meeting_id: int) -> str:
    return f"meeting:{meeting_id}:notes"


_NOTES_RUN = re.compile(r"^meeting:(\d+):notes$")


class Reminders(DiscordSide):
    def arm(self, meeting: Meeting, sent: set[timedelta] | None = None) -> None:
        """Arm the meeting's reminder and notes jobs from its stored state."""
        if meeting.cancelled:
            return
        now = self.now()
        self._arm_reminders(meeting, sent)
        if meeting.notes_prompted_at is None:
            self.arm_notes_only(meeting, now)

    def _arm_reminders(self, meeting: Meeting, sent: set[timedelta] | None) -> None:
        when = self.service.next_reminder_at(meeting, sent or set())
        job_id = f"meeting:{meeting.id}:remind"
        if when is None:
            self.bot.scheduler.cancel(job_id)
            return
        meeting_id = meeting.id
        self.bot.scheduler.schedule(
            job_id, when, lambda: self.run_reminders(meeting_id),
            guild_id=self.bot.communities.guild_of(meeting.community_id),
        )

    def arm_notes_only(self, meeting: Meeting, now: datetime) -> None:
        if now < meeting.end_utc + NOTES_PROMPT_WINDOW:
            meeting_id = meeting.id
            self.bot.scheduler.schedule(
                f"meeting:{meeting_id}:notes",
                max(meeting.end_utc, now),
                lambda: self.run_notes_prompt(meeting_id),
                guild_id=self.bot.communities.guild_of(meeting.community_id),
            )

    def _arm_reminders_now(self, meeting: Meeting, now: datetime) -> None:
        meeting_id = meeting.id
        self.bot.scheduler.schedule(
            f"meeting:{meeting_id}:remind", now, lambda: self.run_reminders(meeting_id),
            guild_id=self.bot.communities.guild_of(meeting.community_id),
        )

    def arm_notes_now(self, meeting: Meeting, now: datetime) -> None:
        meeting_id = meeting.id
        self.bot.scheduler.schedule(
            f"meeting:{meeting_id}:notes", now, lambda: self.run_notes_prompt(meeting_id),
            guild_id=self.bot.communities.guild_of(meeting.community_id),
        )

    async def rebuild(self) -> None:
        """Re-arm every pending reminder and notes prompt (start-up, after a restart)."""
        now = self.now()
        for meeting, states in await self.service.live():
            if not self.bot.owns(self.bot.communities.guild_of(meeting.community_id)):
                continue  # another process's (HEARTH_SHARDS)
            if any(state == "sending" for state in states.values()):
                # A reminder was interrupted mid-way: finish it (for those not yet told).
                self._arm_reminders_now(meeting, now)
                if meeting.notes_prompted_at is None:
                    self.arm_notes_only(meeting, now)
                continue
            self.arm(meeting, set(states))
        for run in await self.deliveries.running("meeting:"):
            # A notes prompt a crash interrupted (claimed, not every message settled).
            found = _NOTES_RUN.match(run)
            interrupted = await self.service.get(int(found.group(1))) if found else None
            if interrupted is not None:
                self.arm_notes_now(interrupted, now)

    async def run_reminders(self, meeting_id: int) -> None:
        """Send whichever reminder is due (at most one), finish an interrupted one, record
        those passed over as skipped, re-arm."""
        job = f"meeting:{meeting_id}:remind"
        if self.not_ready_yet(job, lambda: self.run_reminders(meeting_id)):
            return
        meeting = await self.service.get(meeting_id)
        if meeting is None or meeting.cancelled:
            return
        states = await self.service.reminder_states(meeting_id)
        plan = self.service.reminder_plan(meeting, states)
        for offset, state in sorted(states.items()):
            if state != "sending":
                continue
            if offset == plan.current:
                await self._deliver(meeting, offset)  # interrupted: finish it for the rest
            else:
                # Interrupted, and by now a later reminder is due (or the meeting began):
                # those it did not reach get that one instead, worded for the time left.
                await self.deliveries.finish(reminder_run(meeting_id, offset))
                await self.service.finish_reminder(meeting_id, offset, skipped=True)
                log.info("meeting %s: interrupted %s reminder superseded", meeting_id, offset)
        for offset in plan.skip:
            if await self.service.skip_reminder(meeting_id, offset):
                log.info("meeting %s: %s reminder skipped (a later one is due)", meeting_id, offset)
        if plan.send is not None and await self.service.claim_reminder(meeting_id, plan.send):
            await self._deliver(meeting, plan.send)
        states = await self.service.reminder_states(meeting_id)
        self._arm_reminders(meeting, set(states))

    async def _deliver(self, meeting: Meeting, offset: timedelta) -> None:
        """Send a claimed reminder to everyone not told yet, then close it.

        Resumable: each DM goes out exactly once through the delivery run (a member whose
        DM was in flight at a crash is sent it again with the same nonce), each member's
        outcome is recorded once their DM is settled, and the fallback mentions for closed
        DMs are deliveries of the same run.
        """
        run = reminder_run(meeting.id, offset)
        if await self.deliveries.start(run) is not RunState.FINISHED:
            community = await self.service.community(meeting)
            told = await self.service.reminder_outcomes(meeting.id, offset)
            text = _render.reminder_text(
                meeting, community, self.now(), self.jump(meeting, community)
            )
            for member in await self.service.reminder_recipients(meeting):
                if member.user_id in told:
                    continue
                reached = await self.dm_once(run, member.user_id, text)
                told[member.user_id] = await self.service.record_reminder(
                    meeting.id, offset, member.user_id, reached
                )
            closed = [user for user, outcome in told.items() if outcome == "fallback"]
            await self.post_mentions(
                run, community, closed, lambda chunk: _render.fallback_text(meeting, chunk)
            )
            await self.deliveries.finish(run)
        await self.service.finish_reminder(meeting.id, offset)
        log.info("meeting %s: %s reminder done", meeting.id, offset)

    async def run_notes_prompt(self, meeting_id: int) -> None:
        job = f"meeting:{meeting_id}:notes"
        if self.not_ready_yet(job, lambda: self.run_notes_prompt(meeting_id)):
            return
        meeting = await self.service.get(meeting_id)
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
            if not await self.service.claim_notes_prompt(meeting_id):
                return
        community = await self.service.community(meeting)
        text = _render.notes_prompt_text(meeting, community)
        recipients = await self.service.notes_prompt_recipients(meeting)
        unreachable = [u for u in recipients if not await self.dm_once(run, u, text)]
        if unreachable:
            await self.post_mentions(
                run,
                community,
                unreachable,
                lambda chunk: " ".join(f"<@{u}>" for u in chunk) + f" {text}",
            )
        await self.deliveries.finish(run)
