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

from collections.abc import Sequence
from datetime import datetime

from bot.domain.stories.consent import Consent
from bot.domain.value.audience import story_for
from bot.domain.value.model import (
    CYCLE_DEFINITIONS,
    CYCLE_MEANINGS,
    CYCLE_TITLES,
    CYCLES,
    EXCERPT_LIMIT,
    STORIES_PER_CYCLE,
    Audience,
    Cycle,
    CycleRow,
    CycleStory,
    Indicator,
    Indicators,
    ProductFigures,
    ProductLine,
    ReportStory,
    StoryKind,
    ValueMatrix,
)
from bot.text import percent

__all__ = [
    "CYCLES",
    "CYCLE_DEFINITIONS",
    "CYCLE_MEANINGS",
    "CYCLE_TITLES",
    "EXCERPT_LIMIT",
    "Audience",
    "Cycle",
    "CycleRow",
    "CycleStory",
    "Indicator",
    "Indicators",
    "ProductFigures",
    "ProductLine",
    "ReportStory",
    "StoryKind",
    "ValueMatrix",
    "build_matrix",
    "story_for",
]


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
                    "Attendance (at meetings where it was taken)",
                    f"{_n(ind.meeting_attendance, 'person', 'people')} at "
                    f"{_n(ind.meetings_with_attendance, 'meeting')}",
                )
            )
        return tuple(out)
    if cycle is Cycle.POTENTIAL:
        out = [
            Indicator("Stories told", str(ind.stories_told)),
            Indicator(
                "Statements agreed",
                f"{ind.statements_agreed} (in {_n(ind.rounds_closed, 'round')})"
                if ind.rounds_closed
                else "0 (no statement round closed)",
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
    ordered = sorted(live, key=lambda s: (not s.selected, -s.told_at.timestamp()))
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
