from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.meeting_reminders import (
    DEFAULT_REMINDER_OFFSETS,
    ReminderPlan,
    next_reminder_at,
    notes_prompt_due,
    reminder_plan,
    reminder_recipients,
    reminders_due,
    starts_in_words,
    time_left,
    validate_reminder_offsets,
)
from bot.domain.meeting_series import (
    SeriesRule,
    ensure_upcoming,
    nth_weekday,
    occurrences,
    parse_months,
    parse_weekday_spec,
    validate_series,
)
from bot.domain.meetings import (
    RSVP,
    parse_duration_minutes,
    rsvp_counts,
    validate_meeting,
)
from bot.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
WEDNESDAY = 2
WEEK, DAY, HOUR = timedelta(days=7), timedelta(days=1), timedelta(hours=1)


def series(months: tuple[int, ...] = (3, 9), nth: int = 2, at: time = time(18, 30)) -> SeriesRule:
    return validate_series(months, WEDNESDAY, nth, at, LONDON)


# --------------------------------------------------------------------------- validate_meeting


def test_valid_meeting_is_normalised() -> None:
    start = datetime(2027, 3, 10, 18, 30, tzinfo=UTC)
    draft = validate_meeting("  Spring   meeting ", start, 120, None, NOW)
    assert draft.title == "Spring meeting"
    assert draft.start_utc == start
    assert draft.end_utc == start + timedelta(hours=2)
    assert (draft.location, draft.online) == ("Online", True)


def test_online_in_any_case_and_real_places() -> None:
    start = NOW + DAY
    assert validate_meeting("T", start, 60, "ONLINE", NOW).online
    place = validate_meeting("T", start, 60, " Leeds  Town Hall ", NOW)
    assert (place.location, place.online) == ("Leeds Town Hall", False)


def test_limits_are_discords() -> None:
    start = NOW + DAY
    assert validate_meeting("x" * 100, start, 1, "y" * 100, NOW).title == "x" * 100
    assert validate_meeting("T", start, 1440, None, NOW).duration_minutes == 1440


@pytest.mark.parametrize(
    ("title", "offset", "minutes", "location", "fragment"),
    [
        ("", DAY, 60, None, "Give the meeting a title"),
        ("   ", DAY, 60, None, "Give the meeting a title"),
        ("x" * 101, DAY, 60, None, "at most 100"),
        ("T", DAY, 0, None, "at least 1 minute"),
        ("T", DAY, -5, None, "at least 1 minute"),
        ("T", DAY, 1441, None, "at most 24 hours"),
        ("T", -HOUR, 60, None, "already passed"),
        ("T", timedelta(0), 60, None, "already passed"),
        ("T", timedelta(days=365 * 6), 60, None, "too far ahead"),
        ("T", DAY, 60, "y" * 101, "at most 100"),
    ],
)
def test_meeting_refusals(
    title: str, offset: timedelta, minutes: int, location: str | None, fragment: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_meeting(title, NOW + offset, minutes, location, NOW)
    assert fragment in err.value.user_message


def test_non_integer_duration_refused() -> None:
    with pytest.raises(InvalidInput, match="whole number"):
        validate_meeting("T", NOW + DAY, 1.5, None, NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="whole number"):
        validate_meeting("T", NOW + DAY, True, None, NOW)


def test_parse_duration_minutes() -> None:
    assert parse_duration_minutes("120") == 120
    assert parse_duration_minutes("1h30m") == 90
    assert parse_duration_minutes("24h") == 1440
    with pytest.raises(InvalidInput):
        parse_duration_minutes("25h")
    with pytest.raises(InvalidInput):
        parse_duration_minutes("0")
    with pytest.raises(InvalidInput):
        parse_duration_minutes("30s")


# --------------------------------------------------------------------------- series rules


def test_validate_series_sorts_and_dedupes() -> None:
    rule = validate_series([9, 3, 9], WEDNESDAY, 2, time(18, 30), LONDON)
    assert rule.months == (3, 9)
    assert rule.describe() == "second Wednesday of March and September, 18:30 (Europe/London)"


@pytest.mark.parametrize(
    ("months", "fragment"),
    [
        ([3], "at least two different months"),
        ([3, 3], "at least two different months"),
        ([], "at least two different months"),
        ([0, 9], "not a month"),
        ([3, 13], "not a month"),
    ],
)
def test_validate_series_month_refusals(months: list[int], fragment: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_series(months, WEDNESDAY, 2, time(18, 30), LONDON)
    assert fragment in err.value.user_message


def test_validate_series_weekday_and_nth_refusals() -> None:
    with pytest.raises(InvalidInput, match="Monday to Sunday"):
        validate_series([3, 9], 7, 2, time(18, 30), LONDON)
    with pytest.raises(InvalidInput, match="fifth"):
        validate_series([3, 9], WEDNESDAY, 5, time(18, 30), LONDON)
    with pytest.raises(InvalidInput, match="fifth"):
        validate_series([3, 9], WEDNESDAY, 0, time(18, 30), LONDON)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("second wednesday", (2, 2)),
        ("2nd Wed", (2, 2)),
        ("the first monday", (1, 0)),
        ("third thursday of the month", (3, 3)),
        ("4th fri", (4, 4)),
        ("last friday", (-1, 4)),
        ("Last Sunday of each month", (-1, 6)),
    ],
)
def test_parse_weekday_spec(text: str, expected: tuple[int, int]) -> None:
    assert parse_weekday_spec(text) == expected


