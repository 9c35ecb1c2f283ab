"""A meeting's Discord scheduled event: made with the meeting, moved and cancelled with it,
retried while Discord refuses an edit, and reconciled at start-up.

No Discord event is left without a meeting: every event Hearth makes carries a marker line
("Hearth meeting #<id>") in its description, so after a crash between creating the event
and storing its id the start-up reconcile can still tell whose event it is.
Job ids: ``meeting:<id>:event`` (a refused edit's retry) and ``meeting:reconcile``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.domain.communities import Community
from bot.domain.meetings import Meeting
from bot.text import escape_inline, plain
from cogs.meetings import _render
from cogs.meetings._discord import DiscordSide

log = logging.getLogger(__name__)

EVENT_DESCRIPTION_MAX = 1000
"""Discord's limit on a guild scheduled event's description."""

EVENT_RETRY = timedelta(hours=1)
"""How long to wait before asking Discord again to edit an event it refused to edit."""

_MARKER = re.compile(r"^Hearth meeting #(\d{1,18})$", re.MULTILINE)


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


def event_marker(meeting_id: int) -> str:
    """The line that makes an event recognisably Hearth's, and which meeting's it is."""
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


class Events(DiscordSide):
    """The Discord side of a meeting's scheduled event."""

    async def create(
        self,
        community: Community,
        meeting: Meeting,
        channel: discord.VoiceChannel | discord.StageChannel | None,
        problems: list[str],
    ) -> None:
        """Make the event and store its id; if that store fails the event is deleted again.
        Discord refusing the event is not an error: the problem is noted for the facilitator."""
        guild = self.guild(community)
        if guild is None:
            problem = "I could not create the Discord event: the server is unavailable."
            await self.service.set_event(meeting.id, None, problem)
            problems.append(problem)
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
            await self.service.set_event(meeting.id, None, problem)
            problems.append(problem)
            return
        try:
            await self.service.set_event(meeting.id, event.id, None)
        except BaseException:
            try:
                await event.delete(reason="rolling back a meeting that could not be stored")
            except discord.HTTPException:
                log.exception("could not delete orphan scheduled event %s", event.id)
            raise

    async def _event(self, community: Community, event_id: int) -> discord.ScheduledEvent | None:
        guild = self.guild(community)
        if guild is None:
            return None
        event = guild.get_scheduled_event(event_id)
        if event is None:
            try:
                event = await guild.fetch_scheduled_event(event_id)
            except discord.NotFound:
                return None
        return event

    async def cancel(self, meeting: Meeting) -> None:
        """Cancel the Discord event first; a Forbidden here stops the whole cancellation."""
        if meeting.event_id is None:
            return
        community = await self.service.community(meeting)
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

    async def move(self, meeting: Meeting) -> str | None:
        """Bring the Discord event in line with a moved meeting; returns a problem, if any.

        A refused edit is recorded (the event is out of date) and retried by
        :meth:`run_retry` until it goes through; only this first answer tells the
        facilitator, the retries do not.
        """
        result = await self.sync(meeting)
        if result == "gone":
            return "The meeting's Discord event had been deleted; the meeting itself stands."
        if isinstance(result, discord.HTTPException):
            return (
                f"I could not update the Discord event of **{escape_inline(meeting.title)}** "
                f"(Discord said: {result.text or result.status}), so it still shows the old "
                "time; I will keep trying and fix it as soon as Discord lets me."
            )
        return None

    async def sync(self, meeting: Meeting) -> str | discord.HTTPException | None:
        """Edit the event to the meeting's title and times.

        Returns None when the event is in step (or there is none), ``"gone"`` when it had
        been deleted (the meeting stops pointing at it), or Discord's refusal, in which case
        the meeting is marked as having an out-of-date event.
        """
        if meeting.event_id is None:
            await self.service.clear_event_stale(meeting.id)
            return None
        community = await self.service.community(meeting)
        try:
            event = await self._event(community, meeting.event_id)
        except discord.HTTPException as exc:
            await self.service.mark_event_stale(meeting.id)
            return exc
        if event is None:
            await self.service.unlink_event(meeting.id, meeting.event_id)
            return "gone"
        if _event_matches(event, meeting):
            await self.service.clear_event_stale(meeting.id)
            return None
        try:
            await event.edit(
                name=_render.event_name(meeting),
                start_time=meeting.start_utc,
                end_time=meeting.end_utc,
                reason=f"{event_marker(meeting.id)} moved",
            )
        except discord.NotFound:
            await self.service.unlink_event(meeting.id, meeting.event_id)
            return "gone"
        except discord.HTTPException as exc:
            log.warning("meeting %s: Discord refused to edit event %s: %s",
                        meeting.id, meeting.event_id, exc)
            await self.service.mark_event_stale(meeting.id)
            return exc
        await self.service.clear_event_stale(meeting.id)
        return None

    def arm_retry(self, meeting: Meeting, when: datetime) -> None:
        meeting_id = meeting.id
        self.bot.scheduler.schedule(
            f"meeting:{meeting_id}:event", when, lambda: self.run_retry(meeting_id),
            guild_id=self.bot.communities.guild_of(meeting.community_id),
        )

    async def run_retry(self, meeting_id: int) -> None:
        """Ask Discord again to edit an out-of-date event; re-arm while it still refuses.

        Silent: the facilitator was told when the first edit was refused. Once the meeting
        has started an old time on the event no longer misleads anyone, so retrying stops.
        """
        job = f"meeting:{meeting_id}:event"
        if self.not_ready_yet(job, lambda: self.run_retry(meeting_id)):
            return
        if not await self.service.event_is_stale(meeting_id):
            return
        meeting = await self.service.get(meeting_id)
        if meeting is None:
            return
        if meeting.cancelled or meeting.start_utc <= self.now():
            await self.service.clear_event_stale(meeting_id)
            return
        result = await self.sync(meeting)
        if isinstance(result, discord.HTTPException):
            self.arm_retry(meeting, self.now() + EVENT_RETRY)
        else:
            log.info("meeting %s: its Discord event is up to date again", meeting_id)

    # ------------------------------------------------------------------ reconcile
    def arm_reconcile(self) -> None:
        self.bot.scheduler.schedule(
            "meeting:reconcile", self.now(), self.run_reconcile, guild_id=None, per_process=True
        )

    async def run_reconcile(self) -> None:
        if self.not_ready_yet("meeting:reconcile", self.run_reconcile):
            return
        report = await self.reconcile()
        if report.deleted or report.relinked or report.unlinked:
            log.info(
                "reconciled Discord events: deleted orphans %s, re-linked %s, forgot %s",
                report.deleted, report.relinked, report.unlinked,
            )

    async def reconcile(self) -> ReconcileReport:
        """Make each guild's Discord events and the stored meetings agree again.

        Only events Hearth created (its own user is the creator) with a marker line are
        ever touched: one whose meeting lost its id and is still scheduled is re-linked (and
        brought up to date); one whose meeting is gone, cancelled or already has another
        event is deleted. A meeting pointing at an event that no longer exists stops
        pointing at it.
        """
        report = ReconcileReport()
        me = self.bot.user.id if self.bot.user is not None else None
        for guild_id in await self.service.community_guilds():
            if not self.bot.owns(guild_id):
                continue  # another process's (HEARTH_SHARDS)
            guild = self.bot.get_guild(guild_id)
            if guild is None or me is None:
                continue
            # Read the links first: an event made after this snapshot is not "missing".
            links = await self.service.event_links(guild_id)
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
                if event_id not in live and await self.service.unlink_event(meeting_id, event_id):
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
        meeting = await self.service.in_guild(meeting_id, guild_id)
        if meeting is not None and meeting.event_id == event.id:
            return
        if (
            meeting is not None
            and not meeting.cancelled
            and meeting.event_id is None
            and await self.service.link_event(meeting.id, event.id)
        ):
            report.relinked.append((meeting.id, event.id))
            relinked = await self.service.reload(meeting.id)
            needs_edit = not _event_matches(event, relinked) and relinked.start_utc > self.now()
            if needs_edit and isinstance(await self.sync(relinked), discord.HTTPException):
                self.arm_retry(relinked, self.now() + EVENT_RETRY)
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


