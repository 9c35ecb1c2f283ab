"""Papers for comment: sharing a draft, members' sealed answers, the close and its products.

Between the Discord layer (``cogs/documents/_papers*.py``) and the repository
(:mod:`bot.db.papers`); the rules and wording of the outcome are :mod:`bot.domain.papers`'s.
While a paper is open nothing shows how members are answering, only how many have (the
paper's message shows that count); everything is counted once, at close. The close is the
shared voting lifecycle (:mod:`bot.services.lifecycle`): its job is armed from the paper's
row, so a restart loses nothing, and a second close finds nothing to close. Every closed
paper becomes a product in the impact log (:meth:`ProductService.record_origin`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from bot.clock import Clock
from bot.db.database import Database
from bot.db.papers import PaperRepo, Saved
from bot.domain.communities import Actor, Community, can_facilitate
from bot.domain.papers import (
    Answer,
    Comment,
    Paper,
    SealedAnswer,
    validate_closes,
    validate_comment,
    validate_text,
    validate_title,
)
from bot.domain.products import ProductKind
from bot.errors import Conflict, NotAllowed, NotFound
from bot.scheduling import Scheduler
from bot.services.lifecycle import Communities, VotingLifecycle
from bot.services.products import ProductService
from bot.text import escape_inline

log = logging.getLogger(__name__)


class PaperService:
    def __init__(
        self,
        db: Database,
        communities: Communities,
        clock: Clock,
        scheduler: Scheduler,
        *,
        products: Callable[[], Iterable[ProductService]] | None = None,
    ) -> None:
        self.repo = PaperRepo(db)
        self.communities = communities
        self.clock = clock
        self.products = products or (lambda: ())
        self.lifecycle: VotingLifecycle[Paper] = VotingLifecycle(
            "papers", scheduler, clock, self._store_close
        )

    def disarm_all(self) -> None:
        self.lifecycle.disarm_all()

    # ------------------------------------------------------------------ sharing
    async def _require_member(self, community: Community, user_id: int, what: str) -> None:
        membership = await self.communities.membership(community.id, user_id)
        if membership is None or not membership.active:
            raise NotAllowed(f"Only members of **{escape_inline(community.name)}** can {what}.")

    async def check_new(
        self, community: Community, author_id: int, title: str, closes_at: datetime
    ) -> str:
        """Refuse before anything is asked or stored; the cleaned title."""
        await self._require_member(community, author_id, "share a paper for comment there")
        cleaned = validate_title(title)
        validate_closes(closes_at, self.clock.now())
        return cleaned

    async def create(
        self,
        community: Community,
        author_id: int,
        title: str,
        closes_at: datetime,
        *,
        body: str | None = None,
        file_name: str | None = None,
    ) -> Paper:
        cleaned = await self.check_new(community, author_id, title, closes_at)
        text = validate_text(body or "") if file_name is None else None
        return await self.repo.create(
            community.id, author_id, cleaned, text, file_name, self.clock.now(), closes_at
        )

    async def posted(self, paper: Paper, channel_id: int, message_id: int) -> None:
        """The paper is up: remember where, and arm its close."""
        await self.repo.set_place(paper.id, channel_id, message_id)
        self.arm(paper)

    async def discard(self, paper_id: int) -> None:
        await self.repo.discard(paper_id)

    async def get(self, paper_id: int) -> Paper:
        paper = await self.repo.get(paper_id)
        if paper is None:
            raise NotFound("This paper for comment no longer exists.")
        return paper

    def arm(self, paper: Paper) -> None:
        self.lifecycle.arm(
            paper.id, paper.closes_at, guild_id=self.communities.guild_of(paper.community_id)
        )

    async def arm_all(self) -> None:
        """At load: re-arm every open paper's close from its row."""
        for paper in await self.repo.open_papers():
            self.arm(paper)

    # ------------------------------------------------------------------ answering
    async def paper_for_answer(self, paper_id: int, user_id: int) -> Paper:
        paper = await self.get(paper_id)
        if not paper.accepts_answers(self.clock.now()):
            raise Conflict("This paper has closed for comments, so answers are no longer taken.")
        membership = await self.communities.membership(paper.community_id, user_id)
        if membership is None or not membership.active:
            raise NotAllowed("Only members of this community can answer its papers for comment.")
        if paper.author_id == user_id:
            raise NotAllowed(
                "This is your own paper: the group answers it, and you receive their comments "
                "when it closes."
            )
        return paper

    async def my_answer(self, paper_id: int, user_id: int) -> SealedAnswer | None:
        return await self.repo.my_answer(paper_id, user_id)

    async def answer(
        self, paper_id: int, user_id: int, answer: Answer, comment: str | None, named: bool
    ) -> Saved:
        await self.paper_for_answer(paper_id, user_id)
        sealed = SealedAnswer(answer, validate_comment(comment), named, user_id if named else None)
        try:
            return await self.repo.answer(paper_id, user_id, sealed)
        except LookupError:
            raise Conflict(
                "This paper has closed for comments, so answers are no longer taken."
            ) from None

    async def answered(self, paper_id: int) -> int:
        return await self.repo.answered(paper_id)

    async def eligible(self, paper: Paper) -> int:
        """Members who may answer now (the author excluded)."""
        return len(await self._eligible_ids(paper))

    async def _eligible_ids(self, paper: Paper) -> list[int]:
        members = await self.communities.members(paper.community_id)
        return [m.user_id for m in members if m.active and m.user_id != paper.author_id]

    # ------------------------------------------------------------------ closing
    async def _store_close(
        self, paper_id: int, now: datetime, closed_by: int | None
    ) -> Paper | None:
        paper = await self.repo.get(paper_id)
        if paper is None or not paper.is_open:
            return None
        closed = await self.repo.close(paper_id, now, closed_by, await self._eligible_ids(paper))
        if closed is not None and closed.tally is not None:
            log.info(
                "paper %s closed: %d answer(s) of %d",
                paper_id,
                closed.tally.answered,
                closed.tally.members,
            )
        return closed

    async def require_closer(self, paper_id: int, actor: Actor) -> Paper:
        """Refuse unless ``actor`` may close the paper early: its author or a facilitator."""
        paper = await self.get(paper_id)
        community = await self.communities.get(paper.community_id)
        membership = await self.communities.membership(paper.community_id, actor.user_id)
        if community is None or not (
            paper.author_id == actor.user_id or can_facilitate(actor, community, membership)
        ):
            raise NotAllowed(
                "Only the paper's author or a facilitator of this community can close it "
                "early; otherwise it closes at its deadline."
            )
        if not paper.is_open:
            raise Conflict("This paper is already closed.")
        return paper

    async def close(self, paper_id: int, actor: Actor | None = None) -> Paper | None:
        """Close now (the close job, or ``actor``: the author or a facilitator)."""
        if actor is not None:
            await self.require_closer(paper_id, actor)
        return await self.lifecycle.close(paper_id, closed_by=actor.user_id if actor else None)

    async def comments_for_author(self, paper_id: int, user_id: int) -> tuple[Paper, list[Comment]]:
        """A closed paper's comments, for its author only (nobody else reads them)."""
        paper = await self.get(paper_id)
        if paper.author_id is None or paper.author_id != user_id:
            raise NotAllowed(
                "Only the paper's author can read its comments; what the group says together "
                "is posted below the paper."
            )
        if paper.is_open:
            raise Conflict("The comments are given to you when the paper closes.")
        return paper, await self.repo.comments(paper.id)

    async def unannounced(self) -> list[Paper]:
        return await self.repo.unannounced()

    async def comments(self, paper: Paper) -> list[Comment]:
        return await self.repo.comments(paper.id)

    async def announced(self, paper: Paper) -> None:
        """The close is announced: record the product, and never announce it again."""
        await self.record_product(paper)
        await self.repo.mark_announced(paper.id, self.clock.now())

    async def record_product(self, paper: Paper) -> None:
        """Every closed paper for comment is a product in the impact log (idempotent)."""
        for products in self.products():
            try:
                await products.record_origin(
                    paper.community_id, paper.title, ProductKind.DOCUMENT, "paper", paper.id,
                    created_by=paper.author_id, at=paper.closed_at or self.clock.now(),
                )  # fmt: skip
            except Exception:
                log.exception("paper %s: could not record it as a product", paper.id)
