from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.digest import (
    CHART_WEEKS,
    DigestConfig,
    HeldMeeting,
    LinkedHighlights,
    MemberActivity,
    OpenPoll,
    Period,
    PollOutcome,
    UpcomingMeeting,
    WeekActivity,
    compile_digest,
    discipline_breakdown,
    due_periods,
    period_for,
    trend,
)
from bot.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
MONDAY = 0
NINE = time(9, 0)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --------------------------------------------------------------------------- periods


def test_period_for_ends_at_latest_due_time() -> None:
    # Wednesday 14 May 2025; Monday 09:00 BST = 08:00 UTC.
    p = period_for(utc(2025, 5, 14, 12), MONDAY, NINE, "Europe/London")
    assert p == Period(utc(2025, 5, 5, 8), utc(2025, 5, 12, 8))


def test_period_for_at_and_just_before_due_time() -> None:
    due = utc(2025, 5, 12, 8)
    assert period_for(due, MONDAY, NINE, LONDON).end == due
    assert period_for(due - timedelta(seconds=1), MONDAY, NINE, LONDON).end == utc(2025, 5, 5, 8)


def test_period_spanning_spring_forward_is_167_hours_local_nine_to_nine() -> None:
    # Clocks go forward in London on Sunday 30 March 2025.
    p = period_for(utc(2025, 3, 31, 12), MONDAY, NINE, LONDON)
    assert p.start == utc(2025, 3, 24, 9)  # 09:00 GMT
    assert p.end == utc(2025, 3, 31, 8)  # 09:00 BST
    assert p.end - p.start == timedelta(hours=167)
    assert p.start.astimezone(LONDON).time() == NINE == p.end.astimezone(LONDON).time()


def test_period_spanning_fall_back_is_169_hours() -> None:
    # Clocks go back in London on Sunday 26 October 2025.
    p = period_for(utc(2025, 10, 28), MONDAY, NINE, LONDON)
    assert p.start == utc(2025, 10, 20, 8)
    assert p.end == utc(2025, 10, 27, 9)
    assert p.end - p.start == timedelta(hours=169)


def test_due_time_in_the_spring_gap_resolves_once() -> None:
    # Sunday 01:30 does not exist in London on 30 March 2025.
    p = period_for(utc(2025, 3, 30, 12), 6, time(1, 30), LONDON)
    assert p.end == utc(2025, 3, 30, 1, 30)
    assert p.start == utc(2025, 3, 23, 1, 30)


def test_period_for_other_timezone() -> None:
    # Friday 17:00 in New York (EDT, UTC-4) in June.
    p = period_for(utc(2025, 6, 21), 4, time(17), "America/New_York")
    assert p == Period(utc(2025, 6, 13, 21), utc(2025, 6, 20, 21))


def test_period_for_rejects_bad_input() -> None:
    with pytest.raises(InvalidInput):
        period_for(utc(2025, 1, 1), 7, NINE, LONDON)
    with pytest.raises(InvalidInput):
        period_for(utc(2025, 1, 1), 0, NINE, "Mars/Olympus")
    with pytest.raises(ValueError):
        period_for(datetime(2025, 1, 1), 0, NINE, LONDON)


def test_due_periods_after_three_weeks_down_across_dst() -> None:
    # Last digest covered the week ending Monday 17 March (09:00 GMT); the bot was down until
    # Tuesday 8 April, missing 24 March, 31 March (over the DST change) and 7 April.
    last_end = utc(2025, 3, 17, 9)
    periods = due_periods(last_end, utc(2025, 4, 8, 10), MONDAY, NINE, LONDON)
    assert [p.end for p in periods] == [
        utc(2025, 3, 24, 9),
        utc(2025, 3, 31, 8),
        utc(2025, 4, 7, 8),
    ]
    assert periods[0].start == last_end
    for a, b in pairwise(periods):
        assert a.end == b.start
    assert periods[-1] == period_for(utc(2025, 4, 8, 10), MONDAY, NINE, LONDON)


def test_due_periods_nothing_due_and_first_ever() -> None:
    now = utc(2025, 5, 14, 12)
    latest = period_for(now, MONDAY, NINE, LONDON)
    assert due_periods(latest.end, now, MONDAY, NINE, LONDON) == []
    assert due_periods(None, now, MONDAY, NINE, LONDON) == [latest]


