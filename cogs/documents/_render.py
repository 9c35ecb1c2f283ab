"""How documents read on Discord: the thread's first message, proposals, DMs."""

from __future__ import annotations

import discord

from bot.domain.communities import Community
from bot.domain.documents import (
    Document,
    Proposal,
    ProposalStatus,
    Quote,
    Section,
    ShownDocument,
    render_markdown,
    tally_words,
)
from bot.services.document_types import ConsentEffect
from bot.text import escape_block, escape_inline, truncate

MESSAGE_LIMIT = 2000
COLOUR = discord.Colour.from_rgb(122, 75, 42)


def head_text(doc: ShownDocument) -> str:
    """The whole current version as a Discord message (may be longer than Discord allows)."""
    lines = [
        f"# {escape_inline(doc.title)}",
        f"-# Version {doc.version} · {doc.date_text} · {escape_inline(doc.summary)}",
    ]
    for s in doc.sections:
        lines.append(f"## {s.position}. {escape_inline(s.heading)}")
        if s.body:
            lines.append(escape_block(s.body))
        for q in s.quotes:
            lines.append(f"> “{escape_inline(q.text)}”\n> — {escape_inline(q.credit)}")
        if not s.body and not s.quotes:
            lines.append("-# No text yet.")
    return "\n".join(lines)


def head_summary(doc: ShownDocument) -> str:
    """Too long for one message: the outline, and the full text attached."""
    lines = [
        f"# {escape_inline(doc.title)}",
        f"-# Version {doc.version} · {doc.date_text} · {escape_inline(doc.summary)}",
        "The full text is longer than one Discord message allows, so it is attached as a "
        "Markdown file; the sections are:",
    ]
    for s in doc.sections:
        n = len(s.quotes)
        extra = f" · {n} quote{'s' if n != 1 else ''}" if n else ""
        lines.append(f"{s.position}. {escape_inline(s.heading)}{extra}")
    return truncate("\n".join(lines), MESSAGE_LIMIT)


def head_message(doc: ShownDocument) -> tuple[str, discord.File | None]:
    full = head_text(doc)
    if len(full) <= MESSAGE_LIMIT:
        return full, None
    name = f"document-v{doc.version}.md"
    import io

    data = io.BytesIO(render_markdown(doc).encode("utf-8"))
    return head_summary(doc), discord.File(data, filename=name)


def how_to_take_part(document: Document) -> str:
    return (
        f"Members: propose text for a section with `/document propose` (document "
        f"#{document.id}), or a quote from a consented story with `/document quote`. "
        "Support, oppose or pass on each proposal with its buttons; nobody, facilitators "
        "included, can see who chose what."
    )


def proposal_text(proposal: Proposal, section: Section, responses: int = 0) -> str:
    head = (
        f"**Proposal #{proposal.id} for section {section.position}. "
        f"{escape_inline(section.heading)}**"
    )
    if proposal.status is ProposalStatus.OPEN:
        status = (
            f"-# {responses} member{'s' if responses != 1 else ''} responded so far · counts "
            "are shown when a facilitator decides, so nobody can work out a colleague's choice"
        )
    else:
        word = "Accepted" if proposal.status is ProposalStatus.ACCEPTED else "Declined"
        status = f"**{word}** ({tally_words(proposal.tally)})."
    body = truncate(escape_block(proposal.text or ""), MESSAGE_LIMIT - 400)
    quoted = "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
    return f"{head}\n{quoted}\n{status}"


def quote_request(quote: Quote, document: Document, section: Section, community: Community) -> str:
    credit = (
        f"with your name, **{escape_inline(quote.teller_name)}**"
        if quote.teller_name
        else "anonymously (no name), as you chose for this story"
    )
    return truncate(
        f"A member of **{escape_inline(community.name)}** would like to quote your story "
        f"#{quote.story_id} in the group's document **{escape_inline(document.title)}**, "
        f"section {section.position}. “{escape_inline(section.heading)}”:\n"
        f"> “{escape_inline(quote.text or '')}”\n"
        f"It would be credited {credit}. The document may be shared beyond the group "
        "(exported as a file). Nothing is included unless you press **Agree**; you can take it "
        "out later by changing the story's consent with `/story consent`.",
        MESSAGE_LIMIT,
    )


def consent_notice(community: Community, effect: ConsentEffect) -> str:
    versions = ", ".join(str(v) for v in effect.versions_with_quote) or "none"
    what = (
        "removed a quote (its teller withdrew or narrowed consent)"
        if effect.removed
        else "made a quote anonymous (its teller asked not to be named)"
    )
    return truncate(
        f"In **{escape_inline(community.name)}**, the document "
        f"**{escape_inline(effect.document.title)}** has a new version "
        f"{effect.version}: Hearth {what}. Published versions that contained the quote: "
        f"{versions}. Copies of those versions already shared outside the group (exports, "
        "print-outs) still carry it: please replace them with version "
        f"{effect.version} (`/document export`).",
        MESSAGE_LIMIT,
    )
