"""The value-creation story template, its checks, what may leave, and the invitation
calendar (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.stories.consent import Consent
from bot.domain.value.invitations import (
    GRACE,
    InvitationCadence,
    InvitationSchedule,
    InvitationTiming,
    catch_up_invitation,
    next_invitation,
    parse_invitation_cadence,
)
from bot.domain.value.stories import (
    CYCLES,
    QUESTIONS,
    ValueStoryRecord,
    ValueStoryText,
    redaction_preview,
    shareable_value_view,
    validate_value_story,
)
from bot.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
SNOWFLAKE = 555_000_000_000_000_001


def _record(consent: Consent, text: ValueStoryText | None = None) -> ValueStoryRecord:
    return ValueStoryRecord(
        id=4,
        community_id=2,
        teller_id=SNOWFLAKE,
        consent=consent,
        text=text or ValueStoryText("The call.", "A contact.", None, "Mum came home.", None),
        created_at=T0,
    )


# --------------------------------------------------------------------------- template


def test_the_form_fits_discord_and_follows_the_five_cycles() -> None:
    assert len(QUESTIONS) == 5  # a modal takes five inputs
    assert tuple(q.cycle for q in QUESTIONS) == CYCLES
    assert [q.required for q in QUESTIONS] == [True, True, False, False, False]
    for q in QUESTIONS:
        assert 1 <= len(q.label) <= 45 and len(q.placeholder) <= 100
        assert len(q.heading) <= 256 and q.limit <= 1024  # one embed field each
    assert sum(q.limit for q in QUESTIONS) + 500 < 6000  # one embed in all


def test_validation_cleans_and_keeps_only_answered_cycles() -> None:
    text = validate_value_story(
        {
            "immediate": "  The Tuesday call\u200b \r\n",
            "potential": "An idea",
            "applied": "   ",
            "realized": None,
            "reframing": "That carers know things.",
        }
    )
    assert text.immediate == "The Tuesday call"
    assert text.applied is None and text.realized is None
    assert text.filled == ("immediate", "potential", "reframing")


@pytest.mark.parametrize("missing", ["immediate", "potential"])
def test_the_first_two_answers_are_required(missing: str) -> None:
    answers = {"immediate": "x", "potential": "y", missing: " \n\t "}
    with pytest.raises(InvalidInput) as err:
        validate_value_story(answers)
    assert (
        "Please answer" in err.value.user_message and "Nothing was saved" in err.value.user_message
    )


def test_too_long_answers_are_refused_with_the_numbers() -> None:
    with pytest.raises(InvalidInput) as err:
        validate_value_story({"immediate": "x", "potential": "y", "realized": "z" * 1003})
    assert "1003 characters long; the limit is 1000" in err.value.user_message
    assert "shorten it by 3" in err.value.user_message


# --------------------------------------------------------------------------- the exit


@pytest.mark.parametrize("consent", [Consent.GROUP, Consent.WITHDRAWN])
def test_group_and_withdrawn_never_leave(consent: Consent) -> None:
    assert shareable_value_view(_record(consent), teller_display_name="Alice") is None


def test_anonymous_leaves_without_name_or_ids_and_redacted() -> None:
    text = ValueStoryText(
        f"The call with <@{SNOWFLAKE}> on 3 March 2027.",
        "Her number, 07700 900123, and her e-mail jo@example.org.",
        reframing=f"See https://discord.com/channels/1/2/{SNOWFLAKE}",
    )
    shared = shareable_value_view(_record(Consent.ANONYMOUS, text), teller_display_name="Alice")
    assert shared is not None
    assert shared.teller_name is None and shared.cycles == ("immediate", "potential", "reframing")
    dump = repr(shared)
    for secret in (str(SNOWFLAKE), "07700 900123", "jo@example.org", "3 March 2027", "Alice"):
        assert secret not in dump
    assert shared.redaction_count >= 5


def test_named_leaves_with_the_redacted_display_name() -> None:
    shared = shareable_value_view(_record(Consent.NAMED), teller_display_name="Alice")
    assert shared is not None and shared.teller_name == "Alice"
    assert shared.texts == {
        "immediate": "The call.",
        "potential": "A contact.",
        "realized": "Mum came home.",
    }
    unnamed = shareable_value_view(_record(Consent.NAMED), teller_display_name=str(SNOWFLAKE))
    assert unnamed is not None and unnamed.teller_name is None


def test_the_preview_counts_what_would_be_hidden() -> None:
    text = ValueStoryText(f"Thanks <@{SNOWFLAKE}>", "Call 07700 900123 or 07700 900456.")
    preview = redaction_preview(text)
    assert preview.counts.get("phone") == 2 and preview.counts.get("discord") == 1
    assert redaction_preview(ValueStoryText("A call.", "An idea.")).total == 0


# --------------------------------------------------------------------------- invitations


def test_monthly_is_the_first_tuesday_at_ten_local() -> None:
    due = next_invitation(InvitationCadence.MONTHLY, LONDON, T0)
    assert due == datetime(2027, 2, 2, 10, tzinfo=UTC)
    after = next_invitation(InvitationCadence.MONTHLY, LONDON, due)
    assert after == datetime(2027, 3, 2, 10, tzinfo=UTC)


def test_quarterly_keeps_the_wall_clock_across_summer_time() -> None:
    due = next_invitation(InvitationCadence.QUARTERLY, LONDON, T0)
    assert due == datetime(2027, 4, 6, 9, tzinfo=UTC)  # 10:00 BST
    assert due is not None and due.astimezone(LONDON).hour == 10
    assert next_invitation(InvitationCadence.QUARTERLY, LONDON, due) == datetime(
        2027, 7, 6, 9, tzinfo=UTC
    )
    assert next_invitation(InvitationCadence.OFF, LONDON, T0) is None


def test_catch_up_posts_only_the_latest_recent_miss() -> None:
    apr = datetime(2027, 4, 6, 9, tzinfo=UTC)
    q = InvitationCadence.QUARTERLY
    assert catch_up_invitation(q, LONDON, since=T0, now=apr + timedelta(days=2)) == apr
    late = apr + GRACE + timedelta(hours=1)
    assert catch_up_invitation(q, LONDON, since=T0, now=late) is None
    longer = InvitationTiming(grace=GRACE + timedelta(days=1))
    assert catch_up_invitation(q, LONDON, since=T0, now=late, timing=longer) == apr
    assert catch_up_invitation(q, LONDON, since=apr, now=apr + timedelta(days=2)) is None
    m = InvitationCadence.MONTHLY
    # down for two months: only the latest (March) is posted, never a burst
    assert catch_up_invitation(m, LONDON, since=T0, now=datetime(2027, 3, 3, tzinfo=UTC)) == (
        datetime(2027, 3, 2, 10, tzinfo=UTC)
    )
    schedule = InvitationSchedule(1, q, T0, last_due_at=apr)
    assert schedule.catch_up(apr + timedelta(days=1), LONDON) is None


def test_the_day_and_time_are_configurable() -> None:
    friday_two = InvitationTiming(weekday=4, at=time(14, 0))
    due = next_invitation(InvitationCadence.MONTHLY, LONDON, T0, friday_two)
    assert due == datetime(2027, 2, 5, 14, tzinfo=UTC)


def test_cadence_words_are_checked() -> None:
    assert parse_invitation_cadence(" Quarterly ") is InvitationCadence.QUARTERLY
    with pytest.raises(InvalidInput):
        parse_invitation_cadence("weekly")
