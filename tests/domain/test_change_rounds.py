"""Significant-change rounds: the tally (ties, too few choices), inputs, and audiences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.change import (
    ChangeStory,
    Choice,
    DomainResult,
    RoundOutcome,
    check_deadlines,
    parse_domains,
    parse_period,
    tally,
    tally_domain,
    validate_change_story,
    validate_reason,
    view_for,
)
from bot.domain.stories.consent import Consent
from bot.errors import InvalidInput

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def c(selector: int, story: int, domain: int = 0, reason: str = "because") -> Choice:
    return Choice(domain, selector, story, reason)


def test_most_choices_wins_with_its_reasons_only() -> None:
    out = tally_domain(0, "Care", [1, 2, 3], [c(10, 1, reason="a"), c(11, 1, reason="b"),
                                               c(12, 2, reason="x")], 2)  # fmt: skip
    assert out.result is DomainResult.SELECTED
    assert out.selected == (1,) and out.votes == {1: 2} and out.choices == 3
    assert out.reasons == {1: ("a", "b")}


def test_a_tie_selects_every_tied_story_with_all_their_reasons() -> None:
    picks = [c(10, 2, reason="p"), c(11, 1, reason="q"), c(12, 3, reason="r"), c(13, 1), c(14, 2)]
    out = tally_domain(0, "Care", [1, 2, 3], picks, 2)
    assert out.result is DomainResult.TIED
    assert out.selected == (1, 2)
    assert out.reasons == {1: ("q", "because"), 2: ("p", "because")}


def test_too_few_choices_select_nothing() -> None:
    out = tally_domain(0, "Care", [1, 2], [c(10, 1)], 2)
    assert out.result is DomainResult.TOO_FEW and out.selected == () and out.reasons == {}
    assert tally_domain(0, "Care", [1, 2], [c(10, 1)], 1).result is DomainResult.SELECTED


def test_no_stories_and_choices_for_withdrawn_stories_do_not_count() -> None:
    assert tally_domain(0, "Care", [], [], 2).result is DomainResult.NO_STORIES
    out = tally_domain(0, "Care", [2], [c(10, 1), c(11, 1), c(12, 2)], 2)
    assert out.result is DomainResult.TOO_FEW and out.choices == 1


def test_tally_per_domain_and_the_outcome_round_trips_without_selectors() -> None:
    out = tally(["A", "B"], {0: [1], 1: [2, 3]},
                [c(10, 1), c(11, 1), c(10, 2, 1), c(11, 3, 1)], 2)  # fmt: skip
    assert [d.result for d in out.domains] == [DomainResult.SELECTED, DomainResult.TIED]
    assert out.selectors == 2 and out.selected_ids() == {1, 2, 3}
    raw = out.dumps()
    assert "10" not in raw.replace('"domain": 0', "")  # selector ids are never frozen
    assert RoundOutcome.loads(raw) == out


def test_domains_default_and_limits() -> None:
    assert parse_domains(None, ["A", "B"]) == ("A", "B")
    assert parse_domains(" Care ;; Practice ", ["A"]) == ("Care", "Practice")
    with pytest.raises(InvalidInput, match="at most 10"):
        parse_domains(";".join(str(i) for i in range(11)), [])
    with pytest.raises(InvalidInput, match="80 or fewer"):
        parse_domains("x" * 81, [])
    with pytest.raises(InvalidInput, match="twice"):
        parse_domains("Care; CARE", [])


def test_period_forms() -> None:
    start, end = parse_period(None, LONDON, NOW)
    assert end == NOW and start == datetime(2026, 7, 11, 9, 0, tzinfo=UTC)
    start, _ = parse_period("1 year", LONDON, NOW)
    assert start.year == 2026 and start.month == 1
    assert parse_period("8 weeks", LONDON, NOW)[0] == NOW - timedelta(weeks=8)
    start, end = parse_period("2026-06-01 to 2026-11-30", LONDON, NOW)
    assert start == datetime(2026, 5, 31, 23, 0, tzinfo=UTC)  # BST midnight
    assert end == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    for bad in ("banana", "2026-11-30 to 2026-06-01", "2026-02-30 to 2026-03-01",
                "2027-06-01 to 2027-07-01", "10 years"):  # fmt: skip
        with pytest.raises(InvalidInput):
            parse_period(bad, LONDON, NOW)


def test_deadlines() -> None:
    check_deadlines(NOW, NOW + timedelta(days=14), NOW + timedelta(days=21))
    with pytest.raises(InvalidInput, match="past"):
        check_deadlines(NOW, NOW - timedelta(hours=1), NOW + timedelta(days=1))
    with pytest.raises(InvalidInput, match="after the collection"):
        check_deadlines(NOW, NOW + timedelta(days=3), NOW + timedelta(days=2))


def test_story_and_reason_validation() -> None:
    title, changed, why = validate_change_story("We talk\r\nnow", "It matters", "")
    assert (title, changed, why) == ("We talk now", "We talk\nnow", "It matters")
    with pytest.raises(InvalidInput, match="why it is significant"):
        validate_change_story("Something", "  ", "t")
    with pytest.raises(InvalidInput, match="2400 or fewer"):
        validate_change_story("x" * 2401, "y", "")
    with pytest.raises(InvalidInput):
        validate_reason(" ")


def story(consent: Consent, changed: str = "Call 07700 900123 now") -> ChangeStory:
    return ChangeStory(1, 1, 1, 0, 42, "Title", changed, "Why", consent, NOW)


def test_audiences() -> None:
    inside = view_for(story(Consent.GROUP), "Ann", outside=False)
    assert inside is not None and inside.teller_name is None and "07700" in inside.changed
    assert view_for(story(Consent.GROUP), "Ann", outside=True) is None
    assert view_for(story(Consent.WITHDRAWN, ""), "Ann", outside=False) is None
    anon = view_for(story(Consent.ANONYMOUS), "Ann", outside=True)
    assert anon is not None and anon.teller_name is None and "07700" not in anon.changed
    assert anon.number is None
    named = view_for(story(Consent.NAMED), "Ann", outside=True)
    assert named is not None and named.teller_name == "Ann"
