"""Privacy: what a member's data export contains, what erasure keeps, and retention.

Pure logic, no Discord. The repository (``bot.db.privacy``) gathers the rows and performs
the erasure; the cog (``cogs/privacy``) delivers the file and tidies Discord afterwards.

Decisions written down here because the README and the tests both rely on them:

* A closed poll or statement round is a published collective result; erasing one member
  must not change its counts. Closed polls' ballots were already unlinkable (the HMAC key is
  erased at close); a non-anonymous closed poll's ballot is *detached* (its user id cleared).
  Votes in closed statement rounds are kept under a random negative pseudonym, a different one
  per round, so the round's tallies stay the same and nothing links the rounds to each other
  or to the member. Open polls and rounds drop the member's vote entirely.
* Statements the member wrote are deleted, unless a closed round used them: then the text
  stays (it is part of a published result) and the author becomes :data:`ERASED_MEMBER`.
* Columns that record who *did* something to a shared record (who created a community, a
  poll, a meeting, a round; who marked attendance) and cannot be empty are set to
  :data:`ERASED_MEMBER`; nullable ones are cleared.
* Papers for comment (:mod:`bot.db.papers`): answers on open papers are dropped; named
  comments are deleted (anonymous ones name no one); a paper the member shared is deleted
  while open, and once closed (the group's statement, a product) kept without the author or
  the draft's text, the comments that were for them deleted.
* Significant-change rounds (:mod:`bot.db.change_rounds`): the member's stories of change
  become tombstones (their words deleted, as a withdrawal does); their choices are deleted (a
  closed round's frozen outcome keeps the reasons, which never carried a selector's id).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from bot.domain.polls import AGREEMENT_SCALE, PollKind, as_kind
from bot.text import escape_inline

EXPORT_SCHEMA = 1
"""Bump when a field of the export changes meaning or disappears (adding one is compatible)."""

ERASED_MEMBER = 0
"""Stands in for an erased member in columns that must name someone. 0 is never a Discord id."""

ANONYMOUS_CLOSED_NOTE = (
    "anonymous votes in closed polls can no longer be linked to you, by design: the key that "
    "linked a ballot to its voter is erased when the poll closes"
)

EXPLANATION = (
    "Everything Hearth stores about you, as of generated_at. Hearth never stores the content "
    "of chat messages, only how many messages you sent per hour. Anonymous poll votes are "
    "included only while their poll is open (see anonymous_votes_note). Use /privacy forget "
    "to erase all of this. Each list below is named for what it holds; ask a facilitator or "
    "server manager if anything here is unclear."
)

RETENTION_HOUR = time(3, 30)
"""The retention job runs daily at this UTC time (a quiet hour for UK communities)."""


# --------------------------------------------------------------------------- export records


@dataclass(frozen=True)
class MembershipRecord:
    community: str
    discipline: str
    region: str | None
    facilitator: bool
    joined_at: datetime
    left_at: datetime | None


@dataclass(frozen=True)
class StoryExport:
    id: int
    community: str
    created_at: datetime
    consent: str
    title: str | None
    text: str | None
    stage: str | None
    saved_from_chat: bool
    consent_pending: bool
    withdrawn_at: datetime | None = None


@dataclass(frozen=True)
class ValueStoryExport:
    """A value-creation story (``/value story``): the teller's answer for each cycle."""

    id: int
    community: str
    created_at: datetime
    consent: str
    immediate: str | None
    potential: str | None
    applied: str | None
    realized: str | None
    reframing: str | None


@dataclass(frozen=True)
class PollVoteExport:
    poll_id: int
    community: str
    question: str
    anonymous: bool
    open: bool
    ballot: str


@dataclass(frozen=True)
class PollBallotRecord:
    """A member's poll vote as stored (option indexes): :meth:`exported` words it. The
    repository returns these, so the wording stays here."""

    poll_id: int
    community: str
    question: str
    anonymous: bool
    open: bool
    kind: str
    options: tuple[str, ...]
    ballot: Any

    def exported(self) -> PollVoteExport:
        return PollVoteExport(
            poll_id=self.poll_id,
            community=self.community,
            question=self.question,
            anonymous=self.anonymous,
            open=self.open,
            ballot=ballot_in_words(self.kind, self.options, self.ballot),
        )


