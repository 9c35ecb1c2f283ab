"""Turning what people type into instants, and instants into what Discord shows.

Shared by meetings (``when``), polls (``closes``) and anything else that asks a person for a
date, a time or a length of time. Everything here is pure: "now" is always passed in, and
every refusal is an :class:`~bot.errors.InvalidInput` whose message shows an accepted example.

Accepted date-times (read in the community's timezone; case and commas do not matter):

* ISO: ``2027-03-10 18:30`` (also ``2027-03-10T18:30``)
* UK day-first numbers: ``10/03/2027 18:30``, ``10.03.2027 18:30``, ``10-03-27 18:30``
  (two-digit years are 20YY; month-first US order is never guessed)
* Month names: ``10 March 2027 6:30pm``, ``Wed 10 Mar 2027 18:30``, ``March 10 2027 18:30``,
  ``10th of March at 18:30``. Without a year, the next such date whose time is still ahead.
  A weekday given with a date must agree with it.
* Words: ``today 18:30``, ``tomorrow 18:30``, ``wednesday 18:30`` (the soonest Wednesday whose
  18:30 is still ahead, today included), ``next wednesday 18:30`` (the first Wednesday after
  today, never today).
* A time alone: ``18:30`` means the next 18:30 (today if still ahead, else tomorrow).
* Times: ``18:30``, ``18.30``, ``6:30pm``, ``6pm``, ``6.30 am``, ``noon``, ``midnight``
  (alone, :func:`parse_time_of_day` also reads ``930`` and ``1830``; it is the one time of day
  reader for meetings, story prompts and digests, as :func:`parse_weekday` is for weekdays).
  A date always needs a time: "10 March 2027" alone is refused rather than guessed.

Relative times count elapsed time from now: ``in 3 days``, ``in 2 hours``, ``2h``, ``90m``,
``3d``, ``1w``, ``in 1 week 2 days``, ``in 1 hour and 30 minutes``. ``m`` means minutes;
months and years are refused because their length varies.

Local wall time to UTC follows one rule everywhere (see :func:`to_utc`): a time that does not
exist (the spring-forward gap) moves forward by the length of the gap and says so; a time that
happens twice (the autumn fold) means the first occurrence.

This file is longer than 400 lines on purpose: it is the one place where every phrase a
person types for a date, a time, a weekday or a length of time is read (one concept, one
place), and the rules above are easier to keep consistent side by side than split apart.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import InvalidInput
from bot.text import echo

log = logging.getLogger(__name__)

#: Nothing Hearth schedules sensibly lies further than this from now, in either direction.
MAX_HORIZON = timedelta(days=5 * 366)
#: Longest length of time :func:`parse_duration` accepts unless told otherwise.
MAX_DURATION = timedelta(days=366)
#: Longest text we even try to read: anything longer is not a date.
_MAX_TEXT = 100

WHEN_EXAMPLES = (
    '"2027-03-10 18:30", "10/03/2027 18:30", "10 March 2027 6:30pm", '
    '"tomorrow 18:30", "next wednesday 18:30", or "in 3 days"'
)
TIME_EXAMPLES = 'Try "18:30", "6:30pm", "0930" or "noon".'
DURATION_EXAMPLES = '"90m", "2h", "1h30m", "90 minutes" or "1 hour 30 minutes"'

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3,
    "apr": 4, "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7,
    "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
#: Month names and abbreviations (lower case) to month numbers, shared with meetings.
MONTH_NUMBERS = _MONTHS
_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4, "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip

_UNIT_SECONDS = {
    "w": 604800, "wk": 604800, "wks": 604800, "week": 604800, "weeks": 604800,
    "d": 86400, "day": 86400, "days": 86400,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
}  # fmt: skip
_VARIABLE_UNITS = {"mo", "mon", "month", "months", "y", "yr", "yrs", "year", "years"}

_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY_RE = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_NUM_UNIT = re.compile(r"(\d{1,7}(?:\.\d{1,4})?)\s*([a-z]+)")
_SEPARATORS = re.compile(r"(?:\s+|\band\b|&|\+)+")

_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})\b")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\b\.?(?:\s+(\d{{4}})\b)?"
)
_MONTH_DAY = re.compile(
    rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*(?:[:.]\d|am\b|pm\b))"
    rf"(?:\s+(\d{{4}})\b)?"
)
_WORD_DAY = re.compile(rf"\b(today|tomorrow|(?:(next|this)\s+)?({_WEEKDAY_RE}))\b")
_WEEKDAY_WORD = re.compile(rf"\b({_WEEKDAY_RE})\b\.?")
_TIME_24 = re.compile(r"^(\d{1,2})[:.](\d{2})(?:[:.](00))?$")
_TIME_12 = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)$")
#: "930", "0930", "1830": hours and minutes run together (as people type them on phones).
_TIME_COMPACT = re.compile(r"^(\d{1,2})(\d{2})$")
_FILLER = re.compile(r"\b(?:at|on|the|of)\b")


@dataclass(frozen=True)
class LocalResolution:
    """A local wall time placed on the UTC timeline, with what had to be decided to do so.

    ``adjusted`` is true when the wall time did not exist (DST gap) and was moved forward;
    ``ambiguous`` when it happened twice (DST fold) and the first occurrence was taken.
    ``note`` is a sentence the UI can show as is, or None when nothing needed saying.
    """

    utc: datetime
    adjusted: bool = False
    note: str | None = None
    ambiguous: bool = False


def _refuse_when(reason: str) -> InvalidInput:
    return InvalidInput(f"{reason} Try something like {WHEN_EXAMPLES}.")


def _normalise(text: str) -> str:
    cleaned = text.strip().lower().replace(",", " ")
    return " ".join(cleaned.split())


# --------------------------------------------------------------------------- timezones


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def validate_timezone(name: str) -> ZoneInfo:
    """Return the IANA zone called ``name``; refuse anything else.

    Only names from the IANA database are accepted (case-insensitively, so "europe/london"
    works), never abbreviations like "BST", which are ambiguous and ignore daylight saving.
    """
    cleaned = (name or "").strip()
    if not cleaned:
        raise InvalidInput("Give a timezone name such as Europe/London.")
    canonical = _zone_names().get(cleaned.lower())
    if canonical is None:
        raise InvalidInput(
            f"I don't know the timezone `{echo(cleaned, 60)}`. Use an IANA name such as "
            f"Europe/London, Europe/Dublin or America/New_York."
        )
    try:
        return ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # pragma: no cover - tzdata gone
        log.warning("timezone %s listed but not loadable: %s", canonical, exc)
        raise InvalidInput(f"The timezone {canonical} could not be loaded; try another.") from exc


def to_utc(local_naive: datetime, tz: ZoneInfo) -> LocalResolution:
    """Place a naive local wall time in ``tz`` on the UTC timeline.

    The rule, applied the same way everywhere in Hearth:

    * Nonexistent time (spring-forward gap, e.g. 01:30 on the last Sunday of March in
      Europe/London): shift forward by the length of the gap, so 01:30 becomes 02:30 BST.
      ``adjusted`` is set and ``note`` says what happened, so the person can be told.
    * Ambiguous time (autumn fold, e.g. 01:30 on the last Sunday of October in
      Europe/London happens at 01:30 BST and again at 01:30 GMT): the first occurrence
      (``fold=0``, the earlier instant) is used; ``ambiguous`` is set and ``note`` says so.
    """
    if local_naive.tzinfo is not None:
        raise ValueError("to_utc expects a naive local datetime")
    naive = local_naive.replace(fold=0)
    first = naive.replace(tzinfo=tz)
    second = naive.replace(tzinfo=tz, fold=1)
    utc_first = first.astimezone(UTC)
    round_trip = utc_first.astimezone(tz).replace(tzinfo=None)
    if round_trip != naive:
        # In a gap, fold=0 reads the wall time with the offset in force *before* the
        # transition, which lands exactly gap-length later on the new wall clock.
        shown = utc_first.astimezone(tz)
        note = (
            f"{naive:%H:%M} does not exist on {_human_date(naive.date())} in {tz.key} "
            f"(the clocks go forward), so I used {shown:%H:%M} {shown.tzname()} instead."
        )
        return LocalResolution(utc=utc_first, adjusted=True, note=note)
    if first.utcoffset() != second.utcoffset():
        note = (
            f"{naive:%H:%M} happens twice on {_human_date(naive.date())} in {tz.key} "
            f"(the clocks go back); I used the first one, {first:%H:%M} {first.tzname()}."
        )
        return LocalResolution(utc=utc_first, ambiguous=True, note=note)
    return LocalResolution(utc=utc_first)


def _human_date(day: date) -> str:
    return f"{WEEKDAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


# --------------------------------------------------------------------------- durations


def _sum_units(text: str, *, allow_bare_minutes: bool) -> timedelta | None:
    """Read "1h30m" / "2 hours and 30 minutes"; None when the text is not of that shape."""
    if allow_bare_minutes and re.fullmatch(r"\d{1,7}", text):
        return timedelta(minutes=int(text))
    pos = 0
    total = 0.0
    seen = False
    while pos < len(text):
        sep = _SEPARATORS.match(text, pos)
        if sep and sep.end() > pos:
            pos = sep.end()
            continue
        match = _NUM_UNIT.match(text, pos)
        if match is None:
            return None
        unit = match.group(2)
        if unit in _VARIABLE_UNITS:
            raise InvalidInput(
                "Months and years vary in length, so give days or weeks instead "
                '(for example "in 30 days" or "6w").'
            )
        if unit not in _UNIT_SECONDS:
            return None
        total += float(match.group(1)) * _UNIT_SECONDS[unit]
        seen = True
        pos = match.end()
    if not seen:
        return None
    if total > MAX_HORIZON.total_seconds() * 2:
        raise InvalidInput("That length of time is far too long; keep it within a few years.")
    return timedelta(seconds=round(total))


def parse_duration(text: str, *, maximum: timedelta = MAX_DURATION) -> timedelta:
    """Read a length of time such as "2h", "90 minutes" or "1h30m".

    A bare number is minutes ("90"), because that is how `/meeting schedule` asks for a
    duration. Zero and anything above ``maximum`` are refused.
    """
    cleaned = _normalise(text or "")
    if cleaned.startswith("for "):
        cleaned = cleaned[4:]
    if not cleaned or len(cleaned) > _MAX_TEXT:
        raise InvalidInput(f"Give a length of time such as {DURATION_EXAMPLES}.")
    value = _sum_units(cleaned, allow_bare_minutes=True)
    if value is None:
        raise InvalidInput(
            f"I couldn't read `{echo(text, 60)}` as a length of time. "
            f"Try {DURATION_EXAMPLES}."
        )
    if value <= timedelta(0):
        raise InvalidInput(f"A length of time must be more than zero, e.g. {DURATION_EXAMPLES}.")
    if value > maximum:
        raise InvalidInput(
            f"That is too long: the most allowed here is {format_duration(maximum)}."
        )
    return value


def format_duration(value: timedelta) -> str:
    """Render a timedelta the way people say it, e.g. "1 day 2 hours" or "1 hour 30 minutes"."""
    seconds = int(value.total_seconds())
    parts: list[str] = []
    for label, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {label}{'' if amount == 1 else 's'}")
    return " ".join(parts) or "0 minutes"


# --------------------------------------------------------------------------- times of day


def _read_time(text: str, *, compact: bool = False, examples: str = "") -> time | None:
    """A time of day in any of the accepted forms, ``None`` when the text is not one.

    Raises when the text has the shape of a time but its numbers are out of range, so the
    person is told what was wrong rather than that nothing was understood. ``compact``
    also reads "930" / "1830" (not inside a date-time, where "2027" would be read as 20:27).
    """
    text = text.strip().replace("a.m.", "am").replace("p.m.", "pm")
    tail = examples or f"Try something like {WHEN_EXAMPLES}."
    if text in ("noon", "midday"):
        return time(12, 0)
    if text == "midnight":
        return time(0, 0)
    match = _TIME_24.match(text) or (_TIME_COMPACT.match(text) if compact else None)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            raise InvalidInput(
                f"`{echo(text)}` is not a time of day (hours 0-23, minutes 0-59). {tail}"
            )
        return time(hour, minute)
    match = _TIME_12.match(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= 12 or minute > 59:
            raise InvalidInput(
                f"`{echo(text)}` is not a time of day (with am/pm, hours are 1-12). {tail}"
            )
        hour %= 12
        if match.group(3).startswith("p"):
            hour += 12
        return time(hour, minute)
    return None


def parse_time_of_day(text: str) -> time:
    """Read a wall-clock time: the one reader for meetings, story prompts and digests.

    Accepted: ``18:30``, ``18.30``, ``9:05``, ``930`` and ``0930`` (= 09:30), ``1830``,
    ``6pm``, ``6:30pm``, ``6.30 am``, ``6 p.m.``, ``noon``, ``midday``, ``midnight``. A bare
    hour ("7", "18") is refused: "7" could be morning or evening, so the person is asked to
    say which rather than have it guessed.
    """
    cleaned = _normalise(text or "")
    parsed = (
        _read_time(cleaned, compact=True, examples=TIME_EXAMPLES) if len(cleaned) <= 20 else None
    )
    if parsed is None:
        if re.fullmatch(r"[0-9]{1,2}", cleaned) and int(cleaned) <= 23:
            hour = int(cleaned)
            which = (
                f"{hour:02d}:00 or {hour + 12:02d}:00 (or add am or pm)"
                if 1 <= hour <= 11
                else f"{hour:02d}:00"
            )
            raise InvalidInput(
                f"`{echo(text, 40)}` is not a time of day on its own: write {which}."
            )
        raise InvalidInput(f"`{echo(text, 40)}` is not a time of day. {TIME_EXAMPLES}")
    return parsed


def parse_weekday(value: str | int) -> int:
    """Read a day of the week as 0=Monday ... 6=Sunday: the one reader for every command.

    Accepted: a full name ("Tuesday"), the usual abbreviations ("Tue", "Tues", "Thurs",
    "Weds"), any unambiguous start of a name of two letters or more ("tu", "th", "sa"),
    a trailing full stop, any case; and the numbers 0-6 given as ``int``.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= 6:
            return value
    else:
        cleaned = _normalise(str(value or "")).rstrip(".")
        if cleaned in _WEEKDAYS:
            return _WEEKDAYS[cleaned]
        if len(cleaned) >= 2:
            found = {i for i, name in enumerate(WEEKDAY_NAMES) if name.lower().startswith(cleaned)}
            if len(found) == 1:
                return found.pop()
    raise InvalidInput(
        f"`{echo(str(value), 40)}` is not a day of the week. "
        'Try "Tuesday", "Tue" or "tu".'
    )


