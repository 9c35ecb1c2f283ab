"""Plain-language glossary: spot jargon in a story and suggest plainer words.

Why: stories are read by patients, carers and sponsors as well as clinicians. When a teller
shares a story we show them (ephemerally) which words may be unfamiliar and what plainer
words exist; we never change their text ourselves.

Matching rules:

* Whole words only, case-insensitive: "discharge" does not match inside "undischargeable".
  A hyphen counts as a word boundary, so "post-discharge" contains "discharge".
* Multi-word terms match with any whitespace or a hyphen between their words ("follow up"
  matches "follow-up" and "follow\\nup").
* Simple inflections of the **last** word of a term are accepted: the word plus ``s``,
  ``es``, ``ed`` or ``ing``; a final ``e`` may be dropped before ``ed``/``ing``/``es``
  (so ``discharge`` → ``discharges``, ``discharged``, ``discharging``); a final consonant +
  ``y`` may become ``ies``/``ied`` (``biopsy`` → ``biopsies``); a final consonant may be
  doubled before ``ed``/``ing`` (``refer`` → ``referred``, ``referring``). Earlier words of a
  multi-word term must appear as written. This is deliberately simple; irregular forms need
  their own glossary entry.
* No overlapping double hits: where terms overlap, the text is scanned left to right and
  at each position the longest term wins ("discharge summary" is one hit, not also a
  "discharge" hit).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.text import escape_inline

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 2000
_MAX_FIELD = 200
_VOWELS = set("aeiou")


@dataclass(frozen=True, slots=True)
class JargonHit:
    """One glossary term found in a text: the term as configured, its plain alternative and
    how many times it (or an inflection of it) appears."""

    term: str
    plain: str
    count: int


def _inflected_word(word: str) -> str:
    """A regex for ``word`` and its simple inflections (rules in the module docstring)."""
    lower = word.lower()
    esc = re.escape(lower)
    forms = [rf"{esc}(?:s|es|ed|ing)?"]
    if not lower.isalpha() or len(lower) < 3:
        return forms[0]
    if lower.endswith("e"):
        forms.append(rf"{esc}d")
        forms.append(rf"{re.escape(lower[:-1])}(?:ed|ing|es)")
    if lower.endswith("y") and lower[-2] not in _VOWELS:
        forms.append(rf"{re.escape(lower[:-1])}(?:ies|ied)")
    if lower[-1] not in _VOWELS and lower[-1] not in "wxy":
        forms.append(rf"{esc}{re.escape(lower[-1])}(?:ed|ing)")
    return "(?:" + "|".join(forms) + ")"


def _term_pattern(term: str) -> str:
    words = term.split()
    parts = [re.escape(w.lower()) for w in words[:-1]] + [_inflected_word(words[-1])]
    return r"[\s\-]+".join(parts)


def _normalise_term(term: str) -> str:
    return " ".join(re.split(r"[\s\-]+", term.strip()))


class Glossary:
    """An immutable jargon → plain-words mapping with a compiled matcher."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        self._entries: dict[str, tuple[str, str]] = {}
        for term, plain in entries:
            norm = _normalise_term(term)
            if not norm or not plain.strip():
                raise ValueError(
                    f"glossary entry {term!r} → {plain!r} needs a term and a plain word"
                )
            key = norm.lower()
            if key in self._entries:
                raise ValueError(f"glossary term {term!r} appears twice (terms ignore case)")
            self._entries[key] = (term.strip(), plain.strip())
        # Longest terms first so that at any position the longest term wins.
        ordered = sorted(self._entries, key=lambda k: (-len(k.split()), -len(k), k))
        self._keys = ordered
        if ordered:
            alternatives = "|".join(f"(?P<t{i}>{_term_pattern(k)})" for i, k in enumerate(ordered))
            self._pattern: re.Pattern[str] | None = re.compile(
                rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE
            )
        else:
            self._pattern = None

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str]) -> Glossary:
        """Build from config (``{"discharge": "going home", ...}``); ValueError on blank or
        duplicate terms, because a broken glossary should stop the bot at start, not
        mislead a teller later."""
        return cls(mapping.items())

    def __len__(self) -> int:
        return len(self._entries)

    def find_jargon(self, text: str) -> list[JargonHit]:
        """Jargon in ``text``, in order of first appearance, each with its count."""
        if self._pattern is None or not text:
            return []
        counts: dict[str, int] = {}
        for m in self._pattern.finditer(text):
            name = m.lastgroup
            if name is None:  # pragma: no cover - every alternative is a named group
                continue
            key = self._keys[int(name[1:])]
            counts[key] = counts.get(key, 0) + 1
        return [
            JargonHit(term=self._entries[k][0], plain=self._entries[k][1], count=n)
            for k, n in counts.items()
        ]


DRAFT_HEAD = (
    "A few words in your story may be unfamiliar to some readers. If you like, use "
    "**Edit the words** to put plainer ones before you post:"
)
DRAFT_FOOT = "Nothing has been changed: it is your choice."


def format_suggestion(
    hits: Iterable[JargonHit], *, limit: int = MESSAGE_LIMIT, head: str | None = None,
    foot: str | None = None,
) -> str:
    """The ephemeral message shown to a teller after sharing. Returns "" when there is
    nothing to suggest (the caller then shows nothing). Stays within ``limit`` characters
    (Discord's 2000 by default) by listing as many terms as fit and saying how many more."""
    hits = list(hits)
    if not hits:
        return ""
    head = head or (
        "Thank you for sharing your story. A few words in it may be unfamiliar to some "
        "readers. If you like, you could use plainer words:"
    )
    foot = foot or "Nothing has been changed: your story is saved exactly as you wrote it."
    lines: list[str] = []
    for i, hit in enumerate(hits):
        times = f" (used {hit.count} times)" if hit.count > 1 else ""
        term, plain = escape_inline(hit.term, _MAX_FIELD), escape_inline(hit.plain, _MAX_FIELD)
        line = f"• **{term}**{times} → {plain}"
        remaining = len(hits) - i - 1
        tail = [f"…and {remaining} more."] if remaining else []
        if len("\n".join([head, *lines, line, *tail, "", foot])) > limit:
            # The previous round checked that this shorter form fits.
            return "\n".join([head, *lines, f"…and {len(hits) - i} more.", "", foot])
        lines.append(line)
    return "\n".join([head, *lines, "", foot])
