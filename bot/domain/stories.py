"""Stories: consent, what may leave a community, validation, stages, prompts and cadence.

Pure logic with no Discord or database code; the stories cog and the repositories call it.

The rule that matters most lives in :func:`shareable_view`: it is the **only** way story
content may leave its community (digest, export to a sponsor, any later feature). It decides
from the teller's consent level alone, and what it returns (:class:`SharedStory`) has no field
that could carry a Discord id or internal id, so a caller cannot leak one by accident.
"""

from __future__ import annotations

import calendar
import difflib
import logging
import random
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.redaction import REDACTED, redact
from bot.errors import InvalidInput
from bot.text import clean_multiline, echo

log = logging.getLogger(__name__)

TITLE_LIMIT = 100
TEXT_LIMIT = 4000
#: Discord forum channels allow at most 20 tags of at most 20 characters; stages become tags.
MAX_STAGES = 20
STAGE_LABEL_LIMIT = 20
AUTOCOMPLETE_LIMIT = 25


# =========================================================================== consent


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
    cleaned = " ".join(_strip_controls(name).split())
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


# =========================================================================== stages


@dataclass(frozen=True, slots=True)
class Stage:
    slug: str
    label: str


DEFAULT_STAGES: list[tuple[str, str]] = [
    ("noticing-symptoms", "Noticing symptoms"),
    ("seeing-a-gp", "Seeing a GP"),
    ("tests-and-diagnosis", "Tests and diagnosis"),
    ("treatment-planning", "Treatment planning"),
    ("treatment", "Treatment"),
    ("living-beyond", "Living beyond cancer"),
    ("recurrence", "Recurrence"),
    ("advanced-care", "Advanced care"),
    ("end-of-life", "End of life"),
    ("bereavement", "Bereavement"),
]

_SLUG_OK = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(label: str) -> str:
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_label.lower()).strip("-")


class Stages:
    """The configured stage taxonomy (ordered)."""

    def __init__(self, stages: Iterable[Stage]) -> None:
        self._stages = tuple(stages)
        if not self._stages:
            raise ValueError("at least one story stage is needed")
        if len(self._stages) > MAX_STAGES:
            raise ValueError(
                f"{len(self._stages)} story stages configured; a Discord forum allows at "
                f"most {MAX_STAGES} tags"
            )
        seen: set[str] = set()
        for stage in self._stages:
            if not _SLUG_OK.match(stage.slug):
                raise ValueError(f"stage slug {stage.slug!r} must be lowercase words joined by -")
            if not 1 <= len(stage.label) <= STAGE_LABEL_LIMIT:
                raise ValueError(
                    f"stage label {stage.label!r} must be 1-{STAGE_LABEL_LIMIT} characters "
                    "(it becomes a forum tag)"
                )
            if stage.slug in seen:
                raise ValueError(f"stage slug {stage.slug!r} appears twice")
            seen.add(stage.slug)
        self._by_key: dict[str, Stage] = {}
        for stage in self._stages:
            self._by_key.setdefault(stage.slug, stage)
        for stage in self._stages:
            self._by_key.setdefault(stage.label.casefold(), stage)

    @classmethod
    def from_config(
        cls, entries: Sequence[str | Sequence[str] | Mapping[str, str]] | None = None
    ) -> Stages:
        """Accepts labels (``"Treatment"``), pairs (``["treatment", "Treatment"]``) or tables
        (``{slug = "treatment", label = "Treatment"}``); ``None`` gives the defaults.
        ValueError on anything malformed so a bad config stops the bot at start."""
        if entries is None:
            entries = DEFAULT_STAGES
        stages: list[Stage] = []
        for entry in entries:
            if isinstance(entry, str):
                label = entry.strip()
                stages.append(Stage(slugify(label), label))
            elif isinstance(entry, Mapping):
                label = str(entry.get("label", "")).strip()
                slug = str(entry.get("slug") or slugify(label)).strip()
                stages.append(Stage(slug, label))
            elif len(entry) == 2:
                stages.append(Stage(str(entry[0]).strip(), str(entry[1]).strip()))
            else:
                raise ValueError(f"cannot read story stage {entry!r}")
        return cls(stages)

    def __iter__(self) -> Iterator[Stage]:
        return iter(self._stages)

    def __len__(self) -> int:
        return len(self._stages)

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and self._lookup(value) is not None

    @property
    def slugs(self) -> list[str]:
        return [s.slug for s in self._stages]

    def _lookup(self, value: str) -> Stage | None:
        v = value.strip()
        return (
            self._by_key.get(v.lower())
            or self._by_key.get(v.casefold())
            or self._by_key.get(slugify(v))
        )

    def resolve(self, value: str) -> Stage:
        """The stage named by slug or label (any case); InvalidInput naming the closest
        stage and listing all of them otherwise."""
        found = self._lookup(value)
        if found is not None:
            return found
        keys = {s.label.casefold(): s for s in self._stages} | {s.slug: s for s in self._stages}
        close = difflib.get_close_matches(value.strip().casefold(), list(keys), n=1, cutoff=0.6)
        hint = f" Did you mean “{keys[close[0]].label}”?" if close else ""
        valid = ", ".join(s.label for s in self._stages)
        raise InvalidInput(
            f"`{echo(value, 60)}` is not one of this community's story stages.{hint} "
            f"The stages are: {valid}."
        )

    def autocomplete(self, prefix: str) -> list[Stage]:
        """Up to 25 stages for a slash-command autocomplete: label or slug starting with the
        typed text first, then a word of the label starting with it, then anywhere."""
        p = prefix.strip().casefold()
        if not p:
            return list(self._stages[:AUTOCOMPLETE_LIMIT])
        starts, words, anywhere = [], [], []
        for s in self._stages:
            label = s.label.casefold()
            if label.startswith(p) or s.slug.startswith(p):
                starts.append(s)
            elif any(w.startswith(p) for w in re.split(r"[\s\-]+", label)):
                words.append(s)
            elif p in label or p in s.slug:
                anywhere.append(s)
        return (starts + words + anywhere)[:AUTOCOMPLETE_LIMIT]


