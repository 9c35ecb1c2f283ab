"""The value report's inputs beyond Hearth's own figures, typed and wired explicitly.

Value-creation stories (``/value story``), stories of significant change (``/change
round``) and the impact log (``/product``) are other capabilities. Each is read through a
typed source (a :class:`~typing.Protocol` that mypy checks the adapter against), built in
:func:`default_sources` from the services the running bot registered, as the digest wires
its sections (:mod:`bot.services.digest_sources`). A source that is ``None`` (the
capability is not loaded) is left out of the report, which names it as not installed.

Stories are read INSIDE (all consent levels but withdrawn): what may leave is decided by
the matrix's one audience function (:func:`bot.domain.value.audience.story_for`, through
``shareable_view``), never here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Protocol

from bot.db.database import Database
from bot.domain.stories.consent import Consent, StoryRecord, shareable_view
from bot.domain.value.matrix import (
    CYCLES,
    Cycle,
    CycleStory,
    ProductFigures,
    ProductLine,
    StoryKind,
)
from bot.services.change_rounds import ChangeRoundService
from bot.services.products import ProductReader
from bot.services.value_stories import ValueStoryService

__all__ = [
    "CycleStoriesSource",
    "NameLookup",
    "ProductsSource",
    "ValueReportSources",
    "default_sources",
]

NameLookup = Callable[[int], Awaitable[str | None]]
CYCLE_NAMES = frozenset(c.value for c in CYCLES)
#: The open end of "every round closed since": rounds close after the stories they select.
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


class CycleStoriesSource(Protocol):
    """Stories told in ``[start, end)``, as the matrix reads them (all consent levels but
    withdrawn; the matrix decides per audience what may be quoted). ``names`` looks up a
    teller's display name; only ``named`` stories are credited."""

    def __call__(
        self, community_id: int, start: datetime, end: datetime, names: NameLookup, /
    ) -> Awaitable[list[CycleStory]]: ...


class ProductsSource(Protocol):
    """The impact log's figures for ``[start, end)``."""

    def __call__(
        self, community_id: int, start: datetime, end: datetime, /
    ) -> Awaitable[ProductFigures]: ...


@dataclass(frozen=True)
class ValueReportSources:
    """One source per kind of input; ``None``: not in this build, or its capability is not
    loaded (left out of the report, and named in it as not installed)."""

    value_stories: CycleStoriesSource | None
    change_stories: CycleStoriesSource | None
    products: ProductsSource | None

    def missing(self) -> list[str]:
        return [SOURCE_LABELS[f.name] for f in fields(self) if getattr(self, f.name) is None]


#: How a missing source is named in the report.
SOURCE_LABELS = {
    "value_stories": "value-creation stories",
    "change_stories": "significant-change stories",
    "products": "the impact log of products",
}


def value_stories_from(service: ValueStoryService) -> CycleStoriesSource:
    """Value-creation stories (``/value story``): one text per cycle the teller answered,
    read INSIDE through ``all_between``; what may leave is decided by the matrix's one
    audience function (through ``shareable_view``). The service names tellers itself."""

    async def read(
        community_id: int, start: datetime, end: datetime, names: NameLookup, /
    ) -> list[CycleStory]:
        del names
        out = []
        for story in await service.all_between(community_id, start, end):
            texts = {Cycle(k): v for k, v in story.texts.items() if k in CYCLE_NAMES and v}
            out.append(
                CycleStory(
                    kind=StoryKind.VALUE,
                    consent=story.consent,
                    told_at=story.told_at,
                    texts=texts,
                    teller_name=story.teller_name if story.consent is Consent.NAMED else None,
                )
            )
        return out

    return read


def change_stories_from(service: ChangeRoundService) -> CycleStoriesSource:
    """Stories of significant change (``/change round``): what changed and why it matters,
    reported as realized value; a story the selectors chose carries their reasons (as they
    may be read outside: from ``selected_between``, matched by domain and redacted title)."""

    async def read(
        community_id: int, start: datetime, end: datetime, names: NameLookup, /
    ) -> list[CycleStory]:
        inside = await service.stories_between(community_id, start, end, names)
        if not inside:
            return []
        reasons: dict[tuple[str, str], tuple[str, ...]] = {}
        # Rounds closing after the period can still select a story told in it.
        for sel in await service.selected_between(community_id, start, FOREVER, names):
            reasons[(sel.domain, sel.title)] = sel.reasons
        out = []
        for story in inside:
            text = story.changed.strip()
            if story.why.strip():
                text += f"\nWhy it matters: {story.why.strip()}"
            reason = None
            if story.selected:
                found = reasons.get((story.domain, outside_title(story.title, story.consent)), ())
                reason = "; ".join(found[:2]) or None
            out.append(
                CycleStory(
                    kind=StoryKind.CHANGE,
                    consent=story.consent,
                    told_at=story.created_at,
                    texts={Cycle.REALIZED: text},
                    title=story.title,
                    teller_name=story.teller_name,
                    selected=story.selected,
                    selected_reason=reason,
                    domain=story.domain,
                )
            )
        return out

    return read


def outside_title(title: str, consent: Consent) -> str:
    """A title as ``shareable_view`` lets it leave (to match a selection's outside view)."""
    record = StoryRecord(
        id=0, community_id=0, teller_id=None, title=title, text=".", stage=None,
        consent=Consent.ANONYMOUS if consent is Consent.GROUP else consent,
        created_at=FOREVER,
    )  # fmt: skip
    view = shareable_view(record, teller_display_name=None)
    return view.title if view is not None else title


def products_from(db: Database) -> ProductsSource:
    """The impact log (``/product``): products made, status changes and uses in the period,
    read through the products capability's outside-safe ``activity_between``."""

    async def read(community_id: int, start: datetime, end: datetime, /) -> ProductFigures:
        activity = await ProductReader(db).activity_between(community_id, start, end)
        return ProductFigures(
            made=sum(1 for a in activity if a.created_in_period),
            uses=sum(len(a.uses) for a in activity),
            status_changes=sum(len(a.status_changes) for a in activity),
            items=tuple(
                ProductLine(
                    title=a.title,
                    kind=a.kind.label,
                    status=a.status.value,
                    uses=len(a.uses),
                    made_in_period=a.created_in_period,
                )
                for a in activity
            ),
        )

    return read


def default_sources(
    db: Database,
    value: ValueStoryService | None = None,
    change: ChangeRoundService | None = None,
) -> ValueReportSources:
    """Every source in this build, wired by import (mypy checks each against its Protocol);
    the stories' services are those the running bot registered (``None``: not loaded)."""
    return ValueReportSources(
        value_stories=value_stories_from(value) if value is not None else None,
        change_stories=change_stories_from(change) if change is not None else None,
        products=products_from(db),
    )
