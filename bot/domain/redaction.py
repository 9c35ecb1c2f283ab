"""Redaction of personal identifiers before any story text leaves its community.

Why this exists: stories are told inside a trusted group; the sponsor, a digest or an export
is a wider audience. Before text crosses that boundary we replace anything that could
identify a person with ``[redacted]``. We err on the side of redacting: a needlessly hidden
number costs little, a leaked NHS number costs a lot. Clean story text (times, doses, years,
ages, counts, ward numbers, percentages) must survive untouched, so every pattern below is
anchored to the shape of a real identifier rather than "any long number".

What is redacted, in this order (order matters: an earlier kind claims text first):

1. **E-mail addresses** (``local@domain.tld``). First, because the local part may hold digits
   that would otherwise look like a phone or NHS number.
2. **International phone numbers**, i.e. starting with ``+`` or ``00``: ``+44`` / ``0044``
   numbers with an optional ``(0)`` and a 9-10 digit UK national number, and any other
   country's number of 8-15 digits in total. Before NHS numbers and dates so that the tail
   of ``+1 415 555 2671`` or ``+49 30 12-03-56`` is never claimed by them, leaving the
   country code behind.
3. **NHS numbers**: ten digits written contiguously (``9434765919``) or grouped 3-3-4 with
   spaces or dashes (``943 476 5919``, ``943-476-5919``), **only** when the mod-11 check digit
   is valid (weights 10..2 on the first nine digits; check = 11 - (sum mod 11); 11 means 0;
   10 means the number is invalid). Ten digits with an invalid check digit are left alone
   unless they are also phone-shaped (they then fall to rule 5), e.g. ``9434765918`` stays.
4. **Full dates** (day + month + year), our rule for "dates of birth written as dates".
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
5. **UK national phone numbers** starting 01, 02, 03, 05, 07, 08 or 09 with 10 or 11 digits
   in any grouping with spaces, dashes, dots or brackets (``07700 900123``,
   ``(0161) 496-0123``, ``020 7946 0958``, ``07700900123``). For rules 2 and 5, trailing
   digit groups that would make the number too long are not swallowed ("07700 900123 2
   times" keeps " 2 times").
6. **UK postcodes** in every valid format (A9 9AA, A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA,
   AA9A 9AA, using the Royal Mail letter restrictions per position), the special ``GIR 0AA``
   and the British overseas territory codes (``ASCN 1ZZ``...), with or without the space,
   any letter case.

``redact`` is idempotent: ``[redacted]`` itself contains nothing any rule matches.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice

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

_NHS = re.compile(r"(?<![\w./+-])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\w]|[.,/-]\d)")


def nhs_number_is_valid(digits: str) -> bool:
    """True when ``digits`` (spaces and dashes allowed) is a ten-digit NHS number whose
    mod-11 check digit is right. Used so that arbitrary ten-digit numbers are not mistaken
    for NHS numbers."""
    plain = re.sub(r"[ -]", "", digits)
    if len(plain) != 10 or not plain.isascii() or not plain.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(plain[:9], range(10, 1, -1), strict=True))
    check = 11 - (total % 11)
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(plain[9])


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

# A run of digit groups that could be a phone number: an optional "+", then groups of
# digits (a group may be bracketed) separated by at most a short run of spaces, dashes or
# dots. Validation of the digits happens in code, group by group.
# Possessive ``\d++``: a run of digits is never split between groups, so a long number
# followed by a letter ("1111...1x") fails in linear time instead of trying every split
# (exponential backtracking: 30 digits took minutes and blocked the bot).
_PHONE_RUN = re.compile(
    r"(?<![\w+])(?:\+\s?)?\(?\d++\)?(?:[ \u00a0.\-]{0,3}\(?\d++\)?)*(?![\w])"
)
_PHONE_GROUP = re.compile(r"\(?\d+\)?")
_UK_NATIONAL_PREFIXES = "1235789"
#: A valid number has at most 15 digits (plus "(0)"), so it never spans more groups than this
#: (with room for a few "(0)"); looking further only costs time on long digit-heavy text.
_MAX_PHONE_GROUPS = 20


def _phone_is_valid(candidate: str) -> bool:
    text = candidate.strip()
    if text.startswith("+"):
        international = re.sub(r"\(0\)", "", text[1:])
    elif text.lstrip("(").startswith("00"):
        international = re.sub(r"\(0\)", "", text.lstrip("(")[2:])
    else:
        international = None
    if international is not None:
        digits = re.sub(r"\D", "", international)
        if digits.startswith("0"):
            return False
        if digits.startswith("44"):
            national = digits[2:]
            if national.startswith("0"):
                national = national[1:]
            return len(national) in (9, 10) and national[0] in _UK_NATIONAL_PREFIXES
        return 8 <= len(digits) <= 15
    digits = re.sub(r"\D", "", text)
    return (
        len(digits) in (10, 11)
        and digits[0] == "0"
        and digits[1] in _UK_NATIONAL_PREFIXES
        and text.count("(") == text.count(")")
    )


def _is_international_start(text: str) -> bool:
    return text.startswith("+") or text.lstrip("(").startswith("00")


def _longest_phone_prefix(run: str, groups: list[re.Match[str]]) -> tuple[int, int] | None:
    """Start and end of the longest prefix of ``run`` (ending at a group) that is a valid number. A
    closing bracket with no opening one belongs to the prose: "(call 07700 900123)"."""
    for end_group in range(len(groups) - 1, -1, -1):
        end = groups[end_group].end()
        if run[:end].endswith(")") and run[:end].count(")") > run[:end].count("("):
            end -= 1
        if _phone_is_valid(run[:end]):
            return 0, end
    if run.startswith("(") and run.count("(") > run.count(")"):
        # An opening bracket of the prose: "(07700 900123 is mine)".
        inner = _longest_phone_prefix(run[1:], list(_PHONE_GROUP.finditer(run[1:])))
        return None if inner is None else (inner[0] + 1, inner[1] + 1)
    return None


def _redact_international(run: str) -> tuple[str, int]:
    """First pass: only a number that starts the run with ``+`` or ``00``. Done before NHS
    numbers and dates so that no tail of an international number is claimed by them."""
    if not _is_international_start(run):
        return run, 0
    span = _longest_phone_prefix(run, list(islice(_PHONE_GROUP.finditer(run), _MAX_PHONE_GROUPS)))
    if span is None:
        return run, 0
    start, end = span
    nhs = _NHS.fullmatch(run[start:end])
    if nhs and nhs_number_is_valid(nhs.group(0)):
        return run, 0  # e.g. "0010000003": an NHS number, left for rule 3
    return run[:start] + REDACTED + run[end:], 1


def _redact_phone_run(run: str) -> tuple[str, int]:
    """Redact the longest valid phone number starting at the first group of ``run``; then
    carry on with whatever follows (which may hold another number).

    A loop rather than recursion: a long run of digit groups ("1 1 1 ...") must neither
    exhaust the stack nor take quadratic time.
    """
    parts: list[str] = []
    count = 0
    while True:
        groups = list(islice(_PHONE_GROUP.finditer(run), _MAX_PHONE_GROUPS))
        if not groups:
            parts.append(run)
            break
        span = _longest_phone_prefix(run, groups)
        if span is not None:
            start, end = span
            parts.append(run[:start] + REDACTED)
            count += 1
        else:
            # No number starts here: try from the next group on.
            end = groups[0].end()
            parts.append(run[:end])
        rest = run[end:]
        m = re.match(r"[ \u00a0.\-]*", rest)
        lead = m.group(0) if m else ""
        parts.append(lead)
        run = rest[len(lead) :]
        if not run:
            break
    return "".join(parts), count


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

    def replace_phone(m: re.Match[str], international_only: bool = False) -> str:
        if international_only:
            redacted, n = _redact_international(m.group(0))
        else:
            redacted, n = _redact_phone_run(m.group(0))
        counts[RedactionKind.PHONE] += n
        return redacted

    out = _PHONE_RUN.sub(lambda m: replace_phone(m, international_only=True), out)

    def replace_nhs(m: re.Match[str]) -> str:
        if not nhs_number_is_valid(m.group(1) + m.group(3) + m.group(4)):
            return m.group(0)
        counts[RedactionKind.NHS_NUMBER] += 1
        return REDACTED

    out = _NHS.sub(replace_nhs, out)

    out = sub(_DATE_WORDS, RedactionKind.DATE, out)

    def replace_numeric_date(m: re.Match[str]) -> str:
        if not _numeric_date_is_plausible(int(m.group(1)), int(m.group(3))):
            return m.group(0)
        counts[RedactionKind.DATE] += 1
        return REDACTED

    out = _DATE_NUMERIC.sub(replace_numeric_date, out)

    out = _PHONE_RUN.sub(replace_phone, out)
    out = sub(_POSTCODE, RedactionKind.POSTCODE, out)

    result = RedactionResult(text=out, counts=counts)
    if result.changed:
        log.debug("redacted %s", {k.value: v for k, v in counts.items() if v})
    return result
