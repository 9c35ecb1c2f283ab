"""Issue 12's numbers in the pure digest: one rounding rule, cut hours counted once, late
meeting notes, and a preview of a period still running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.digest import (
    Finding,
    HeldMeeting,
    MemberActivity,
    Period,
    PollOutcome,
    UpcomingMeeting,
    compile_digest,
    counted_hours,
    trend,
)
from bot.domain.digest_render import render_embeds, render_html, render_text
from bot.domain.digest_words import trend_sentence
from bot.text import percent

WEEK = Period(datetime(2027, 1, 11, 9, tzinfo=UTC), datetime(2027, 1, 18, 9, tzinfo=UTC))


def alice(hours: dict[datetime, int]) -> MemberActivity:
    return MemberActivity(1, "Alice", "carer", datetime(2026, 1, 1, tzinfo=UTC),
                          hourly_counts=hours)  # fmt: skip


def test_five_of_eight_reads_as_a_count_and_a_percent_rounds_half_up() -> None:
    assert percent(5, 8) == 63  # what the poll shows in Discord
    outcome = PollOutcome("The meeting should move.", "We agreed to move it.", 5, 8,
                          WEEK.start + timedelta(days=1),
                          findings=(Finding("agree", count=5, of=8),))  # fmt: skip
    digest = compile_digest("Carers", WEEK, [], poll_outcomes=[outcome])
    # The sponsor reads a share of the group as a count, in every format ...
    for text in (render_html(digest), render_text(digest), str(render_embeds(digest))):
        assert "5 of 8 members agree that the meeting should move." in text
        assert "62%" not in text
    # ... and where a percentage is shown (a trend), it rounds half up like the poll.
    assert trend_sentence(trend(5, [8, 8]), "messages") == (
        "That is 38% fewer messages than in an average recent week."
    )


def test_trend_percent_rounds_half_up() -> None:
    # 5 against a mean of 8 is -37.5%: shown as -38%, never -37% (round half to even).
    got = trend(5, [8, 8])
    assert got is not None and got.label.startswith("▼ -38%")
    up = trend(11, [8])  # +37.5%
    assert up is not None and up.label.startswith("▲ +38%")


def test_an_hour_cut_by_a_period_is_counted_once() -> None:
    cut = Period(datetime(2027, 1, 11, 9, 10, tzinfo=UTC), datetime(2027, 1, 11, 9, 30, tzinfo=UTC))
    hour = datetime(2027, 1, 11, 9, tzinfo=UTC)
    # The community began at 09:10: its first period counts the 09:00 hour ...
    opening = compile_digest("Carers", cut, [alice({hour: 3})], opening=True)
    assert opening.participation.messages == 3 and opening.participation.active_members == 1
    # ... a period ending at 09:30 (now) counts the hour in progress ...
    ends_now = Period(datetime(2027, 1, 11, 8, tzinfo=UTC), cut.end)
    assert compile_digest("Carers", ends_now, [alice({hour: 3})]).participation.messages == 3
    # ... and the next period, starting at 09:30, does not count it again.
    after = Period(cut.end, datetime(2027, 1, 18, 9, tzinfo=UTC))
    assert compile_digest("Carers", after, [alice({hour: 3})]).participation.messages == 0
    assert counted_hours(after) == (after.start, after.end)
    assert counted_hours(cut, opening=True)[0] == hour


def test_late_meeting_notes_reach_the_digest_of_the_week_they_arrive() -> None:
    before = WEEK.start - timedelta(days=3)
    late = HeldMeeting("Winter gathering", before, "We agreed X.", 5, 6,
                       notes_at=WEEK.start + timedelta(days=1))  # fmt: skip
    no_notes = HeldMeeting("Older", before, None, None, 2)
    digest = compile_digest("Carers", WEEK, [], held_meetings=[late, no_notes])
    assert digest.held_meetings == (late,)
    # the week it was held, before the notes existed, it was already reported once
    earlier = Period(WEEK.start - timedelta(days=7), WEEK.start)
    held = HeldMeeting("Winter gathering", before, None, 5, 6)
    assert compile_digest("Carers", earlier, [], held_meetings=[held]).held_meetings == (held,)


def test_a_preview_of_a_running_period_shows_what_is_known_now() -> None:
    now = WEEK.start + timedelta(days=2)
    soon = UpcomingMeeting("Tomorrow", now + timedelta(days=1), 1, 0, 0)
    not_yet = HeldMeeting("Tomorrow", now + timedelta(days=1), None, None, 1)
    digest = compile_digest("Carers", WEEK, [], held_meetings=[not_yet],
                            upcoming_meetings=[soon], as_of=now)  # fmt: skip
    assert digest.held_meetings == () and digest.upcoming_meetings == (soon,)
