"""Papers for comment, pure logic: the collective statement's words and arithmetic, the
canonical order of comments, sealed answers, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.papers import (
    FILE_MAX_BYTES,
    SEALED_PAD,
    Answer,
    Comment,
    SealedAnswer,
    Tally,
    canonical_order,
    collective_statement,
    comments_markdown,
    tally,
    validate_closes,
    validate_comment,
    validate_file,
    validate_text,
    validate_title,
)
from bot.errors import InvalidInput

NOW = datetime(2027, 1, 11, 9, tzinfo=UTC)


def test_statement_words_and_numbers() -> None:
    t = tally([Answer.AGREE, Answer.CHANGES, Answer.CHANGES, Answer.DISAGREE], 5)
    assert (t.agreeing, t.answered, t.members, t.not_answered) == (3, 4, 5, 1)
    assert collective_statement(t) == (
        "3 of 5 members (60%) agree with the paper, 2 of them with changes. "
        "1 (20%) disagrees; 1 did not answer."
    )


def test_statement_with_no_answers() -> None:
    assert collective_statement(Tally(0, 0, 0, 7)) == (
        "0 of 7 members (0%) agree with the paper. 0 (0%) disagree; 7 did not answer."
    )


def test_statement_with_no_members() -> None:
    assert "No member could answer" in collective_statement(Tally(0, 0, 0, 0))


def test_one_of_one() -> None:
    assert collective_statement(Tally(1, 0, 0, 1)) == (
        "1 of 1 member (100%) agree with the paper, 0 of them with changes. "
        "0 (0%) disagree; 0 did not answer."
    )


@pytest.mark.parametrize(
    ("agree", "members", "pct"),
    [(1, 3, 33), (2, 3, 67), (1, 8, 13), (5, 8, 63), (1, 200, 1), (1, 400, 0)],
)
def test_rounding_is_half_up(agree: int, members: int, pct: int) -> None:
    assert f"({pct}%) agree" in collective_statement(Tally(agree, 0, 0, members))


def test_members_never_fewer_than_answers() -> None:
    # a count taken at close cannot be below the answers counted (defensive)
    assert Tally(2, 1, 0, 2).members == 3
    with pytest.raises(ValueError):
        Tally(-1, 0, 0, 1)


def test_canonical_order_hides_arrival_order() -> None:
    late = Comment(Answer.AGREE, "b", None)
    early = Comment(Answer.DISAGREE, "a", 5)
    named = Comment(Answer.AGREE, "z", 7)
    assert canonical_order([early, late, named]) == [named, late, early]
    assert canonical_order([late, named, early]) == [named, late, early]


def test_sealed_answer_round_trip_and_padding_fits() -> None:
    a = SealedAnswer(Answer.CHANGES, "é" * 1000, True, 123)
    assert SealedAnswer.from_bytes(a.to_bytes()) == a
    assert len(a.to_bytes()) + 2 <= SEALED_PAD
    worst = SealedAnswer(Answer.CHANGES, "\u0001" * 1000, True, 2**63 - 1)
    assert len(worst.to_bytes()) + 2 <= SEALED_PAD
    anon = SealedAnswer(Answer.AGREE, "", False, None)
    assert SealedAnswer.from_bytes(anon.to_bytes()).user_id is None


def test_markdown_names_only_named_comments() -> None:
    md = comments_markdown(
        "Leaflet",
        [Comment(Answer.AGREE, "Good", 1), Comment(Answer.DISAGREE, "No\nnot yet", None)],
        {1: "Alice"},
    )
    assert "## Agree" in md and "**Alice**: Good" in md
    assert "**anonymous**: No\n  not yet" in md and "Agree with changes" not in md


def test_validation() -> None:
    assert validate_title("  Referral  letters ") == "Referral letters"
    with pytest.raises(InvalidInput, match="101 characters"):
        validate_title("x" * 101)
    with pytest.raises(InvalidInput):
        validate_title(" ")
    with pytest.raises(InvalidInput, match="4001 characters"):
        validate_text("x" * 4001)
    with pytest.raises(InvalidInput):
        validate_text("  \n ")
    assert validate_comment(None) == ""
    with pytest.raises(InvalidInput, match="1001 characters"):
        validate_comment("x" * 1001)
    with pytest.raises(InvalidInput, match="passed"):
        validate_closes(NOW - timedelta(minutes=1), NOW)
    with pytest.raises(InvalidInput, match="at least an hour"):
        validate_closes(NOW + timedelta(minutes=59), NOW)
    with pytest.raises(InvalidInput, match="90 days"):
        validate_closes(NOW + timedelta(days=91), NOW)
    assert validate_closes(NOW + timedelta(days=7), NOW) == NOW + timedelta(days=7)


def test_files() -> None:
    assert validate_file("../../etc/Draft.PDF", 10) == "Draft.PDF"
    assert validate_file("C:\\docs\\plan.docx", 10) == "plan.docx"
    with pytest.raises(InvalidInput, match=r"\.pdf"):
        validate_file("run.exe", 10)
    with pytest.raises(InvalidInput, match="10 MB"):
        validate_file("big.pdf", FILE_MAX_BYTES + 1)
    with pytest.raises(InvalidInput, match="empty"):
        validate_file("e.pdf", 0)
