"""Turn a :class:`~bot.domain.digest.Digest` into Markdown, HTML, plain text and embeds.

Everything a member typed (story titles and text, poll questions, meeting titles and notes,
display names, highlights) is untrusted here: Markdown output escapes it and neutralises
mentions so a story called "@everyone" cannot ping a server; HTML output is autoescaped.
The embed renderer splits long sections across embeds and messages instead of dropping
content; only a single item too large for any embed is cut, and then it says so and points
at the attachment, which always carries the full digest.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from bot.domain.digest import (
    Digest,
    DisciplineBreakdown,
    HeldMeeting,
    OpenPoll,
    Participation,
    Period,
    PollOutcome,
    ShareableStory,
    UpcomingMeeting,
    is_full_week,
)
from bot.text import (  # noqa: F401  (ZWSP, escape_markdown: re-exported for old callers)
    ZWSP,
    escape_block,
    escape_inline,
    escape_markdown,
    neutralise_mentions,
    one_line,
    plain,
)
from bot.text import percent as whole_percent

log = logging.getLogger(__name__)

# Discord's documented embed limits (counted in code points, as Python's len does).
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_COUNT_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBEDS_PER_MESSAGE = 10
MESSAGE_TOTAL_LIMIT = 6000

#: Our own cap on footers, far below Discord's, so they never crowd out content.
FOOTER_CAP = 200
TRUNCATION_NOTE = "… (see attachment)"
COLOR = 0xD9822B
LATE_COLOR = 0xB03A2E

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# --------------------------------------------------------------------------- escaping


def md_inline(text: str) -> str:
    """Escaped, on one line: for titles, names and questions inside a sentence."""
    return escape_inline(text)


def md_quote(text: str) -> str:
    """Escaped multi-line text as a Markdown block quote."""
    lines = escape_block(text).splitlines() or [""]
    return "\n".join("> " + line if line else ">" for line in lines)


# --------------------------------------------------------------------------- wording


def long_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def local_time(instant: datetime, tz: str) -> str:
    local = instant.astimezone(ZoneInfo(tz))
    return (
        f"{_WEEKDAYS[local.weekday()]} {long_date(local.date())}, "
        f"{local:%H:%M} {local.tzname() or ''}".rstrip()
    )


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def kept_stories(count: int) -> str:
    return f"{plural(count, 'story', 'stories')} kept within the group."


def percent(part: int, whole: int) -> str:
    """"63%" for 5 of 8: the project's one percentage rule (:func:`bot.text.percent`), so
    the digest and the poll in Discord never disagree."""
    return f"{whole_percent(part, whole)}%" if whole else "n/a"


def turnout(voters: int, eligible: int) -> str:
    return f"{voters} of {eligible} voted ({percent(voters, eligible)})"


def rsvp_summary(m: UpcomingMeeting) -> str:
    return f"{m.going} going · {m.maybe} maybe · {m.cant} can't"


def attendance(m: HeldMeeting) -> str:
    went = "attendance not recorded" if m.attended is None else f"{m.attended} attended"
    return f"{went} ({m.rsvp_going} said they were going)"


def credit(story: ShareableStory) -> str:
    return story.credit if story.credit else "anonymous"


def period_label(period: Period, tz: str) -> str:
    """What a digest covers, in its title, e-mail subject and replies: "week of 11 January
    2027" for a whole digest week; otherwise its real dates ("18 January 2027 to 20 January
    2027"), with the times when it starts and ends on the same day. Two digests never cover
    the same time, so no two get the same label."""
    zone = ZoneInfo(tz)
    start, end = period.start.astimezone(zone), period.end.astimezone(zone)
    if is_full_week(period, zone):
        return f"week of {long_date(start.date())}"
    if start.date() == end.date():
        return f"{long_date(start.date())}, {start:%H:%M} to {end:%H:%M}"
    return f"{long_date(start.date())} to {long_date(end.date())}"


def digest_title(digest: Digest) -> str:
    late = " (late)" if digest.late else ""
    name = one_line(digest.community_name)
    return f"Hearth digest: {name} — {period_label(digest.period, digest.timezone)}{late}"


def membership_changes(p: Participation) -> str | None:
    """Counts only, as "3 members joined, 1 left.". Who joined or left a patients' or
    carers' group is health information and is never named to the sponsor."""
    if not p.joined and not p.left:
        return None
    if not p.left:
        return f"{plural(p.joined, 'member')} joined."
    if not p.joined:
        return f"{plural(p.left, 'member')} left."
    return f"{plural(p.joined, 'member')} joined, {p.left} left."


