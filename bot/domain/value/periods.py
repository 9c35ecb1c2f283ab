"""The periods a value report covers: calendar quarters in the community's timezone.

A sponsor reports upwards by quarter, so the scheduled report covers the calendar quarter
just ended (January-March, April-June, ...), counted in the community's own timezone and sent
on the quarter's first day at :data:`SEND_AT` local time. ``/value report`` defaults to the
same quarter (or, for a community younger than one quarter, to the time since it began),
and takes ``from``/``to`` dates for any other period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput
from bot.text import echo

#: Local time on the first day of a quarter when the sponsor's report goes out.
SEND_AT = time(9, 0)

MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december",
)  # fmt: skip


@dataclass(frozen=True)
class ReportPeriod:
    """``[start, end)`` in UTC, with the timezone its days are counted in."""

    start: datetime
    end: datetime
    timezone: str

    def local_days(self) -> tuple[date, date]:
        """The first and last local day the period covers (``end`` is exclusive)."""
        zone = ZoneInfo(self.timezone)
        last = (self.end - timedelta(microseconds=1)).astimezone(zone).date()
        return self.start.astimezone(zone).date(), last

    @property
    def label(self) -> str:
        """``1 January 2027 to 31 March 2027``, or the quarter's name for a whole quarter."""
        first, last = self.local_days()
        quarter = quarter_of(first)
        if (first, last) == (quarter[0], quarter[1] - timedelta(days=1)):
            return f"{quarter_name(first)} ({long_day(first)} to {long_day(last)})"
        if first == last:
            return long_day(first)
        return f"{long_day(first)} to {long_day(last)}"


