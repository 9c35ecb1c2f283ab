"""Redaction of personal identifiers before any story text leaves its community.

Why this exists: stories are told inside a trusted group; the sponsor, a digest or an export
is a wider audience. Before text crosses that boundary we replace anything that could
identify a person with ``[redacted]``. We err on the side of redacting: a needlessly hidden
number costs little, a leaked NHS number costs a lot. Clean story text (times, doses, years,
ages, counts, ward numbers, percentages) must survive untouched, so every pattern below is
anchored to the shape of a real identifier rather than "any long number".

This file is longer than 400 lines because each kind's rule, its reasons and its edge cases
are kept beside one another: redaction is a consent promise, and a reader checking it should
find every rule, and why it is drawn where it is, in one place.

What is redacted, in this order (order matters: an earlier kind claims text first):

1. **E-mail addresses** (``local@domain.tld``). First, because the local part may hold digits
   that would otherwise look like a phone or NHS number.
2. **Phone numbers found by libphonenumber** (the ``phonenumbers`` package):
   ``PhoneNumberMatcher`` with default region GB at leniency ``POSSIBLE``, each match then
   checked by :func:`_phone_fit`. A number counts when it is written
   * internationally, with ``+`` or ``00`` (``+44 7700 900123``, ``0044 20 7946 0958``,
     ``+1 (415) 555-2671``, ``+44 (0)161 496 0000``) and libphonenumber finds it a possible
     number for its country, or failing that it has 8-15 digits in all, the E.164 shape (a
     typing slip, a number a digit short, a country code the library does not know); or
   * nationally, starting with the trunk ``0`` (``07700 900123``, ``(020) 7946 0958``,
     ``0161-496-0000``, ``07700.900.123``), possible as a *whole* UK number (not only as a
     local number without its area code) with at least nine digits after the ``0``, or
     valid in libphonenumber's metadata (``0800 1111``).
   Why not leniency ``VALID``: libphonenumber calls Ofcom's drama ranges (``07700 900xxx``,
   the numbers everyone uses in examples) and any range allocated after its metadata was
   built invalid, and a redactor must not miss a real number because a table is out of date.
   Why not ``POSSIBLE`` alone: it accepts "2019", "50/50" or "1.2.3.4" (possible *local*
   numbers), so bare years and scores would be redacted; numbers written without a ``0`` or
   ``+`` are never phones here. A candidate without a ``+`` gives way to an NHS number
   (rule 4) that starts before it, or at the same place and reaches as far ("0010000003",
   "0 080000002"); one that is itself ten digits with a valid NHS check digit is counted as
   an NHS number. A national number shaped like a
   numeric date (``01.03.1956``) is left to rule 5, and one starting "0." or "0," is a
   decimal ("0.25 0.5 0.75 1.0 mg").
3. **International numbers the matcher missed**, by a bounded scan of digit groups from a
   ``+`` or ``00``: the longest run of whole groups that libphonenumber finds possible,
   otherwise the longest with the E.164 shape. The matcher gives up on a number followed by
   more digits ("+1 415 555 2671 2 times": it tries the whole, which is too long, then
   single space-separated pieces). Before NHS numbers and dates so that the tail of
   ``+1 415 555 2671`` is never claimed by them.
4. **NHS numbers**: exactly ten digits in any grouping, with spaces, dots, hyphens, slashes
   (or Unicode dashes) between the parts or none at all (``9434765919``, ``943 476 5919``,
   ``943.476.5919``, ``9434 765 919``, ``94 34 76 59 19``, ``943-476.5919``), **only** when
   the mod-11 check digit is valid (weights 10..2 on the first nine digits; check = 11 - (sum
   mod 11); 11 means 0; 10 means the number is invalid). Ten digits with an invalid check
   digit are left alone unless they are also phone-shaped (rules 2, 3, 6), e.g.
   ``9434765918`` stays. Neighbouring digits are never swallowed: the ten digits must be
   whole space-separated parts of a run of numbers ("ward 12 9434765919" keeps "ward 12 ",
   "943 476 5919 2 times" keeps " 2 times"), a part joined by punctuation is never split,
   and eleven or more digits written together are never an NHS number. The price of "any
   grouping": a run of small numbers with no words between them that happens to hold ten
   digits ("cycles 1/6 2/6 3/6 4/6 5/6") passes the check digit about one time in eleven
   and is then redacted too.
5. **Full dates** (day + month + year), our rule for "dates of birth written as dates".
   Whether a date is a birth date cannot be told reliably from the words around it ("born
   on", "DOB", "mum's birthday was"...), and any full date can single a person out when
   combined with a story, so *every* full date is redacted, e.g. ``12/03/1956``,
   ``12-03-56``, ``12.03.1956``, ``1956-03-12``, ``12 March 1956``, ``12th of March, 1956``,
   ``March 12th 1956``, ``Mar 12, 1956``, ``12 March '56``. This means "diagnosed on 3 May
   2021" becomes "diagnosed on [redacted]": accepted on purpose. Never redacted: bare years
   ("in 2019"), month and year ("May 2021"), day and month without a year ("3rd May"),
   times ("10:30", "3pm"). Numeric dates are accepted in day-first or month-first order as
   long as one reading has day 1-31 and month 1-12; impossible days such as 31/02 are still
   redacted (a typo in a birth date is still a birth date). Written dates need a four-digit
   year or an apostrophe two-digit year, so "12 March 56 people came" is not a date.
6. **National numbers the matcher missed** ("07700 900123 2 times", "0161 496 0000 24 hours
   a day": see rule 3), by the same scan from any group starting with ``0``, accepted by the
   rule-2 test. After dates, so that "01.03.1956 07700 900123" is a date and a phone rather
   than a phone made of "03.1956 07700". Trailing digit groups that would make a number too
   long are not swallowed ("07700 900123 2 times" keeps " 2 times").
7. **UK postcodes** in every valid format (A9 9AA, A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA,
   AA9A 9AA, using the Royal Mail letter restrictions per position), the special ``GIR 0AA``
   and the British overseas territory codes (``ASCN 1ZZ``...), with or without the space,
   any letter case.

Every pattern is linear-time (possessive digit groups, bounded separators) and every scan
looks at a bounded number of groups, so hostile text ("1 " * 3000) cannot stall a digest.

``redact`` is idempotent: ``[redacted]`` itself contains nothing any rule matches.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from typing import Literal

import phonenumbers
from phonenumbers import (
    Leniency,
    NumberParseException,
    PhoneNumber,
    PhoneNumberMatcher,
    ValidationResult,
)

log = logging.getLogger(__name__)

REDACTED = "[redacted]"


class RedactionKind(StrEnum):
    EMAIL = "email"
    NHS_NUMBER = "nhs_number"
    DATE = "date"
    PHONE = "phone"
    POSTCODE = "postcode"


@dataclass(frozen=True, eq=True)
class RedactionResult:
    """The redacted text and how many items of each kind were replaced."""

    text: str
    counts: Mapping[RedactionKind, int] = field(default_factory=dict)

    def count(self, kind: RedactionKind) -> int:
        return self.counts.get(kind, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def changed(self) -> bool:
        return self.total > 0


# --------------------------------------------------------------------------- e-mail

_EMAIL = re.compile(
    r"(?<![\w.+%-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]*[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![\w-])"
)

# --------------------------------------------------------------------------- NHS number

#: What may stand between the parts of a number as people type it: spaces (also no-break and
#: thin), tabs, dots, slashes, hyphens and the Unicode dashes.
_NUMBER_SEP = r"[ \t\u00a0\u2009\u202f./\-\u2010-\u2015]"
_NUMBER_SEP_RE = re.compile(_NUMBER_SEP)
#: A run of ASCII digit groups with one to three separator characters between groups, not
#: glued to a word or a "+" before it. Possessive throughout: linear time on any input.
_DIGIT_RUN = re.compile(rf"(?<![\w+])[0-9]++(?:{_NUMBER_SEP}{{1,3}}+[0-9]++)*+")
#: The space-separated parts of a run; a part may join groups by punctuation ("558.368").
_RUN_PART = re.compile(r"\S+")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_NHS_DIGITS = 10


def nhs_number_is_valid(digits: str) -> bool:
    """True when ``digits`` (any separators of a written number allowed: spaces, dots,
    hyphens, slashes, dashes) is a ten-digit NHS number whose mod-11 check digit is right.
    Used so that arbitrary ten-digit numbers are not mistaken for NHS numbers."""
    plain = _NUMBER_SEP_RE.sub("", digits)
    if len(plain) != _NHS_DIGITS or not plain.isascii() or not plain.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(plain[:9], range(10, 1, -1), strict=True))
    check = 11 - (total % 11)
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(plain[9])


def _nhs_spans(run: str, glued_to_word: bool, merge: bool = True) -> list[tuple[int, int]]:
    """Spans of ``run`` that are NHS numbers: consecutive whole parts holding exactly ten
    digits with a valid check digit. Overlapping finds are merged unless ``merge`` is false
    (both are redacted); a last part glued to a following word ("5919th") is not a number of
    its own and is left out."""
    parts = [
        (m.start(), m.end(), sum(map(len, _ASCII_DIGITS.findall(m.group(0)))))
        for m in _RUN_PART.finditer(run)
    ]
    if glued_to_word:
        parts.pop()
    spans: list[tuple[int, int]] = []
    for first in range(len(parts)):
        if parts[first][2] == 0:
            continue  # a lone separator (" - ") never starts a number
        total, last = 0, first
        while last < len(parts) and total < _NHS_DIGITS:
            total += parts[last][2]
            last += 1
        if total != _NHS_DIGITS:
            continue
        start, end = parts[first][0], parts[last - 1][1]
        if not nhs_number_is_valid(run[start:end]):
            continue
        if merge and spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _glued_to_word(text: str, end: int) -> bool:
    after = text[end : end + 1]
    return after.isalnum() or after == "_"


def _nhs_spans_in(text: str) -> list[tuple[int, int]]:
    """Where rule 4 finds NHS numbers in ``text``, each on its own (not merged)."""
    found: list[tuple[int, int]] = []
    for m in _DIGIT_RUN.finditer(text):
        if len(m.group(0)) >= _NHS_DIGITS:
            spans = _nhs_spans(m.group(0), _glued_to_word(text, m.end()), merge=False)
            found += [(m.start() + a, m.start() + b) for a, b in spans]
    return found


def _yields_to_nhs(raw: str, start: int, end: int, nhs: list[tuple[int, int]]) -> bool:
    """Whether a phone candidate ``text[start:end]`` gives way to an NHS number (rule 4). Only
    a candidate without a "+" does, and only to an NHS number that starts before it, or at the
    same place and reaches at least as far: "0 080000002" and "0010000003" are NHS numbers,
    not phone numbers with a stray digit, but "0044 100 000 0000" stays a phone number though
    its first ten digits pass the NHS check."""
    if _has_plus(raw):
        return False
    return any(a < end and start < b and (a < start or (a == start and b >= end)) for a, b in nhs)


# --------------------------------------------------------------------------- dates

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_YEAR_WRITTEN = r"(?:\d{4}|['’]\d{2})"
_DATE_PATTERNS = [
    # 12 March 1956, 12th of March, 1956, 12 Mar '56
    rf"\b{_DAY}\s+(?:of\s+)?{_MONTHS}\s*,?\s+{_YEAR_WRITTEN}(?![\w'’])",
    # March 12th 1956, Mar 12, 1956, March 12th, '56
    rf"\b{_MONTHS}\s+{_DAY}\s*,?\s+{_YEAR_WRITTEN}(?![\w'’])",
    # 1956-03-12, 1956/3/12, 1956.03.12
    r"(?<![\w./-])[12]\d{3}([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])(?![\w]|[./-]\d)",
]
_DATE_WORDS = re.compile("|".join(_DATE_PATTERNS), re.IGNORECASE)
_DATE_NUMERIC = re.compile(
    r"(?<![\w./:-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w]|[./:-]\d)"
)


def _numeric_date_is_plausible(a: int, b: int) -> bool:
    day_first = 1 <= a <= 31 and 1 <= b <= 12
    month_first = 1 <= a <= 12 and 1 <= b <= 31
    return day_first or month_first


# --------------------------------------------------------------------------- phones

_REGION = "GB"
#: The shortest candidate worth handing to libphonenumber: "08001111" (0800 1111) is the
#: shortest number :func:`_phone_fit` accepts. Shorter candidates ("2019", "aged 67") are skipped
#: before any parsing.
_MIN_CANDIDATE_CHARS = 8
_PLUS = "+\uff0b"  # with the fullwidth form libphonenumber also reads
_PLUS_OR_ZERO = _PLUS + "0\uff10"
_MIN_NATIONAL_DIGITS = 9  # after the trunk 0, unless libphonenumber finds the number valid
_E164_DIGITS = range(8, 16)  # country code + national number (E.164)


def _has_plus(raw: str) -> bool:
    return any(plus in raw for plus in _PLUS)


def _written_as(raw: str) -> Literal["international", "national"] | None:
    """How ``raw`` is written: with ``+`` or ``00`` and a country code, with the UK trunk
    ``0``, or neither (then it is not a phone number for us)."""
    head = raw.lstrip("( \u00a0")[:8]  # only the start matters; ``raw`` may be a long run
    if not head or head[0] not in _PLUS_OR_ZERO:
        return None  # the common case ("2019", "10"), decided without normalising digits
    if head[0] in _PLUS:
        return "international"
    digits = phonenumbers.normalize_digits_only(head)
    if digits.startswith("00"):
        return "international" if digits[2:3] not in ("", "0") else None
    return "national" if digits.startswith("0") else None


#: Thin spaces, which libphonenumber does not read as punctuation, become plain spaces.
_THIN_SPACES = str.maketrans({"\u2009": " ", "\u202f": " "})


def _parse(raw: str) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(raw.translate(_THIN_SPACES), _REGION)
    except NumberParseException:
        return None


#: "0.25 0.5 0.75 1.0 mg" is a list of doses, not 025 0507 5100: no number is written "0.".
_DECIMAL_START = re.compile(r"[(\s]*0[.,]")


def _is_date_shaped(raw: str) -> bool:
    m = _DATE_NUMERIC.fullmatch(raw.strip())
    return m is not None and _numeric_date_is_plausible(int(m.group(1)), int(m.group(3)))


#: How well a candidate fits: libphonenumber finds it a possible number, or (international
#: numbers only) it merely has the E.164 shape of 8-15 digits.
_FIT_POSSIBLE = 2
_FIT_E164 = 1


def _phone_fit(raw: str, number: PhoneNumber | None = None) -> int | None:
    """How well ``raw`` fits as a phone number to redact (module docstring, rules 2 and 3):
    ``_FIT_POSSIBLE``, ``_FIT_E164`` (international only: a wrong length for the country, or a
    country code libphonenumber does not know) or None when it is not a phone number."""
    written = _written_as(raw)
    if written is None:
        return None
    number = number if number is not None else _parse(raw)
    if written == "international":
        if number is None:
            digits = phonenumbers.normalize_digits_only(raw)
            if raw.lstrip("( \u00a0")[:1] not in _PLUS:
                digits = digits[2:]  # the "00"
            return _FIT_E164 if len(digits) in _E164_DIGITS else None
        if phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE:
            return _FIT_POSSIBLE
        national = phonenumbers.national_significant_number(number)
        return _FIT_E164 if len(str(number.country_code)) + len(national) in _E164_DIGITS else None
    if number is None or _is_date_shaped(raw) or _DECIMAL_START.match(raw):
        return None
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        return None
    national = phonenumbers.national_significant_number(number)
    if len(national) >= _MIN_NATIONAL_DIGITS or phonenumbers.is_valid_number(number):
        return _FIT_POSSIBLE
    return None


def _phone_kind(raw: str) -> RedactionKind:
    """An accepted phone number that is also ten digits with a valid NHS check digit (and no
    ``+``) is counted as an NHS number: either way it is redacted."""
    digits = phonenumbers.normalize_digits_only(raw)
    if not _has_plus(raw) and nhs_number_is_valid(digits):
        return RedactionKind.NHS_NUMBER
    return RedactionKind.PHONE


def _redact_matched_phones(text: str, counts: dict[RedactionKind, int]) -> str:
    """Rule 2: libphonenumber's matcher."""
    parts: list[str] = []
    pos = 0
    matcher = PhoneNumberMatcher(
        text, _REGION, leniency=Leniency.POSSIBLE, min_candidate_length=_MIN_CANDIDATE_CHARS
    )
    nhs: list[tuple[int, int]] | None = None  # found only when a candidate needs them
    for match in matcher:
        raw, start = match.raw_string, match.start
        if raw.startswith("(") and raw.count("(") > raw.count(")"):
            raw, start = raw[1:], start + 1  # "(07700 900123)": the brackets are the prose's
        if _phone_fit(raw, match.number) is None:
            continue
        if not _has_plus(raw):
            nhs = _nhs_spans_in(text) if nhs is None else nhs
            if _yields_to_nhs(raw, start, match.end, nhs):
                continue
        parts += [text[pos:start], REDACTED]
        counts[_phone_kind(raw)] += 1
        pos = match.end
    parts.append(text[pos:])
    return "".join(parts)


