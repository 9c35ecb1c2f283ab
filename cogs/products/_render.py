"""How a product is shown: one embed (timeline, sources, uses), the full record as a text
file when it does not fit. Inside the community who did what is shown; outside (the
sponsor) no one is named and sources are worded by ``outside_source`` upstream."""

from __future__ import annotations

import io
from collections import Counter

import discord
from discord import app_commands

from bot.domain.products import (
    Audience,
    ProductKind,
    ProductStatus,
    SourceChoice,
    TimelineEntry,
    UseSetting,
)
from bot.domain.stories.consent import Consent
from bot.domain.timeparse import discord_timestamp
from bot.interactions import mention
from bot.services.products import ProductView
from bot.text import escape_inline, plain

COLOUR = discord.Colour.from_rgb(150, 100, 40)
#: Discord's limits: description 4096, field value 1024, the whole embed 6000; kept lower so
#: the title, footer and field names always fit beside them.
DESCRIPTION_BUDGET = 3500
FIELD_BUDGET = 1000

KIND_CHOICES = [app_commands.Choice(name=k.label.capitalize(), value=k.value) for k in ProductKind]
STATUS_CHOICES = [
    app_commands.Choice(name=name, value=status.value)
    for status, name in (
        (ProductStatus.IDEA, "Idea"),
        (ProductStatus.DRAFTING, "Drafting"),
        (ProductStatus.PUBLISHED, "Published"),
        (ProductStatus.ADOPTED, "Adopted (taken up by others)"),
        (ProductStatus.RETIRED, "Retired"),
    )
]
SETTING_CHOICES = [
    app_commands.Choice(name=s.label.capitalize(), value=s.value) for s in UseSetting
]

ORIGINS = {
    "document": "Made as a collective document.",
    "paper": "A paper the group commented on.",
}
OUTSIDE_NOTE = (
    "As seen from outside the group: stories appear only as their tellers agreed, and no "
    "member is named."
)


def source_label(choice: SourceChoice, limit: int = 100) -> str:
    """An autocomplete entry: "Story: Going home after surgery"."""
    return plain(choice.label, limit, empty=choice.kind.label)


def _who(entry: TimelineEntry) -> str:
    return f" (<@{entry.actor_id}>)" if entry.actor_id is not None else ""


def timeline_line(entry: TimelineEntry, *, markdown: bool = True) -> str:
    """One line of the timeline; ``markdown=False`` for the attached text file."""
    when = discord_timestamp(entry.at, "D") if markdown else entry.at.strftime("%d %b %Y")
    esc = (lambda t: escape_inline(t, 300)) if markdown else (lambda t: plain(t, 300))
    note = f" — {esc(entry.note)}" if entry.note else ""
    who = _who(entry) if markdown else ""
    if entry.kind == "created":
        return f"{when} · added to the impact log{who}"
    if entry.kind == "status" and entry.status is not None:
        status = f"**{entry.status.value}**" if markdown else entry.status.value
        return f"{when} · {status}{note}{who}"
    setting = entry.setting.label if entry.setting else "used"
    return f"{when} · used: {setting}, {esc(entry.place or '')}{note}{who}"


def _fit(lines: list[str], budget: int) -> tuple[list[str], int]:
    """The last lines that fit in ``budget`` characters, and how many earlier ones did not."""
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        if size + len(line) + 1 > budget:
            break
        kept.append(line)
        size += len(line) + 1
    kept.reverse()
    return kept, len(lines) - len(kept)


def product_embed(view: ProductView) -> tuple[discord.Embed, discord.File | None]:
    """The product as an embed, and the whole record as a text file when the embed had to
    leave some of it out (Discord's embed limits)."""
    p = view.product
    header = [f"{p.kind.label.capitalize()} · now **{p.status.value}**"]
    if p.origin_kind in ORIGINS:
        header.append(ORIGINS[p.origin_kind])
    lines = [timeline_line(e) for e in view.timeline]
    budget = DESCRIPTION_BUDGET - sum(len(h) + 1 for h in header) - 80
    kept, dropped = _fit(lines, budget)
    description = "\n".join(header) + "\n\n**Timeline**\n"
    if dropped:
        description += f"… {dropped} earlier entries are in the attached file.\n"
    description += "\n".join(kept)
    embed = discord.Embed(
        title=plain(view.title, 256, empty="Product"), description=description, colour=COLOUR
    )
    sources = [f"{s.kind.label}: {escape_inline(s.text, 200)}" for s in view.sources]
    shown_sources, more_sources = _fit(sources, FIELD_BUDGET - 60)
    value = "\n".join(shown_sources) if sources else "No sources linked yet."
    if more_sources:
        value = f"… {more_sources} more in the attached file.\n" + value
    embed.add_field(name="Came from", value=value, inline=False)
    uses = [e for e in view.timeline if e.kind == "use"]
    if uses:
        counts = Counter(e.setting.label for e in uses if e.setting is not None)
        summary = ", ".join(f"{label} ×{n}" if n > 1 else label for label, n in counts.items())
        times = {1: "once", 2: "twice"}.get(len(uses), f"{len(uses)} times")
        embed.add_field(name="Used", value=plain(f"{times}: {summary}", 1000), inline=False)
    else:
        embed.add_field(name="Used", value="Not recorded yet.", inline=False)
    if view.audience is Audience.OUTSIDE:
        embed.set_footer(text=OUTSIDE_NOTE)
    else:
        embed.set_footer(text=f"product #{p.id}")
    file = None
    if dropped or more_sources:
        file = discord.File(_as_text(view), filename=f"product-{p.id}.txt")
    return embed, file


def _as_text(view: ProductView) -> io.BytesIO:
    out = [plain(view.title, 300), "", "Timeline:"]
    out += [timeline_line(e, markdown=False) for e in view.timeline]
    out += ["", "Came from:"]
    out += [f"{s.kind.label}: {plain(s.text, 300)}" for s in view.sources] or ["(none)"]
    return io.BytesIO("\n".join(out).encode())


#: How a linked story appears outside the group, by its teller's consent (told to the teller).
OUTSIDE_BY_CONSENT = {
    Consent.GROUP: "only as “a story shared within the group”, with no title and no words",
    Consent.ANONYMOUS: "by its title, without your name",
    Consent.NAMED: "by its title, with your name",
}


def linked_notice(
    story_title: str, product_title: str, community_name: str, consent: Consent
) -> str:
    """The DM a teller gets when their story becomes a source of a product."""
    outside = OUTSIDE_BY_CONSENT.get(consent, OUTSIDE_BY_CONSENT[Consent.GROUP])
    return (
        f"Your story “{escape_inline(story_title, 200)}” is now one of the sources of "
        f"**{escape_inline(product_title, 200)}**, something **{escape_inline(community_name)}** "
        f"has made. Inside the group it is shown by its title. To anyone outside (the "
        f"sponsor, the digest) it appears {outside}. {mention('story consent')} changes that "
        "at any time, and withdrawing your story removes it everywhere."
    )