@pytest.mark.parametrize("text", ["", "wednesday", "fifth wednesday", "second blursday", "2 2"])
def test_parse_weekday_spec_refusals(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_weekday_spec(text)


def test_parse_months() -> None:
    assert parse_months("3 and 9") == (3, 9)
    assert parse_months("3,9") == (3, 9)
    assert parse_months("March, Sept.") == (3, 9)
    assert parse_months("3") == (3,)  # validate_series is where the two-month rule lives
    for bad in ("", "13", "Marchember"):
        with pytest.raises(InvalidInput):
            parse_months(bad)


@pytest.mark.parametrize(
    ("year", "month", "weekday", "nth", "expected"),
    [
        (2027, 3, WEDNESDAY, 1, date(2027, 3, 3)),
        (2027, 3, WEDNESDAY, 2, date(2027, 3, 10)),
        (2027, 9, WEDNESDAY, 1, date(2027, 9, 1)),  # the 1st itself
        (2027, 9, WEDNESDAY, 2, date(2027, 9, 8)),
        (2027, 3, WEDNESDAY, -1, date(2027, 3, 31)),  # the last day itself
        (2027, 12, 6, -1, date(2027, 12, 26)),  # year rollover in the helper
        (2028, 2, 1, -1, date(2028, 2, 29)),  # leap day
    ],
)
def test_nth_weekday(year: int, month: int, weekday: int, nth: int, expected: date) -> None:
    assert nth_weekday(year, month, weekday, nth) == expected


# --------------------------------------------------------------------------- occurrences / DST


def test_series_keeps_local_wall_time_across_dst() -> None:
    rule = series(months=(3, 10))
    got = occurrences(rule, NOW, 4)
    assert got == [
        datetime(2027, 3, 10, 18, 30, tzinfo=UTC),  # GMT: 18:30 local is 18:30 UTC
        datetime(2027, 10, 13, 17, 30, tzinfo=UTC),  # BST: 18:30 local is 17:30 UTC
        datetime(2028, 3, 8, 18, 30, tzinfo=UTC),
        datetime(2028, 10, 11, 17, 30, tzinfo=UTC),
    ]
    for start in got:
        shown = start.astimezone(LONDON)
        assert (shown.hour, shown.minute, shown.weekday()) == (18, 30, WEDNESDAY)


def test_series_after_the_spring_change() -> None:
    # Last Wednesday of March 2027 is the 31st, after the clocks went forward on the 28th.
    rule = series(months=(3, 11), nth=-1)
    got = occurrences(rule, NOW, 2)
    assert got == [
        datetime(2027, 3, 31, 17, 30, tzinfo=UTC),
        datetime(2027, 11, 24, 18, 30, tzinfo=UTC),
    ]


def test_series_in_the_gap_and_the_fold() -> None:
    # Last Sunday of March/October at 01:30 lands exactly on the DST changes.
    rule = validate_series((3, 10), 6, -1, time(1, 30), LONDON)
    spring, autumn = occurrences(rule, NOW, 2)
    assert spring.astimezone(LONDON).strftime("%Y-%m-%d %H:%M %Z") == "2027-03-28 02:30 BST"
    assert autumn == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # first 01:30 (BST)
    assert autumn.astimezone(LONDON).strftime("%H:%M %Z") == "01:30 BST"


def test_occurrences_are_strictly_after() -> None:
    rule = series()
    first = occurrences(rule, NOW, 1)[0]
    assert first == datetime(2027, 3, 10, 18, 30, tzinfo=UTC)
    assert occurrences(rule, first, 1)[0] == datetime(2027, 9, 8, 17, 30, tzinfo=UTC)
    assert occurrences(rule, first - timedelta(seconds=1), 1)[0] == first
    assert occurrences(rule, NOW, 0) == []


def test_occurrences_respects_local_year_boundary() -> None:
    # 23:30 UTC on 31 Dec is already 1 Jan in Auckland: the local year decides where to start.
    auckland = ZoneInfo("Pacific/Auckland")
    rule = validate_series((1, 7), WEDNESDAY, 2, time(18, 30), auckland)
    after = datetime(2027, 12, 31, 23, 30, tzinfo=UTC)
    first = occurrences(rule, after, 1)[0]
    assert first.astimezone(auckland).date() == date(2028, 1, 12)


# --------------------------------------------------------------------------- ensure_upcoming


def test_ensure_upcoming_fills_the_next_two() -> None:
    rule = series()
    assert ensure_upcoming(rule, [], NOW) == [
        datetime(2027, 3, 10, 18, 30, tzinfo=UTC),
        datetime(2027, 9, 8, 17, 30, tzinfo=UTC),
    ]


def test_ensure_upcoming_is_idempotent_and_rolls_forward() -> None:
    rule = series()
    stored = ensure_upcoming(rule, [], NOW)
    assert ensure_upcoming(rule, stored, NOW) == []
    # The March meeting passes: only the following March is added.
    after_march = datetime(2027, 3, 11, 9, 0, tzinfo=UTC)
    added = ensure_upcoming(rule, stored, after_march)
    assert added == [datetime(2028, 3, 8, 18, 30, tzinfo=UTC)]
    stored += added
    assert ensure_upcoming(rule, stored, after_march) == []


def test_ensure_upcoming_counts_a_moved_meeting_as_present() -> None:
    rule = series()
    moved_march = datetime(2027, 3, 17, 18, 30, tzinfo=UTC)  # facilitator moved it a week
    assert ensure_upcoming(rule, [moved_march], NOW) == [datetime(2027, 9, 8, 17, 30, tzinfo=UTC)]


def test_ensure_upcoming_during_a_meeting_looks_past_it() -> None:
    rule = series()
    during = datetime(2027, 3, 10, 19, 0, tzinfo=UTC)
    stored = [datetime(2027, 3, 10, 18, 30, tzinfo=UTC), datetime(2027, 9, 8, 17, 30, tzinfo=UTC)]
    assert ensure_upcoming(rule, stored, during) == [datetime(2028, 3, 8, 18, 30, tzinfo=UTC)]


@settings(max_examples=60, deadline=None)
@given(
    now=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2032, 1, 1), timezones=st.just(UTC)
    ),
    months=st.sets(st.integers(1, 12), min_size=2, max_size=4),
    nth=st.sampled_from([1, 2, 3, 4, -1]),
)
def test_ensure_upcoming_property(now: datetime, months: set[int], nth: int) -> None:
    rule = validate_series(months, WEDNESDAY, nth, time(18, 30), LONDON)
    first = ensure_upcoming(rule, [], now)
    assert len(first) == 2
    assert all(start > now for start in first)
    assert ensure_upcoming(rule, first, now) == []
    assert len({start.astimezone(LONDON).strftime("%Y-%m") for start in first}) == 2
    for start in first:
        assert start.astimezone(LONDON).time() == time(18, 30)


