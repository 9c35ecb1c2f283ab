"""When a round's selectors are reminded: a day before the selection deadline, only while
selecting, and not at all when selection is shorter than that."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.domain.change import ChangeRound, RoundState

T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)


def a_round(**kw: object) -> ChangeRound:
    base = ChangeRound(
        id=1, community_id=1, selector_id=1, opened_by=1, domains=("a",),
        period_start=T0 - timedelta(days=180), period_end=T0,
        collect_until=T0 + timedelta(days=3), select_until=T0 + timedelta(days=6),
        min_choices=1, state=RoundState.SELECTING, created_at=T0,
        selection_opened_at=T0 + timedelta(days=3),
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def test_a_day_before_the_deadline() -> None:
    assert a_round().reminder_at == T0 + timedelta(days=5)


def test_only_while_selecting() -> None:
    assert a_round(state=RoundState.COLLECTING).reminder_at is None
    assert a_round(state=RoundState.CLOSED).reminder_at is None


def test_a_selection_of_a_day_or_less_has_none() -> None:
    short = a_round(select_until=T0 + timedelta(days=4))
    assert short.reminder_at is None
    # Collection closed early: selection opened sooner, so the reminder is due again.
    early = a_round(select_until=T0 + timedelta(days=4), selection_opened_at=T0)
    assert early.reminder_at == T0 + timedelta(days=3)