def long_day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def quarter_of(day: date) -> tuple[date, date]:
    """The quarter holding ``day``: its first day and the first day of the next."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    nxt = date(day.year + (first_month == 10), (first_month + 2) % 12 + 1, 1)
    return start, nxt


def quarter_name(day: date) -> str:
    """``January to March 2027``: plainer than "Q1" for every reader."""
    start, nxt = quarter_of(day)
    last = nxt - timedelta(days=1)
    return f"{start:%B} to {last:%B %Y}"


def _at(day: date, zone: ZoneInfo, at: time = time(0)) -> datetime:
    # fold=0: the first of an ambiguous local time; quarters start at midnight, never
    # inside a DST change in the zones Hearth serves.
    return datetime.combine(day, at, zone).astimezone(UTC)


def last_complete_quarter(now: datetime, tz: str) -> ReportPeriod:
    """The calendar quarter before the one ``now`` is in (local to ``tz``)."""
    zone = ZoneInfo(tz)
    this_start, _ = quarter_of(now.astimezone(zone).date())
    prev_start, _ = quarter_of(this_start - timedelta(days=1))
    return ReportPeriod(_at(prev_start, zone), _at(this_start, zone), tz)


def default_period(now: datetime, tz: str, began: datetime) -> ReportPeriod:
    """``/value report`` without dates: the last complete quarter, from when the community
    began if that was during it; a community younger than that quarter gets the time since
    it began."""
    quarter = last_complete_quarter(now, tz)
    if began >= quarter.end:
        return ReportPeriod(began, now, tz)
    return ReportPeriod(max(quarter.start, began), quarter.end, tz)


def send_time(quarter: ReportPeriod) -> datetime:
    """When the sponsor's report of ``quarter`` goes out: its end's day at :data:`SEND_AT`."""
    zone = ZoneInfo(quarter.timezone)
    return _at(quarter.end.astimezone(zone).date(), zone, SEND_AT)


def due_quarter(now: datetime, tz: str, began: datetime) -> ReportPeriod | None:
    """The one quarter whose report is due at ``now`` (sent or not): the last complete one,
    once its send time has come, if the community existed during it. Only the latest
    quarter is ever due: a community that existed for years before the report was installed
    (or a bot down for months) never sends a backlog of old quarters."""
    quarter = last_complete_quarter(now, tz)
    if now < send_time(quarter):
        zone = ZoneInfo(tz)
        earlier_start, _ = quarter_of(quarter.start.astimezone(zone).date() - timedelta(days=1))
        quarter = ReportPeriod(_at(earlier_start, zone), quarter.start, tz)
    if began >= quarter.end:
        return None
    return quarter


def next_send(now: datetime, tz: str, began: datetime) -> datetime:
    """The next time a quarterly report falls due after ``now``."""
    zone = ZoneInfo(tz)
    _, nxt = quarter_of(now.astimezone(zone).date())
    this_quarter_send = send_time(last_complete_quarter(now, tz))
    when = this_quarter_send if this_quarter_send > now else _at(nxt, zone, SEND_AT)
    # A community born this quarter has nothing to report until the quarter after it ends.
    while began >= _quarter_ending_at(when, tz).end:
        _, later = quarter_of(when.astimezone(zone).date() + timedelta(days=1))
        when = _at(later, zone, SEND_AT)
    return when


def _quarter_ending_at(send: datetime, tz: str) -> ReportPeriod:
    return last_complete_quarter(send, tz)


# --------------------------------------------------------------------------- parsing dates

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_WORDS = re.compile(r"^(\d{1,2})\s+([a-z]+)\s+(\d{4})$")
_QUARTER = re.compile(r"^q([1-4])\s*(\d{4})$|^(\d{4})\s*q([1-4])$")

DATE_EXAMPLES = "`2027-01-31`, `31/01/2027`, `31 January 2027`, or a quarter such as `Q1 2027`"


def parse_day(text: str, *, ending: bool) -> date:
    """A date as people write it in the UK; a quarter (``Q1 2027``) means its first day
    (``ending=False``) or its last (``ending=True``)."""
    cleaned = " ".join(text.strip().lower().replace(",", " ").split())
    try:
        if m := _ISO.match(cleaned):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _DMY.match(cleaned):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if m := _WORDS.match(cleaned):
            month = next(
                (i for i, name in enumerate(MONTHS, 1) if len(m[2]) >= 3 and name.startswith(m[2])),
                None,
            )
            if month is not None:
                return date(int(m[3]), month, int(m[1]))
        if m := _QUARTER.match(cleaned):
            q, year = (int(m[1]), int(m[2])) if m[1] else (int(m[4]), int(m[3]))
            start, nxt = quarter_of(date(year, 3 * q - 2, 1))
            return nxt - timedelta(days=1) if ending else start
    except ValueError:
        raise InvalidInput(
            f"`{echo(text, 40)}` is not a real date. Write it like {DATE_EXAMPLES}."
        ) from None
    raise InvalidInput(
        f"I could not read `{echo(text, 40)}` as a date. Write it like {DATE_EXAMPLES}."
    )


def parse_range(
    start_text: str | None, end_text: str | None, *, now: datetime, tz: str, began: datetime
) -> ReportPeriod:
    """``/value report``'s ``from`` and ``to``: whole local days, ``to`` included.

    Either may be left out: no ``from`` starts when the community began, no ``to`` ends now.
    Refused, saying what to do instead: an unreadable date, ``to`` before ``from``, a period
    that starts in the future or ends before the community began. A ``to`` in the future is
    cut to now (the report cannot count what has not happened).
    """
    if start_text is None and end_text is None:
        return default_period(now, tz, began)
    zone = ZoneInfo(tz)
    start = began
    first = last = None
    if start_text is not None:
        first = parse_day(start_text, ending=False)
        start = max(_at(first, zone), began)
    end = now
    if end_text is not None:
        last = parse_day(end_text, ending=True)
        end = min(_at(last + timedelta(days=1), zone), now)
    if first is not None and last is not None and last < first:
        raise InvalidInput(
            f"The period ends ({long_day(last)}) before it starts ({long_day(first)}). "
            "Put the earlier date in `from` and the later one in `to`."
        )
    if start >= now:
        raise InvalidInput(
            f"The period starts in the future ({long_day(first or now.date())}). "
            "A report can only cover what has already happened: choose a `from` date up to today."
        )
    if end <= began:
        raise InvalidInput(
            "The period ends before the community began "
            f"({long_day(began.astimezone(zone).date())}), so there is nothing to report. "
            "Choose a `to` date after that."
        )
    return ReportPeriod(start, end, tz)
