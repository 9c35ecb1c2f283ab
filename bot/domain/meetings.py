"""Meetings: validation, the twice-yearly series, reminders and RSVPs, as pure decisions.

Nothing here talks to Discord or the database. The cog asks these functions what to do
("which occurrences are missing?", "which reminder goes out now?") and carries it out, so the
rules that matter after a restart or across a DST change are tested in isolation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot.domain.timeparse import (
    MAX_HORIZON,
    MONTH_NUMBERS,
    WEEKDAY_NAMES,
    LocalResolution,
    format_duration,
    parse_duration,
    parse_weekday,
    to_utc,
)
from bot.errors import InvalidInput
from bot.text import clean_line, echo

log = logging.getLogger(__name__)

#: Discord limits a guild scheduled event's name to 1-100 characters.
TITLE_MAX = 100
#: Discord limits an external event's ``entity_metadata.location`` to 1-100 characters.
LOCATION_MAX = 100
DURATION_MIN_MINUTES = 1
DURATION_MAX_MINUTES = 24 * 60
DEFAULT_DURATION_MINUTES = 120
ONLINE = "Online"

#: Defaults from PRODUCT.md: 7 days, 1 day and 1 hour before the start.
DEFAULT_REMINDER_OFFSETS: tuple[timedelta, ...] = (
    timedelta(days=7),
    timedelta(days=1),
    timedelta(hours=1),
)
#: How long after a meeting ends the facilitator is still asked for notes.
NOTES_PROMPT_WINDOW = timedelta(days=14)
#: The bot keeps this many future occurrences of a series scheduled.
SERIES_LOOKAHEAD = 2


# --------------------------------------------------------------------------- one meeting


@dataclass(frozen=True)
class MeetingDraft:
    """A meeting that has passed every check and can be stored and announced."""

    title: str
    start_utc: datetime
    end_utc: datetime
    duration_minutes: int
    location: str
    online: bool


def validate_meeting(
    title: str,
    when_utc: datetime,
    duration_minutes: int,
    location: str | None,
    now: datetime,
) -> MeetingDraft:
    """Check a meeting against Hearth's rules and Discord's scheduled-event limits.

    Limits come from Discord so that a meeting Hearth accepts can always become a guild
    scheduled event: name 1-100 characters, external location 1-100 characters. An empty
    location, or "online" in any case, means an online meeting (shown as "Online").
    """
    # stored as shown: one line, no control, bidi or zero-width characters
    clean_title = clean_line(title)
    if not clean_title:
        raise InvalidInput('Give the meeting a title, e.g. "Spring community meeting".')
    if len(clean_title) > TITLE_MAX:
        raise InvalidInput(
            f"That title is {len(clean_title)} characters; Discord allows at most {TITLE_MAX}. "
            "Please shorten it."
        )
    if when_utc.tzinfo is None or now.tzinfo is None:
        raise ValueError("validate_meeting needs aware datetimes")
    if isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int):
        raise InvalidInput("Give the duration as a whole number of minutes, e.g. 120.")
    if duration_minutes < DURATION_MIN_MINUTES:
        raise InvalidInput("A meeting must last at least 1 minute; 120 (two hours) is usual.")
    if duration_minutes > DURATION_MAX_MINUTES:
        raise InvalidInput(
            f"A meeting can last at most 24 hours ({DURATION_MAX_MINUTES} minutes); "
            "split longer gatherings into several meetings."
        )
    start = when_utc.astimezone(UTC)
    if start <= now:
        raise InvalidInput("That time has already passed. Choose a date and time in the future.")
    if start - now > MAX_HORIZON:
        raise InvalidInput("That is too far ahead: schedule meetings within the next five years.")
    clean_location = clean_line(location)
    online = clean_location == "" or clean_location.lower() == "online"
    if online:
        clean_location = ONLINE
    if len(clean_location) > LOCATION_MAX:
        raise InvalidInput(
            f"That location is {len(clean_location)} characters; Discord allows at most "
            f"{LOCATION_MAX}. Shorten it, or put the details in the description."
        )
    return MeetingDraft(
        title=clean_title,
        start_utc=start,
        end_utc=start + timedelta(minutes=duration_minutes),
        duration_minutes=duration_minutes,
        location=clean_location,
        online=online,
    )


def parse_duration_minutes(text: str) -> int:
    """Read a meeting length ("120", "2h", "1h30m") as whole minutes within 1..1440."""
    value = parse_duration(text, maximum=timedelta(minutes=DURATION_MAX_MINUTES))
    minutes = int(value.total_seconds() // 60)
    if minutes < DURATION_MIN_MINUTES:
        raise InvalidInput("A meeting must last at least 1 minute; 120 (two hours) is usual.")
    return minutes


# --------------------------------------------------------------------------- series


@dataclass(frozen=True)
class SeriesRule:
    """ "The nth weekday of each of these months, at this local time".

    ``weekday`` is 0=Monday..6=Sunday; ``nth`` is 1..4, or -1 for the last one in the month
    (a fifth weekday does not exist in every month, so it is not offered).
    """

    months: tuple[int, ...]
    weekday: int
    nth: int
    time: time
    tz: ZoneInfo

    def describe(self) -> str:
        """Plain-language summary, e.g. "second Wednesday of March and September, 18:30"."""
        names = [date(2000, m, 1).strftime("%B") for m in self.months]
        month_text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return (
            f"{_ORDINAL_WORDS[self.nth]} {WEEKDAY_NAMES[self.weekday]} of {month_text}, "
            f"{self.time:%H:%M} ({self.tz.key})"
        )


_ORDINALS = {
    "1": 1, "1st": 1, "first": 1, "2": 2, "2nd": 2, "second": 2,
    "3": 3, "3rd": 3, "third": 3, "4": 4, "4th": 4, "fourth": 4,
    "last": -1, "final": -1,
}  # fmt: skip
_ORDINAL_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


def validate_series(
    months: Iterable[int], weekday: int, nth: int, at: time, tz: ZoneInfo
) -> SeriesRule:
    """Check a twice-yearly series; months are de-duplicated and sorted.

    At least two distinct months are required: a single month would make a yearly meeting,
    not the twice-yearly rhythm the series exists for.
    """
    month_list = list(months)
    for month in month_list:
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise InvalidInput(
                f"`{echo(repr(month))}` is not a month: use numbers 1-12, e.g. 3 and 9 for March "
                "and September."
            )
    distinct = tuple(sorted(set(month_list)))
    if len(distinct) < 2:
        raise InvalidInput(
            "A twice-yearly series needs at least two different months "
            "(e.g. 3 and 9 for March and September); one month would make it yearly."
        )
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise InvalidInput('The weekday must be Monday to Sunday, e.g. "wednesday".')
    if nth not in _ORDINAL_WORDS:
        raise InvalidInput(
            "Choose the first, second, third, fourth or last weekday of the month "
            "(a fifth one does not happen every month)."
        )
    if at.tzinfo is not None:
        raise ValueError("the series time is a local wall time and must be naive")
    return SeriesRule(months=distinct, weekday=weekday, nth=nth, time=at, tz=tz)


def parse_months(text: str) -> tuple[int, ...]:
    """Read "3 and 9", "3,9" or "March, September" into month numbers (not yet validated
    for the two-month rule; pass the result to :func:`validate_series`)."""
    cleaned = (text or "").lower().replace(",", " ").replace("&", " ").replace("/", " ")
    tokens = [t for t in cleaned.split() if t not in ("and", "+")]
    if not tokens:
        raise InvalidInput(
            'Give the months as numbers or names, e.g. "3 and 9" or "March, September".'
        )
    months: list[int] = []
    for token in tokens:
        if token.isdecimal() and len(token) <= 2:
            value = int(token)
            if not 1 <= value <= 12:
                raise InvalidInput(f'{token} is not a month: use 1-12, e.g. "3 and 9".')
            months.append(value)
        elif token.rstrip(".") in MONTH_NUMBERS:
            months.append(MONTH_NUMBERS[token.rstrip(".")])
        else:
            raise InvalidInput(
                f"I couldn't read `{echo(token, 30)}` as a month. "
                'Try "3 and 9" or "March, September".'
            )
    return tuple(months)


def parse_weekday_spec(text: str) -> tuple[int, int]:
    """Read "second wednesday" / "2nd Wed" / "last friday of the month" as (nth, weekday)."""
    cleaned = re.sub(r"[,.]", " ", (text or "").lower())
    cleaned = re.sub(r"\b(?:of\s+)?(?:the|each|every)?\s*month\b", " ", cleaned)
    words = [w for w in cleaned.split() if w not in ("the", "of", "on")]
    example = 'Try "second wednesday" or "last friday".'
    if len(words) != 2 or words[0] not in _ORDINALS:
        raise InvalidInput(
            f"I couldn't read `{echo(text, 40)}` as a day of the month. {example}"
        )
    try:
        weekday = parse_weekday(words[1])
    except InvalidInput:
        raise InvalidInput(
            f"I couldn't read `{echo(words[1], 20)}` as a day of the week. {example}"
        ) from None
    return _ORDINALS[words[0]], weekday


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The nth (1..4, or -1 for last) given weekday of a month."""
    if nth == -1:
        next_month = date(year + (month == 12), month % 12 + 1, 1)
        last = next_month - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def occurrences(rule: SeriesRule, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` occurrences strictly after ``after``, in UTC, ascending.

    Each is at the rule's *local* wall time (18:30 in March and 18:30 in October), converted
    with :func:`~bot.domain.timeparse.to_utc`, so the DST gap/fold rule is the same as for
    one-off meetings.
    """
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if count < 0:
        raise ValueError("count must not be negative")
    found: list[datetime] = []
    year = after.astimezone(rule.tz).year
    while len(found) < count:
        for month in rule.months:
            day = nth_weekday(year, month, rule.weekday, rule.nth)
            start = to_utc(datetime.combine(day, rule.time), rule.tz).utc
            if start > after:
                found.append(start)
                if len(found) == count:
                    break
        year += 1
    return found


def _slot(instant: datetime, tz: ZoneInfo) -> tuple[int, int]:
    local = instant.astimezone(tz)
    return local.year, local.month


def ensure_upcoming(
    rule: SeriesRule, existing_starts: Iterable[datetime], now: datetime
) -> list[datetime]:
    """Occurrences to add so the next two of the series are always on the calendar.

    A series has at most one meeting per month, so an occurrence counts as present when any
    existing series meeting falls in the same local year and month: a facilitator who moved
    the March meeting by a week does not get a second March meeting. Pass every meeting that
    belongs to this series, cancelled ones included, so a cancelled occurrence is not
    resurrected. Calling this again with its own output added returns nothing.
    """
    taken = {_slot(start, rule.tz) for start in existing_starts}
    return [
        start
        for start in occurrences(rule, now, SERIES_LOOKAHEAD)
        if _slot(start, rule.tz) not in taken
    ]


# --------------------------------------------------------------------------- reminders


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


# --------------------------------------------------------------------------- RSVPs


class RSVP(StrEnum):
    GOING = "going"
    MAYBE = "maybe"
    CANT = "cant"

    @property
    def label(self) -> str:
        return {"going": "Going", "maybe": "Maybe", "cant": "Can't"}[self.value]


class MemberLike(Protocol):
    """What reminder targeting needs to know about a member."""

    @property
    def user_id(self) -> int: ...

    @property
    def region(self) -> str | None: ...


M = TypeVar("M", bound=MemberLike)


def rsvp_counts(rsvps: Mapping[int, RSVP | str]) -> dict[RSVP, int]:
    """Counts for every answer, zeros included, from a member id -> answer mapping."""
    counts = dict.fromkeys(RSVP, 0)
    for answer in rsvps.values():
        counts[RSVP(answer)] += 1
    return counts


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


# --------------------------------------------------------------------------- stored records


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Meeting:
    """A stored meeting. Instants are aware UTC; ``timezone`` is the IANA zone it was planned in.

    ``event_id`` is the Discord guild scheduled event mirroring it (None when Discord would not
    let the bot create one: ``event_problem`` then says why, for the facilitator).
    """

    id: int
    community_id: int
    title: str
    start_utc: datetime
    end_utc: datetime
    timezone: str
    location: str
    channel_id: int | None
    region: str | None
    in_series: bool
    created_by: int
    created_at: datetime
    status: MeetingStatus
    event_id: int | None
    event_problem: str | None
    announcement_channel_id: int | None
    announcement_id: int | None
    sequence: int
    notes: str | None
    notes_at: datetime | None
    attendance_at: datetime | None
    notes_prompted_at: datetime | None
    cancelled_at: datetime | None

    @property
    def cancelled(self) -> bool:
        return self.status is MeetingStatus.CANCELLED

    @property
    def duration_minutes(self) -> int:
        return int((self.end_utc - self.start_utc).total_seconds() // 60)

    @property
    def online(self) -> bool:
        return self.channel_id is None and self.location == ONLINE

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Series:
    """A community's stored twice-yearly series (one per community)."""

    community_id: int
    rule: SeriesRule
    duration_minutes: int
    location: str
    created_by: int
    updated_at: datetime


def occurrence_resolution(rule: SeriesRule, start_utc: datetime) -> LocalResolution:
    """How a series occurrence was placed on the timeline (so a DST gap/fold can be shown).

    The local date is that of the occurrence; a gap shifts the time forward within the same
    day, so re-resolving the rule's wall time on that date reproduces the decision.
    """
    day = start_utc.astimezone(rule.tz).date()
    return to_utc(datetime.combine(day, rule.time), rule.tz)


def series_title(community_name: str, start_utc: datetime, tz: ZoneInfo) -> str:
    """ "Carers Voice meeting, March 2027": the month says which of the two it is."""
    local = start_utc.astimezone(tz)
    return f"{community_name} meeting, {local:%B %Y}"[:TITLE_MAX]
