from __future__ import annotations

import calendar
import itertools
import re
from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.domain.redaction import REDACTED, RedactionKind, nhs_number_is_valid, redact

PROSE_WORDS = [
    "my",
    "mum",
    "said",
    "call",
    "me",
    "on",
    "the",
    "ward",
    "nurse",
    "wrote",
    "it",
    "down",
    "as",
    "and",
    "then",
    "we",
    "waited",
    "her",
    "number",
    "was",
    "address",
    "is",
    "details",
]

prose = st.lists(st.sampled_from(PROSE_WORDS), min_size=0, max_size=5).map(" ".join)
punct = st.sampled_from(["", ".", ",", "!", ";", ")"])
FEW = settings(max_examples=60, deadline=None)


def embed(before: str, ident: str, trailing: str, after: str) -> str:
    return " ".join(p for p in (before, ident + trailing, after) if p)


def assert_caught(before: str, ident: str, trailing: str, after: str, kind: RedactionKind) -> None:
    text = embed(before, ident, trailing, after)
    result = redact(text)
    assert result.text == embed(before, REDACTED, trailing, after), (text, result.text)
    assert result.count(kind) == 1, (text, dict(result.counts))
    assert result.total == 1


def nhs_check(nine: str) -> int | None:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return {11: 0, 10: None}.get(check, check)


# --------------------------------------------------------------------------- NHS numbers


def test_nhs_known_examples() -> None:
    assert nhs_number_is_valid("9434765919")
    assert nhs_number_is_valid("943 476 5919")
    assert nhs_number_is_valid("943-476-5919")
    assert nhs_number_is_valid("943.476.5919")
    assert nhs_number_is_valid("94 34 76 59 19")
    assert nhs_number_is_valid("9434/765/919")
    assert not nhs_number_is_valid("9434765918")
    assert not nhs_number_is_valid("943476591")
    assert not nhs_number_is_valid("94347659190")
    assert not nhs_number_is_valid("94347659a9")
    assert not nhs_number_is_valid("")


def test_nhs_check_digit_ten_is_never_valid() -> None:
    prefix = next(f"{n:09d}" for n in range(1, 10**6) if nhs_check(f"{n:09d}") is None)
    assert all(not nhs_number_is_valid(prefix + str(d)) for d in range(10))


def test_nhs_check_eleven_means_zero() -> None:
    prefix = next(f"{n:09d}" for n in range(1, 10**6) if nhs_check(f"{n:09d}") == 0)
    assert nhs_number_is_valid(prefix + "0")
    assert not nhs_number_is_valid(prefix + "1")


nine_digits = st.text("0123456789", min_size=9, max_size=9)
valid_nhs = nine_digits.filter(lambda s: nhs_check(s) is not None).map(
    lambda s: s + str(nhs_check(s))
)


NHS_STYLES = ["plain", "spaces", "dashes", "dots", "slashes", "4-3-3", "2-2-2-2-2", "mixed"]


def written_nhs(digits: str, style: str) -> str:
    if style == "plain":
        return digits
    if style == "4-3-3":
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    if style == "2-2-2-2-2":
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    if style == "mixed":
        return f"{digits[:3]}.{digits[3:6]}-{digits[6:]}"
    sep = {"spaces": " ", "dashes": "-", "dots": ".", "slashes": "/"}[style]
    return f"{digits[:3]}{sep}{digits[3:6]}{sep}{digits[6:]}"


SEPARATORS = [" ", ".", "-", "/", "", " - ", "\u2013", "\u00a0", ". "]


@st.composite
def any_grouping(draw: st.DrawFn, digits: str) -> str:
    """Ten digits cut anywhere into groups, each gap with any separator (or none)."""
    cuts = sorted(draw(st.sets(st.integers(1, 9), max_size=9)))
    bounds = [0, *cuts, 10]
    groups = [digits[a:b] for a, b in itertools.pairwise(bounds)]
    out = groups[0]
    for group in groups[1:]:
        out += draw(st.sampled_from(SEPARATORS)) + group
    return out


