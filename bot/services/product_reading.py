"""Reading the impact log as an audience may see it: the sources of a product (stories
through ``shareable_view``, stories of change through the change rounds' own exit), the
selections a product may come from, and the period's activity for the digest and the value
report. No clock, no community rules: :class:`bot.services.products.ProductService` builds on
it for the commands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bot.db.change_rounds import ChangeRoundRepo
from bot.db.database import Database
from bot.db.products import ProductRepo
from bot.db.stories import StoryRepo
from bot.domain.change.views import view_outside
from bot.domain.digest import ProductNews
from bot.domain.products import (
    Audience,
    OutsideSource,
    Product,
    ProductActivity,
    SourceChoice,
    SourceKind,
    SourceRecord,
    digest_news,
    inside_source,
    outside_source,
    outside_text,
    source_title,
    timeline,
)
from bot.domain.stories.consent import Consent, shareable_view

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)

NameLookup = Callable[[int], Awaitable[str | None]]


class ProductReader:
    """Reading products and their sources as an audience may see them (no clock, no
    community rules): what the digest and the value report need."""

    def __init__(self, db: Database) -> None:
        self.repo = ProductRepo(db)
        self.stories = StoryRepo(db)
        #: Significant-change selections are a source kind once change rounds exist.
        self.change: ChangeRoundRepo | None = ChangeRoundRepo(db)

    async def _selections(self, community_id: int) -> list[SourceChoice]:
        if self.change is None:
            return []
        rounds = await self.change.closed_between(community_id, _EPOCH, _FOREVER)
        ids = sorted(
            {i for r in rounds if r.outcome is not None for i in r.outcome.selected_ids()},
            reverse=True,
        )
        stories = await self.change.stories_by_ids(ids)
        return [
            SourceChoice(SourceKind.CHANGE_SELECTION, i, stories[i].title or "")
            for i in ids
            if i in stories and not stories[i].is_tombstone
        ]

    async def read_source(
        self, kind: SourceKind, source_id: int, display_name: NameLookup | None
    ) -> SourceRecord:
        """A source as stored now; a story with what ``shareable_view`` lets leave (a name
        for ``named`` consent only when ``display_name`` is given)."""
        if kind is SourceKind.STORY:
            story = await self.stories.get(source_id)
            if story is None:
                return SourceRecord(kind, source_id, None, None, exists=False)
            name = None
            if story.consent is Consent.NAMED and story.teller_id and display_name is not None:
                name = await display_name(story.teller_id)
            shared = shareable_view(story, teller_display_name=name)
            return SourceRecord(
                kind,
                source_id,
                story.community_id,
                story.title,
                consent=story.consent,
                restricted=story.is_restricted,
                outside_title=shared.title if shared else None,
                teller_name=shared.teller_name if shared else None,
            )
        if kind is SourceKind.CHANGE_SELECTION:
            change = None if self.change is None else await self.change.get_story(source_id)
            if change is None:
                return SourceRecord(kind, source_id, None, None, exists=False)
            name = None
            if change.consent is Consent.NAMED and change.teller_id and display_name is not None:
                name = await display_name(change.teller_id)
            seen = view_outside(change, name)
            return SourceRecord(
                kind,
                source_id,
                change.community_id,
                change.title,
                consent=change.consent,
                outside_title=seen.title if seen else None,
                teller_name=seen.teller_name if seen else None,
            )
        row = await self.repo.source_row(kind, source_id)
        if row is None:
            return SourceRecord(kind, source_id, None, None, exists=False)
        community_id, raw = row
        return SourceRecord(kind, source_id, community_id, source_title(kind, source_id, raw))

    async def teller_of(self, kind: SourceKind, source_id: int) -> tuple[int, Consent] | None:
        """Who told a linked story (or story of change) and their consent now: they are told
        when it becomes a product's source. ``None`` for other sources."""
        if kind is SourceKind.STORY:
            story = await self.stories.get(source_id)
            if story is not None and story.teller_id is not None:
                return story.teller_id, story.consent
        if kind is SourceKind.CHANGE_SELECTION and self.change is not None:
            change = await self.change.get_story(source_id)
            if change is not None and change.teller_id is not None:
                return change.teller_id, change.consent
        return None

    async def _sources(
        self, product: Product, audience: Audience, display_name: NameLookup | None
    ) -> list[OutsideSource]:
        shown = outside_source if audience is Audience.OUTSIDE else inside_source
        return [
            shown(await self.read_source(ref.kind, ref.id, display_name))
            for ref in await self.repo.sources(product.id)
        ]

    async def activity_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[ProductActivity]:
        """Products created, changed or used in ``[start, end)``, safe to show outside the
        community (for the value report and the digest).

        One :class:`~bot.domain.products.ProductActivity` per product that was created, had
        a status change or was used in the period, oldest first: its title (redacted) and
        kind, its status now, whether it was created in the period, the status changes and
        uses in the period (no one named; members' places and notes redacted) and every
        source through :func:`~bot.domain.products.outside_source` (a story kept in the
        group is only "a story shared within the group", never its title or text).
        """
        found: list[ProductActivity] = []
        for product in await self.repo.active_between(community_id, start, end):
            events = await self.repo.events(product.id)
            entries = [
                e
                for e in timeline(product, events, outside=True)
                if e.kind != "created" and start <= e.at < end
            ]
            found.append(
                ProductActivity(
                    title=outside_text(product.title) or "",
                    kind=product.kind,
                    status=product.status,
                    created_in_period=start <= product.created_at < end,
                    created_at=product.created_at,
                    status_changes=[e for e in entries if e.kind == "status"],
                    uses=[e for e in entries if e.kind == "use"],
                    sources=await self._sources(product, Audience.OUTSIDE, None),
                )
            )
        return found


async def products_for_digest(
    db: Database, community_id: int, start: datetime, end: datetime, /
) -> list[ProductNews]:
    """The digest's "what the group has made" source: :meth:`ProductReader.activity_between`
    as plain digest data (see :func:`bot.domain.products.digest_news`)."""
    return [
        digest_news(a) for a in await ProductReader(db).activity_between(community_id, start, end)
    ]
