"""Reading what a digest needs beyond its sections' sources: members and their message
counts, the weeks before (trend and chart), and a served community's highlights.

Part of :class:`bot.services.digests.DigestService.compile`, kept apart so each file does
one job. Bounded and indexed: hourly counts only for the period, one ``MAX`` per silent
member for the check-in list, weekly totals only for the weeks the chart shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from bot.db.activity import ActivityRepo
from bot.db.database import Database
from bot.domain.communities import Community, Membership
from bot.domain.digest import (
    CHART_WEEKS,
    LinkedHighlights,
    MemberActivity,
    Period,
    WeekActivity,
    counted_hours,
    previous_periods,
    quiet_members,
    week_of,
)
from bot.domain.digest_words import headline
from bot.services.digest_sources import DigestSources, NameLookup

if TYPE_CHECKING:
    from bot.services.communities import CommunityService


async def read_members(
    communities: CommunityService,
    activity: ActivityRepo,
    community: Community,
    period: Period,
    names: NameLookup,
    quiet_weeks: int,
) -> list[MemberActivity]:
    """Everyone who was a member during the period, with their hourly counts; named only
    if the digest may name them (they posted, or have gone quiet): who joined or left is
    counted, never named, so never looked up."""
    memberships = [
        m
        for m in await communities.members(community.id, active_only=False)
        if m.joined_at < period.end and (m.left_at is None or m.left_at >= period.start)
    ]
    first, _ = counted_hours(period, opening=period.start <= community.created_at)
    hourly: dict[int, dict[datetime, int]] = defaultdict(dict)
    for hc in await activity.hourly_counts(community.id, first, period.end):
        hourly[hc.user_id][hc.hour_start] = hc.messages
    silent = [m.user_id for m in memberships if m.left_at is None and m.user_id not in hourly]
    last_active = await activity.last_active_before(community.id, silent, first)
    members = [_activity(m, "", hourly, last_active) for m in memberships]
    quiet = {
        q.member_id
        for q in quiet_members(
            [m for m in members if m.is_member_at(period.end)], period, {}, quiet_weeks
        )
    }
    needed = set(hourly) | quiet
    named: list[MemberActivity] = []
    for m in memberships:
        name = ""
        if m.user_id in needed:
            name = await names(m.user_id) or "a former member"
        named.append(_activity(m, name, hourly, last_active))
    return named


async def previous_weeks(
    activity: ActivityRepo, community: Community, period: Period, at: time, tz: str
) -> list[WeekActivity]:
    # Only weeks the community existed in: zeros from before it was created would make
    # every new community's first digest read "up from none" against invented weeks.
    earlier = [
        p
        for p in previous_periods(period, at, tz, CHART_WEEKS - 1)
        if p.end > community.created_at
    ]
    totals = await activity.weekly_totals(community.id, [(p.start, p.end) for p in earlier])
    return [
        WeekActivity(week_of(p, tz), msgs, active)
        for p, (msgs, active) in zip(earlier, totals, strict=True)
    ]


async def linked_highlights(
    db: Database,
    communities: CommunityService,
    src: DigestSources,
    community: Community,
    period: Period,
    offer: dict[str, Any],
) -> list[LinkedHighlights]:
    """A distilling group's digest rolls up the highlights of the community it serves.

    Only what may leave that community: consent-filtered story titles (through the
    stories capability's exit function) and what its votes found, never names, and no
    links (this digest's sponsor need not be able to read the served community).
    """
    if community.serves_id is None:
        return []
    served = await communities.get(community.serves_id)
    if served is None:
        return []

    async def no_names(_: int) -> str | None:
        return None

    highlights: list[str] = []
    if src.stories is not None:
        shared, _ = await src.stories(
            db, served.id, period.start, period.end, no_names,
            recipient_id=community.id, since=community.created_at, **offer,
        )  # fmt: skip
        highlights += [f"A story: {s.title} ({s.stage_label})." for s in shared]
    if src.poll_outcomes is not None:
        for po in await src.poll_outcomes(db, served.id, period.start, period.end):
            if line := headline(po):
                highlights.append(line)
    return [LinkedHighlights(served.name, highlights)]


def _activity(
    m: Membership,
    name: str,
    hourly: Mapping[int, dict[datetime, int]],
    last_active: Mapping[int, datetime],
) -> MemberActivity:
    return MemberActivity(
        member_id=m.user_id,
        display_name=name,
        discipline=m.discipline.value,
        joined_at=m.joined_at,
        left_at=m.left_at,
        hourly_counts=hourly.get(m.user_id, {}),
        last_active_before=last_active.get(m.user_id),
    )