@FEW
@given(prose, valid_nhs, st.sampled_from(NHS_STYLES), punct, prose)
def test_valid_nhs_numbers_are_caught(
    before: str, digits: str, style: str, trailing: str, after: str
) -> None:
    assert nhs_number_is_valid(digits)
    assert_caught(before, written_nhs(digits, style), trailing, after, RedactionKind.NHS_NUMBER)


@FEW
@given(prose, valid_nhs.flatmap(any_grouping), punct, prose)
def test_valid_nhs_numbers_in_any_grouping_are_caught(
    before: str, written: str, trailing: str, after: str
) -> None:
    assert nhs_number_is_valid(written)
    assert_caught(before, written, trailing, after, RedactionKind.NHS_NUMBER)


@pytest.mark.parametrize(
    "written",
    [
        "558.368.8297",
        "5583 688 297",
        "55 83 68 82 97",
        "558/368/8297",
        "558.368-8297",
        "55-83.68/82 97",
        "558 - 368 - 8297",
        "558\u2013368\u20138297",
        "558\u00a0368\u00a08297",
        "5 5 8 3 6 8 8 2 9 7",
        "55.83.68.82.97",
    ],
)
def test_nhs_number_groupings(written: str) -> None:
    result = redact(f"NHS no. {written}, please keep it safe")
    assert result.text == "NHS no. [redacted], please keep it safe"
    assert result.count(RedactionKind.NHS_NUMBER) == 1
    assert result.total == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # neighbouring numbers are kept, whatever the grouping
        ("NHS 55 83 68 82 97 3 times", "NHS [redacted] 3 times"),
        ("bed 12 558.368.8297", "bed 12 [redacted]"),
        ("2 5583 688 297 4", "2 [redacted] 4"),
        ("558.368.8297 558/368/8297", "[redacted] [redacted]"),
        # eleven digits written together, or joined by punctuation, are not an NHS number
        ("55836882971", "55836882971"),
        ("55.83.68.82.97.1", "55.83.68.82.97.1"),
        ("1.558.368.8297", "1.558.368.8297"),
        # glued to a word: not a number of its own
        ("5583 688 297th", "5583 688 297th"),
    ],
)
def test_nhs_numbers_do_not_swallow_neighbours(text: str, expected: str) -> None:
    assert redact(text).text == expected


@FEW
@given(
    prose,
    st.text("123456789", min_size=1, max_size=1),
    st.text("0123456789", min_size=8, max_size=8),
    st.integers(0, 9),
    st.sampled_from(NHS_STYLES),
    prose,
)
def test_invalid_nhs_check_digits_stay(
    before: str, first: str, rest: str, last: int, style: str, after: str
) -> None:
    nine = first + rest
    if nhs_check(nine) == last:
        last = (last + 1) % 10
    digits = nine + str(last)
    assert not nhs_number_is_valid(digits)
    text = embed(before, written_nhs(digits, style), "", after)
    # Not starting with 0 or +, so not phone-shaped either: nothing to redact.
    assert redact(text).text == text


@FEW
@given(
    prose,
    st.text("123456789", min_size=1, max_size=1),
    st.text("0123456789", min_size=8, max_size=8),
    st.integers(0, 9),
    st.data(),
)
def test_invalid_nhs_check_digits_stay_in_any_grouping(
    before: str, first: str, rest: str, last: int, data: st.DataObject
) -> None:
    nine = first + rest
    if nhs_check(nine) == last:
        last = (last + 1) % 10
    written = data.draw(any_grouping(nine + str(last)))
    # A later group starting with 0 could begin a (short) phone number, and "1.10.1000" is a
    # full date: neither is this test's point.
    assume(not re.search(r"(?<![0-9])0", written))
    assume(not re.search(r"[0-9]{1,4}([./-])[0-9]{1,2}\1[0-9]{1,4}", written))
    text = embed(before, written, "", "")
    assert redact(text).text == text