# =========================================================================== validation

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


# =========================================================================== prompts


def next_prompt(
    library: Sequence[str],
    used: Sequence[int | str],
    rng: random.Random | None = None,
) -> tuple[int, str]:
    """Choose the next prompt for a community.

    ``used`` is the community's history of posted prompts, oldest first, as library indices
    or prompt texts; entries no longer in the library are ignored. The history is split into
    cycles, a cycle closing once every current prompt has appeared in it; within the open
    cycle no prompt repeats. When a new cycle starts, the prompt posted last is not chosen
    first (if the library has more than one prompt). With ``rng`` the choice among the
    remaining prompts is random but reproducible; without it, the lowest index is taken.
    """
    if not library:
        raise InvalidInput(
            "The prompt library is empty. Add prompts to the configuration, then try again."
        )
    if len(set(library)) != len(library):
        raise ValueError("the prompt library has duplicate prompts")
    by_text = {text: i for i, text in enumerate(library)}
    everything = set(range(len(library)))

    seen: set[int] = set()
    last: int | None = None
    for entry in used:
        if isinstance(entry, bool):
            continue
        if isinstance(entry, int):
            index: int | None = entry if 0 <= entry < len(library) else None
        else:
            index = by_text.get(entry)
        if index is None:
            continue
        if index in seen:  # the history has moved on to a new cycle (e.g. library edited)
            seen = set()
        seen.add(index)
        last = index
        if seen >= everything:
            seen = set()

    remaining = everything - seen
    if not seen and last is not None and len(library) > 1:
        remaining.discard(last)
    candidates = sorted(remaining)
    chosen = rng.choice(candidates) if rng is not None else candidates[0]
    return chosen, library[chosen]


# =========================================================================== cadence


