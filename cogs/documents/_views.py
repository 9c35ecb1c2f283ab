"""Persistent document components (state in ``custom_id``: ``doc:p:<proposal>:...``,
``doc:q:<quote>:...``) and the two forms: a quote's excerpt and a proposal's text.

A proposal is written in a form, then shown as a draft with the glossary's plain-language
suggestions and **Submit** / **Edit** / **Cancel** (as a story is, ``cogs/stories/_draft.py``);
the draft lives only in memory, so unsent words are kept nowhere.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import discord

from bot.components import HearthItem, services_of
from bot.domain.documents import QUOTE_LIMIT, SECTION_TEXT_LIMIT, Choice
from bot.errors import NotAllowed
from bot.errors_handler import HearthModal, guarded, handle_interaction_error
from bot.interactions import NO_MENTIONS, actor_of
from bot.services.documents import DocumentService
from bot.text import escape_inline, plain
from cogs.documents import _render

_CHOICES = {"s": Choice.SUPPORT, "o": Choice.OPPOSE, "p": Choice.PASS}
_CHOICE_WORDS = {Choice.SUPPORT: "support", Choice.OPPOSE: "oppose", Choice.PASS: "pass"}
MODAL_LIMIT = 4000
DRAFT_TIMEOUT = 14 * 60


def proposal_view(proposal_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for code, label, style in (
        ("s", "Support", discord.ButtonStyle.success),
        ("o", "Oppose", discord.ButtonStyle.danger),
        ("p", "Pass", discord.ButtonStyle.secondary),
    ):
        view.add_item(ProposalChoice(proposal_id, code, label, style))
    view.add_item(ProposalDecision(proposal_id, "accept"))
    view.add_item(ProposalDecision(proposal_id, "decline"))
    return view


def quote_answer_view(quote_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(QuoteAnswer(quote_id, "yes"))
    view.add_item(QuoteAnswer(quote_id, "no"))
    return view


class ProposalChoice(
    HearthItem[DocumentService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"doc:p:(?P<proposal_id>[0-9]+):(?P<code>[sop])",
):
    service_type = DocumentService

    def __init__(
        self,
        proposal_id: int,
        code: str,
        label: str = "Support",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=f"doc:p:{proposal_id}:{code}", row=0
            )
        )
        self.proposal_id, self.code = proposal_id, code

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        choice = _CHOICES[self.code]
        responses = await self.service.choose(self.proposal_id, actor_of(interaction), choice)
        await interaction.response.send_message(
            f"Noted: you **{_CHOICE_WORDS[choice]}** proposal #{self.proposal_id}. Your choice "
            "is sealed: nobody, facilitators included, can see it; only the counts are shown "
            f"when a facilitator decides. Press another button to change it. ({responses} "
            f"member{'s' if responses != 1 else ''} responded so far.)",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class ProposalDecision(
    HearthItem[DocumentService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"doc:p:(?P<proposal_id>[0-9]+):(?P<decision>accept|decline)",
):
    service_type = DocumentService

    def __init__(self, proposal_id: int, decision: str) -> None:
        accept = decision == "accept"
        super().__init__(
            discord.ui.Button(
                label="Accept (facilitator)" if accept else "Decline (facilitator)",
                style=discord.ButtonStyle.primary if accept else discord.ButtonStyle.secondary,
                custom_id=f"doc:p:{proposal_id}:{decision}",
                row=1,
            )
        )
        self.proposal_id, self.decision = proposal_id, decision

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        await self.service.may_decide(self.proposal_id, actor_of(interaction))
        await interaction.response.defer(ephemeral=True, thinking=True)
        decided = await self.service.decide(
            self.proposal_id, actor_of(interaction), self.decision == "accept"
        )
        p = decided.proposal
        what = (
            f"Accepted proposal #{p.id}: version {decided.version} is in the thread's first "
            "message."
            if decided.version
            else f"Declined proposal #{p.id}."
        )
        await interaction.followup.send(
            f"{what} ({_render.tally_words(p.tally)})",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class QuoteAnswer(
    HearthItem[DocumentService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"doc:q:(?P<quote_id>[0-9]+):(?P<answer>yes|no)",
):
    service_type = DocumentService

    def __init__(self, quote_id: int, answer: str) -> None:
        yes = answer == "yes"
        super().__init__(
            discord.ui.Button(
                label="Agree" if yes else "Decline",
                style=discord.ButtonStyle.success if yes else discord.ButtonStyle.secondary,
                custom_id=f"doc:q:{quote_id}:{answer}",
            )
        )
        self.quote_id, self.answer = quote_id, answer

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        await self.service.may_answer(self.quote_id, interaction.user.id)
        await interaction.response.defer()
        quote, document, version = await self.service.answer_quote(
            self.quote_id, interaction.user.id, self.answer == "yes"
        )
        if version is not None:
            credit = (
                f"as {escape_inline(quote.teller_name)}" if quote.teller_name else "anonymously"
            )
            text = (
                f"Thank you. Your quote is in **{escape_inline(document.title)}**, version "
                f"{version}, credited {credit}. "
                "Change the story's consent with `/story consent` to take it out again."
            )
        else:
            text = (
                f"Declined: the quote is not used in **{escape_inline(document.title)}**, "
                "and its words are not kept."
            )
        await interaction.edit_original_response(
            content=text[:2000], view=None, allowed_mentions=NO_MENTIONS
        )


# ---------------------------------------------------------------------------- forms


class QuoteModal(HearthModal):
    """The story's shareable text, filled in: the proposer trims it to the quote."""

    def __init__(
        self, document_id: int, story_id: int, position: int, source: str, community_id: int
    ) -> None:
        super().__init__(title=plain(f"Quote story #{story_id}", 45), timeout=1800)
        self.document_id, self.story_id, self.position = document_id, story_id, position
        self.excerpt: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=f"Keep only the words to quote (≤{QUOTE_LIMIT})",
            custom_id="quote",
            style=discord.TextStyle.paragraph,
            max_length=MODAL_LIMIT,
            default=source[:MODAL_LIMIT] or None,
        )
        self.add_item(self.excerpt)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        service = services_of(interaction).get(DocumentService)
        guild_id = interaction.guild_id or 0
        document, community = await service.resolve(guild_id, str(self.document_id))
        await service.participant(actor_of(interaction), community)
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await service.propose_quote(
            document,
            community,
            self.story_id,
            self.position,
            interaction.user.id,
            self.excerpt.value,
        )
        if not outcome.asked:
            text = (
                f"The teller of story #{self.story_id} could not be asked: their direct "
                "messages are closed. Nothing was kept; ask them in person to open DMs from "
                "this server, then propose the quote again."
            )
        else:
            text = (
                f"Asked the teller of story #{self.story_id} by DM whether this quote may "
                f"appear in **{escape_inline(document.title)}**. Nothing is included until "
                "they agree; the thread will show the new version when they do."
            )
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


