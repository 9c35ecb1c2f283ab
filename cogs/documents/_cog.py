"""/document commands: collective documents built from consented quotes and proposals.

Thin on purpose: this class declares the slash commands, resolves who and what, and hands
the rest to :class:`bot.services.documents.DocumentService` (rules and storage),
``_views.py`` (forms and buttons), ``_publisher.py`` (the thread and DMs) and ``_render.py``
(wording). Other capabilities may add their own commands to this group (e.g.
`/document comment`) with a small edit here; keep their substance in their own modules too.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.documents import Template
from bot.domain.glossary import Glossary
from bot.interactions import (
    NO_MENTIONS,
    actor_of,
    community_autocomplete,
    facilitated_community,
    member_community,
)
from bot.services.documents import DocumentService
from bot.services.products import ProductService
from bot.text import escape_inline, plain
from cogs.documents import _render, _views
from cogs.documents._papers import setup_papers
from cogs.documents._publisher import DiscordDocumentPublisher

if TYPE_CHECKING:
    from bot.app import HearthBot

TEMPLATES = [
    app_commands.Choice(name="Journey: one section per story stage", value=Template.JOURNEY.value),
    app_commands.Choice(name="Blank: one section, Introduction", value=Template.BLANK.value),
]
FORMATS = [
    app_commands.Choice(name="Markdown (.md)", value="markdown"),
    app_commands.Choice(name="HTML, print-ready (.html)", value="html"),
    app_commands.Choice(name="PDF (.pdf)", value="pdf"),
]


async def document_autocomplete(
    interaction: discord.Interaction[HearthBot], current: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    service = interaction.client.services.get(DocumentService)
    found = await service.autocomplete(interaction.guild_id, current)
    return [
        app_commands.Choice(name=plain(name, 100, empty="document"), value=str(i))
        for name, i in found[:25]
    ]


class DocumentsCog(commands.GroupCog, group_name="document"):
    """Collective documents: create, quote, propose, export."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.service = DocumentService(
            bot.db,
            bot.communities,
            [s.label for s in bot.config.stories.stages],
            Glossary.from_mapping(bot.config.glossary),
            bot.clock,
            DiscordDocumentPublisher(bot),
            products=lambda: bot.services.implementing(ProductService),
        )
        self.papers = setup_papers(bot)  # /document comment: cogs/documents/_papers.py

    async def cog_load(self) -> None:
        self.bot.services.register(self.service)
        self.bot.add_dynamic_items(*_views.DYNAMIC_ITEMS)
        await self.papers.load()

    async def cog_unload(self) -> None:
        await self.papers.unload()
        self.bot.remove_dynamic_items(*_views.DYNAMIC_ITEMS)
        self.bot.services.unregister(self.service)

    @app_commands.command(name="create", description="Start a collective document (facilitators)")
    @app_commands.describe(
        community="The community",
        title="The document's title",
        template="journey (one section per story stage, the default) or blank",
        sections="Your own section headings, separated by ; (instead of the template's)",
    )
    @app_commands.choices(template=TEMPLATES)
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def create(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        title: str,
        template: str | None = None,
        sections: str | None = None,
    ) -> None:
        comm, actor = await facilitated_community(interaction, community)
        await interaction.response.defer(ephemeral=True, thinking=True)
        document = await self.service.create(comm, actor.user_id, title, template, sections)
        made = await self.service.sections(document)
        await interaction.followup.send(
            f"Started **{escape_inline(document.title)}** (document #{document.id}) with "
            f"{len(made)} section{'s' if len(made) != 1 else ''} in "
            f"<#{document.thread_id}>; its first message always shows the current version.\n"
            + _render.how_to_take_part(document),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="quote", description="Propose a quote from a consented story")
    @app_commands.describe(
        document="The document",
        story="The story's number (see /story list)",
        section="The section's number (the document's first message lists them)",
    )
    @app_commands.autocomplete(document=document_autocomplete)
    @app_commands.guild_only()
    async def quote(
        self,
        interaction: discord.Interaction[HearthBot],
        document: str,
        story: int,
        section: int,
    ) -> None:
        doc, comm = await self.service.resolve(interaction.guild_id or 0, document)
        await self.service.participant(actor_of(interaction), comm)
        _story, _section, source = await self.service.quotable(doc, comm, story, section)
        await interaction.response.send_modal(
            _views.QuoteModal(doc.id, story, section, source, comm.id)
        )

    @app_commands.command(name="propose", description="Propose text or an amendment for a section")
    @app_commands.describe(
        document="The document",
        section="The section's number (the document's first message lists them)",
    )
    @app_commands.autocomplete(document=document_autocomplete)
    @app_commands.guild_only()
    async def propose(
        self,
        interaction: discord.Interaction[HearthBot],
        document: str,
        section: int,
    ) -> None:
        doc, comm = await self.service.resolve(interaction.guild_id or 0, document)
        await self.service.participant(actor_of(interaction), comm)
        sect = await self.service.section(doc, section)
        draft = _views.ProposalDraft(
            doc.id, sect.position, sect.heading, interaction.user.id, sect.body
        )
        await interaction.response.send_modal(_views.ProposeModal(draft))

    @app_commands.command(name="export", description="The current version as a file")
    @app_commands.describe(document="The document", format="markdown, html (print-ready) or pdf")
    @app_commands.choices(format=FORMATS)
    @app_commands.autocomplete(document=document_autocomplete)
    @app_commands.guild_only()
    async def export(
        self, interaction: discord.Interaction[HearthBot], document: str, format: str
    ) -> None:
        doc, comm = await self.service.resolve(interaction.guild_id or 0, document)
        await member_community(interaction, str(comm.id))
        await interaction.response.defer(ephemeral=True, thinking=True)
        name, data, shown = await self.service.export(doc, comm, format)
        await interaction.followup.send(
            f"**{escape_inline(doc.title)}**, version {shown.version}, as {format}. Quotes "
            "appear only with their tellers' agreement, credited as each chose.",
            file=discord.File(io.BytesIO(data), filename=name),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="comment", description="Share a draft for the group's comment")
    @app_commands.describe(
        community="The community",
        title="The paper's title (up to 100 characters)",
        closes="When comments close, e.g. 'in 7 days' or '2027-03-10 18:00'",
        file="The draft (pdf, docx, doc, odt, rtf, txt or md, up to 10 MB); leave empty to type it",
    )
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def comment(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        title: str,
        closes: str,
        file: discord.Attachment | None = None,
    ) -> None:
        await self.papers.comment(interaction, community, title, closes, file)
