"""The digest as plain data: what the repositories hand in and what the renderers read.

Privacy rules carried by these types (and enforced in :mod:`bot.domain.digest.compile`):
stories arrive already consent-filtered and redacted; names appear only in the
acknowledgement and check-in lists; who joined or left is only ever counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from bot.domain.digest.periods import Period
from bot.errors import InvalidInput
from bot.text import whole_number

#: How many weeks the activity chart shows (this one included).
CHART_WEEKS = 12


@dataclass(frozen=True)
class MemberActivity:
    """One member of the community and their message counts, as aggregates.

    ``hourly_counts`` maps the aware UTC start of an hour to the number of messages the
    member posted in the community's channels in that hour (content is never read). It
    needs to cover only the digest period; hours outside it are ignored. UTC hour buckets
    let late-night counts be computed in the community's timezone, DST included.

    ``last_active_before`` is the start of the latest hour *before the period* in which the
    member posted (``None`` if never): one indexed ``MAX`` per member, so spotting members
    who have gone quiet costs the same however long the community's history is.
    """

    member_id: int
    display_name: str
    discipline: str
    joined_at: datetime
    left_at: datetime | None = None
    hourly_counts: Mapping[datetime, int] = field(default_factory=dict)
    last_active_before: datetime | None = None

    def is_member_at(self, instant: datetime) -> bool:
        return self.joined_at <= instant and (self.left_at is None or self.left_at > instant)


@dataclass(frozen=True)
class WeekActivity:
    """Community-wide totals for one digest week (also one bar of the activity chart)."""

    week_start: date
    messages: int
    active_members: int


@dataclass(frozen=True)
class Place:
    """Where something lives in the community's Discord server, as ids (the wording turns it
    into a link with the digest's guild): a message, or a guild scheduled event. Only for
    places the sponsor can open: polls, statement rounds and meeting announcements are in
    channels the sponsor reads. Stories never carry one (see ``ShareableStory``)."""

    channel_id: int | None = None
    message_id: int | None = None
    event_id: int | None = None

    def url(self, guild_id: int | None) -> str | None:
        if guild_id is None:
            return None
        if self.event_id is not None:
            return f"https://discord.com/events/{guild_id}/{self.event_id}"
        if self.channel_id is not None and self.message_id is not None:
            return f"https://discord.com/channels/{guild_id}/{self.channel_id}/{self.message_id}"
        return None


FindingKind = Literal["agree", "chose", "tie", "won", "yes", "split", "none_agreed", "no_votes"]


@dataclass(frozen=True)
class Finding:
    """One thing a poll or statement round found, as counts; worded by
    :mod:`bot.domain.digest_words` (one claim per sentence). ``text`` is the statement,
    option or survey question (members' words); ``roles`` are discipline codes: for
    ``agree`` the roles that all agree, for ``split`` those where most agree, with
    ``others`` those where most disagree."""

    kind: FindingKind
    text: str = ""
    count: int = 0
    of: int = 0
    options: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    others: tuple[str, ...] = ()
    disagree: int = 0


@dataclass(frozen=True)
class ShareableStory:
    """A story that may leave the community: consent-filtered and redacted upstream.

    ``credit`` is the teller's name for ``named`` consent and ``None`` for ``anonymous``.
    No link: a story shared with /story share lives in the stories channel, which the
    sponsor cannot read, and the chat message a story was saved from would show an
    anonymous teller's name (and the unredacted text); the digest prints the story whole.
    """

    title: str
    text: str
    stage_label: str
    credit: str | None = None


@dataclass(frozen=True)
class PollOutcome:
    question: str
    collective_statement: str
    voters: int
    eligible: int
    closed_at: datetime
    #: What it found, for the digest's own wording (empty: only ``collective_statement``
    #: is known, e.g. a round closed before reports were kept).
    findings: tuple[Finding, ...] = ()
    is_round: bool = False
    place: Place | None = None


@dataclass(frozen=True)
class OpenPoll:
    question: str
    voters: int
    eligible: int
    closes_at: datetime | None = None
    is_round: bool = False
    place: Place | None = None


@dataclass(frozen=True)
class UpcomingMeeting:
    title: str
    starts_at: datetime
    going: int
    maybe: int
    cant: int
    place: Place | None = None


@dataclass(frozen=True)
class HeldMeeting:
    title: str
    starts_at: datetime
    notes: str | None
    attended: int | None
    rsvp_going: int
    #: When the notes were written: notes written after the week of the meeting reach the
    #: sponsor in the digest of the week they arrived (see ``compile_digest``).
    notes_at: datetime | None = None
    place: Place | None = None


@dataclass(frozen=True)
class ProductSource:
    """Something a product came from, as it may be read outside the community: ``kind`` is
    story, poll, statement_round, meeting or change_selection; ``titled`` is False when
    ``text`` describes a story instead of naming it ("a story shared within the group")."""

    kind: str
    text: str
    titled: bool = True


@dataclass(frozen=True)
class ProductNews:
    """What happened to one of the group's products in the period, as it may leave the
    community (read through :func:`bot.domain.products.outside_source`): its title, kind and
    status now, whether it was made in the period, the statuses it reached and where it was
    used (no one named), and what it came from (a story kept in the group only as "a story
    shared within the group")."""

    title: str
    kind: str
    status: str
    created: bool
    statuses: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    sources: tuple[ProductSource, ...] = ()


@dataclass(frozen=True)
class SignificantChange:
    """A story a significant-change round selected, as it may leave the community (through
    ``shareable_view``: redacted, a name only for ``named``), with the selectors' reasons
    (never their names) and whether it tied with another story of its domain."""

    domain: str
    title: str
    changed: str
    why: str
    teller_name: str | None
    reasons: tuple[str, ...] = ()
    tied: bool = False


@dataclass(frozen=True)
class LinkedHighlights:
    """Highlights of a community that a distilling group serves, rolled up into its digest."""

    community_name: str
    highlights: tuple[str, ...] | list[str]


@dataclass(frozen=True)
class DigestConfig:
    """Knobs for compiling a digest; defaults match ``config/hearth.toml``."""

    min_discipline_size: int = 3
    quiet_weeks: int = 3
    top_contributors: int = 3
    #: Local hours [start, end) counted as late at night; wraps past midnight when start > end.
    late_night_hours: tuple[int, int] = (22, 6)
    #: How many previous weeks the trend averages over.
    trend_weeks: int = 4

    def __post_init__(self) -> None:
        if self.min_discipline_size < 1:
            raise InvalidInput("The minimum discipline size must be at least 1.")
        if self.quiet_weeks < 1:
            raise InvalidInput("Quiet weeks must be at least 1.")
        if self.top_contributors < 0:
            raise InvalidInput("The number of top contributors cannot be negative.")
        if self.trend_weeks < 1:
            raise InvalidInput("The trend needs at least one previous week.")
        start, end = self.late_night_hours
        if not (0 <= start <= 23 and 0 <= end <= 23):
            raise InvalidInput("Late-night hours must be between 0 and 23.")

    def is_late_night(self, hour: int) -> bool:
        start, end = self.late_night_hours
        if start == end:
            return False
        if start < end:
            return start <= hour < end
        return hour >= start or hour < end


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class DisciplineCount:
    discipline: str
    active: int
    total: int


@dataclass(frozen=True)
class DisciplineBreakdown:
    """Per-discipline participation that never shows a group below the minimum size.

    ``merged`` lists the disciplines folded into "other" (a discipline name is not
    identifying; the counts are). ``hidden`` is true when the whole community is smaller
    than the minimum, so no breakdown is shown at all.
    """

    rows: tuple[DisciplineCount, ...]
    merged: tuple[str, ...]
    hidden: bool
    min_size: int


@dataclass(frozen=True)
class Trend:
    """This week against the mean of up to ``weeks`` previous weeks."""

    current: int
    baseline: float
    weeks: int
    percent: float | None  # None when the baseline is zero
    direction: Literal["up", "down", "flat"]
    #: ``percent`` as shown: a whole number rounded half up (:func:`bot.text.percent`).
    shown_percent: int | None = None

    @property
    def arrow(self) -> str:
        return {"up": "▲", "down": "▼", "flat": "▶"}[self.direction]

    @property
    def label(self) -> str:
        if self.percent is None:
            return f"{self.arrow} up from none (previous {self.weeks} wk avg 0)"
        shown = self.shown_percent
        if shown is None:
            shown = whole_number(Decimal(repr(self.percent)))
        sign = "+" if shown > 0 else ""
        return f"{self.arrow} {sign}{shown}% vs {self.weeks}-week average ({self.baseline:.1f})"


@dataclass(frozen=True)
class Participation:
    active_members: int
    total_members: int
    messages: int
    disciplines: DisciplineBreakdown
    #: How many joined and how many left during the period: counts only, never who (being
    #: a member of a patients' or carers' group is health information).
    joined: int
    left: int
    messages_trend: Trend | None
    active_trend: Trend | None


@dataclass(frozen=True)
class Contributor:
    member_id: int
    display_name: str
    messages: int
    late_night_messages: int


@dataclass(frozen=True)
class QuietMember:
    member_id: int
    display_name: str
    weeks_quiet: int


@dataclass(frozen=True)
class Acknowledgement:
    """Names for facilitators and the sponsor only: who to thank, who to check in with."""

    top_contributors: tuple[Contributor, ...]
    late_night: tuple[Contributor, ...]
    check_ins: tuple[QuietMember, ...]


@dataclass(frozen=True)
class Digest:
    community_name: str
    period: Period
    timezone: str
    week_of: date  # the community-local date the period starts on
    late: bool
    participation: Participation
    #: ``None`` (here and below) when that source is not available in this deployment.
    stories: tuple[ShareableStory, ...] | None
    kept_story_count: int
    poll_outcomes: tuple[PollOutcome, ...] | None
    open_polls: tuple[OpenPoll, ...] | None
    upcoming_meetings: tuple[UpcomingMeeting, ...] | None
    held_meetings: tuple[HeldMeeting, ...] | None
    acknowledgement: Acknowledgement
    linked: tuple[LinkedHighlights, ...]
    #: Oldest first, this week last; at most CHART_WEEKS entries.
    weekly_activity: tuple[WeekActivity, ...]
    #: The community's Discord server, for links back to polls, rounds and meetings.
    guild_id: int | None = None
    #: What the group has made (the impact log): products made, moved on or used in the
    #: period; ``None`` without the products capability.
    products: tuple[ProductNews, ...] | None = None
    #: Stories significant-change rounds selected (rounds closed in the period), consent
    #: permitting; ``None`` without the change-rounds capability.
    changes: tuple[SignificantChange, ...] | None = None

    # A section whose source is not available (``None`` above) is left out of every
    # rendering altogether: a digest never shows placeholder text for a missing feature.
    @property
    def has_stories(self) -> bool:
        return self.stories is not None

    @property
    def has_polls(self) -> bool:
        return self.poll_outcomes is not None or self.open_polls is not None

    @property
    def has_meetings(self) -> bool:
        return self.upcoming_meetings is not None or self.held_meetings is not None

    @property
    def has_news(self) -> bool:
        """Whether anything happened in the period: messages, members joining or leaving,
        stories offered or kept, polls or statement rounds closed, meetings held, or
        highlights of a served community. Open polls, upcoming meetings and the check-in
        list describe the present, not the period, so they alone are no news (``/digest
        send`` then sends nothing rather than repeat them)."""
        p = self.participation
        return bool(
            p.messages
            or p.joined
            or p.left
            or self.stories
            or self.kept_story_count
            or self.poll_outcomes
            or self.held_meetings
            or self.linked
            or self.products
            or self.changes
        )
