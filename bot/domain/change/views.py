"""What of a story of change each audience may see.

Inside its community (the community selecting for itself, its feedback): every story but a
withdrawn one, the teller's name only with ``named`` consent. Outside (a distilling group
selecting, its feedback, the sponsor's digest, the value report): only what
:func:`bot.domain.stories.consent.shareable_view` lets leave, the one exit: ``anonymous`` and
``named`` stories, redacted and scrubbed of Discord identifiers, with a name only for
``named``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.change.model import ChangeStory
from bot.domain.stories.consent import Consent, StoryRecord, shareable_view


@dataclass(frozen=True)
class StoryView:
    """A story of change as one audience sees it: no ids of any kind but the story's own
    number inside Hearth (``number``, None outside the community)."""

    title: str
    changed: str
    why: str
    teller_name: str | None
    consent: Consent
    created_at: datetime
    number: int | None = None


def may_be_seen(story: ChangeStory, *, outside: bool) -> bool:
    """Whether ``story`` may be shown to this audience at all."""
    if story.is_tombstone or not story.changed:
        return False
    return story.consent.may_leave_community if outside else True


def view_inside(story: ChangeStory, teller_name: str | None) -> StoryView | None:
    if not may_be_seen(story, outside=False):
        return None
    return StoryView(
        title=story.title or "",
        changed=story.changed or "",
        why=story.why or "",
        teller_name=teller_name if story.consent is Consent.NAMED else None,
        consent=story.consent,
        created_at=story.created_at,
        number=story.id,
    )


def _record(story: ChangeStory, text: str) -> StoryRecord:
    return StoryRecord(
        id=story.id,
        community_id=story.community_id,
        teller_id=story.teller_id,
        title=story.title or "",
        text=text,
        stage=None,
        consent=story.consent,
        created_at=story.created_at,
    )


def view_outside(story: ChangeStory, teller_name: str | None) -> StoryView | None:
    """Through the one exit (:func:`shareable_view`): None unless it may leave."""
    if not may_be_seen(story, outside=True):
        return None
    main = shareable_view(_record(story, story.changed or ""), teller_display_name=teller_name)
    why = shareable_view(_record(story, story.why or ""), teller_display_name=None)
    if main is None or why is None:
        return None
    return StoryView(
        title=main.title,
        changed=main.text,
        why=why.text,
        teller_name=main.teller_name,
        consent=story.consent,
        created_at=story.created_at,
    )


def view_for(story: ChangeStory, teller_name: str | None, *, outside: bool) -> StoryView | None:
    return view_outside(story, teller_name) if outside else view_inside(story, teller_name)
