"""The meetings service: every question the Discord layer asks about meetings, answered
from the repository with the domain's rules (who may answer, who is reminded, which
reminder goes out now, which series occurrences are missing or must move).

No ``import discord``: ``cogs/meetings`` renders what this returns and does the Discord
side (events, announcements, DMs). Views and cogs call this, never :mod:`bot.db.meetings`.

Why longer than 400 lines: it is the one door to meetings' storage for six Discord-side
modules, and most methods are a line or two; the rules themselves live in
:mod:`bot.domain.meetings`, :mod:`bot.domain.meeting_series` and
:mod:`bot.domain.meeting_reminders`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.db.app_state import installation_id
from bot.db.database import Database
from bot.db.meetings import MeetingRepo, NewMeeting
from bot.domain.communities import (
    Actor,
    Community,
    Membership,
    require_facilitator,
    require_member,
)
from bot.domain.meeting_reminders import (
    NOTES_PROMPT_WINDOW,
    ReminderPlan,
    cancellation_recipients,
    next_reminder_at,
    notes_prompt_recipients,
    reminder_plan,
    reminder_recipients,
)
from bot.domain.meeting_series import Series, SeriesRule, ensure_upcoming, series_title
from bot.domain.meetings import (
    EVENT_DELETED,
    RSVP,
    AttendancePage,
    Meeting,
    MeetingDraft,
    attendance_pages,
    check_cancellable,
    check_notes,
    check_rsvp,
    rsvp_counts,
)
from bot.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)


class CommunityDirectory(Protocol):
    """What meetings need to know about communities (the communities service has it)."""

    async def get(self, community_id: int) -> Community | None: ...

    async def membership(self, community_id: int, user_id: int) -> Membership | None: ...

    async def members(
        self, community_id: int, *, active_only: bool = True
    ) -> list[Membership]: ...


@dataclass(frozen=True)
class Answered:
    """An RSVP recorded: the meeting, its community and the counts to show."""

    meeting: Meeting
    community: Community
    counts: dict[RSVP, int]


@dataclass(frozen=True)
class SeriesChange:
    """What a (re)set series rule means for one future occurrence: cancel it (its month is
    no longer chosen) or move it to ``start``..``end`` under ``title``."""

    meeting: Meeting
    cancel: bool
    title: str = ""
    start: datetime | None = None
    end: datetime | None = None


class MeetingService:
    """Meetings' rules and storage, for one bot (registered on ``bot.services``)."""

    def __init__(
        self,
        db: Database,
        communities: CommunityDirectory,
        clock: Clock,
        reminder_offsets: Sequence[timedelta],
    ) -> None:
        self.repo = MeetingRepo(db)
        self.db = db
        self._installation: str | None = None
        self.communities = communities
        self.clock = clock
        self.offsets = tuple(reminder_offsets)

    def now(self) -> datetime:
        return self.clock.now()

    async def installation(self) -> str:
        """This installation's id, for calendar UIDs (made once, kept in app_state)."""
        if self._installation is None:
            self._installation = await installation_id(self.db)
        return self._installation

    # ------------------------------------------------------------------ finding
    async def get(self, meeting_id: int) -> Meeting | None:
        return await self.repo.get(meeting_id)

    async def reload(self, meeting_id: int) -> Meeting:
        got = await self.repo.get(meeting_id)
        assert got is not None
        return got

    async def require(self, meeting_id: int) -> Meeting:
        meeting = await self.repo.get(meeting_id)
        if meeting is None:
            raise NotFound("That meeting no longer exists.")
        return meeting

    async def community(self, meeting: Meeting) -> Community:
        community = await self.communities.get(meeting.community_id)
        assert community is not None
        return community

    async def community_by_id(self, community_id: int) -> Community | None:
        return await self.communities.get(community_id)

    async def named(self, value: str, guild_id: int | None) -> Meeting:
        """The meeting a command option names (its id, from autocomplete) in this guild."""
        text = (value or "").strip()
        is_id = text.isascii() and text.isdigit() and len(text) <= 18  # SQLite-sized ids only
        meeting = await self.repo.get(int(text)) if is_id else None
        if meeting is not None:
            community = await self.communities.get(meeting.community_id)
            if community is None or community.guild_id != guild_id:
                meeting = None
        if meeting is None:
            raise NotFound(
                "I can't find that meeting. Start typing its title and pick it from the list."
            )
        return meeting

    async def facilitated(self, meeting: Meeting, actor: Actor) -> Community:
        """The meeting's community, for a facilitator of it (or a server manager)."""
        community = await self.community(meeting)
        require_facilitator(
            actor, community, await self.communities.membership(community.id, actor.user_id)
        )
        return community

    async def named_for_facilitator(
        self, value: str, guild_id: int | None, actor: Actor
    ) -> Meeting:
        meeting = await self.named(value, guild_id)
        await self.facilitated(meeting, actor)
        return meeting

    async def autocomplete(
        self, guild_id: int, actor: Actor, text: str, since: datetime
    ) -> list[tuple[Meeting, str]]:
        return await self.repo.visible_to(
            guild_id, actor.user_id, actor.is_manager, text, since
        )

    async def counts(self, meeting_id: int) -> dict[RSVP, int]:
        return rsvp_counts(await self.repo.rsvps(meeting_id))

    async def upcoming_with_counts(
        self, community_id: int, limit: int = 26
    ) -> list[tuple[Meeting, dict[RSVP, int]]]:
        meetings = await self.repo.upcoming(community_id, self.now(), limit=limit)
        return [(m, await self.counts(m.id)) for m in meetings]

    # ------------------------------------------------------------------ RSVPs
    async def answer(self, meeting_id: int, actor: Actor, answer: RSVP) -> Answered:
        """Record a member's RSVP, if they may answer it now (:func:`check_rsvp`)."""
        meeting = await self.require(meeting_id)
        community = await self.community(meeting)
        membership = await self.communities.membership(community.id, actor.user_id)
        require_member(actor, community, membership)
        now = self.now()
        active = membership is not None and membership.active
        check_rsvp(meeting, community.name, active, now)
        await self.repo.set_rsvp(meeting.id, actor.user_id, answer, now)
        return Answered(meeting, community, await self.counts(meeting.id))

    async def who_is_coming(
        self, meeting_id: int, actor: Actor
    ) -> tuple[Meeting, dict[RSVP, list[int]]]:
        """Who gave each answer, for a facilitator of the meeting's community."""
        meeting = await self.require(meeting_id)
        await self.facilitated(meeting, actor)
        answers = await self.repo.rsvps(meeting.id)
        return meeting, {
            kind: sorted(u for u, given in answers.items() if given is kind) for kind in RSVP
        }

    async def discord_interest(
        self, guild_id: int, event_id: int, user_id: int, interested: bool
    ) -> Meeting | None:
        """Keep the RSVP in step with "Interested" on the meeting's Discord event.

        Marking Interested counts as "going" for a member who has not answered; a Hearth
        answer already given stands (it was said on purpose, with the buttons). Taking
        Interested back turns "going" into "maybe" (they may still come, but no longer say
        so); any other answer stands. Only active members of the meeting's community, and
        only a meeting still open for answers, are changed. Returns the meeting when its
        RSVPs changed, else None.
        """
        links = await self.repo.event_links(guild_id, self.now())
        meeting_id = next((m for m, e in links if e == event_id), None)
        if meeting_id is None:
            return None
        meeting = await self.require(meeting_id)
        community = await self.community(meeting)
        membership = await self.communities.membership(community.id, user_id)
        if membership is None or not membership.active:
            return None
        now = self.now()
        if meeting.cancelled or meeting.end_utc <= now:
            return None
        current = (await self.repo.rsvps(meeting.id)).get(user_id)
        if interested and current is None:
            new = RSVP.GOING
        elif not interested and current is RSVP.GOING:
            new = RSVP.MAYBE
        else:
            return None
        await self.repo.set_rsvp(meeting.id, user_id, new, now)
        return meeting

    # ------------------------------------------------------------------ notes, attendance
    async def notes_target(self, value: str, guild_id: int | None, actor: Actor) -> Meeting:
        """The meeting whose notes a facilitator wants to record (it took place)."""
        meeting = await self.named_for_facilitator(value, guild_id, actor)
        check_notes(meeting, self.now())
        return meeting

    async def save_notes(self, meeting_id: int, actor: Actor, text: str) -> tuple[Meeting, int]:
        """Store the notes; returns the meeting and how many had said they were going."""
        meeting = await self.require(meeting_id)
        await self.facilitated(meeting, actor)
        notes = text.strip()
        if not notes:
            raise InvalidInput("The notes were empty; nothing was saved.")
        await self.repo.save_notes(meeting.id, notes, actor.user_id, self.now())
        going = sum(1 for a in (await self.repo.rsvps(meeting.id)).values() if a is RSVP.GOING)
        return meeting, going

    async def attendance_pages(self, meeting: Meeting) -> list[AttendancePage]:
        """The pickers for the meeting's attendance: its community's members (and anyone
        already marked present), in pages Discord's selects can hold."""
        members = await self.communities.members(meeting.community_id)
        present = await self.repo.attendance(meeting.id)
        return attendance_pages([m.user_id for m in members], present)

    async def mark_present(
        self,
        meeting_id: int,
        actor: Actor,
        picked: Sequence[int],
        shown: Sequence[int] | None = None,
    ) -> tuple[Meeting, int]:
        """Record a pick in an attendance picker; returns the meeting and how many are
        marked present now.

        ``shown=None``: the picker held everyone, so the pick is the whole list. Otherwise
        it is one page of a longer roster: those picked are present, those it showed as
        present and were unpicked are not, and nobody else changes.
        """
        meeting = await self.require(meeting_id)
        await self.facilitated(meeting, actor)
        now = self.now()
        if shown is None:
            people = list(dict.fromkeys(picked))
            await self.repo.set_attendance(meeting.id, people, actor.user_id, now)
            return meeting, len(people)
        removed = [u for u in shown if u not in set(picked)]
        present = await self.repo.change_attendance(
            meeting.id, picked, removed, actor.user_id, now
        )
        return meeting, present

    # ------------------------------------------------------------------ creating
    async def store(
        self,
        community: Community,
        draft: MeetingDraft,
        tz_name: str,
        *,
        region: str | None,
        channel: tuple[int, str] | None,
        in_series: bool,
        by: int,
    ) -> Meeting:
        """Store a validated meeting (``channel``: the voice/stage channel's id and name)."""
        return await self.repo.create(
            NewMeeting(
                community_id=community.id,
                title=draft.title,
                start_utc=draft.start_utc,
                end_utc=draft.end_utc,
                timezone=tz_name,
                location=channel[1] if channel is not None else draft.location,
                channel_id=channel[0] if channel is not None else None,
                region=region,
                in_series=in_series,
                created_by=by,
                created_at=self.now(),
            )
        )

    async def discard(self, meeting_id: int) -> None:
        """Undo a meeting whose creation could not complete."""
        await self.repo.delete(meeting_id)

    async def set_event(self, meeting_id: int, event_id: int | None, problem: str | None) -> None:
        await self.repo.set_event(meeting_id, event_id, problem)

    async def set_announcement(self, meeting_id: int, channel_id: int, message_id: int) -> None:
        await self.repo.set_announcement(meeting_id, channel_id, message_id)

    async def region_members(self, community_id: int, region: str | None) -> list[int]:
        """Members of a regional meeting's region (mentioned in its announcement)."""
        if not region:
            return []
        members = await self.communities.members(community_id)
        return [m.user_id for m in reminder_recipients(members, {}, region)]

    async def count_in_region(self, community_id: int, region: str) -> int:
        members = await self.communities.members(community_id)
        return sum(1 for m in members if (m.region or "").casefold() == region.casefold())

    # ------------------------------------------------------------------ events
    async def forget_event(self, event_id: int) -> list[int]:
        return await self.repo.forget_event(event_id)

    async def community_guilds(self) -> list[int]:
        return await self.repo.community_guilds()

    async def event_links(self, guild_id: int) -> list[tuple[int, int]]:
        return await self.repo.event_links(guild_id, self.now())

    async def in_guild(self, meeting_id: int, guild_id: int) -> Meeting | None:
        meeting = await self.repo.get(meeting_id)
        if meeting is not None and await self.repo.guild_of(meeting_id) != guild_id:
            return None
        return meeting

    async def link_event(self, meeting_id: int, event_id: int) -> bool:
        return await self.repo.link_event(meeting_id, event_id)

    async def unlink_event(self, meeting_id: int, event_id: int) -> bool:
        return await self.repo.unlink_event(meeting_id, event_id, EVENT_DELETED)

    async def mark_event_stale(self, meeting_id: int) -> None:
        await self.repo.mark_event_stale(meeting_id, self.now())

    async def clear_event_stale(self, meeting_id: int) -> None:
        await self.repo.clear_event_stale(meeting_id)

    async def event_is_stale(self, meeting_id: int) -> bool:
        return await self.repo.event_stale_since(meeting_id) is not None

    async def stale_events(self) -> list[int]:
        return await self.repo.stale_events()

    # ------------------------------------------------------------------ cancel / move
    async def cancel_target(self, value: str, guild_id: int | None, actor: Actor) -> Meeting:
        meeting = await self.named_for_facilitator(value, guild_id, actor)
        check_cancellable(meeting, self.now())
        return meeting

    async def mark_cancelled(self, meeting: Meeting, by: int) -> Meeting | None:
        """Store the cancellation; None when it already was cancelled (do nothing twice)."""
        if not await self.repo.cancel(meeting.id, by, self.now()):
            return None
        return await self.reload(meeting.id)

    async def cancellation_recipients(self, meeting_id: int) -> list[int]:
        return cancellation_recipients(await self.repo.rsvps(meeting_id))

    async def reschedule(
        self, meeting: Meeting, title: str, start: datetime, end: datetime, tz_name: str
    ) -> Meeting:
        await self.repo.reschedule(meeting.id, title, start, end, tz_name)
        return await self.reload(meeting.id)

    # ------------------------------------------------------------------ reminders, notes
    async def live(self) -> list[tuple[Meeting, dict[timedelta, str]]]:
        """Every meeting the scheduler must know about, with its reminders' states."""
        live = await self.repo.live(self.now() - NOTES_PROMPT_WINDOW)
        states = await self.repo.reminder_states_of([m.id for m in live])
        return [(m, states.get(m.id, {})) for m in live]

    def next_reminder_at(self, meeting: Meeting, recorded: set[timedelta]) -> datetime | None:
        return next_reminder_at(meeting.start_utc, self.offsets, self.now(), recorded)

    async def reminder_states(self, meeting_id: int) -> dict[timedelta, str]:
        return await self.repo.reminder_states(meeting_id)

    def reminder_plan(self, meeting: Meeting, states: dict[timedelta, str]) -> ReminderPlan:
        return reminder_plan(meeting.start_utc, self.offsets, self.now(), states)

    async def claim_reminder(self, meeting_id: int, offset: timedelta) -> bool:
        return await self.repo.claim_reminder(meeting_id, offset, self.now())

    async def skip_reminder(self, meeting_id: int, offset: timedelta) -> bool:
        return await self.repo.skip_reminder(meeting_id, offset, self.now())

    async def finish_reminder(
        self, meeting_id: int, offset: timedelta, *, skipped: bool = False
    ) -> None:
        await self.repo.finish_reminder(
            meeting_id, offset, self.now(), state="skipped" if skipped else "sent"
        )

    async def reminder_recipients(self, meeting: Meeting) -> list[Membership]:
        members = await self.communities.members(meeting.community_id)
        rsvps = await self.repo.rsvps(meeting.id)
        return reminder_recipients(members, rsvps, meeting.region)

    async def reminder_outcomes(self, meeting_id: int, offset: timedelta) -> dict[int, str]:
        return await self.repo.reminder_outcomes(meeting_id, offset)

    async def record_reminder(
        self, meeting_id: int, offset: timedelta, user_id: int, reached: bool
    ) -> str:
        outcome = "dm" if reached else "fallback"
        await self.repo.record_delivery(meeting_id, offset, user_id, outcome)
        return outcome

    async def claim_notes_prompt(self, meeting_id: int) -> bool:
        return await self.repo.mark_notes_prompted(meeting_id, self.now())

    async def notes_prompt_recipients(self, meeting: Meeting) -> list[int]:
        members = await self.communities.members(meeting.community_id)
        return notes_prompt_recipients(
            meeting.created_by, [m.user_id for m in members if m.is_facilitator]
        )

    # ------------------------------------------------------------------ series
    async def save_series(
        self, community_id: int, rule: SeriesRule, minutes: int, location: str, by: int
    ) -> Series:
        return await self.repo.save_series(community_id, rule, minutes, location, by, self.now())

    async def all_series(self) -> list[Series]:
        return await self.repo.all_series()

    async def upcoming_series(self, community_id: int) -> list[Meeting]:
        now = self.now()
        return [
            m for m in await self.repo.series_meetings(community_id)
            if not m.cancelled and m.start_utc > now
        ]

    async def next_series_wake(self, community_id: int) -> datetime | None:
        """When the series job should wake: the next occurrence's start (it then "passes"
        and the next one is added), a day from now if none; None without a series."""
        if await self.repo.series(community_id) is None:
            return None
        now = self.now()
        future = [
            m.start_utc for m in await self.repo.series_meetings(community_id) if m.start_utc > now
        ]
        return min(future) if future else now + timedelta(days=1)

    async def missing_occurrences(
        self, community_id: int
    ) -> tuple[Community, Series, list[MeetingDraft]] | None:
        """What must be added so the next two occurrences are on the calendar."""
        series = await self.repo.series(community_id)
        community = await self.communities.get(community_id)
        if series is None or community is None or community.archived:
            return None
        existing = [m.start_utc for m in await self.repo.series_meetings(community_id)]
        drafts = [
            MeetingDraft(
                title=series_title(community.name, start, series.rule.tz),
                start_utc=start,
                end_utc=start + timedelta(minutes=series.duration_minutes),
                duration_minutes=series.duration_minutes,
                location=series.location,
                online=series.location == "Online",
            )
            for start in ensure_upcoming(series.rule, existing, self.now())
        ]
        return community, series, drafts

    async def series_changes(self, community: Community, series: Series) -> list[SeriesChange]:
        """A (re)set rule: future occurrences in months no longer chosen are cancelled, the
        others move to the rule's day and time (and zone)."""
        now = self.now()
        rule = series.rule
        changes = []
        for meeting in await self.repo.series_meetings(community.id):
            if meeting.cancelled or meeting.start_utc <= now:
                continue
            local = meeting.start_utc.astimezone(rule.tz)
            if local.month not in rule.months:
                changes.append(SeriesChange(meeting, cancel=True))
                continue
            start = rule.start_in(local.year, local.month)
            end = start + timedelta(minutes=series.duration_minutes)
            if start <= now:
                continue
            if (start, end) != (meeting.start_utc, meeting.end_utc) or (
                meeting.timezone != rule.tz.key
            ):
                title = series_title(community.name, start, rule.tz)
                changes.append(SeriesChange(meeting, False, title, start, end))
        return changes
