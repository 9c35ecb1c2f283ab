"""Readable change summaries for numbered versions ("Version 3: section 'Going home' …").

The words of an amendment are compared sentence by sentence with :mod:`difflib`, so a member
reading the thread learns what changed without comparing two texts by eye.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from bot.domain.documents.model import Credit, Tally

_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def describe_edit(old: str, new: str) -> str:
    """ "replaced 2 sentences, added 1 sentence" — what an amendment did to a section's text."""
    before, after = sentences(old), sentences(new)
    if not before:
        return f"new text ({_n(len(after), 'sentence')})"
    replaced = added = removed = 0
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "replace":
            common = min(i2 - i1, j2 - j1)
            replaced += common
            added += (j2 - j1) - common
            removed += (i2 - i1) - common
        elif op == "insert":
            added += j2 - j1
        elif op == "delete":
            removed += i2 - i1
    parts = []
    if replaced:
        parts.append(f"replaced {_n(replaced, 'sentence')}")
    if added:
        parts.append(f"added {_n(added, 'sentence')}")
    if removed:
        parts.append(f"removed {_n(removed, 'sentence')}")
    return ", ".join(parts) or "no change to the words"


def tally_words(tally: Tally) -> str:
    return f"{tally.support} support, {tally.oppose} oppose, {tally.passed} pass"


def created(number: int, headings: Iterable[str]) -> str:
    names = list(headings)
    return f"Version {number}: document started with {_n(len(names), 'section')}."


def amendment(number: int, heading: str, old: str, new: str, tally: Tally) -> str:
    kind = "amendment" if sentences(old) else "text"
    return (
        f"Version {number}: section '{heading}' — {kind} accepted ({tally_words(tally)}): "
        f"{describe_edit(old, new)}."
    )


def quote_added(number: int, heading: str, credit: Credit) -> str:
    who = "with the teller's name" if credit is Credit.NAMED else "anonymously"
    return (
        f"Version {number}: section '{heading}' — a quote added, {who}, "
        "with its teller's agreement."
    )


def quotes_removed(number: int, headings: Iterable[str], *, withdrawn: bool) -> str:
    where = ", ".join(f"'{h}'" for h in dict.fromkeys(headings))
    why = "its teller withdrew consent" if withdrawn else "its teller narrowed consent"
    return f"Version {number}: section {where} — a quote removed because {why}."


def quotes_recredited(number: int, headings: Iterable[str]) -> str:
    where = ", ".join(f"'{h}'" for h in dict.fromkeys(headings))
    return (
        f"Version {number}: section {where} — a quote is now anonymous because its teller "
        "asked not to be named."
    )


def quotes_erased(number: int) -> str:
    return f"Version {number}: a quote removed because its teller asked Hearth to erase their data."
