from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.timeparse import (
    discord_timestamp,
    parse_duration,
    parse_future,
    parse_time_of_day,
    parse_weekday,
    parse_when,
    resolve_future,
    resolve_when,
    to_utc,
    validate_timezone,
)
from bot.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
# Tuesday 5 January 2027, 12:00 GMT (= UTC in winter).
NOW = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)


def local(text: str, now: datetime = NOW, tz: ZoneInfo = LONDON) -> datetime:
    """Parse and show the result as naive local time, which is what people reason about."""
    result = parse_when(text, tz, now)
    assert result.tzinfo is not None
    assert result.utcoffset() == timedelta(0)
    return result.astimezone(tz).replace(tzinfo=None)


@pytest.mark.parametrize(
    "text",
    [
        "2027-03-10 18:30",
        "2027-03-10T18:30",
        "10/03/2027 18:30",
        "10.03.2027 18.30",
        "10-03-27 18:30",
        "10/3/27 6:30pm",
        "10 March 2027 6:30pm",
        "10 march 2027 6.30 pm",
        "Wed 10 Mar 2027 18:30",
        "Wednesday, 10 March 2027, 18:30",
        "March 10 2027 18:30",
        "10th of March 2027 at 18:30",
        "18:30 on 10 March 2027",
        "6:30 p.m. 10 Mar 2027",
        "  10   MARCH 2027   18:30  ",
        "10 march 18:30",  # no year: the next 10 March still ahead
    ],
)
def test_absolute_forms_all_mean_the_same_instant(text: str) -> None:
    assert local(text) == datetime(2027, 3, 10, 18, 30)
    # 10 March is GMT, so local equals UTC.
    assert parse_when(text, LONDON, NOW) == datetime(2027, 3, 10, 18, 30, tzinfo=UTC)


def test_summer_date_is_converted_with_bst() -> None:
    assert parse_when("2027-07-14 18:30", LONDON, NOW) == datetime(
        2027, 7, 14, 17, 30, tzinfo=UTC
    )


def test_other_timezone() -> None:
    new_york = ZoneInfo("America/New_York")
    assert parse_when("2027-03-10 18:30", new_york, NOW) == datetime(
        2027, 3, 10, 23, 30, tzinfo=UTC
    )


def test_year_less_date_already_passed_means_next_year() -> None:
    assert local("4 january 18:30") == datetime(2028, 1, 4, 18, 30)
    assert local("5 january 18:30") == datetime(2027, 1, 5, 18, 30)  # later today
    assert local("5 january 9:00") == datetime(2028, 1, 5, 9, 0)  # earlier today


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today 18:30", datetime(2027, 1, 5, 18, 30)),
        ("tomorrow 18:30", datetime(2027, 1, 6, 18, 30)),
        ("tomorrow at 6pm", datetime(2027, 1, 6, 18, 0)),
        ("noon tomorrow", datetime(2027, 1, 6, 12, 0)),
        ("tomorrow midnight", datetime(2027, 1, 6, 0, 0)),
        ("12am tomorrow", datetime(2027, 1, 6, 0, 0)),
        ("12pm tomorrow", datetime(2027, 1, 6, 12, 0)),
        ("wednesday 18:30", datetime(2027, 1, 6, 18, 30)),
        ("next wednesday 18:30", datetime(2027, 1, 6, 18, 30)),
        ("next wed at 18:30", datetime(2027, 1, 6, 18, 30)),
        # Today is Tuesday: bare "tuesday" means today if the time is still ahead...
        ("tuesday 18:30", datetime(2027, 1, 5, 18, 30)),
        # ...or next week if it has passed; "next tuesday" is never today.
        ("tuesday 09:00", datetime(2027, 1, 12, 9, 0)),
        ("next tuesday 18:30", datetime(2027, 1, 12, 18, 30)),
        ("monday 10am", datetime(2027, 1, 11, 10, 0)),
        # A time alone is the next such time.
        ("18:30", datetime(2027, 1, 5, 18, 30)),
        ("9am", datetime(2027, 1, 6, 9, 0)),
    ],
)
def test_word_dates(text: str, expected: datetime) -> None:
    assert local(text) == expected


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("in 3 days", timedelta(days=3)),
        ("in 2 hours", timedelta(hours=2)),
        ("2h", timedelta(hours=2)),
        ("90m", timedelta(minutes=90)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("in 1 week 2 days", timedelta(days=9)),
        ("in 1 hour and 30 minutes", timedelta(minutes=90)),
        ("in 1.5 hours", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
        ("In 3 Days", timedelta(days=3)),
    ],
)
def test_relative_times_count_elapsed_time(text: str, delta: timedelta) -> None:
    assert parse_when(text, LONDON, NOW) == NOW + delta


