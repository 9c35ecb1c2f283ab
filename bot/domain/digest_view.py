"""The digest as the sponsor reads it: summary first, then one section per subject.

:func:`view` is the one source of the digest's wording; the formats only lay it out (see
:mod:`bot.domain.digest_words` for how sentences are worded and why).
"""

from __future__ import annotations

from bot.domain.digest import (
    Digest,
    DisciplineBreakdown,
    Participation,
    ProductSource,
    is_full_week,
)
from bot.domain.digest_words import (
    LATE_NOTE,
    SUMMARY_MAX,
    DigestView,
    Item,
    Section,
    cap,
    digest_title,
    headline,
    held_item,
    join,
    kept_note,
    local_time,
    open_poll_item,
    outcome_item,
    plural,
    quoted,
    role,
    roles,
    span,
    story_item,
    times,
    trend_sentence,
    upcoming_item,
)
from bot.text import one_line

WHY = {
    "people": "How many members keep talking is the surest sign that the group is alive.",
    "voice": "These are views the group holds together: you can quote them as "
    "“the group agrees that…”.",
    "stories": "Stories show what the group's work means to people, and their tellers "
    "agreed that you may pass them on.",
    "meetings": "Going to a meeting is the quickest way to hear the group for yourself.",
    "changes": "In a significant-change round members told what changed for them, and a "
    "group chose the change that matters most and wrote why. Their tellers agreed that you "
    "may pass these stories on.",
    "made": "What the group makes carries its work beyond its own conversations: these "
    "are the products you can point to.",
    "thanks": "A word of thanks from you shows members that their effort is seen.",
    "check": "Someone who used to post and has gone quiet may be struggling or drifting "
    "away: a friendly word can help.",
}
#: How many members who posted late at night the digest names.
LATE_NAMED = 3
PRIVATE = "These names are for you and the facilitators only."
STORIES_IN_FULL = "The stories channel is for members only, so each story is printed here in full."


def view(digest: Digest) -> DigestView:
    """The digest worded: the one source every format lays out."""
    tz = digest.timezone
    dates = f"From {local_time(digest.period.start, tz)} to {local_time(digest.period.end, tz)}."
    return DigestView(
        title=digest_title(digest),
        dates=dates,
        late_note=LATE_NOTE if digest.late else None,
        summary=tuple(summary(digest)),
        sections=tuple(sections(digest)),
    )


def summary(digest: Digest) -> list[str]:
    """Three to five sentences: who took part, what the group said, stories to pass on,
    what is coming, who to thank (and, if there is room, who to check in with)."""
    p, ack, when, tz = digest.participation, digest.acknowledgement, span(digest), digest.timezone
    out = [
        f"{p.active_members} of {plural(p.total_members, 'member')} posted {when}."
        if p.active_members or p.messages
        else f"No one posted {when}."
    ]
    said = next((h for o in digest.poll_outcomes or () if (h := headline(o))), None)
    if said:
        out.append(said)
    if digest.stories:
        n = len(digest.stories)
        out.append(f"Members shared {plural(n, 'story', 'stories')} you may pass on.")
    if digest.upcoming_meetings:
        u = digest.upcoming_meetings[0]
        out.append(f"The next meeting, {quoted(u.title)}, is on {local_time(u.starts_at, tz)}.")
    elif digest.open_polls and (op := digest.open_polls[0]).closes_at is not None:
        what = "members' statements" if op.is_round else quoted(op.question)
        out.append(f"Voting on {what} closes on {local_time(op.closes_at, tz)}.")
    thanks = " a word of thanks would show the effort is seen."
    if ack.late_night:
        c = ack.late_night[0]
        out.append(
            f"{one_line(c.display_name)} posted {times(c.late_night_messages)} late at night:"
            + thanks
        )
    elif ack.top_contributors:
        c = ack.top_contributors[0]
        out.append(f"{one_line(c.display_name)} wrote the most messages {when}:" + thanks)
    if ack.check_ins:
        q = ack.check_ins[0]
        out.append(
            f"{one_line(q.display_name)} has been quiet for {plural(q.weeks_quiet, 'week')}: "
            "a friendly word may help."
        )
    return out[:SUMMARY_MAX]


