from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from bot.domain.calendar_ics import PRODID, meeting_ics, meeting_uid
from bot.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
STAMP = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
WINTER_START = datetime(2027, 3, 10, 18, 30, tzinfo=UTC)  # 18:30 GMT
SUMMER_START = datetime(2027, 10, 13, 17, 30, tzinfo=UTC)  # 18:30 BST


def build(start: datetime = WINTER_START, **overrides: object) -> bytes:
    args: dict[str, object] = {
        "uid": meeting_uid(42, "3f2a9c"),
        "title": "Spring community meeting",
        "start_utc": start,
        "end_utc": start + timedelta(hours=2),
        "tz_name": "Europe/London",
        "location": "Online",
        "description": "Agenda: stories; next steps",
        "stamp": STAMP,
    }
    args.update(overrides)
    return meeting_ics(**args)  # type: ignore[arg-type]


def only_event(raw: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(raw)
    assert len(calendar.events) == 1
    return calendar, calendar.events[0]


@pytest.mark.parametrize("start", [WINTER_START, SUMMER_START])
def test_parsed_back_with_local_times_and_tzid(start: datetime) -> None:
    _, event = only_event(build(start))
    assert isinstance(event.start, datetime)
    assert isinstance(event.end, datetime)
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event["DTEND"].params["TZID"] == "Europe/London"
    # The wall time written is 18:30 local in both winter and summer...
    assert event.start.replace(tzinfo=None) == datetime(start.year, start.month, start.day, 18, 30)
    assert event.end.replace(tzinfo=None) == datetime(start.year, start.month, start.day, 20, 30)
    # ...and it means the same instant we stored.
    assert event.start == start
    assert event.end == start + timedelta(hours=2)
    assert event.start.tzinfo is not None
    assert str(event.start.tzinfo) == "Europe/London"


def test_raw_text_has_local_time_with_tzid() -> None:
    text = build(SUMMER_START).decode()
    assert "DTSTART;TZID=Europe/London:20271013T183000" in text
    assert "DTEND;TZID=Europe/London:20271013T203000" in text
    assert "\r\n" in text  # RFC 5545 line endings


def test_vtimezone_present_and_covers_the_meeting() -> None:
    calendar, _ = only_event(build(SUMMER_START))
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/London"]
    assert calendar.get_missing_tzids() == set()
    zone = calendar.timezones[0].to_tz()
    assert SUMMER_START.astimezone(zone).utcoffset() == timedelta(hours=1)
    assert WINTER_START.astimezone(zone).utcoffset() == timedelta(0)
    # VTIMEZONE comes before the event that refers to it.
    text = build(SUMMER_START).decode()
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT")


def test_calendar_headers_and_event_fields() -> None:
    raw = build(url="https://discord.com/events/1/2", sequence=3)
    calendar, event = only_event(raw)
    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(event["UID"]) == "meeting-42-3f2a9c@hearth"
    assert str(event["SUMMARY"]) == "Spring community meeting"
    assert str(event["LOCATION"]) == "Online"
    assert str(event["DESCRIPTION"]) == "Agenda: stories; next steps"
    assert str(event["URL"]) == "https://discord.com/events/1/2"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.sequence == 3
    assert event.DTSTAMP == STAMP


def test_uid_is_stable_and_output_deterministic() -> None:
    assert build() == build()
    cancelled = build(sequence=1, status="CANCELLED")
    _, event = only_event(cancelled)
    assert str(event["UID"]) == "meeting-42-3f2a9c@hearth"
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.sequence == 1


def test_optional_fields_left_out() -> None:
    _, event = only_event(build(location=None, description=None))
    assert "LOCATION" not in event
    assert "DESCRIPTION" not in event
    assert "URL" not in event


def test_special_characters_are_escaped_and_survive() -> None:
    title = "Meeting; part 2, with notes\\and more"
    _, event = only_event(build(title=title, description="Line one\nLine two"))
    assert str(event["SUMMARY"]) == title
    assert str(event["DESCRIPTION"]) == "Line one\nLine two"


def test_utc_community_writes_utc_times() -> None:
    _, event = only_event(build(tz_name="UTC"))
    assert event.start == WINTER_START
    assert "DTSTART:20270310T183000Z" in build(tz_name="UTC").decode()


def test_other_timezone() -> None:
    raw = build(tz_name="America/New_York")
    assert "DTSTART;TZID=America/New_York:20270310T133000" in raw.decode()
    calendar, _ = only_event(raw)
    assert [tz.tz_name for tz in calendar.timezones] == ["America/New_York"]
    assert calendar.events[0].start == WINTER_START


def test_refusals() -> None:
    with pytest.raises(InvalidInput):
        build(tz_name="Mars/Olympus")
    with pytest.raises(ValueError):
        build(end_utc=WINTER_START)
    with pytest.raises(ValueError):
        build(start_utc=datetime(2027, 3, 10, 18, 30))
    with pytest.raises(ValueError):
        build(status="TENTATIVE")
