"""The twice-yearly meeting series: its rule, how it is read, and when it falls.

Recurrence is ``python-dateutil``'s ``rrule`` ("the second Wednesday of March and
September" is ``rrule(MONTHLY, bymonth=(3, 9), byweekday=WE(+2))``); each occurrence is
the rule's *local* wall time converted with :func:`~bot.domain.timeparse.to_utc`, so the
DST gap/fold rule is the same as for one-off meetings. No Discord, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, rrule, weekday

from bot.domain.timeparse import (
    MONTH_NUMBERS,
    WEEKDAY_NAMES,
    LocalResolution,
    parse_weekday,
    to_utc,
)
from bot.errors import InvalidInput
from bot.text import echo

#: The bot keeps this many future occurrences of a series scheduled.
SERIES_LOOKAHEAD = 2
#: Discord limits a guild scheduled event's name to 1-100 characters.
_TITLE_MAX = 100


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

    def local_starts(self, from_year: int) -> Iterator[datetime]:
        """Every occurrence from 1 January of ``from_year`` on, as naive local wall times."""
        return iter(
            rrule(
                MONTHLY,
                dtstart=datetime.combine(date(from_year, 1, 1), self.time),
                bymonth=self.months,
                byweekday=weekday(self.weekday, self.nth),
            )
        )

    def start_in(self, year: int, month: int) -> datetime:
        """The rule's occurrence in one month (chosen or not), in UTC."""
        return to_utc(datetime.combine(nth_weekday(year, month, self.weekday, self.nth),
                                       self.time), self.tz).utc


@dataclass(frozen=True)
class Series:
    """A community's stored twice-yearly series (one per community)."""

    community_id: int
    rule: SeriesRule
    duration_minutes: int
    location: str
    created_by: int
    updated_at: datetime


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
        day = parse_weekday(words[1])
    except InvalidInput:
        raise InvalidInput(
            f"I couldn't read `{echo(words[1], 20)}` as a day of the week. {example}"
        ) from None
    return _ORDINALS[words[0]], day


def nth_weekday(year: int, month: int, weekday_: int, nth: int) -> date:
    """The nth (1..4, or -1 for last) given weekday of a month."""
    first = datetime(year, month, 1)
    return rrule(MONTHLY, dtstart=first, count=1, byweekday=weekday(weekday_, nth))[0].date()


def occurrences(rule: SeriesRule, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` occurrences strictly after ``after``, in UTC, ascending.

    Each is at the rule's *local* wall time (18:30 in March and 18:30 in October).
    """
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    if count < 0:
        raise ValueError("count must not be negative")
    found: list[datetime] = []
    if count == 0:
        return found
    for local in rule.local_starts(after.astimezone(rule.tz).year):
        start = to_utc(local, rule.tz).utc
        if start > after:
            found.append(start)
            if len(found) == count:
                break
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
    return f"{community_name} meeting, {local:%B %Y}"[:_TITLE_MAX]