INTEREST_EVENT = "scheduled_event_interest"
"""Dispatched as ``on_scheduled_event_interest(guild_id, event_id, user_id, added)``."""


def relay_interest(bot: discord.Client) -> None:
    """Dispatch every GUILD_SCHEDULED_EVENT_USER_ADD/REMOVE as :data:`INTEREST_EVENT`.

    discord.py's own ``on_scheduled_event_user_add`` fires only for a user already in its
    cache, and Hearth runs without the members intent, so a member who never clicked
    anything would be dropped silently. The gateway payload carries all that is needed
    (guild, event and user ids), so the parser is wrapped to pass it on before discord.py
    handles it as usual. The GUILD_SCHEDULED_EVENTS intent is not privileged and is in
    ``Intents.default()``.
    """
    parsers = bot._connection.parsers
    for kind, added in (
        ("GUILD_SCHEDULED_EVENT_USER_ADD", True),
        ("GUILD_SCHEDULED_EVENT_USER_REMOVE", False),
    ):
        original = parsers.get(kind)
        if original is None or getattr(original, "hearth_relay", False):
            continue

        def relay(data: Any, original: Any = original, added: bool = added) -> None:
            try:
                ids = (
                    int(data["guild_id"]),
                    int(data["guild_scheduled_event_id"]),
                    int(data["user_id"]),
                )
            except (KeyError, TypeError, ValueError):
                log.debug("scheduled event user payload without ids: %r", data)
            else:
                bot.dispatch(INTEREST_EVENT, *ids, added)
            original(data)

        relay.hearth_relay = True  # type: ignore[attr-defined]
        parsers[kind] = relay
