"""The impact log: products, their sources, status changes and uses.

Between the Discord layer (``cogs/products``) and the repository (:mod:`bot.db.products`).
Other capabilities record their results here: every collective document and every closed
paper for comment becomes a product through :meth:`ProductService.record_origin` (idempotent,
so a retried close or a restart never records one twice). What leaves the community (a
sponsor's view, the digest, the value report) goes through
:func:`bot.domain.products.outside_source`, stories first through ``shareable_view``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.db.database import Database
from bot.db.products import ProductRepo
from bot.db.stories import StoryRepo
from bot.domain.products import (
    ORIGIN_KINDS,
    Product,
    ProductActivity,
    ProductKind,
    SourceKind,
    SourceRecord,
    SourceRef,
    TimelineEntry,
    initial_status,
    outside_source,
    outside_text,
    parse_kind,
    timeline,
    validate_title,
)
from bot.domain.stories.consent import Consent, shareable_view
from bot.services.lifecycle import Communities

log = logging.getLogger(__name__)

NameLookup = Callable[[int], Awaitable[str | None]]


@dataclass(frozen=True)
class ShownSource:
    """A linked source as one viewer may see it: inside the community by its title (with
    the record's kind and id for a link), outside only as :func:`outside_source` words it."""

    kind: SourceKind
    text: str
    inside: bool


@dataclass(frozen=True)
class ProductView:
    product: Product
    timeline: list[TimelineEntry]
    sources: list[ShownSource]
    inside: bool


class ProductService:
    def __init__(self, db: Database, communities: Communities, clock: Clock) -> None:
        self.repo = ProductRepo(db)
        self.stories = StoryRepo(db)
        self.communities = communities
        self.clock = clock

    # ------------------------------------------------------------------ recording
    async def record_origin(
        self,
        community_id: int,
        title: str,
        kind: ProductKind | str,
        origin_kind: str,
        origin_id: int,
        *,
        created_by: int | None,
        at: datetime,
    ) -> Product:
        """Record the product another capability made: a collective document
        (``origin_kind="document"``, the document's id) or a closed paper for comment
        (``"paper"``, the paper's id). Idempotent: the same origin always gives the same
        product (the first call's title, kind and maker are kept), so call it whenever the
        origin is created or closed, retries included. Returns the product."""
        if origin_kind not in ORIGIN_KINDS:
            raise ValueError(f"unknown product origin {origin_kind!r}")
        existing = await self.repo.by_origin(origin_kind, origin_id)
        if existing is not None:
            return existing
        product_kind = kind if isinstance(kind, ProductKind) else parse_kind(kind)
        product, created = await self.repo.add(
            community_id=community_id,
            title=validate_title(title),
            kind=product_kind,
            status=initial_status(origin_kind),
            created_by=created_by,
            at=at,
            origin=(origin_kind, origin_id),
        )
        if created:
            log.info("product %s recorded from %s %s", product.id, origin_kind, origin_id)
        return product

    # ------------------------------------------------------------------ the value report
    async def activity_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[ProductActivity]:
        """Products created, changed or used in ``[start, end)``, safe to show outside the
        community (for the value report and the digest).

        One :class:`~bot.domain.products.ProductActivity` per product that was created, had
        a status change or was used in the period, oldest first: its title and kind, its
        status now, whether it was created in the period, the status changes and uses in the
        period (no one named; members' places and notes redacted) and every source through
        :func:`~bot.domain.products.outside_source` (a story kept in the group is only "a
        story shared within the group", never its title or text).
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
                    sources=[
                        outside_source(s)
                        for s in await self._resolve(await self.repo.sources(product.id), None)
                    ],
                )
            )
        return found

    # ------------------------------------------------------------------ sources
    async def _resolve(
        self, refs: list[SourceRef], display_name: NameLookup | None
    ) -> list[SourceRecord]:
        return [await self._source(ref.kind, ref.id, display_name) for ref in refs]

    async def _source(
        self, kind: SourceKind, source_id: int, display_name: NameLookup | None
    ) -> SourceRecord:
        """A source as stored now; a story with what ``shareable_view`` lets leave."""
        if kind is SourceKind.STORY:
            story = await self.stories.get(source_id)
            if story is None:
                return SourceRecord(kind, source_id, None, None, exists=False)
            name = None
            if story.consent is Consent.NAMED and story.teller_id and display_name is not None:
                name = await display_name(story.teller_id)
            return SourceRecord(
                kind,
                source_id,
                story.community_id,
                story.title,
                consent=story.consent,
                restricted=story.is_restricted,
                shared=shareable_view(story, teller_display_name=name),
            )
        row = await self.repo.source_row(kind, source_id)
        if row is None:
            return SourceRecord(kind, source_id, None, None, exists=False)
        community_id, title = row
        return SourceRecord(kind, source_id, community_id, title)
