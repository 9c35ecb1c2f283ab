"""Every sentence the sponsor reads, worded once: a :class:`Digest` becomes a :class:`DigestView`.

The Discord embeds, the text file attached to the DM and the e-mail (HTML and plain text)
only lay this view out (:mod:`bot.domain.digest_render`, :mod:`bot.domain.digest_embeds`);
none of them words anything, so they cannot drift apart. How it is worded, for a busy
manager who may be an older reader outside health services:

* It opens with a summary of three to five sentences: who took part, what the group said,
  what is coming, who to thank. One claim per sentence and one number per claim ("18 of 24
  members" is one number: a share of the group).
* Each section says in one sentence why it matters to a sponsor.
* Plain words: roles are "GPs", "nurses", "patients", "carers", never codes; no "instant
  runoff", "divisive", "opinion groups" or percentages of percentages.
* Counts, not lists: names appear only for the few members to thank or check in with.
* Polls, statement rounds and meetings link back to their place in Discord. Stories never
  do (see :class:`~bot.domain.digest.ShareableStory`): they are printed whole instead.

Sentences are plain text that may contain members' words (questions, titles, names); each
format escapes the whole sentence for its medium.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.domain.digest import (
    Digest,
    Finding,
    HeldMeeting,
    OpenPoll,
    Period,
    Place,
    PollOutcome,
    ShareableStory,
    Trend,
    UpcomingMeeting,
    is_full_week,
)
from bot.domain.polls.wording import as_clause
from bot.text import one_line

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: How roles (disciplines) read in a sentence: "5 of 9 GPs posted".
ROLES = {
    "gp": "GPs",
    "nurse": "nurses",
    "patient": "patients",
    "carer": "carers",
    "other": "members in other roles",
}
#: The summary's longest: a busy reader takes in five sentences at a glance.
SUMMARY_MAX = 5
LATE_NOTE = "This digest is late: Hearth was offline when it was due, so it comes now."
CLOSING = (
    "Stories appear here only with their tellers' consent, with personal details removed. "
    "Sent by Hearth."
)


# --------------------------------------------------------------------------- the view


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Item:
    """One story, vote, meeting or group of sentences: a title (members' words or ours),
    short sentences, a quoted text (a story, meeting notes) and a link back."""

    title: str | None = None
    lines: tuple[str, ...] = ()
    quote: str | None = None
    link: Link | None = None


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    why: str
    items: tuple[Item, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigestView:
    title: str
    dates: str
    late_note: str | None
    summary: tuple[str, ...]
    sections: tuple[Section, ...]
    closing: str = CLOSING
    summary_heading: str = "In short"

    def sentences(self) -> list[str]:
        """Every sentence and title in reading order (quotes excepted): what each format
        must show, word for word."""
        out = [self.title, self.dates, *([self.late_note] if self.late_note else [])]
        out += [self.summary_heading, *self.summary]
        for s in self.sections:
            out += [s.heading, s.why]
            for item in s.items:
                out += [*([item.title] if item.title else []), *item.lines]
                out += [item.link.label] if item.link else []
            out += s.notes
        return [*out, self.closing]


# --------------------------------------------------------------------------- small words


def long_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def local_time(instant: datetime, tz: str) -> str:
    """ "Monday 11 January 2027, 09:00 GMT": weekday in full, for readers of any age."""
    local = instant.astimezone(ZoneInfo(tz))
    return (
        f"{_WEEKDAYS[local.weekday()]} {long_date(local.date())}, "
        f"{local:%H:%M} {local.tzname() or ''}".rstrip()
    )


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def join(words: Sequence[str]) -> str:
    """ "GPs, nurses and carers"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def cap(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def quoted(text: str) -> str:
    return f"“{one_line(text)}”"


def role(code: str) -> str:
    return ROLES.get(code, "members in other roles")


def roles(codes: Iterable[str]) -> str:
    return join([role(c) for c in codes])


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


def span(digest: Digest) -> str:
    """ "this week" for a digest week; a manual send covers its own dates."""
    return "this week" if is_full_week(digest.period, digest.timezone) else "in this period"


def link(place: Place | None, guild_id: int | None, label: str) -> Link | None:
    url = place.url(guild_id) if place is not None else None
    return Link(label, url) if url else None


# --------------------------------------------------------------------------- sentences


def trend_sentence(t: Trend | None, what: str) -> str | None:
    """ "That is 20% more people than in an average recent week." (what: people, messages)"""
    if t is None:
        return None
    than = "last week" if t.weeks == 1 else "in an average recent week"
    if t.percent is None:
        return f"That is up from no {what} {than}."
    shown = abs(t.shown_percent or 0)
    if t.direction == "flat" or shown == 0:
        return f"That is about as many {what} as {than}."
    more = "more" if t.direction == "up" else "fewer"
    return f"That is {shown}% {more} {what} than {than}."


def finding_sentences(f: Finding, question: str) -> list[str]:
    """One finding in sentences of one claim each; ``question`` is the poll's (an agreement
    poll's finding is about its question)."""
    if f.kind == "agree":
        about = as_clause(f.text or question)
        out = [f"{f.count} of {plural(f.of, 'member')} agree that {about}."]
        if f.disagree:
            out.append(f"{plural(f.disagree, 'member disagrees', 'members disagree')}.")
        if f.roles:
            out.append(cap(f"{roles(f.roles)} all agree."))
        return out
    if f.kind == "chose":
        return [f"{f.count} of the {f.of} who voted chose {quoted(f.text)}."]
    if f.kind == "tie":
        names = join([quoted(o) for o in f.options])
        if f.count:
            return [f"{names} tied, with {plural(f.count, 'vote')} each."]
        return [f"Ranking the options ended in a tie between {names}."]
    if f.kind == "won":
        first = (
            f"{f.count} of the {f.of} who voted put it first."
            if f.count
            else "It was no one's first choice, but most preferred it to the others."
        )
        return [f"{quoted(f.text)} came out on top when members ranked the options.", first]
    if f.kind == "yes":
        if not f.of:
            return [f"No one answered {quoted(f.text)}."]
        return [f"{f.count} of the {f.of} who answered said yes to {quoted(f.text)}."]
    if f.kind == "split":
        out = [f"Members are split on whether {as_clause(f.text)}."]
        if f.roles and f.others:
            out.append(f"Most {roles(f.roles)} agree; most {roles(f.others)} disagree.")
        return out
    if f.kind == "none_agreed":
        return [f"No statement won the backing of {f.count}% of those who voted on it."]
    return ["No one voted."]


def outcome_sentences(o: PollOutcome) -> list[str]:
    if not o.findings:  # a round closed before its report was kept: its own words
        return [one_line(o.collective_statement)] if o.collective_statement else []
    out = [s for f in o.findings for s in finding_sentences(f, o.question)]
    if o.voters:
        out.append(f"{o.voters} of {plural(o.eligible, 'member')} voted.")
    return out


def headline(o: PollOutcome) -> str | None:
    """The one sentence of an outcome for the summary (or a served group's highlights)."""
    sentences = outcome_sentences(o)
    if not sentences:
        return None
    first = sentences[0]
    kind = o.findings[0].kind if o.findings else None
    if kind in ("chose", "won", "tie") and not o.is_round:
        return f"Asked {quoted(o.question)}, {first[0].lower()}{first[1:]}"
    return first


def outcome_item(o: PollOutcome, guild_id: int | None) -> Item:
    label = "Open these statements in Discord" if o.is_round else "Open this vote in Discord"
    title = "Statements members wrote and voted on" if o.is_round else one_line(o.question)
    return Item(title, tuple(outcome_sentences(o)), link=link(o.place, guild_id, label))


def open_poll_item(p: OpenPoll, tz: str, guild_id: int | None) -> Item:
    lines = [f"{p.voters} of {plural(p.eligible, 'member')} have voted so far."]
    if p.closes_at:
        lines.append(f"Voting closes on {local_time(p.closes_at, tz)}.")
    title = "Statements members are voting on" if p.is_round else one_line(p.question)
    label = "Open these statements in Discord" if p.is_round else "Open this vote in Discord"
    return Item(f"Still open: {title}", tuple(lines), link=link(p.place, guild_id, label))


def story_item(s: ShareableStory) -> Item:
    told = f"Told by {one_line(s.credit)}." if s.credit else "Shared without the teller's name."
    return Item(one_line(s.title), (f"Stage: {one_line(s.stage_label)}.", told), quote=s.text)


def kept_note(kept: int, shared: int) -> str | None:
    if not kept:
        return None
    more = "more " if shared else ""
    if kept == 1:
        return f"1 {more}story stays within the group, as its teller chose."
    return f"{kept} {more}stories stay within the group, as their tellers chose."


def upcoming_item(u: UpcomingMeeting, tz: str, guild_id: int | None) -> Item:
    going = "1 member is going" if u.going == 1 else f"{u.going} members are going"
    lines = [f"{local_time(u.starts_at, tz)}.", f"{going}."]
    if u.maybe:
        lines.append(f"{u.maybe} more may come.")
    label = "Open the event in Discord"
    if u.place is not None and u.place.event_id is None:
        label = "Open the announcement in Discord"
    return Item(one_line(u.title), tuple(lines), link=link(u.place, guild_id, label))


def held_item(h: HeldMeeting, tz: str, guild_id: int | None) -> Item:
    lines = [f"Held on {local_time(h.starts_at, tz)}."]
    if h.attended is None:
        lines.append("Who came was not recorded.")
    else:
        lines.append(f"{plural(h.attended, 'member')} came.")
    lines.append(f"{plural(h.rsvp_going, 'member')} had said they would go.")
    if not h.notes:
        lines.append("No notes were recorded.")
    label = "Open the announcement in Discord"
    return Item(one_line(h.title), tuple(lines), quote=h.notes or None,
                link=link(h.place, guild_id, label))  # fmt: skip
