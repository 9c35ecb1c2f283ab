"""The value report's vocabulary: the five cycles, the audiences, its inputs and outputs.

Wenger, Trayner & de Laat (2011) name five cycles of value a community creates (immediate,
potential, applied, realized, reframing). The inputs are Hearth's counts for a period
(:class:`Indicators`) and stories (:class:`CycleStory`); the output is a
:class:`ValueMatrix` for one :class:`Audience`. Built by :mod:`bot.domain.value.matrix`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.stories.consent import Consent

EXCERPT_LIMIT = 600
#: How many stories a cycle quotes at most; the rest are counted.
STORIES_PER_CYCLE = 4


class Cycle(StrEnum):
    """The five cycles of value (Wenger, Trayner & de Laat 2011), in their order."""

    IMMEDIATE = "immediate"
    POTENTIAL = "potential"
    APPLIED = "applied"
    REALIZED = "realized"
    REFRAMING = "reframing"

    @property
    def heading(self) -> str:
        return CYCLE_TITLES[self]

    @property
    def meaning(self) -> str:
        return CYCLE_MEANINGS[self]


CYCLES: tuple[Cycle, ...] = tuple(Cycle)

CYCLE_TITLES: Mapping[Cycle, str] = {
    Cycle.IMMEDIATE: "Immediate value",
    Cycle.POTENTIAL: "Potential value",
    Cycle.APPLIED: "Applied value",
    Cycle.REALIZED: "Realized value",
    Cycle.REFRAMING: "Reframing value",
}

#: What each cycle means, in plain words, for a reader who has never heard of it.
CYCLE_DEFINITIONS: Mapping[Cycle, str] = {
    Cycle.IMMEDIATE: "taking part itself, the conversations and meetings members found "
    "worth their time.",
    Cycle.POTENTIAL: "what members took away for later, such as an idea, a contact, a "
    "document or more confidence.",
    Cycle.APPLIED: "what members did differently because of the community.",
    Cycle.REALIZED: "the difference those changes made, and for whom.",
    Cycle.REFRAMING: "when the community changed what members, or their organisation, "
    "think matters.",
}

#: One plain sentence per cycle ("Applied value: what members did differently ...").
CYCLE_MEANINGS: Mapping[Cycle, str] = {
    c: f"{CYCLE_TITLES[c]}: {CYCLE_DEFINITIONS[c]}" for c in Cycle
}


class Audience(StrEnum):
    """Who reads a report: the community's facilitator, or its sponsor outside it."""

    FACILITATOR = "facilitator"
    SPONSOR = "sponsor"


class StoryKind(StrEnum):
    VALUE = "value"
    """A value-creation story (``/value story``)."""
    CHANGE = "change"
    """A story of significant change (``/change round``)."""


# =========================================================================== inputs


@dataclass(frozen=True)
class ProductFigures:
    """The impact log's figures for the period (knowledge products capability)."""

    made: int = 0
    """Products added in the period."""
    uses: int = 0
    """Places a product was recorded as used in the period."""
    status_changes: int = 0
    """Products whose status moved on (e.g. adopted) in the period."""
    items: tuple[ProductLine, ...] = ()
    """Each product active in the period, as it may be read outside (title redacted)."""


@dataclass(frozen=True)
class ProductLine:
    """One product in the report: what it is, where it stands, how often it was used."""

    title: str
    kind: str
    status: str
    uses: int
    made_in_period: bool


@dataclass(frozen=True)
class Indicators:
    """Hearth's own figures for the period (counts only: never who said what)."""

    members_total: int = 0
    members_active: int = 0
    messages: int = 0
    meetings_held: int = 0
    meeting_attendance: int = 0
    """People present, summed over the meetings whose attendance was taken."""
    meetings_with_attendance: int = 0
    stories_told: int = 0
    statements_agreed: int = 0
    rounds_closed: int = 0
    polls_closed: int = 0
    products: ProductFigures | None = None
    """``None``: this build has no impact log; products are left out, never shown as 0."""


@dataclass(frozen=True)
class CycleStory:
    """One story as a report input: the texts it gives for each cycle it reports.

    ``texts`` maps a cycle to the teller's words for it (a value-creation story has one text
    per cycle the teller filled in; a significant-change story reports realized value).
    ``teller_name`` is only ever printed for ``named`` consent.
    """

    kind: StoryKind
    consent: Consent
    told_at: datetime
    texts: Mapping[Cycle, str]
    title: str = ""
    teller_name: str | None = None
    restricted: bool = False
    """Told somewhere narrower than the whole community: it leaves for no one."""
    selected: bool = False
    """A significant-change story the selectors chose as the most significant."""
    selected_reason: str | None = None
    """Their written reason(s), when known."""
    domain: str | None = None
    """A significant-change story's domain of change."""


# =========================================================================== outputs


@dataclass(frozen=True)
class ReportStory:
    """A story as one report may print it (already consent-checked and, for the sponsor,
    redacted). No id of any kind."""

    kind: StoryKind
    cycle: Cycle
    excerpt: str
    title: str
    credit: str | None
    """The teller's name (``named`` consent only); ``None`` prints as "a member"."""
    stays_inside: bool
    """A group-consent story: the facilitator's report marks it; the sponsor's never has one."""
    selected: bool = False
    selected_reason: str | None = None
    domain: str | None = None


@dataclass(frozen=True)
class Indicator:
    label: str
    value: str


@dataclass(frozen=True)
class CycleRow:
    cycle: Cycle
    indicators: tuple[Indicator, ...]
    stories: tuple[ReportStory, ...]
    story_count: int
    """Stories reporting this cycle, whoever may read them (a count reveals no words)."""
    value_count: int = 0
    change_count: int = 0
    more: int = 0
    """Stories this audience may read beyond those quoted."""

    @property
    def title(self) -> str:
        return self.cycle.heading

    @property
    def meaning(self) -> str:
        return self.cycle.meaning

    @property
    def definition(self) -> str:
        """The meaning without its heading, capitalised: the line under a cycle's title."""
        text = CYCLE_DEFINITIONS[self.cycle]
        return text[0].upper() + text[1:]


@dataclass(frozen=True)
class ValueMatrix:
    community_name: str
    start: datetime
    end: datetime
    timezone: str
    audience: Audience
    rows: tuple[CycleRow, ...]
    indicators: Indicators
    value_stories: int
    change_stories: int
    kept_inside: int
    """Stories (of either kind) this audience may not read: counted, never quoted."""
    sources_missing: tuple[str, ...] = field(default=())
    """Inputs this build could not read (a capability not installed)."""

    def row(self, cycle: Cycle) -> CycleRow:
        return next(r for r in self.rows if r.cycle is cycle)

    @property
    def is_empty(self) -> bool:
        ind = self.indicators
        return not (
            ind.messages
            or ind.meetings_held
            or ind.stories_told
            or ind.polls_closed
            or ind.rounds_closed
            or self.value_stories
            or self.change_stories
            or (ind.products is not None and (ind.products.made or ind.products.uses))
        )