def test_relative_time_across_dst_is_elapsed_time() -> None:
    before_change = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)  # Saturday, GMT
    result = parse_when("in 1 day", LONDON, before_change)
    assert result == before_change + timedelta(hours=24)
    assert result.astimezone(LONDON).hour == 13  # 13:00 BST: 24 real hours later


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Give a date and time"),
        ("   ", "Give a date and time"),
        ("soon", "couldn't read"),
        ("10 March 2027", "add a time"),
        ("tomorrow", "add a time"),
        ("31/02/2027 18:30", "no day 31"),
        ("10/13/2027 18:30", "no month 13"),
        ("2027-03-10 25:00", "not a time of day"),
        ("2027-03-10 18:75", "not a time of day"),
        ("13pm tomorrow", "hours are 1-12"),
        ("Thu 10 Mar 2027 18:30", "is a Wednesday, not a Thursday"),
        ("in 3 months", "Months and years vary"),
        ("in 1 year", "Months and years vary"),
        ("in 0 days", "more than zero"),
        ("in soon", "couldn't read"),
        ("in 99999 weeks", "far too long"),
        ("in 300 weeks", "too far ahead"),
        ("2099-01-01 10:00", "too far"),
        ("1990-01-01 10:00", "too far"),
        ("x" * 500, "too long"),
    ],
)
def test_refusals_say_why_and_show_an_example(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_when(text, LONDON, NOW)
    assert fragment in err.value.user_message


def test_most_refusals_include_an_accepted_example() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_when("next blursday", LONDON, NOW)
    assert "2027-03-10 18:30" in err.value.user_message


def test_parse_when_allows_the_past_but_parse_future_does_not() -> None:
    assert parse_when("2026-12-25 10:00", LONDON, NOW) == datetime(2026, 12, 25, 10, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="in the past"):
        parse_future("2026-12-25 10:00", LONDON, NOW)
    with pytest.raises(InvalidInput, match="in the past"):
        parse_future("2027-01-05 12:00", LONDON, NOW)  # exactly now is not the future
    assert parse_future("2027-01-05 12:01", LONDON, NOW) == NOW + timedelta(minutes=1)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_when("tomorrow 18:30", LONDON, datetime(2027, 1, 5, 12))


# --------------------------------------------------------------------------- DST


def test_gap_moves_forward_by_the_gap_and_says_so() -> None:
    # Europe/London springs forward at 01:00 GMT on Sunday 28 March 2027: 01:00-02:00 is missing.
    resolution = to_utc(datetime(2027, 3, 28, 1, 30), LONDON)
    assert resolution.adjusted is True
    assert resolution.ambiguous is False
    assert resolution.utc == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    shown = resolution.utc.astimezone(LONDON)
    assert (shown.hour, shown.minute, shown.tzname()) == (2, 30, "BST")
    assert resolution.note is not None
    assert "does not exist" in resolution.note
    assert "02:30 BST" in resolution.note


def test_gap_through_the_parser_reports_the_adjustment() -> None:
    resolution = resolve_when("28/03/2027 01:30", LONDON, NOW)
    assert resolution.adjusted
    assert resolution.utc.astimezone(LONDON).strftime("%H:%M %Z") == "02:30 BST"
    future = resolve_future("28/03/2027 01:30", LONDON, NOW)
    assert future == resolution


def test_fold_takes_the_first_occurrence_and_says_so() -> None:
    # 31 October 2027: 01:00-02:00 BST, then 01:00-02:00 GMT again.
    resolution = to_utc(datetime(2027, 10, 31, 1, 30), LONDON)
    assert resolution.ambiguous is True
    assert resolution.adjusted is False
    assert resolution.utc == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 01:30 BST
    assert resolution.utc.astimezone(LONDON).tzname() == "BST"
    assert resolution.note is not None
    assert "twice" in resolution.note


def test_fold_flag_on_input_is_ignored_so_the_rule_is_always_first_occurrence() -> None:
    resolution = to_utc(datetime(2027, 10, 31, 1, 30, fold=1), LONDON)
    assert resolution.utc == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_ordinary_times_need_no_note() -> None:
    for naive in (datetime(2027, 1, 10, 18, 30), datetime(2027, 7, 10, 18, 30)):
        resolution = to_utc(naive, LONDON)
        assert (resolution.adjusted, resolution.ambiguous, resolution.note) == (False, False, None)
        assert resolution.utc.astimezone(LONDON).replace(tzinfo=None) == naive


def test_to_utc_rejects_aware_input() -> None:
    with pytest.raises(ValueError):
        to_utc(datetime(2027, 1, 1, tzinfo=UTC), LONDON)


def test_other_zone_gap_and_fold() -> None:
    new_york = ZoneInfo("America/New_York")
    gap = to_utc(datetime(2027, 3, 14, 2, 30), new_york)  # 02:00 -> 03:00 EDT
    assert gap.adjusted
    assert gap.utc.astimezone(new_york).strftime("%H:%M %Z") == "03:30 EDT"
    fold = to_utc(datetime(2027, 11, 7, 1, 30), new_york)
    assert fold.ambiguous
    assert fold.utc.astimezone(new_york).tzname() == "EDT"


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", timedelta(hours=2)),
        ("90 minutes", timedelta(minutes=90)),
        ("90", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        ("1 hour 30 minutes", timedelta(minutes=90)),
        ("1 hour and 30 mins", timedelta(minutes=90)),
        ("1.5 hours", timedelta(minutes=90)),
        ("for 2 hrs", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Give a length of time"),
        ("0", "more than zero"),
        ("0h", "more than zero"),
        ("two hours", "couldn't read"),
        ("2 parsecs", "couldn't read"),
        ("2 months", "Months and years vary"),
        ("400d", "too long"),
    ],
)
def test_parse_duration_refusals(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_duration(text)
    assert fragment in err.value.user_message


def test_parse_duration_respects_a_maximum() -> None:
    assert parse_duration("24h", maximum=timedelta(hours=24)) == timedelta(hours=24)
    with pytest.raises(InvalidInput, match="1 day"):
        parse_duration("25h", maximum=timedelta(hours=24))


# --------------------------------------------------------------------------- small readers


def test_parse_time_of_day() -> None:
    assert parse_time_of_day("18:30") == time(18, 30)
    assert parse_time_of_day("6:30pm") == time(18, 30)
    assert parse_time_of_day("noon") == time(12, 0)
    for bad in ("", "25:00", "half six", "18"):
        with pytest.raises(InvalidInput):
            parse_time_of_day(bad)


def test_parse_weekday() -> None:
    assert parse_weekday("Wednesday") == 2
    assert parse_weekday("sun") == 6
    with pytest.raises(InvalidInput, match="day of the week"):
        parse_weekday("someday")


def test_validate_timezone() -> None:
    assert validate_timezone("Europe/London") == LONDON
    assert validate_timezone(" europe/london ").key == "Europe/London"
    assert validate_timezone("UTC").key == "UTC"
    for bad in ("", "Mars/Olympus", "BST", "../../etc/passwd", "Europe"):
        with pytest.raises(InvalidInput) as err:
            validate_timezone(bad)
        assert "Europe/London" in err.value.user_message


def test_discord_timestamp() -> None:
    moment = datetime(2027, 3, 10, 18, 30, tzinfo=UTC)
    assert discord_timestamp(moment) == "<t:1804703400:F>"
    assert discord_timestamp(moment.astimezone(LONDON), "R") == "<t:1804703400:R>"
    with pytest.raises(ValueError):
        discord_timestamp(datetime(2027, 3, 10, 18, 30))
    with pytest.raises(ValueError):
        discord_timestamp(moment, "X")


# --------------------------------------------------------------------------- properties

# Text built from the pieces dates are made of, so the parser's deeper paths get exercised.
_date_ish = st.lists(
    st.sampled_from(
        [*"0123456789 :/.-,apmtTh", "in ", "days", "march", "wed", "next ", "tomorrow", " of "]
    ),
    max_size=14,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(st.text(max_size=60), _date_ish))
def test_arbitrary_text_only_ever_raises_invalid_input(text: str) -> None:
    try:
        result = parse_when(text, LONDON, NOW)
    except InvalidInput as err:
        assert err.user_message
    else:
        assert result.tzinfo is not None
        assert abs(result - NOW) <= timedelta(days=5 * 366 + 2)


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(max_size=40), _date_ish))
def test_arbitrary_duration_text_only_ever_raises_invalid_input(text: str) -> None:
    try:
        value = parse_duration(text)
    except InvalidInput:
        return
    assert timedelta(0) < value <= timedelta(days=366)