# --------------------------------------------------------------------------- phones

d = st.text("0123456789", min_size=1, max_size=1)


def digits_(n: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n, max_size=n)


@st.composite
def uk_mobile(draw: st.DrawFn) -> str:
    n = "7" + draw(digits_(9))  # national number without the trunk 0
    return draw(
        st.sampled_from(
            [
                f"0{n[:4]} {n[4:]}",
                f"0{n[:4]} {n[4:7]} {n[7:]}",
                f"0{n}",
                f"0{n[:4]}-{n[4:]}",
                f"(0{n[:4]}) {n[4:]}",
                f"+44 {n[:4]} {n[4:]}",
                f"+44 (0){n[:4]} {n[4:]}",
                f"0044 {n[:4]} {n[4:]}",
                f"+44{n}",
                f"0{n[:4]}.{n[4:7]}.{n[7:]}",
                f"0{n[:4]}/{n[4:]}",
                f"0{n[:4]}\u2013{n[4:]}",
                f"0{n[:4]}\u2009{n[4:]}",
                f"+44\u202f{n[:4]}\u202f{n[4:]}",
                f"(+44) {n[:4]} {n[4:]}",
            ]
        )
    )


@st.composite
def uk_landline(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["london", "city", "town"]))
    if kind == "london":  # 020 xxxx xxxx
        area, local = "20", draw(digits_(8))
        a, b = local[:4], local[4:]
    elif kind == "city":  # 0161 xxx xxxx
        area, local = "1" + draw(digits_(2)), draw(digits_(7))
        a, b = local[:3], local[3:]
    else:  # 01xxx xxxxxx
        area, local = "1" + draw(digits_(3)), draw(digits_(6))
        a, b = local[:3], local[3:]
    return draw(
        st.sampled_from(
            [
                f"0{area} {a} {b}",
                f"0{area}-{a}-{b}",
                f"(0{area}) {a} {b}",
                f"(0{area}) {a}-{b}",
                f"+44 (0){area} {a} {b}",
                f"+44 {area} {a}{b}",
                f"0044 {area} {a} {b}",
                f"0{area}.{a}.{b}",
                f"0{area} {a}\u2013{b}",
                f"(0{area})\u00a0{a}\u00a0{b}",
            ]
        )
    )


#: National significant number lengths of ordinary numbers per country code (libphonenumber
#: finds these possible; a trailing group beyond them is not part of the number).
NATIONAL_LENGTHS = {
    "1": [10],
    "33": [9],
    "49": [10, 11],
    "353": [9],
    "61": [9],
    "91": [10],
    "27": [9],
    "34": [9],
}


@st.composite
def international(draw: st.DrawFn) -> str:
    cc = draw(st.sampled_from(sorted(NATIONAL_LENGTHS)))
    total = draw(st.sampled_from(NATIONAL_LENGTHS[cc]))
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(min(draw(st.integers(1, 4)), total - sum(sizes)))
    groups = [draw(digits_(n)) for n in sizes]
    groups[0] = draw(st.text("123456789", min_size=1, max_size=1)) + groups[0][1:]
    sep = draw(st.sampled_from([" ", "-", " "]))
    trunk = "(0) " if cc in ("353", "49") and draw(st.booleans()) else ""
    return f"+{cc} {trunk}{sep.join(groups)}"


@FEW
@given(prose, uk_mobile(), punct, prose)
def test_uk_mobiles_are_caught(before: str, phone: str, trailing: str, after: str) -> None:
    assert_caught(before, phone, trailing, after, RedactionKind.PHONE)


@FEW
@given(prose, uk_landline(), punct, prose)
def test_uk_landlines_are_caught(before: str, phone: str, trailing: str, after: str) -> None:
    assert_caught(before, phone, trailing, after, RedactionKind.PHONE)


