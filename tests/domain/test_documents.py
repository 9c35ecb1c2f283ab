"""Collective documents' pure logic: excerpts, change summaries, versions and consent."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from bot.domain.documents import (
    Credit,
    Quote,
    QuoteStatus,
    Section,
    ShownDocument,
    Tally,
    Version,
    changes,
    check_excerpt,
    content_from_json,
    content_to_json,
    describe_edit,
    render_html,
    render_markdown,
    render_pdf,
    require_section,
    shown,
    snapshot,
    validate_section_text,
)
from bot.errors import InvalidInput

T0 = datetime(2027, 3, 4, 10, tzinfo=UTC)
STORY = (
    "When they said discharge I did not know it meant going home.  The nurse sat with me\n"
    "and explained every tablet. I felt “listened to” for the first time."
)


def _quote(
    qid: int,
    section_id: int,
    status: QuoteStatus = QuoteStatus.AGREED,
    credit: Credit = Credit.NAMED,
    name: str | None = "Zoë",
    text: str | None = "Hi",
) -> Quote:
    return Quote(qid, 1, section_id, 10 + qid, 99, 98, text, credit, name, status, T0)


# ------------------------------------------------------------------ excerpts


def test_an_excerpt_may_cut_but_not_add_words() -> None:
    assert check_excerpt("The nurse sat with me and explained every tablet.", STORY)
    # whitespace and typographic quotes are normalised; … marks a cut, in story order
    assert check_excerpt('When they said discharge … I felt "listened to"', STORY)
    with pytest.raises(InvalidInput, match="own words"):
        check_excerpt("The nurse was wonderful.", STORY)
    with pytest.raises(InvalidInput, match="own words"):  # out of order
        check_excerpt("I felt … When they said discharge", STORY)
    with pytest.raises(InvalidInput, match="empty"):
        check_excerpt("  … ", STORY)
    with pytest.raises(InvalidInput, match="at most 1000"):
        check_excerpt(STORY * 10, STORY * 10)


# ------------------------------------------------------------------ change summaries


def test_describe_edit_counts_sentences_with_difflib() -> None:
    old = "We go home on Friday. A nurse explains the tablets. Families wait."
    new = "We go home on Friday. Someone explains every tablet. Families are told. Call us."
    assert describe_edit(old, new) == "replaced 2 sentences, added 1 sentence"
    assert describe_edit("", "One. Two.") == "new text (2 sentences)"
    assert describe_edit("One. Two.", "One.") == "removed 1 sentence"
    assert describe_edit("Same.", "Same.") == "no change to the words"


def test_version_summaries_read_as_sentences() -> None:
    text = changes.amendment(3, "Going home", "A. B. C.", "A. X. Y.", Tally(12, 1, 0))
    assert text == (
        "Version 3: section 'Going home' — amendment accepted (12 support, 1 oppose, 0 pass): "
        "replaced 2 sentences."
    )
    assert changes.created(1, ["a", "b"]) == "Version 1: document started with 2 sections."
    assert "anonymously" in changes.quote_added(2, "Diagnosis", Credit.ANONYMOUS)
    assert "withdrew consent" in changes.quotes_removed(5, ["Diagnosis"], withdrawn=True)
    assert "now anonymous" in changes.quotes_recredited(6, ["Diagnosis", "Diagnosis"])


# ------------------------------------------------------------------ versions and consent


def test_a_version_snapshot_lists_agreed_quotes_only_and_round_trips() -> None:
    sections = [Section(1, 1, "Diagnosis", "Body."), Section(2, 2, "Going home", "")]
    quotes = [
        _quote(1, 1),
        _quote(2, 2, QuoteStatus.ASKED),
        _quote(3, 2, QuoteStatus.DECLINED),
        _quote(4, 2),
    ]
    snap = snapshot(sections, quotes)
    assert [s.quote_ids for s in snap] == [(1,), (4,)]
    assert content_from_json(content_to_json(snap)) == snap


def test_consent_after_publication_changes_what_a_stored_version_shows() -> None:
    sections = [Section(1, 1, "Diagnosis", "Body.")]
    version = Version(2, T0, "v2", snapshot(sections, [_quote(1, 1), _quote(2, 1, name="Ann")]))
    doc = shown("Principles", "Carers", version, {1: _quote(1, 1), 2: _quote(2, 1, name="Ann")})
    assert [q.credit for q in doc.sections[0].quotes] == ["Zoë", "Ann"]
    # quote 1 withdrawn (words deleted), quote 2 made anonymous: the same stored version
    after = {
        1: _quote(1, 1, QuoteStatus.REMOVED, text=None, name=None),
        2: _quote(2, 1, credit=Credit.ANONYMOUS, name=None),
    }
    doc = shown("Principles", "Carers", version, after)
    assert [q.credit for q in doc.sections[0].quotes] == ["a member of the group"]


def test_sections_and_text_are_checked() -> None:
    sections = [Section(1, 1, "A", ""), Section(2, 2, "B", "")]
    assert require_section(sections, 2).heading == "B"
    with pytest.raises(InvalidInput, match="sections 1 to 2"):
        require_section(sections, 3)
    with pytest.raises(InvalidInput, match="at most 3000"):
        validate_section_text("x" * 3001)
    with pytest.raises(InvalidInput, match="empty"):
        validate_section_text("   ")


# ------------------------------------------------------------------ rendering


def _doc() -> ShownDocument:
    sections = [Section(1, 1, "Café & <care>", "Señora Núñez’s “plain words”.")]
    quotes = {1: _quote(1, 1, text="Ça va — merci.", name="Zoë")}
    return shown(
        "Naïve *principles*",
        "Carers",
        Version(3, T0, "Version 3: test.", snapshot(sections, list(quotes.values()))),
        quotes,
    )


def test_markdown_and_html_escape_and_keep_unicode() -> None:
    doc = _doc()
    md = render_markdown(doc)
    assert md.startswith("# Naïve \\*principles\\*")
    assert "> “Ça va — merci.”\n> — Zoë" in md and "version 3 · 4 March 2027" in md
    html = render_html(doc)
    assert "Café &amp; &lt;care&gt;" in html and "<care>" not in html
    assert "@media print" in html and "“Ça va — merci.”" in html


def test_pdf_renders_unicode_text() -> None:
    pdf = render_pdf(_doc())
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.split())
    assert "Señora Núñez’s “plain words”." in text
    assert "Ça va — merci." in text and "Zoë" in text
