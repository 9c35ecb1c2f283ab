"""Consent after publication: a teller's new consent, honoured in every document quoting
their story.

Withdrawn, or narrowed to the group: the quote's words are deleted (so every stored version
stops showing them) and a new version is made. Named → anonymous: the quote is re-credited
and a new version is made. Either way the document's facilitators are told by DM which
published versions contained the quote, since copies already shared cannot be recalled.
The stories service calls :meth:`ConsentAfterPublication.story_consent_changed` (a
:class:`bot.services.stories.ConsentListener`) whenever a teller changes a story's consent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.clock import Clock
from bot.db.documents import DocumentRepo
from bot.domain.communities import Community
from bot.domain.documents import Document, Quote, QuoteStatus, changes
from bot.domain.stories import Consent
from bot.services.communities import CommunityService
from bot.services.document_types import ConsentEffect, DocumentPublisher
from bot.services.stories import ConsentListener

log = logging.getLogger(__name__)


class ConsentAfterPublication(ConsentListener):
    """Mixed into :class:`bot.services.documents.DocumentService`."""

    repo: DocumentRepo
    communities: CommunityService
    clock: Clock
    publisher: DocumentPublisher
    #: Refresh the thread and tell who must be told after a new version (the service's).
    _after_version: Callable[[Document, Community, int | None], Awaitable[None]]

    async def story_consent_changed(self, story_id: int, before: Consent, after: Consent) -> None:
        """Honour a teller's new consent in every document quoting the story: withdrawn or
        narrowed to the group removes the quote (its words deleted), named → anonymous
        re-credits it; either way a new version is made and the document's facilitators
        are told which versions contained the quote."""
        removing = not after.may_leave_community
        recredit = before is Consent.NAMED and after is Consent.ANONYMOUS
        if not (removing or recredit):
            return
        quotes = await self.repo.quotes_of_story(story_id)
        if not quotes:
            return
        now = self.clock.now()
        waiting = [q.id for q in quotes if q.status is QuoteStatus.ASKED]
        if removing and waiting:
            await self.repo.remove_asked(waiting, now)
        by_document: dict[int, list[Quote]] = {}
        for q in quotes:
            if q.status is QuoteStatus.AGREED:
                by_document.setdefault(q.document_id, []).append(q)
        for document_id, agreed in by_document.items():
            await self._apply_consent(
                document_id, agreed, removing, withdrawn=after is Consent.WITHDRAWN
            )

    async def _apply_consent(
        self, document_id: int, quotes: list[Quote], removing: bool, *, withdrawn: bool
    ) -> None:
        document = await self.repo.get(document_id)
        assert document is not None
        community = await self.communities.get(document.community_id)
        assert community is not None
        sections = {s.id: s.heading for s in await self.repo.sections(document_id)}
        headings = [sections.get(q.section_id, "?") for q in quotes]
        contained: set[int] = set()
        for q in quotes:
            contained.update(await self.repo.versions_with_quote(q.id))
        if removing:

            def summary(n: int) -> str:
                return changes.quotes_removed(n, headings, withdrawn=withdrawn)
        else:

            def summary(n: int) -> str:
                return changes.quotes_recredited(n, headings)

        number = await self.repo.change_quotes(
            [q.id for q in quotes],
            remove=removing,
            document_id=document_id,
            now=self.clock.now(),
            summary_for=summary,
        )
        await self._after_version(document, community, number)
        effect = ConsentEffect(document, number, removing, tuple(sorted(contained)))
        await self._tell_facilitators(community, effect)

    async def _tell_facilitators(self, community: Community, effect: ConsentEffect) -> None:
        people = set(await self.communities.facilitators(community.id))
        if effect.document.created_by is not None:
            people.add(effect.document.created_by)
        for user_id in sorted(people):
            try:
                await self.publisher.consent_notice(user_id, community, effect)
            except Exception:
                log.exception("document %s: could not tell a facilitator", effect.document.id)

    async def reconcile(self) -> list[int]:
        """After ``/privacy forget``: every document whose current version still lists a
        quote whose words are gone (its teller was erased) gets a new version without it,
        its thread's first message is updated, and its facilitators are told which versions
        contained the quote. Returns the documents' ids."""
        done = []
        for document_id, quote_ids in (await self.repo.stale_quotes()).items():
            document = await self.repo.get(document_id)
            community = await self.communities.get(document.community_id) if document else None
            if document is None or community is None:
                continue
            contained: set[int] = set()
            for qid in quote_ids:
                contained.update(await self.repo.versions_with_quote(qid))
            number = await self.repo.change_quotes(
                [],
                remove=True,
                document_id=document_id,
                now=self.clock.now(),
                summary_for=changes.quotes_erased,
            )
            await self._after_version(document, community, number)
            effect = ConsentEffect(document, number, True, tuple(sorted(contained)))
            await self._tell_facilitators(community, effect)
            done.append(document_id)
        return done
