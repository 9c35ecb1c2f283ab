"""The periods a value report covers: calendar months, quarters, half-years or years in
the community's timezone.

A sponsor reports upwards by quarter, so by default the scheduled report covers the calendar
quarter just ended (January-March, April-June, ...), counted in the community's own timezone
and sent on the next quarter's first day at :data:`SEND_AT` local time. A facilitator may
choose another :class:`Cadence` (``/value schedule``): monthly, half-yearly (January-June,
July-December), yearly (the calendar year) or off. Every cadence's periods are whole calendar
months, so they tile time without gaps or overlaps. ``/value report`` defaults to the last
quarter (or, for a community younger than one quarter, to the time since it began), and takes
``from``/``to`` dates for any other period.

Changing the cadence (:func:`report_window`): nothing is sent twice and nothing is skipped.
The first report under the new cadence is the first of its periods not yet due when the
change was made; it reaches back to the end of the last report claimed, so the part of the
old cadence's period not yet reported is in it (quarterly → monthly on 15 February: the next
report covers 1 January to 28 February, on 1 March). It never reaches back before the
*floor* recorded with the change (the start of the old cadence's period not yet due then),
so a report long missed is not swept in. Turning the report off stops it; turning it on
again sets the floor to the start of the new cadence's current period, so it resumes with
that one period (no flood of catch-up reports, and the time it was off is not reported).

This module is longer than 400 lines because it holds every period rule the value report
has (quarters for ``/value report``, the cadences and their change rules for the schedule,
and the date parsing of ``from``/``to``), each small and pure, tested together.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
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
        """``1 January 2027 to 31 March 2027``, or the quarter's name for a whole quarter
        (and a month's, half-year's or year's name for a whole one of those)."""
        first, last = self.local_days()
        quarter = quarter_of(first)
        if (first, last) == (quarter[0], quarter[1] - timedelta(days=1)):
            return f"{quarter_name(first)} ({long_day(first)} to {long_day(last)})"
        for months in (1, 6, 12):
            start, nxt = months_of(first, months)
            if (first, last) == (start, nxt - timedelta(days=1)):
                last_month = nxt - timedelta(days=1)
                name = f"{first:%B %Y}" if months == 1 else f"{first:%B} to {last_month:%B %Y}"
                return f"{name} ({long_day(first)} to {long_day(last)})"
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


def months_of(day: date, months: int) -> tuple[date, date]:
    """The calendar block of ``months`` months (1, 3, 6 or 12, aligned on 1 January) holding
    ``day``: its first day and the first day of the next."""
    first_month = months * ((day.month - 1) // months) + 1
    start = date(day.year, first_month, 1)
    after = first_month - 1 + months  # months since January of the start's year
    return start, date(day.year + after // 12, after % 12 + 1, 1)


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


# --------------------------------------------------------------------------- cadences


class Cadence(StrEnum):
    """How often the sponsor's value report goes out (``/value schedule``)."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half-yearly"
    YEARLY = "yearly"
    OFF = "off"

    @property
    def months(self) -> int:
        """The length of one period in calendar months (0 when off)."""
        return _MONTHS[self]

    @property
    def every(self) -> str:
        """``each quarter``: how the replies say it."""
        return _EVERY[self]


_MONTHS = {
    Cadence.MONTHLY: 1, Cadence.QUARTERLY: 3, Cadence.HALF_YEARLY: 6, Cadence.YEARLY: 12,
    Cadence.OFF: 0,
}  # fmt: skip
_EVERY = {
    Cadence.MONTHLY: "each month", Cadence.QUARTERLY: "each quarter",
    Cadence.HALF_YEARLY: "every six months", Cadence.YEARLY: "each year", Cadence.OFF: "never",
}  # fmt: skip
_CADENCE_ALIASES = {
    "month": Cadence.MONTHLY, "quarter": Cadence.QUARTERLY, "halfyearly": Cadence.HALF_YEARLY,
    "half year": Cadence.HALF_YEARLY, "half-year": Cadence.HALF_YEARLY,
    "half yearly": Cadence.HALF_YEARLY, "six-monthly": Cadence.HALF_YEARLY,
    "biannual": Cadence.HALF_YEARLY, "year": Cadence.YEARLY, "annual": Cadence.YEARLY,
    "annually": Cadence.YEARLY, "never": Cadence.OFF, "none": Cadence.OFF,
}  # fmt: skip

DEFAULT_CADENCE = Cadence.QUARTERLY
CADENCE_WORDS = "monthly, quarterly, half-yearly, yearly or off"


def parse_cadence(value: str | Cadence) -> Cadence:
    if isinstance(value, Cadence):
        return value
    cleaned = " ".join(str(value).strip().lower().split())
    try:
        return Cadence(cleaned)
    except ValueError:
        found = _CADENCE_ALIASES.get(cleaned)
        if found is not None:
            return found
    raise InvalidInput(
        f"`{echo(str(value), 40)}` is not a schedule I know. Choose {CADENCE_WORDS}."
    )


@dataclass(frozen=True)
class ReportSchedule:
    """A community's schedule for the sponsor's report.

    ``since``: when a facilitator last changed the cadence (``None``: never, the default
    quarterly schedule). ``floor``: how far back the first report after that change may
    reach (see the module docstring and :func:`change_schedule`).
    """

    cadence: Cadence = DEFAULT_CADENCE
    since: datetime | None = None
    floor: datetime | None = None


def period_containing(moment: datetime, cadence: Cadence, tz: str) -> ReportPeriod:
    """The ``cadence`` period (local to ``tz``) that ``moment`` falls in."""
    zone = ZoneInfo(tz)
    start, nxt = months_of(moment.astimezone(zone).date(), cadence.months)
    return ReportPeriod(_at(start, zone), _at(nxt, zone), tz)


def previous_period(period: ReportPeriod, cadence: Cadence) -> ReportPeriod:
    return period_containing(period.start - timedelta(microseconds=1), cadence, period.timezone)


def following_period(period: ReportPeriod, cadence: Cadence) -> ReportPeriod:
    return period_containing(period.end, cadence, period.timezone)


def latest_due(now: datetime, cadence: Cadence, tz: str) -> ReportPeriod:
    """The latest ``cadence`` period whose send time has come at ``now``."""
    prev = previous_period(period_containing(now, cadence, tz), cadence)
    return prev if send_time(prev) <= now else previous_period(prev, cadence)


def first_not_due(at: datetime, cadence: Cadence, tz: str) -> ReportPeriod:
    """The first ``cadence`` period whose send time is still to come at ``at``."""
    current = period_containing(at, cadence, tz)
    prev = previous_period(current, cadence)
    return prev if send_time(prev) > at else current


def change_schedule(
    old: ReportSchedule,
    cadence: Cadence,
    at: datetime,
    tz: str,
    began: datetime,
    last_end: datetime | None,
) -> ReportSchedule:
    """The schedule after a facilitator chooses ``cadence`` at ``at``.

    The same cadence again changes nothing. Turning it off keeps the floor (it does not
    matter while off). From off to on, the floor is the start of the new cadence's first
    period not yet due: the report resumes with that one period. From one cadence to
    another, the floor is the start of what the old cadence had still to report: its report
    due but not yet claimed (``last_end``: the end of the last report claimed), else its
    first period not yet due; or an earlier floor whose first report has not gone yet (two
    changes in a row lose nothing).
    """
    if cadence is old.cadence:
        return old
    if cadence is Cadence.OFF:
        return ReportSchedule(cadence, at, old.floor)
    if old.cadence is Cadence.OFF:
        return ReportSchedule(cadence, at, first_not_due(at, cadence, tz).start)
    pending = due_window(at, old, tz, began, last_end)
    floor = pending.start if pending is not None else first_not_due(at, old.cadence, tz).start
    if old.floor is not None and old.since is not None:
        floor = min(floor, old.floor)
    return ReportSchedule(cadence, at, floor)


def report_window(
    period: ReportPeriod,
    schedule: ReportSchedule,
    began: datetime,
    last_end: datetime | None,
) -> ReportPeriod | None:
    """What the report sent at the end of ``period`` covers, or ``None`` if none goes then.

    ``last_end``: the end of the last report claimed (sent, skipped or still pending). None
    goes: when off; for a period before the community began; for a period whose send time
    came before the cadence was chosen (it belongs to the old cadence); or when the last
    report already covers the whole period (a longer cadence before). The window starts at
    the period's start, or at ``last_end`` when that is later (never twice); the first
    period after a change reaches back to ``last_end``, but no further than the floor
    (nothing skipped).
    """
    cadence = schedule.cadence
    if cadence is Cadence.OFF or began >= period.end:
        return None
    since = schedule.since
    if since is not None and send_time(period) <= since:
        return None
    start = period.start
    if (
        since is not None
        and schedule.floor is not None
        and last_end is not None
        and last_end < start
        and period.start == first_not_due(since, cadence, period.timezone).start
    ):
        start = max(last_end, min(schedule.floor, start))
    if last_end is not None and last_end > start:
        start = last_end
    if start >= period.end:
        return None
    return ReportPeriod(start, period.end, period.timezone)


def due_window(
    now: datetime, schedule: ReportSchedule, tz: str, began: datetime, last_end: datetime | None
) -> ReportPeriod | None:
    """The one report due at ``now`` and not yet claimed, if any. Only the latest period
    is ever due: a bot down for months (or a schedule just installed) never sends a
    backlog."""
    if schedule.cadence is Cadence.OFF:
        return None
    return report_window(latest_due(now, schedule.cadence, tz), schedule, began, last_end)


def next_report_at(
    now: datetime, schedule: ReportSchedule, tz: str, began: datetime, last_end: datetime | None
) -> tuple[datetime, ReportPeriod] | None:
    """When the next report falls due after ``now``, and what it will cover (``None``
    when off)."""
    if schedule.cadence is Cadence.OFF:
        return None
    period = first_not_due(now, schedule.cadence, tz)
    for _ in range(48):  # a yearly report claimed just before a switch to monthly: <= 13
        window = report_window(period, schedule, began, last_end)
        if window is not None:
            return send_time(period), window
        period = following_period(period, schedule.cadence)
    return None


def reopens(now: datetime, cadence: Cadence, tz: str, skipped_end: datetime | None) -> bool:
    """A report skipped for want of a sponsor (ending at ``skipped_end``; ``None``: the
    latest report was not such a one, or there is still no sponsor) may go now: the report
    is on and that report is still the most recent due (a later one would go instead)."""
    if skipped_end is None or cadence is Cadence.OFF:
        return False
    return skipped_end >= latest_due(now, cadence, tz).end


def next_run_at(
    now: datetime,
    schedule: ReportSchedule,
    tz: str,
    began: datetime,
    last_end: datetime | None,
    *,
    skipped_end: datetime | None = None,
    retries: Iterable[datetime | None] = (),
) -> datetime | None:
    """When a community's report job should run: ``now`` for a due report not yet claimed
    (caught up after downtime) or one skipped for want of a sponsor that may go now
    (:func:`reopens`), or a due retry; else the next report's send time or the earliest
    retry (``retries``: the pending claims' retry times, ``None`` meaning at once).
    ``None``: nothing to run (off, and no retry pending)."""
    nxt = next_report_at(now, schedule, tz, began, last_end)
    when = None if nxt is None else nxt[0]
    if due_window(now, schedule, tz, began, last_end) is not None or reopens(
        now, schedule.cadence, tz, skipped_end
    ):
        when = now
    for retry in retries:
        at = retry or now
        when = at if when is None else min(when, at)
    return when


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
