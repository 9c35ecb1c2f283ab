"""Significant-change rounds: reading a facilitator's input, and the close's tally.

Pure: no Discord, no database.

Limits (Discord's, said to the user when exceeded): at most :data:`MAX_DOMAINS` domains (a
select menu lists 25 options, but a round's feedback is one message per domain and one
embed per selected story, so ten keeps the feedback readable), each at most
:data:`DOMAIN_LIMIT` characters (a select option's label is 100). A story's "what changed"
is at most :data:`CHANGED_LIMIT` characters and "why it matters" :data:`WHY_LIMIT`, so both
fit in one embed description (4096); a reason is at most :data:`REASON_LIMIT` (an embed
field's value is 1024). At most :data:`MAX_CANDIDATES` stories per domain: a selector picks
from one select menu (25 options).

The tally (Davies & Dart 2005 leave ties to the panel; Hearth has no panel meeting, so it
writes the rule down): per domain, the story chosen by the most selectors is selected. When
several stories share the most choices, **all of them are selected together**, each with its
reasons (the feedback says they tied). When fewer selectors chose in the domain than the
round's minimum (``[change] min_choices``, default 2), **nothing is selected** and the
feedback says so: one person's choice is not a group's selection.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.change.model import Choice, DomainOutcome, DomainResult, RoundOutcome
from bot.errors import InvalidInput
from bot.text import clean_line, clean_multiline, echo

MAX_DOMAINS = 10
DOMAIN_LIMIT = 80
TITLE_LIMIT = 100
CHANGED_LIMIT = 2400
WHY_LIMIT = 1500
REASON_LIMIT = 1000
MAX_CANDIDATES = 25
MAX_PERIOD = timedelta(days=3 * 366)


def parse_domains(raw: str | None, default: Sequence[str]) -> tuple[str, ...]:
    """``"Care; My practice"`` → the domains; empty → the configured ones."""
    parts = [clean_line(p) for p in (raw.split(";") if raw and raw.strip() else default)]
    parts = [p for p in parts if p]
    if not parts:
        raise InvalidInput(
            "Give at least one domain of change, separated by `;`, for example "
            "`Care for people affected by cancer; My own practice`."
        )
    if len(parts) > MAX_DOMAINS:
        raise InvalidInput(
            f"That is {len(parts)} domains; a round can have at most {MAX_DOMAINS} (each gets "
            "its own feedback message). Merge some, or run a second round."
        )
    seen: set[str] = set()
    for part in parts:
        if len(part) > DOMAIN_LIMIT:
            raise InvalidInput(
                f"The domain `{echo(part, 40)}` is {len(part)} characters; keep each domain to "
                f"{DOMAIN_LIMIT} or fewer (Discord shows it in a menu)."
            )
        if part.casefold() in seen:
            raise InvalidInput(f"The domain `{echo(part, 40)}` is listed twice.")
        seen.add(part.casefold())
    return tuple(parts)


_MONTHS = re.compile(r"^(?:last\s+)?(\d{1,2})\s*(months?|mo|years?|y|weeks?|w)$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:to|until|-|–|—|\.\.)\s*(\d{4}-\d{2}-\d{2})$")


def _months_back(day: datetime, months: int) -> datetime:
    month = day.month - 1 - months
    year = day.year + month // 12
    month = month % 12 + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31,
            30, 31, 31, 30, 31, 30, 31][month - 1]  # fmt: skip
    return day.replace(year=year, month=month, day=min(day.day, last))


def parse_period(raw: str | None, tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """The reporting period as UTC ``[start, end)``: "6 months" (the last six months, the
    default), "1 year", "8 weeks", or "2026-06-01 to 2026-11-30" (whole days, both included,
    on the community's clock)."""
    text = " ".join((raw or "6 months").lower().split())
    if m := _MONTHS.match(text):
        n, unit = int(m.group(1)), m.group(2)
        if n < 1:
            raise InvalidInput("A reporting period needs at least one month, week or year.")
        if unit.startswith("w"):
            start = now - timedelta(weeks=n)
        else:
            start = _months_back(now, n * 12 if unit.startswith("y") else n)
        if now - start > MAX_PERIOD:
            raise InvalidInput("Keep the reporting period to three years or less.")
        return start, now
    if m := _RANGE.match(text):
        try:
            first = datetime.fromisoformat(m.group(1)).date()
            last = datetime.fromisoformat(m.group(2)).date()
        except ValueError:
            raise InvalidInput(
                f"`{echo(raw, 40)}` has a date that does not exist; write dates as YYYY-MM-DD."
            ) from None
        if last < first:
            raise InvalidInput("The reporting period ends before it starts; swap the dates.")
        start = datetime.combine(first, time(0), tz).astimezone(ZoneInfo("UTC"))
        end = datetime.combine(last + timedelta(days=1), time(0), tz).astimezone(ZoneInfo("UTC"))
        if end - start > MAX_PERIOD:
            raise InvalidInput("Keep the reporting period to three years or less.")
        if start > now:
            raise InvalidInput(
                "The reporting period starts in the future; stories report on "
                "change that has happened."
            )
        return start, end
    raise InvalidInput(
        f"`{echo(raw, 40)}` is not a reporting period. Write `6 months`, `1 year`, `8 weeks`, "
        "or two dates such as `2026-06-01 to 2026-11-30`."
    )


def check_deadlines(now: datetime, collect_until: datetime, select_until: datetime) -> None:
    """Both deadlines in the future, selection after collection (with time for both)."""
    if collect_until <= now:
        raise InvalidInput("The collection deadline is in the past; choose a later time.")
    if collect_until - now < timedelta(hours=1):
        raise InvalidInput("Give members at least an hour to tell their stories.")
    if select_until <= collect_until:
        raise InvalidInput(
            "The selection deadline must come after the collection deadline: selectors read "
            "the stories once collection has closed."
        )
    if select_until - collect_until < timedelta(hours=1):
        raise InvalidInput("Give selectors at least an hour between the two deadlines.")


def _text(value: str | None, limit: int, what: str, *, required: bool) -> str:
    cleaned = clean_multiline(value)
    if required and not cleaned:
        raise InvalidInput(f"Write something for {what}.")
    if len(cleaned) > limit:
        raise InvalidInput(
            f"{what.capitalize()} is {len(cleaned)} characters; keep it to {limit} or fewer "
            "so it fits in one Discord message."
        )
    return cleaned


def validate_change_story(
    changed: str | None, why: str | None, title: str | None
) -> tuple[str, str, str]:
    """(title, changed, why), cleaned; a missing title is made from the first words."""
    what = _text(changed, CHANGED_LIMIT, "what changed", required=True)
    reason = _text(why, WHY_LIMIT, "why it is significant to you", required=True)
    head = clean_line(title)
    if len(head) > TITLE_LIMIT:
        raise InvalidInput(f"The title is {len(head)} characters; keep it to {TITLE_LIMIT}.")
    if not head:
        words = clean_line(what).split()
        head = " ".join(words[:8]) + ("…" if len(words) > 8 else "")
        head = head[:TITLE_LIMIT]
    return head, what, reason


def validate_reason(raw: str | None) -> str:
    return _text(raw, REASON_LIMIT, "why this story is the most significant", required=True)


# --------------------------------------------------------------------------- tally


def tally_domain(
    domain: int,
    name: str,
    candidates: Iterable[int],
    choices: Sequence[Choice],
    min_choices: int,
) -> DomainOutcome:
    """One domain's selection (see the module docstring for ties and too few choices).

    Choices for a story that is not a candidate (withdrawn since) do not count."""
    ids = list(candidates)
    valid = [c for c in choices if c.domain == domain and c.story_id in ids]
    if not ids:
        return DomainOutcome(domain, name, DomainResult.NO_STORIES, len(valid), 0)
    if len(valid) < max(1, min_choices):
        return DomainOutcome(domain, name, DomainResult.TOO_FEW, len(valid), len(ids))
    counts = Counter(c.story_id for c in valid)
    top = max(counts.values())
    winners = tuple(sorted(sid for sid, n in counts.items() if n == top))
    reasons = {sid: tuple(c.reason for c in valid if c.story_id == sid) for sid in winners}
    return DomainOutcome(
        domain,
        name,
        DomainResult.TIED if len(winners) > 1 else DomainResult.SELECTED,
        len(valid),
        len(ids),
        winners,
        reasons,
        {sid: counts[sid] for sid in winners},
    )


def tally(
    domains: Sequence[str],
    candidates: dict[int, list[int]],
    choices: Sequence[Choice],
    min_choices: int,
) -> RoundOutcome:
    """Every domain's selection, and how many people chose in at least one."""
    outcomes = tuple(
        tally_domain(i, name, candidates.get(i, []), choices, min_choices)
        for i, name in enumerate(domains)
    )
    return RoundOutcome(outcomes, len({c.selector_id for c in choices}))
