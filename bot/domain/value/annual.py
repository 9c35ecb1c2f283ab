"""The members' annual report: the questions, a member's answer, and the aggregate for the sponsor.

Pure: no Discord, no database. The organisation asks each funded member once a year whom
they were in contact with, the educational activities they ran, the feedback and stories
they heard and the skills or qualifications they gained (and, optionally, anything else).
:func:`aggregate` turns the answers into what the sponsor reads:

* how many members answered, of how many;
* per question, how many members answered it and, where the answer is a list (contacts,
  activities, skills), how many items they listed in all. An item is a line or a part
  between semicolons, bullets and numbering stripped; "none", "n/a", "-" and the like count
  as no item (:func:`items`). Commas do not split: "taught nurses, GPs and carers" is one
  activity;
* themes: a theme is a label with a list of words from the configuration
  (``[annual] themes``); it counts each member once when any of their answers contains one
  of its words at the start of a word ("teach" finds "teaching", not "reteach"). Only the
  labels and counts leave: a word mined from the answers themselves could carry a fragment
  of an answer its writer did not agree to quote (a patient's name mentioned by three
  members), so themes come from the configured list only;
* quotes: ONLY the answers of members who chose to be quoted (never their list of
  contacts, which names third parties who agreed to nothing), through the one exit
  :func:`bot.domain.stories.shareable_view` (Discord identifiers scrubbed, personal details
  redacted, a name only for ``named``). Everyone else's words are counted, never quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from bot.domain.stories import Consent, StoryRecord, shareable_view
from bot.errors import InvalidInput
from bot.text import clean_multiline

#: Longest answer to one question (a form box): long enough for a year's list, short enough
#: for the report to stay readable. Discord's own limit for a box is 4000.
MAX_FIELD = 1000
#: The least time a member gets to answer, and the default.
MIN_OPEN = timedelta(days=1)
DEFAULT_OPEN = timedelta(weeks=4)
#: Shorter collections than this get no reminder.
MIN_FOR_REMINDER = timedelta(days=2)


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    """The form's label (Discord: at most 45 characters) and the report's heading."""
    placeholder: str
    #: "contact"/"contacts": the answer is a list whose items are counted; None: not counted.
    item_words: tuple[str, str] | None
    #: False: counted, never quoted (the contacts name third parties, who agreed to nothing).
    quotable: bool = True


QUESTIONS: tuple[Question, ...] = (
    Question(
        "contacts", "Whom were you in contact with?",
        "Practices, professionals, services: one per line", ("contact", "contacts"),
        quotable=False,
    ),
    Question(
        "education", "Educational activities you ran",
        "Talks, teaching, sessions: one per line", ("activity", "activities"),
    ),
    Question(
        "feedback", "Feedback and stories you heard",
        "What people told you about care, the community, your work", None,
    ),
    Question(
        "skills", "Skills or qualifications gained",
        "One per line", ("skill or qualification", "skills or qualifications"),
    ),
    Question("other", "Anything else (optional)", "Anything else the organisation should know",
             None),
)  # fmt: skip
QUESTION_KEYS = tuple(q.key for q in QUESTIONS)

#: How a member lets their words be quoted. Not quoted is the default.
QUOTE_CHOICES: tuple[Consent, ...] = (Consent.GROUP, Consent.ANONYMOUS, Consent.NAMED)


def parse_quote_consent(value: str) -> Consent:
    try:
        consent = Consent(str(value).strip().lower())
    except ValueError:
        consent = Consent.WITHDRAWN
    if consent not in QUOTE_CHOICES:
        raise InvalidInput(
            "Choose one of: not quoted, quoted without your name, quoted with your name."
        )
    return consent


@dataclass(frozen=True)
class AnnualAnswer:
    """One member's answer as stored."""

    user_id: int
    texts: Mapping[str, str]
    consent: Consent
    answered_at: datetime
    updated_at: datetime

    def text(self, key: str) -> str:
        return self.texts.get(key, "")

    @property
    def empty(self) -> bool:
        return not any(self.text(k).strip() for k in QUESTION_KEYS)


def validate_answer(raw: Mapping[str, str | None]) -> dict[str, str]:
    """The answer as stored: every box cleaned (lines kept), at most :data:`MAX_FIELD`
    characters each, and something written in at least one."""
    cleaned = {k: clean_multiline(raw.get(k) or "") for k in QUESTION_KEYS}
    for q in QUESTIONS:
        if len(cleaned[q.key]) > MAX_FIELD:
            raise InvalidInput(
                f"“{q.label}” is {len(cleaned[q.key])} characters long; the most is "
                f"{MAX_FIELD}. Shorten it and send your answer again."
            )
    if not any(cleaned.values()):
        raise InvalidInput(
            "Nothing was saved: every box was empty. Press the button again and write at "
            "least one answer."
        )
    return cleaned


# --------------------------------------------------------------------------- counting

_SPLIT = re.compile(r"[\n;]+")
_BULLET = re.compile(r"^\s*(?:[-*•–—·]+|\(?\d{1,3}[.)])\s*")
_NOTHING = frozenset({
    "", "-", "--", "none", "nothing", "no", "n/a", "na", "nil", "not applicable", "none yet",
    "nothing yet", "nothing this year", "none this year", ".", "…", "...",
})  # fmt: skip


def items(text: str) -> list[str]:
    """The items of a list answer: lines and semicolon-separated parts, bullets stripped,
    answers meaning "nothing" dropped."""
    out = []
    for part in _SPLIT.split(text or ""):
        item = _BULLET.sub("", part).strip()
        if item.casefold().rstrip(".! ") in _NOTHING:
            continue
        out.append(item)
    return out