@dataclass(frozen=True)
class StatementExport:
    id: int
    community: str
    text: str
    created_at: datetime
    round_id: int | None


@dataclass(frozen=True)
class StatementVoteExport:
    statement_id: int
    community: str
    statement: str
    vote: str
    round_closed: bool


@dataclass(frozen=True)
class RsvpExport:
    meeting_id: int
    community: str
    meeting: str
    starts_at: datetime
    answer: str
    answered_at: datetime


@dataclass(frozen=True)
class AttendanceExport:
    meeting_id: int
    community: str
    meeting: str
    starts_at: datetime
    marked_at: datetime


@dataclass(frozen=True)
class ReminderExport:
    meeting_id: int
    community: str
    meeting: str
    before_seconds: int
    outcome: str


@dataclass(frozen=True)
class ActivityExport:
    community: str
    day: str
    hour: int
    messages: int


@dataclass(frozen=True)
class AnnualAnswerExport:
    """The member's answer to a community's annual report (``/value annual``)."""

    community: str
    year: int
    contacts: str
    educational_activities: str
    feedback_and_stories: str
    skills_and_qualifications: str
    anything_else: str
    quoting: str
    answered_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SponsorExport:
    community: str
    email: str | None


@dataclass(frozen=True)
class ExportData:
    user_id: int
    memberships: Sequence[MembershipRecord] = ()
    stories: Sequence[StoryExport] = ()
    value_stories: Sequence[ValueStoryExport] = ()
    poll_votes: Sequence[PollVoteExport] = ()
    poll_ballots: Sequence[PollBallotRecord] = ()
    """Votes as stored; exported worded, after :attr:`poll_votes`."""
    voted_in_polls: Sequence[int] = ()
    statements: Sequence[StatementExport] = ()
    statement_votes: Sequence[StatementVoteExport] = ()
    rsvps: Sequence[RsvpExport] = ()
    attendance: Sequence[AttendanceExport] = ()
    reminders: Sequence[ReminderExport] = ()
    activity: Sequence[ActivityExport] = ()
    sponsor_of: Sequence[SponsorExport] = ()
    created: Mapping[str, int] = field(default_factory=dict)
    annual_answers: Sequence[AnnualAnswerExport] = ()
    documents: Sequence[Mapping[str, object]] = ()
    """Collective documents: quotes of the member's stories, proposals, open choices."""
    products: Sequence[Mapping[str, object]] = ()
    """The impact log: products added, sources linked, statuses and uses recorded."""
    papers: Sequence[Mapping[str, object]] = ()
    """Papers for comment: papers shared, named comments, answers on open papers."""
    change_rounds: Sequence[Mapping[str, object]] = ()
    """Significant-change rounds: stories of change told, choices and reasons as a selector."""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _plain(obj: Any) -> Any:
    """Dataclass dicts with datetimes as ISO-8601 UTC text (JSON has no date type)."""
    if isinstance(obj, datetime):
        return _iso(obj)
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def ballot_in_words(kind: PollKind | str, options: Sequence[str], ballot: Any) -> str:
    """A ballot as its voter would read it (the stored form is option indexes)."""
    kind = as_kind(kind)
    if kind is PollKind.AGREEMENT:
        return AGREEMENT_SCALE[int(ballot)]
    if kind is PollKind.SINGLE:
        return options[int(ballot)]
    if kind is PollKind.MULTI:
        return "; ".join(options[i] for i in sorted(ballot))
    if kind is PollKind.RANKED:
        return " > ".join(f"{n}. {options[i]}" for n, i in enumerate(ballot, start=1))
    return "; ".join(
        f"{options[q] if q < len(options) else f'Q{q + 1}'}: {'yes' if a else 'no'}"
        for q, a in sorted(dict(ballot).items())
    )


def _activity_summary(rows: Sequence[ActivityExport]) -> dict[str, Any]:
    per_day: dict[str, dict[str, int]] = {}
    per_hour: dict[str, dict[str, int]] = {}
    for r in rows:
        d = per_day.setdefault(r.community, {})
        d[r.day] = d.get(r.day, 0) + r.messages
        h = per_hour.setdefault(r.community, {})
        key = f"{r.hour:02d}"
        h[key] = h.get(key, 0) + r.messages
    return {
        "per_day": {c: dict(sorted(v.items())) for c, v in sorted(per_day.items())},
        "per_hour_of_day_utc": {c: dict(sorted(v.items())) for c, v in sorted(per_hour.items())},
        "rows": [_plain(asdict(r)) for r in rows],
    }


