"""The Discord side of documents: the thread, its first message, DMs, proposal posts."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.communities import Community
from bot.domain.documents import Document, Proposal, ProposalStatus, Quote, Section, ShownDocument
from bot.errors import InvalidInput
from bot.interactions import NO_MENTIONS, is_http_status
from bot.services.document_types import ConsentEffect
from bot.text import plain
from cogs.documents import _render

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)


class DiscordDocumentPublisher:
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    async def _channel(self, channel_id: int) -> Any:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            channel = await self.bot.fetch_channel(channel_id)
        return channel

    async def display_name(self, guild_id: int, user_id: int) -> str | None:
        guild = self.bot.get_guild(guild_id)
        if guild is not None:
            member = guild.get_member(user_id)
            if member is not None:
                return member.display_name
            try:
                return (await guild.fetch_member(user_id)).display_name
            except discord.HTTPException:
                return None
        return None

    async def open_place(self, community: Community, doc: ShownDocument) -> tuple[int, int]:
        """A public thread of its own in the community's voice channel (else its lounge),
        whose first message is the current version."""
        where = community.voice_id or community.lounge_id
        if where is None:
            raise InvalidInput(
                f"**{plain(community.name, 80)}** has no voice or lounge channel to hold the "
                "document's thread."
            )
        channel = await self._channel(where)
        thread = await channel.create_thread(
            name=plain(f"📄 {doc.title}", 100),
            type=discord.ChannelType.public_thread,
            auto_archive_duration=10080,
        )
        content, file = _render.head_message(doc)
        try:
            message = await thread.send(
                content, **({"file": file} if file else {}), allowed_mentions=NO_MENTIONS
            )
        except BaseException:
            try:
                await thread.delete()
            except discord.HTTPException:
                log.warning("document thread %s could not be removed", thread.id)
            raise
        return thread.id, message.id

    async def update_head(self, document: Document, doc: ShownDocument) -> None:
        if document.thread_id is None or document.head_message_id is None:
            return
        thread = self.bot.get_partial_messageable(document.thread_id)
        content, file = _render.head_message(doc)
        await thread.get_partial_message(document.head_message_id).edit(
            content=content, attachments=[file] if file else [], allowed_mentions=NO_MENTIONS
        )

    async def announce(self, document: Document, text: str) -> None:
        if document.thread_id is None:
            return
        await self.bot.get_partial_messageable(document.thread_id).send(
            plain(text, 2000), allowed_mentions=NO_MENTIONS
        )

    async def ask_teller(
        self, quote: Quote, document: Document, section: Section, community: Community
    ) -> bool:
        from cogs.documents._views import quote_answer_view

        assert quote.teller_id is not None
        try:
            user = self.bot.get_user(quote.teller_id) or await self.bot.fetch_user(quote.teller_id)
            await user.send(
                _render.quote_request(quote, document, section, community),
                view=quote_answer_view(quote.id),
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            if is_http_status(exc, 50007) or isinstance(exc, discord.Forbidden):
                return False
            raise
        return True

    async def post_proposal(
        self, document: Document, proposal: Proposal, section: Section
    ) -> tuple[int, int]:
        from cogs.documents._views import proposal_view

        if document.thread_id is None:
            raise InvalidInput("This document has no thread to post the proposal in.")
        channel = self.bot.get_partial_messageable(document.thread_id)
        message = await channel.send(
            _render.proposal_text(proposal, section),
            view=proposal_view(proposal.id),
            allowed_mentions=NO_MENTIONS,
        )
        return document.thread_id, message.id

    async def refresh_proposal(self, proposal: Proposal, section: Section, responses: int) -> None:
        if proposal.channel_id is None or proposal.message_id is None:
            return
        await (
            self.bot.get_partial_messageable(proposal.channel_id)
            .get_partial_message(proposal.message_id)
            .edit(
                content=_render.proposal_text(proposal, section, responses),
                allowed_mentions=NO_MENTIONS,
            )
        )

    async def close_proposal(
        self, document: Document, proposal: Proposal, section: Section, version: int | None
    ) -> None:
        if proposal.channel_id is None or proposal.message_id is None:
            return
        text = _render.proposal_text(proposal, section)
        if proposal.status is ProposalStatus.ACCEPTED and version is not None:
            text += f" It is in version {version}."
        await (
            self.bot.get_partial_messageable(proposal.channel_id)
            .get_partial_message(proposal.message_id)
            .edit(content=text[:2000], view=None, allowed_mentions=NO_MENTIONS)
        )
        if proposal.proposed_by is not None:
            word = "accepted" if proposal.status is ProposalStatus.ACCEPTED else "declined"
            where = f" It is in version {version} of the document." if version else ""
            await self.tell(
                proposal.proposed_by,
                f"Your proposal #{proposal.id} for section {section.position} "
                f"“{plain(section.heading, 80)}” of **{plain(document.title, 100)}** was "
                f"{word}.{where}",
            )

    async def tell(self, user_id: int, text: str) -> bool:
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(text[:2000], allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            return False
        return True

    async def consent_notice(
        self, user_id: int, community: Community, effect: ConsentEffect
    ) -> bool:
        return await self.tell(user_id, _render.consent_notice(community, effect))
