"""Collective documents' rules, between the Discord layer and :class:`DocumentRepo`.

This file is longer than 400 lines for now: creating, quoting, proposing and deciding share
one version-making path; the quote half is the next to move out beside document_consent.py.

No Discord here: what must happen on Discord (the document's thread and its first message,
a teller's DM with Agree / Decline, a proposal's post, a DM to the proposer or facilitator)
is done by a :class:`DocumentPublisher` the cog passes in. Every change to what the document
says (a quote agreed, an amendment accepted, a teller's consent narrowed) makes a new
numbered version and refreshes the thread's first message.

Consent after publication: the stories service calls :meth:`DocumentService.story_consent_changed`
(a :class:`bot.services.stories.ConsentListener`) whenever a teller changes a story's consent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace

from bot.clock import Clock
from bot.db.database import Database
from bot.db.documents import DocumentRepo
from bot.db.stories import StoryRepo
from bot.domain.communities import (
    Actor,
    Community,
    require_active,
    require_facilitator,
    require_participant,
)
from bot.domain.documents import (
    FORMATS,
    MAX_SECTIONS,
    Choice,
    Credit,
    Document,
    Proposal,
    Quote,
    QuoteStatus,
    Section,
    ShownDocument,
    Template,
    Version,
    changes,
    check_excerpt,
    export,
    parse_headings,
    parse_template,
    require_section,
    shown,
    validate_section_text,
    validate_title,
)
from bot.domain.glossary import Glossary, format_suggestion
from bot.domain.stories import Consent, StoryRecord, shareable_view
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.communities import CommunityService
from bot.services.document_consent import ConsentAfterPublication
from bot.services.document_types import (
    DRAFT_FOOT,
    DRAFT_HEAD,
    Decision,
    DocumentPublisher,
    QuoteOutcome,
)
from bot.services.products import ProductService
from bot.text import echo

log = logging.getLogger(__name__)


class DocumentService(ConsentAfterPublication):
    def __init__(
        self,
        db: Database,
        communities: CommunityService,
        stage_labels: list[str],
        glossary: Glossary,
        clock: Clock,
        publisher: DocumentPublisher,
        products: Callable[[], Iterable[ProductService]] | None = None,
    ) -> None:
        #: The impact log (when its capability is loaded): every document is a product.
        self.products = products or (lambda: ())
        self.repo = DocumentRepo(db)
        self.stories = StoryRepo(db)
        self.communities = communities
        self.stage_labels = stage_labels
        self.glossary = glossary
        self.clock = clock
        self.publisher = publisher

    # ------------------------------------------------------------------ reading
    async def resolve(self, guild_id: int, value: str | None) -> tuple[Document, Community]:
        """A document of this server, by id (what autocomplete sends) or exact title."""
        raw = (value or "").strip()
        doc: Document | None = None
        if raw.isascii() and raw.isdigit() and int(raw) < 2**63:
            doc = await self.repo.get(int(raw))
        if doc is None and raw:
            ids = [c.id for c in await self.communities.in_guild(guild_id)]
            doc = next(
                (d for d in await self.repo.search(ids, raw) if d.title.lower() == raw.lower()),
                None,
            )
        community = await self.communities.get(doc.community_id) if doc else None
        if doc is None or community is None or community.guild_id != guild_id:
            raise NotFound(
                f"There is no document `{echo(raw, 40)}` here. Pick one from the list that "
                "appears as you type, or start one with `/document create`."
            )
        return doc, community

    async def autocomplete(self, guild_id: int, current: str) -> list[tuple[str, int]]:
        communities = {c.id: c for c in await self.communities.in_guild(guild_id)}
        found = await self.repo.search(list(communities), current.strip())
        return [(f"{d.title} ({communities[d.community_id].name})", d.id) for d in found]

    async def current(self, document: Document, community: Community) -> ShownDocument:
        version = await self.repo.latest_version(document.id)
        return await self._shown(document, community, version)

    async def _shown(
        self, document: Document, community: Community, version: Version
    ) -> ShownDocument:
        quotes = {q.id: q for q in await self.repo.quotes(document.id)}
        return shown(document.title, community.name, version, quotes)

    async def sections(self, document: Document) -> list[Section]:
        return await self.repo.sections(document.id)

    async def section(self, document: Document, position: int) -> Section:
        return require_section(await self.repo.sections(document.id), position)

    async def versions(self, document: Document) -> list[Version]:
        return await self.repo.versions(document.id)

    async def participant(self, actor: Actor, community: Community) -> None:
        """Taking part (a quote, a proposal, a choice) is for the community's members: a
        non-member's voice must not count in what the group says (managers included)."""
        require_participant(
            actor, community, await self.communities.membership(community.id, actor.user_id)
        )
        require_active(community)

    # ------------------------------------------------------------------ create
    def headings(self, template: Template) -> list[str]:
        if template is Template.JOURNEY and self.stage_labels:
            return self.stage_labels[:MAX_SECTIONS]
        return ["Introduction"]

    async def create(
        self,
        community: Community,
        actor_id: int,
        title: str,
        template: str | None,
        sections: str | None = None,
    ) -> Document:
        clean_title = validate_title(title)
        own = parse_headings(sections)
        kind = parse_template(template if own is None or template else Template.BLANK.value)
        headings = own or self.headings(kind)
        now = self.clock.now()
        document = await self.repo.create(
            community.id,
            clean_title,
            kind,
            actor_id,
            headings,
            now,
            changes.created(1, headings),
        )
        try:
            thread_id, message_id = await self.publisher.open_place(
                community, await self.current(document, community)
            )
        except BaseException:
            await self.repo.discard(document.id)  # nothing half-made
            raise
        await self.repo.set_place(document.id, thread_id, message_id)
        placed = await self.repo.get(document.id)
        assert placed is not None
        for products in self.products():
            try:
                await products.record_origin(
                    community.id,
                    placed.title,
                    "document",
                    "document",
                    placed.id,
                    created_by=actor_id,
                    at=now,
                )
            except Exception:
                log.exception("document %s: could not record it in the impact log", placed.id)
        return placed

    async def refresh(self, document: Document, community: Community) -> None:
        """Show the current version in the thread's first message."""
        try:
            await self.publisher.update_head(document, await self.current(document, community))
        except Exception:
            log.exception("document %s: could not update its first message", document.id)

    async def _after_version(
        self, document: Document, community: Community, number: int | None
    ) -> None:
        if number is None:
            return
        await self.refresh(document, community)
        version = await self.repo.latest_version(document.id)
        try:
            await self.publisher.announce(document, version.summary)
        except Exception:
            log.exception("document %s: could not announce version %s", document.id, number)

    # ------------------------------------------------------------------ quotes
    async def quotable(
        self, document: Document, community: Community, story_id: int, position: int
    ) -> tuple[StoryRecord, Section, str]:
        """The story, the section and the words that may be quoted (its shareable text),
        or a clear refusal."""
        section = await self.section(document, position)
        story = await self.stories.get(story_id)
        if story is None or story.community_id != community.id:
            raise NotFound(
                f"There is no story #{story_id} in **{community.name}**. Find its number with "
                "`/story list`."
            )
        if story.is_tombstone:
            raise InvalidInput(
                f"Story #{story_id} was withdrawn by its teller; nothing of it may be quoted."
            )
        if story.consent is Consent.GROUP or story.consent_pending:
            raise InvalidInput(
                f"Story #{story_id} is kept inside the group (its teller chose “group”), and "
                "a document may travel beyond the group, so it cannot be quoted. Its teller "
                f"can change that with `/story consent story:{story_id}` if they wish."
            )
        shared = shareable_view(story, teller_display_name=None)
        if shared is None:
            raise InvalidInput(
                f"Story #{story_id} is still visible only where it was told, so it cannot be "
                "quoted in a document."
            )
        return story, section, shared.text

    async def propose_quote(
        self,
        document: Document,
        community: Community,
        story_id: int,
        position: int,
        proposer_id: int,
        excerpt: str,
    ) -> QuoteOutcome:
        story, section, source = await self.quotable(document, community, story_id, position)
        text = check_excerpt(excerpt, source)
        assert story.teller_id is not None
        name = None
        if story.consent is Consent.NAMED:
            name = await self.publisher.display_name(community.guild_id, story.teller_id)
        # The one exit: the excerpt goes through shareable_view like any story text.
        view = shareable_view(replace(story, text=text), teller_display_name=name)
        if view is None:  # consent changed meanwhile
            raise InvalidInput(f"Story #{story_id} may no longer leave the group.")
        credit = Credit.NAMED if story.consent is Consent.NAMED else Credit.ANONYMOUS
        quote = await self.repo.add_quote(
            document.id,
            section.id,
            story.id,
            story.teller_id,
            proposer_id,
            view.text,
            credit,
            view.teller_name,
            self.clock.now(),
        )
        try:
            asked = await self.publisher.ask_teller(quote, document, section, community)
        except BaseException:
            await self.repo.drop_quote(quote.id, self.clock.now())
            raise
        if not asked:
            await self.repo.drop_quote(quote.id, self.clock.now())
            return QuoteOutcome(None, False)
        return QuoteOutcome(quote, True, own=story.teller_id == proposer_id)

    async def answer_quote(
        self, quote_id: int, user_id: int, agreed: bool
    ) -> tuple[Quote, Document, int | None]:
        quote = await self.repo.quote(quote_id)
        if quote is None or quote.status is QuoteStatus.REMOVED:
            raise Conflict("This quote is no longer asked for (the story's consent changed).")
        if quote.teller_id != user_id:
            raise NotAllowed("Only the person who told the story can answer this.")
        document = await self.repo.get(quote.document_id)
        assert document is not None
        community = await self.communities.get(document.community_id)
        assert community is not None
        sections = {s.id: s for s in await self.repo.sections(document.id)}
        heading = sections[quote.section_id].heading if quote.section_id in sections else "?"
        credit = quote.credit or Credit.ANONYMOUS
        number = await self.repo.answer_quote(
            quote_id, agreed, self.clock.now(), lambda n: changes.quote_added(n, heading, credit)
        )
        await self._after_version(document, community, number)
        fresh = await self.repo.quote(quote_id)
        assert fresh is not None
        return fresh, document, number

    # ------------------------------------------------------------------ proposals
    def draft_note(self, text: str, limit: int = 1500) -> str:
        return format_suggestion(
            self.glossary.find_jargon(text), limit=limit, head=DRAFT_HEAD, foot=DRAFT_FOOT
        )

    async def propose(
        self,
        document: Document,
        community: Community,
        position: int,
        proposer_id: int,
        text: str,
    ) -> Proposal:
        section = await self.section(document, position)
        clean = validate_section_text(text)
        if clean == section.body:
            raise InvalidInput("That is the section's text as it stands; change some words first.")
        proposal = await self.repo.add_proposal(
            document.id, section.id, clean, proposer_id, self.clock.now()
        )
        try:
            channel_id, message_id = await self.publisher.post_proposal(document, proposal, section)
        except BaseException:
            await self.repo.discard_proposal(proposal.id)
            raise
        await self.repo.proposal_posted(proposal.id, channel_id, message_id)
        posted = await self.repo.proposal(proposal.id)
        assert posted is not None
        return posted

    async def _proposal_context(self, proposal_id: int) -> tuple[Proposal, Document, Community]:
        proposal = await self.repo.proposal(proposal_id)
        if proposal is None:
            raise NotFound("This proposal no longer exists.")
        document = await self.repo.get(proposal.document_id)
        assert document is not None
        community = await self.communities.get(document.community_id)
        assert community is not None
        return proposal, document, community

    async def choose(self, proposal_id: int, actor: Actor, choice: Choice) -> int:
        """A member's anonymous support / oppose / pass; the number who have responded."""
        _proposal, _document, community = await self._proposal_context(proposal_id)
        await self.participant(actor, community)
        return await self.repo.choose(proposal_id, actor.user_id, choice)

    async def may_decide(self, proposal_id: int, actor: Actor) -> None:
        """Refuse anyone but the community's facilitators (or a server manager)."""
        _proposal, _document, community = await self._proposal_context(proposal_id)
        require_facilitator(
            actor, community, await self.communities.membership(community.id, actor.user_id)
        )

    async def may_answer(self, quote_id: int, user_id: int) -> None:
        """Refuse anyone but the story's teller."""
        quote = await self.repo.quote(quote_id)
        if quote is not None and quote.teller_id is not None and quote.teller_id != user_id:
            raise NotAllowed("Only the person who told the story can answer this.")

    async def decide(self, proposal_id: int, actor: Actor, accept: bool) -> Decision:
        proposal, document, community = await self._proposal_context(proposal_id)
        require_facilitator(
            actor, community, await self.communities.membership(community.id, actor.user_id)
        )
        sections = {s.id: s for s in await self.repo.sections(document.id)}
        section = sections[proposal.section_id]
        old = section.body
        decided, number = await self.repo.decide(
            proposal_id,
            accept,
            actor.user_id,
            self.clock.now(),
            lambda n, tally: changes.amendment(n, section.heading, old, proposal.text or "", tally),
        )
        await self._after_version(document, community, number)
        try:
            await self.publisher.close_proposal(document, decided, section, number)
        except Exception:
            log.exception("proposal %s: could not update its post", proposal_id)
        return Decision(decided, number, section)

    # ------------------------------------------------------------------ export
    async def export(
        self, document: Document, community: Community, fmt: str
    ) -> tuple[str, bytes, ShownDocument]:
        if fmt not in FORMATS:
            raise InvalidInput("Choose a format: `markdown`, `html` or `pdf`.")
        doc = await self.current(document, community)
        name, data = await asyncio.to_thread(export, doc, fmt)
        return name, data, doc
