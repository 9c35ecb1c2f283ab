"""Meetings: one meeting's validation, its stored record, RSVPs and attendance, as pure rules.

Nothing here talks to Discord or the database. The cog asks these functions what to do
("which occurrences are missing?", "which reminder goes out now?") and carries it out, so the
rules that matter after a restart or across a DST change are tested in isolation.

The series lives in :mod:`bot.domain.meeting_series`, reminders and the notes prompt in
:mod:`bot.domain.meeting_reminders`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.timeparse import MAX_HORIZON, parse_duration
from bot.errors import InvalidInput, NotAllowed
from bot.text import clean_line, escape_inline

log = logging.getLogger(__name__)

#: Discord limits a guild scheduled event's name to 1-100 characters.
TITLE_MAX = 100
#: Discord limits an external event's ``entity_metadata.location`` to 1-100 characters.
LOCATION_MAX = 100
DURATION_MIN_MINUTES = 1
DURATION_MAX_MINUTES = 24 * 60
DEFAULT_DURATION_MINUTES = 120
ONLINE = "Online"
#: What a meeting records when its Discord event was deleted (shown to facilitators).
EVENT_DELETED = "The Discord event was deleted."


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


# --------------------------------------------------------------------------- RSVPs


class RSVP(StrEnum):
    GOING = "going"
    MAYBE = "maybe"
    CANT = "cant"

    @property
    def label(self) -> str:
        return {"going": "Going", "maybe": "Maybe", "cant": "Can't"}[self.value]


def rsvp_counts(rsvps: Mapping[int, RSVP | str]) -> dict[RSVP, int]:
    """Counts for every answer, zeros included, from a member id -> answer mapping."""
    counts = dict.fromkeys(RSVP, 0)
    for answer in rsvps.values():
        counts[RSVP(answer)] += 1
    return counts



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




# --------------------------------------------------------------------------- RSVP rules


def check_rsvp(meeting: Meeting, community_name: str, active_member: bool, now: datetime) -> None:
    """Whether this person's answer may be recorded now.

    A server manager may oversee a community, but only members' answers count (and get
    reminders); a cancelled meeting or one that is over takes no answers.
    """
    if not active_member:
        raise NotAllowed(
            f"Only members of **{escape_inline(community_name)}** can answer for its "
            "meetings. A facilitator can add you with `/community add`."
        )
    if meeting.cancelled:
        raise InvalidInput("This meeting has been cancelled, so there is nothing to answer.")
    if meeting.end_utc <= now:
        raise InvalidInput("This meeting is over; answers are closed.")


def check_notes(meeting: Meeting, now: datetime) -> None:
    """Notes are for a meeting that took place."""
    if meeting.cancelled:
        raise InvalidInput(
            f"**{escape_inline(meeting.title)}** was cancelled, so it has no notes."
        )
    if meeting.start_utc > now:
        raise InvalidInput(
            f"**{escape_inline(meeting.title)}** has not started yet; record notes once it "
            "has taken place."
        )


def check_cancellable(meeting: Meeting, now: datetime) -> None:
    if meeting.cancelled:
        raise InvalidInput(f"**{escape_inline(meeting.title)}** is already cancelled.")
    if meeting.start_utc <= now:
        raise InvalidInput(
            f"**{escape_inline(meeting.title)}** has already started; it can't be cancelled."
        )


# --------------------------------------------------------------------------- attendance

#: Discord's limit on a select's values: one attendance picker shows this many people.
ATTENDANCE_PAGE = 25
#: The top of the last page's range (every Discord id is below it).
_TOP = 2**63 - 1


@dataclass(frozen=True)
class AttendancePage:
    """One picker of the attendance list: the people whose ids fall in ``low..high``.

    A community's roster (its members, plus anyone already marked present) is cut into
    pages of :data:`ATTENDANCE_PAGE` by id, so each person is on exactly one page and a
    pick changes only the people of its own page (plus anyone picked from elsewhere, who
    is added). ``low``/``high`` are None when everyone fits on one page: the pick is then
    the whole list, as it always was.
    """

    number: int
    pages: int
    low: int | None
    high: int | None
    people: tuple[int, ...]
    present: tuple[int, ...]

    def covers(self, user_id: int) -> bool:
        return page_covers(self.low, self.high, user_id)


def page_covers(low: int | None, high: int | None, user_id: int) -> bool:
    return (low is None or user_id >= low) and (high is None or user_id <= high)


def attendance_pages(roster: Iterable[int], present: Iterable[int]) -> list[AttendancePage]:
    """The pickers for a roster of any size (at least one, even for nobody)."""
    marked = sorted(set(present))
    everyone = sorted(set(roster) | set(marked))
    chunks = [everyone[i : i + ATTENDANCE_PAGE] for i in range(0, len(everyone), ATTENDANCE_PAGE)]
    if len(chunks) <= 1:
        return [AttendancePage(1, 1, None, None, tuple(everyone), tuple(marked))]
    pages = []
    for index, chunk in enumerate(chunks):
        low = 0 if index == 0 else chunk[0]
        high = chunks[index + 1][0] - 1 if index + 1 < len(chunks) else _TOP
        pages.append(
            AttendancePage(
                index + 1, len(chunks), low, high, tuple(chunk),
                tuple(u for u in marked if low <= u <= high),
            )
        )
    return pages