def sections(digest: Digest) -> list[Section]:
    """The sections in reading order; a section whose source is missing is left out."""
    out = [people(digest)]
    if digest.has_polls:
        out.append(voice(digest))
    if digest.stories is not None:
        out.append(stories(digest))
    if digest.changes:
        out.append(changes(digest))
    if digest.products is not None:
        out.append(made(digest))
    if digest.has_meetings:
        out.append(meetings(digest))
    out += [thanks(digest), check_ins(digest)]
    for linked in digest.linked:
        out.append(
            Section(
                "linked",
                f"Highlights from {one_line(linked.community_name)}",
                "What the community this group speaks for said and shared.",
                (Item(lines=tuple(one_line(h) for h in linked.highlights)),),
            )
        )
    return out


def people(digest: Digest) -> Section:
    p, when = digest.participation, span(digest)
    lines: list[str] = []
    if not p.total_members:
        lines.append("The community has no members yet.")
    elif p.active_members or p.messages:
        lines.append(f"{p.active_members} of {plural(p.total_members, 'member')} posted {when}.")
        lines.append(f"Members wrote {plural(p.messages, 'message')} in all.")
    else:
        lines.append(f"No one posted {when}.")
    # A trend compares whole weeks: a manual send's few days would read as a fall.
    if is_full_week(digest.period, digest.timezone):
        for t, what in ((p.active_trend, "people"), (p.messages_trend, "messages")):
            if sentence := trend_sentence(t, what):
                lines.append(sentence)
    lines += [f"{r.active} of {r.total} {role(r.discipline)} posted." for r in p.disciplines.rows]
    notes = [n for n in (roles_note(p.disciplines),) if n]
    return Section(
        "people", "Who took part", WHY["people"], (Item(lines=tuple(lines)),),
        tuple(notes) + membership(p),
    )  # fmt: skip


def roles_note(b: DisciplineBreakdown) -> str | None:
    if b.hidden:
        return (
            "Figures by role are not shown: the group has fewer than "
            f"{b.min_size} members, and smaller numbers could identify someone."
        )
    if b.merged:
        return cap(
            f"{roles(b.merged)} are counted with other roles: with fewer than "
            f"{b.min_size} of them, their numbers could identify someone."
        )
    return None


def membership(p: Participation) -> tuple[str, ...]:
    """Counts only: who joined or left a patients' or carers' group is health information
    and is never named to the sponsor."""
    out = []
    if p.joined:
        out.append(f"{plural(p.joined, 'member')} joined.")
    if p.left:
        out.append(f"{plural(p.left, 'member')} left.")
    return tuple(out)


def voice(digest: Digest) -> Section:
    g, tz = digest.guild_id, digest.timezone
    items = [outcome_item(o, g) for o in digest.poll_outcomes or ()]
    items += [open_poll_item(o, tz, g) for o in digest.open_polls or ()]
    if not items:
        items.append(Item(lines=(f"No vote closed {span(digest)}, and none is open.",)))
    return Section("voice", "What the group said", WHY["voice"], tuple(items))


def stories(digest: Digest) -> Section:
    shared = digest.stories or ()
    items = [story_item(s) for s in shared]
    notes = [STORIES_IN_FULL] if shared else []
    if kept := kept_note(digest.kept_story_count, len(shared)):
        notes.append(kept)
    elif not shared:
        items.append(Item(lines=(f"No new stories {span(digest)}.",)))
    return Section("stories", "Stories you may share", WHY["stories"], tuple(items), tuple(notes))


def changes(digest: Digest) -> Section:
    """Stories of significant change: shown only when a round selected something the
    sponsor may read (a round is rare; an empty section every week would be noise)."""
    items = []
    for c in digest.changes or ():
        told = f"Told by {one_line(c.teller_name)}." if c.teller_name else (
            "Shared without the teller's name.")  # fmt: skip
        lines = [f"What it is about: {one_line(c.domain)}.", told]
        if c.tied:
            lines.append("It shared the most choices with another story; both were chosen.")
        lines += [f"Why it was chosen: {one_line(r)}" for r in c.reasons]
        quote = f"What changed: {c.changed}\n\nWhy it matters to the teller: {c.why}"
        items.append(Item(one_line(c.title), tuple(lines), quote=quote))
    return Section(
        "changes", "Stories of significant change", WHY["changes"], tuple(items),
        (STORIES_IN_FULL,),
    )  # fmt: skip