# --------------------------------------------------------------------------- reminders

START = datetime(2027, 3, 10, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "sent", "expected"),
    [
        # On time, nothing missed.
        (START - timedelta(days=8), set(), []),
        (START - WEEK, set(), [WEEK]),
        (START - WEEK + HOUR, {WEEK}, []),
        (START - DAY, {WEEK}, [DAY]),
        (START - HOUR, {WEEK, DAY}, [HOUR]),
        (START - timedelta(minutes=30), {WEEK, DAY, HOUR}, []),
        # Down over the 7-day time, back while it is still the most relevant: send it late.
        (START - timedelta(days=3), set(), [WEEK]),
        # Down over the 7-day and 1-day times: only the 1-day one, never a burst.
        (START - timedelta(hours=20), set(), [DAY]),
        # ...and the skipped 7-day one never comes back later.
        (START - timedelta(hours=19), {DAY}, []),
        # Down over everything, back 30 minutes before: only the 1-hour one.
        (START - timedelta(minutes=30), set(), [HOUR]),
        (START - timedelta(minutes=30), {WEEK}, [HOUR]),
        # After the start nothing is sent, the 1-hour reminder included.
        (START, set(), []),
        (START + timedelta(minutes=1), {WEEK, DAY}, []),
        (START + DAY, set(), []),
    ],
)
def test_reminder_catch_up_matrix(
    now: datetime, sent: set[timedelta], expected: list[timedelta]
) -> None:
    assert reminders_due(START, DEFAULT_REMINDER_OFFSETS, now, sent) == expected


