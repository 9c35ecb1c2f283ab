"""Every sentence and embed of significant-change rounds (the cog's one wording source).

Discord limits kept here: a message has at most 10 embeds and 6,000 characters of embeds in
all; a description 4,096; a field value 1,024; a select 25 options with labels of 100.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.domain.change import ChangeRound, ChangeStory, DomainResult, RoundState, StoryView
from bot.domain.change.results import RoundStatus
from bot.domain.communities import Community
from bot.domain.stories.consent import CONSENT_DESCRIPTIONS, Consent
from bot.domain.timeparse import discord_timestamp
from bot.interactions import mention
from bot.services.change_rounds import Candidate, FeedbackDomain, TellerNews
from bot.text import escape_block, escape_inline, plain, truncate

COLOUR = discord.Colour.dark_green()
DRAFT_COLOUR = discord.Colour.light_grey()
EMBED_BUDGET = 5800
"""Characters of embeds per message we allow ourselves (Discord's limit is 6,000)."""
WITHDRAWN = "A story its teller withdrew. Its words are no longer kept anywhere."

#: Who may read a story of change, in the words a teller sees.
CONSENT_CHOICES: list[tuple[Consent, str, str]] = [
    (Consent.GROUP, "Keep it in the group", "Only this community's members read it."),
    (Consent.ANONYMOUS, "Share beyond the group without my name",
     "The charity and a distilling group may read it, with no name on it."),
    (Consent.NAMED, "Share with my name",
     "The charity and a distilling group may read it, with your display name."),
]  # fmt: skip
CONSENT_WORDS = {c: label for c, label, _ in CONSENT_CHOICES}
CONSENT_WORDS[Consent.WITHDRAWN] = "Withdrawn"


def _period(rnd: ChangeRound) -> str:
    return f"{discord_timestamp(rnd.period_start, 'D')} to {discord_timestamp(rnd.period_end, 'D')}"


def announcement(rnd: ChangeRound, community: Community, selectors: Community) -> discord.Embed:
    domains = "\n".join(f"{i + 1}. {escape_inline(d)}" for i, d in enumerate(rnd.domains))
    who = (
        "the members of this community"
        if selectors.id == community.id
        else f"the distilling group **{escape_inline(selectors.name)}**, which serves this "
        "community (they read only stories you agree may leave the group, never with your "
        "name unless you say so)"
    )
    embed = discord.Embed(
        title="What has changed? Tell a story of significant change",
        description=(
            "Looking back over the reporting period, what do you think was the most "
            "significant change, for you or for the people you care for? Press the button, "
            "choose a domain, and tell what changed and why it matters to you.\n\n"
            f"**Domains of change**\n{domains}\n\n"
            f"**Reporting period:** {_period(rnd)}\n"
            f"**Stories until:** {discord_timestamp(rnd.collect_until, 'F')} "
            f"({discord_timestamp(rnd.collect_until, 'R')})\n"
            f"**Then** {who} choose the most significant story in each domain, with their "
            f"reasons, until {discord_timestamp(rnd.select_until, 'F')}. The choices and "
            "reasons are posted back here, and each teller hears what became of their story."
        )[:4096],
        colour=COLOUR,
    )
    embed.set_footer(text=f"Significant-change round #{rnd.id}")
    return embed


def collection_closed(rnd: ChangeRound) -> discord.Embed:
    embed = discord.Embed(
        title="Collection has closed",
        description=(
            f"Stories for significant-change round #{rnd.id} were collected until "
            f"{discord_timestamp(rnd.collect_until, 'F')}. Selection runs until "
            f"{discord_timestamp(rnd.select_until, 'F')}; the outcome will be posted here."
        ),
        colour=COLOUR,
    )
    return embed


def selection_invitation(
    rnd: ChangeRound, community: Community, counts: Sequence[int]
) -> discord.Embed:
    lines = [
        f"{i + 1}. {escape_inline(d)}: {n} stor{'y' if n == 1 else 'ies'}"
        for i, (d, n) in enumerate(zip(rnd.domains, counts, strict=False))
    ]
    whose = (
        "this community's members"
        if not rnd.distilled
        else f"the members of **{escape_inline(community.name)}**, whom this group serves"
    )
    return discord.Embed(
        title="Which change matters most? Choose the most significant stories",
        description=(
            f"Stories of change told by {whose} are ready. For each domain, read the stories "
            "and choose the one you find most significant, and **write why**: your reasons "
            "are what the community and the charity learn most from. You may change your "
            f"choice until {discord_timestamp(rnd.select_until, 'F')} "
            f"({discord_timestamp(rnd.select_until, 'R')}). Nobody sees who chose what; the "
            "reasons are posted without names.\n\n" + "\n".join(lines)
        )[:4096],
        colour=COLOUR,
    ).set_footer(text=f"Significant-change round #{rnd.id}")


def selection_closed(rnd: ChangeRound) -> discord.Embed:
    return discord.Embed(
        title="Selection has closed",
        description=(
            f"Selection for significant-change round #{rnd.id} closed "
            f"{discord_timestamp(rnd.select_until, 'F')}. The outcome is posted below."
        ),
        colour=COLOUR,
    )


def with_distillers(rnd: ChangeRound, selectors: Community) -> str:
    return (
        f"Collection for significant-change round #{rnd.id} has closed. The distilling group "
        f"**{escape_inline(selectors.name)}** is now choosing the most significant stories "
        f"(only those you agreed may leave the group), until "
        f"{discord_timestamp(rnd.select_until, 'F')}. Their choices and reasons will be "
        "posted here."
    )


def status_text(st: RoundStatus) -> str:
    """Where a round stands, in counts only: nothing shows how a story is faring."""
    rnd = st.round
    lines = [f"**Significant-change round #{rnd.id}** (reporting period {_period(rnd)})"]
    for i, (d, n) in enumerate(zip(rnd.domains, st.stories, strict=False)):
        lines.append(f"{i + 1}. {escape_inline(d)}: {n} stor{'y' if n == 1 else 'ies'}")
    who = escape_inline(st.selectors_name)
    if rnd.state is RoundState.COLLECTING:
        lines.append(
            f"Stories are collected until {discord_timestamp(rnd.collect_until, 'F')}; then "
            f"the members of **{who}** select until {discord_timestamp(rnd.select_until, 'F')}."
        )
    elif rnd.state is RoundState.SELECTING:
        lines.append(
            f"Selection runs until {discord_timestamp(rnd.select_until, 'F')}: {st.chosen} of "
            f"{st.selectors} members of **{who}** have chosen so far. Which stories they "
            "chose stays hidden until it closes."
        )
    else:
        when = discord_timestamp(rnd.closed_at or rnd.select_until, "F")
        lines.append(f"Closed {when}; the selection and its reasons are posted in the lounge.")
    return "\n".join(lines)[:2000]


# --------------------------------------------------------------------------- stories


def _credit(view: StoryView) -> str:
    if view.consent is Consent.NAMED and view.teller_name:
        return f"Told by {view.teller_name}"
    if view.consent is Consent.ANONYMOUS:
        return "Told anonymously"
    return "Told by a member"


def story_embed(view: StoryView, heading: str, *, limit: int = 4096) -> discord.Embed:
    body = (
        f"**What changed**\n{escape_block(view.changed)}\n\n"
        f"**Why it is significant to the teller**\n{escape_block(view.why)}"
    )
    embed = discord.Embed(
        title=plain(f"{heading}{view.title}", 256, empty="A story of change"),
        description=truncate(body, max(100, min(4096, limit))),
        colour=COLOUR,
    )
    embed.set_footer(text=plain(_credit(view), 200))
    return embed


def candidate_pages(candidates: Sequence[Candidate]) -> list[list[int]]:
    """Candidate indexes grouped into pages that fit one message (10 embeds, 5,800 chars)."""
    pages: list[list[int]] = []
    page: list[int] = []
    used = 0
    for i, c in enumerate(candidates):
        body = len(escape_block(c.view.changed)) + len(escape_block(c.view.why)) + 60
        size = min(body, 4096) + len(c.view.title) + 250  # title, footer, headings
        if page and (used + size > EMBED_BUDGET or len(page) >= 10):
            pages.append(page)
            page, used = [], 0
        page.append(i)
        used += size
    if page:
        pages.append(page)
    return pages


def candidate_embeds(candidates: Sequence[Candidate], page: Sequence[int]) -> list[discord.Embed]:
    """A page of :func:`candidate_pages` fits whole: each story is shown in full (an embed
    description holds 4,096 characters, more than a story may have before escaping)."""
    return [story_embed(candidates[i].view, f"{i + 1}. ") for i in page]


def candidates_text(
    rnd: ChangeRound, domain: int, n: int, page: int, pages: int, mine: int | None
) -> str:
    if n == 0:
        return (
            f"**{escape_inline(rnd.domains[domain])}** has no stories the selectors may read, "
            "so there is nothing to choose here. Pick another domain."
        )
    chosen = (
        f" Your choice so far: story {mine + 1}; choosing again replaces it."
        if mine is not None
        else ""
    )
    where = f" (page {page + 1} of {pages}; use the buttons for the others)" if pages > 1 else ""
    return (
        f"**{escape_inline(rnd.domains[domain])}**: {n} stor{'y' if n == 1 else 'ies'}{where}. "
        "Read them, then pick the most significant in the menu and write why." + chosen
    )[:2000]


def domains_text(rnd: ChangeRound, counts: Sequence[int], chosen: Sequence[int]) -> str:
    lines = []
    for i, d in enumerate(rnd.domains):
        mark = " (you have chosen)" if i in chosen else ""
        lines.append(f"{i + 1}. {escape_inline(d)}: {counts[i]} stories{mark}")
    return (
        "Choose a domain to read its stories. You can choose one story per domain, and "
        "change your choice until selection closes.\n" + "\n".join(lines)
    )[:2000]


def chosen_text(domain: str, number: int, changed: bool) -> str:
    verb = "Changed your choice" if changed else "Saved your choice"
    return (
        f"{verb} for **{escape_inline(domain)}**: story {number}, with your reason. Nobody "
        "sees who chose what; your reason is posted without your name when selection closes. "
        "Press **Choose stories** again to choose in another domain or change this one."
    )


# --------------------------------------------------------------------------- telling


def draft_message(
    domain: str, title: str, changed: str, why: str, consent: Consent, note: str, cname: str
) -> tuple[str, discord.Embed]:
    lines = [
        "**Your story is not kept yet.** Check how it reads and who may read it, then press "
        "**Tell it**."
    ]
    if note:
        lines += ["", note]
    view = StoryView(title, changed, why, None, consent, discord.utils.utcnow())
    embed = story_embed(view, "", limit=3800)
    embed.colour = DRAFT_COLOUR
    embed.add_field(name="Domain", value=escape_inline(domain)[:1024], inline=False)
    embed.add_field(
        name="Who may read it",
        value=f"{CONSENT_WORDS[consent]}: it {CONSENT_DESCRIPTIONS[consent]}.",
        inline=False,
    )
    embed.set_footer(text=plain(f"Draft for {cname} · not kept", 2048))
    return "\n".join(lines)[:2000], embed


def told_text(story: ChangeStory, domain: str) -> str:
    return (
        f"Thank you. Your story of change “{escape_inline(story.title or '')}” is kept as "
        f"#{story.id} in **{escape_inline(domain)}**.\nWho may read it: "
        f"**{CONSENT_WORDS[story.consent]}** (it {CONSENT_DESCRIPTIONS[story.consent]}). "
        f"Change that or withdraw the story any time with {mention('change consent')} "
        f"(story {story.id}). When selection closes you will hear what became of it."
    )[:2000]


def consent_text(story: ChangeStory, *, edited_feedback: bool) -> str:
    if story.is_tombstone:
        extra = " Its words are gone from the round's feedback too." if edited_feedback else ""
        return (
            f"Withdrawn: story of change #{story.id} is deleted; only a note that a story "
            f"existed remains.{extra}"
        )
    return (
        f"Story of change #{story.id}: who may read it is now "
        f"**{CONSENT_WORDS[story.consent]}** (it {CONSENT_DESCRIPTIONS[story.consent]})."
    )


# --------------------------------------------------------------------------- feedback


def _reasons(reasons: Sequence[str], limit: int) -> str:
    if not reasons:
        return "No reason was written."
    text = "\n".join(f"• {escape_block(r)}" for r in reasons)
    return truncate(text, limit)


def feedback_message(rnd: ChangeRound, fb: FeedbackDomain) -> tuple[str, list[discord.Embed]]:
    """One domain's outcome: a line of text and one embed per selected story."""
    dom = fb.outcome
    name = escape_inline(dom.name)
    head = f"**Significant-change round #{rnd.id} · {name}**\n"
    if dom.result is DomainResult.NO_STORIES:
        return head + "No story was told in this domain, so nothing was selected.", []
    if dom.result is DomainResult.TOO_FEW:
        return head + (
            f"No selection: {dom.choices} choice{'s' if dom.choices != 1 else ''} "
            f"among {dom.candidates} stor{'y' if dom.candidates == 1 else 'ies'}, fewer than "
            f"the {rnd.min_choices} a selection needs. One person's choice is not the group's."
        ), []
    if dom.result is DomainResult.TIED:
        text = head + (
            f"{len(dom.selected)} stories tied with {max(dom.votes.values(), default=0)} "
            f"choices each (of {dom.choices}), so all of them are selected together. Why the "
            "selectors chose them:"
        )
    else:
        sid = dom.selected[0]
        text = head + (
            f"Selected with {dom.votes.get(sid, 0)} of {dom.choices} choices. Why the "
            "selectors chose it:"
        )
    embeds: list[discord.Embed] = []
    # Ten tied stories with long reasons must still fit one message (6,000 characters of
    # embeds): each story's share pays for its title and footer (~400), reasons, then text.
    per = EMBED_BUDGET // max(1, len(fb.stories))
    for sid, view in fb.stories:
        reasons = _reasons(dom.reasons.get(sid, ()), min(1024, max(100, per // 3)))
        if view is None:
            embed = discord.Embed(title="A story its teller withdrew", description=WITHDRAWN,
                                  colour=discord.Colour.light_grey())  # fmt: skip
        else:
            embed = story_embed(view, "", limit=max(100, per - len(reasons) - 400))
        embed.add_field(name="Why the selectors chose it", value=reasons, inline=False)
        embeds.append(embed)
    return text[:2000], embeds[:10]


def teller_dm(rnd: ChangeRound, community: Community, news: TellerNews) -> str:
    dom = news.domain.outcome
    title = escape_inline(news.story.title or "", 80)
    lead = (
        f"Significant-change round #{rnd.id} in **{escape_inline(community.name)}** has closed. "
        f"Your story “{title}” ({escape_inline(dom.name)}): "
    )
    if news.selected:
        reasons = _reasons(dom.reasons.get(news.story.id, ()), 1200)
        tied = " (it tied with another story; both are selected)" if len(dom.selected) > 1 else ""
        return (lead + f"**it was selected as the most significant**{tied}. Why the selectors "
                f"chose it:\n{reasons}\nThank you for telling it.")[:2000]  # fmt: skip
    if rnd.distilled and not news.story.consent.may_leave_community:
        return (lead + "it stayed inside the group, as you chose, so the distilling group "
                "that selected did not read it. Thank you for telling it.")[:2000]  # fmt: skip
    if dom.result is not DomainResult.SELECTED and dom.result is not DomainResult.TIED:
        return (lead + "no story was selected in this domain: too few selectors chose. Your "
                "story stays with the community. Thank you for telling it.")[:2000]  # fmt: skip
    parts = []
    for sid, view in news.domain.stories:
        what = (
            f"“{escape_inline(view.title, 80)}”"
            if view is not None
            else "a story its teller withdrew"
        )
        parts.append(f"{what}, because:\n{_reasons(dom.reasons.get(sid, ()), 600)}")
    return (
        lead
        + "it was not selected this time. The selectors chose "
        + "\n".join(parts)
        + "\nEvery story is read and counts: thank you for telling yours."
    )[:2000]
