"""Collective documents as data: sections, quotes, proposals and numbered versions.

Pure: no Discord, no database. A :class:`Version` is a snapshot of the document's sections
(heading, accepted text and the ids of the quotes shown under it); a quote's words live only
in its :class:`Quote` record, so when a teller withdraws, the words disappear from every
stored version at once (a version then says a quote was there, never what it said).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.errors import InvalidInput
from bot.text import clean_line, clean_multiline, echo

TITLE_LIMIT = 100
HEADING_LIMIT = 80
SECTION_TEXT_LIMIT = 3000
"""A section's text (a proposal): long enough for a few paragraphs, short enough to read."""
QUOTE_LIMIT = 1000
"""A quote is a few sentences that matter, not a whole story."""
MAX_SECTIONS = 25


class Template(StrEnum):
    JOURNEY = "journey"  # one section per configured story stage
    BLANK = "blank"  # one section, "Introduction"; more are proposed by members


class QuoteStatus(StrEnum):
    ASKED = "asked"  # the teller has been asked; not in the document
    AGREED = "agreed"  # in the document
    DECLINED = "declined"  # the teller said no: never shown
    REMOVED = "removed"  # consent withdrawn or narrowed afterwards: words deleted


class Credit(StrEnum):
    ANONYMOUS = "anonymous"
    NAMED = "named"


class Choice(StrEnum):
    SUPPORT = "support"
    OPPOSE = "oppose"
    PASS = "pass"


class ProposalStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class Document:
    id: int
    community_id: int
    title: str
    template: Template
    created_by: int | None
    created_at: datetime
    thread_id: int | None = None
    head_message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Section:
    id: int
    position: int
    heading: str
    body: str


@dataclass(frozen=True, slots=True)
class Quote:
    id: int
    document_id: int
    section_id: int
    story_id: int | None
    teller_id: int | None
    proposed_by: int | None
    text: str | None
    credit: Credit | None
    teller_name: str | None
    status: QuoteStatus
    created_at: datetime

    @property
    def shown_credit(self) -> str:
        """How the quote is credited wherever it appears."""
        if self.credit is Credit.NAMED and self.teller_name:
            return self.teller_name
        return "a member of the group"


@dataclass(frozen=True, slots=True)
class Tally:
    support: int = 0
    oppose: int = 0
    passed: int = 0

    @property
    def total(self) -> int:
        return self.support + self.oppose + self.passed


@dataclass(frozen=True, slots=True)
class Proposal:
    id: int
    document_id: int
    section_id: int
    text: str | None
    proposed_by: int | None
    created_at: datetime
    status: ProposalStatus
    channel_id: int | None
    message_id: int | None
    tally: Tally = field(default_factory=Tally)


@dataclass(frozen=True, slots=True)
class SectionSnapshot:
    heading: str
    body: str
    quote_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Version:
    number: int
    created_at: datetime
    summary: str
    sections: tuple[SectionSnapshot, ...]

    @property
    def quote_ids(self) -> set[int]:
        return {q for s in self.sections for q in s.quote_ids}


def content_to_json(sections: tuple[SectionSnapshot, ...]) -> str:
    return json.dumps(
        [{"heading": s.heading, "body": s.body, "quotes": list(s.quote_ids)} for s in sections],
        ensure_ascii=False,
    )


def content_from_json(text: str) -> tuple[SectionSnapshot, ...]:
    return tuple(
        SectionSnapshot(d["heading"], d["body"], tuple(int(q) for q in d.get("quotes", ())))
        for d in json.loads(text)
    )


def snapshot(sections: list[Section], quotes: list[Quote]) -> tuple[SectionSnapshot, ...]:
    """The document as it stands: sections in order, each with its agreed quotes."""
    by_section: dict[int, list[int]] = {}
    for q in sorted(quotes, key=lambda q: q.id):
        if q.status is QuoteStatus.AGREED and q.text:
            by_section.setdefault(q.section_id, []).append(q.id)
    return tuple(
        SectionSnapshot(s.heading, s.body, tuple(by_section.get(s.id, ())))
        for s in sorted(sections, key=lambda s: s.position)
    )


# ------------------------------------------------------------------------- validation


def validate_title(raw: str) -> str:
    title = clean_line(raw)
    if not title:
        raise InvalidInput("Give the document a title (a few words).")
    if len(title) > TITLE_LIMIT:
        raise InvalidInput(
            f"A document title can be at most {TITLE_LIMIT} characters; yours has "
            f"{len(title)}. Shorten it."
        )
    return title


def parse_template(raw: str | None) -> Template:
    value = (raw or Template.JOURNEY.value).strip().lower()
    try:
        return Template(value)
    except ValueError:
        raise InvalidInput(
            f"`{echo(raw or '', 40)}` is not a template. Choose `journey` (one section per "
            "story stage) or `blank` (one section, more proposed by members)."
        ) from None


def parse_headings(raw: str | None) -> list[str] | None:
    """A facilitator's own section headings, separated by ``;`` (None: use the template's)."""
    if raw is None or not raw.strip():
        return None
    headings = [clean_line(part) for part in raw.split(";")]
    headings = [h for h in headings if h]
    if not headings:
        return None
    if len(headings) > MAX_SECTIONS:
        raise InvalidInput(
            f"A document can have at most {MAX_SECTIONS} sections; you gave {len(headings)}. "
            "Merge some, or add them later as the document grows."
        )
    for h in headings:
        if len(h) > HEADING_LIMIT:
            raise InvalidInput(
                f"A section heading can be at most {HEADING_LIMIT} characters: shorten "
                f"“{echo(h, 40)}”. Separate headings with `;`."
            )
    return headings


def validate_section_text(raw: str) -> str:
    text = clean_multiline(raw).strip()
    if not text:
        raise InvalidInput("The proposal is empty. Write the text you propose for the section.")
    if len(text) > SECTION_TEXT_LIMIT:
        raise InvalidInput(
            f"A section's text can be at most {SECTION_TEXT_LIMIT} characters; yours has "
            f"{len(text)}. Shorten it, or propose part of it for another section."
        )
    return text


def require_section(sections: list[Section], position: int) -> Section:
    for s in sections:
        if s.position == position:
            return s
    if not sections:
        raise InvalidInput("This document has no sections yet; ask a facilitator to add one.")
    raise InvalidInput(
        f"There is no section {position}: this document has sections 1 to {len(sections)}. "
        "Pick one of those; the document's first message lists them."
    )