@settings(max_examples=150, deadline=None)
@given(
    naive=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31)),
    zone=st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "UTC"]),
)
def test_to_utc_round_trips_or_explains(naive: datetime, zone: str) -> None:
    tz = ZoneInfo(zone)
    resolution = to_utc(naive, tz)
    shown = resolution.utc.astimezone(tz).replace(tzinfo=None)
    if resolution.adjusted:
        # Moved forward, never by more than the largest DST gap we know of.
        assert naive < shown <= naive + timedelta(hours=1)
        assert resolution.note
    else:
        assert shown == naive.replace(fold=0)


@settings(max_examples=100, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2027, 1, 6), max_value=datetime(2031, 12, 31)),
)
def test_iso_text_round_trips(moment: datetime) -> None:
    moment = moment.replace(second=0, microsecond=0)
    text = moment.strftime("%Y-%m-%d %H:%M")
    assert parse_when(text, LONDON, NOW) == to_utc(moment, LONDON).utc


# --------------------------------------------------------------------------- one parser


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18:30", time(18, 30)), ("18.30", time(18, 30)), ("6pm", time(18)),
        ("6:30pm", time(18, 30)), ("6.30 am", time(6, 30)), ("6 p.m.", time(18)),
        ("930", time(9, 30)), ("0930", time(9, 30)), ("1830", time(18, 30)),
        ("noon", time(12)), ("midnight", time(0)), ("12am", time(0)), (" 9:05 ", time(9, 5)),
    ],
)  # fmt: skip
def test_one_time_of_day_reader_for_every_command(text: str, expected: time) -> None:
    """Meetings, story prompts and digests all read times here (issue 13)."""
    from bot.domain.digest import parse_schedule
    from bot.domain.stories import parse_time_of_day as story_time

    assert parse_time_of_day(text) == expected
    assert story_time(text) == expected
    assert parse_schedule("monday", text, "Europe/London").at == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("tu", 1), ("tue", 1), ("Tues", 1), ("tuesday", 1), ("th", 3), ("thurs", 3), ("weds", 2),
     ("Sat.", 5), ("SUNDAY", 6), (3, 3)],
)  # fmt: skip
def test_one_weekday_reader_for_every_command(text: str | int, expected: int) -> None:
    from bot.domain.digest import parse_schedule
    from bot.domain.meeting_series import parse_weekday_spec
    from bot.domain.stories import parse_weekday as story_weekday

    assert parse_weekday(text) == expected
    assert story_weekday(text) == expected
    if isinstance(text, str):
        assert parse_schedule(text, "09:00", "UTC").weekday == expected
        assert parse_weekday_spec(f"second {text}") == (2, expected)


@pytest.mark.parametrize("text", ["7", "18", "25:00", "2460", "13pm", "960", "t", "half six"])
def test_times_and_weekdays_refused_with_an_example(text: str) -> None:
    with pytest.raises(InvalidInput, match="not a time of day"):
        parse_time_of_day(text)
    with pytest.raises(InvalidInput, match="not a day of the week"):
        parse_weekday(text)


def test_a_bare_hour_asks_which() -> None:
    with pytest.raises(InvalidInput, match="07:00 or 19:00"):
        parse_time_of_day("7")