# Rules 3 and 6: a run of digit groups that could be a phone number: an optional "+", then
# groups of digits (a group may be bracketed) separated by at most a short run of spaces
# (also no-break and thin), dashes, dots or slashes.
# Possessive ``\d++``: a run of digits is never split between groups, so a long number
# followed by a letter ("1111...1x") fails in linear time instead of trying every split
# (exponential backtracking: 30 digits took minutes and blocked the bot).
_PHONE_SEP = r"[ \u00a0\u2009\u202f./\-\u2010-\u2015]"
_PHONE_RUN = re.compile(
    rf"(?<![\w+])(?:\+\s?)?\(?\d++\)?(?:{_PHONE_SEP}{{0,3}}\(?\d++\)?)*(?![\w])"
)
_PHONE_GROUP = re.compile(r"\(?\d+\)?")
_PHONE_START = re.compile(r"(?<!\d)[+0\uff0b\uff10]")
#: A valid number has at most 15 digits (plus "(0)"), so it never spans more groups than this
#: (with room for a few "(0)"); looking further only costs time on long digit-heavy text.
_MAX_PHONE_GROUPS = 20
#: Digits a candidate may hold, by how it is written; others are not parsed at all (this keeps
#: the scan cheap on digit-heavy text such as "0 0 0 0 ...").
_NATIONAL_DIGITS = range(8, 12)  # "0" + 7 to 10 digits
_INTERNATIONAL_DIGITS = range(4, 19)  # "00" + up to 15 digits + a "(0)"


