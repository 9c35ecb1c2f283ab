"""How products and their sources are seen: inside the community, and outside it (a
sponsor, the digest, the value report). :func:`outside_source` is the ONE place that decides
how a source appears outside its community.

Pure: no discord, no db.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.communities import Actor, Community, Membership, can_facilitate
from bot.domain.digest import ProductNews, ProductSource
from bot.domain.products.model import (
    ORIGIN_KINDS,
    Product,
    ProductEvent,
    ProductKind,
    ProductStatus,
    SourceKind,
    SourceRecord,
    StatusChange,
    UseSetting,
)
from bot.domain.redaction import redact
from bot.domain.stories.consent import Consent
from bot.errors import NotAllowed
from bot.text import escape_inline


@dataclass(frozen=True, slots=True)
class OutsideSource:
    """How a source appears outside its community: no ids, no names unless agreed."""

    kind: SourceKind
    text: str
    #: False when ``text`` describes the source instead of naming it ("a story shared
    #: within the group").
    titled: bool = True


GROUP_STORY = "a story shared within the group"
WITHDRAWN_STORY = "a story whose teller withdrew it"
CIRCLE_STORY = "a story shared in a smaller circle of the group"
GONE_SOURCE = "a record no longer held"


def outside_source(source: SourceRecord) -> OutsideSource:
    """THE decision of how a source appears to anyone outside its community (a sponsor,
    the digest, the value report).

    Stories and selected stories of change: only what ``shareable_view`` let leave (already
    applied into ``outside_title``/``teller_name`` by whoever read the story): an anonymous
    story by its redacted title, a named one with its teller's name too; a story kept in the
    group (or in a smaller circle) only as "a story shared within the group", with no title
    and no text; a withdrawn or erased one as "a story whose teller withdrew it". Polls,
    statement rounds and meetings by their title, redacted. A record no longer held says
    so, without a title.
    """
    if source.is_story:
        if not source.exists or source.consent is Consent.WITHDRAWN:
            return OutsideSource(source.kind, WITHDRAWN_STORY, titled=False)
        if (
            source.outside_title is None
            or source.consent is None
            or not source.consent.may_leave_community
            or source.restricted
        ):
            return OutsideSource(source.kind, GROUP_STORY, titled=False)
        if source.consent is Consent.NAMED and source.teller_name:
            return OutsideSource(
                source.kind, f"{source.outside_title} (told by {source.teller_name})"
            )
        return OutsideSource(source.kind, source.outside_title)
    if not source.exists:
        return OutsideSource(source.kind, GONE_SOURCE, titled=False)
    title = redact(source.title or "").text.strip()
    return OutsideSource(source.kind, title or source.kind.label.lower())


def inside_source(source: SourceRecord) -> OutsideSource:
    """How a source appears inside its community: by its title, except a withdrawn or erased
    story (nothing of it is kept) and a story kept to a smaller circle (not everyone in the
    community may read it)."""
    if source.is_story:
        if not source.exists or source.consent is Consent.WITHDRAWN:
            return OutsideSource(source.kind, WITHDRAWN_STORY, titled=False)
        if source.restricted:
            return OutsideSource(source.kind, CIRCLE_STORY, titled=False)
    elif not source.exists:
        return OutsideSource(source.kind, GONE_SOURCE, titled=False)
    return OutsideSource(source.kind, source.title or source.kind.label.lower())


def source_title(kind: SourceKind, source_id: int, raw: str) -> str:
    """The title members know a source by: a statement round has none of its own, so it is
    named by its number and the day it opened (``raw`` is its stored opening time)."""
    if kind is SourceKind.STATEMENT_ROUND:
        try:
            opened = datetime.fromisoformat(raw)
        except ValueError:
            return f"round #{source_id}"
        return f"round #{source_id} of {opened.day} {opened:%b %Y}"
    return raw


def outside_text(text: str | None) -> str | None:
    """A member's free text (a place, a note) as it may leave the community: redacted."""
    if text is None:
        return None
    return redact(text).text


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of a product's timeline. ``actor_id`` is ``None`` in outside views."""

    at: datetime
    kind: str  # "created", "status", "use"
    status: ProductStatus | None
    setting: UseSetting | None
    place: str | None
    note: str | None
    actor_id: int | None


def timeline(
    product: Product, events: Iterable[ProductEvent], *, outside: bool = False
) -> list[TimelineEntry]:
    """Creation first, then status changes and uses in time order (ties: the order they were
    recorded, which ``events`` carries). Outside the community no one is named and every
    member's free text is redacted."""
    entries = [
        TimelineEntry(
            product.created_at,
            "created",
            None,
            None,
            None,
            None,
            None if outside else product.created_by,
        )
    ]
    ordered = sorted(enumerate(events), key=lambda pair: (pair[1].at, pair[0]))
    for _, event in ordered:
        note = outside_text(event.note) if outside else event.note
        actor = None if outside else event.actor_id
        if isinstance(event, StatusChange):
            entries.append(TimelineEntry(event.at, "status", event.status, None, None, note, actor))
        else:
            place = outside_text(event.place) if outside else event.place
            entries.append(TimelineEntry(event.at, "use", None, event.setting, place, note, actor))
    return entries


def initial_status(origin_kind: str | None) -> ProductStatus:
    """A product added by hand starts as an idea; a collective document is being drafted
    when it is created; a paper for comment is recorded when it closes, once the group has
    given its comments (still the author's draft to finish)."""
    if origin_kind in ORIGIN_KINDS:
        return ProductStatus.DRAFTING
    return ProductStatus.IDEA


@dataclass(frozen=True, slots=True)
class ProductActivity:
    """A product's activity in a period, safe to show outside its community (value report,
    digest): titles redacted, no one named, sources through :func:`outside_source`."""

    title: str
    kind: ProductKind
    status: ProductStatus
    created_in_period: bool
    created_at: datetime
    status_changes: Sequence[TimelineEntry]
    uses: Sequence[TimelineEntry]
    sources: Sequence[OutsideSource]


class Audience(StrEnum):
    INSIDE = "inside"
    OUTSIDE = "outside"


def audience_for(actor: Actor, community: Community, membership: Membership | None) -> Audience:
    """Who sees what of a community's products: its members, facilitators and the server's
    managers see them as the group does; its sponsor sees the outside view (the view the
    digest and the value report give); anyone else sees nothing."""
    if actor.guild_id != community.guild_id:
        raise NotAllowed("That community belongs to another server.")
    if can_facilitate(actor, community, membership) or (
        membership is not None and membership.active
    ):
        return Audience.INSIDE
    if community.sponsor_id is not None and community.sponsor_id == actor.user_id:
        return Audience.OUTSIDE
    raise NotAllowed(
        f"Only members and the sponsor of **{escape_inline(community.name)}** can see what "
        "it has made."
    )


def digest_news(activity: ProductActivity) -> ProductNews:
    """A product's activity as the digest's plain data (worded by ``digest_view``)."""
    return ProductNews(
        title=activity.title,
        kind=activity.kind.label,
        status=activity.status.value,
        created=activity.created_in_period,
        statuses=tuple(e.status.value for e in activity.status_changes if e.status is not None),
        uses=tuple(
            f"{e.setting.label}, {e.place}" if e.setting is not UseSetting.OTHER else e.place or ""
            for e in activity.uses
            if e.setting is not None
        ),
        sources=tuple(ProductSource(s.kind.value, s.text, s.titled) for s in activity.sources),
    )
