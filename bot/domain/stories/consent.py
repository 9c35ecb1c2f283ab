"""Consent and the single exit: how far a story may travel, and :func:`shareable_view`.

:func:`shareable_view` is the **only** way story content may leave its community (digest,
export to a sponsor, any later feature). It decides from the teller's consent level (and the
story's audience) alone, and what it returns (:class:`SharedStory`) has no field that could
carry a Discord id or internal id, so a caller cannot leak one by accident.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.domain.redaction import REDACTED, redact
from bot.errors import InvalidInput
from bot.text import clean_multiline, echo

log = logging.getLogger(__name__)


class Consent(StrEnum):
    """How far a teller lets their story travel."""

    GROUP = "group"  # stays inside the community (the default)
    ANONYMOUS = "anonymous"  # may leave, without name or Discord identifiers
    NAMED = "named"  # may leave, credited with the teller's display name
    WITHDRAWN = "withdrawn"  # the text is deleted; only a tombstone remains

    @property
    def may_leave_community(self) -> bool:
        return self in (Consent.ANONYMOUS, Consent.NAMED)


CONSENT_DESCRIPTIONS: Mapping[Consent, str] = {
    Consent.GROUP: "stays inside the community",
    Consent.ANONYMOUS: "may be shared beyond the community without your name",
    Consent.NAMED: "may be shared beyond the community with your display name",
    Consent.WITHDRAWN: "removes your story; only a note that it existed remains",
}


def parse_consent(value: str | Consent) -> Consent:
    """Turn a command option into a :class:`Consent`, or explain the choices."""
    if isinstance(value, Consent):
        return value
    cleaned = str(value).strip().lower()
    try:
        return Consent(cleaned)
    except ValueError:
        choices = "; ".join(f"`{c.value}` ({d})" for c, d in CONSENT_DESCRIPTIONS.items())
        raise InvalidInput(
            f"`{echo(str(value), 60)}` is not a consent level. Choose one of: {choices}."
        ) from None


# =========================================================================== records


@dataclass(frozen=True, slots=True)
class StoryPost:
    """The bot's post of a story: a forum thread (whose starter message shares the thread's
    id) or a message in a text channel."""

    channel_id: int
    message_id: int
    is_thread: bool


@dataclass(frozen=True, slots=True)
class StoryRecord:
    """A story as stored. For a withdrawn story only a tombstone remains: ``title``,
    ``text``, ``stage``, ``teller_id`` and ``source_message_link`` are then ``None``
    (see :meth:`tombstone`)."""

    id: int
    community_id: int
    teller_id: int | None
    title: str | None
    text: str | None
    stage: str | None
    consent: Consent
    created_at: datetime
    source_message_link: str | None = None
    stage_label: str | None = None
    """The stage's label as configured when the story was told (what readers see)."""
    withdrawn_at: datetime | None = None
    captured_by: int | None = None
    """Set when someone other than the teller (a facilitator) saved it from a message."""
    consent_pending: bool = False
    """The teller has not yet answered the consent question; until then it stays ``group``."""
    post: StoryPost | None = None
    """Where the bot posted the story inside the community (never leaves it)."""
    audience_channel_id: int | None = None
    """``None``: the whole community. Otherwise the story was saved somewhere narrower (a
    discipline circle, a private thread) and its teller has not agreed to a wider audience:
    only people who can read that channel may see it, it is not posted in the stories
    channel, and it never leaves the community, whatever its consent level."""

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("StoryRecord.created_at must be an aware UTC datetime")

    @property
    def is_tombstone(self) -> bool:
        return self.consent is Consent.WITHDRAWN

    @property
    def is_restricted(self) -> bool:
        """Visible only where it was told, until its teller agrees to the whole community."""
        return self.audience_channel_id is not None

    def tombstone(self) -> StoryRecord:
        """The record a withdrawal leaves behind: id, community and when, nothing else."""
        return replace(
            self,
            teller_id=None,
            title=None,
            text=None,
            stage=None,
            consent=Consent.WITHDRAWN,
            source_message_link=None,
            stage_label=None,
            captured_by=None,
            consent_pending=False,
            post=None,
            audience_channel_id=None,
        )


@dataclass(frozen=True, slots=True)
class SharedStory:
    """A story as it may appear outside its community. Deliberately has no id fields of
    any kind (story, teller, message, channel, guild) and no message link."""

    title: str
    text: str
    stage: str | None
    consent: Consent
    teller_name: str | None
    created_at: datetime
    redaction_count: int


_DISCORD_MENTION = re.compile(r"<(?:@[!&]?|#|/[^:>]{1,64}:)\d{15,25}>")
_DISCORD_EMOJI = re.compile(r"<a?:(\w{1,64}):\d{15,25}>")
_DISCORD_LINK = re.compile(
    r"https?://(?:[\w-]+\.)?(?:discord(?:app)?\.com|discord\.gg)/\S*", re.IGNORECASE
)
_SNOWFLAKE = re.compile(r"(?<!\d)\d{15,25}(?!\d)")


def _scrub_discord(text: str) -> tuple[str, int]:
    """Remove Discord identifiers (mentions, channel links, invite links, raw snowflakes)
    that a teller may have pasted into their story."""
    count = 0

    def hit(_m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return REDACTED

    text = _DISCORD_EMOJI.sub(lambda m: f":{m.group(1)}:", text)
    for pattern in (_DISCORD_MENTION, _DISCORD_LINK, _SNOWFLAKE):
        text = pattern.sub(hit, text)
    return text, count


def _outbound(text: str) -> tuple[str, int]:
    scrubbed, n = _scrub_discord(text)
    result = redact(scrubbed)
    return result.text, n + result.total


def _clean_display_name(name: str | None) -> str | None:
    if name is None:
        return None
    cleaned = " ".join(clean_multiline(name).split())
    cleaned, _ = _outbound(cleaned)
    cleaned = cleaned.strip()
    if not cleaned or cleaned == REDACTED or cleaned.strip("@#<>!&").isdigit():
        return None
    return cleaned


def shareable_view(story: StoryRecord, *, teller_display_name: str | None) -> SharedStory | None:
    """The single exit function: whether and how ``story`` may leave its community.

    ``group`` and ``withdrawn`` → ``None`` (never leaves), and so does a story whose audience
    is still restricted (saved in a circle, its teller not yet agreeing to the whole
    community): it may not even reach the rest of its community, whatever its consent level.
    ``anonymous`` → no name.
    ``named`` → the teller's display name (itself redacted; if nothing usable is left, or no
    name is known, the story is credited to nobody rather than held back, since the teller
    agreed to more than that). Title and text are always scrubbed of Discord identifiers and
    redacted. A record without text (a tombstone, or corrupt) never leaves.
    """
    if not story.consent.may_leave_community or story.is_restricted:
        return None
    if not story.text or story.title is None:
        log.warning("story %s has consent %s but no content; not shared", story.id, story.consent)
        return None
    title, n_title = _outbound(story.title)
    text, n_text = _outbound(story.text)
    name = _clean_display_name(teller_display_name) if story.consent is Consent.NAMED else None
    return SharedStory(
        title=title,
        text=text,
        stage=story.stage,
        consent=story.consent,
        teller_name=name,
        created_at=story.created_at,
        redaction_count=n_title + n_text,
    )
