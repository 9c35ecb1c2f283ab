"""The weekly sponsor digest as plain data: when a digest is due and what it says.

Everything here is pure: repositories read the period's data (and nothing older than the
bounded look-back they are asked for) into the input dataclasses below, and the cog hands
the resulting :class:`Digest` to :mod:`bot.domain.digest_render`. Keeping the compilation
free of I/O is what lets ``/digest preview`` show exactly what ``/digest send`` delivers.

Privacy rules encoded here, so no caller can forget them:

* Per-discipline numbers never show a group smaller than ``min_discipline_size``
  (see :func:`discipline_breakdown`).
* Stories arrive already consent-filtered and redacted; this module never sees a story
  that may not leave the community, only the *count* of those kept.
* Names appear only in the acknowledgement and check-in lists, which go to facilitators
  and the sponsor only. Who joined or left is never named, only counted: membership of a
  patients' or carers' group is health information.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from bot.domain.timeparse import validate_timezone
from bot.errors import InvalidInput
from bot.text import echo

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
OTHER_DISCIPLINE = "other"
#: Relative changes smaller than this (in percent) are reported as "flat".
FLAT_THRESHOLD_PERCENT = 5.0
#: How many weeks the activity chart shows (this one included).
CHART_WEEKS = 12


# --------------------------------------------------------------------------- periods


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


def _zone(tz: tzinfo | str) -> tzinfo:
    if isinstance(tz, str):
        # the shared validator bounds what it echoes and refuses names ZoneInfo cannot even
        # look up (a 6000-character option used to raise OSError "File name too long")
        return validate_timezone(tz)
    return tz


def _require_aware(name: str, value: datetime) -> None:
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
    _require_aware("now", now)
    if not 0 <= weekday <= 6:
        raise InvalidInput("The digest weekday must be between Monday (0) and Sunday (6).")
    zone = _zone(tz)
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
    _require_aware("now", now)
    if not 0 <= weekday <= 6:
        raise InvalidInput("The digest weekday must be between Monday (0) and Sunday (6).")
    zone = _zone(tz)
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
    zone = _zone(tz)
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
    _require_aware("now", now)
    zone = _zone(tz)
    latest = period_for(now, weekday, at, zone)
    if last_sent_end is None:
        return [latest]
    _require_aware("last_sent_end", last_sent_end)
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


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class MemberActivity:
    """One member of the community and their message counts, as aggregates.

    ``hourly_counts`` maps the aware UTC start of an hour to the number of messages the
    member posted in the community's channels in that hour (content is never read). It
    needs to cover only the digest period; hours outside it are ignored. UTC hour buckets
    let late-night counts be computed in the community's timezone, DST included.

    ``last_active_before`` is the start of the latest hour *before the period* in which the
    member posted (``None`` if never): one indexed ``MAX`` per member, so spotting members
    who have gone quiet costs the same however long the community's history is.
    """

    member_id: int
    display_name: str
    discipline: str
    joined_at: datetime
    left_at: datetime | None = None
    hourly_counts: Mapping[datetime, int] = field(default_factory=dict)
    last_active_before: datetime | None = None

    def is_member_at(self, instant: datetime) -> bool:
        return self.joined_at <= instant and (self.left_at is None or self.left_at > instant)


@dataclass(frozen=True)
class WeekActivity:
    """Community-wide totals for one digest week (also one bar of the activity chart)."""

    week_start: date
    messages: int
    active_members: int


@dataclass(frozen=True)
class ShareableStory:
    """A story that may leave the community: consent-filtered and redacted upstream.

    ``credit`` is the teller's name for ``named`` consent and ``None`` for ``anonymous``.
    """

    title: str
    text: str
    stage_label: str
    credit: str | None = None


@dataclass(frozen=True)
class PollOutcome:
    question: str
    collective_statement: str
    voters: int
    eligible: int
    closed_at: datetime


@dataclass(frozen=True)
class OpenPoll:
    question: str
    voters: int
    eligible: int
    closes_at: datetime | None = None


@dataclass(frozen=True)
class UpcomingMeeting:
    title: str
    starts_at: datetime
    going: int
    maybe: int
    cant: int


@dataclass(frozen=True)
class HeldMeeting:
    title: str
    starts_at: datetime
    notes: str | None
    attended: int | None
    rsvp_going: int


@dataclass(frozen=True)
class LinkedHighlights:
    """Highlights of a community that a distilling group serves, rolled up into its digest."""

    community_name: str
    highlights: tuple[str, ...] | list[str]


@dataclass(frozen=True)
class DigestConfig:
    """Knobs for compiling a digest; defaults match ``config/hearth.toml``."""

    min_discipline_size: int = 3
    quiet_weeks: int = 3
    top_contributors: int = 3
    #: Local hours [start, end) counted as late at night; wraps past midnight when start > end.
    late_night_hours: tuple[int, int] = (22, 6)
    #: How many previous weeks the trend averages over.
    trend_weeks: int = 4

    def __post_init__(self) -> None:
        if self.min_discipline_size < 1:
            raise InvalidInput("The minimum discipline size must be at least 1.")
        if self.quiet_weeks < 1:
            raise InvalidInput("Quiet weeks must be at least 1.")
        if self.top_contributors < 0:
            raise InvalidInput("The number of top contributors cannot be negative.")
        if self.trend_weeks < 1:
            raise InvalidInput("The trend needs at least one previous week.")
        start, end = self.late_night_hours
        if not (0 <= start <= 23 and 0 <= end <= 23):
            raise InvalidInput("Late-night hours must be between 0 and 23.")

    def is_late_night(self, hour: int) -> bool:
        start, end = self.late_night_hours
        if start == end:
            return False
        if start < end:
            return start <= hour < end
        return hour >= start or hour < end


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class DisciplineCount:
    discipline: str
    active: int
    total: int


@dataclass(frozen=True)
class DisciplineBreakdown:
    """Per-discipline participation that never shows a group below the minimum size.

    ``merged`` lists the disciplines folded into "other" (a discipline name is not
    identifying; the counts are). ``hidden`` is true when the whole community is smaller
    than the minimum, so no breakdown is shown at all.
    """

    rows: tuple[DisciplineCount, ...]
    merged: tuple[str, ...]
    hidden: bool
    min_size: int


@dataclass(frozen=True)
class Trend:
    """This week against the mean of up to ``weeks`` previous weeks."""

    current: int
    baseline: float
    weeks: int
    percent: float | None  # None when the baseline is zero
    direction: Literal["up", "down", "flat"]

    @property
    def arrow(self) -> str:
        return {"up": "▲", "down": "▼", "flat": "▶"}[self.direction]

    @property
    def label(self) -> str:
        if self.percent is None:
            return f"{self.arrow} up from none (previous {self.weeks} wk avg 0)"
        sign = "+" if self.percent > 0 else ""
        return (
            f"{self.arrow} {sign}{self.percent:.0f}% vs {self.weeks}-week average"
            f" ({self.baseline:.1f})"
        )


@dataclass(frozen=True)
class Participation:
    active_members: int
    total_members: int
    messages: int
    disciplines: DisciplineBreakdown
    #: How many joined and how many left during the period: counts only, never who (being
    #: a member of a patients' or carers' group is health information).
    joined: int
    left: int
    messages_trend: Trend | None
    active_trend: Trend | None


@dataclass(frozen=True)
class Contributor:
    member_id: int
    display_name: str
    messages: int
    late_night_messages: int


@dataclass(frozen=True)
class QuietMember:
    member_id: int
    display_name: str
    weeks_quiet: int


@dataclass(frozen=True)
class Acknowledgement:
    """Names for facilitators and the sponsor only: who to thank, who to check in with."""

    top_contributors: tuple[Contributor, ...]
    late_night: tuple[Contributor, ...]
    check_ins: tuple[QuietMember, ...]


@dataclass(frozen=True)
class Digest:
    community_name: str
    period: Period
    timezone: str
    week_of: date  # the community-local date the period starts on
    late: bool
    participation: Participation
    #: ``None`` (here and below) when that source is not available in this deployment.
    stories: tuple[ShareableStory, ...] | None
    kept_story_count: int
    poll_outcomes: tuple[PollOutcome, ...] | None
    open_polls: tuple[OpenPoll, ...] | None
    upcoming_meetings: tuple[UpcomingMeeting, ...] | None
    held_meetings: tuple[HeldMeeting, ...] | None
    acknowledgement: Acknowledgement
    linked: tuple[LinkedHighlights, ...]
    #: Oldest first, this week last; at most CHART_WEEKS entries.
    weekly_activity: tuple[WeekActivity, ...]

    # A section whose source is not available (``None`` above) is left out of every
    # rendering altogether: a digest never shows placeholder text for a missing feature.
    @property
    def has_stories(self) -> bool:
        return self.stories is not None

    @property
    def has_polls(self) -> bool:
        return self.poll_outcomes is not None or self.open_polls is not None

    @property
    def has_meetings(self) -> bool:
        return self.upcoming_meetings is not None or self.held_meetings is not None

    @property
    def has_news(self) -> bool:
        """Whether anything happened in the period: messages, members joining or leaving,
        stories offered or kept, polls or statement rounds closed, meetings held, or
        highlights of a served community. Open polls, upcoming meetings and the check-in
        list describe the present, not the period, so they alone are no news (``/digest
        send`` then sends nothing rather than repeat them)."""
        p = self.participation
        return bool(
            p.messages
            or p.joined
            or p.left
            or self.stories
            or self.kept_story_count
            or self.poll_outcomes
            or self.held_meetings
            or self.linked
        )


# --------------------------------------------------------------------------- compilation


def discipline_breakdown(
    counts: Mapping[str, tuple[int, int]], min_size: int
) -> DisciplineBreakdown:
    """Group ``{discipline: (active, total)}`` so every visible row has ``total >= min_size``.

    Disciplines below the minimum are merged into "other". If "other" is then still below
    the minimum but not empty, the smallest remaining disciplines are merged into it too,
    one at a time, until it reaches the minimum. (Simply hiding an under-sized "other"
    would not protect anyone: the overall totals are shown, so its numbers could be
    recovered by subtraction.) If merging everything still leaves fewer than the minimum,
    the community itself is too small for a breakdown and none is shown.
    """
    visible = {d: c for d, c in counts.items() if c[1] > 0}
    other_active, other_total = visible.pop(OTHER_DISCIPLINE, (0, 0))
    merged: list[str] = []
    for name in sorted(visible):
        active, total = visible[name]
        if total < min_size:
            merged.append(name)
            other_active += active
            other_total += total
            del visible[name]
    while 0 < other_total < min_size and visible:
        name = min(visible, key=lambda d: (visible[d][1], d))
        active, total = visible.pop(name)
        merged.append(name)
        other_active += active
        other_total += total
    if 0 < other_total < min_size:
        return DisciplineBreakdown(rows=(), merged=tuple(merged), hidden=True, min_size=min_size)
    rows = [DisciplineCount(d, a, t) for d, (a, t) in visible.items()]
    rows.sort(key=lambda r: (-r.total, r.discipline))
    if other_total:
        rows.append(DisciplineCount(OTHER_DISCIPLINE, other_active, other_total))
    return DisciplineBreakdown(
        rows=tuple(rows), merged=tuple(sorted(merged)), hidden=False, min_size=min_size
    )


def trend(current: int, previous: Sequence[int], weeks: int = 4) -> Trend | None:
    """Compare ``current`` with the mean of the last ``weeks`` values of ``previous``.

    ``None`` when there is no earlier week: a new community has nothing to compare with,
    and saying "flat" would be invented.
    """
    window = list(previous)[-weeks:]
    if not window:
        return None
    baseline = sum(window) / len(window)
    if baseline == 0:
        direction: Literal["up", "down", "flat"] = "up" if current > 0 else "flat"
        return Trend(current, 0.0, len(window), None if current > 0 else 0.0, direction)
    percent = (current - baseline) / baseline * 100
    direction = "flat"
    if abs(percent) >= FLAT_THRESHOLD_PERCENT:
        direction = "up" if percent > 0 else "down"
    return Trend(current, baseline, len(window), percent, direction)


def _period_counts(
    member: MemberActivity, period: Period, tz: tzinfo, config: DigestConfig
) -> tuple[int, int]:
    messages = late = 0
    for hour_start, count in member.hourly_counts.items():
        _require_aware("hourly_counts key", hour_start)
        if count <= 0 or hour_start not in period:
            continue
        messages += count
        if config.is_late_night(hour_start.astimezone(tz).hour):
            late += count
    return messages, late


def compile_digest(
    community_name: str,
    period: Period,
    members: Sequence[MemberActivity],
    previous_weeks: Sequence[WeekActivity] = (),
    *,
    tz: tzinfo | str = "Europe/London",
    stories: Sequence[ShareableStory] | None = (),
    kept_story_count: int = 0,
    poll_outcomes: Sequence[PollOutcome] | None = (),
    open_polls: Sequence[OpenPoll] | None = (),
    upcoming_meetings: Sequence[UpcomingMeeting] | None = (),
    held_meetings: Sequence[HeldMeeting] | None = (),
    linked: Sequence[LinkedHighlights] = (),
    late: bool = False,
    config: DigestConfig | None = None,
) -> Digest:
    """Assemble one community's digest for one period from plain inputs.

    ``members`` is everyone who was a member at any point in the period (departed members
    are needed to report departures and count their messages). ``previous_weeks`` are the
    totals of earlier weeks, oldest first, for the trend and the chart.

    Membership numbers describe the community at the end of the period: "active" is a
    current member who posted at least once in the period; "messages" counts every
    message posted in the period, including by members who have since left. Closed polls
    and held meetings are kept only if they fall in the period, and upcoming meetings only
    if they start after it, so a caller's query may safely be a little generous.

    ``None`` for a content source (stories, polls, meetings) means the source is not
    available: the digest then has no such section at all, rather than an empty one.
    """
    cfg = config or DigestConfig()
    zone = _zone(tz)
    tz_name = getattr(zone, "key", None) or str(zone)
    if kept_story_count < 0:
        raise ValueError("kept_story_count cannot be negative")

    current: list[MemberActivity] = []
    per_member: dict[int, tuple[int, int]] = {}
    total_messages = 0
    for m in members:
        msgs, late_msgs = _period_counts(m, period, zone, cfg)
        per_member[m.member_id] = (msgs, late_msgs)
        total_messages += msgs
        if m.is_member_at(period.end):
            current.append(m)

    by_discipline: dict[str, tuple[int, int]] = {}
    active = 0
    for m in current:
        is_active = per_member[m.member_id][0] > 0
        active += is_active
        a, t = by_discipline.get(m.discipline, (0, 0))
        by_discipline[m.discipline] = (a + is_active, t + 1)

    joined = sum(1 for m in members if m.joined_at in period)
    left = sum(1 for m in members if m.left_at is not None and m.left_at in period)
    previous = list(previous_weeks)
    participation = Participation(
        active_members=active,
        total_members=len(current),
        messages=total_messages,
        disciplines=discipline_breakdown(by_discipline, cfg.min_discipline_size),
        joined=joined,
        left=left,
        messages_trend=trend(total_messages, [w.messages for w in previous], cfg.trend_weeks),
        active_trend=trend(active, [w.active_members for w in previous], cfg.trend_weeks),
    )

    contributors = [
        Contributor(m.member_id, m.display_name, *per_member[m.member_id])
        for m in members
        if per_member[m.member_id][0] > 0
    ]
    top = sorted(contributors, key=lambda c: (-c.messages, c.display_name.casefold()))
    night = sorted(
        (c for c in contributors if c.late_night_messages > 0),
        key=lambda c: (-c.late_night_messages, c.display_name.casefold()),
    )
    acknowledgement = Acknowledgement(
        top_contributors=tuple(top[: cfg.top_contributors]),
        late_night=tuple(night),
        check_ins=tuple(quiet_members(current, period, per_member, cfg.quiet_weeks, zone)),
    )

    week_of = period.start.astimezone(zone).date()
    this_week = WeekActivity(week_of, total_messages, active)
    history = (*previous[-(CHART_WEEKS - 1) :], this_week)

    upcoming = (
        None
        if upcoming_meetings is None
        else tuple(
            sorted(
                (u for u in upcoming_meetings if u.starts_at >= period.end),
                key=lambda u: u.starts_at,
            )
        )
    )
    far_future = datetime.max.replace(tzinfo=UTC)
    return Digest(
        community_name=community_name,
        period=period,
        timezone=tz_name,
        week_of=week_of,
        late=late,
        participation=participation,
        stories=None if stories is None else tuple(stories),
        kept_story_count=kept_story_count,
        poll_outcomes=None
        if poll_outcomes is None
        else tuple(
            sorted((p for p in poll_outcomes if p.closed_at in period), key=lambda p: p.closed_at)
        ),
        open_polls=None
        if open_polls is None
        else tuple(sorted(open_polls, key=lambda p: p.closes_at or far_future)),
        upcoming_meetings=upcoming,
        held_meetings=None
        if held_meetings is None
        else tuple(
            sorted((h for h in held_meetings if h.starts_at in period), key=lambda h: h.starts_at)
        ),
        acknowledgement=acknowledgement,
        linked=tuple(
            LinkedHighlights(lh.community_name, tuple(lh.highlights))
            for lh in linked
            if lh.highlights
        ),
        weekly_activity=history,
    )


def quiet_members(
    members: Iterable[MemberActivity],
    period: Period,
    per_member: Mapping[int, tuple[int, int]],
    quiet_weeks: int,
    tz: tzinfo = UTC,
) -> list[QuietMember]:
    """Members silent for at least ``quiet_weeks`` digest weeks who had posted before.

    Someone who has never posted is not "gone quiet" (many members read without writing,
    and that is their choice); someone who used to post and has stopped may be worth a
    friendly word. The period itself counts as one quiet week.
    """
    quiet: list[QuietMember] = []
    for m in members:
        if per_member.get(m.member_id, (0, 0))[0] > 0 or m.last_active_before is None:
            continue
        # Wall-clock difference, so a week containing a DST change still counts as a week.
        silent_since = (m.last_active_before + timedelta(hours=1)).astimezone(tz)
        end = period.end.astimezone(tz)
        weeks = int((end.replace(tzinfo=None) - silent_since.replace(tzinfo=None)) / WEEK)
        if weeks >= quiet_weeks:
            quiet.append(QuietMember(m.member_id, m.display_name, weeks))
    quiet.sort(key=lambda q: (-q.weeks_quiet, q.display_name.casefold()))
    return quiet


# --------------------------------------------------------------------------- delivery


#: A period delivered this long after its end is marked late (the bot was down).
LATE_AFTER = timedelta(hours=1)
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
    """Validate ``/digest schedule`` options, explaining what to type when they are wrong."""
    day = weekday.strip().lower()
    matches = [i for i, name in enumerate(WEEKDAY_NAMES) if len(day) >= 2 and name.startswith(day)]
    if len(matches) != 1:
        raise InvalidInput(
            f"`{echo(weekday, 40)}` is not a weekday. Use one of: {', '.join(WEEKDAY_NAMES)}."
        )
    text = at.strip().lower().replace(".", ":")
    hour = minute = -1
    try:
        if ":" in text:
            h, m = text.split(":", 1)
            hour, minute = int(h), int(m)
        elif text.isdigit() and len(text) in (3, 4):
            hour, minute = int(text[:-2]), int(text[-2:])
        elif text.isdigit():
            hour, minute = int(text), 0
    except ValueError:
        hour = -1
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise InvalidInput(f"`{echo(at, 40)}` is not a time of day. Write it as HH:MM, e.g. 09:00.")
    zone = _zone(timezone.strip())
    return DigestSchedule(matches[0], time(hour, minute), getattr(zone, "key", timezone.strip()))


def is_late(period: Period, now: datetime) -> bool:
    return now - period.end > LATE_AFTER


def retry_at(attempts: int, backoff_seconds: Sequence[int], now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed tries; ``None`` once backoff is used up."""
    if attempts < 1 or attempts > len(backoff_seconds):
        return None
    return now + timedelta(seconds=backoff_seconds[attempts - 1])


def previous_periods(period: Period, at: time, tz: tzinfo | str, count: int) -> list[Period]:
    """The ``count`` digest weeks before ``period``, oldest first (for trend and chart)."""
    zone = _zone(tz)
    out: list[Period] = []
    current = period
    for _ in range(count):
        current = _previous(current, at, zone)
        out.append(current)
    out.reverse()
    return out


def week_of(period: Period, tz: tzinfo | str) -> date:
    return period.start.astimezone(_zone(tz)).date()
