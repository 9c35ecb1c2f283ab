"""The digest as Discord embeds, laid out from the one :class:`~bot.domain.digest_words.DigestView`.

The first embed is the summary (with the chart); each section follows in reading order.
Long sections are split across embeds and messages instead of dropping content; only a
single item too large for any embed is cut, and then it says so and points at the attached
file, which always carries the full digest. Every sentence is escaped as a whole
(:func:`md_line`): members' words inside it can neither format nor mention anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from bot.domain.digest import Digest
from bot.domain.digest_view import view
from bot.domain.digest_words import DigestView, Item, Section
from bot.text import escape_block, escape_inline, plain

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
TRUNCATION_NOTE = "… (see the attached file)"
COLOR = 0xD9822B
LATE_COLOR = 0xB03A2E


def md_line(text: str) -> str:
    """A sentence or title for Markdown: escaped, on one line, mentions neutralised."""
    return escape_inline(text)


def md_quote(text: str) -> str:
    """Escaped multi-line text as a Markdown block quote."""
    lines = escape_block(text).splitlines() or [""]
    return "\n".join("> " + line if line else ">" for line in lines)


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
    """A titled run of Markdown items that may span several embeds."""

    title: str
    items: list[str] = field(default_factory=list)


def item_markdown(item: Item) -> str:
    parts = [f"**{md_line(item.title)}**"] if item.title else []
    parts += [md_line(line) for line in item.lines]
    if item.quote:
        parts.append(md_quote(item.quote))
    if item.link:
        parts.append(f"[{md_line(item.link.label)}]({item.link.url})")
    return "\n".join(parts)


def section_embed(section: Section) -> EmbedSection:
    out = EmbedSection(section.heading, [f"_{md_line(section.why)}_"])
    out.items += [item_markdown(i) for i in section.items]
    out.items += [f"_{md_line(n)}_" for n in section.notes]
    return out


def summary_embed(v: DigestView) -> EmbedSection:
    out = EmbedSection(v.title, [md_line(v.dates)])
    if v.late_note:
        out.items.append(f"⚠️ {md_line(v.late_note)}")
    bullets = "\n".join(f"• {md_line(s)}" for s in v.summary)
    out.items.append(f"**{md_line(v.summary_heading)}**\n{bullets}")
    return out


def embed_sections(digest: Digest) -> list[EmbedSection]:
    """The digest as embed sections, in reading order (before splitting into embeds)."""
    v = view(digest)
    return [summary_embed(v), *(section_embed(s) for s in v.sections)]


def _footer_text(digest: Digest) -> str:
    # footers and titles show text literally: plain(), not Markdown escaping
    return plain(f"Hearth · {digest.community_name} · {FOOTER_NOTE}", FOOTER_CAP)


#: Where the rest is: the text file attached to the first message.
FOOTER_NOTE = "the full digest is in the attached file"


def _section_embeds(section: EmbedSection, color: int, budget: int) -> list[dict[str, Any]]:
    """Split one section into embeds, each within every per-embed limit and ``budget``."""
    embeds: list[dict[str, Any]] = []
    title = plain(section.title, TITLE_LIMIT)
    more = plain(f"{section.title} (continued)", TITLE_LIMIT)

    def fresh() -> dict[str, Any]:
        return {"title": more if embeds else title, "color": color}

    current = fresh()
    for raw in section.items:
        item = fit_item(raw)
        desc = current.get("description", "")
        joined = f"{desc}\n\n{item}" if desc else item
        if desc and (
            len(joined) > DESCRIPTION_LIMIT
            or embed_size(current) - len(desc) + len(joined) > budget
        ):
            embeds.append(current)
            current = fresh()
            joined = item
        current["description"] = joined
    if current.get("description") or not embeds:
        embeds.append(current)
    return embeds


def render_embeds(digest: Digest) -> list[list[dict[str, Any]]]:
    """The digest as Discord embed dicts, grouped into messages Discord will accept.

    Each message has at most 10 embeds and 6000 counted characters; every embed respects
    the title/description/footer limits. The last embed of each message carries the
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