def _longest_phone_prefix(
    run: str, groups: list[re.Match[str]]
) -> tuple[int, int, RedactionKind] | None:
    """Start, end and kind of the longest prefix of ``run`` (ending at a group) that is a phone
    number, preferring one libphonenumber finds possible over the any-length fallback. A
    closing bracket with no opening one belongs to the prose: "(call 07700 900123)"."""
    written = _written_as(run)
    if written is not None:
        allowed = _NATIONAL_DIGITS if written == "national" else _INTERNATIONAL_DIGITS
        candidates: list[str] = []
        digits = 0
        for group in groups:
            digits += sum(c.isdigit() for c in group.group(0))
            end = group.end()
            if run[:end].endswith(")") and run[:end].count(")") > run[:end].count("("):
                end -= 1
            if digits in allowed:
                candidates.append(run[:end])
        best: tuple[int, str] | None = None
        for candidate in reversed(candidates):
            fit = _phone_fit(candidate)
            if fit is not None and (best is None or fit > best[0]):
                best = (fit, candidate)
                if fit == _FIT_POSSIBLE:
                    break
        if best is not None:
            return 0, len(best[1]), _phone_kind(best[1])
    head = run[: groups[-1].end()] if groups else run  # never more than the groups looked at
    if head.startswith("(") and head.count("(") > head.count(")"):
        # An opening bracket of the prose: "(07700 900123 is mine)".
        rest = run[1:]
        inner = _longest_phone_prefix(
            rest, list(islice(_PHONE_GROUP.finditer(rest), _MAX_PHONE_GROUPS))
        )
        return None if inner is None else (inner[0] + 1, inner[1] + 1, inner[2])
    return None


