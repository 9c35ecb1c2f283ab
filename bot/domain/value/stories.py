"""Value-creation stories: the template, checking a teller's answers, and what may leave.

Wenger, Trayner & de Laat (2011) ask members to tell *value-creation stories* that follow
the cycles of value a community creates: what they took part in (immediate value), what they
got from it (potential value: an idea, a contact, a document, confidence), what they did
with it (applied), what difference it made and for whom (realized), and whether it changed
what they think matters (reframing). Only the first two are required: a story may stop where
the teller's experience stops.

Consent is the stories' consent (:class:`~bot.domain.stories.consent.Consent`). What of a
value story may leave its community is decided by
:func:`bot.domain.stories.consent.shareable_view` (the single exit), applied to each cycle's
text: :func:`shareable_value_view` only gathers its answers, so a value story can never leave
by a path a story could not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.redaction import RedactionKind, redact
from bot.domain.stories.consent import Consent, StoryPost, StoryRecord, shareable_view
from bot.errors import InvalidInput
from bot.text import clean_multiline

__all__ = [
    "CYCLES",
    "CYCLE_NAMES",
    "QUESTIONS",
    "Question",
    "RedactionPreview",
    "SharedValueStory",
    "ValueStoryRecord",
    "ValueStoryText",
    "redaction_preview",
    "shareable_value_view",
    "validate_value_story",
]

#: The five cycles of value, in their order (the keys of every ``texts`` mapping).
CYCLES: tuple[str, ...] = ("immediate", "potential", "applied", "realized", "reframing")

#: Each cycle's name, as a report or a post heads it.
CYCLE_NAMES: Mapping[str, str] = {
    "immediate": "Immediate value",
    "potential": "Potential value",
    "applied": "Applied value",
    "realized": "Realized value",
    "reframing": "Reframing value",
}


@dataclass(frozen=True)
class Question:
    """One question of the form: a modal text input (label 45, placeholder 100 characters)."""

    cycle: str
    label: str
    placeholder: str
    required: bool
    limit: int
    heading: str
    """How the answer is headed in the post (plain words, at most 256 characters)."""


#: The template in words a patient or a GP understands. The limits keep a whole story inside
#: one Discord embed (6,000 characters, 1,024 per field).
QUESTIONS: tuple[Question, ...] = (
    Question(
        "immediate",
        "What did you take part in?",
        "A conversation, a meeting, a thread, a question you asked or answered",
        True,
        1000,
        "What I took part in",
    ),
    Question(
        "potential",
        "What did you get from it?",
        "An idea, a contact, a document, a tip, more confidence…",
        True,
        1000,
        "What I got from it",
    ),
    Question(
        "applied",
        "What did you do with it? (if anything yet)",
        "Something you tried, changed, shared or used",
        False,
        1000,
        "What I did with it",
    ),
    Question(
        "realized",
        "What difference did it make, and for whom?",
        "For you, a patient, a carer, a colleague, your practice…",
        False,
        1000,
        "The difference it made",
    ),
    Question(
        "reframing",
        "Did it change what you think matters?",
        "How you see your role, care, or what is worth doing (optional)",
        False,
        1000,
        "What it changed in what I think matters",
    ),
)
QUESTION_BY_CYCLE: Mapping[str, Question] = {q.cycle: q for q in QUESTIONS}


@dataclass(frozen=True)
class ValueStoryText:
    """A teller's answers, cleaned and checked (:func:`validate_value_story`)."""

    immediate: str
    potential: str
    applied: str | None = None
    realized: str | None = None
    reframing: str | None = None

    @property
    def texts(self) -> dict[str, str]:
        """The cycles answered, in cycle order, with their text."""
        return {c: t for c in CYCLES if (t := getattr(self, c))}

    @property
    def filled(self) -> tuple[str, ...]:
        return tuple(self.texts)

    def joined(self) -> str:
        return "\n".join(self.texts.values())


def validate_value_story(answers: Mapping[str, str | None]) -> ValueStoryText:
    """Clean and check the form's answers; InvalidInput says which answer to fix and how.

    Invisible and control characters are dropped (line breaks kept), edges trimmed; a
    required answer that is empty after that is refused, and so is any answer over its
    limit (checked on what would be stored)."""
    cleaned: dict[str, str | None] = {}
    for q in QUESTIONS:
        text = clean_multiline(answers.get(q.cycle))
        if not text:
            if q.required:
                raise InvalidInput(
                    f"Please answer “{q.label}”: a value story needs at least what you took "
                    "part in and what you got from it. Nothing was saved."
                )
            cleaned[q.cycle] = None
            continue
        if len(text) > q.limit:
            raise InvalidInput(
                f"Your answer to “{q.label}” is {len(text)} characters long; the limit is "
                f"{q.limit}. Please shorten it by {len(text) - q.limit}. Nothing was saved."
            )
        cleaned[q.cycle] = text
    immediate, potential = cleaned["immediate"], cleaned["potential"]
    assert immediate is not None and potential is not None
    return ValueStoryText(
        immediate, potential, cleaned["applied"], cleaned["realized"], cleaned["reframing"]
    )