@dataclass
class ProposalDraft:
    document_id: int
    position: int
    heading: str
    author_id: int
    text: str


class ProposeModal(HearthModal):
    """A section's text, filled in with the current text (an amendment) or empty (new)."""

    def __init__(self, draft: ProposalDraft, view: ProposalDraftView | None = None) -> None:
        super().__init__(
            title=plain(f"Section {draft.position}: {draft.heading}", 45), timeout=1800
        )
        self.draft, self.view = draft, view
        self.words: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=f"Your text for the section (≤{SECTION_TEXT_LIMIT})",
            custom_id="text",
            style=discord.TextStyle.paragraph,
            max_length=MODAL_LIMIT,
            default=draft.text[:MODAL_LIMIT] or None,
        )
        self.add_item(self.words)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        from bot.domain.documents import validate_section_text

        service = services_of(interaction).get(DocumentService)
        if self.view is not None and interaction.user.id != self.draft.author_id:
            raise NotAllowed("This draft belongs to someone else.")
        _document, community = await service.resolve(
            interaction.guild_id or 0, str(self.draft.document_id)
        )
        await service.participant(actor_of(interaction), community)
        text = validate_section_text(self.words.value)
        if self.view is None:  # a fresh form: the draft is the submitter's
            self.draft.author_id = interaction.user.id
        self.draft.text = text
        if self.view is not None and not self.view.done:
            self.view.last = interaction
            await interaction.response.edit_message(
                content=draft_text(self.draft, service),
                view=self.view,
                allowed_mentions=NO_MENTIONS,
            )
            return
        view = ProposalDraftView(self.draft, service)
        view.last = interaction
        await interaction.response.send_message(
            draft_text(self.draft, service),
            view=view,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


def draft_text(draft: ProposalDraft, service: DocumentService) -> str:
    head = (
        f"**Your proposal for section {draft.position}. {escape_inline(draft.heading)} is not "
        "submitted yet.** Check how it reads, then press **Submit**."
    )
    note = service.draft_note(draft.text, limit=700)
    body = "\n".join(f"> {line}" if line else ">" for line in escape_inline(draft.text).split("\n"))
    text = "\n".join([head, *(["", note] if note else []), "", body])
    return text if len(text) <= 2000 else text[:1990] + "…"


class ProposalDraftView(discord.ui.View):
    def __init__(self, draft: ProposalDraft, service: DocumentService) -> None:
        super().__init__(timeout=DRAFT_TIMEOUT)
        self.draft, self.service = draft, service
        self.last: discord.Interaction[Any] | None = None
        self.done = False
        for label, cid, style, callback in (
            ("Submit", "doc:draft:submit", discord.ButtonStyle.success, self._submit),
            ("Edit", "doc:draft:edit", discord.ButtonStyle.secondary, self._edit),
            ("Cancel", "doc:draft:cancel", discord.ButtonStyle.danger, self._cancel),
        ):
            button: discord.ui.Button[ProposalDraftView] = discord.ui.Button(
                label=label, custom_id=cid, style=style
            )
            button.callback = callback  # type: ignore[method-assign]
            self.add_item(button)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.draft.author_id:
            await handle_interaction_error(
                interaction, NotAllowed("This draft belongs to someone else.")
            )
            return False
        self.last = interaction
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: Any
    ) -> None:
        await handle_interaction_error(interaction, error)

    async def _edit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(ProposeModal(self.draft, self))

    async def _cancel(self, interaction: discord.Interaction[Any]) -> None:
        self.done = True
        self.stop()
        await interaction.response.edit_message(
            content="Cancelled: nothing was submitted or kept.", view=None
        )

    async def _submit(self, interaction: discord.Interaction[Any]) -> None:
        if self.done:
            return
        document, community = await self.service.resolve(
            interaction.guild_id or 0, str(self.draft.document_id)
        )
        await self.service.participant(actor_of(interaction), community)
        self.done = True
        self.stop()
        await interaction.response.defer()
        try:
            proposal = await self.service.propose(
                document, community, self.draft.position, interaction.user.id, self.draft.text
            )
        except BaseException:
            self.done = False
            raise
        await interaction.edit_original_response(
            content=(
                f"Submitted as proposal #{proposal.id} in <#{document.thread_id}>. Members "
                "can support, oppose or pass; a facilitator accepts or declines it, and you "
                "will be told by DM."
            ),
            view=None,
            allowed_mentions=NO_MENTIONS,
        )

    async def on_timeout(self) -> None:
        if self.done or self.last is None:
            return
        with contextlib.suppress(discord.HTTPException):
            await self.last.edit_original_response(
                content="This draft expired after 14 minutes without a click; nothing was "
                "submitted. Your words are below to copy; start again with `/document propose`."
                "\n" + plain(self.draft.text, 1800),
                view=None,
            )


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ProposalChoice,
    ProposalDecision,
    QuoteAnswer,
)
