"""When a community's digest goes out, and the record of each digest's delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from bot.domain.digest.periods import Period, zone_of
from bot.domain.timeparse import parse_time_of_day, parse_weekday

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class DeliveryState:
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class DigestSchedule:
    """When a community's digest is due: a weekday and a local time in a timezone."""

    weekday: int  # Monday is 0
    at: time
    timezone: str

    def describe(self) -> str:
        return f"{WEEKDAY_NAMES[self.weekday].capitalize()}s at {self.at:%H:%M} ({self.timezone})"


@dataclass(frozen=True)
class DigestRecord:
    """One community's digest for one period, as recorded before and after delivery."""

    id: int
    community_id: int
    period: Period
    state: str
    late: bool
    dm_done: bool
    email_done: bool
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def parse_schedule(weekday: str, at: str, timezone: str) -> DigestSchedule:
    """Validate ``/digest schedule`` options with the one weekday and time-of-day reader
    (:mod:`bot.domain.timeparse`): "tu", "Tue", "6pm", "18:30" and "930" all work here as
    they do for meetings and story prompts."""
    day = parse_weekday(weekday)
    clock = parse_time_of_day(at)
    zone = zone_of(timezone.strip())
    return DigestSchedule(day, clock, getattr(zone, "key", timezone.strip()))