def test_next_reminder_at() -> None:
    offsets = DEFAULT_REMINDER_OFFSETS
    assert next_reminder_at(START, offsets, START - timedelta(days=10), set()) == START - WEEK
    assert next_reminder_at(START, offsets, START - WEEK, {WEEK}) == START - DAY
    # Something is due right now (restart catch-up): wake immediately.
    catch_up = START - timedelta(days=3)
    assert next_reminder_at(START, offsets, catch_up, set()) == catch_up
    assert next_reminder_at(START, offsets, START - HOUR, {WEEK, DAY, HOUR}) is None
    assert next_reminder_at(START, offsets, START + HOUR, set()) is None


def _run(
    offsets: tuple[timedelta, ...], down: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, timedelta]]:
    """Drive the reminder rule the way the scheduler does: wake at next_reminder_at, send,
    record; while "down", nothing runs until the bot is back."""
    now = START - timedelta(days=10)
    sent: set[timedelta] = set()
    log: list[tuple[datetime, timedelta]] = []
    for _ in range(20):
        wake = next_reminder_at(START, offsets, now, sent)
        if wake is None:
            return log
        for begin, end in down:
            if begin <= wake < end:
                wake = end
        now = max(now, wake)
        for offset in reminders_due(START, offsets, now, sent):
            sent.add(offset)
            log.append((now, offset))
    raise AssertionError("the reminder schedule never settled")


def test_scheduler_drive_sends_each_reminder_once_on_time() -> None:
    assert _run(DEFAULT_REMINDER_OFFSETS, []) == [
        (START - WEEK, WEEK),
        (START - DAY, DAY),
        (START - HOUR, HOUR),
    ]


def test_scheduler_drive_after_long_outage_sends_only_the_most_relevant() -> None:
    outage = [(START - timedelta(days=8), START - timedelta(hours=5))]
    assert _run(DEFAULT_REMINDER_OFFSETS, outage) == [
        (START - timedelta(hours=5), DAY),
        (START - HOUR, HOUR),
    ]


def test_scheduler_drive_outage_across_the_start_sends_nothing_late() -> None:
    outage = [(START - timedelta(hours=2), START + timedelta(minutes=5))]
    assert _run(DEFAULT_REMINDER_OFFSETS, outage) == [(START - WEEK, WEEK), (START - DAY, DAY)]


@settings(max_examples=80, deadline=None)
@given(checks=st.lists(st.integers(0, 11 * 24 * 60), min_size=1, max_size=40))
def test_reminders_never_repeat_and_never_after_start(checks: list[int]) -> None:
    sent: set[timedelta] = set()
    begin = START - timedelta(days=10)
    for minute in sorted(checks):
        now = begin + timedelta(minutes=minute)
        for offset in reminders_due(START, DEFAULT_REMINDER_OFFSETS, now, sent):
            assert offset not in sent
            assert now < START
            assert now >= START - offset
            sent.add(offset)


@pytest.mark.parametrize(
    ("now", "recorded", "expected"),
    [
        (START - timedelta(days=8), set(), ReminderPlan(None, None, ())),
        (START - WEEK, set(), ReminderPlan(WEEK, WEEK, ())),
        (START - timedelta(days=3), {WEEK}, ReminderPlan(WEEK, None, ())),
        # Back after 8 days down, 20 hours before: the 1-day one, the 7-day one skipped.
        (START - timedelta(hours=20), set(), ReminderPlan(DAY, DAY, (WEEK,))),
        # The 7-day one was interrupted ("sending", so recorded): it is now superseded.
        (START - timedelta(hours=20), {WEEK}, ReminderPlan(DAY, DAY, ())),
        (START - timedelta(minutes=30), {WEEK}, ReminderPlan(HOUR, HOUR, (DAY,))),
        (START - timedelta(minutes=30), {WEEK, DAY, HOUR}, ReminderPlan(HOUR, None, ())),
        # Down across the start: nothing is sent; what was never sent is skipped.
        (START + timedelta(minutes=5), {WEEK, DAY}, ReminderPlan(None, None, (HOUR,))),
        (START + timedelta(minutes=5), set(), ReminderPlan(None, None, (WEEK, DAY, HOUR))),
    ],
)
def test_reminder_plan_sends_the_latest_that_applies_and_skips_the_rest(
    now: datetime, recorded: set[timedelta], expected: ReminderPlan
) -> None:
    assert reminder_plan(START, DEFAULT_REMINDER_OFFSETS, now, recorded) == expected


