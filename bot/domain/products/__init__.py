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

from bot.domain.products.model import (
    NOTE_MAX,
    ORIGIN_KINDS,
    PLACE_MAX,
    TITLE_MAX,
    Product,
    ProductEvent,
    ProductKind,
    ProductStatus,
    SourceChoice,
    SourceKind,
    SourceRecord,
    SourceRef,
    StatusChange,
    Use,
    UseSetting,
    parse_kind,
    parse_setting,
    parse_source_token,
    parse_status,
    validate_note,
    validate_place,
    validate_title,
)
from bot.domain.products.views import (
    CIRCLE_STORY,
    GONE_SOURCE,
    GROUP_STORY,
    WITHDRAWN_STORY,
    Audience,
    OutsideSource,
    ProductActivity,
    TimelineEntry,
    audience_for,
    digest_news,
    initial_status,
    inside_source,
    outside_source,
    outside_text,
    source_title,
    timeline,
)

__all__ = [
    "CIRCLE_STORY",
    "GONE_SOURCE",
    "GROUP_STORY",
    "NOTE_MAX",
    "ORIGIN_KINDS",
    "PLACE_MAX",
    "TITLE_MAX",
    "WITHDRAWN_STORY",
    "Audience",
    "OutsideSource",
    "Product",
    "ProductActivity",
    "ProductEvent",
    "ProductKind",
    "ProductStatus",
    "SourceChoice",
    "SourceKind",
    "SourceRecord",
    "SourceRef",
    "StatusChange",
    "TimelineEntry",
    "Use",
    "UseSetting",
    "audience_for",
    "digest_news",
    "initial_status",
    "inside_source",
    "outside_source",
    "outside_text",
    "parse_kind",
    "parse_setting",
    "parse_source_token",
    "parse_status",
    "source_title",
    "timeline",
    "validate_note",
    "validate_place",
    "validate_title",
]