def _redact_international(m: re.Match[str], counts: dict[RedactionKind, int]) -> str:
    """Rule 3: only a number that starts the run with ``+`` or ``00``."""
    run = m.group(0)
    if _written_as(run) != "international":
        return run
    groups = list(islice(_PHONE_GROUP.finditer(run), _MAX_PHONE_GROUPS))
    span = _longest_phone_prefix(run, groups)
    if span is None:
        return run
    start, end, kind = span
    if not _has_plus(run):  # "00": an NHS number may start so ("0010000003")
        ahead = m.string[m.start() : m.end() + 1]  # the run and whether a word is glued to it
        if _yields_to_nhs(run[start:end], start, end, _nhs_spans_in(ahead)):
            return run
    counts[kind] += 1
    return run[:start] + REDACTED + run[end:]


def _redact_phone_run(run: str, counts: dict[RedactionKind, int]) -> str:
    """Rule 6: redact the longest phone number starting at the first group of ``run``; then
    carry on with whatever follows (which may hold another number).

    A loop rather than recursion: a long run of digit groups ("1 1 1 ...") must neither
    exhaust the stack nor take quadratic time.
    """
    parts: list[str] = []
    while True:
        groups = list(islice(_PHONE_GROUP.finditer(run), _MAX_PHONE_GROUPS))
        if not groups:
            parts.append(run)
            break
        span = _longest_phone_prefix(run, groups)
        if span is not None:
            start, end, kind = span
            parts.append(run[:start] + REDACTED)
            counts[kind] += 1
        else:
            # No number starts here: try from the next group on.
            end = groups[0].end()
            parts.append(run[:end])
        rest = run[end:]
        m = re.match(rf"{_PHONE_SEP}*", rest)
        lead = m.group(0) if m else ""
        parts.append(lead)
        run = rest[len(lead) :]
        if not run:
            break
    return "".join(parts)