@FEW
@given(prose, international(), punct, prose)
def test_international_numbers_are_caught(
    before: str, phone: str, trailing: str, after: str
) -> None:
    assert_caught(before, phone, trailing, after, RedactionKind.PHONE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call 07700 900123 2 times", "call [redacted] 2 times"),
        ("07700900123 or 07700900124", "[redacted] or [redacted]"),
        ("07700 900123 07700 900124", "[redacted] [redacted]"),
        ("ring (0161) 496-0123 now", "ring [redacted] now"),
        ("+44 (0) 20 7946 0958.", "[redacted]."),
        ("+1 (415) 555-2671", "[redacted]"),
        ("+1 415 555 2671 is valid nhs-like tail", "[redacted] is valid nhs-like tail"),
        ("+49 30 12-03-56", "[redacted]"),
        ("0800 123 4567", "[redacted]"),
        ("0161 496 0000 24 hours a day", "[redacted] 24 hours a day"),
        ("born 01.03.1956, 07700 900123", "born [redacted], [redacted]"),
    ],
)
def test_phone_examples(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "phone", ["07700 900123", "+44 7700 900123", "(020) 7946 0958", "0161-496-0000"]
)
def test_phone_formats_of_the_issue(phone: str) -> None:
    result = redact(f"you can ring {phone} any time")
    assert result.text == "you can ring [redacted] any time"
    assert result.count(RedactionKind.PHONE) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # short numbers libphonenumber knows to be valid (Childline, the old NHS Direct)
        ("ring 0800 1111 for Childline", "ring [redacted] for Childline"),
        ("ring 08001111 for Childline", "ring [redacted] for Childline"),
        ("it was 0845 46 47 back then", "it was [redacted] back then"),
        # separators the hand-written patterns did not know
        ("text 07700/900123", "text [redacted]"),
        ("text 07700\u2013900123", "text [redacted]"),
        ("text 07700\u2009900123", "text [redacted]"),
        ("text +44\u202f7700\u202f900123", "text [redacted]"),
        (
            "text \uff10\uff17\uff17\uff10\uff10 \uff19\uff10\uff10\uff11\uff12\uff13",
            "text [redacted]",
        ),
        # extensions go with their number
        ("ring 0161 496 0000 ext 12 after 6", "ring [redacted] after 6"),
        ("call +1 (415) 555 2671 ext. 12 now", "call [redacted] now"),
        # brackets stay with the prose they belong to
        ("(+44) 7700 900123", "[redacted]"),
        ("me (07700 900123) or", "me ([redacted]) or"),
        # a count after a foreign number is not part of it (the country's lengths decide)
        ("+33 1 23 45 67 89 10 times", "[redacted] 10 times"),
    ],
)
def test_phone_formats_caught_by_libphonenumber(text: str, expected: str) -> None:
    result = redact(text)
    assert result.text == expected
    assert result.count(RedactionKind.PHONE) == 1
    assert result.total == 1


@pytest.mark.parametrize(
    "text",
    [
        "+1 234 5678 9",  # a digit short of a North American number
        "+33 1 23 45 67",  # too short for France
        "+999 1234 5678",  # no such country code
    ],
)
def test_international_numbers_of_a_wrong_length_are_still_caught(text: str) -> None:
    assert (
        redact(f"my cousin's number {text} abroad").text == "my cousin's number [redacted] abroad"
    )