# =========================================================================== records


@dataclass(frozen=True)
class ValueStoryRecord:
    """A value story as stored. Withdrawn, only a tombstone remains: ``teller_id``,
    ``text`` and ``post`` are then ``None``."""

    id: int
    community_id: int
    teller_id: int | None
    consent: Consent
    text: ValueStoryText | None
    created_at: datetime
    withdrawn_at: datetime | None = None
    post: StoryPost | None = None
    invitation_id: int | None = None

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("ValueStoryRecord.created_at must be an aware UTC datetime")

    @property
    def is_tombstone(self) -> bool:
        return self.consent is Consent.WITHDRAWN

    @property
    def texts(self) -> dict[str, str]:
        return self.text.texts if self.text is not None else {}

    def summary(self, limit: int = 60) -> str:
        """A few words to recognise it by (autocomplete): the start of its first answer."""
        first = " ".join((self.text.immediate if self.text else "").split())
        return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"

    def tombstone(self) -> ValueStoryRecord:
        return replace(self, teller_id=None, consent=Consent.WITHDRAWN, text=None, post=None)


@dataclass(frozen=True)
class SharedValueStory:
    """A value story as it may appear outside its community: redacted, no id of any kind
    (story, teller, message, channel, guild), no name unless its teller chose ``named``.

    ``texts`` maps each cycle the teller answered (keys of :data:`CYCLES`) to its redacted
    text, in cycle order."""

    consent: Consent
    teller_name: str | None
    told_at: datetime
    texts: Mapping[str, str]
    redaction_count: int

    @property
    def cycles(self) -> tuple[str, ...]:
        return tuple(self.texts)


def shareable_value_view(
    story: ValueStoryRecord, *, teller_display_name: str | None
) -> SharedValueStory | None:
    """Whether and how ``story`` may leave its community; ``None`` if it may not.

    Each answer goes through :func:`~bot.domain.stories.consent.shareable_view`, the single
    exit of every story: ``group`` and ``withdrawn`` never leave, ``anonymous`` leaves with
    no name, ``named`` with the teller's (redacted) display name; Discord identifiers are
    scrubbed and personal identifiers redacted."""
    if not story.consent.may_leave_community or story.text is None:
        return None
    texts: dict[str, str] = {}
    name: str | None = None
    count = 0
    for cycle, text in story.text.texts.items():
        shared = shareable_view(
            StoryRecord(
                id=story.id,
                community_id=story.community_id,
                teller_id=story.teller_id,
                title=CYCLE_NAMES[cycle],
                text=text,
                stage=None,
                consent=story.consent,
                created_at=story.created_at,
            ),
            teller_display_name=teller_display_name,
        )
        if shared is None:
            return None
        texts[cycle] = shared.text
        name = shared.teller_name
        count += shared.redaction_count
    return SharedValueStory(story.consent, name, story.created_at, texts, count)


# =========================================================================== preview


@dataclass(frozen=True)
class RedactionPreview:
    """What would be hidden if the story left the community (shown before it is kept)."""

    counts: Mapping[str, int]
    """Kind of detail → how many: ``email``, ``phone``, ``nhs_number``, ``date``,
    ``postcode``, and ``discord`` (mentions, channel or invite links, long numbers)."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def redaction_preview(text: ValueStoryText) -> RedactionPreview:
    """Run the real exit on the answers (as if shared anonymously) and count what it hid."""
    probe = ValueStoryRecord(
        id=0,
        community_id=0,
        teller_id=0,
        consent=Consent.ANONYMOUS,
        text=text,
        created_at=datetime.fromtimestamp(0).astimezone(),
    )
    shared = shareable_value_view(probe, teller_display_name=None)
    counts: dict[str, int] = {}
    found = 0
    for answer in text.texts.values():
        result = redact(answer)
        for kind in RedactionKind:
            if n := result.count(kind):
                counts[kind.value] = counts.get(kind.value, 0) + n
                found += n
    total = shared.redaction_count if shared is not None else found
    if total > found:
        counts["discord"] = total - found
    return RedactionPreview(counts)
