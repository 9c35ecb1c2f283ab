"""Meeting reminders and the notes prompt, as pure decisions: which reminder goes out now
(after downtime too), who gets it, how the time left is said, when to ask for notes.

Nothing here talks to Discord or the database; the rules that matter after a restart are
tested in isolation (tests/domain/test_meetings.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot.domain.meetings import RSVP
from bot.domain.timeparse import format_duration
from bot.errors import InvalidInput

#: Defaults from PRODUCT.md: 7 days, 1 day and 1 hour before the start.
DEFAULT_REMINDER_OFFSETS: tuple[timedelta, ...] = (
    timedelta(days=7),
    timedelta(days=1),
    timedelta(hours=1),
)
#: How long after a meeting ends the facilitator is still asked for notes.
NOTES_PROMPT_WINDOW = timedelta(days=14)



def validate_reminder_offsets(offsets: Iterable[timedelta]) -> tuple[timedelta, ...]:
    """De-duplicate and sort reminder offsets from the largest (earliest) down."""
    unique = sorted(set(offsets), reverse=True)
    for offset in unique:
        if offset <= timedelta(0):
            raise InvalidInput("Reminders must come before the meeting (e.g. 7d, 1d, 1h).")
        if offset > timedelta(days=60):
            raise InvalidInput(
                f"A reminder {format_duration(offset)} ahead is too early; keep it within 60 days."
            )
    return tuple(unique)


@dataclass(frozen=True)
class ReminderPlan:
    """What to do about a meeting's reminders right now (see :func:`reminder_plan`)."""

    current: timedelta | None
    """The most relevant reminder whose time has come (sent already or not), if any."""
    send: timedelta | None
    """The reminder to send now: ``current`` when it is not recorded yet."""
    skip: tuple[timedelta, ...]
    """Reminders whose time came but which are of no use any more: record them skipped."""


def reminder_plan(
    meeting_start: datetime,
    offsets: Iterable[timedelta],
    now: datetime,
    recorded: Iterable[timedelta],
) -> ReminderPlan:
    """Which reminder to send right now (at most one), including after downtime.

    ``recorded``: reminders already dealt with (sent, skipped, or being sent). A reminder is
    due once ``now >= start - offset``. Of the due ones only the most relevant, the smallest
    offset, is sent, and only before the start (no reminder, the 1-hour one included, goes
    out once the meeting has begun): after a long outage a member gets the 1-day reminder,
    not the 7-day and the 1-day one together. Every other due reminder not yet recorded is
    to be recorded as skipped, so it is never sent later and the record says it was not.
    """
    if meeting_start.tzinfo is None or now.tzinfo is None:
        raise ValueError("reminder_plan needs aware datetimes")
    ordered = validate_reminder_offsets(offsets)
    done = set(recorded)
    due = [offset for offset in ordered if now >= meeting_start - offset]
    if now >= meeting_start:
        return ReminderPlan(None, None, tuple(o for o in due if o not in done))
    if not due:
        return ReminderPlan(None, None, ())
    current = due[-1]  # the smallest offset whose time has come
    skip = tuple(o for o in due[:-1] if o not in done)
    return ReminderPlan(current, None if current in done else current, skip)


def reminders_due(
    meeting_start: datetime,
    offsets: Iterable[timedelta],
    now: datetime,
    sent: Iterable[timedelta],
) -> list[timedelta]:
    """The reminder to send right now, as a list of at most one (:func:`reminder_plan`).

    A reminder passed over is never sent later, because the smaller one stays due. Together
    with recording ``sent``, this means every reminder is sent at most once.
    """
    if meeting_start.tzinfo is None or now.tzinfo is None:
        raise ValueError("reminders_due needs aware datetimes")
    plan = reminder_plan(meeting_start, offsets, now, sent)
    return [] if plan.send is None else [plan.send]


def time_left(start: datetime, now: datetime) -> str:
    """The real time until ``start`` as people say it: "in 45 minutes", "in 1 hour 30
    minutes" (exact under 3 hours), "in 20 hours" (to the nearest hour under two days),
    "in 3 days" (to the nearest day)."""
    minutes = max(1, round((start - now).total_seconds() / 60))
    if minutes < 3 * 60:
        return f"in {format_duration(timedelta(minutes=minutes))}"
    if minutes < 48 * 60:
        n, unit = round(minutes / 60), "hour"
    else:
        n, unit = round(minutes / (24 * 60)), "day"
    return f"in {n} {unit}{'' if n == 1 else 's'}"