def test_due_periods_after_schedule_change_neither_overlaps_nor_gaps() -> None:
    # Previously sent up to Monday 5 May 08:00 UTC; schedule moved to Thursday 18:00.
    last_end = utc(2025, 5, 5, 8)
    periods = due_periods(last_end, utc(2025, 5, 16), 3, time(18), LONDON)
    assert periods[0].start == last_end
    assert periods[0].end == utc(2025, 5, 8, 17)
    assert periods[1] == Period(utc(2025, 5, 8, 17), utc(2025, 5, 15, 17))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=24 * 30), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=6),
)
def test_catch_up_sends_every_period_exactly_once(gaps: list[int], weekday: int) -> None:
    """Whenever the bot wakes up, sending what is due leaves a seamless, duplicate-free run."""
    now = utc(2025, 1, 1)
    sent: list[Period] = []
    last_end: datetime | None = None
    for hours in gaps:
        now += timedelta(hours=hours)
        due = due_periods(last_end, now, weekday, NINE, LONDON)
        sent.extend(due)
        if due:
            last_end = due[-1].end
    assert len(set(sent)) == len(sent)
    for a, b in pairwise(sent):
        assert a.end == b.start
    assert sent[-1] == period_for(now, weekday, NINE, LONDON)
    for p in sent[1:]:
        assert p.end.astimezone(LONDON).time() == NINE
        assert p.end.astimezone(LONDON).weekday() == weekday


# --------------------------------------------------------------------------- disciplines


def test_small_disciplines_merge_into_other() -> None:
    b = discipline_breakdown({"gp": (2, 5), "nurse": (1, 2), "carer": (0, 1)}, 3)
    assert [(r.discipline, r.active, r.total) for r in b.rows] == [("gp", 2, 5), ("other", 1, 3)]
    assert b.merged == ("carer", "nurse")
    assert not b.hidden


def test_undersized_other_absorbs_the_smallest_discipline() -> None:
    # "carer" alone would be an "other" of 1: its activity could be read off the totals.
    b = discipline_breakdown({"gp": (3, 10), "nurse": (4, 6), "carer": (1, 1)}, 3)
    assert [(r.discipline, r.active, r.total) for r in b.rows] == [("gp", 3, 10), ("other", 5, 7)]
    assert b.merged == ("carer", "nurse")


def test_community_below_minimum_shows_no_breakdown() -> None:
    b = discipline_breakdown({"gp": (1, 1), "nurse": (0, 1)}, 3)
    assert b.hidden and b.rows == ()


def test_no_merge_needed_keeps_every_discipline() -> None:
    b = discipline_breakdown({"gp": (3, 4), "nurse": (1, 3), "other": (2, 3)}, 3)
    assert [r.discipline for r in b.rows] == ["gp", "nurse", "other"]
    assert b.merged == ()


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["gp", "nurse", "patient", "carer", "other", "pharmacist"]),
        st.integers(min_value=0, max_value=12).flatmap(
            lambda t: st.tuples(st.integers(min_value=0, max_value=t), st.just(t))
        ),
    ),
    st.integers(min_value=1, max_value=6),
)
def test_no_visible_group_below_minimum_and_no_one_lost(
    counts: dict[str, tuple[int, int]], minimum: int
) -> None:
    b = discipline_breakdown(counts, minimum)
    total = sum(t for _, t in counts.values())
    active = sum(a for a, _ in counts.values())
    assert all(r.total >= minimum for r in b.rows)
    if b.hidden:
        assert 0 < total < minimum
    else:
        assert sum(r.total for r in b.rows) == total
        assert sum(r.active for r in b.rows) == active
        for r in b.rows:
            if r.discipline != "other":
                assert counts[r.discipline] == (r.active, r.total)


# --------------------------------------------------------------------------- compile

PERIOD = Period(utc(2025, 5, 5, 8), utc(2025, 5, 12, 8))  # Mon 09:00 BST to Mon 09:00 BST
LONG_AGO = utc(2024, 1, 1)


def member(
    mid: int,
    discipline: str = "gp",
    counts: dict[datetime, int] | None = None,
    *,
    joined: datetime = LONG_AGO,
    left: datetime | None = None,
    last_before: datetime | None = None,
    name: str | None = None,
) -> MemberActivity:
    return MemberActivity(
        member_id=mid,
        display_name=name or f"Member {mid}",
        discipline=discipline,
        joined_at=joined,
        left_at=left,
        hourly_counts=counts or {},
        last_active_before=last_before,
    )


