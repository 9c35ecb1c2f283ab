"""Statement rounds: adding statements (duplicates refused) and the order they are shown.

Rules in :mod:`bot.domain.statements` (the package docstring).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping

from bot.errors import InvalidInput
from bot.text import clean_line, escape_inline

MAX_STATEMENT_CHARS = 280
NEAR_DUPLICATE_SIMILARITY = 0.9
NEGATIONS = frozenset(
    {
        "not", "no", "never", "nor", "none", "nobody", "nothing", "neither", "without",
        "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent",
        "wont", "wouldnt", "shouldnt", "couldnt", "mustnt", "hasnt", "havent", "hadnt",
    }
)  # fmt: skip


# --------------------------------------------------------------------------- adding


def normalise(text: str) -> str:
    """Comparable form of a statement: case, punctuation and spacing do not matter."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("'", "").replace("’", "").replace("‘", "")
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(text.split())


def _tokens(text: str) -> frozenset[str]:
    return frozenset(normalise(text).split())


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two statements' word sets."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta and not tb:
        return 1.0
    return len(ta & tb) / len(ta | tb)


def is_near_duplicate(a: str, b: str) -> bool:
    if normalise(a) == normalise(b):
        return True
    ta, tb = _tokens(a), _tokens(b)
    if (ta ^ tb) & NEGATIONS:
        return False
    return similarity(a, b) >= NEAR_DUPLICATE_SIMILARITY


def validate_statement(text: str, existing: Iterable[str]) -> str:
    """Return the statement on one line without control, bidi or zero-width characters (as
    it will be stored and shown), or explain why it cannot be added."""
    cleaned = clean_line(text)
    if not cleaned or not normalise(cleaned):
        raise InvalidInput("Write a short statement for others to agree or disagree with.")
    if len(cleaned) > MAX_STATEMENT_CHARS:
        raise InvalidInput(
            f"Your statement is {len(cleaned)} characters; keep it to {MAX_STATEMENT_CHARS} "
            "or fewer. One clear point per statement works best."
        )
    for other in existing:
        if is_near_duplicate(cleaned, other):
            raise InvalidInput(
                f"This is already a statement: “{escape_inline(other, 120)}”. Vote on that one "
                "instead, or "
                "reword yours if you mean something different."
            )
    return cleaned


# --------------------------------------------------------------------------- order


def _spread_key(member_id: int, statement_id: int) -> bytes:
    return hashlib.blake2b(f"{member_id}:{statement_id}".encode(), digest_size=8).digest()


def next_statement_for(
    member_id: int,
    statements: Iterable[tuple[int, int]],
    votes_by_member: Mapping[int, Iterable[int]],
    vote_counts: Mapping[int, int],
) -> int | None:
    """The statement id to show ``member_id`` next, or None when they have seen them all.

    ``statements`` are (statement id, author id); ``votes_by_member`` maps a member to the
    statement ids they voted on (pass included); ``vote_counts`` maps a statement id to its
    number of votes so far (missing = 0).
    """
    voted = set(votes_by_member.get(member_id, ()))
    candidates = [sid for sid, author in statements if author != member_id and sid not in voted]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda sid: (vote_counts.get(sid, 0), _spread_key(member_id, sid), sid),
    )


