"""The members' annual report from known answers: counts, items, themes, and the consent filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.stories import Consent
from bot.domain.value.annual import (
    AnnualAnswer,
    aggregate,
    items,
    parse_quote_consent,
    quotes_of,
    reminder_time,
    theme_counts,
    themes_from_config,
    validate_answer,
)
from bot.domain.value.annual_render import build_annual_email, render_html, render_markdown, summary
from bot.errors import InvalidInput

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
THEMES = themes_from_config(
    {
        "Teaching and training": ["teach", "taught", "workshop"],
        "Cancer and end-of-life care": ["cancer", "end of life"],
        "Nobody mentions this": ["zebra"],
    }
)


def answer(uid: int, consent: Consent = Consent.GROUP, **texts: str) -> AnnualAnswer:
    return AnnualAnswer(uid, texts, consent, T0, T0 + timedelta(minutes=uid))


def test_items_split_lines_and_semicolons_not_commas() -> None:
    assert items("- Dr Patel\n* Leeds practice; district nurses\n\n") == [
        "Dr Patel", "Leeds practice", "district nurses",
    ]  # fmt: skip
    assert items("1. taught nurses, GPs and carers\n2) a webinar") == [
        "taught nurses, GPs and carers", "a webinar",
    ]  # fmt: skip
    for nothing in ("none", "N/A", "-", "Nothing this year.", "", "  \n ; "):
        assert items(nothing) == [], nothing


def test_validate_answer_cleans_and_refuses_empty_or_too_long() -> None:
    cleaned = validate_answer({"contacts": "  Dr Patel \r\n Leeds  ", "skills": None})
    assert cleaned["contacts"] == "Dr Patel\n Leeds"
    assert cleaned["skills"] == "" and cleaned["other"] == ""
    with pytest.raises(InvalidInput, match="every box was empty"):
        validate_answer({"contacts": " ", "other": "\n"})
    with pytest.raises(InvalidInput, match="the most is 1000"):
        validate_answer({"feedback": "x" * 1001})


def test_parse_quote_consent_allows_three_choices() -> None:
    assert parse_quote_consent("anonymous") is Consent.ANONYMOUS
    with pytest.raises(InvalidInput):
        parse_quote_consent("withdrawn")
    with pytest.raises(InvalidInput):
        parse_quote_consent("everyone")


def test_aggregate_counts_members_items_and_themes() -> None:
    answers = [
        answer(1, contacts="Dr Patel\nLeeds practice", education="Taught a workshop on cancer"),
        answer(2, Consent.ANONYMOUS, contacts="district nurses; hospice team",
               education="none", skills="Palliative care diploma",
               feedback="A carer said the end of life talk helped."),
        answer(3, Consent.NAMED, skills="Teaching course\nFirst aid"),
        answer(4),  # an empty answer does not count as answered
    ]  # fmt: skip
    s = aggregate(
        community_name="Carers Voice", year=2027, opened_at=T0, closed_at=T0 + timedelta(days=28),
        member_ids=[1, 2, 3, 4, 5], answers=answers, themes=THEMES, names={3: "Carol"},
    )  # fmt: skip
    assert (s.members, s.answered, s.not_quoted) == (5, 3, 1)
    counts = {q.key: (q.members, q.items) for q in s.questions}
    assert counts == {
        "contacts": (2, 4), "education": (1, 1), "feedback": (1, None), "skills": (2, 3),
        "other": (0, None),
    }  # fmt: skip
    assert [(t.label, t.members) for t in s.themes] == [
        ("Cancer and end-of-life care", 2), ("Teaching and training", 2),
    ]  # fmt: skip
    # Only the consenting members' words, the named one with a name, the anonymous without.
    assert [(q.question, q.name) for q in s.quotes] == [
        ("Feedback and stories you heard", None),
        ("Skills or qualifications gained", None),
        ("Skills or qualifications gained", "Carol"),
    ]
    quoted = " ".join(q.text for q in s.quotes)
    assert "Dr Patel" not in quoted and "Taught a workshop" not in quoted
    # Contacts name third parties: counted, never quoted, even when their member agreed.
    assert "hospice team" not in quoted and "district nurses" not in quoted
    assert "Palliative care diploma" in quoted and "First aid" in quoted


def test_themes_match_at_the_start_of_words_and_count_members_once() -> None:
    found = theme_counts(
        [answer(1, education="I teach; teaching again; taught"), answer(2, other="reteach")],
        THEMES,
    )
    assert [(t.label, t.members) for t in found] == [("Teaching and training", 1)]


def test_consent_filter_redacts_and_never_names_the_anonymous() -> None:
    a = answer(
        7,
        Consent.ANONYMOUS,
        feedback="Call 07700 900123 or mail bob@example.org <@123456789012345678>",
    )
    [quote] = quotes_of(a, "Bob Secret")
    assert quote.name is None
    assert "07700" not in quote.text and "bob@example.org" not in quote.text
    assert "123456789012345678" not in quote.text and "[redacted]" in quote.text
    assert quotes_of(answer(8, Consent.GROUP, feedback="private words"), "X") == []
    [named] = quotes_of(answer(9, Consent.NAMED, skills="Diploma"), "Dana")
    assert named.name == "Dana"


def test_renderings_carry_only_what_aggregate_allowed() -> None:
    answers = [
        answer(1, contacts="SECRETCONTACT"),
        answer(2, Consent.ANONYMOUS, feedback="OKQUOTE from a ward"),
    ]
    s = aggregate(
        community_name="Carers Voice", year=2027, opened_at=T0, closed_at=T0 + timedelta(days=2),
        member_ids=[1, 2, 3], answers=answers, themes=THEMES, names={1: "Alice", 2: "Bob"},
    )  # fmt: skip
    md, html = render_markdown(s), render_html(s)
    mail = build_annual_email(s, sender="h@example.org", recipient="s@example.org")
    mail_text = "\n".join(
        str(p.get_content()) for p in mail.walk() if p.get_content_maintype() == "text"
    )
    for text in (md, html, mail_text):
        assert "OKQUOTE" in text
        assert "SECRETCONTACT" not in text and "Alice" not in text and "Bob" not in text
    assert summary(s)[0] == "2 of 3 members answered (67%)."
    assert "1 member chose not to be quoted" in " ".join(summary(s))


def test_reminder_time() -> None:
    week = timedelta(days=7)
    assert reminder_time(T0, T0 + 4 * week, timedelta(days=3)) == T0 + 4 * week - timedelta(days=3)
    assert reminder_time(T0, T0 + timedelta(days=4), timedelta(days=3)) == T0 + timedelta(days=2)
    assert reminder_time(T0, T0 + timedelta(days=1), timedelta(days=3)) is None


def test_themes_too_few_members_mentioned_are_left_out() -> None:
    answers = [
        answer(1, feedback="We talked about cancer care and teaching"),
        answer(2, skills="Taught first aid"),
    ]
    found = theme_counts(answers, THEMES, minimum=2)
    assert [(t.label, t.members) for t in found] == [("Teaching and training", 2)]
    s = aggregate(
        community_name="C", year=2027, opened_at=T0, closed_at=T0 + timedelta(days=2),
        member_ids=[1, 2], answers=answers, themes=THEMES, names={}, min_theme_members=2,
    )  # fmt: skip
    md = render_markdown(s)
    assert "Teaching and training: 2 members (teach, taught, workshop)" in md
    assert "Cancer" not in md.split("## Themes")[1].split("##")[0]
    assert "fewer than 2 members are left out" in md


def test_quotes_come_in_canonical_order_not_by_member_or_time() -> None:
    """An anonymous member's quotes side by side would add up to a profile, and the order of
    answering would say who answered when: quotes go by question, then by their words."""
    answers = [
        answer(1, Consent.ANONYMOUS, education="Zeta talk at the practice", skills="Bravo course"),
        answer(2, Consent.ANONYMOUS, education="Alpha workshop", skills="Yankee diploma"),
        answer(3, Consent.ANONYMOUS, education="Mike session", skills="Delta training"),
    ]  # fmt: skip
    for ordered in (answers, answers[::-1]):
        s = aggregate(
            community_name="C", year=2027, opened_at=T0, closed_at=T0 + timedelta(days=28),
            member_ids=[1, 2, 3], answers=ordered, themes=THEMES, names={},
        )  # fmt: skip
        assert [q.text for q in s.quotes] == [
            "Alpha workshop", "Mike session", "Zeta talk at the practice",
            "Bravo course", "Delta training", "Yankee diploma",
        ]  # fmt: skip


def test_every_quote_is_redacted_and_scrubbed_of_discord_ids() -> None:
    """NHS number, postcode, e-mail, phone, a Discord mention and a date of birth: none
    reaches the sponsor, whichever question they were written in."""
    a = answer(1, Consent.NAMED,
               feedback="Mrs K (NHS 943 476 5919, LS1 4AP, k@example.org, 07700 900123) "
                        "<@123456789012345678> said thanks",
               skills="Course on 3 March 1956",
               other="Ring 0113 496 0000")  # fmt: skip
    quoted = " ".join(q.text for q in quotes_of(a, "Kate"))
    for secret in ("943 476 5919", "LS1 4AP", "k@example.org", "07700 900123",
                   "123456789012345678", "1956", "496 0000"):  # fmt: skip
        assert secret not in quoted, secret
    assert "said thanks" in quoted and "[redacted]" in quoted
