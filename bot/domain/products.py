"""The impact log: products a group made, where they came from and where they went.

A product (a document, a guideline, a programme...) has a status (idea → drafting →
published → adopted → retired, in any order a group needs: a retired product may be
revived), sources (the stories, polls, statement rounds, meetings and significant-change
selections it came from) and uses (its "social life": a training session, a meeting, a
publication, a patient forum). Like Decidim's accountability component, a result is linked
to what lay behind it and carries a timeline; unlike it, each linked story keeps honouring
its teller's consent wherever the product is shown.

:func:`outside_source` is the ONE place that decides how a source appears to anyone
outside the community (a sponsor, the digest, the value report). Pure: no discord, no db.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.communities import Actor, Community, Membership, can_facilitate
from bot.domain.digest import ProductNews, ProductSource
from bot.domain.redaction import redact
from bot.domain.stories.consent import Consent
from bot.errors import InvalidInput, NotAllowed
from bot.text import clean_line, clean_multiline, echo, escape_inline

TITLE_MAX = 200
PLACE_MAX = 200
NOTE_MAX = 1000


class ProductKind(StrEnum):
    DOCUMENT = "document"
    GUIDELINE = "guideline"
    STANDARD = "standard"
    PROGRAMME = "programme"
    TRAINING = "training"
    POLICY_INPUT = "policy_input"
    OTHER = "other"

    @property
    def label(self) -> str:
        return "policy input" if self is ProductKind.POLICY_INPUT else self.value


class ProductStatus(StrEnum):
    IDEA = "idea"
    DRAFTING = "drafting"
    PUBLISHED = "published"
    ADOPTED = "adopted"
    RETIRED = "retired"


class UseSetting(StrEnum):
    """Where a product was used, broadly (``place`` says precisely)."""

    TRAINING = "training"
    MEETING = "meeting"
    PUBLICATION = "publication"
    PATIENT_FORUM = "patient_forum"
    CONFERENCE = "conference"
    PRACTICE = "practice"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            UseSetting.TRAINING: "training session",
            UseSetting.MEETING: "meeting",
            UseSetting.PUBLICATION: "publication",
            UseSetting.PATIENT_FORUM: "patient forum",
            UseSetting.CONFERENCE: "conference",
            UseSetting.PRACTICE: "in practice",
            UseSetting.OTHER: "other",
        }[self]


class SourceKind(StrEnum):
    STORY = "story"
    POLL = "poll"
    STATEMENT_ROUND = "statement_round"
    MEETING = "meeting"
    CHANGE_SELECTION = "change_selection"

    @property
    def label(self) -> str:
        return {
            SourceKind.STORY: "Story",
            SourceKind.POLL: "Poll",
            SourceKind.STATEMENT_ROUND: "Statement round",
            SourceKind.MEETING: "Meeting",
            SourceKind.CHANGE_SELECTION: "Significant change",
        }[self]


#: Where an automatically recorded product came from (ProductService.record_origin).
ORIGIN_KINDS = frozenset({"document", "paper"})


def parse_kind(value: str) -> ProductKind:
    cleaned = value.strip().lower().replace(" ", "_")
    try:
        return ProductKind(cleaned)
    except ValueError:
        raise InvalidInput(
            f"`{echo(value)}` is not a kind of product. Choose one of: "
            + ", ".join(k.label for k in ProductKind)
            + "."
        ) from None


def parse_status(value: str) -> ProductStatus:
    try:
        return ProductStatus(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"`{echo(value)}` is not a status. Choose one of: "
            + ", ".join(s.value for s in ProductStatus)
            + "."
        ) from None


def parse_setting(value: str) -> UseSetting:
    cleaned = value.strip().lower().replace(" ", "_")
    try:
        return UseSetting(cleaned)
    except ValueError:
        raise InvalidInput(
            f"`{echo(value)}` is not a kind of place. Choose one of: "
            + ", ".join(s.label for s in UseSetting)
            + "."
        ) from None


def validate_title(value: str) -> str:
    title = clean_line(value)
    if not title:
        raise InvalidInput("Give the product a title (a few words a member would recognise).")
    if len(title) > TITLE_MAX:
        raise InvalidInput(
            f"That title has {len(title)} characters; keep it to {TITLE_MAX} or fewer."
        )
    return title


def validate_place(value: str) -> str:
    place = clean_line(value)
    if not place:
        raise InvalidInput(
            "Say where the product was used (for example: practice nurse training day, Leeds)."
        )
    if len(place) > PLACE_MAX:
        raise InvalidInput(
            f"That place has {len(place)} characters; keep it to {PLACE_MAX} or fewer "
            "and put the rest in the note."
        )
    return place


def validate_note(value: str | None) -> str | None:
    if value is None:
        return None
    note = clean_multiline(value).strip()
    if not note:
        return None
    if len(note) > NOTE_MAX:
        raise InvalidInput(f"That note has {len(note)} characters; keep it to {NOTE_MAX} or fewer.")
    return note


# =========================================================================== records


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    community_id: int
    title: str
    kind: ProductKind
    status: ProductStatus
    created_at: datetime
    created_by: int | None
    origin_kind: str | None = None
    origin_id: int | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    product_id: int
    status: ProductStatus
    note: str | None
    actor_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Use:
    product_id: int
    setting: UseSetting
    place: str
    note: str | None
    actor_id: int | None
    at: datetime


ProductEvent = StatusChange | Use


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A link from a product to what it came from."""

    kind: SourceKind
    id: int
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A linked source as found now. ``exists`` is False when the record is gone (erased).
    For stories (and stories of change) ``consent`` is set, and ``outside_title`` and
    ``teller_name`` only when the one exit (``shareable_view``) lets the story leave."""

    kind: SourceKind
    id: int
    community_id: int | None
    title: str | None
    exists: bool = True
    consent: Consent | None = None
    restricted: bool = False
    outside_title: str | None = None
    teller_name: str | None = None

    @property
    def is_story(self) -> bool:
        return self.kind in (SourceKind.STORY, SourceKind.CHANGE_SELECTION)


@dataclass(frozen=True, slots=True)
class SourceChoice:
    """A source offered by autocomplete: its kind, id and the title members know it by."""

    kind: SourceKind
    id: int
    title: str

    @property
    def token(self) -> str:
        return f"{self.kind.value}:{self.id}"

    @property
    def label(self) -> str:
        return f"{self.kind.label}: {self.title}"


def parse_source_token(value: str) -> tuple[SourceKind, int]:
    """``story:12`` (what autocomplete sends) → (kind, id); anything else is refused."""
    kind_text, sep, id_text = value.strip().partition(":")
    try:
        kind = SourceKind(kind_text.strip().lower())
        if not sep or not id_text.strip().isdigit():
            raise ValueError
        return kind, int(id_text.strip())
    except ValueError:
        raise InvalidInput(
            f"`{echo(value)}` is not a source I know. Start typing in the `source` option and "
            "pick a story, poll, statement round, meeting or significant change from the list."
        ) from None


# =========================================================================== views


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
            f"{e.setting.label}: {e.place}" if e.setting is not UseSetting.OTHER else e.place or ""
            for e in activity.uses
            if e.setting is not None
        ),
        sources=tuple(ProductSource(s.kind.value, s.text, s.titled) for s in activity.sources),
    )