def says_something(text: str) -> bool:
    """Whether an answer says anything beyond "none"."""
    return bool(items(text))


@dataclass(frozen=True)
class QuestionCount:
    key: str
    label: str
    #: Members whose answer to this question says something.
    members: int
    #: Items listed in all (list questions only).
    items: int | None
    item_words: tuple[str, str] | None


@dataclass(frozen=True)
class Theme:
    label: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class ThemeCount:
    label: str
    members: int
    words: tuple[str, ...]


def themes_from_config(config: Mapping[str, Sequence[str]]) -> tuple[Theme, ...]:
    return tuple(
        Theme(label, tuple(w.strip().casefold() for w in words if w.strip()))
        for label, words in config.items()
    )


@cache
def _theme_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(
        r"\s+".join(re.escape(part) for part in w.split()) for w in sorted(words, key=len)[::-1]
    )
    return re.compile(rf"(?<!\w)(?:{alternatives})", re.IGNORECASE)


def theme_counts(
    answers: Iterable[AnnualAnswer], themes: Sequence[Theme], minimum: int = 1
) -> list[ThemeCount]:
    """Each theme with the number of members whose answers mention one of its words; themes
    fewer than ``minimum`` members mentioned are left out (with a small group, "1 member
    mentioned mental health" could single someone out). Most mentioned first, then by label."""
    texts = ["\n".join(a.text(k) for k in QUESTION_KEYS) for a in answers]
    found = []
    for theme in themes:
        if not theme.words:
            continue
        pattern = _theme_pattern(theme.words)
        n = sum(1 for t in texts if pattern.search(t))
        if n and n >= minimum:
            found.append(ThemeCount(theme.label, n, theme.words))
    return sorted(found, key=lambda t: (-t.members, t.label.casefold()))


# --------------------------------------------------------------------------- quotes


@dataclass(frozen=True)
class Quote:
    """Words a member agreed to have quoted, as they may leave the community: redacted,
    Discord identifiers scrubbed, and a name only when they chose ``named``."""

    question: str
    text: str
    name: str | None


def quotes_of(answer: AnnualAnswer, display_name: str | None) -> list[Quote]:
    """What of one answer may be quoted outside the community: nothing unless its member
    chose to be quoted; decided by :func:`bot.domain.stories.shareable_view`, the one exit."""
    if not answer.consent.may_leave_community:
        return []
    out = []
    for q in QUESTIONS:
        text = answer.text(q.key)
        if not q.quotable or not says_something(text):
            continue
        record = StoryRecord(
            id=0, community_id=0, teller_id=None, title=q.label, text=text, stage=None,
            consent=answer.consent, created_at=answer.updated_at,
        )  # fmt: skip
        shared = shareable_view(record, teller_display_name=display_name)
        if shared is not None:
            out.append(Quote(q.label, shared.text, shared.teller_name))
    return out


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class AnnualSummary:
    """The community's annual report as the sponsor (and the facilitator) reads it."""

    community_name: str
    year: int
    opened_at: datetime
    closed_at: datetime
    members: int
    answered: int
    questions: Sequence[QuestionCount]
    themes: Sequence[ThemeCount]
    quotes: Sequence[Quote]
    #: Members who answered and did not agree to be quoted: counted, never quoted.
    not_quoted: int
    #: Themes mentioned by fewer members are left out.
    min_theme_members: int = 1


def aggregate(
    *,
    community_name: str,
    year: int,
    opened_at: datetime,
    closed_at: datetime,
    member_ids: Iterable[int],
    answers: Sequence[AnnualAnswer],
    themes: Sequence[Theme],
    names: Mapping[int, str | None],
    min_theme_members: int = 1,
) -> AnnualSummary:
    """Counts, themes and consented quotes (see the module docstring). ``names`` holds the
    display names of members who chose ``named`` (nobody else's name is ever looked at)."""
    given = [a for a in answers if not a.empty]
    members = len(set(member_ids) | {a.user_id for a in given})
    counts = []
    for q in QUESTIONS:
        lists = [items(a.text(q.key)) for a in given]
        counts.append(
            QuestionCount(
                q.key, q.label, sum(1 for found in lists if found),
                sum(len(found) for found in lists) if q.item_words else None, q.item_words,
            )
        )  # fmt: skip
    quotes: list[Quote] = []
    for a in given:
        name = names.get(a.user_id) if a.consent is Consent.NAMED else None
        quotes += quotes_of(a, name)
    # Canonical order (by question, then words), never by member or by time: an anonymous
    # member's quotes side by side would add up to a profile, and the order would say who
    # answered when.
    rank = {q.label: i for i, q in enumerate(QUESTIONS)}
    quotes.sort(key=lambda q: (rank.get(q.question, len(rank)), q.text.casefold(), q.name or ""))
    return AnnualSummary(
        community_name=community_name,
        year=year,
        opened_at=opened_at,
        closed_at=closed_at,
        members=members,
        answered=len(given),
        questions=tuple(counts),
        themes=tuple(theme_counts(given, themes, min_theme_members)),
        quotes=tuple(quotes),
        not_quoted=sum(1 for a in given if not a.consent.may_leave_community),
        min_theme_members=min_theme_members,
    )


def reminder_time(opened_at: datetime, closes_at: datetime, before: timedelta) -> datetime | None:
    """When members who have not answered are reminded: ``before`` the close, but never in
    the first half of the collection; none when the collection is shorter than two days."""
    if closes_at - opened_at < MIN_FOR_REMINDER:
        return None
    return max(closes_at - before, opened_at + (closes_at - opened_at) / 2)
