"""The impact log's records: kinds, statuses, places of use, source kinds, and the checks
on what a person types (titles, places, notes, a picked source).

Pure: no discord, no db.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.stories.consent import Consent
from bot.errors import InvalidInput
from bot.text import clean_line, clean_multiline, echo

TITLE_MAX = 200
PLACE_MAX = 200
NOTE_MAX = 1000


class ProductKind(StrEnum):
    DOCUMENT = "document"
    GUIDELINE = "guideline"
    STANDARD = "standard"
    PROGRAMME = "programme"
    TRAINING = "training"
    POLICY_INPUT = "policy_input"
    OTHER = "other"

    @property
    def label(self) -> str:
        return "policy input" if self is ProductKind.POLICY_INPUT else self.value


class ProductStatus(StrEnum):
    IDEA = "idea"
    DRAFTING = "drafting"
    PUBLISHED = "published"
    ADOPTED = "adopted"
    RETIRED = "retired"


class UseSetting(StrEnum):
    """Where a product was used, broadly (``place`` says precisely)."""

    TRAINING = "training"
    MEETING = "meeting"
    PUBLICATION = "publication"
    PATIENT_FORUM = "patient_forum"
    CONFERENCE = "conference"
    PRACTICE = "practice"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            UseSetting.TRAINING: "training session",
            UseSetting.MEETING: "meeting",
            UseSetting.PUBLICATION: "publication",
            UseSetting.PATIENT_FORUM: "patient forum",
            UseSetting.CONFERENCE: "conference",
            UseSetting.PRACTICE: "in practice",
            UseSetting.OTHER: "other",
        }[self]


class SourceKind(StrEnum):
    STORY = "story"
    POLL = "poll"
    STATEMENT_ROUND = "statement_round"
    MEETING = "meeting"
    CHANGE_SELECTION = "change_selection"

    @property
    def label(self) -> str:
        return {
            SourceKind.STORY: "Story",
            SourceKind.POLL: "Poll",
            SourceKind.STATEMENT_ROUND: "Statement round",
            SourceKind.MEETING: "Meeting",
            SourceKind.CHANGE_SELECTION: "Significant change",
        }[self]


#: Where an automatically recorded product came from (ProductService.record_origin).
ORIGIN_KINDS = frozenset({"document", "paper"})


def parse_kind(value: str) -> ProductKind:
    cleaned = value.strip().lower().replace(" ", "_")
    try:
        return ProductKind(cleaned)
    except ValueError:
        raise InvalidInput(
            f"`{echo(value)}` is not a kind of product. Choose one of: "
            + ", ".join(k.label for k in ProductKind)
            + "."
        ) from None


def parse_status(value: str) -> ProductStatus:
    try:
        return ProductStatus(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"`{echo(value)}` is not a status. Choose one of: "
            + ", ".join(s.value for s in ProductStatus)
            + "."
        ) from None


def parse_setting(value: str) -> UseSetting:
    cleaned = value.strip().lower().replace(" ", "_")
    try:
        return UseSetting(cleaned)
    except ValueError:
        raise InvalidInput(
            f"`{echo(value)}` is not a kind of place. Choose one of: "
            + ", ".join(s.label for s in UseSetting)
            + "."
        ) from None


def validate_title(value: str) -> str:
    title = clean_line(value)
    if not title:
        raise InvalidInput("Give the product a title (a few words a member would recognise).")
    if len(title) > TITLE_MAX:
        raise InvalidInput(
            f"That title has {len(title)} characters; keep it to {TITLE_MAX} or fewer."
        )
    return title


def validate_place(value: str) -> str:
    place = clean_line(value)
    if not place:
        raise InvalidInput(
            "Say where the product was used (for example: practice nurse training day, Leeds)."
        )
    if len(place) > PLACE_MAX:
        raise InvalidInput(
            f"That place has {len(place)} characters; keep it to {PLACE_MAX} or fewer "
            "and put the rest in the note."
        )
    return place


def validate_note(value: str | None) -> str | None:
    if value is None:
        return None
    note = clean_multiline(value).strip()
    if not note:
        return None
    if len(note) > NOTE_MAX:
        raise InvalidInput(f"That note has {len(note)} characters; keep it to {NOTE_MAX} or fewer.")
    return note


# =========================================================================== records


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    community_id: int
    title: str
    kind: ProductKind
    status: ProductStatus
    created_at: datetime
    created_by: int | None
    origin_kind: str | None = None
    origin_id: int | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    product_id: int
    status: ProductStatus
    note: str | None
    actor_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Use:
    product_id: int
    setting: UseSetting
    place: str
    note: str | None
    actor_id: int | None
    at: datetime


ProductEvent = StatusChange | Use


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A link from a product to what it came from."""

    kind: SourceKind
    id: int
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A linked source as found now. ``exists`` is False when the record is gone (erased).
    For stories (and stories of change) ``consent`` is set, and ``outside_title`` and
    ``teller_name`` only when the one exit (``shareable_view``) lets the story leave."""

    kind: SourceKind
    id: int
    community_id: int | None
    title: str | None
    exists: bool = True
    consent: Consent | None = None
    restricted: bool = False
    outside_title: str | None = None
    teller_name: str | None = None

    @property
    def is_story(self) -> bool:
        return self.kind in (SourceKind.STORY, SourceKind.CHANGE_SELECTION)


@dataclass(frozen=True, slots=True)
class SourceChoice:
    """A source offered by autocomplete: its kind, id and the title members know it by."""

    kind: SourceKind
    id: int
    title: str

    @property
    def token(self) -> str:
        return f"{self.kind.value}:{self.id}"

    @property
    def label(self) -> str:
        return f"{self.kind.label}: {self.title}"


def parse_source_token(value: str) -> tuple[SourceKind, int]:
    """``story:12`` (what autocomplete sends) → (kind, id); anything else is refused."""
    kind_text, sep, id_text = value.strip().partition(":")
    try:
        kind = SourceKind(kind_text.strip().lower())
        if not sep or not id_text.strip().isdigit():
            raise ValueError
        return kind, int(id_text.strip())
    except ValueError:
        raise InvalidInput(
            f"`{echo(value)}` is not a source I know. Start typing in the `source` option and "
            "pick a story, poll, statement round, meeting or significant change from the list."
        ) from None
