"""The weekly sponsor digest as plain data: when a digest is due and what it says.

Where things are (a newcomer's map):

* :mod:`~bot.domain.digest.periods`: digest weeks on the community's clock, which are due,
  which hours of messages a period counts, late and retry timing.
* :mod:`~bot.domain.digest.model`: the input dataclasses repositories fill (members'
  hourly counts, stories, polls, meetings) and the :class:`Digest` the renderers read.
* :mod:`~bot.domain.digest.compile`: :func:`compile_digest`, pure, with the privacy rules.
* :mod:`~bot.domain.digest.schedule`: a community's schedule and its delivery records.
* :mod:`bot.domain.digest_words`: every sentence the sponsor reads, as a :class:`DigestView`;
  :mod:`bot.domain.digest_render` and :mod:`bot.domain.digest_embeds` lay it out (HTML,
  text, Discord embeds).

Everything here is pure: repositories read the period's data (and nothing older than the
bounded look-back they are asked for) into the input dataclasses, and the service hands the
resulting :class:`Digest` to the renderers. Keeping the compilation free of I/O is what lets
``/digest preview`` show exactly what ``/digest send`` delivers.

Privacy rules encoded here, so no caller can forget them:

* Per-discipline numbers never show a group smaller than ``min_discipline_size``
  (see :func:`discipline_breakdown`).
* Stories arrive already consent-filtered and redacted; this package never sees a story
  that may not leave the community, only the *count* of those kept.
* Names appear only in the acknowledgement and check-in lists, which go to facilitators
  and the sponsor only. Who joined or left is never named, only counted: membership of a
  patients' or carers' group is health information.

This module re-exports the public names so ``from bot.domain.digest import ...`` keeps working.
"""

from __future__ import annotations

from bot.domain.digest.compile import (
    FLAT_THRESHOLD_PERCENT,
    OTHER_DISCIPLINE,
    compile_digest,
    discipline_breakdown,
    quiet_members,
    trend,
)
from bot.domain.digest.model import (
    CHART_WEEKS,
    Acknowledgement,
    Contributor,
    Digest,
    DigestConfig,
    DisciplineBreakdown,
    DisciplineCount,
    Finding,
    HeldMeeting,
    LinkedHighlights,
    MemberActivity,
    OpenPoll,
    Participation,
    Place,
    PollOutcome,
    ProductNews,
    ProductSource,
    QuietMember,
    ShareableStory,
    SignificantChange,
    Trend,
    UpcomingMeeting,
    WeekActivity,
)
from bot.domain.digest.periods import (
    LATE_AFTER,
    WEEK,
    Period,
    counted_hours,
    due_periods,
    floor_hour,
    is_full_week,
    is_late,
    next_due_after,
    period_for,
    previous_periods,
    retry_at,
    week_of,
)
from bot.domain.digest.schedule import (
    WEEKDAY_NAMES,
    DeliveryState,
    DigestRecord,
    DigestSchedule,
    parse_schedule,
)

__all__ = [
    "CHART_WEEKS",
    "FLAT_THRESHOLD_PERCENT",
    "LATE_AFTER",
    "OTHER_DISCIPLINE",
    "WEEK",
    "WEEKDAY_NAMES",
    "Acknowledgement",
    "Contributor",
    "DeliveryState",
    "Digest",
    "DigestConfig",
    "DigestRecord",
    "DigestSchedule",
    "DisciplineBreakdown",
    "DisciplineCount",
    "Finding",
    "HeldMeeting",
    "LinkedHighlights",
    "MemberActivity",
    "OpenPoll",
    "Participation",
    "Period",
    "Place",
    "PollOutcome",
    "ProductNews",
    "ProductSource",
    "QuietMember",
    "ShareableStory",
    "SignificantChange",
    "Trend",
    "UpcomingMeeting",
    "WeekActivity",
    "compile_digest",
    "counted_hours",
    "discipline_breakdown",
    "due_periods",
    "floor_hour",
    "is_full_week",
    "is_late",
    "next_due_after",
    "parse_schedule",
    "period_for",
    "previous_periods",
    "quiet_members",
    "retry_at",
    "trend",
    "week_of",
]  # fmt: skip
