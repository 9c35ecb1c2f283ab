"""Is a proposed quote really the teller's words? How an excerpt is checked.

The proposer gets the story's shareable text (already redacted, as it may leave the
community) in a form and trims it. The quote is accepted when, after normalising whitespace
and typographic quotes/dashes, it is one stretch of that text, or several stretches in the
story's order joined by an ellipsis ("…" or "...") marking what was cut. Nothing may be added
or reworded: the teller approves words they actually wrote.
"""

from __future__ import annotations

import re

from bot.domain.documents.model import QUOTE_LIMIT
from bot.errors import InvalidInput
from bot.text import clean_multiline

_ELLIPSIS = re.compile(r"\s*(?:…|\.\.\.|\[…\]|\[\.\.\.\])\s*")
_SPACE = re.compile(r"\s+")
_FOLD = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-"})


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text.translate(_FOLD)).strip()


def check_excerpt(quote: str, source: str) -> str:
    """The cleaned quote if it is an excerpt of ``source``; InvalidInput saying why if not."""
    cleaned = clean_multiline(quote).strip()
    if not cleaned:
        raise InvalidInput("The quote is empty. Keep the words from the story you want quoted.")
    if len(cleaned) > QUOTE_LIMIT:
        raise InvalidInput(
            f"A quote can be at most {QUOTE_LIMIT} characters; yours has {len(cleaned)}. "
            "Trim it to the sentences that matter most (mark a cut with …)."
        )
    pieces = [_norm(p) for p in _ELLIPSIS.split(cleaned)]
    pieces = [p for p in pieces if p]
    if not pieces:
        raise InvalidInput("The quote is empty. Keep the words from the story you want quoted.")
    haystack = _norm(source)
    at = 0
    for piece in pieces:
        found = haystack.find(piece, at)
        if found < 0:
            raise InvalidInput(
                "The quote must be the teller's own words: cut words away from the story's "
                "text (mark a cut with …) but do not add or change any. This part is not in "
                f"the story as written: “{piece[:80]}”."
            )
        at = found + len(piece)
    return cleaned