def discipline_note(b: DisciplineBreakdown) -> str | None:
    if b.hidden:
        return (
            f"Not shown by discipline: the community has fewer than {b.min_size} members "
            "in total, so any breakdown could identify someone."
        )
    if b.merged:
        return (
            f"Disciplines with fewer than {b.min_size} members ({', '.join(b.merged)}) are "
            'counted under "other" so no one can be identified.'
        )
    return None


def discipline_label(discipline: str) -> str:
    """``gp`` reads as "GP", ``nurse`` as "Nurse"."""
    return discipline.upper() if len(discipline) <= 3 else discipline.capitalize()


def late_note(digest: Digest) -> str | None:
    if not digest.late:
        return None
    return "This digest is late: Hearth was offline when it was due, so it is sent on return."


def _helpers(digest: Digest) -> dict[str, Any]:
    return {
        "d": digest,
        "p": digest.participation,
        "ack": digest.acknowledgement,
        "title": digest_title(digest),
        "when": lambda dt: local_time(dt, digest.timezone),
        "long_date": long_date,
        "percent": percent,
        "plural": plural,
        "kept_stories": kept_stories,
        "turnout": turnout,
        "rsvp": rsvp_summary,
        "attendance": attendance,
        "credit": credit,
        "discipline_label": discipline_label,
        "discipline_note": discipline_note(digest.participation.disciplines),
        "membership_changes": membership_changes(digest.participation),
        "late_note": late_note(digest),
    }


# --------------------------------------------------------------------------- templates