# --------------------------------------------------------------------------- postcodes

_PC_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_PC_A1 = r"[A-PR-UWYZ]"  # first letter: not Q, V, X
_PC_A2 = r"[A-HK-Y]"  # second letter: not I, J, Z
_PC_A3 = r"[A-HJKPSTUW]"  # third position letter in A9A
_PC_A4 = r"[ABEHMNPRVWXY]"  # fourth position letter in AA9A
_PC_OUTWARD = (
    rf"(?:{_PC_A1}[0-9]{{1,2}}|{_PC_A1}{_PC_A2}[0-9]{{1,2}}|{_PC_A1}[0-9]{_PC_A3}"
    rf"|{_PC_A1}{_PC_A2}[0-9]{_PC_A4})"
)
_PC_SPECIAL = (
    r"(?:GIR[ \u00a0]?0AA|(?:ASCN|STHL|TDCU|BBND|BIQQ|FIQQ|PCRN|SIQQ|TKCA)[ \u00a0]?1ZZ"
    r"|GX11[ \u00a0]?1AA)"
)
_POSTCODE = re.compile(
    rf"(?<![\w]){_PC_SPECIAL}(?![\w])|(?<![\w]){_PC_OUTWARD}[ \u00a0]?{_PC_INWARD}(?![\w])",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- redact


def redact(text: str) -> RedactionResult:
    """Replace every identifier described in the module docstring by ``[redacted]``."""
    counts: dict[RedactionKind, int] = dict.fromkeys(RedactionKind, 0)

    def sub(pattern: re.Pattern[str], kind: RedactionKind, value: str) -> str:
        def replace(_m: re.Match[str]) -> str:
            counts[kind] += 1
            return REDACTED

        return pattern.sub(replace, value)

    out = sub(_EMAIL, RedactionKind.EMAIL, text)
    out = _redact_matched_phones(out, counts)
    out = _PHONE_RUN.sub(lambda m: _redact_international(m, counts), out)

    def replace_nhs(m: re.Match[str]) -> str:
        run = m.group(0)
        if len(run) < _NHS_DIGITS:
            return run  # most runs: "10", "2019", "2.5"
        spans = _nhs_spans(run, _glued_to_word(m.string, m.end()))
        if not spans:
            return run
        counts[RedactionKind.NHS_NUMBER] += len(spans)
        pieces, pos = [], 0
        for start, end in spans:
            pieces += [run[pos:start], REDACTED]
            pos = end
        return "".join(pieces) + run[pos:]

    out = _DIGIT_RUN.sub(replace_nhs, out)

    out = sub(_DATE_WORDS, RedactionKind.DATE, out)

    def replace_numeric_date(m: re.Match[str]) -> str:
        if not _numeric_date_is_plausible(int(m.group(1)), int(m.group(3))):
            return m.group(0)
        counts[RedactionKind.DATE] += 1
        return REDACTED

    out = _DATE_NUMERIC.sub(replace_numeric_date, out)

    def replace_national(m: re.Match[str]) -> str:
        run = m.group(0)
        if not _PHONE_START.search(run):
            return run  # most runs: no group starts with "0" or "+"
        return _redact_phone_run(run, counts)

    out = _PHONE_RUN.sub(replace_national, out)
    out = sub(_POSTCODE, RedactionKind.POSTCODE, out)

    result = RedactionResult(text=out, counts=counts)
    if result.changed:
        log.debug("redacted %s", {k.value: v for k, v in counts.items() if v})
    return result
