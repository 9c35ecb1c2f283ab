"""How often prompts are posted: cadence, due times across daylight saving, catch-up after
downtime, and the stored schedule."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

# The one weekday and time-of-day parser (issue 13), re-exported for stories' callers.
from bot.domain.timeparse import parse_time_of_day, parse_weekday  # noqa: F401
from bot.errors import InvalidInput
from bot.text import echo


class Cadence(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    OFF = "off"


def parse_cadence(value: str | Cadence) -> Cadence:
    if isinstance(value, Cadence):
        return value
    try:
        return Cadence(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(
            f"`{echo(str(value), 40)}` is not a schedule. "
            "Choose weekly, fortnightly, monthly or off."
        ) from None


def _local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    # fold=0: an ambiguous wall time (clocks going back) means its first occurrence; a
    # wall time skipped by clocks going forward is read with the pre-change offset, i.e. it
    # lands the length of the gap later (01:30 on the March change → 02:30 BST).
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _first_weekday_of_month(year: int, month: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7)


def _candidate_days(
    cadence: Cadence, weekday: int, start: date, anchor: date | None
) -> Iterable[date]:
    if cadence is Cadence.MONTHLY:
        year, month = start.year, start.month
        for _ in range(15):
            yield _first_weekday_of_month(year, month, weekday)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return
    day = start + timedelta(days=(weekday - start.weekday()) % 7)
    anchor_monday = None
    if cadence is Cadence.FORTNIGHTLY:
        assert anchor is not None
        anchor_monday = anchor - timedelta(days=anchor.weekday())
    for _ in range(60):
        if anchor_monday is None or ((day - anchor_monday).days // 7) % 2 == 0:
            yield day
        day += timedelta(days=7)


def next_due(
    cadence: Cadence | str,
    weekday: int,
    time_of_day: time,
    tz: ZoneInfo,
    after: datetime,
    *,
    anchor: date | None = None,
) -> datetime | None:
    """The first due instant strictly after ``after``, as an aware UTC datetime.

    Due times keep their local wall-clock time in ``tz`` across daylight-saving changes.
    ``weekly``: every ``weekday`` (Monday = 0). ``fortnightly``: every other ``weekday``, in
    the weeks (Monday to Sunday) an even number of weeks from the week of ``anchor``
    (required). ``monthly``: the first ``weekday`` of each month. ``off``: ``None``.
    """
    cadence = Cadence(cadence)
    if cadence is Cadence.OFF:
        return None
    if after.tzinfo is None:
        raise ValueError("next_due needs an aware 'after'")
    if not 0 <= weekday <= 6:
        raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
    if time_of_day.tzinfo is not None:
        raise ValueError("time_of_day is a local wall time and must be naive")
    if cadence is Cadence.FORTNIGHTLY and anchor is None:
        raise ValueError("a fortnightly schedule needs an anchor date")
    start = after.astimezone(tz).date() - timedelta(days=1)
    for day in _candidate_days(cadence, weekday, start, anchor):
        due = _local_instant(day, time_of_day, tz)
        if due > after:
            return due
    raise AssertionError("no due time found")  # pragma: no cover - candidates always suffice


def missed_run(due: datetime, now: datetime, grace: timedelta) -> bool:
    """Whether a run that fell due at ``due`` (while the bot was down) should still be
    posted now: it is in the past, by no more than ``grace``. Posting it *once* is the
    caller's job (record the run before or with posting)."""
    if due.tzinfo is None or now.tzinfo is None:
        raise ValueError("missed_run needs aware datetimes")
    if grace < timedelta(0):
        raise ValueError("grace cannot be negative")
    return due <= now and now - due <= grace


def catch_up_run(
    cadence: Cadence | str,
    weekday: int,
    time_of_day: time,
    tz: ZoneInfo,
    *,
    since: datetime,
    now: datetime,
    grace: timedelta,
    anchor: date | None = None,
) -> datetime | None:
    """On start-up: the one run to post now, if any. ``since`` is the last run posted (or
    when the schedule was set). Only the latest due time in ``(since, now]`` is considered,
    and only if :func:`missed_run` says it is recent enough; older misses are skipped, so a
    long outage never produces a burst of prompts."""
    if since.tzinfo is None or now.tzinfo is None:
        raise ValueError("catch_up_run needs aware datetimes")
    start = max(since, now - grace - timedelta(microseconds=1))
    latest: datetime | None = None
    cursor = start
    while True:
        due = next_due(cadence, weekday, time_of_day, tz, cursor, anchor=anchor)
        if due is None or due > now:
            break
        latest = due
        cursor = due
    if latest is not None and missed_run(latest, now, grace):
        return latest
    return None


# =========================================================================== schedules


@dataclass(frozen=True, slots=True)
class PromptSchedule:
    """A community's prompt cadence as stored. ``last_due_at`` is the latest due time that
    was handled (posted or deliberately skipped); it is what makes a restart neither lose
    nor repeat a prompt."""

    community_id: int
    cadence: Cadence
    weekday: int
    time_of_day: time
    anchor: date
    set_at: datetime
    last_due_at: datetime | None = None

    def next_after(self, after: datetime, tz: ZoneInfo) -> datetime | None:
        return next_due(
            self.cadence, self.weekday, self.time_of_day, tz, after, anchor=self.anchor
        )

    def catch_up(self, now: datetime, tz: ZoneInfo, grace: timedelta) -> datetime | None:
        """The one missed due time to post on start-up, if any (see :func:`catch_up_run`)."""
        if self.cadence is Cadence.OFF:
            return None
        since = max(self.set_at, self.last_due_at or self.set_at)
        return catch_up_run(
            self.cadence, self.weekday, self.time_of_day, tz,
            since=since, now=now, grace=grace, anchor=self.anchor,
        )


def describe_schedule(schedule: PromptSchedule, tz_name: str) -> str:
    """'weekly on Wednesday at 10:00 (Europe/London)' — for replies to facilitators."""
    if schedule.cadence is Cadence.OFF:
        return "off (no scheduled prompts)"
    day = calendar.day_name[schedule.weekday]
    at = schedule.time_of_day.strftime("%H:%M")
    if schedule.cadence is Cadence.MONTHLY:
        return f"monthly, on the first {day} at {at} ({tz_name})"
    every = "every other" if schedule.cadence is Cadence.FORTNIGHTLY else "every"
    return f"{schedule.cadence.value}, {every} {day} at {at} ({tz_name})"
