"""Compiling one community's digest for one period from plain inputs (no I/O).

Privacy rules encoded here, so no caller can forget them: per-discipline numbers never
show a group smaller than ``min_discipline_size`` (:func:`discipline_breakdown`); names
appear only in the acknowledgement and check-in lists; joiners and leavers are counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

from bot.domain.digest.model import (
    CHART_WEEKS,
    Acknowledgement,
    Contributor,
    Digest,
    DigestConfig,
    DisciplineBreakdown,
    DisciplineCount,
    HeldMeeting,
    LinkedHighlights,
    MemberActivity,
    OpenPoll,
    Participation,
    PollOutcome,
    ProductNews,
    QuietMember,
    ShareableStory,
    SignificantChange,
    Trend,
    UpcomingMeeting,
    WeekActivity,
)
from bot.domain.digest.periods import WEEK, Period, counted_hours, require_aware, zone_of
from bot.text import percent

OTHER_DISCIPLINE = "other"
#: Relative changes smaller than this (in percent) are reported as "flat".
FLAT_THRESHOLD_PERCENT = 5.0


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
        shown = None if current > 0 else 0
        return Trend(current, 0.0, len(window), None if current > 0 else 0.0, direction, shown)
    change = (current - baseline) / baseline * 100
    direction = "flat"
    if abs(change) >= FLAT_THRESHOLD_PERCENT:
        direction = "up" if change > 0 else "down"
    # exact: (current - mean) / mean = (current * n - total) / total
    total = sum(window)
    shown = percent(current * len(window) - total, total)
    return Trend(current, baseline, len(window), change, direction, shown)


def _period_counts(
    member: MemberActivity,
    hours: tuple[datetime, datetime],
    tz: tzinfo,
    config: DigestConfig,
) -> tuple[int, int]:
    first, end = hours
    messages = late = 0
    for hour_start, count in member.hourly_counts.items():
        require_aware("hourly_counts key", hour_start)
        if count <= 0 or not first <= hour_start < end:
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
    opening: bool = False,
    as_of: datetime | None = None,
    guild_id: int | None = None,
    products: Sequence[ProductNews] | None = None,
    changes: Sequence[SignificantChange] | None = None,
) -> Digest:
    """Assemble one community's digest for one period from plain inputs.

    ``members`` is everyone who was a member at any point in the period (departed members
    are needed to report departures and count their messages). ``previous_weeks`` are the
    totals of earlier weeks, oldest first, for the trend and the chart.

    Membership numbers describe the community at the end of the period: "active" is a
    current member who posted at least once in the period; "messages" counts every
    message posted in the period, including by members who have since left, counted by the
    hours :func:`~bot.domain.digest.periods.counted_hours` gives (``opening``: the period
    starts where the community began). Closed polls are kept only if they fall in the
    period; a held meeting if it started in the period, or if its notes arrived in the
    period after an earlier week's digest (so late notes still reach the sponsor);
    upcoming meetings only if they start after it. A caller's query may safely be a
    little generous.

    ``as_of`` is the instant the data describes when it is before ``period.end`` (a
    preview of the period still running): meetings then count as held only if they have
    started by ``as_of``, and as upcoming from ``as_of``.

    ``None`` for a content source (stories, polls, meetings) means the source is not
    available: the digest then has no such section at all, rather than an empty one.
    """
    cfg = config or DigestConfig()
    zone = zone_of(tz)
    tz_name = getattr(zone, "key", None) or str(zone)
    if kept_story_count < 0:
        raise ValueError("kept_story_count cannot be negative")

    hours = counted_hours(period, opening=opening)
    cut = period.end if as_of is None else max(period.start, min(as_of, period.end))
    current: list[MemberActivity] = []
    per_member: dict[int, tuple[int, int]] = {}
    total_messages = 0
    for m in members:
        msgs, late_msgs = _period_counts(m, hours, zone, cfg)
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
                (u for u in upcoming_meetings if u.starts_at >= cut),
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
            sorted(
                (h for h in held_meetings if _held_in(h, period, cut)), key=lambda h: h.starts_at
            )
        ),
        acknowledgement=acknowledgement,
        linked=tuple(
            LinkedHighlights(lh.community_name, tuple(lh.highlights))
            for lh in linked
            if lh.highlights
        ),
        weekly_activity=history,
        guild_id=guild_id,
        products=None if products is None else tuple(products),
        changes=None if changes is None else tuple(changes),
    )


def _held_in(meeting: HeldMeeting, period: Period, cut: datetime) -> bool:
    """Held in the period, or held before it with its notes written in it."""
    if period.start <= meeting.starts_at < cut:
        return True
    notes_at = meeting.notes_at
    return (
        meeting.starts_at < period.start
        and notes_at is not None
        and bool(meeting.notes)
        and period.start <= notes_at < cut
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