def test_phone_that_is_also_a_valid_nhs_number_counts_as_nhs() -> None:
    assert nhs_number_is_valid("0123456789")
    result = redact("number 0123 456 789 on the letter")
    assert result.text == "number [redacted] on the letter"
    assert result.count(RedactionKind.NHS_NUMBER) == 1
    assert result.total == 1
    assert redact("(0123 456 789)").text == "([redacted])"
    assert redact("0010000003").count(RedactionKind.NHS_NUMBER) == 1


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # a phone number cut out of an NHS number would leave a digit behind
        ("0 080000002", RedactionKind.NHS_NUMBER),
        # the first ten digits pass the NHS check, but the whole is a phone number
        ("0044 100 000 0000", RedactionKind.PHONE),
        ("0044 124 821 1014", RedactionKind.PHONE),
        # with a "+" it is always a phone number
        ("+44 7700 900123", RedactionKind.PHONE),
    ],
)
def test_nhs_number_or_phone_number(text: str, kind: RedactionKind) -> None:
    result = redact(f"it is {text} on the form")
    assert result.text == "it is [redacted] on the form"
    assert result.count(kind) == 1
    assert result.total == 1


# --------------------------------------------------------------------------- e-mail


@st.composite
def email(draw: st.DrawFn) -> str:
    word = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
    local = draw(st.lists(word, min_size=1, max_size=3)).copy()
    sep = draw(st.sampled_from([".", "_", "-", "+"]))
    labels = draw(
        st.lists(
            st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8),
            min_size=1,
            max_size=3,
        )
    )
    tld = draw(st.sampled_from(["com", "uk", "org", "nhs.uk", "co.uk", "net"]))
    addr = f"{sep.join(local)}@{'.'.join(labels)}.{tld}"
    return addr.upper() if draw(st.booleans()) else addr


@FEW
@given(prose, email(), punct, prose)
def test_emails_are_caught(before: str, address: str, trailing: str, after: str) -> None:
    assert_caught(before, address, trailing, after, RedactionKind.EMAIL)


# --------------------------------------------------------------------------- postcodes

A1, A2, A3, A4 = (
    "ABCDEFGHIJKLMNOPRSTUWYZ",
    "ABCDEFGHKLMNOPQRSTUVWXY",
    "ABCDEFGHJKPSTUW",
    "ABEHMNPRVWXY",
)
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@st.composite
def postcode(draw: st.DrawFn) -> str:
    def one(chars: str) -> str:
        return draw(st.sampled_from(list(chars)))

    digit = lambda: one("0123456789")  # noqa: E731
    fmt = draw(st.sampled_from(["A9", "A99", "AA9", "AA99", "A9A", "AA9A", "GIR"]))
    if fmt == "GIR":
        outward, inward = "GIR", "0AA"
    else:
        outward = {
            "A9": lambda: one(A1) + digit(),
            "A99": lambda: one(A1) + digit() + digit(),
            "AA9": lambda: one(A1) + one(A2) + digit(),
            "AA99": lambda: one(A1) + one(A2) + digit() + digit(),
            "A9A": lambda: one(A1) + digit() + one(A3),
            "AA9A": lambda: one(A1) + one(A2) + digit() + one(A4),
        }[fmt]()
        inward = digit() + one(INWARD_LETTERS) + one(INWARD_LETTERS)
    code = outward + draw(st.sampled_from([" ", ""])) + inward
    case = draw(st.sampled_from(["upper", "lower", "mixed"]))
    if case == "lower":
        return code.lower()
    if case == "mixed":
        return "".join(c.lower() if i % 2 else c for i, c in enumerate(code))
    return code


@FEW
@given(prose, postcode(), punct, prose)
def test_postcodes_are_caught(before: str, code: str, trailing: str, after: str) -> None:
    assert_caught(before, code, trailing, after, RedactionKind.POSTCODE)


@pytest.mark.parametrize(
    "code",
    [
        "SW1A 1AA",
        "EC1A 1BB",
        "W1A 0AX",
        "M1 1AE",
        "B33 8TH",
        "CR2 6XH",
        "DN55 1PT",
        "gir 0aa",
        "ASCN 1ZZ",
        "sw1a1aa",
    ],
)
def test_postcode_examples(code: str) -> None:
    assert redact(f"we live at {code} now").text == "we live at [redacted] now"


# --------------------------------------------------------------------------- dates

