"""The sponsor's value report schedule: the periods of each cadence, what a cadence change
does, and (property tests) that reports tile time: never twice, never a gap while on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.value.periods import (
    Cadence,
    ReportPeriod,
    ReportSchedule,
    change_schedule,
    due_window,
    first_not_due,
    following_period,
    latest_due,
    months_of,
    next_report_at,
    parse_cadence,
    period_containing,
    send_time,
)
from bot.errors import InvalidInput

LONDON = "Europe/London"
ZONES = (LONDON, "UTC", "America/New_York", "Pacific/Auckland")
ON = (Cadence.MONTHLY, Cadence.QUARTERLY, Cadence.HALF_YEARLY, Cadence.YEARLY)
BEGAN = datetime(2026, 6, 1, tzinfo=UTC)


def utc(y: int, m: int, d: int, h: int = 0, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=UTC)


def days(period: ReportPeriod) -> tuple[date, date]:
    return period.local_days()


# ---------------------------------------------------------------------------- periods


def test_months_of_each_cadence() -> None:
    day = date(2027, 11, 5)
    assert months_of(day, 1) == (date(2027, 11, 1), date(2027, 12, 1))
    assert months_of(day, 3) == (date(2027, 10, 1), date(2028, 1, 1))
    assert months_of(day, 6) == (date(2027, 7, 1), date(2028, 1, 1))
    assert months_of(day, 12) == (date(2027, 1, 1), date(2028, 1, 1))
    assert months_of(date(2027, 12, 31), 1) == (date(2027, 12, 1), date(2028, 1, 1))


def test_periods_are_local_and_sent_on_the_next_first_day_at_nine() -> None:
    # 15 April 2027 in London (BST): the monthly period is April, local midnight.
    p = period_containing(utc(2027, 4, 15), Cadence.MONTHLY, LONDON)
    assert (p.start, p.end) == (utc(2027, 3, 31, 23), utc(2027, 4, 30, 23))
    assert send_time(p) == utc(2027, 5, 1, 8)
    h = period_containing(utc(2027, 4, 15), Cadence.HALF_YEARLY, LONDON)
    assert days(h) == (date(2027, 1, 1), date(2027, 6, 30))
    y = period_containing(utc(2027, 4, 15), Cadence.YEARLY, LONDON)
    assert days(y) == (date(2027, 1, 1), date(2027, 12, 31))
    assert send_time(y) == utc(2028, 1, 1, 9)


def test_labels_name_whole_periods() -> None:
    at = utc(2027, 4, 15)
    assert period_containing(at, Cadence.MONTHLY, LONDON).label == (
        "April 2027 (1 April 2027 to 30 April 2027)"
    )
    assert period_containing(at, Cadence.QUARTERLY, LONDON).label == (
        "April to June 2027 (1 April 2027 to 30 June 2027)"
    )
    assert period_containing(at, Cadence.HALF_YEARLY, LONDON).label == (
        "January to June 2027 (1 January 2027 to 30 June 2027)"
    )
    assert period_containing(at, Cadence.YEARLY, LONDON).label == (
        "January to December 2027 (1 January 2027 to 31 December 2027)"
    )


def test_the_latest_due_and_first_not_due_turn_at_nine_on_the_first_day() -> None:
    before, after = utc(2027, 5, 1, 7, 59), utc(2027, 5, 1, 8)  # 08:59 and 09:00 BST
    assert days(latest_due(before, Cadence.MONTHLY, LONDON))[0] == date(2027, 3, 1)
    assert days(latest_due(after, Cadence.MONTHLY, LONDON))[0] == date(2027, 4, 1)
    assert days(first_not_due(before, Cadence.MONTHLY, LONDON))[0] == date(2027, 4, 1)
    assert days(first_not_due(after, Cadence.MONTHLY, LONDON))[0] == date(2027, 5, 1)


@pytest.mark.parametrize(
    ("text", "cadence"),
    [("Monthly", Cadence.MONTHLY), (" quarterly ", Cadence.QUARTERLY),
     ("half yearly", Cadence.HALF_YEARLY), ("annual", Cadence.YEARLY), ("OFF", Cadence.OFF)],
)  # fmt: skip
def test_cadences_are_read_as_people_write_them(text: str, cadence: Cadence) -> None:
    assert parse_cadence(text) is cadence


def test_an_unknown_cadence_is_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match=r"not a schedule I know\. Choose monthly, quarterly"):
        parse_cadence("fortnightly")


# ---------------------------------------------------------------------------- changes


def test_the_default_sends_the_last_quarter_only() -> None:
    sched = ReportSchedule()
    now = utc(2027, 9, 20)  # down since March: only April-June is due, no backlog
    window = due_window(now, sched, LONDON, BEGAN, utc(2027, 1, 1))
    assert window is not None and days(window) == (date(2027, 4, 1), date(2027, 6, 30))


def test_quarterly_to_monthly_mid_quarter_reaches_back_to_the_last_report() -> None:
    last_end = utc(2027, 1, 1)  # October-December 2026 was sent
    changed = utc(2027, 2, 15)
    sched = change_schedule(ReportSchedule(), Cadence.MONTHLY, changed, LONDON, BEGAN, None)
    # January's monthly report fell due before the change: not sent on its own.
    assert due_window(changed, sched, LONDON, BEGAN, last_end) is None
    nxt = next_report_at(changed, sched, LONDON, BEGAN, last_end)
    assert nxt is not None
    when, window = nxt
    assert when == utc(2027, 3, 1, 9)
    assert days(window) == (date(2027, 1, 1), date(2027, 2, 28))  # nothing skipped
    # After it, plain months.
    after = next_report_at(when, sched, LONDON, BEGAN, window.end)
    assert after is not None and days(after[1]) == (date(2027, 3, 1), date(2027, 3, 31))


def test_monthly_to_quarterly_starts_where_the_last_month_ended() -> None:
    monthly = change_schedule(
        ReportSchedule(), Cadence.MONTHLY, utc(2026, 12, 10), LONDON, BEGAN, utc(2026, 10, 1)
    )
    changed = utc(2027, 2, 15)
    sched = change_schedule(monthly, Cadence.QUARTERLY, changed, LONDON, BEGAN, None)
    nxt = next_report_at(changed, sched, LONDON, BEGAN, utc(2027, 2, 1))  # January sent
    assert nxt is not None
    assert nxt[0] == utc(2027, 4, 1, 8)
    assert days(nxt[1]) == (date(2027, 2, 1), date(2027, 3, 31))  # never January twice


def test_yearly_to_monthly_waits_for_the_year_already_reported() -> None:
    yearly = change_schedule(
        ReportSchedule(), Cadence.YEARLY, utc(2026, 7, 1), LONDON, BEGAN, utc(2026, 4, 1)
    )
    sched = change_schedule(yearly, Cadence.MONTHLY, utc(2027, 1, 15), LONDON, BEGAN, None)
    nxt = next_report_at(utc(2027, 1, 15), sched, LONDON, BEGAN, utc(2027, 1, 1))
    assert nxt is not None and days(nxt[1]) == (date(2027, 1, 1), date(2027, 1, 31))


def test_a_change_while_a_report_is_due_but_unclaimed_loses_nothing() -> None:
    changed = utc(2027, 4, 1, 8, 30)  # 09:30 BST: Hearth has not sent January-March yet
    sched = change_schedule(
        ReportSchedule(), Cadence.MONTHLY, changed, LONDON, BEGAN, utc(2027, 1, 1)
    )
    assert due_window(changed, sched, LONDON, BEGAN, utc(2027, 1, 1)) is None
    nxt = next_report_at(changed, sched, LONDON, BEGAN, utc(2027, 1, 1))
    assert nxt is not None and days(nxt[1]) == (date(2027, 1, 1), date(2027, 4, 30))


def test_a_change_just_before_nine_on_the_first_day_loses_nothing() -> None:
    changed = utc(2027, 4, 1, 7)  # 08:00 BST, the quarter's report not yet sent
    sched = change_schedule(
        ReportSchedule(), Cadence.MONTHLY, changed, LONDON, BEGAN, utc(2027, 1, 1)
    )
    window = due_window(utc(2027, 4, 1, 8), sched, LONDON, BEGAN, utc(2027, 1, 1))
    assert window is not None and days(window) == (date(2027, 1, 1), date(2027, 3, 31))


def test_off_stops_it_and_on_again_resumes_with_the_current_period_only() -> None:
    off = change_schedule(
        ReportSchedule(), Cadence.OFF, utc(2027, 2, 10), LONDON, BEGAN, utc(2027, 1, 1)
    )
    assert due_window(utc(2027, 4, 2), off, LONDON, BEGAN, utc(2027, 1, 1)) is None
    assert next_report_at(utc(2027, 4, 2), off, LONDON, BEGAN, utc(2027, 1, 1)) is None
    on = change_schedule(off, Cadence.QUARTERLY, utc(2027, 9, 10), LONDON, BEGAN, None)
    assert due_window(utc(2027, 9, 10), on, LONDON, BEGAN, utc(2027, 1, 1)) is None
    nxt = next_report_at(utc(2027, 9, 10), on, LONDON, BEGAN, utc(2027, 1, 1))
    assert nxt is not None and days(nxt[1]) == (date(2027, 7, 1), date(2027, 9, 30))


def test_off_and_on_within_a_period_loses_nothing() -> None:
    off = change_schedule(
        ReportSchedule(), Cadence.OFF, utc(2027, 2, 10), LONDON, BEGAN, utc(2027, 1, 1)
    )
    on = change_schedule(off, Cadence.QUARTERLY, utc(2027, 2, 20), LONDON, BEGAN, None)
    nxt = next_report_at(utc(2027, 2, 20), on, LONDON, BEGAN, utc(2027, 1, 1))
    assert nxt is not None and days(nxt[1]) == (date(2027, 1, 1), date(2027, 3, 31))


def test_the_same_cadence_again_changes_nothing() -> None:
    sched = ReportSchedule()
    assert change_schedule(sched, Cadence.QUARTERLY, utc(2027, 2, 1), LONDON, BEGAN, None) is sched


def test_a_young_community_waits_for_its_first_period() -> None:
    began = utc(2027, 5, 20)
    nxt = next_report_at(began, ReportSchedule(), LONDON, began, None)
    assert nxt is not None and nxt[0] == utc(2027, 7, 1, 8)
    assert due_window(began, ReportSchedule(), LONDON, began, None) is None


# ---------------------------------------------------------------------------- properties

moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(moments, st.sampled_from(ON), st.sampled_from(ZONES))
def test_periods_tile_time(moment: datetime, cadence: Cadence, tz: str) -> None:
    p = period_containing(moment, cadence, tz)
    assert p.start <= moment < p.end
    nxt = following_period(p, cadence)
    assert nxt.start == p.end and nxt.end > nxt.start
    assert period_containing(p.end - timedelta(microseconds=1), cadence, tz) == p
    assert send_time(p) > p.end - timedelta(hours=1)  # 09:00 on the next period's first day
    assert latest_due(moment, cadence, tz).end <= moment
    assert send_time(first_not_due(moment, cadence, tz)) > moment


changes = st.lists(
    st.tuples(st.integers(min_value=1, max_value=900), st.sampled_from([*ON, Cadence.OFF])),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(changes, st.sampled_from(ZONES), st.integers(min_value=0, max_value=23))
def test_reports_never_overlap_and_leave_no_gap_while_on(
    plan: list[tuple[int, Cadence]], tz: str, hour: int
) -> None:
    """Hearth checks daily (at ``hour``) for three years; a facilitator changes the cadence
    on the planned days. Every claimed window follows the one before without overlap; while
    the report was never off, without a gap either."""
    start = utc(2027, 1, 1, hour)
    sched = ReportSchedule()
    at_day = {day: cadence for day, cadence in plan}
    windows: list[ReportPeriod] = []
    was_off = False
    gaps_allowed: set[int] = set()
    for day in range(3 * 366):
        now = start + timedelta(days=day)
        if day in at_day:
            last_end = windows[-1].end if windows else None
            changed = change_schedule(sched, at_day[day], now, tz, BEGAN, last_end)
            if changed.cadence is Cadence.OFF and sched.cadence is not Cadence.OFF:
                was_off = True
            sched = changed
        last_end = windows[-1].end if windows else None
        window = due_window(now, sched, tz, BEGAN, last_end)
        if window is None:
            continue
        assert window.end <= now and window.start < window.end
        if windows:
            assert window.start >= windows[-1].end  # never twice
            if was_off:
                gaps_allowed.add(len(windows))
        was_off = False
        windows.append(window)
        assert due_window(now, sched, tz, BEGAN, window.end) is None  # claimed: not again
    for i in range(1, len(windows)):
        if i not in gaps_allowed:
            assert windows[i].start == windows[i - 1].end, (windows[i - 1], windows[i])