@pytest.mark.parametrize(
    ("before", "words"),
    [
        (timedelta(minutes=10), "today at 18:30 GMT, in 10 minutes"),
        (HOUR, "today at 18:30 GMT, in 1 hour"),
        (timedelta(minutes=89), "today at 18:30 GMT, in 1 hour 29 minutes"),
        (timedelta(hours=20), "tomorrow at 18:30 GMT, in 20 hours"),
        (DAY, "tomorrow at 18:30 GMT, in 24 hours"),
        (timedelta(hours=40), "tomorrow at 18:30 GMT, in 40 hours"),
        (timedelta(days=3), "on Wednesday at 18:30 GMT, in 3 days"),
        (WEEK, "on Wednesday 10 March at 18:30 GMT, in 7 days"),
        (timedelta(seconds=5), "today at 18:30 GMT, in 1 minute"),
    ],
)
def test_starts_in_words_says_the_real_time_left(before: timedelta, words: str) -> None:
    assert starts_in_words(START, START - before, LONDON) == words


def test_starts_in_words_uses_the_meeting_zone_and_its_summer_time() -> None:
    july = datetime(2027, 7, 7, 17, 30, tzinfo=UTC)  # 18:30 BST
    assert starts_in_words(july, july - timedelta(hours=20), LONDON) == (
        "tomorrow at 18:30 BST, in 20 hours")
    # 23:30 in London is already tomorrow in Tokyo: the day is the meeting's own.
    tokyo = ZoneInfo("Asia/Tokyo")
    start = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)  # 00:00 JST on the 11th
    assert starts_in_words(start, start - timedelta(hours=2), tokyo) == (
        "tomorrow at 00:00 JST, in 2 hours")
    assert time_left(start, start + HOUR) == "in 1 minute", "never 'in 0' or negative"


def test_validate_reminder_offsets() -> None:
    assert validate_reminder_offsets([HOUR, WEEK, DAY, HOUR]) == (WEEK, DAY, HOUR)
    with pytest.raises(InvalidInput):
        validate_reminder_offsets([timedelta(0)])
    with pytest.raises(InvalidInput):
        validate_reminder_offsets([timedelta(days=90)])


def test_custom_offsets() -> None:
    offsets = (timedelta(days=2), timedelta(minutes=15))
    assert reminders_due(START, offsets, START - timedelta(minutes=10), set()) == [
        timedelta(minutes=15)
    ]


# --------------------------------------------------------------------------- RSVPs


@dataclass(frozen=True)
class Member:
    user_id: int
    region: str | None = None


def test_rsvp_counts_include_zeros_and_accept_stored_strings() -> None:
    assert rsvp_counts({}) == {RSVP.GOING: 0, RSVP.MAYBE: 0, RSVP.CANT: 0}
    counts = rsvp_counts({1: RSVP.GOING, 2: "going", 3: "cant", 4: RSVP.MAYBE})
    assert counts == {RSVP.GOING: 2, RSVP.MAYBE: 1, RSVP.CANT: 1}
    assert RSVP.CANT.label == "Can't"


def test_reminder_recipients_skip_only_cant() -> None:
    members = [Member(1), Member(2), Member(3), Member(4)]
    rsvps = {1: RSVP.GOING, 2: RSVP.MAYBE, 3: "cant"}
    assert reminder_recipients(members, rsvps) == [Member(1), Member(2), Member(4)]


def test_regional_reminders_only_reach_that_region() -> None:
    members = [
        Member(1, "Leeds"),
        Member(2, "york"),
        Member(3, " leeds "),
        Member(4, None),
        Member(5, "Leeds"),
    ]
    rsvps = {5: RSVP.CANT}
    assert reminder_recipients(members, rsvps, region="LEEDS") == [
        Member(1, "Leeds"),
        Member(3, " leeds "),
    ]


def test_regional_reminders_also_reach_anyone_who_said_going_or_maybe() -> None:
    # Regression: someone outside the region (or with no region) who answered "maybe" was
    # told "you will still get the reminders" and then got none.
    members = [Member(1, "Leeds"), Member(2, None), Member(3, "York"), Member(4, "York")]
    rsvps = {2: RSVP.MAYBE, 3: RSVP.GOING, 4: RSVP.CANT}
    assert reminder_recipients(members, rsvps, region="Leeds") == [
        Member(1, "Leeds"), Member(2, None), Member(3, "York"),
    ]