# --------------------------------------------------------------------------- date-times


def _relative(cleaned: str, now: datetime) -> datetime | None:
    explicit = cleaned.startswith("in ")
    body = cleaned[3:] if explicit else cleaned
    delta = _sum_units(body, allow_bare_minutes=False)
    if delta is None:
        if explicit:
            raise _refuse_when(f"I couldn't read `{echo(cleaned)}` as a length of time from now.")
        return None
    if delta <= timedelta(0):
        raise _refuse_when("A time from now must be more than zero.")
    if delta > MAX_HORIZON:
        raise _refuse_when("That is too far ahead: keep it within five years.")
    return now + delta


def _make_date(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise _refuse_when(f"There is no month {month} (dates are day first: 10/03/2027).")
    try:
        return date(year, month, day)
    except ValueError:
        raise _refuse_when(
            f"{_MONTH_NAMES[month - 1]} {year} has no day {day}."
        ) from None


def _year_for(day: int, month: int, clock: time, local_now: datetime) -> date:
    """For a date given without a year: this year if still ahead, else next year."""
    for year in (local_now.year, local_now.year + 1):
        candidate = _make_date(year, month, day) if _valid_day(year, month, day) else None
        if candidate is not None and datetime.combine(candidate, clock) > local_now:
            return candidate
    return _make_date(local_now.year + 1, month, day)


def _valid_day(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _split_date(cleaned: str) -> tuple[str, tuple[str, re.Match[str]] | None]:
    for kind, pattern in (
        ("iso", _ISO_DATE),
        ("numeric", _NUMERIC_DATE),
        ("day_month", _DAY_MONTH),
        ("month_day", _MONTH_DAY),
        ("word", _WORD_DAY),
    ):
        match = pattern.search(cleaned)
        if match:
            rest = (cleaned[: match.start()] + " " + cleaned[match.end() :]).strip()
            return rest, (kind, match)
    return cleaned, None


def resolve_when(text: str, tz: ZoneInfo, now: datetime) -> LocalResolution:
    """Read a date and time as a person typed it; see the module docstring for the forms.

    Returns the instant in UTC together with any DST decision, so the caller can tell the
    person when their time was moved or was ambiguous. Refuses anything further than
    :data:`MAX_HORIZON` from ``now`` in either direction; the past itself is allowed here
    (use :func:`resolve_future` when it must not be).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    cleaned = _normalise(text or "")
    if not cleaned:
        raise _refuse_when("Give a date and time.")
    if len(cleaned) > _MAX_TEXT:
        raise _refuse_when("That is too long to be a date.")
    cleaned = re.sub(r"\b(\d{4}-\d{1,2}-\d{1,2})t(?=\d)", r"\1 ", cleaned)
    cleaned = cleaned.replace("a.m.", "am").replace("p.m.", "pm")

    relative = _relative(cleaned, now)
    if relative is not None:
        return LocalResolution(utc=relative)

    local_now = now.astimezone(tz).replace(tzinfo=None)
    rest, found = _split_date(cleaned)

    stated_weekday: int | None = None
    if found is not None and found[0] != "word":
        weekday_match = _WEEKDAY_WORD.search(rest)
        if weekday_match:
            stated_weekday = _WEEKDAYS[weekday_match.group(1)]
            rest = (rest[: weekday_match.start()] + " " + rest[weekday_match.end() :]).strip()
    rest = " ".join(_FILLER.sub(" ", rest).split())
    if not rest:
        raise _refuse_when("Please add a time of day.")
    clock = _read_time(rest)
    if clock is None:
        raise _refuse_when(f"I couldn't read `{echo(text, 60)}` as a date and time.")

    day: date
    if found is None:
        day = local_now.date()
        if datetime.combine(day, clock) <= local_now:
            day += timedelta(days=1)
    else:
        kind, match = found
        if kind == "iso":
            day = _make_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        elif kind == "numeric":
            year_text = match.group(4)
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
            day = _make_date(year, int(match.group(3)), int(match.group(1)))
        elif kind in ("day_month", "month_day"):
            if kind == "day_month":
                day_num, month_name, year_text = match.group(1), match.group(2), match.group(3)
            else:
                month_name, day_num, year_text = match.group(1), match.group(2), match.group(3)
            month = _MONTHS[month_name]
            if year_text:
                day = _make_date(int(year_text), month, int(day_num))
            else:
                day = _year_for(int(day_num), month, clock, local_now)
        else:
            day = _word_day(match, clock, local_now)
        if stated_weekday is not None and stated_weekday != day.weekday():
            raise InvalidInput(
                f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year} is a "
                f"{WEEKDAY_NAMES[day.weekday()]}, not a {WEEKDAY_NAMES[stated_weekday]}. "
                "Check the date and try again."
            )

    if abs(day - local_now.date()) > MAX_HORIZON:
        raise _refuse_when("That date is too far from today: keep it within five years.")
    return to_utc(datetime.combine(day, clock), tz)


def _word_day(match: re.Match[str], clock: time, local_now: datetime) -> date:
    word = match.group(1)
    today = local_now.date()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    target = _WEEKDAYS[match.group(3)]
    ahead = (target - today.weekday()) % 7
    if match.group(2) == "next":
        return today + timedelta(days=ahead or 7)
    candidate = today + timedelta(days=ahead)
    if datetime.combine(candidate, clock) <= local_now:
        candidate += timedelta(days=7)
    return candidate


def parse_when(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """Read a date and time (see the module docstring) and return it as aware UTC."""
    return resolve_when(text, tz, now).utc


def resolve_future(text: str, tz: ZoneInfo, now: datetime) -> LocalResolution:
    """Like :func:`resolve_when`, for things that must happen after ``now``."""
    resolution = resolve_when(text, tz, now)
    if resolution.utc <= now:
        shown = resolution.utc.astimezone(tz)
        raise InvalidInput(
            f"{shown:%H:%M} on {_human_date(shown.date())} ({tz.key}) is in the past. "
            f"Give a time in the future, such as {WHEN_EXAMPLES}."
        )
    return resolution


def parse_future(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """Read a date and time that must be in the future; returns aware UTC."""
    return resolve_future(text, tz, now).utc


# --------------------------------------------------------------------------- rendering

_TIMESTAMP_STYLES = frozenset("tTdDfFR")


def discord_timestamp(dt: datetime, style: str = "F") -> str:
    """Discord's ``<t:UNIX:STYLE>`` markup, which each reader sees in their own timezone."""
    if dt.tzinfo is None:
        raise ValueError("discord_timestamp needs an aware datetime")
    if style not in _TIMESTAMP_STYLES:
        raise ValueError(f"unknown Discord timestamp style {style!r}")
    return f"<t:{int(dt.timestamp())}:{style}>"