def test_participation_counts_active_total_messages_and_changes() -> None:
    in_period = utc(2025, 5, 6, 10)
    members = [
        member(1, "gp", {in_period: 5}),
        member(2, "gp", {in_period: 1, utc(2025, 5, 12, 8): 50}),  # the 50 fall after the end
        member(3, "gp"),
        member(4, "nurse", {utc(2025, 5, 5, 7): 9}),  # before the start: not counted
        member(5, "nurse", joined=utc(2025, 5, 7), name="Newcomer"),
        member(6, "nurse", {in_period: 2}, left=utc(2025, 5, 9), name="Leaver"),
    ]
    d = compile_digest("GPs", PERIOD, members, tz=LONDON)
    p = d.participation
    assert (p.active_members, p.total_members) == (2, 5)
    assert p.messages == 8  # includes the departed member's messages in the period
    # Counted, never named: membership of a patients' or carers' group is health information.
    assert (p.joined, p.left) == (1, 1)
    assert "Newcomer" not in repr(p) and "Leaver" not in repr(p)
    # Two current nurses would make an "other" of 2, so the gps are folded in too.
    assert [(r.discipline, r.active, r.total) for r in p.disciplines.rows] == [("other", 2, 5)]
    assert p.disciplines.merged == ("gp", "nurse")


def test_late_night_uses_community_timezone_across_dst() -> None:
    summer = Period(utc(2025, 7, 7, 8), utc(2025, 7, 14, 8))
    winter = Period(utc(2025, 1, 6, 9), utc(2025, 1, 13, 9))
    # 21:00 UTC is 22:00 BST (late) but 21:00 GMT (not late);
    # 05:00 UTC is 06:00 BST (not late) but 05:00 GMT (late).
    s = compile_digest(
        "x", summer, [member(1, counts={utc(2025, 7, 8, 21): 3, utc(2025, 7, 9, 5): 4})], tz=LONDON
    )
    w = compile_digest(
        "x", winter, [member(1, counts={utc(2025, 1, 7, 21): 3, utc(2025, 1, 8, 5): 4})], tz=LONDON
    )
    assert s.acknowledgement.late_night[0].late_night_messages == 3
    assert w.acknowledgement.late_night[0].late_night_messages == 4


def test_top_contributors_limited_and_ordered_with_name_tiebreak() -> None:
    h = utc(2025, 5, 6, 12)
    members = [
        member(1, counts={h: 4}, name="Zoe"),
        member(2, counts={h: 9}, name="Bea"),
        member(3, counts={h: 4}, name="Ann"),
        member(4, counts={h: 1}, name="Cat"),
        member(5, name="Dan"),
    ]
    d = compile_digest("x", PERIOD, members, config=DigestConfig(top_contributors=3))
    assert [c.display_name for c in d.acknowledgement.top_contributors] == ["Bea", "Ann", "Zoe"]
    assert d.acknowledgement.late_night == ()


def test_check_in_lists_members_quiet_for_configured_weeks_who_posted_before() -> None:
    start = PERIOD.start
    members = [
        # Last posted in the hour ending 14 days before the period: 3 quiet weeks.
        member(1, last_before=start - timedelta(days=14, hours=1), name="Three"),
        # Posted 13 days before: only 2 quiet weeks.
        member(2, last_before=start - timedelta(days=13), name="Two"),
        member(3, name="Never posted"),
        member(4, counts={utc(2025, 5, 6): 1}, last_before=start - timedelta(days=60)),
        member(5, last_before=start - timedelta(days=70), name="Ten"),
        member(6, last_before=start - timedelta(days=70), left=utc(2025, 5, 1), name="Gone"),
    ]
    d = compile_digest("x", PERIOD, members, config=DigestConfig(quiet_weeks=3), tz=LONDON)
    assert [(q.display_name, q.weeks_quiet) for q in d.acknowledgement.check_ins] == [
        ("Ten", 11),
        ("Three", 3),
    ]


def test_quiet_weeks_count_wall_clock_weeks_across_dst() -> None:
    # Period ends Monday 31 March 09:00 BST; the member last posted in the hour from
    # Monday 10 March 08:00 GMT, i.e. silent since 09:00 local: exactly three local weeks,
    # although only 503 real hours.
    p = period_for(utc(2025, 3, 31, 12), MONDAY, NINE, LONDON)
    m = member(1, last_before=utc(2025, 3, 10, 8))
    d = compile_digest("x", p, [m], tz=LONDON, config=DigestConfig(quiet_weeks=3))
    assert [q.weeks_quiet for q in d.acknowledgement.check_ins] == [3]