def starts_in_words(start: datetime, now: datetime, tz: ZoneInfo) -> str:
    """When a meeting starts, said from ``now`` in the meeting's own time zone:
    "today at 18:30 GMT", "tomorrow at 18:30 GMT", "on Friday at 18:30 BST" (within a week),
    "on Wednesday 10 March at 18:30 GMT" (further), each followed by the time left."""
    if start.tzinfo is None or now.tzinfo is None:
        raise ValueError("starts_in_words needs aware datetimes")
    local = start.astimezone(tz)
    days = (local.date() - now.astimezone(tz).date()).days
    if days <= 0:
        day = "today"
    elif days == 1:
        day = "tomorrow"
    elif days < 7:
        day = f"on {local:%A}"
    else:
        day = f"on {local:%A} {local.day} {local:%B}"
    return f"{day} at {local:%H:%M} {local.tzname()}, {time_left(start, now)}"


def next_reminder_at(
    meeting_start: datetime,
    offsets: Iterable[timedelta],
    now: datetime,
    sent: Iterable[timedelta],
) -> datetime | None:
    """When the scheduler should next wake for this meeting's reminders, or None.

    ``now`` when one is due already (catch-up after a restart); otherwise the earliest
    future reminder time before the start.
    """
    ordered = validate_reminder_offsets(offsets)
    already = set(sent)
    if reminders_due(meeting_start, ordered, now, already):
        return now
    upcoming = [
        meeting_start - offset
        for offset in ordered
        if offset not in already and meeting_start - offset > now
    ]
    return min(upcoming) if upcoming else None


class MemberLike(Protocol):
    """What reminder targeting needs to know about a member."""

    @property
    def user_id(self) -> int: ...

    @property
    def region(self) -> str | None: ...


M = TypeVar("M", bound=MemberLike)


def _region_key(region: str | None) -> str | None:
    if region is None:
        return None
    cleaned = " ".join(region.split()).casefold()
    return cleaned or None


def reminder_recipients(
    members: Iterable[M],
    rsvps: Mapping[int, RSVP | str],
    region: str | None = None,
) -> list[M]:
    """Members to remind: everyone who has not said "can't" (no answer counts as maybe).

    For a regional meeting the members of that region are reminded, plus anyone from
    elsewhere who said they are going or might come (they asked for it: the RSVP reply
    promises reminders). Regions compare case-insensitively and ignoring extra spaces.
    """
    wanted = _region_key(region)
    chosen: list[M] = []
    for member in members:
        answer = rsvps.get(member.user_id)
        if answer is not None and RSVP(answer) is RSVP.CANT:
            continue
        if wanted is not None and answer is None and _region_key(member.region) != wanted:
            continue
        chosen.append(member)
    return chosen


def notes_prompt_due(
    meeting_end: datetime,
    now: datetime,
    *,
    prompted: bool = False,
    cancelled: bool = False,
) -> bool:
    """Whether to ask the facilitator for notes now.

    Once the meeting has ended, and only within :data:`NOTES_PROMPT_WINDOW` (after a long
    outage, a prompt about a meeting weeks ago is noise). Never twice, never for a
    cancelled meeting.
    """
    if meeting_end.tzinfo is None or now.tzinfo is None:
        raise ValueError("notes_prompt_due needs aware datetimes")
    if prompted or cancelled:
        return False
    return meeting_end <= now < meeting_end + NOTES_PROMPT_WINDOW



def cancellation_recipients(rsvps: Mapping[int, RSVP | str]) -> list[int]:
    """Who is told a meeting was cancelled: those who said going or maybe."""
    return [user for user, answer in rsvps.items() if RSVP(answer) is not RSVP.CANT]


def notes_prompt_recipients(created_by: int, facilitators: Iterable[int]) -> list[int]:
    """Who is asked for the notes: the person who scheduled it, while they still
    facilitate; otherwise (they left, or were erased) every current facilitator, so the
    prompt is never lost."""
    current = list(facilitators)
    return [created_by] if created_by in current else current