def made(digest: Digest) -> Section:
    """The impact log: each product made, moved on or used in the period. Sources arrive
    worded for outside readers (a story kept in the group is only "a story shared within
    the group"); uses never name who recorded them."""
    items = []
    for p in digest.products or ():
        what = f"a new {p.kind}" if p.created else f"a {p.kind}"
        lines = [cap(f"{what}, {STATUS_WORDS.get(p.status, p.status)}.")]
        if p.statuses:
            lines.append(cap(f"{span(digest)} it was marked {', then '.join(p.statuses)}."))
        lines += [f"Used: {one_line(u)}." for u in p.uses]
        if p.sources:
            lines.append(f"It came from {join([source_words(s) for s in p.sources])}.")
        items.append(Item(one_line(p.title), tuple(lines)))
    if not items:
        items.append(Item(lines=(f"Nothing new was made, published or used {span(digest)}.",)))
    return Section("made", "What the group has made", WHY["made"], tuple(items))


STATUS_WORDS = {
    "idea": "still an idea",
    "drafting": "being drafted",
    "published": "now published",
    "adopted": "now adopted beyond the group",
    "retired": "now retired",
}
SOURCE_WORDS = {
    "story": "the story",
    "poll": "the poll",
    "meeting": "the meeting",
    "change_selection": "the story of change",
}


def source_words(source: ProductSource) -> str:
    """ "the poll “Which day suits?”", or a story described ("a story shared within the
    group") when its teller kept it in the group."""
    if not source.titled:
        return one_line(source.text)
    if source.kind == "statement_round":
        return f"members' statements ({one_line(source.text)})"
    return f"{SOURCE_WORDS.get(source.kind, 'the record')} {quoted(source.text)}"


def meetings(digest: Digest) -> Section:
    g, tz = digest.guild_id, digest.timezone
    items = [upcoming_item(u, tz, g) for u in digest.upcoming_meetings or ()]
    items += [held_item(h, tz, g) for h in digest.held_meetings or ()]
    if not items:
        items.append(Item(lines=(f"No meeting was held {span(digest)}, and none is planned.",)))
    return Section("meetings", "Meetings", WHY["meetings"], tuple(items))


def thanks(digest: Digest) -> Section:
    ack = digest.acknowledgement
    lines: list[str] = []
    top = ack.top_contributors
    for i, c in enumerate(top):
        most = i == 0 and (len(top) == 1 or top[1].messages < c.messages)
        lines.append(
            f"{one_line(c.display_name)} wrote {plural(c.messages, 'message')}"
            + (", more than anyone else." if most else ".")
        )
    # Counts, not lists: the few who posted most late at night by name (the first with
    # why it matters), how many others did.
    night = ack.late_night
    for i, c in enumerate(night[:LATE_NAMED]):
        why = ", which may mean a heavy load" if i == 0 else ""
        lines.append(
            f"{one_line(c.display_name)} posted {times(c.late_night_messages)} late at night{why}."
        )
    if len(night) > LATE_NAMED:
        more = len(night) - LATE_NAMED
        lines.append(f"{plural(more, 'other member')} also posted late at night.")
    notes: tuple[str, ...] = (PRIVATE,)
    if not lines:
        lines.append(f"No one posted {span(digest)}, so there is no one to single out.")
        notes = ()
    return Section("thanks", "People to thank", WHY["thanks"], (Item(lines=tuple(lines)),), notes)


def check_ins(digest: Digest) -> Section:
    lines = [
        f"{one_line(q.display_name)} has not posted for {plural(q.weeks_quiet, 'week')}."
        for q in digest.acknowledgement.check_ins
    ]
    notes = (PRIVATE,) if lines else ()
    if not lines:
        lines.append("No one who used to post has gone quiet.")
    return Section(
        "check", "People to check in with", WHY["check"], (Item(lines=tuple(lines)),), notes
    )
