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
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.db.database import Database
from bot.domain.communities import Community
from bot.domain.products import (
    ORIGIN_KINDS,
    Audience,
    OutsideSource,
    Product,
    ProductKind,
    ProductStatus,
    SourceChoice,
    SourceKind,
    TimelineEntry,
    Use,
    UseSetting,
    initial_status,
    outside_text,
    parse_kind,
    parse_setting,
    parse_source_token,
    parse_status,
    source_title,
    timeline,
    validate_note,
    validate_place,
    validate_title,
)
from bot.domain.stories.consent import Consent
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.lifecycle import Communities
from bot.services.product_reading import NameLookup, ProductReader, products_for_digest
from bot.text import escape_inline

log = logging.getLogger(__name__)

__all__ = ["ProductReader", "ProductService", "ProductView", "products_for_digest"]


@dataclass(frozen=True)
class ProductView:
    """A product as one viewer may see it: inside the community with titles and who did
    what; outside (the sponsor) through :func:`~bot.domain.products.outside_source`, no one
    named and members' words redacted."""

    product: Product
    title: str
    audience: Audience
    timeline: list[TimelineEntry]
    sources: list[OutsideSource]


class ProductService(ProductReader):
    def __init__(self, db: Database, communities: Communities, clock: Clock) -> None:
        super().__init__(db)
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

    # ------------------------------------------------------------------ finding products
    async def visible_to(
        self, guild_id: int, user_id: int, text: str, *, manager: bool
    ) -> list[tuple[Product, str]]:
        """(product, community name) a user may pick: those of the communities in this
        server they are an active member of or sponsor (every community for a manager)."""
        return await self.repo.visible_to(guild_id, user_id, text.strip(), manager=manager)

    async def in_guild(self, guild_id: int | None, value: str) -> tuple[Product, Community]:
        """The product a user picked (autocomplete sends its id), if it belongs to a
        community of this server."""
        text = (value or "").strip().lstrip("#")
        if not (text.isascii() and text.isdigit() and len(text) <= 18):
            raise InvalidInput("Pick a product from the list (start typing its title).")
        product = await self.repo.get(int(text))
        community = await self.communities.get(product.community_id) if product else None
        if product is None or community is None or community.guild_id != guild_id:
            raise NotFound(
                f"There is no product #{text} in this server. Pick one from the list "
                "(start typing its title)."
            )
        return product, community

    # ------------------------------------------------------------------ commands
    async def add(
        self, community: Community, actor_id: int, title: str, kind: ProductKind | str
    ) -> Product:
        product_kind = kind if isinstance(kind, ProductKind) else parse_kind(kind)
        product, _ = await self.repo.add(
            community_id=community.id,
            title=validate_title(title),
            kind=product_kind,
            status=initial_status(None),
            created_by=actor_id,
            at=self.clock.now(),
        )
        return product

    async def set_status(
        self, product: Product, status: ProductStatus | str, note: str | None, actor_id: int
    ) -> ProductStatus:
        """Record a status change (and its note); returns the status before."""
        new = status if isinstance(status, ProductStatus) else parse_status(status)
        cleaned = validate_note(note)
        if new is product.status and cleaned is None:
            raise Conflict(
                f"**{escape_inline(product.title)}** is already {new.value}, so nothing "
                "changed. Add a note to record something new about it."
            )
        await self.repo.set_status(product.id, new, cleaned, actor_id, self.clock.now())
        return product.status

    async def record_use(
        self,
        product: Product,
        setting: UseSetting | str,
        place: str,
        note: str | None,
        actor_id: int,
    ) -> Use:
        where = setting if isinstance(setting, UseSetting) else parse_setting(setting)
        use = Use(
            product_id=product.id,
            setting=where,
            place=validate_place(place),
            note=validate_note(note),
            actor_id=actor_id,
            at=self.clock.now(),
        )
        await self.repo.add_use(use.product_id, where, use.place, use.note, actor_id, use.at)
        return use

    # ------------------------------------------------------------------ sources
    async def source_choices(self, product: Product, text: str) -> list[SourceChoice]:
        """The community's sources whose title contains ``text``, for autocomplete:
        stories the whole community may read, polls, statement rounds, meetings and the
        stories of change its significant-change rounds selected."""
        typed = text.strip()
        # "Poll: Which…" (a label typed back) searches titles for "Which…"; "poll" alone
        # (the start of a kind's name) lists every source and the labels are matched below.
        query = typed.partition(":")[2].strip() if ":" in typed else typed
        if any(k.label.casefold().startswith(query.casefold()) for k in SourceKind):
            query = ""
        found = [
            SourceChoice(c.kind, c.id, source_title(c.kind, c.id, c.title))
            for c in await self.repo.candidates(product.community_id, query, limit=200)
        ]
        found += await self._selections(product.community_id)
        wanted = text.strip().casefold()
        return [c for c in found if wanted in c.label.casefold()][:25]

    async def link(self, product: Product, value: str, actor_id: int) -> SourceChoice:
        """Link a source of the product's own community; refused clearly (nothing stored)
        for a source of another community, one already linked, an unknown or withdrawn one,
        a story kept to a smaller circle, or a story of change that was not selected."""
        kind, source_id = parse_source_token(value)
        record = await self.read_source(kind, source_id, None)
        pick = "Pick a source from the list (start typing its title)."
        if not record.exists or record.community_id is None:
            raise NotFound(f"There is no {kind.label.lower()} #{source_id}. {pick}")
        if record.community_id != product.community_id:
            raise NotAllowed(
                f"That {kind.label.lower()} belongs to another community; a product can only "
                f"come from its own community's work. {pick}"
            )
        if record.consent is Consent.WITHDRAWN:
            raise InvalidInput("That story was withdrawn by its teller, so it cannot be linked.")
        if record.restricted:
            raise InvalidInput(
                "That story was shared in a smaller circle of the group, not with the whole "
                "community, so it cannot be linked to a product everyone sees."
            )
        if kind is SourceKind.CHANGE_SELECTION and source_id not in {
            c.id for c in await self._selections(product.community_id)
        }:
            raise InvalidInput(
                "That story of change was not selected in a closed round, so it is not a "
                f"significant-change selection yet. {pick}"
            )
        title = record.title or kind.label.lower()
        if not await self.repo.link(product.id, kind, source_id, actor_id, self.clock.now()):
            raise Conflict(
                f"{kind.label} “{escape_inline(title)}” is already linked to "
                f"**{escape_inline(product.title)}**."
            )
        return SourceChoice(kind, source_id, title)

    # ------------------------------------------------------------------ showing
    async def show(
        self, product: Product, audience: Audience, display_name: NameLookup | None = None
    ) -> ProductView:
        """The product's timeline and sources as ``audience`` may see them."""
        outside = audience is Audience.OUTSIDE
        fresh = await self.repo.get(product.id) or product
        events = await self.repo.events(product.id)
        return ProductView(
            product=fresh,
            title=(outside_text(fresh.title) or "") if outside else fresh.title,
            audience=audience,
            timeline=timeline(fresh, events, outside=outside),
            sources=await self._sources(fresh, audience, display_name),
        )
