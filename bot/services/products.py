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
from datetime import UTC, datetime

from bot.clock import Clock
from bot.db.change_rounds import ChangeRoundRepo
from bot.db.database import Database
from bot.db.products import ProductRepo
from bot.db.stories import StoryRepo
from bot.domain.change.views import view_outside
from bot.domain.communities import Community
from bot.domain.digest import ProductNews
from bot.domain.products import (
    ORIGIN_KINDS,
    Audience,
    OutsideSource,
    Product,
    ProductActivity,
    ProductKind,
    ProductStatus,
    SourceChoice,
    SourceKind,
    SourceRecord,
    TimelineEntry,
    Use,
    UseSetting,
    digest_news,
    initial_status,
    inside_source,
    outside_source,
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
from bot.domain.stories.consent import Consent, shareable_view
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.lifecycle import Communities
from bot.text import escape_inline

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)

NameLookup = Callable[[int], Awaitable[str | None]]


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


async def products_for_digest(
    db: Database, community_id: int, start: datetime, end: datetime, /
) -> list[ProductNews]:
    """The digest's "what the group has made" source: :meth:`ProductReader.activity_between`
    as plain digest data (see :func:`bot.domain.products.digest_news`)."""
    return [
        digest_news(a) for a in await ProductReader(db).activity_between(community_id, start, end)
    ]