def test_trend_against_average_of_previous_four_weeks() -> None:
    up = trend(60, [10, 20, 30, 40, 50], 4)
    assert up is not None
    assert up.baseline == 35 and up.weeks == 4
    assert up.percent == pytest.approx(71.43, abs=0.01)
    assert up.direction == "up" and up.arrow == "▲"
    down = trend(10, [20, 20], 4)
    assert down is not None and down.direction == "down" and down.percent == -50
    flat = trend(102, [100, 100, 100, 100])
    assert flat is not None and flat.direction == "flat"
    assert trend(5, []) is None
    from_zero = trend(5, [0, 0])
    assert from_zero is not None and from_zero.percent is None and from_zero.direction == "up"
    assert "+71%" in up.label


def test_compile_trend_history_and_chart_weeks() -> None:
    previous = [WeekActivity(date(2025, 1, 6) + timedelta(weeks=i), 10 * i, i) for i in range(15)]
    d = compile_digest("x", PERIOD, [member(1, counts={utc(2025, 5, 6): 70})], previous)
    assert len(d.weekly_activity) == CHART_WEEKS
    assert d.weekly_activity[-1] == WeekActivity(date(2025, 5, 5), 70, 1)
    assert d.weekly_activity[0] == previous[4]
    t = d.participation.messages_trend
    assert t is not None and t.baseline == (110 + 120 + 130 + 140) / 4


def test_sections_keep_only_what_belongs_to_the_period() -> None:
    inside = utc(2025, 5, 7, 18)
    before = utc(2025, 5, 1)
    after = utc(2025, 5, 20, 18)
    d = compile_digest(
        "x",
        PERIOD,
        [],
        poll_outcomes=[
            PollOutcome("old?", "...", 1, 2, before),
            PollOutcome("new?", "3 of 4 agree", 3, 4, inside),
        ],
        open_polls=[
            OpenPoll("later?", 1, 9, utc(2025, 6, 1)),
            OpenPoll("no deadline?", 2, 9, None),
            OpenPoll("sooner?", 3, 9, utc(2025, 5, 14)),
        ],
        upcoming_meetings=[
            UpcomingMeeting("second", utc(2025, 9, 1), 1, 0, 0),
            UpcomingMeeting("first", after, 5, 2, 1),
            UpcomingMeeting("already held", inside, 5, 2, 1),
        ],
        held_meetings=[
            HeldMeeting("held", inside, "notes", 7, 9),
            HeldMeeting("earlier", before, None, None, 3),
        ],
        linked=[LinkedHighlights("Big", ["a"]), LinkedHighlights("Empty", [])],
        kept_story_count=4,
        late=True,
    )
    assert [p.question for p in d.poll_outcomes] == ["new?"]
    assert [p.question for p in d.open_polls] == ["sooner?", "later?", "no deadline?"]
    assert [m.title for m in d.upcoming_meetings] == ["first", "second"]
    assert [m.title for m in d.held_meetings] == ["held"]
    assert [lh.community_name for lh in d.linked] == ["Big"]
    assert d.late and d.kept_story_count == 4
    assert d.week_of == date(2025, 5, 5)
    assert d.timezone == "Europe/London"


def test_digest_is_immutable() -> None:
    d = compile_digest("x", PERIOD, [member(1)])
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.late = True  # type: ignore[misc]


def test_config_validation() -> None:
    with pytest.raises(InvalidInput):
        DigestConfig(min_discipline_size=0)
    with pytest.raises(InvalidInput):
        DigestConfig(late_night_hours=(22, 24))
    cfg = DigestConfig(late_night_hours=(22, 6))
    assert [h for h in range(24) if cfg.is_late_night(h)] == [0, 1, 2, 3, 4, 5, 22, 23]
    assert [h for h in range(24) if DigestConfig(late_night_hours=(1, 4)).is_late_night(h)] == [
        1,
        2,
        3,
    ]


def test_next_due_after_is_strictly_later_and_keeps_local_time_across_dst() -> None:
    from bot.domain.digest import next_due_after

    london = ZoneInfo("Europe/London")
    # Monday 9:00 local; the clocks go forward on Sunday 30 March 2025.
    at_due = datetime(2025, 3, 24, 9, tzinfo=london)
    nxt = next_due_after(at_due, 0, time(9), "Europe/London")
    assert nxt.astimezone(london) == datetime(2025, 3, 31, 9, tzinfo=london)
    assert nxt - at_due == timedelta(hours=167)
    just_before = at_due - timedelta(seconds=1)
    assert next_due_after(just_before, 0, time(9), london) == at_due
    with pytest.raises(InvalidInput):
        next_due_after(at_due, 7, time(9), london)
