"""Showing text a person typed inside a message the bot writes.

Everything a member types (community names, titles, questions, options, display names,
regions, values the bot could not parse) is untrusted when it is echoed back. Left raw it
can close a code span with a backtick, start a heading or a block quote, hide a masked link,
spoiler or bold the rest of the sentence, break a one-line confirmation over several lines,
or reverse the rest of a line with a bidi override so the bot appears to say something else.
No echo can ping anyone (every send uses ``allowed_mentions=none``), but the mention
neutralising below also keeps copies of the text (digests, e-mails, exports) harmless.

Two helpers, one per context:

- :func:`echo` for a value quoted *inside a code span* (``f"`{echo(value)}`"``): typically
  "`xyz` is not a weekday". Markdown is inert inside a code span, so nothing is escaped
  (a backslash would show literally); only a backtick could end the span, and it is
  replaced by the look-alike ``ˋ`` (U+02CB MODIFIER LETTER GRAVE ACCENT). We chose the
  look-alike over Discord's double-backtick spans because those cannot hold a value that
  starts or ends with a backtick and still leave a stray backtick for a run of two.
- :func:`escape_inline` for a value shown *in running Markdown* (names in bold, titles,
  questions): every Markdown character is backslash-escaped (Discord accepts a backslash
  before any ASCII punctuation), line-start syntax is escaped, ``@`` is followed by a
  zero-width space, and the value is put on one line.
- :func:`plain` for a value shown where Discord does *not* render Markdown (modal titles,
  button and select labels, autocomplete choices, embed titles, field names and footers,
  thread and scheduled-event names, file names, calendar files): nothing is escaped, since a
  backslash would show literally, but the value is put on one line, cleaned and cut to the
  place's limit. Mentions do not work in those places either.

For text that is *stored*, the domain validators clean once at input with
:func:`clean_line` (one-line fields: questions, options, titles) and :func:`clean_multiline`
(story bodies: newlines and tabs kept), so every later surface starts from clean text.

Both drop characters that are invisible or that change how the rest of the line is laid
out: C0/C1 controls, bidi embeddings/overrides/isolates and marks, zero-width spaces, word
joiners, byte-order marks, lone surrogates and the blank Hangul fillers used as "invisible"
names. :func:`escape_inline` keeps the zero-width joiner and non-joiner and the emoji tag
characters, which emoji sequences (👨‍👩‍👧, flags) and Persian or Indic words need and which
can neither reorder nor hide text; :func:`echo`, a short quote of rejected input, drops them
too. This module must not import discord: the domain uses it.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

ZWSP = "\u200b"
ELLIPSIS = "…"
LOOKALIKE_BACKTICK = "\u02cb"  # ˋ

#: bidi embeddings, overrides, isolates and marks (the "Trojan Source" characters)
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: formatting characters kept by :func:`escape_inline`: ZWNJ, ZWJ and emoji tag characters
_JOINERS = frozenset("\u200c\u200d")
_TAGS = range(0xE0020, 0xE0080)
#: blank letters that render as nothing (category Lo, so not caught by category)
_BLANK_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")

# Characters that are Markdown (or Discord-flavoured Markdown) syntax anywhere in a line;
# `<` and `>` also stop raw HTML in Markdown viewers.
_MD_ANYWHERE = re.compile(r"([\\`*_~|<>\[\]#])")
# Characters that are syntax only at the start of a line (lists, setext headings, "-#").
_MD_LINE_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))", re.MULTILINE)


def _is_invisible(ch: str, *, keep_joiners: bool) -> bool:
    if ch in BIDI_CONTROLS or ch in _BLANK_FILLERS:
        return True
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs"):
        return True
    if category == "Cf":
        return not (keep_joiners and (ch in _JOINERS or ord(ch) in _TAGS))
    return False


def strip_invisible(text: str, *, keep_joiners: bool = False) -> str:
    """Drop controls, bidi controls and zero-width characters; whitespace controls
    (newline, tab, ...) become spaces or stay newlines so words do not run together."""
    if text.isascii() and text.isprintable():
        return text  # nothing to drop: the common case, on every vote click's label
    out: list[str] = []
    for ch in text:
        if ch in "\n\r\t\v\f\x1c\x1d\x1e\x1f\x85":
            out.append("\n" if ch in "\n\r\x85" else " ")
        elif not _is_invisible(ch, keep_joiners=keep_joiners):
            out.append(ch)
    return "".join(out)


def one_line(text: str) -> str:
    """Every run of whitespace (newlines, tabs, U+2028...) becomes one space; no edges."""
    return " ".join(text.split())


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters; a cut value ends with an ellipsis so it reads as cut."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


LOOKALIKE_BACKSLASH = "\u29f5"  # ⧵ REVERSE SOLIDUS OPERATOR


def echo(value: str | None, limit: int = 60) -> str:
    """``value`` made safe to quote inside a single-backtick code span in a reply.

    One line, no invisible or bidi characters, no backtick (see the module docstring),
    at most ``limit`` characters. The caller writes the backticks: ``f"`{echo(v)}`"``.
    A value with nothing visible left comes back as ``"(empty)"``: an empty code span would
    render as two stray backticks.
    """
    text = one_line(strip_invisible(value or ""))
    text = text.replace("`", LOOKALIKE_BACKTICK)
    text = truncate(text, limit)
    if text.endswith("\\"):
        # A backslash right before the closing backtick is literal inside a Discord code
        # span, but other Markdown readers (and notification previews) take it as escaping
        # the backtick and leave the span open; a look-alike reads the same.
        text = text[:-1] + LOOKALIKE_BACKSLASH
    return text or "(empty)"


def neutralise_mentions(text: str) -> str:
    """Put a zero-width space after every ``@`` so no text can mention anyone.

    This defuses ``@everyone``, ``@here`` and ``<@id>``/``<@&id>`` alike, and reads the same.
    """
    return text.replace("@", "@" + ZWSP)


def escape_markdown(text: str) -> str:
    """Escape user text for Discord Markdown and CommonMark, and neutralise mentions.

    Exactly reversible (drop one backslash before each escaped character and the ZWSP after
    each ``@``): it changes how text renders, never what it says. Multi-line text keeps its
    lines, with line-start syntax (lists, headings, ``-#``) escaped on each.
    """
    escaped = _MD_ANYWHERE.sub(r"\\\1", text)
    escaped = _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    return neutralise_mentions(escaped)


def escape_inline(value: str | None, limit: int | None = None) -> str:
    """``value`` made safe to show inside a sentence of Markdown (bold names, titles).

    One line, invisible and bidi characters dropped, cut to ``limit`` characters of the
    original text (before escaping, so an escape is never cut in half) when one is given,
    then every Markdown character escaped and mentions neutralised.
    """
    text = one_line(strip_invisible(value or "", keep_joiners=True))
    if limit is not None:
        text = truncate(text, limit)
    return escape_markdown(text)


def escape_block(value: str | None) -> str:
    """Multi-line user text (notes, story text) for Markdown: lines kept, each escaped,
    invisible and bidi characters dropped, trailing spaces and blank edges trimmed."""
    text = strip_invisible(value or "", keep_joiners=True)
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return escape_markdown("\n".join(lines))


def clean_line(value: str | None) -> str:
    """One-line user text as it should be stored: invisible and bidi characters dropped
    (joiners kept for emoji and scripts that need them), whitespace runs collapsed, no edges.
    Nothing is escaped: stored text stays what the person wrote; each surface escapes it."""
    return one_line(strip_invisible(value or "", keep_joiners=True))


def clean_multiline(value: str | None) -> str:
    """Multi-line user text as it should be stored: controls, bidi and zero-width characters
    dropped, line breaks (``\\r\\n``, ``\\r``, U+0085, U+2028/U+2029) made ``\\n``, tabs kept,
    trailing spaces and blank edges trimmed."""
    text = (value or "").replace("\r\n", "\n")
    out: list[str] = []
    for ch in text:
        if ch in "\n\r\x85\u2028\u2029":
            out.append("\n")
        elif ch == "\t":
            out.append(ch)
        elif ch in "\v\f\x1c\x1d\x1e\x1f":
            out.append(" ")
        elif not _is_invisible(ch, keep_joiners=True):
            out.append(ch)
    lines = [line.rstrip() for line in "".join(out).split("\n")]
    return "\n".join(lines).strip()


def plain(value: str | None, limit: int, *, empty: str = "") -> str:
    """``value`` for a place that shows text literally (no Markdown), at most ``limit`` chars.

    One line, invisible and bidi characters dropped, cut with an ellipsis. Nothing is
    escaped: these places would show a backslash. ``empty`` (itself cut to ``limit``) stands
    in when nothing visible is left, for places where Discord refuses an empty value
    (thread and event names, button and select labels, choice names).
    """
    text = truncate(clean_line(value), limit)
    return text or truncate(empty, limit)


# --------------------------------------------------------------------------- percentages


def whole_number(value: Fraction | Decimal | int) -> int:
    """``value`` rounded to a whole number, halves away from zero (12.5 → 13, -12.5 → -13).

    Not ``round()``, which rounds halves to even (62.5 → 62) and works on binary floats:
    5 of 8 would show as 63% on a poll and 62% in the sponsor's digest. Exact inputs only
    (a float is refused by the type), so a .5 is always exactly a half.
    """
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    with localcontext() as ctx:
        ctx.prec = 60
        return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent(numerator: int, denominator: int) -> int:
    """Whole percent of ``numerator/denominator``, rounded half up; 0 when nothing to divide.

    The one percentage helper of the whole project (polls, statement rounds, the digest):
    5 of 8 is 63% everywhere. The precision is raised far beyond what any denominator here
    can need, so the division is exact wherever the quotient has a .5.
    """
    if denominator <= 0:
        return 0
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(numerator * 100) / Decimal(denominator)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of_share(share: float | Fraction) -> int:
    """A share such as a configured threshold (0.625) as a whole percent, rounded half up
    like :func:`percent` (a float is read in its shortest decimal form, so 0.625 is 63)."""
    if isinstance(share, Fraction):
        return whole_number(share * 100)
    return whole_number(Decimal(repr(share)) * 100)
