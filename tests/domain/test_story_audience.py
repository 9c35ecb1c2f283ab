"""A story confined to where it was told (issue 11): the exit function and the audience rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.stories import Consent, StoryRecord, audience_channel, shareable_view

CIRCLE, OTHER_CIRCLE, LOUNGE, THREAD = 101, 102, 201, 301


def confined(consent: Consent, audience: int | None = CIRCLE) -> StoryRecord:
    return StoryRecord(
        id=7, community_id=1, teller_id=5, title="In the circle", text="Words for GPs only.",
        stage=None, consent=consent, created_at=datetime(2027, 1, 11, tzinfo=UTC),
        audience_channel_id=audience,
    )


@pytest.mark.parametrize("consent", list(Consent))
def test_a_confined_story_never_leaves_whatever_its_consent(consent: Consent) -> None:
    story = confined(consent)
    assert story.is_restricted
    assert shareable_view(story, teller_display_name="Gina") is None


def test_the_same_story_opened_to_the_community_may_leave_at_named() -> None:
    shared = shareable_view(confined(Consent.NAMED, None), teller_display_name="Gina")
    assert shared is not None and shared.teller_name == "Gina"


def test_a_tombstone_keeps_no_audience() -> None:
    assert confined(Consent.GROUP).tombstone().audience_channel_id is None


@pytest.mark.parametrize(
    ("channel", "parent", "private", "expected"),
    [
        (LOUNGE, None, False, None),          # the whole community reads the lounge
        (THREAD, LOUNGE, False, None),        # ... and its public threads
        (THREAD, LOUNGE, True, THREAD),       # a private thread: its own readers only
        (CIRCLE, None, False, CIRCLE),        # a circle
        (THREAD, CIRCLE, False, CIRCLE),      # a public thread in a circle: the circle
        (THREAD, CIRCLE, True, THREAD),       # a private thread in a circle: the thread
    ],
)
def test_audience_of_the_channel_a_story_is_saved_from(
    channel: int, parent: int | None, private: bool, expected: int | None
) -> None:
    got = audience_channel(channel, parent, private_thread=private,
                           circles=(CIRCLE, OTHER_CIRCLE))
    assert got == expected
