"""Telling a story: validation, titles for saved messages, credit inside the community,
and who may read a story saved from a narrower channel (its audience)."""

from __future__ import annotations

from collections.abc import Collection

from bot.domain.stories.consent import Consent
from bot.domain.stories.stages import Stages
from bot.errors import InvalidInput
from bot.text import clean_multiline

TITLE_LIMIT = 100
TEXT_LIMIT = 4000
ANONYMOUS_CREDIT = "a member of the community"
NO_STAGE_LABEL = "Stage not given"
AUTO_TITLE_LIMIT = 60


def _strip_controls(value: str) -> str:
    """Controls, bidi overrides and zero-width characters out, newlines and tabs kept: a
    stored title or story must not reorder or hide text wherever it is shown later."""
    return clean_multiline(value)


def validate_story(title: str, text: str, stage: str | None, stages: Stages) -> tuple[str, str]:
    """Clean and check a story before it is stored; InvalidInput says what to fix.

    Control, bidi and zero-width characters are removed (newlines and tabs kept in the
    text; in the one-line title they become spaces). Limits are checked after cleaning,
    on what would be stored.
    ``stage`` may be ``None`` (no stage chosen) or a stage slug or label.
    """
    clean_title = " ".join(_strip_controls(title or "").split())
    clean_text = _strip_controls(text or "").strip()
    if not clean_title:
        raise InvalidInput("Your story needs a title. Please add a few words as a title.")
    if not clean_text:
        raise InvalidInput("Your story is empty. Please write your story, then share it again.")
    if len(clean_title) > TITLE_LIMIT:
        raise InvalidInput(
            f"The title is {len(clean_title)} characters long; the limit is {TITLE_LIMIT}. "
            f"Please shorten it by {len(clean_title) - TITLE_LIMIT}."
        )
    if len(clean_text) > TEXT_LIMIT:
        raise InvalidInput(
            f"The story is {len(clean_text)} characters long; the limit is {TEXT_LIMIT}. "
            f"Please shorten it by {len(clean_text) - TEXT_LIMIT}, or share it in two parts."
        )
    if stage is not None and stage.strip():
        stages.resolve(stage)
    return clean_title, clean_text


def credit_inside(consent: Consent, teller_display_name: str | None) -> str:
    """How a story is credited *inside* its community.

    Members know each other, so ``group`` and ``named`` stories show the teller's name in the
    community's own channels; ``anonymous`` means no name anywhere, even inside, so that a
    teller can choose to be unnamed among peers too."""
    if consent is Consent.ANONYMOUS or not teller_display_name:
        return ANONYMOUS_CREDIT
    return " ".join(_strip_controls(teller_display_name).split()) or ANONYMOUS_CREDIT


def auto_title(text: str) -> str:
    """A title for a story saved from a message (the context menu has no form): the first
    line, cut at a word boundary to at most 60 characters."""
    first = next((ln.strip() for ln in _strip_controls(text).splitlines() if ln.strip()), "")
    first = " ".join(first.split())
    if len(first) <= AUTO_TITLE_LIMIT:
        return first
    cut = first[: AUTO_TITLE_LIMIT - 1]
    if " " in cut[20:]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:-") + "…"


def validate_captured(content: str, stages: Stages) -> tuple[str, str]:
    """Title and text for a story saved from a chat message; InvalidInput if unusable."""
    clean = _strip_controls(content or "").strip()
    if not clean:
        raise InvalidInput(
            "That message has no text to save (stories are text; attachments and embeds "
            "are not saved). Pick a message with words in it, or use `/story share`."
        )
    if len(clean) > TEXT_LIMIT:
        raise InvalidInput(
            f"That message is {len(clean)} characters long; a story can be at most "
            f"{TEXT_LIMIT}. Use `/story share` to tell it in a shorter form."
        )
    return validate_story(auto_title(clean), clean, None, stages)


def audience_channel(
    channel_id: int,
    parent_id: int | None,
    *,
    private_thread: bool,
    circles: Collection[int],
) -> int | None:
    """Who can already read a message a story is saved from, as a story audience.

    ``None`` when it is the whole community (its lounge, stories, voice or meetings channel,
    or a public thread in one). Otherwise the channel whose readers alone may see the story
    until its teller agrees to more: a private thread (whoever its parent is), a circle, or
    the circle a public thread belongs to."""
    if private_thread or channel_id in circles:
        return channel_id
    if parent_id is not None and parent_id in circles:
        return parent_id
    return None