MONTHS = list(calendar.month_name)[1:]


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@st.composite
def written_date(draw: st.DrawFn) -> str:
    day: date = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)))
    month = MONTHS[day.month - 1]
    dd = f"{day.day:02d}" if draw(st.booleans()) else str(day.day)
    mm = f"{day.month:02d}" if draw(st.booleans()) else str(day.month)
    variants = [
        f"{dd}/{mm}/{day.year}",
        f"{dd}-{mm}-{day.year % 100:02d}",
        f"{dd}.{mm}.{day.year}",
        f"{dd}/{mm}/{day.year % 100:02d}",
        f"{day.year}-{day.month:02d}-{day.day:02d}",
        f"{day.day} {month} {day.year}",
        f"{ordinal(day.day)} {month} {day.year}",
        f"{ordinal(day.day)} of {month} {day.year}",
        f"{ordinal(day.day)} of {month}, {day.year}",
        f"{month} {ordinal(day.day)} {day.year}",
        f"{month} {day.day}, {day.year}",
        f"{day.day} {month[:3]} {day.year}",
        f"{day.day} {month.lower()} '{day.year % 100:02d}",
    ]
    return draw(st.sampled_from(variants))


@FEW
@given(prose, written_date(), punct, prose)
def test_full_dates_are_caught(before: str, when: str, trailing: str, after: str) -> None:
    assert_caught(before, when, trailing, after, RedactionKind.DATE)


def test_date_rule_redacts_non_birth_full_dates_too() -> None:
    assert redact("my mum was diagnosed on 3 May 2021").text == "my mum was diagnosed on [redacted]"


# --------------------------------------------------------------------------- clean corpus

CLEAN_CORPUS = [
    "We got to the hospital at 10:30 and waited until 3pm.",
    "The nurse gave him 10 mg of morphine and 2.5ml of the syrup.",
    "She takes 500 micrograms twice a day with breakfast.",
    "In 2019 my dad noticed a lump but did nothing until 2020.",
    "I have been a GP since 1998 and I still learn from patients.",
    "Mum was aged 73 when she was told it had spread.",
    "He was moved to ward 12, then to ward 7B on the second floor.",
    "There is a 95% chance it will not come back, they said.",
    "We had 3 appointments in 2 weeks and 14 blood tests in total.",
    "The clinic runs from 9:00 to 17:30 on weekdays.",
    "It took 62 days from referral to first treatment.",
    "She had 6 cycles of chemotherapy, each lasting 21 days.",
    "The scan was booked for May 2021 but moved to June.",
    "On the 3rd of May we finally got the results.",
    "His PSA went from 4.5 to 12.8 in six months.",
    "I walked 10,000 steps a day through radiotherapy.",
    "Only 1 in 3 people in our group knew about the helpline.",
    "The tumour was 2.3 cm across, smaller than they feared.",
    "We drove 45 miles each way, 5 days a week, for 4 weeks.",
    "At 8am the ward round came and at 8.30am they left.",
    "Vitamin B12 injections every 12 weeks helped with the tiredness.",
    "Her dose went up to 1,500 mg a day in March.",
    "The waiting room had 30 chairs and 40 people.",
    "Bed 4 in bay 2 was by the window.",
    "He was 58, fit, and had never smoked.",
    "My 2 children were 7 and 11 at the time.",
    "The trial was phase 3 and had 400 participants.",
    "The 2-week wait referral came through in 9 days.",
    "We spent 1997 to 2003 caring for my father.",
    "I was on 0.5 mg of lorazepam for a while.",
    "From 2015-2018 I volunteered at the hospice.",
    "Stage 4 is not always the end of the road.",
    "A 50/50 chance is still a chance, my consultant said.",
    "She scored 8 out of 10 for pain at 2:15am.",
    "The Macmillan nurse visited on Tuesday the 14th.",
    "He lost 12 kg in 3 months before anyone listened.",
    "I was told to fast for 6 hours before the 11am scan.",
    "We were in room 101 for the results, which felt ominous.",
    "Our group has 24 members: 10 GPs, 8 nurses and 6 carers.",
    "Take 1-2 tablets every 4-6 hours, no more than 8 in 24 hours.",
    "Back in the 1980s nobody talked about cancer.",
    "The A&E wait was 4 hours 20 minutes.",
    "My CA-125 was 35 units per ml last time.",
    "Round 3 of treatment started on the 2nd.",
    "His temperature hit 38.5 degrees at 11pm.",
    "I waited 3 hours",
    "He is at stage 4 of 10 now.",
    "She was ill in 2019 and 2020.",
    "My dad, aged 67, was the oldest there.",
    "It is 500 mg twice a day for a week.",
    "Her doses went 0.25 0.5 0.75 1.0 mg over the month.",
    "The clinic is open from 0800 to 1700, 0900-1700 at weekends.",
    "We came back every year: 2015 2016 2017 2018 2019.",
    "The leaflet was version 1.2.3.4 of the guide.",
    "I counted 10 20 30 40 50 60 70 80 90 100 steps to the door.",
    "Call 999 in an emergency or 111 if it is not.",
    "His BP was 120/80 and his heart rate 72.",
    "I walked 2,500 steps, then 10,000 steps a week later.",
    "Take 1.5-2.5 ml at 08:30 and 17:00.",
    "His temperature went 37.5 38.2 38.9 39.1 38.6 overnight.",
]