def export_document(data: ExportData, generated_at: datetime) -> dict[str, Any]:
    """The JSON export (field reference in README "Privacy"). Keys are stable per schema."""
    return {
        "schema": EXPORT_SCHEMA,
        "generated_at": _iso(generated_at),
        "explanation": EXPLANATION,
        "user_id": str(data.user_id),
        "memberships": [_plain(asdict(m)) for m in data.memberships],
        "sponsor_of": [_plain(asdict(s)) for s in data.sponsor_of],
        "stories": [_plain(asdict(s)) for s in data.stories],
        "pending_consent_requests": [s.id for s in data.stories if s.consent_pending],
        "value_stories": [_plain(asdict(s)) for s in data.value_stories],
        "poll_votes": [
            _plain(asdict(v))
            for v in (*data.poll_votes, *(b.exported() for b in data.poll_ballots))
        ],
        "polls_voted_in": sorted(data.voted_in_polls),
        "anonymous_votes_note": ANONYMOUS_CLOSED_NOTE,
        "statements": [_plain(asdict(s)) for s in data.statements],
        "statement_votes": [_plain(asdict(v)) for v in data.statement_votes],
        "meeting_rsvps": [_plain(asdict(r)) for r in data.rsvps],
        "meeting_attendance": [_plain(asdict(a)) for a in data.attendance],
        "meeting_reminders": [_plain(asdict(r)) for r in data.reminders],
        "message_activity": _activity_summary(data.activity),
        "annual_report_answers": [_plain(asdict(a)) for a in data.annual_answers],
        "documents": [dict(d) for d in data.documents],
        "products": [dict(p) for p in data.products],
        "papers_for_comment": [dict(p) for p in data.papers],
        "significant_change": [dict(c) for c in data.change_rounds],
        "records_you_created": dict(sorted(data.created.items())),
    }


def export_bytes(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def export_filename(generated_at: datetime) -> str:
    return f"hearth-data-{generated_at.astimezone(UTC):%Y%m%d-%H%M%S}.json"


# --------------------------------------------------------------------------- erasure


@dataclass(frozen=True)
class StoryPostRef:
    story_id: int
    community_id: int
    title: str
    channel_id: int
    message_id: int
    is_thread: bool


@dataclass(frozen=True)
class LeftCommunity:
    """A community the erased member was in (for roles and the facilitators' notice)."""

    community_id: int
    discipline: str
    was_active: bool


@dataclass(frozen=True)
class ErasureResult:
    user_id: int
    communities: Sequence[LeftCommunity]
    sponsor_of: Sequence[int]
    story_posts: Sequence[StoryPostRef]
    counts: Mapping[str, int]

    @property
    def anything(self) -> bool:
        return bool(self.communities or self.sponsor_of or any(self.counts.values()))


def facilitator_notice(community_name: str, *, member_left: bool, sponsor_gone: bool) -> str:
    """What facilitators are told: that a member left, never who, why or how."""
    parts = []
    if member_left:
        parts.append(f"A member left **{escape_inline(community_name)}**.")
    if sponsor_gone:
        parts.append(
            f"**{escape_inline(community_name)}** has no sponsor now; set one with `/community "
            "sponsor` so "
            "the weekly digest has someone to go to."
        )
    return " ".join(parts)


# --------------------------------------------------------------------------- retention


def retention_cutoff_day(now: datetime, retention_days: int) -> str:
    """The first UTC day (YYYY-MM-DD) still kept: rows on earlier days are deleted."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    return (now.astimezone(UTC).date() - timedelta(days=retention_days)).isoformat()


def next_retention_run(now: datetime) -> datetime:
    """The next daily run strictly after ``now``."""
    now = now.astimezone(UTC)
    candidate = datetime.combine(now.date(), RETENTION_HOUR, UTC)
    if candidate <= now:
        candidate += timedelta(days=1)
    return candidate
