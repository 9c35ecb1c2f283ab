"""The value-creation matrix: Hearth's figures beside the stories that give them meaning.

Wenger, Trayner & de Laat (2011), "Promoting and assessing value creation in communities and
networks", describe five cycles of value a community creates, and recommend reporting them as
a *matrix*: for each cycle, indicators (what can be counted) next to value-creation stories
(what members say happened). Numbers alone say a community was busy; stories alone can be
waved away as anecdotes; together they make the case a sponsor has to make.

This module is pure: it takes the period's figures (:class:`Indicators`) and the stories
(:class:`CycleStory`, from value-creation stories and significant-change stories, adapted by
the service) and builds a :class:`ValueMatrix` for one :class:`Audience`.

Who sees what is decided in ONE place, :func:`story_for`: the facilitator's private report
may include stories that stay inside the community (marked as such); the sponsor's report
holds only stories whose teller let them leave, each passed through
:func:`bot.domain.stories.consent.shareable_view` (the single exit: Discord ids scrubbed,
personal identifiers redacted, no name unless the teller chose ``named``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.stories.consent import Consent, StoryRecord, shareable_view
from bot.text import clean_multiline, percent, truncate

__all__ = [
    "CYCLES",
    "Audience",
    "Cycle",
    "CycleRow",
    "CycleStory",
    "Indicator",
    "Indicators",
    "ProductFigures",
    "ReportStory",
    "StoryKind",
    "ValueMatrix",
    "build_matrix",
    "story_for",
]

#: How much of one cycle's text a report quotes (the whole story stays with its teller).
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

#: One plain sentence per cycle: what it means, for a reader who has never heard of it.
CYCLE_MEANINGS: Mapping[Cycle, str] = {
    Cycle.IMMEDIATE: "Immediate value: taking part itself, the conversations and meetings "
    "members found worth their time.",
    Cycle.POTENTIAL: "Potential value: what members took away for later, such as an idea, "
    "a contact, a document or more confidence.",
    Cycle.APPLIED: "Applied value: what members did differently because of the community.",
    Cycle.REALIZED: "Realized value: the difference those changes made, and for whom.",
    Cycle.REFRAMING: "Reframing value: when the community changed what members, or their "
    "organisation, think matters.",
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
    selected_reason: str | None = None
    """A significant-change story the selectors chose, with their written reason."""
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


# =========================================================================== the audience


def story_for(audience: Audience, story: CycleStory, cycle: Cycle) -> ReportStory | None:
    """THE decision of what of ``story`` (for ``cycle``) ``audience`` may read.

    Withdrawn: nobody. Sponsor: only ``anonymous`` and ``named`` stories told to the whole
    community, through :func:`shareable_view` (scrubbed, redacted; a name only for
    ``named``). Facilitator: the sponsor's view of shareable stories, plus ``group``
    stories (and those told in a circle), marked as staying inside and never named.
    """
    text = clean_multiline(story.texts.get(cycle) or "").strip()
    if not text or story.consent is Consent.WITHDRAWN:
        return None
    reason = clean_multiline(story.selected_reason or "").strip() or None
    shared = _shared(story, text)
    if shared is not None:
        excerpt, title, credit, reason = shared
        return ReportStory(
            kind=story.kind, cycle=cycle, excerpt=excerpt, title=title, credit=credit,
            stays_inside=False, selected_reason=reason, domain=story.domain,
        )  # fmt: skip
    if audience is Audience.SPONSOR:
        return None
    return ReportStory(
        kind=story.kind,
        cycle=cycle,
        excerpt=truncate(text, EXCERPT_LIMIT),
        title=truncate(clean_multiline(story.title).strip(), 120),
        credit=None,
        stays_inside=True,
        selected_reason=reason,
        domain=story.domain,
    )


def _shared(story: CycleStory, text: str) -> tuple[str, str, str | None, str | None] | None:
    """The story's words as they may leave the community, or ``None`` if they may not."""
    record = StoryRecord(
        id=0,
        community_id=0,
        teller_id=None,
        title=story.title or "",
        text=text,
        stage=None,
        consent=story.consent,
        created_at=story.told_at,
        audience_channel_id=0 if story.restricted else None,
    )
    view = shareable_view(record, teller_display_name=story.teller_name)
    if view is None:
        return None
    reason = None
    if story.selected_reason:
        # The selectors' reason quotes the story: it leaves redacted, like the story.
        reasoned = shareable_view(
            StoryRecord(
                id=0, community_id=0, teller_id=None, title="", text=story.selected_reason,
                stage=None, consent=story.consent, created_at=story.told_at,
            ),
            teller_display_name=None,
        )  # fmt: skip
        reason = reasoned.text if reasoned is not None else None
    return (
        truncate(view.text, EXCERPT_LIMIT),
        truncate(view.title, 120),
        view.teller_name,
        reason,
    )