@cache
def _environment(kind: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot", "templates"),
        autoescape=(kind == "html"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_inline
    env.filters["md_quote"] = md_quote
    env.filters["one_line"] = one_line
    return env


def _render(kind: str, template: str, digest: Digest, **extra: Any) -> str:
    text = _environment(kind).get_template(template).render(**_helpers(digest), **extra)
    # Collapse the blank-line runs that conditional blocks leave behind.
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_markdown(digest: Digest) -> str:
    """The full digest as Markdown: the DM attachment, complete and never truncated."""
    return _render("md", "digest.md.j2", digest)


def render_html(
    digest: Digest,
    *,
    chart_src: str | None = None,
    chart_alt: str = "",
    footer: tuple[str, ...] = (),
) -> str:
    """The full digest as an HTML page (the e-mail layout of ``email_base.html.j2``);
    ``chart_src`` (e.g. ``cid:...``) adds the chart, described by ``chart_alt``; ``footer``
    lines close the page (how to stop the e-mails)."""
    return _render(
        "html", "digest.html.j2", digest, chart_src=chart_src, chart_alt=chart_alt, footer=footer
    )


def render_text(digest: Digest) -> str:
    """The full digest as plain text, the e-mail's text/plain alternative."""
    return _render("txt", "digest.txt.j2", digest)


# --------------------------------------------------------------------------- embeds


def embed_size(embed: dict[str, Any]) -> int:
    """Characters Discord counts towards the 6000 limit for one embed.

    Title, description, field names and values, footer text and author name; URLs,
    colours and images do not count.
    """
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for f in embed.get("fields") or ():
        total += len(f.get("name") or "") + len(f.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def _cut(text: str, limit: int, note: str = "…") -> str:
    if len(text) <= limit:
        return text
    head = text[: limit - len(note)]
    # Do not leave a dangling escape backslash that would swallow the note's first char.
    trailing = len(head) - len(head.rstrip("\\"))
    if trailing % 2:
        head = head[:-1]
    return head + note


def fit_item(item: str) -> str:
    """An item that fits in one embed description, cut with a pointer if it cannot."""
    return _cut(item, DESCRIPTION_LIMIT, TRUNCATION_NOTE)


@dataclass
class EmbedSection:
    """A titled run of Markdown items (and short fields) that may span several embeds."""

    title: str
    items: list[str] = field(default_factory=list)
    fields: list[tuple[str, str, bool]] = field(default_factory=list)


def _poll_item(p: PollOutcome, tz: str) -> str:
    return (
        f"**{md_inline(p.question)}**\n{md_quote(p.collective_statement)}\n"
        f"{turnout(p.voters, p.eligible)} · closed {local_time(p.closed_at, tz)}"
    )


def _open_poll_item(p: OpenPoll, tz: str) -> str:
    closes = f" · closes {local_time(p.closes_at, tz)}" if p.closes_at else ""
    return f"**{md_inline(p.question)}** (open)\n{turnout(p.voters, p.eligible)}{closes}"


def _story_item(s: ShareableStory) -> str:
    return (
        f"**{md_inline(s.title)}** · _{md_inline(s.stage_label)}_ · {md_inline(credit(s))}\n"
        f"{md_quote(s.text)}"
    )


def embed_sections(digest: Digest) -> list[EmbedSection]:
    """The digest as embed sections, in reading order (before splitting into embeds)."""
    tz = digest.timezone
    p = digest.participation
    overview = EmbedSection(digest_title(digest))
    overview.items.append(
        f"{local_time(digest.period.start, tz)} → {local_time(digest.period.end, tz)}"
    )
    if note := late_note(digest):
        overview.items.append(f"⚠️ {note}")
    overview.fields.append(
        (
            "Active members",
            f"{p.active_members} of {p.total_members}"
            + (f"\n{p.active_trend.label}" if p.active_trend else ""),
            True,
        )
    )
    overview.fields.append(
        (
            "Messages",
            f"{p.messages}" + (f"\n{p.messages_trend.label}" if p.messages_trend else ""),
            True,
        )
    )
    for row in p.disciplines.rows:
        label = _cut(md_inline(discipline_label(row.discipline)), FIELD_NAME_LIMIT)
        overview.fields.append((label, f"{row.active} of {row.total} active", True))
    if dnote := discipline_note(p.disciplines):
        overview.items.append(f"_{dnote}_")
    if changes := membership_changes(p):
        overview.items.append(changes)

    sections = [overview]
    if digest.stories is not None:
        stories = EmbedSection("Stories")
        stories.items.extend(_story_item(s) for s in digest.stories)
        if not digest.stories:
            stories.items.append("No new stories may leave the community this week.")
        stories.items.append(f"_{kept_stories(digest.kept_story_count)}_")
        sections.append(stories)

    if digest.has_polls:
        voice = EmbedSection("Collective voice")
        voice.items.extend(_poll_item(po, tz) for po in digest.poll_outcomes or ())
        voice.items.extend(_open_poll_item(op, tz) for op in digest.open_polls or ())
        if not voice.items:
            voice.items.append("No polls closed or open this week.")
        sections.append(voice)

    if digest.has_meetings:
        meetings = EmbedSection("Meetings")
        for u in digest.upcoming_meetings or ():
            meetings.items.append(
                f"**{md_inline(u.title)}** · {local_time(u.starts_at, tz)}\n{rsvp_summary(u)}"
            )
        for h in digest.held_meetings or ():
            notes = f"\n{md_quote(h.notes)}" if h.notes else "\n_No notes recorded._"
            meetings.items.append(
                f"**{md_inline(h.title)}** (held {local_time(h.starts_at, tz)})\n"
                f"{attendance(h)}{notes}"
            )
        if not meetings.items:
            meetings.items.append("No meetings held this week and none scheduled.")
        sections.append(meetings)

    ack = digest.acknowledgement
    thanks = EmbedSection("Acknowledgement (facilitators and sponsor only)")
    if ack.top_contributors:
        thanks.items.append("**Top contributors**")
        thanks.items.extend(
            f"• {md_inline(c.display_name)}: {plural(c.messages, 'message')}"
            for c in ack.top_contributors
        )
    if ack.late_night:
        thanks.items.append("**Late-night messages**")
        thanks.items.extend(
            f"• {md_inline(c.display_name)}: {c.late_night_messages} late at night"
            for c in ack.late_night
        )
    if not thanks.items:
        thanks.items.append("No messages this week.")

    check = EmbedSection("Check in (facilitators and sponsor only)")
    check.items.extend(
        f"• {md_inline(q.display_name)}: quiet for {plural(q.weeks_quiet, 'week')}"
        for q in ack.check_ins
    )
    if not check.items:
        check.items.append("No one who used to post has gone quiet.")

    sections.extend((thanks, check))
    for linked in digest.linked:
        sections.append(
            EmbedSection(
                f"Highlights from {one_line(linked.community_name)}",
                [f"• {md_inline(h)}" for h in linked.highlights],
            )
        )
    return sections


def _footer_text(digest: Digest) -> str:
    # footers, titles and field names show text literally: plain(), not Markdown escaping
    return plain(f"Hearth · {digest.community_name} · full digest attached", FOOTER_CAP)


def _section_embeds(section: EmbedSection, color: int, budget: int) -> list[dict[str, Any]]:
    """Split one section into embeds, each within every per-embed limit and ``budget``."""
    embeds: list[dict[str, Any]] = []
    title = plain(section.title, TITLE_LIMIT)
    more = plain(f"{section.title} (continued)", TITLE_LIMIT)

    def fresh() -> dict[str, Any]:
        return {"title": more if embeds else title, "color": color}

    current = fresh()

    def flush() -> None:
        nonlocal current
        embeds.append(current)
        current = fresh()

    for raw in section.items:
        item = fit_item(raw)
        desc = current.get("description", "")
        joined = f"{desc}\n{item}" if desc else item
        if desc and (
            len(joined) > DESCRIPTION_LIMIT
            or embed_size(current) - len(desc) + len(joined) > budget
        ):
            flush()
            joined = item
        current["description"] = joined
    for name, value, inline in section.fields:
        fname, fvalue = plain(name, FIELD_NAME_LIMIT, empty="-"), _cut(value, FIELD_VALUE_LIMIT)
        entry = {"name": fname, "value": fvalue, "inline": inline}
        fields = current.setdefault("fields", [])
        has_content = bool(fields or current.get("description"))
        if len(fields) >= FIELD_COUNT_LIMIT or (
            has_content and embed_size(current) + len(fname) + len(fvalue) > budget
        ):
            flush()
            fields = current.setdefault("fields", [])
        fields.append(entry)
    if current.get("description") or current.get("fields") or not embeds:
        embeds.append(current)
    return embeds


def render_embeds(digest: Digest) -> list[list[dict[str, Any]]]:
    """The digest as Discord embed dicts, grouped into messages Discord will accept.

    Each message has at most 10 embeds and 6000 counted characters; every embed respects
    the title/description/field/footer limits. The last embed of each message carries the
    footer pointing at the attachment.
    """
    color = LATE_COLOR if digest.late else COLOR
    footer = _footer_text(digest)
    budget = MESSAGE_TOTAL_LIMIT - len(footer)
    embeds: list[dict[str, Any]] = []
    for section in embed_sections(digest):
        embeds.extend(_section_embeds(section, color, budget))

    messages: list[list[dict[str, Any]]] = []
    batch: list[dict[str, Any]] = []
    used = 0
    for embed in embeds:
        size = embed_size(embed)
        if batch and (len(batch) >= EMBEDS_PER_MESSAGE or used + size > budget):
            messages.append(batch)
            batch, used = [], 0
        batch.append(embed)
        used += size
    if batch:
        messages.append(batch)
    for batch in messages:
        batch[-1]["footer"] = {"text": footer}
    log.debug(
        "digest for %s: %d embeds in %d messages",
        digest.community_name,
        len(embeds),
        len(messages),
    )
    return messages