class Cadence(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    OFF = "off"


def parse_cadence(value: str | Cadence) -> Cadence:
    if isinstance(value, Cadence):
        return value
    try:
        return Cadence(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(
            f"`{echo(str(value), 40)}` is not a schedule. "
            "Choose weekly, fortnightly, monthly or off."
        ) from None


_WEEKDAYS = [d.lower() for d in calendar.day_name]


def parse_weekday(value: str | int) -> int:
    """Monday = 0 … Sunday = 6, from a number or an (abbreviated) English day name."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    v = str(value).strip().lower()
    if len(v) >= 2:
        for i, name in enumerate(_WEEKDAYS):
            if name.startswith(v):
                return i
    raise InvalidInput(
        f"`{echo(str(value), 40)}` is not a day of the week. Try e.g. “Tuesday”."
    )


_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$", re.IGNORECASE)


def parse_time_of_day(value: str) -> time:
    """``19:30``, ``7:30pm``, ``7pm`` → a naive local time."""
    m = _TIME.match(value.strip())
    if m:
        hour, minute, half = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").lower()
        if half and 1 <= hour <= 12:
            hour = hour % 12 + (12 if half == "pm" else 0)
            half = ""
        if not half and (m.group(2) is not None or m.group(3)) and hour < 24 and minute < 60:
            return time(hour, minute)
    raise InvalidInput(
        f"`{echo(value, 40)}` is not a time of day. Use 24-hour time like 19:30."
    )


def _local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    # fold=0: an ambiguous wall time (clocks going back) means its first occurrence; a
    # wall time skipped by clocks going forward is read with the pre-change offset, i.e. it
    # lands the length of the gap later (01:30 on the March change → 02:30 BST).
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _first_weekday_of_month(year: int, month: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7)


def _candidate_days(
    cadence: Cadence, weekday: int, start: date, anchor: date | None
) -> Iterable[date]:
    if cadence is Cadence.MONTHLY:
        year, month = start.year, start.month
        for _ in range(15):
            yield _first_weekday_of_month(year, month, weekday)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return
    day = start + timedelta(days=(weekday - start.weekday()) % 7)
    anchor_monday = None
    if cadence is Cadence.FORTNIGHTLY:
        assert anchor is not None
        anchor_monday = anchor - timedelta(days=anchor.weekday())
    for _ in range(60):
        if anchor_monday is None or ((day - anchor_monday).days // 7) % 2 == 0:
            yield day
        day += timedelta(days=7)


def next_due(
    cadence: Cadence | str,
    weekday: int,
    time_of_day: time,
    tz: ZoneInfo,
    after: datetime,
    *,
    anchor: date | None = None,
) -> datetime | None:
    """The first due instant strictly after ``after``, as an aware UTC datetime.

    Due times keep their local wall-clock time in ``tz`` across daylight-saving changes.
    ``weekly``: every ``weekday`` (Monday = 0). ``fortnightly``: every other ``weekday``, in
    the weeks (Monday to Sunday) an even number of weeks from the week of ``anchor``
    (required). ``monthly``: the first ``weekday`` of each month. ``off``: ``None``.
    """
    cadence = Cadence(cadence)
    if cadence is Cadence.OFF:
        return None
    if after.tzinfo is None:
        raise ValueError("next_due needs an aware 'after'")
    if not 0 <= weekday <= 6:
        raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
    if time_of_day.tzinfo is not None:
        raise ValueError("time_of_day is a local wall time and must be naive")
    if cadence is Cadence.FORTNIGHTLY and anchor is None:
        raise ValueError("a fortnightly schedule needs an anchor date")
    start = after.astimezone(tz).date() - timedelta(days=1)
    for day in _candidate_days(cadence, weekday, start, anchor):
        due = _local_instant(day, time_of_day, tz)
        if due > after:
            return due
    raise AssertionError("no due time found")  # pragma: no cover - candidates always suffice


def missed_run(due: datetime, now: datetime, grace: timedelta) -> bool:
    """Whether a run that fell due at ``due`` (while the bot was down) should still be
    posted now: it is in the past, by no more than ``grace``. Posting it *once* is the
    caller's job (record the run before or with posting)."""
    if due.tzinfo is None or now.tzinfo is None:
        raise ValueError("missed_run needs aware datetimes")
    if grace < timedelta(0):
        raise ValueError("grace cannot be negative")
    return due <= now and now - due <= grace


def catch_up_run(
    cadence: Cadence | str,
    weekday: int,
    time_of_day: time,
    tz: ZoneInfo,
    *,
    since: datetime,
    now: datetime,
    grace: timedelta,
    anchor: date | None = None,
) -> datetime | None:
    """On start-up: the one run to post now, if any. ``since`` is the last run posted (or
    when the schedule was set). Only the latest due time in ``(since, now]`` is considered,
    and only if :func:`missed_run` says it is recent enough; older misses are skipped, so a
    long outage never produces a burst of prompts."""
    if since.tzinfo is None or now.tzinfo is None:
        raise ValueError("catch_up_run needs aware datetimes")
    start = max(since, now - grace - timedelta(microseconds=1))
    latest: datetime | None = None
    cursor = start
    while True:
        due = next_due(cadence, weekday, time_of_day, tz, cursor, anchor=anchor)
        if due is None or due > now:
            break
        latest = due
        cursor = due
    if latest is not None and missed_run(latest, now, grace):
        return latest
    return None


# =========================================================================== schedules


@dataclass(frozen=True, slots=True)
class PromptSchedule:
    """A community's prompt cadence as stored. ``last_due_at`` is the latest due time that
    was handled (posted or deliberately skipped); it is what makes a restart neither lose
    nor repeat a prompt."""

    community_id: int
    cadence: Cadence
    weekday: int
    time_of_day: time
    anchor: date
    set_at: datetime
    last_due_at: datetime | None = None

    def next_after(self, after: datetime, tz: ZoneInfo) -> datetime | None:
        return next_due(
            self.cadence, self.weekday, self.time_of_day, tz, after, anchor=self.anchor
        )

    def catch_up(self, now: datetime, tz: ZoneInfo, grace: timedelta) -> datetime | None:
        """The one missed due time to post on start-up, if any (see :func:`catch_up_run`)."""
        if self.cadence is Cadence.OFF:
            return None
        since = max(self.set_at, self.last_due_at or self.set_at)
        return catch_up_run(
            self.cadence, self.weekday, self.time_of_day, tz,
            since=since, now=now, grace=grace, anchor=self.anchor,
        )


def describe_schedule(schedule: PromptSchedule, tz_name: str) -> str:
    """'weekly on Wednesday at 10:00 (Europe/London)' — for replies to facilitators."""
    if schedule.cadence is Cadence.OFF:
        return "off (no scheduled prompts)"
    day = calendar.day_name[schedule.weekday]
    at = schedule.time_of_day.strftime("%H:%M")
    if schedule.cadence is Cadence.MONTHLY:
        return f"monthly, on the first {day} at {at} ({tz_name})"
    every = "every other" if schedule.cadence is Cadence.FORTNIGHTLY else "every"
    return f"{schedule.cadence.value}, {every} {day} at {at} ({tz_name})"


# =========================================================================== capture helpers

ANONYMOUS_CREDIT = "a member of the community"
NO_STAGE_LABEL = "Stage not given"
AUTO_TITLE_LIMIT = 60


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
