"""The ``.ics`` file attached to a meeting announcement (RFC 5545).

Times are written as local wall times with a TZID and a matching VTIMEZONE, not as UTC, so
calendar apps keep the meeting at 18:30 in the community's timezone and show the right local
time to people elsewhere. The UID is stable per meeting and SEQUENCE grows with each change,
so re-importing an updated or cancelled file replaces the earlier copy instead of adding one.
A community whose timezone is UTC gets plain UTC times (``...Z``) and no VTIMEZONE, as
RFC 5545 prescribes for UTC.

A wall time the clocks pass twice (01:30 on the last Sunday of October in London) is
ambiguous in ``TZID=`` form: RFC 5545 says the first occurrence, but Mozilla's ical.js (and
so Thunderbird) reads the second. Such a meeting is written in UTC (``...Z``) instead, which
every calendar reads alike. A time in the spring-forward gap never reaches this module: the
meeting was already moved forward to a real instant (see README, "DST").

A cancelled meeting is sent as METHOD:CANCEL with STATUS:CANCELLED, the same UID and a
higher SEQUENCE, so a calendar that imported the earlier file removes the event.
The UID names the installation (a random id stored once in ``app_state``), so two Hearth
deployments never hand out the same UID for their meeting #4.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, tzinfo
from typing import Literal

from icalendar import Calendar, Event

from bot.domain.timeparse import validate_timezone
from bot.text import clean_multiline, plain

log = logging.getLogger(__name__)

PRODID = "-//Hearth//Community meetings//EN"
Status = Literal["CONFIRMED", "CANCELLED"]


def meeting_uid(meeting_id: int, installation: str) -> str:
    """A globally unique, stable UID for a stored meeting of this installation."""
    if not installation or not re.fullmatch(r"[A-Za-z0-9-]+", installation):
        raise ValueError("the installation id must be letters, digits and hyphens")
    return f"meeting-{meeting_id}-{installation}@hearth"


def is_ambiguous(moment: datetime, tz: tzinfo) -> bool:
    """True when ``moment``'s wall time in ``tz`` happens twice (the autumn fold)."""
    local = moment.astimezone(tz)
    other = local.replace(fold=1 - local.fold)
    return other.utcoffset() != local.utcoffset()


def meeting_ics(
    uid: str,
    title: str,
    start_utc: datetime,
    end_utc: datetime,
    tz_name: str,
    location: str | None,
    description: str | None,
    url: str | None = None,
    sequence: int = 0,
    status: Status = "CONFIRMED",
    *,
    stamp: datetime | None = None,
) -> bytes:
    """Build a one-event iCalendar file for a meeting (METHOD:PUBLISH, or METHOD:CANCEL
    when ``status`` is CANCELLED).

    ``stamp`` is DTSTAMP, when this version of the file was made; pass the clock's now.
    Left as None, icalendar stamps the current time itself. The VTIMEZONE covers the years
    around the meeting only, which keeps the file small while giving every transition a
    calendar app needs to place the event.
    """
    if start_utc.tzinfo is None or end_utc.tzinfo is None:
        raise ValueError("meeting_ics needs aware datetimes")
    if end_utc <= start_utc:
        raise ValueError("a meeting must end after it starts")
    if status not in ("CONFIRMED", "CANCELLED"):
        raise ValueError(f"unsupported status {status!r}")
    if sequence < 0:
        raise ValueError("sequence must not be negative")
    tz = validate_timezone(tz_name)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if status == "CANCELLED" else "PUBLISH")

    # calendar apps show these literally: one line (the description may keep its lines), and
    # no control, bidi or zero-width character that could reorder or hide what they say
    title = plain(title, 255, empty="Meeting")
    location = plain(location, 255) if location else None
    description = clean_multiline(description) if description else None
    # a fold time is written in UTC (both ends, so the file reads one way); otherwise local
    as_utc = is_ambiguous(start_utc, tz) or is_ambiguous(end_utc, tz)
    zone = UTC if as_utc else tz
    event = Event.new(
        uid=uid,
        summary=title,
        start=start_utc.astimezone(zone),
        end=end_utc.astimezone(zone),
        stamp=stamp.astimezone(UTC) if stamp is not None else None,
        location=location or None,
        description=description or None,
        url=url or None,
        sequence=sequence,
    )
    event.add("status", status)
    calendar.add_component(event)

    local_start = start_utc.astimezone(tz)
    local_end = end_utc.astimezone(tz)
    calendar.add_missing_timezones(
        first_date=date(local_start.year - 1, 1, 1),
        last_date=date(local_end.year + 2, 1, 1),
    )
    return calendar.to_ical()
