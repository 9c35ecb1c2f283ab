"""User text is cleaned once, at input, before it is stored: poll questions and options,
statements, story titles and bodies, meeting titles and locations carry no control, bidi
override or zero-width character into the database (and so into any later surface)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.meetings import validate_meeting
from bot.domain.polls import PollKind, parse_poll
from bot.domain.statements import validate_statement
from bot.domain.stories import Stages, validate_captured, validate_story
from bot.errors import InvalidInput
from bot.text import BIDI_CONTROLS

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HAZARDS = [*BIDI_CONTROLS, "\x00", "\x07", "\x1b", "\x7f", "\x85", "\u200b", "\u2060", "\ufeff"]
#: words with hostile characters sprinkled in
DIRTY = st.lists(
    st.one_of(st.sampled_from(["Monday", "we", "agree", "plan", "Spring", " ", "\n", "\t"]),
              st.sampled_from(HAZARDS)),
    min_size=1, max_size=12,
).map("".join)


def _hazard(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return (ch in BIDI_CONTROLS or cat in ("Cc", "Cs")
            or (cat == "Cf" and ch not in "\u200c\u200d"))


def _clean_one_line(text: str) -> bool:
    return not any(_hazard(ch) for ch in text) and text == " ".join(text.split())


@settings(max_examples=80, deadline=None)
@given(DIRTY, DIRTY, DIRTY)
def test_poll_question_and_options_are_stored_clean(q: str, a: str, b: str) -> None:
    try:
        spec = parse_poll(PollKind.SINGLE, q, f"{a};{b}")
    except InvalidInput:
        return
    assert _clean_one_line(spec.question)
    assert all(_clean_one_line(o) and o for o in spec.options)


@settings(max_examples=80, deadline=None)
@given(DIRTY)
def test_statement_is_stored_clean(text: str) -> None:
    try:
        out = validate_statement(text, [])
    except InvalidInput:
        return
    assert _clean_one_line(out)


@settings(max_examples=80, deadline=None)
@given(DIRTY, DIRTY)
def test_story_title_is_one_clean_line_and_body_keeps_only_newlines_and_tabs(
    title: str, body: str
) -> None:
    try:
        t, text = validate_story(title, body, None, Stages.from_config())
    except InvalidInput:
        return
    assert _clean_one_line(t)
    assert not any(_hazard(ch) for ch in text if ch not in "\n\t"), ascii(text)
    assert "\r" not in text


@settings(max_examples=80, deadline=None)
@given(DIRTY, DIRTY)
def test_meeting_title_and_location_are_stored_clean(title: str, location: str) -> None:
    try:
        draft = validate_meeting(title, NOW + timedelta(days=3), 60, location, NOW)
    except InvalidInput:
        return
    assert _clean_one_line(draft.title) and _clean_one_line(draft.location)


def test_examples() -> None:
    spec = parse_poll("single", "Which\u202e day?\u200b", "Mon\u2066day ; Tues\x00day;")
    assert spec.question == "Which day?"
    assert spec.options == ("Monday", "Tuesday")
    # an invisible character does not make a different option
    with pytest.raises(InvalidInput, match="repeats"):
        parse_poll("single", "Day?", "Monday;Mon\u200bday")
    # nothing visible left is the same as nothing typed
    with pytest.raises(InvalidInput, match="needs a question"):
        parse_poll("single", "\u202e\u200b", "a;b")
    with pytest.raises(InvalidInput, match="Leave options empty"):
        parse_poll("agreement", "We agree", "x")
    assert parse_poll("agreement", "We agree", "\u200b;").kind is PollKind.AGREEMENT
    assert validate_statement("We\u202e need\nmore\u2067 rest ", []) == "We need more rest"
    with pytest.raises(InvalidInput):
        validate_statement("\u200b\u2066", [])
    stages = Stages.from_config()
    assert validate_story("First\u202e\nweek", "Line one\u202e\r\n\tindented\x1b\u200b",
                          None, stages) == ("First week", "Line one\n\tindented")
    with pytest.raises(InvalidInput, match="needs a title"):
        validate_story("\u2066\u200b", "text", None, stages)
    assert validate_captured("Hello\u202e there\nsecond", stages) == (
        "Hello there", "Hello there\nsecond"
    )
    draft = validate_meeting("Spring\u202e gathering\u200b", NOW + timedelta(days=1), 60,
                             "Town\u2067 hall\x00", NOW)
    assert (draft.title, draft.location, draft.online) == ("Spring gathering", "Town hall", False)
    assert validate_meeting("M", NOW + timedelta(days=1), 60, "\u200b", NOW).online
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert validate_meeting(f"Family {family}", NOW + timedelta(days=1), 60, None,
                            NOW).title == f"Family {family}"
