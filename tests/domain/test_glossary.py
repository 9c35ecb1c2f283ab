from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.glossary import MESSAGE_LIMIT, Glossary, JargonHit, format_suggestion

GLOSSARY = Glossary.from_mapping(
    {
        "discharge": "going home",
        "discharge summary": "letter about your stay",
        "palliative": "care focused on comfort",
        "MDT": "team of specialists",
        "biopsy": "small sample of tissue",
        "refer": "send you to",
        "follow up": "check-up",
        "full blood count": "routine blood test",
        "blood count": "blood test",
    }
)


def terms(text: str) -> dict[str, int]:
    return {h.term: h.count for h in GLOSSARY.find_jargon(text)}


def test_whole_word_case_insensitive() -> None:
    assert terms("PALLIATIVE care and Palliative nurses") == {"palliative": 2}
    assert terms("undischargeable debts, a dischargee") == {}
    assert terms("post-discharge plans") == {"discharge": 1}


@pytest.mark.parametrize(
    "word", ["discharge", "discharges", "discharged", "discharging", "Discharged"]
)
def test_inflections_of_e_ending_verb(word: str) -> None:
    assert terms(f"Mum was {word} on Friday") == {"discharge": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("two biopsies", {"biopsy": 1}),
        ("they biopsied it", {"biopsy": 1}),
        ("the GP referred me; referring is slow; she refers", {"refer": 3}),
        ("the MDTs met", {"MDT": 1}),
        ("referee", {}),
    ],
)
def test_other_inflections(text: str, expected: dict[str, int]) -> None:
    assert terms(text) == expected


def test_multi_word_terms_and_hyphens() -> None:
    assert terms("a follow-up in May, then another follow up") == {"follow up": 2}
    assert terms("a follow\nup call") == {"follow up": 1}


def test_longest_term_wins_without_double_hits() -> None:
    assert terms("the discharge summary arrived") == {"discharge summary": 1}
    assert terms("full blood count, then a blood count, then discharge") == {
        "full blood count": 1,
        "blood count": 1,
        "discharge": 1,
    }
    assert terms("two discharge summaries") == {"discharge summary": 1}


def test_hits_in_order_of_first_appearance_with_plain_words() -> None:
    hits = GLOSSARY.find_jargon("Palliative team after discharge; palliative again.")
    assert hits == [
        JargonHit("palliative", "care focused on comfort", 2),
        JargonHit("discharge", "going home", 1),
    ]


def test_empty_glossary_and_text() -> None:
    assert Glossary.from_mapping({}).find_jargon("discharge") == []
    assert GLOSSARY.find_jargon("") == []


def test_bad_glossary_config_is_rejected() -> None:
    with pytest.raises(ValueError):
        Glossary.from_mapping({"  ": "x"})
    with pytest.raises(ValueError):
        Glossary.from_mapping({"discharge": " "})
    with pytest.raises(ValueError):
        Glossary.from_mapping({"Discharge": "a", "discharge": "b"})


def test_regex_metacharacters_in_terms_are_literal() -> None:
    g = Glossary.from_mapping({"C. diff": "a gut infection", "A&E": "emergency department"})
    assert {h.term for h in g.find_jargon("went to A&E with C. diff")} == {"C. diff", "A&E"}
    assert g.find_jargon("Cx diff") == []


def test_format_suggestion() -> None:
    assert format_suggestion([]) == ""
    msg = format_suggestion(GLOSSARY.find_jargon("discharged twice: discharge, palliative"))
    assert "**discharge** (used 2 times) → going home" in msg
    assert "**palliative** → care focused on comfort" in msg
    assert "Nothing has been changed" in msg
    assert len(msg) <= MESSAGE_LIMIT


def test_format_suggestion_escapes_markdown() -> None:
    msg = format_suggestion([JargonHit("*bold*", "a_b", 1)])
    assert r"\*bold\*" in msg and r"a\_b" in msg


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=300), st.text(min_size=1, max_size=300),
                          st.integers(1, 50)), max_size=120))  # fmt: skip
def test_format_suggestion_always_fits_and_counts_the_rest(
    raw: list[tuple[str, str, int]],
) -> None:
    hits = [JargonHit(t, p, c) for t, p, c in raw]
    msg = format_suggestion(hits)
    if not hits:
        assert msg == ""
        return
    assert len(msg) <= MESSAGE_LIMIT
    shown = msg.count("\n• ")
    if shown < len(hits):
        assert f"…and {len(hits) - shown} more." in msg
    else:
        assert not any(re.fullmatch(r"…and \d+ more\.", line) for line in msg.splitlines())
