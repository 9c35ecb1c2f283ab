"""When value-story invitations are posted: cadence, due times, catch-up after downtime.

An invitation goes up in the community's lounge on the first Tuesday of the month at 10:00
(the community's wall time, across daylight saving; both set in ``[value_stories]``):
every month, or in January, April, July and October for ``quarterly`` (the default: value
stories are worth collecting a few times a year, not weekly). Only one invitation is open at
a time; the service closes the previous one when it posts the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.stories.cadence import next_due
from bot.errors import InvalidInput
from bot.text import echo

__all__ = [
    "GRACE",
    "Invitation",
    "InvitationCadence",
    "InvitationSchedule",
    "InvitationTiming",
    "catch_up_invitation",
    "next_invitation",
    "parse_invitation_cadence",
]

#: Tuesday, 10:00 local: a working morning, away from Monday's inbox.
WEEKDAY = 1
AT = time(10, 0)
QUARTER_MONTHS = frozenset({1, 4, 7, 10})
#: An invitation missed while Hearth was down is still posted if it is at most this late.
GRACE = timedelta(days=7)


@dataclass(frozen=True)
class InvitationTiming:
    """When invitations go up: the first ``weekday`` (Monday = 0) of the month at ``at``
    (local wall time); one missed while Hearth was down is posted if at most ``grace`` late."""

    weekday: int = WEEKDAY
    at: time = AT
    grace: timedelta = GRACE


DEFAULT_TIMING = InvitationTiming()


class InvitationCadence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    OFF = "off"


def parse_invitation_cadence(value: str | InvitationCadence) -> InvitationCadence:
    if isinstance(value, InvitationCadence):
        return value
    try:
        return InvitationCadence(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(
            f"`{echo(str(value), 40)}` is not a choice here. Choose monthly, quarterly or off."
        ) from None


def next_invitation(
    cadence: InvitationCadence,
    tz: ZoneInfo,
    after: datetime,
    timing: InvitationTiming = DEFAULT_TIMING,
) -> datetime | None:
    """The first due instant strictly after ``after`` (aware UTC); ``None`` when off."""
    if cadence is InvitationCadence.OFF:
        return None
    cursor = after
    for _ in range(13):
        due = next_due("monthly", timing.weekday, timing.at, tz, cursor)
        assert due is not None
        if cadence is InvitationCadence.MONTHLY or due.astimezone(tz).month in QUARTER_MONTHS:
            return due
        cursor = due
    raise AssertionError("no due time found")  # pragma: no cover


def catch_up_invitation(
    cadence: InvitationCadence,
    tz: ZoneInfo,
    *,
    since: datetime,
    now: datetime,
    timing: InvitationTiming = DEFAULT_TIMING,
) -> datetime | None:
    """On start-up: the one due time missed in ``(since, now]`` to post now, if it is at most
    ``timing.grace`` late. Older misses are skipped, so an outage never produces a burst."""
    latest: datetime | None = None
    cursor = since
    while (due := next_invitation(cadence, tz, cursor, timing)) is not None and due <= now:
        latest = cursor = due
    if latest is not None and now - latest <= timing.grace:
        return latest
    return None


@dataclass(frozen=True)
class InvitationSchedule:
    """A community's invitation cadence as stored. ``last_due_at`` is the latest due time
    handled (posted or skipped): a restart neither loses nor repeats an invitation."""

    community_id: int
    cadence: InvitationCadence
    set_at: datetime
    last_due_at: datetime | None = None

    def next_after(
        self, after: datetime, tz: ZoneInfo, timing: InvitationTiming = DEFAULT_TIMING
    ) -> datetime | None:
        return next_invitation(self.cadence, tz, after, timing)

    def catch_up(
        self, now: datetime, tz: ZoneInfo, timing: InvitationTiming = DEFAULT_TIMING
    ) -> datetime | None:
        since = max(self.set_at, self.last_due_at or self.set_at)
        return catch_up_invitation(self.cadence, tz, since=since, now=now, timing=timing)


@dataclass(frozen=True)
class Invitation:
    """One invitation in a lounge. Open until a newer one (or ``off``) closes it."""

    id: int
    community_id: int
    due_at: datetime
    channel_id: int | None = None
    message_id: int | None = None
    closed_at: datetime | None = None

    @property
    def is_posted(self) -> bool:
        return self.message_id is not None

    @property
    def is_open(self) -> bool:
        return self.is_posted and self.closed_at is None
