"""Who may read which story of a value report: the ONE decision, :func:`story_for`.

The facilitator's private report may include stories that stay inside the community (marked
as such); the sponsor's report holds only stories whose teller let them leave, each passed
through :func:`bot.domain.stories.consent.shareable_view` (the single exit: Discord ids
scrubbed, personal identifiers redacted, no name unless the teller chose ``named``).
"""

from __future__ import annotations

from bot.domain.stories.consent import Consent, StoryRecord, shareable_view
from bot.domain.value.model import EXCERPT_LIMIT, Audience, Cycle, CycleStory, ReportStory
from bot.text import clean_multiline, truncate


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
            stays_inside=False, selected=story.selected, selected_reason=reason,
            domain=story.domain,
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
        selected=story.selected,
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