def test_notes_prompt_due() -> None:
    end = START + timedelta(hours=2)
    assert not notes_prompt_due(end, end - timedelta(minutes=1))
    assert notes_prompt_due(end, end)
    assert notes_prompt_due(end, end + timedelta(days=13))
    assert not notes_prompt_due(end, end + timedelta(days=14))
    assert not notes_prompt_due(end, end + HOUR, prompted=True)
    assert not notes_prompt_due(end, end + HOUR, cancelled=True)


# --------------------------------------------------------------------------- stored records


def test_occurrence_resolution_surfaces_gap_and_fold() -> None:
    from bot.domain.meeting_series import occurrence_resolution

    # Last Sunday of March 2027 is the 28th (clocks go forward at 01:00 GMT).
    gap_rule = validate_series((3, 10), 6, -1, time(1, 30), LONDON)
    [march, october] = occurrences(gap_rule, NOW, 2)
    res = occurrence_resolution(gap_rule, march)
    assert res.adjusted and res.note and "does not exist" in res.note
    assert march.astimezone(LONDON).strftime("%H:%M") == "02:30"
    res = occurrence_resolution(gap_rule, october)
    assert res.ambiguous and res.note and "happens twice" in res.note
    assert october == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # the first 01:30 (BST)
    plain = occurrence_resolution(series(), occurrences(series(), NOW, 1)[0])
    assert plain.note is None


def test_series_title_names_the_local_month() -> None:
    from bot.domain.meeting_series import series_title

    # 23:30 UTC on 31 March is already April in Europe/Paris (CEST, UTC+2).
    instant = datetime(2027, 3, 31, 23, 30, tzinfo=UTC)
    assert series_title("Carers", instant, ZoneInfo("Europe/Paris")) == "Carers meeting, April 2027"
    assert series_title("x" * 120, instant, LONDON) == ("x" * 100)


def test_meeting_record_properties() -> None:
    from bot.domain.meetings import ONLINE, Meeting, MeetingStatus

    start = datetime(2027, 3, 10, 18, 30, tzinfo=UTC)
    m = Meeting(
        id=1, community_id=1, title="t", start_utc=start, end_utc=start + timedelta(minutes=90),
        timezone="Europe/London", location=ONLINE, channel_id=None, region=None,
        in_series=False, created_by=1, created_at=start, status=MeetingStatus.CANCELLED,
        event_id=None, event_problem=None, announcement_channel_id=None, announcement_id=None,
        sequence=0, notes=None, notes_at=None, attendance_at=None, notes_prompted_at=None,
        cancelled_at=start,
    )  # fmt: skip
    assert m.cancelled and m.online and m.duration_minutes == 90 and m.tz == LONDON


def test_attendance_pages_cover_every_id_once_and_keep_one_page_for_small_rosters() -> None:
    from bot.domain.meetings import ATTENDANCE_PAGE, attendance_pages

    [single] = attendance_pages([5, 3, 9], [9, 100])
    assert (single.low, single.high, single.people, single.present) == (
        None, None, (3, 5, 9, 100), (9, 100)
    )
    roster = list(range(1000, 1000 + 2 * ATTENDANCE_PAGE + 7))
    pages = attendance_pages(roster, [1000, 1030, 5])
    assert [len(p.people) for p in pages] == [25, 25, 8]
    assert [p.number for p in pages] == [1, 2, 3] and {p.pages for p in pages} == {3}
    for user in [0, 5, *roster, 2**62]:
        assert sum(p.covers(user) for p in pages) == 1, user
    assert [p.present for p in pages] == [(5, 1000), (1030,), ()]
    assert attendance_pages([], []) == [attendance_pages([], [])[0]]


def test_series_occurrences_follow_rrule_across_years_and_last_weekdays() -> None:
    rule = validate_series([2, 11], 4, -1, time(9, 0), LONDON)  # last Friday
    starts = occurrences(rule, datetime(2026, 12, 1, tzinfo=UTC), 3)
    assert [s.astimezone(LONDON).date() for s in starts] == [
        date(2027, 2, 26), date(2027, 11, 26), date(2028, 2, 25)
    ]
    assert rule.start_in(2027, 3) == datetime(2027, 3, 26, 9, 0, tzinfo=UTC)