def test_clean_corpus_is_large_enough() -> None:
    assert len(CLEAN_CORPUS) >= 40


@pytest.mark.parametrize("sentence", CLEAN_CORPUS)
def test_clean_sentences_are_unchanged(sentence: str) -> None:
    result = redact(sentence)
    assert result.text == sentence
    assert not result.changed


@FEW
@given(st.lists(st.sampled_from(CLEAN_CORPUS), min_size=1, max_size=6))
def test_clean_sentences_together_are_unchanged(sentences: list[str]) -> None:
    text = " ".join(sentences)
    assert redact(text).text == text


@pytest.mark.parametrize(
    "text",
    [
        "(0" * 3000,  # took about 20 minutes before: every group rescanned the whole run
        "0 " * 3000,
        "07700 " * 1000,
        "5583 688 297 " * 460,
        "+44 (0) " * 750,
        "1/6 " * 1500,
    ],
)
def test_digit_heavy_text_is_redacted_without_stalling(text: str) -> None:
    """No timing here: the suite's timeout catches a regression to super-linear time."""
    result = redact(text)
    assert result.total == result.text.count(REDACTED)


# --------------------------------------------------------------------------- idempotence

identifier = st.one_of(
    valid_nhs, uk_mobile(), uk_landline(), international(), email(), postcode(), written_date()
)
mixed = st.lists(
    st.one_of(identifier, st.sampled_from(PROSE_WORDS), st.sampled_from(CLEAN_CORPUS)), max_size=8
).map(" ".join)
noise = st.text(alphabet="0123456789 -+()./@:,abcegirmsAGIRSWX\n'", max_size=40)


@FEW
@given(mixed)
def test_redact_is_idempotent_on_stories(text: str) -> None:
    once = redact(text).text
    assert redact(once).text == once


@settings(max_examples=200, deadline=None)
@given(noise)
def test_redact_is_idempotent_on_noise(text: str) -> None:
    once = redact(text).text
    assert redact(once).text == once


def test_counts_cover_every_kind() -> None:
    text = (
        "Email a.b@example.org, NHS 943 476 5919, born 12/03/1956, "
        "phone 07700 900123, postcode SW1A 1AA."
    )
    result = redact(text)
    assert result.text == (
        "Email [redacted], NHS [redacted], born [redacted], phone [redacted], postcode [redacted]."
    )
    assert {k: result.count(k) for k in RedactionKind} == dict.fromkeys(RedactionKind, 1)
    assert result.total == 5
