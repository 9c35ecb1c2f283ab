"""When a digest is due and which time it covers: pure arithmetic on the community's clock.

A digest week runs from one due instant (a weekday and a local time in the community's
timezone) to the next, measured on the wall clock so daylight-saving changes never move it.
Messages are counted per hour (:mod:`bot.db.activity`); :func:`counted_hours` says which
hours belong to a period, so consecutive digests count every hour once and none is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.domain.timeparse import validate_timezone
from bot.errors import InvalidInput

WEEK = timedelta(days=7)
HOUR = timedelta(hours=1)
#: A period delivered this long after its end is marked late (the bot was down).
LATE_AFTER = timedelta(hours=1)


@dataclass(frozen=True, order=True)
class Period:
    """A digest week: ``start <= t < end``, both aware UTC instants."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Period bounds must be aware datetimes")
        if self.end <= self.start:
            raise ValueError("Period end must be after its start")

    def __contains__(self, instant: object) -> bool:
        return isinstance(instant, datetime) and self.start <= instant < self.end


def zone_of(tz: tzinfo | str) -> tzinfo:
    if isinstance(tz, str):
        # the shared validator bounds what it echoes and refuses names ZoneInfo cannot even
        # look up (a 6000-character option used to raise OSError "File name too long")
        return validate_timezone(tz)
    return tz


def require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")


def _due_at(local_day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``local_day`` in ``tz``.

    A wall time that does not exist (skipped by a spring-forward change) resolves with the
    pre-transition offset, i.e. one hour later on the clock; an ambiguous one (autumn) takes
    the first occurrence. Either way each local day has exactly one due instant.
    """
    naive = datetime.combine(local_day, at.replace(tzinfo=None, fold=0))
    return naive.replace(tzinfo=tz).astimezone(UTC)


def period_for(now: datetime, weekday: int, at: time, tz: tzinfo | str) -> Period:
    """The digest week that ends at the latest due time at or before ``now``.

    ``weekday`` follows :meth:`date.weekday` (Monday is 0). The week runs from the previous
    due time to that one, measured on the community's wall clock, so a week that crosses a
    daylight-saving change is 167 or 169 hours long and still starts and ends at the
    configured local time.
    """
    require_aware("now", now)
    if not 0 <= weekday <= 6:
        raise InvalidInput("The digest weekday must be between Monday (0) and Sunday (6).")
    zone = zone_of(tz)
    local_now = now.astimezone(zone)
    day = local_now.date() - timedelta(days=(local_now.weekday() - weekday) % 7)
    end = _due_at(day, at, zone)
    if end > now:
        day -= WEEK
        end = _due_at(day, at, zone)
    return Period(_due_at(day - WEEK, at, zone), end)


def next_due_after(now: datetime, weekday: int, at: time, tz: tzinfo | str) -> datetime:
    """The first due instant strictly after ``now`` (what the scheduler arms next).

    Walks the community's local calendar rather than adding 168 hours, so the answer stays
    at the configured wall-clock time across daylight-saving changes.
    """
    require_aware("now", now)
    if not 0 <= weekday <= 6:
        raise InvalidInput("The digest weekday must be between Monday (0) and Sunday (6).")
    zone = zone_of(tz)
    local_day = now.astimezone(zone).date()
    for offset in range(0, 15):
        day = local_day + timedelta(days=offset)
        if day.weekday() == weekday:
            due = _due_at(day, at, zone)
            if due > now:
                return due
    raise AssertionError("unreachable: a weekday recurs within 15 days")


def is_full_week(period: Period, tz: tzinfo | str) -> bool:
    """Whether ``period`` is one whole digest week: it ends seven days after it starts on
    the community's wall clock (168 hours, or 167/169 across a daylight-saving change).
    Anything else (a manual send, the rest of a week after one, a week clipped by a
    schedule change) is named by its real dates, never as a "week of"."""
    zone = zone_of(tz)
    start = period.start.astimezone(zone).replace(tzinfo=None)
    end = period.end.astimezone(zone).replace(tzinfo=None)
    return end - start == WEEK


def _previous(period: Period, at: time, tz: tzinfo) -> Period:
    local_start = period.start.astimezone(tz).date()
    return Period(_due_at(local_start - WEEK, at, tz), period.start)


def due_periods(
    last_sent_end: datetime | None,
    now: datetime,
    weekday: int,
    at: time,
    tz: tzinfo | str,
) -> list[Period]:
    """Every period that has come due since the last digest sent, oldest first.

    ``last_sent_end`` is the ``end`` of the latest period recorded as sent (``None`` for a
    community that has never had one: then only the current period is due, not its whole
    history). After downtime each missed period appears exactly once and the caller marks
    all but the newest as late. If the schedule changed since the last digest, the first
    period is clipped to begin where the last one ended, so no hour is reported twice and
    none is skipped.
    """
    require_aware("now", now)
    zone = zone_of(tz)
    latest = period_for(now, weekday, at, zone)
    if last_sent_end is None:
        return [latest]
    require_aware("last_sent_end", last_sent_end)
    periods: list[Period] = []
    current = latest
    while current.end > last_sent_end:
        if current.start < last_sent_end:
            current = Period(last_sent_end, current.end)
            periods.append(current)
            break
        periods.append(current)
        current = _previous(current, at, zone)
    periods.reverse()
    return periods


def floor_hour(instant: datetime) -> datetime:
    """The start of the (UTC) hour ``instant`` falls in."""
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def counted_hours(period: Period, *, opening: bool = False) -> tuple[datetime, datetime]:
    """The hours whose messages a digest of ``period`` counts: those starting in the
    returned ``[first, end)``.

    Messages are stored per hour, so a period that starts or ends inside an hour (a manual
    send, a brand-new community, a schedule at half past) cuts that hour. The rule, one for
    every digest: an hour belongs to the period in which it starts, so the hour in progress
    at a period's end is counted by that period and never again by the next one. A period
    that ``opening`` a community's history (it starts where the community began, with no
    earlier digest to have counted the hour its start cuts) also counts that hour.
    """
    first = floor_hour(period.start) if opening else period.start
    return first, period.end


def is_late(period: Period, now: datetime) -> bool:
    return now - period.end > LATE_AFTER


def retry_at(attempts: int, backoff_seconds: Sequence[int], now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed tries; ``None`` once backoff is used up."""
    if attempts < 1 or attempts > len(backoff_seconds):
        return None
    return now + timedelta(seconds=backoff_seconds[attempts - 1])


def previous_periods(period: Period, at: time, tz: tzinfo | str, count: int) -> list[Period]:
    """The ``count`` digest weeks before ``period``, oldest first (for trend and chart)."""
    zone = zone_of(tz)
    out: list[Period] = []
    current = period
    for _ in range(count):
        current = _previous(current, at, zone)
        out.append(current)
    out.reverse()
    return out


def week_of(period: Period, tz: tzinfo | str) -> date:
    return period.start.astimezone(zone_of(tz)).date()