# =========================================================================== the matrix


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _indicators(cycle: Cycle, ind: Indicators, value: int, change: int) -> tuple[Indicator, ...]:
    if cycle is Cycle.IMMEDIATE:
        out = [
            Indicator(
                "Members who took part",
                f"{ind.members_active} of {ind.members_total}"
                + (
                    f" ({percent(ind.members_active, ind.members_total)}%)"
                    if ind.members_total
                    else ""
                ),
            ),
            Indicator("Messages", str(ind.messages)),
            Indicator("Meetings held", str(ind.meetings_held)),
        ]
        if ind.meetings_with_attendance:
            out.append(
                Indicator(
                    "Attendance",
                    f"{_n(ind.meeting_attendance, 'person', 'people')} at "
                    f"{_n(ind.meetings_with_attendance, 'meeting')} where it was taken",
                )
            )
        return tuple(out)
    if cycle is Cycle.POTENTIAL:
        out = [
            Indicator("Stories told", str(ind.stories_told)),
            Indicator(
                "Statements agreed",
                f"{ind.statements_agreed} (in {_n(ind.rounds_closed, 'round')})",
            ),
            Indicator("Polls closed", str(ind.polls_closed)),
        ]
        if ind.products is not None:
            out.append(Indicator("Products made", str(ind.products.made)))
        return tuple(out)
    out = [
        Indicator("Value-creation stories reporting it", str(value)),
        Indicator("Significant-change stories reporting it", str(change)),
    ]
    if ind.products is not None and cycle is Cycle.APPLIED:
        out.append(Indicator("Times products were used", str(ind.products.uses)))
    if ind.products is not None and cycle is Cycle.REALIZED:
        out.append(Indicator("Products whose status moved on", str(ind.products.status_changes)))
    return tuple(out)


def build_matrix(
    *,
    community_name: str,
    start: datetime,
    end: datetime,
    timezone: str,
    audience: Audience,
    indicators: Indicators,
    stories: Sequence[CycleStory],
    sources_missing: Sequence[str] = (),
    per_cycle: int = STORIES_PER_CYCLE,
) -> ValueMatrix:
    """The matrix for ``audience``: every cycle, in order, even when nothing reports it.

    Stories are quoted newest first within a cycle, selected significant-change stories
    before the rest; a story reporting several cycles is quoted under each (its own words
    for that cycle). Withdrawn stories are neither counted nor quoted.
    """
    live = [s for s in stories if s.consent is not Consent.WITHDRAWN]
    ordered = sorted(live, key=lambda s: (s.selected_reason is None, -s.told_at.timestamp()))
    readable: set[int] = set()
    rows = []
    for cycle in CYCLES:
        reporting = [s for s in ordered if (s.texts.get(cycle) or "").strip()]
        shown = []
        for s in reporting:
            view = story_for(audience, s, cycle)
            if view is not None:
                shown.append(view)
                readable.add(id(s))
        value = sum(1 for s in reporting if s.kind is StoryKind.VALUE)
        change = len(reporting) - value
        rows.append(
            CycleRow(
                cycle=cycle,
                indicators=_indicators(cycle, indicators, value, change),
                stories=tuple(shown[:per_cycle]),
                story_count=len(reporting),
                value_count=value,
                change_count=change,
                more=max(0, len(shown) - per_cycle),
            )
        )
    return ValueMatrix(
        community_name=community_name,
        start=start,
        end=end,
        timezone=timezone,
        audience=audience,
        rows=tuple(rows),
        indicators=indicators,
        value_stories=sum(1 for s in live if s.kind is StoryKind.VALUE),
        change_stories=sum(1 for s in live if s.kind is StoryKind.CHANGE),
        kept_inside=sum(1 for s in live if id(s) not in readable),
        sources_missing=tuple(sources_missing),
    )
