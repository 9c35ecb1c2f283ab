"""Every parser of user input, fed hostile and grammar-shaped text directly.

The contract: a parser returns a sensible value or raises ``InvalidInput`` whose message is
a short readable sentence; nothing else ever escapes (no ValueError, OverflowError, OSError,
KeyError...). Accepted values round-trip: what Hearth would show or store parses back to
the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain import communities as comm
from bot.domain import meeting_series as series
from bot.domain import meetings as meet
from bot.domain import polls, statements, stories, timeparse
from bot.domain.digest import WEEKDAY_NAMES, parse_schedule
from bot.errors import InvalidInput
from bot.settings import load_config
from bot.text import clean_line
from tests.e2e.hearth import ROOT
from tests.fuzz.strategies import TIMEISH, Targets, hostile_text

T = TypeVar("T")
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MESSAGE_MAX = 1000  # a refusal is a sentence or two, never the whole input echoed back

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)

HOSTILE = hostile_text(Targets(users=(123,), roles=(456,), channels=(789,)))
MONTH_WORDS = ["january", "feb", "March", "sept", "december", "mar."]
WORDS = [*MONTH_WORDS, *WEEKDAY_NAMES, "Wed", "next", "in", "at", "on", "the", "of", "th",
         "st", "am", "pm", "p.m.", "noon", "midnight", "today", "tomorrow", "h", "m", "d", "w",
         "hours", "minutes", "days", "weeks", "months", "years", "and", "for", ":", "/", "-",
         ".", "T", "second", "last", "first", "4th", "5th", "&", ",", "+"]
GRAMMAR = st.lists(
    st.one_of(st.sampled_from(WORDS), st.integers(-5, 3000).map(str),
              st.sampled_from(TIMEISH)),
    min_size=1, max_size=6,
).map(" ".join)
ANY_TEXT = st.one_of(HOSTILE, GRAMMAR, st.text(max_size=40))
NOWS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                    timezones=st.just(UTC))
ZONES = st.sampled_from(["Europe/London", "America/New_York", "Asia/Kolkata",
                         "Australia/Lord_Howe", "Pacific/Chatham", "UTC"]).map(ZoneInfo)


def outcome(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | InvalidInput:
    """Call a parser; return its value or the InvalidInput it raised (anything else fails)."""
    try:
        return fn(*args, **kwargs)
    except InvalidInput as exc:
        msg = exc.user_message
        assert msg.strip(), "an InvalidInput must say what is wrong"
        assert len(msg) <= MESSAGE_MAX, f"refusal echoes too much ({len(msg)} chars)"
        assert not msg[0].islower() and not msg[0].isspace(), f"not a sentence: {msg[:80]!r}"
        return exc


# --------------------------------------------------------------------------- timeparse


@FAST
@given(text=ANY_TEXT, tz=ZONES, now=NOWS)
def test_when_parsers_accept_or_explain(text: str, tz: ZoneInfo, now: datetime) -> None:
    got = outcome(timeparse.resolve_when, text, tz, now)
    if isinstance(got, InvalidInput):
        return
    assert got.utc.tzinfo is not None and got.utc.utcoffset() == timedelta(0)
    assert abs(got.utc - now) <= timeparse.MAX_HORIZON + timedelta(days=2)
    assert outcome(timeparse.parse_when, text, tz, now) == got.utc
    future = outcome(timeparse.parse_future, text, tz, now)
    if isinstance(future, datetime):
        assert future == got.utc and future > now
    else:
        assert got.utc <= now


@FAST
@given(local=st.datetimes(min_value=datetime(2027, 1, 12), max_value=datetime(2031, 12, 31)),
       tz=ZONES, style=st.sampled_from(["%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%d %B %Y %H:%M",
                                        "%A %d %b %Y %H:%M", "%Y-%m-%dT%H:%M"]))
def test_when_round_trips_what_people_type(local: datetime, tz: ZoneInfo, style: str) -> None:
    local = local.replace(second=0, microsecond=0)
    expected = timeparse.to_utc(local, tz)
    assert timeparse.resolve_when(local.strftime(style), tz, NOW).utc == expected.utc


@FAST
@given(text=ANY_TEXT)
def test_duration_parser_accepts_or_explains(text: str) -> None:
    got = outcome(timeparse.parse_duration, text)
    if isinstance(got, timedelta):
        assert timedelta(0) < got <= timeparse.MAX_DURATION


@FAST
@given(minutes=st.integers(1, int(timeparse.MAX_DURATION.total_seconds() // 60)))
def test_duration_round_trips_through_its_rendering(minutes: int) -> None:
    value = timedelta(minutes=minutes)
    assert timeparse.parse_duration(timeparse.format_duration(value)) == value
    assert timeparse.parse_duration(str(minutes)) == value


@FAST
@given(text=ANY_TEXT)
def test_time_weekday_and_zone_parsers_accept_or_explain(text: str) -> None:
    got = outcome(timeparse.parse_time_of_day, text)
    assert isinstance(got, time | InvalidInput)
    day = outcome(timeparse.parse_weekday, text)
    assert isinstance(day, InvalidInput) or 0 <= day <= 6
    zone = outcome(timeparse.validate_timezone, text)
    assert isinstance(zone, InvalidInput | ZoneInfo)


@FAST
@given(at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
       day=st.integers(0, 6), zone=st.sampled_from(sorted(available_timezones())))
def test_time_weekday_zone_round_trip(at: time, day: int, zone: str) -> None:
    assert timeparse.parse_time_of_day(f"{at:%H:%M}") == at
    assert timeparse.parse_weekday(WEEKDAY_NAMES[day].upper()) == day
    assert timeparse.validate_timezone(f"  {zone.lower()} ").key == zone


# --------------------------------------------------------------------------- polls


@FAST
@given(kind=st.sampled_from([*(k.value for k in polls.PollKind), "Single ", "?"]),
       question=ANY_TEXT, options=st.one_of(st.none(), ANY_TEXT,
                                            st.lists(ANY_TEXT, max_size=30).map(";".join)))
def test_poll_parsing_accepts_or_explains(kind: str, question: str, options: str | None
                                          ) -> None:
    spec = outcome(polls.parse_poll, kind, question, options)
    if isinstance(spec, InvalidInput):
        return
    # stored as cleaned: one line, no control, bidi or zero-width characters
    assert spec.question == clean_line(question) and 0 < len(spec.question) <= 300
    assert polls.MIN_SURVEY_QUESTIONS <= len(spec.options) <= polls.MAX_OPTIONS
    if spec.kind is not polls.PollKind.AGREEMENT:
        assert all(0 < len(o) <= polls.MAX_OPTION_CHARS and o == clean_line(o)
                   for o in spec.options)
        assert len({o.casefold() for o in spec.options}) == len(spec.options)
        again = polls.parse_poll(spec.kind, spec.question, "; ".join(spec.options))
        assert again == spec


# --------------------------------------------------------------------------- statements


@FAST
@given(text=ANY_TEXT, existing=st.lists(ANY_TEXT, max_size=3))
def test_statement_validation_accepts_or_explains(text: str, existing: list[str]) -> None:
    got = outcome(statements.validate_statement, text, existing)
    if isinstance(got, InvalidInput):
        return
    assert got == clean_line(text) and 0 < len(got) <= statements.MAX_STATEMENT_CHARS
    # accepted once, the same point (any case or spacing) is refused as a duplicate
    dup = outcome(statements.validate_statement, f"  {got.upper()} ", [*existing, got])
    assert isinstance(dup, InvalidInput) or got.upper() == got.lower() == ""


# --------------------------------------------------------------------------- stories

STAGES = stories.Stages(
    stories.Stage(s.slug, s.label)
    for s in load_config(ROOT / "bot" / "defaults" / "hearth.toml").stories.stages
)  # as cogs/stories/_service.py builds them


@FAST
@given(title=ANY_TEXT, text=ANY_TEXT, stage=st.one_of(st.none(), ANY_TEXT,
                                                      st.sampled_from(STAGES.slugs)))
def test_story_validation_accepts_or_explains(title: str, text: str, stage: str | None
                                              ) -> None:
    got = outcome(stories.validate_story, title, text, stage, STAGES)
    if isinstance(got, InvalidInput):
        return
    clean_title, clean_text = got
    assert 0 < len(clean_title) <= stories.TITLE_LIMIT
    assert 0 < len(clean_text) <= stories.TEXT_LIMIT
    assert stories.validate_story(clean_title, clean_text, stage, STAGES) == got


@FAST
@given(content=ANY_TEXT)
def test_captured_messages_and_stage_names(content: str) -> None:
    got = outcome(stories.validate_captured, content, STAGES)
    if not isinstance(got, InvalidInput):
        assert 0 < len(got[0]) <= stories.TITLE_LIMIT
    stage = outcome(STAGES.resolve, content)
    if not isinstance(stage, InvalidInput):
        assert stage.slug in STAGES.slugs and STAGES.resolve(stage.slug) == stage
    outcome(stories.parse_consent, content)


# --------------------------------------------------------------------------- communities


@FAST
@given(raw=ANY_TEXT)
def test_community_names_regions_emails_circles(raw: str) -> None:
    name = outcome(comm.clean_name, raw)
    if isinstance(name, str):
        assert 0 < len(name) <= comm.NAME_MAX and not set("@#`") & set(name)
        assert comm.clean_name(name) == name
        slug = comm.slugify(name)
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug) and len(slug) <= comm.NAME_MAX
    region = outcome(comm.clean_region, raw)
    if isinstance(region, str):
        assert 0 < len(region) <= comm.REGION_MAX and comm.clean_region(region) == region
    email = outcome(comm.clean_email, raw)
    if isinstance(email, str):
        assert "@" in email and comm.clean_email(email) == email
    circles = outcome(comm.parse_circles, raw)
    if isinstance(circles, list):
        assert comm.parse_circles(", ".join(d.value for d in circles) or None) == circles
    outcome(comm.parse_kind, raw)
    outcome(comm.parse_discipline, raw)


# --------------------------------------------------------------------------- meetings


@FAST
@given(text=ANY_TEXT)
def test_meeting_specs_accept_or_explain(text: str) -> None:
    months = outcome(series.parse_months, text)
    if isinstance(months, tuple):
        assert months and all(1 <= m <= 12 for m in months)
        assert series.parse_months(" and ".join(map(str, months))) == months
    spec = outcome(series.parse_weekday_spec, text)
    if isinstance(spec, tuple):
        nth, weekday = spec
        assert nth in (1, 2, 3, 4, -1) and 0 <= weekday <= 6
    minutes = outcome(meet.parse_duration_minutes, text)
    if isinstance(minutes, int):
        assert meet.DURATION_MIN_MINUTES <= minutes <= meet.DURATION_MAX_MINUTES


@FAST
@given(months=st.lists(st.integers(1, 12), min_size=1, max_size=4),
       nth=st.sampled_from(["first", "2nd", "third", "4", "last"]), day=st.integers(0, 6),
       title=ANY_TEXT, location=st.one_of(st.none(), ANY_TEXT), duration=st.integers(-5, 2000))
def test_meeting_round_trips_and_validation(
    months: list[int], nth: str, day: int, title: str, location: str | None, duration: int
) -> None:
    names = [datetime(2000, m, 1).strftime("%B") for m in months]
    assert series.parse_months(", ".join(names)) == tuple(months)
    assert series.parse_weekday_spec(f"{nth} {WEEKDAY_NAMES[day]} of the month")[1] == day
    draft = outcome(meet.validate_meeting, title, NOW + timedelta(days=30), duration, location,
                    NOW)
    if not isinstance(draft, InvalidInput):
        assert 0 < len(draft.title) <= 100 and 0 < len(draft.location) <= 100
        assert draft.end_utc - draft.start_utc == timedelta(minutes=duration)


# --------------------------------------------------------------------------- digests


@FAST
@given(weekday=st.one_of(ANY_TEXT, st.sampled_from(WEEKDAY_NAMES)), at=ANY_TEXT,
       tz=st.one_of(ANY_TEXT, st.sampled_from(["Europe/London", "europe/dublin"])))
def test_digest_schedule_accepts_or_explains(weekday: str, at: str, tz: str) -> None:
    got = outcome(parse_schedule, weekday, at, tz)
    if isinstance(got, InvalidInput):
        return
    assert 0 <= got.weekday <= 6 and ZoneInfo(got.timezone)
    again = parse_schedule(WEEKDAY_NAMES[got.weekday], f"{got.at:%H:%M}", got.timezone)
    assert again == got


@pytest.mark.parametrize("text", ["²", "1" * 5000, "9" * 25, "٣:٣٠", "\x00", "\ud7ff"])
def test_known_awkward_digits(text: str) -> None:
    """Regression: digits str.isdigit() accepts but int() or SQLite cannot take."""
    for fn in (timeparse.parse_duration, timeparse.parse_time_of_day, series.parse_months,
               meet.parse_duration_minutes):
        outcome(fn, text)
    outcome(timeparse.resolve_when, text, LONDON, NOW)
    outcome(parse_schedule, "monday", text, "UTC")


@FAST
@given(text=ANY_TEXT, at=st.times().map(lambda t: t.replace(second=0, microsecond=0)))
def test_story_schedule_parsers(text: str, at: time) -> None:
    """`/story schedule` reads its own time format (24-hour or am/pm)."""
    got = outcome(stories.parse_time_of_day, text)
    assert isinstance(got, time | InvalidInput)
    assert stories.parse_time_of_day(f"{at:%H:%M}") == at
    outcome(stories.parse_cadence, text)
    day = outcome(stories.parse_weekday, text)
    assert isinstance(day, InvalidInput) or 0 <= day <= 6


@FAST
@given(text=st.one_of(HOSTILE, st.builds(lambda g, n: (g * n)[:6000],
                                          st.sampled_from(["1 ", "12-", "(1)", "+1 ", "0 7"]),
                                          st.integers(1, 3000))))
def test_redaction_terminates_on_any_story(text: str) -> None:
    """Regression: a story of many digit groups ("1 1 1 ...") overflowed the stack (one
    recursion per group) and took tens of seconds, failing the sponsor's digest."""
    from bot.domain.redaction import REDACTED, redact

    result = redact(text)
    assert result.total == result.text.count(REDACTED) - text.count(REDACTED)
